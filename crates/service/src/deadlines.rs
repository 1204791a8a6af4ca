//! Deadlines: what a party owes on a line (an acknowledgment of a notice, a
//! reply to a request or a flash message), by when, and how far its escalation
//! has gone.
//!
//! Nothing here is stored apart from the journal: a deadline starts when the
//! notice or message is logged (not when anyone reads it), ends when the answer
//! is logged, and each escalation step is itself an entry. Replaying the journal
//! therefore rebuilds every countdown exactly where it was before a restart.
//!
//! Escalation, one entry a step, when a deadline passes unanswered:
//! 1. `reminder`: to every operator of the owing party who may answer (any of
//!    them may; nobody waits for one named person);
//! 2. `overdue`: a mark on the line that every member party sees;
//! 3. `admins`: to the owing party's admins.
//!
//! On a federated line a party of another node is reminded by its own node;
//! this node sends the `reminder` and `admins` steps of its deadlines to the
//! officers and admins of this node's parties on the line instead, who wait
//! for the answer.
//!
//! A flash message is answered within [`FLASH_ANSWER_S`]; its reminder goes out
//! at once, to every operator of the recipient party.

use crate::shared_value::SharedValue;
use serde::{Deserialize, Serialize};

/// A flash message must be answered (replied to) within this many seconds.
pub const FLASH_ANSWER_S: i64 = 300;

/// Gap between escalation steps: half the time that was given to answer,
/// between one minute and one hour.
fn step_gap_us(given_us: i64) -> i64 {
    (given_us / 2).clamp(60_000_000, 3_600_000_000)
}

/// What is owed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owed {
    /// Receipt of one version of a notice.
    Acknowledgment {
        /// The activity.
        activity: String,
        /// Its version.
        version: u64,
    },
    /// A reply to a request or a flash message.
    Reply {
        /// The message's place in its line's order.
        message: u64,
    },
    /// A follow-up action agreed at a talk (its deadline's line is `talk:<id>`).
    FollowUp {
        /// The talk.
        talk: String,
        /// The follow-up's number in the confirmed record, from 1.
        follow_up: u64,
    },
}

impl Owed {
    /// Whether it belongs to the register of talks, seen by the talk's parties alone.
    pub fn is_talks_register(&self) -> bool {
        matches!(self, Owed::FollowUp { .. })
    }

    /// The deadline's id for `party`: one deadline per thing owed and party.
    pub(crate) fn id(&self, line: &str, party: &str) -> String {
        match self {
            Owed::Acknowledgment { activity, version } => {
                format!("ack:{activity}:{version}:{party}")
            }
            Owed::Reply { message } => format!("reply:{line}:{message}:{party}"),
            Owed::FollowUp { talk, follow_up } => format!("follow-up:{talk}:{follow_up}:{party}"),
        }
    }
}

/// An escalation step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// To every operator of the owing party who may answer.
    Reminder,
    /// A mark on the line every member sees.
    Overdue,
    /// To the owing party's admins.
    Admins,
}

const STEPS: [Step; 3] = [Step::Reminder, Step::Overdue, Step::Admins];

/// One open deadline.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Deadline {
    pub(crate) id: String,
    pub(crate) line: String,
    /// The party that owes the answer.
    pub(crate) party: String,
    pub(crate) owed: Owed,
    pub(crate) set_us: i64,
    pub(crate) due_us: i64,
    pub(crate) flash: bool,
    /// When each step is due.
    steps_at: [i64; 3],
    /// Steps already logged.
    pub(crate) steps_done: usize,
}

impl Deadline {
    /// A deadline `party` must meet by `due_us`, counted from `set_us`.
    pub(crate) fn new(line: &str, party: &str, owed: Owed, set_us: i64, due_us: i64) -> Self {
        let gap = step_gap_us(due_us - set_us);
        Deadline {
            id: owed.id(line, party),
            line: line.to_string(),
            party: party.to_string(),
            owed,
            set_us,
            due_us,
            flash: false,
            steps_at: [due_us, due_us + gap, due_us + 2 * gap],
            steps_done: 0,
        }
    }

    /// A flash message's deadline: the reminder at once, the rest a minute apart
    /// from the deadline on.
    pub(crate) fn flash(line: &str, party: &str, owed: Owed, set_us: i64, due_us: i64) -> Self {
        let minute = 60_000_000;
        Deadline {
            flash: true,
            steps_at: [set_us, due_us, due_us + minute],
            ..Deadline::new(line, party, owed, set_us, due_us)
        }
    }

    /// The next step and when it is due, if any is left.
    fn next(&self) -> Option<(i64, Step)> {
        (self.steps_done < STEPS.len())
            .then(|| (self.steps_at[self.steps_done], STEPS[self.steps_done]))
    }

    /// Whether the deadline has passed at `now_us`.
    pub(crate) fn overdue(&self, now_us: i64) -> bool {
        now_us >= self.due_us
    }
}

