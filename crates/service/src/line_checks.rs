//! Line checks: evidence that a line is in operation.
//!
//! On each line's interval the service sends a check to every member party;
//! any operator of that party answers within the answer window. Every check,
//! answer (with its round-trip time) and miss is a journal entry, so the
//! status below is rebuilt from evidence after a restart.
//!
//! The status, apart from the line's political status set by the host:
//! - `in_operation`: every member answered its last check in time;
//! - `degraded`: a member missed its last check;
//! - `silent`: a member missed [`SILENT_AFTER`] checks in a row;
//! - `unchecked`: some member has not yet had a check come due.

use crate::views::{OperationState, OperationView, PartyChecksView, PendingCheckView};
use std::collections::{BTreeMap, VecDeque};

/// Missed checks in a row after which a line is silent.
pub const SILENT_AFTER: u32 = 3;

/// Shortest line-check interval a line may have, seconds.
pub const MIN_INTERVAL_S: u64 = 10;

const DAY_US: i64 = 86_400_000_000;

/// How long a party has to answer a check: half the interval, at most 5 minutes.
pub fn answer_window_us(interval_s: u64) -> i64 {
    (interval_s as i64 * 1_000_000 / 2).min(300_000_000)
}

/// A check sent and not yet answered or missed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pending {
    pub(crate) check: String,
    pub(crate) sent_us: i64,
    pub(crate) due_us: i64,
}

/// How a check ended.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Outcome {
    sent_us: i64,
    /// When it was answered; `None` when missed.
    answered_us: Option<i64>,
}

#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
struct PartyChecks {
    pending: Option<Pending>,
    /// Outcomes of the last 24 hours (and always the last one), oldest first.
    outcomes: VecDeque<Outcome>,
    missed_in_a_row: u32,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct LineChecks {
    interval_us: i64,
    window_us: i64,
    /// When the last round was sent, or the line was opened.
    last_round_us: i64,
    parties: BTreeMap<String, PartyChecks>,
}

/// What a tick must log for line checks.
pub(crate) enum CheckAction {
    /// Send a round of checks on `line` to these parties.
    Send {
        line: String,
        parties: Vec<String>,
        due_us: i64,
    },
    /// `party` did not answer `check` in time.
    Miss {
        line: String,
        party: String,
        check: String,
    },
}

/// Line checks of every line.
#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Checks {
    lines: BTreeMap<String, LineChecks>,
}

impl Checks {
    /// A line opened at `at_us`: its first round is due one interval later.
    pub(crate) fn open_line(
        &mut self,
        line: &str,
        parties: &[String],
        interval_s: u64,
        at_us: i64,
    ) {
        self.lines.insert(
            line.to_string(),
            LineChecks {
                interval_us: interval_s as i64 * 1_000_000,
                window_us: answer_window_us(interval_s),
                last_round_us: at_us,
                parties: parties
                    .iter()
                    .map(|p| (p.clone(), PartyChecks::default()))
                    .collect(),
            },
        );
    }

    /// What is due at `now_us`: rounds to send and checks missed. A round missed
    /// while the service was down is not made up: the next is sent now.
    pub(crate) fn due(&self, now_us: i64) -> Vec<CheckAction> {
        let mut actions = Vec::new();
        for (line, l) in &self.lines {
            for (party, p) in &l.parties {
                if let Some(pending) = p.pending.as_ref().filter(|c| c.due_us <= now_us) {
                    actions.push(CheckAction::Miss {
                        line: line.clone(),
                        party: party.clone(),
                        check: pending.check.clone(),
                    });
                }
            }
            if now_us >= l.last_round_us + l.interval_us {
                let parties = l
                    .parties
                    .iter()
                    // A party whose check is missed in this same tick gets the new one.
                    .filter(|(_, p)| p.pending.as_ref().is_none_or(|c| c.due_us <= now_us))
                    .map(|(party, _)| party.clone())
                    .collect();
                actions.push(CheckAction::Send {
                    line: line.clone(),
                    parties,
                    due_us: now_us + l.window_us,
                });
            }
        }
        actions
    }

    /// A check was sent (one entry per party; a round is the entries of one
    /// tick). A check another node sent its own party (`round` false) is
    /// evidence here, but not this node's round.
    pub(crate) fn sent(
        &mut self,
        line: &str,
        party: &str,
        check: &str,
        (at_us, due_us): (i64, i64),
        round: bool,
    ) {
        if let Some(l) = self.lines.get_mut(line) {
            if round {
                l.last_round_us = at_us;
            }
            if let Some(p) = l.parties.get_mut(party) {
                p.pending = Some(Pending {
                    check: check.to_string(),
                    sent_us: at_us,
                    due_us,
                });
            }
        }
    }

    /// Finds the line and party a pending check was sent to.
    pub(crate) fn find(&self, check: &str) -> Option<(&str, &str, &Pending)> {
        self.lines.iter().find_map(|(line, l)| {
            l.parties.iter().find_map(|(party, p)| {
                p.pending
                    .as_ref()
                    .filter(|c| c.check == check)
                    .map(|c| (line.as_str(), party.as_str(), c))
            })
        })
    }

