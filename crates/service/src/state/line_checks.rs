//! Line checks: answers within the window, misses, and the evidence of each
//! line's operation (`crate::line_checks` keeps the bookkeeping).

use super::{Decision, State};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::hashing::new_id;
use crate::line_checks::CheckAction;
use crate::model::Actor;
use crate::model::WriteOutcome;
use crate::text::time_text;
use parley_wire::{format_timestamp, parse_timestamp};
use serde_json::json;

impl State {
    /// `Command::AnswerLineCheck`: the party a check was sent to answers it in time.
    pub(super) fn decide_answer_line_check(
        &self,
        actor: &Actor,
        check: &str,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let Some((line, party, pending)) = self
            .checks
            .find(check)
            .filter(|(line, _, _)| self.sees_line(actor, line))
        else {
            return Err(ServiceError::NotFound(format!(
                "line check {check} (answered, missed or never sent)"
            )));
        };
        if party != actor.party {
            return Err(ServiceError::Forbidden(format!(
                "line check {check} was sent to {party}; only its operators answer it"
            )));
        }
        if now_us > pending.due_us {
            return Err(ServiceError::Conflict(format!(
                "line check {check} was due at {}; it is missed, answer the next one",
                format_timestamp(parley_engine::Timestamp(pending.due_us))
            )));
        }
        let round_trip_ms = (now_us - pending.sent_us) / 1_000;
        let entry = Entry::LineCheckAnswered {
            check: check.to_string(),
            line: line.to_string(),
            party: party.to_string(),
            operator: actor.operator.clone(),
            round_trip_ms,
        };
        Ok(Decision {
            entries: vec![(entry, self.line_audience(line))],
            outcome: WriteOutcome::Done,
            body: json!({"check": check, "line": line, "party": party, "round_trip_ms": round_trip_ms}),
            volumes: None,
        })
    }

    pub(super) fn evolve_line_check_sent(
        &mut self,
        at_us: i64,
        check: &str,
        line: &str,
        party: &str,
        due: &str,
    ) {
        let due_us = parse_timestamp(due).map_or(at_us, |t| t.0);
        // A peer's check of its own party: evidence, at its node's time.
        let remote = self.is_remote_party(party);
        let at_us = self.deadline_base(at_us);
        self.checks
            .sent(line, party, check, (at_us, due_us), !remote);
    }

    pub(super) fn evolve_line_check_answered(&mut self, at_us: i64, line: &str, party: &str) {
        let at_us = self.deadline_base(at_us);
        self.checks.ended(line, party, Some(at_us));
    }

    pub(super) fn evolve_line_check_missed(&mut self, line: &str, party: &str) {
        self.checks.ended(line, party, None);
    }

    /// The line checks due at `now_us` (sent, or missed), as entries.
    pub(super) fn line_checks_due(&self, now_us: i64) -> Vec<(Entry, Vec<String>)> {
        let mut entries = Vec::new();
        for action in self.checks.due(now_us) {
            match action {
                // A peer's party's check is missed, or not, on its own node.
                CheckAction::Miss { party, .. } if self.is_remote_party(&party) => {}
                CheckAction::Miss { line, party, check } => {
                    let audience = self.line_audience(&line);
                    entries.push((Entry::LineCheckMissed { check, line, party }, audience));
                }
                CheckAction::Send {
                    line,
                    parties,
                    due_us,
                } => {
                    // A party of a peer node is checked by its own node.
                    for party in parties.into_iter().filter(|p| !self.is_remote_party(p)) {
                        let check = new_id("lc");
                        let entry = Entry::LineCheckSent {
                            check,
                            line: line.clone(),
                            party,
                            due: time_text(due_us),
                        };
                        entries.push((entry, self.line_audience(&line)));
                    }
                }
            }
        }
        entries
    }
}