/// Every open deadline, with a queue of the next escalation steps.
#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Deadlines {
    open: imbl::OrdMap<String, SharedValue<Deadline>>,
    queue: imbl::OrdSet<(i64, String)>,
}

impl Deadlines {
    /// Starts a deadline (replacing one with the same id).
    pub(crate) fn set(&mut self, d: Deadline) {
        self.meet(&d.id);
        if let Some((at, _)) = d.next() {
            self.queue.insert((at, d.id.clone()));
        }
        self.open.insert(d.id.clone(), SharedValue::new(d));
    }

    /// Ends a deadline: answered, or no longer owed (a newer version was notified).
    pub(crate) fn meet(&mut self, id: &str) {
        // Looked up first: a persistent map's remove copies the path to where
        // the key would be, found or not, while a snapshot's image shares it.
        if !self.open.contains_key(id) {
            return;
        }
        if let Some(d) = self.open.remove(id) {
            if let Some((at, _)) = d.next() {
                self.queue.remove(&(at, d.id.clone()));
            }
        }
    }

    /// Records that `step` of deadline `id` was logged.
    pub(crate) fn escalated(&mut self, id: &str, step: Step) {
        let Some(d) = self.open.get_mut(id).map(SharedValue::make_mut) else {
            return;
        };
        if let Some((at, _)) = d.next() {
            self.queue.remove(&(at, d.id.clone()));
        }
        d.steps_done = d
            .steps_done
            .max(STEPS.iter().position(|s| *s == step).map_or(0, |i| i + 1));
        if let Some((at, _)) = d.next() {
            self.queue.insert((at, d.id.clone()));
        }
    }

    /// Steps due at `now_us`, earliest first: at most one per deadline (the
    /// next runs on a later tick, so steps are logged in order).
    pub(crate) fn due(&self, now_us: i64) -> Vec<(&Deadline, Step)> {
        self.queue
            .iter()
            .take_while(|(at, _)| *at <= now_us)
            .filter_map(|(_, id)| {
                let d: &Deadline = self.open.get(id)?;
                Some((d, d.next()?.1))
            })
            .collect()
    }

    /// Open deadlines on `line`.
    pub(crate) fn on_line<'a>(&'a self, line: &'a str) -> impl Iterator<Item = &'a Deadline> + 'a {
        self.all().filter(move |d| d.line == line)
    }

    /// The open deadline `id`, if any.
    pub(crate) fn get(&self, id: &str) -> Option<&Deadline> {
        self.open.get(id).map(|d| &**d)
    }

    /// Every open deadline.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Deadline> {
        self.open.values().map(|d| &**d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn ack(version: u64) -> Owed {
        Owed::Acknowledgment {
            activity: "act-1".into(),
            version,
        }
    }

    #[test]
    fn steps_come_due_in_order_one_at_a_time() {
        let mut ds = Deadlines::default();
        ds.set(Deadline::new("l", "south", ack(1), 0, 10 * MIN));
        assert!(ds.due(10 * MIN - 1).is_empty());
        let due = ds.due(10 * MIN);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].1, Step::Reminder);
        // Long after: still only the next step, not all three at once.
        assert_eq!(ds.due(100 * MIN)[0].1, Step::Reminder);
        ds.escalated("ack:act-1:1:south", Step::Reminder);
        assert!(
            ds.due(10 * MIN + 5 * MIN - 1).is_empty(),
            "the gap is half of 10 min"
        );
        assert_eq!(ds.due(15 * MIN)[0].1, Step::Overdue);
        ds.escalated("ack:act-1:1:south", Step::Overdue);
        assert_eq!(ds.due(20 * MIN)[0].1, Step::Admins);
        ds.escalated("ack:act-1:1:south", Step::Admins);
        assert!(ds.due(i64::MAX).is_empty(), "nothing after the admins");
        assert!(
            ds.all().any(|d| d.id == "ack:act-1:1:south"),
            "still open until answered"
        );
    }

    #[test]
    fn a_met_deadline_leaves_the_queue() {
        let mut ds = Deadlines::default();
        ds.set(Deadline::new("l", "south", ack(1), 0, MIN));
        ds.set(Deadline::new("l", "east", ack(1), 0, MIN));
        ds.meet("ack:act-1:1:south");
        let due = ds.due(MIN);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].0.party, "east");
    }

    #[test]
    fn a_flash_reminder_is_due_at_once() {
        let mut ds = Deadlines::default();
        let owed = Owed::Reply { message: 4 };
        ds.set(Deadline::flash(
            "l",
            "south",
            owed,
            7,
            7 + FLASH_ANSWER_S * 1_000_000,
        ));
        assert_eq!(ds.due(7)[0].1, Step::Reminder);
        ds.escalated("reply:l:4:south", Step::Reminder);
        assert!(ds.due(7 + FLASH_ANSWER_S * 1_000_000 - 1).is_empty());
        assert_eq!(ds.due(7 + FLASH_ANSWER_S * 1_000_000)[0].1, Step::Overdue);
    }
}
