//! What leaves memory as it becomes history. An activity whose every window
//! ended more than a deployment's keep time ago (`--keep-ended-hours`, 24 h
//! by default) is *retired*: its volumes leave the conflict index, the
//! activity leaves the state (and the snapshot's image), and what is still
//! owed on it (acknowledgments of a notice long over) is no longer asked
//! for. Only the journal positions of its entries stay, a few bytes an
//! activity, so that it is still read (`GET /v1/activities/{id}`: its
//! entries read back from the store), exported and proved as before; it
//! takes no amendment, cancellation or acknowledgment any more (409 naming
//! the version). Sites no longer in force leave the conflict index.
//!
//! Retiring is a sweep at the service's clock (the writer's minute and
//! [`crate::Service::set_keep_ended_hours`]), not an entry: it only sheds
//! what the journal holds, so a start from a snapshot and one from the
//! whole journal, each swept at its clock, answer alike.

use super::activities::Activity;
use super::{key, Handle, State};
use crate::deadlines::Owed;
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::NoticeState;
use std::collections::HashMap;

/// Retired activities: the journal positions of each one's notice versions
/// and acknowledgments, in journal order.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Retired {
    activities: HashMap<Box<str>, Box<[u64]>>,
    /// The keep time of the last sweep, µs (said in refusals).
    keep_us: i64,
}

impl Retired {
    pub(super) fn contains(&self, activity: &str) -> bool {
        self.activities.contains_key(activity)
    }

    /// Every journal position a retired activity refers to.
    pub(super) fn positions(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.activities
            .iter()
            .flat_map(|(id, seqs)| seqs.iter().map(move |&s| (&**id, s)))
    }

    /// How many activities are retired.
    pub(super) fn len(&self) -> usize {
        self.activities.len()
    }

    /// Entry `seq` is of retired `activity` too (a peer's entry about it).
    pub(super) fn add(&mut self, activity: &str, seq: u64) {
        if let Some(seqs) = self.activities.get_mut(activity) {
            let mut all = std::mem::take(seqs).into_vec();
            all.push(seq);
            *seqs = all.into_boxed_slice();
        }
    }
}

impl State {
    /// Retires every activity whose windows all ended before
    /// `now_us - keep_us` (a cancelled one: those of its last notified
    /// version), and takes out of the conflict index every site not in force
    /// at `now_us`; how many activities retired. See the module's docs.
    pub fn retire_ended(&mut self, now_us: i64, keep_us: i64) -> usize {
        self.retired.keep_us = keep_us;
        let before = now_us.saturating_sub(keep_us);
        let ended: Vec<String> = self
            .activities
            .iter()
            .filter(|(_, a)| a.ends_us <= before)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ended {
            let a = self.activities.remove(id).expect("listed above");
            self.retire(id, a);
        }
        let mut gone = Vec::new();
        for s in self.sites.values().filter(|s| !s.in_force(now_us)) {
            gone.extend((0..s.volume_count).map(|i| key(s.handle, i)));
        }
        for k in &gone {
            self.index.remove(k);
        }
        ended.len()
    }

    fn retire(&mut self, id: &str, a: Activity) {
        for i in 0..a.volume_count {
            self.index.remove(&key(a.handle, i));
        }
        self.handles[a.handle as usize] = Handle::Retired;
        for version in 1..=a.versions.len() as u64 {
            let owed = Owed::Acknowledgment {
                activity: id.to_string(),
                version,
            };
            for other in self.others_on(&a.line, &a.party) {
                self.deadlines.meet(&owed.id(&a.line, &other));
            }
        }
        let mut seqs = a.versions;
        seqs.extend(a.acks);
        seqs.sort_unstable();
        self.retired
            .activities
            .insert(id.into(), seqs.into_boxed_slice());
    }

    /// Volumes in the conflict index (live activities and sites in force).
    pub fn indexed_volumes(&self) -> usize {
        self.index.len()
    }

    /// Activities held in memory, and activities retired (see the module's docs).
    pub fn activities_held(&self) -> (usize, usize) {
        (self.activities.len(), self.retired.len())
    }

    /// A retired activity as it stood, rebuilt from its entries in the
    /// store (`None`: not retired); its volumes are in no index.
    pub(super) fn retired_activity(
        &self,
        activity: &str,
    ) -> Option<Result<Activity, ServiceError>> {
        let seqs = self.retired.activities.get(activity)?;
        Some(self.rebuild(seqs))
    }

    fn rebuild(&self, seqs: &[u64]) -> Result<Activity, ServiceError> {
        let mut a = Activity::retired();
        for &seq in seqs {
            let l = self.log.get(seq).ok_or_else(|| {
                ServiceError::Unavailable(format!(
                    "journal entry {seq} cannot be read back now; try again"
                ))
            })?;
            match &l.entry {
                Entry::Notice {
                    line,
                    party,
                    state,
                    content_sha256,
                    ..
                } => {
                    a.line.clone_from(line);
                    a.party.clone_from(party);
                    a.versions.push(seq);
                    a.hashes.push(content_sha256.clone());
                    a.cancelled = *state == NoticeState::Cancelled;
                }
                Entry::Acknowledged { version, party, .. } => {
                    a.acks.push(seq);
                    a.acked.push((*version, party.clone()));
                }
                _ => {}
            }
        }
        Ok(a)
    }

    /// The refusal of a change to retired `activity`, naming `pointer`.
    pub(super) fn ended_long_ago(&self, activity: &str, pointer: &str) -> ServiceError {
        ServiceError::Ended {
            pointer: pointer.to_string(),
            message: format!(
                "activity {activity} ended more than {} h ago: it is history (read, exported and proved as before) and takes no amendment, cancellation or acknowledgment; notify a new activity instead",
                self.retired.keep_us / 3_600_000_000
            ),
        }
    }
}
