//! What is owed and its escalation: the tick turns due deadlines into
//! reminder, overdue and admin steps, and due line checks into entries.

use super::{Decision, State};
use crate::deadlines::{Deadline, Owed, Step};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::WriteOutcome;
use crate::model::{Actor, Role};
use crate::text::time_text;
use crate::views::DeadlineView;
use parley_wire::format_timestamp;
use serde_json::json;

/// An open deadline as a client reads it.
pub(super) fn deadline_view(d: &Deadline, now_us: i64) -> DeadlineView {
    let steps = ["reminder", "overdue", "admins"];
    DeadlineView {
        id: d.id.clone(),
        line: d.line.clone(),
        party: d.party.clone(),
        owed: d.owed.clone(),
        flash: d.flash,
        set_at: time_text(d.set_us),
        due: time_text(d.due_us),
        overdue: d.overdue(now_us),
        escalation: steps[..d.steps_done].to_vec(),
    }
}

impl State {
    /// `Command::Tick`: the escalation steps, line checks and undelivered
    /// notices due now.
    pub(super) fn decide_tick(&self, actor: &Actor, now_us: i64) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        let mut entries = self.escalations_due(now_us);
        entries.extend(self.line_checks_due(now_us));
        entries.extend(self.undelivered_due(now_us));
        let body = json!({"logged": entries.len()});
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Done,
            body,
            volumes: None,
        })
    }

    pub(super) fn evolve_deadline_escalated(&mut self, deadline: &str, step: Step) {
        self.deadlines.escalated(deadline, step);
    }

    /// The escalation steps due at `now_us`, as entries.
    fn escalations_due(&self, now_us: i64) -> Vec<(Entry, Vec<String>)> {
        let mut entries = Vec::new();
        let time = |us: i64| format_timestamp(parley_engine::Timestamp(us));
        for (d, step) in self.deadlines.due(now_us) {
            let (to, audience) = match step {
                // Owed by a party of another node: its node reminds its own
                // officers and admins; here the steps go to this node's
                // parties waiting for the answer, who would otherwise learn
                // of it only from the overdue mark.
                Step::Reminder | Step::Admins if self.is_remote_party(&d.party) => {
                    let role = match step {
                        Step::Admins => Role::Admin,
                        _ => Role::Officer,
                    };
                    let waiting: Vec<String> = self
                        .deadline_parties(d)
                        .iter()
                        .filter(|p| !self.is_remote_party(p))
                        .cloned()
                        .collect();
                    let to = waiting
                        .iter()
                        .flat_map(|p| self.operators_of(p, role))
                        .collect();
                    (to, waiting)
                }
                // A flash message's reminder goes to every operator, observers too.
                Step::Reminder if d.flash => (
                    self.operators_of(&d.party, Role::Observer),
                    vec![d.party.clone()],
                ),
                Step::Reminder => (
                    self.operators_of(&d.party, Role::Officer),
                    vec![d.party.clone()],
                ),
                Step::Overdue => (Vec::new(), self.deadline_parties(d).to_vec()),
                Step::Admins => (
                    self.operators_of(&d.party, Role::Admin),
                    vec![d.party.clone()],
                ),
            };
            let entry = Entry::DeadlineEscalated {
                deadline: d.id.clone(),
                line: d.line.clone(),
                party: d.party.clone(),
                owed: d.owed.clone(),
                due: time(d.due_us),
                step,
                to,
            };
            entries.push((entry, audience));
        }
        entries
    }

    /// The parties who see deadline `d` and get its overdue mark: its line's
    /// members, or for a talk's follow-up the talk's parties alone.
    pub(super) fn deadline_parties(&self, d: &Deadline) -> &[String] {
        match &d.owed {
            Owed::FollowUp { talk, .. } => self.talks.parties(talk).unwrap_or_default(),
            _ => self
                .lines
                .get(&d.line)
                .map_or(&[], |l| l.parties.as_slice()),
        }
    }

    /// Whether `actor` may see deadline `d`: its parties do; the host's admins
    /// see all but the follow-ups of talks.
    pub(super) fn sees_deadline(&self, actor: &Actor, d: &Deadline) -> bool {
        (actor.is_host_admin() && !d.owed.is_talks_register())
            || self.deadline_parties(d).contains(&actor.party)
    }

    /// Open deadlines on the lines `actor` may see, earliest first, as of `now_us`.
    pub fn deadlines(&self, actor: &Actor, now_us: i64) -> Vec<DeadlineView> {
        let mut open: Vec<&Deadline> = self
            .deadlines
            .all()
            .filter(|d| self.sees_deadline(actor, d))
            .collect();
        open.sort_by_key(|d| (d.due_us, d.id.clone()));
        open.into_iter().map(|d| deadline_view(d, now_us)).collect()
    }
}