    /// The check was answered at `at_us` (`None`: it was missed).
    pub(crate) fn ended(&mut self, line: &str, party: &str, answered_us: Option<i64>) {
        let Some(p) = self
            .lines
            .get_mut(line)
            .and_then(|l| l.parties.get_mut(party))
        else {
            return;
        };
        let Some(pending) = p.pending.take() else {
            return;
        };
        p.missed_in_a_row = if answered_us.is_some() {
            0
        } else {
            p.missed_in_a_row + 1
        };
        p.outcomes.push_back(Outcome {
            sent_us: pending.sent_us,
            answered_us,
        });
        while p.outcomes.len() > 1 && p.outcomes[0].sent_us < pending.sent_us - DAY_US {
            p.outcomes.pop_front();
        }
    }

    /// The line's status with its evidence, as of `now_us`.
    pub(crate) fn status(
        &self,
        line: &str,
        now_us: i64,
        time: impl Fn(i64) -> String,
    ) -> OperationView {
        let Some(l) = self.lines.get(line) else {
            return OperationView {
                state: OperationState::Unchecked,
                interval_s: 0,
                next_round_at: time(now_us),
                parties: Vec::new(),
                nodes: Vec::new(),
            };
        };
        let mut state = OperationState::InOperation;
        let mut parties = Vec::new();
        for (party, p) in &l.parties {
            let last = p.outcomes.back();
            match last {
                None => {
                    if state == OperationState::InOperation {
                        state = OperationState::Unchecked;
                    }
                }
                Some(o) if o.answered_us.is_none() => {
                    if p.missed_in_a_row >= SILENT_AFTER {
                        state = OperationState::Silent;
                    } else if state != OperationState::Silent {
                        state = OperationState::Degraded;
                    }
                }
                Some(_) => {}
            }
            let misses_24h = p
                .outcomes
                .iter()
                .filter(|o| o.answered_us.is_none() && o.sent_us >= now_us - DAY_US)
                .count();
            parties.push(PartyChecksView {
                party: party.clone(),
                last_check_at: last.map(|o| time(o.sent_us)),
                answered_at: last.and_then(|o| o.answered_us).map(&time),
                round_trip_ms: last.and_then(|o| o.answered_us.map(|a| (a - o.sent_us) / 1_000)),
                misses_24h,
                missed_in_a_row: p.missed_in_a_row,
                pending: p.pending.as_ref().map(|c| PendingCheckView {
                    check: c.check.clone(),
                    sent_at: time(c.sent_us),
                    due: time(c.due_us),
                }),
            });
        }
        OperationView {
            state,
            interval_s: (l.interval_us / 1_000_000) as u64,
            next_round_at: time(l.last_round_us + l.interval_us),
            parties,
            nodes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn checks() -> Checks {
        let mut c = Checks::default();
        c.open_line("l", &["north".into(), "south".into()], 60, 0);
        c
    }

    fn state(c: &Checks, now: i64) -> String {
        serde_json::to_value(c.status("l", now, |t| t.to_string())).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Sends the round due at `now` and returns the check ids by party.
    fn round(c: &mut Checks, now: i64) -> BTreeMap<String, String> {
        let mut ids = BTreeMap::new();
        for a in c.due(now) {
            if let CheckAction::Send {
                line,
                parties,
                due_us,
            } = a
            {
                for p in parties {
                    let id = format!("lc-{now}-{p}");
                    c.sent(&line, &p, &id, (now, due_us), true);
                    ids.insert(p, id);
                }
            }
        }
        ids
    }

    #[test]
    fn rounds_answers_misses_and_the_status() {
        let mut c = checks();
        assert!(c.due(59 * S).is_empty());
        assert_eq!(state(&c, 0), "unchecked");
        let ids = round(&mut c, 60 * S);
        assert_eq!(ids.len(), 2);
        assert_eq!(c.find(&ids["south"]).unwrap().1, "south");
        c.ended("l", "north", Some(61 * S));
        c.ended("l", "south", Some(62 * S));
        assert_eq!(state(&c, 62 * S), "in_operation");
        let s = serde_json::to_value(c.status("l", 62 * S, |t| t.to_string())).unwrap();
        assert_eq!(s["parties"][1]["round_trip_ms"], 2_000);

        // South misses three rounds in a row: degraded, then silent.
        for k in 0..3 {
            let at = (120 + 60 * k) * S;
            round(&mut c, at);
            c.ended("l", "north", Some(at + S));
            let misses = c.due(at + 30 * S);
            assert_eq!(
                misses.len(),
                1,
                "south's check is missed after the 30 s window"
            );
            c.ended("l", "south", None);
            assert_eq!(
                state(&c, at + 30 * S),
                if k < 2 { "degraded" } else { "silent" }
            );
        }
        // And comes back.
        round(&mut c, 300 * S);
        c.ended("l", "north", Some(301 * S));
        c.ended("l", "south", Some(302 * S));
        assert_eq!(state(&c, 302 * S), "in_operation");
        assert_eq!(
            serde_json::to_value(c.status("l", 302 * S, |t| t.to_string())).unwrap()["parties"][1]
                ["misses_24h"],
            3
        );
        assert_eq!(
            serde_json::to_value(c.status("l", 302 * S + DAY_US, |t| t.to_string())).unwrap()
                ["parties"][1]["misses_24h"],
            0
        );
    }

    #[test]
    fn a_round_missed_while_down_is_sent_once_now() {
        let mut c = checks();
        let ids = round(&mut c, 1_000 * S);
        assert_eq!(ids.len(), 2);
        assert!(c
            .due(1_000 * S + 1)
            .iter()
            .all(|a| !matches!(a, CheckAction::Send { .. })));
    }
}
