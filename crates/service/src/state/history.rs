//! What leaves memory as it becomes history. An activity whose every window
//! ended more than a deployment's keep time ago (`--keep-ended-hours`, 24 h
//! by default) is *retired*: its volumes leave the conflict index, the
//! activity leaves the state (and the snapshot's image), and what is still
//! owed on it (acknowledgments of a notice long over) is no longer asked
//! for. Only the journal positions of its entries stay, a few bytes an
//! activity, so that it is still read (`GET /v1/activities/{id}`: its
//! entries read back from the store), exported and proved as before; it
//! takes no amendment, cancellation or acknowledgment any more (409 naming
//! the version). Sites no longer in force leave the conflict index, and
//! leave memory once expired as long ago as an activity retires (their
//! withdrawal is then refused with 409).
//!
//! Retiring is a sweep at the service's clock (the writer's minute and
//! [`crate::Service::set_keep_ended_hours`]), not an entry: it only sheds
//! what the journal holds, so a start from a snapshot and one from the
//! whole journal, each swept at its clock, answer alike.

use super::activities::Activity;
use super::{key, State};
use crate::deadlines::Owed;
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::NoticeState;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Retired activities: the journal positions of each one's notice versions
/// and acknowledgments. Compact, since they are many: an id this service
/// makes (`act-` and 16 lowercase hex digits, [`crate::hashing::new_id`]) is
/// kept as its 64 bits, one `(bits, position)` pair an entry; any other id
/// (a peer's of another make) by name.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "RetiredImage", into = "RetiredImage")]
pub(super) struct Retired {
    /// The pairs a start read from its snapshot, sorted: a flat array read
    /// as it is (ten million of them are read in a fraction of a second),
    /// shared with every image taken since.
    loaded: Arc<Vec<(u64, u64)>>,
    /// The pairs retired since the start.
    by_bits: imbl::OrdSet<(u64, u64)>,
    by_name: BTreeMap<String, Vec<u64>>,
    /// How many activities are retired.
    count: usize,
    /// Sites expired long ago, with the position of their registration.
    sites: BTreeMap<String, u64>,
    /// Conflicts neither of whose sides is in memory any more, with the
    /// position of their finding.
    pub(super) conflicts: BTreeMap<String, u64>,
    /// The keep time of the last sweep, µs (said in refusals).
    keep_us: i64,
}

/// [`Retired`] in a snapshot's JSON. Its pairs are in a section of their
/// own ([`Retired::pair_bytes`]); snapshots of earlier builds have them
/// here, flat (`[bits, position, ...]`).
#[derive(serde::Serialize, serde::Deserialize)]
struct RetiredImage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pairs: Vec<u64>,
    by_name: BTreeMap<String, Vec<u64>>,
    sites: BTreeMap<String, u64>,
    #[serde(default)]
    conflicts: BTreeMap<String, u64>,
    keep_us: i64,
}

impl From<Retired> for RetiredImage {
    fn from(r: Retired) -> Self {
        RetiredImage {
            pairs: Vec::new(),
            by_name: r.by_name,
            sites: r.sites,
            conflicts: r.conflicts,
            keep_us: r.keep_us,
        }
    }
}

impl From<RetiredImage> for Retired {
    fn from(i: RetiredImage) -> Self {
        let mut pairs: Vec<(u64, u64)> = i.pairs.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut r = Retired {
            by_name: i.by_name,
            sites: i.sites,
            conflicts: i.conflicts,
            keep_us: i.keep_us,
            ..Retired::default()
        };
        r.set_loaded(pairs);
        r
    }
}

/// Bytes a pair takes in a snapshot's section: its bits and its position,
/// each 8 bytes little-endian.
const PAIR_BYTES: usize = 16;

/// The 64 bits of an id this service makes (`act-` and 16 lowercase hex digits).
fn bits(activity: &str) -> Option<u64> {
    let hex = activity.strip_prefix("act-")?;
    let canonical = hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    canonical
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// Appends to `into` the pairs of `bytes`, a part of a snapshot's section
/// ([`Retired::pair_bytes`]) that holds whole pairs, else says so.
pub(crate) fn decode_pairs(bytes: &[u8], into: &mut Vec<(u64, u64)>) -> Result<(), String> {
    if !bytes.len().is_multiple_of(PAIR_BYTES) {
        return Err(format!("its retired activities are {} bytes", bytes.len()));
    }
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    into.extend(
        bytes
            .chunks_exact(PAIR_BYTES)
            .map(|p| (word(&p[..8]), word(&p[8..]))),
    );
    Ok(())
}

impl Retired {
    /// Every pair, in order, as a snapshot's section keeps them.
    pub(crate) fn pair_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity((self.loaded.len() + self.by_bits.len()) * PAIR_BYTES);
        let mut recent = self.by_bits.iter().peekable();
        for &loaded in self.loaded.iter() {
            while let Some(&&r) = recent.peek().filter(|&&&r| r < loaded) {
                push_pair(&mut out, r);
                recent.next();
            }
            push_pair(&mut out, loaded);
        }
        recent.for_each(|&r| push_pair(&mut out, r));
        out
    }

    /// Takes the pairs of a snapshot's section ([`Retired::pair_bytes`]),
    /// refused unless they are whole and strictly in order.
    pub(crate) fn load_pair_bytes(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut pairs = Vec::with_capacity(bytes.len() / PAIR_BYTES);
        decode_pairs(bytes, &mut pairs)?;
        self.load_pairs(pairs)
    }

    /// Takes the pairs of a snapshot's section as [`decode_pairs`] reads
    /// them, refused unless strictly in order.
    pub(crate) fn load_pairs(&mut self, pairs: Vec<(u64, u64)>) -> Result<(), String> {
        if pairs.windows(2).any(|w| w[0] >= w[1]) {
            return Err("its retired activities are out of order".into());
        }
        self.set_loaded(pairs);
        Ok(())
    }

    /// The pairs `pairs` (sorted, without repeats) and nothing retired since.
    fn set_loaded(&mut self, pairs: Vec<(u64, u64)>) {
        let mut ids = 0;
        let mut last = None;
        for &(b, _) in &pairs {
            ids += usize::from(last != Some(b));
            last = Some(b);
        }
        self.count = ids + self.by_name.len();
        self.loaded = Arc::new(pairs);
        self.by_bits = imbl::OrdSet::new();
    }

    /// The loaded pairs of the activity of `b`.
    fn loaded_of(&self, b: u64) -> &[(u64, u64)] {
        let from = self.loaded.partition_point(|&p| p < (b, 0));
        let to = self.loaded.partition_point(|&p| p <= (b, u64::MAX));
        &self.loaded[from..to]
    }

    /// The journal positions of retired `activity`'s entries, in order
    /// (`None`: not retired).
    fn seqs(&self, activity: &str) -> Option<Vec<u64>> {
        match bits(activity) {
            Some(b) => {
                let mut seqs: Vec<u64> = self.loaded_of(b).iter().map(|&(_, s)| s).collect();
                seqs.extend(self.by_bits.range((b, 0)..=(b, u64::MAX)).map(|&(_, s)| s));
                seqs.sort_unstable();
                (!seqs.is_empty()).then_some(seqs)
            }
            None => self.by_name.get(activity).cloned(),
        }
    }

    pub(super) fn contains(&self, activity: &str) -> bool {
        match bits(activity) {
            Some(b) => {
                !self.loaded_of(b).is_empty()
                    || self.by_bits.range((b, 0)..=(b, u64::MAX)).next().is_some()
            }
            None => self.by_name.contains_key(activity),
        }
    }

    fn insert(&mut self, activity: &str, seqs: Vec<u64>) {
        self.count += 1;
        match bits(activity) {
            Some(b) => self.by_bits.extend(seqs.into_iter().map(|s| (b, s))),
            None => {
                self.by_name.insert(activity.to_string(), seqs);
            }
        }
    }

    /// Every journal position a retired activity refers to.
    pub(super) fn positions(&self) -> impl Iterator<Item = u64> + '_ {
        let named = self.by_name.values().flatten().copied();
        let sites = self.sites.values().chain(self.conflicts.values()).copied();
        self.loaded
            .iter()
            .chain(self.by_bits.iter())
            .map(|&(_, s)| s)
            .chain(named)
            .chain(sites)
    }

    /// How many activities are retired.
    pub(super) fn len(&self) -> usize {
        self.count
    }

    /// `activity` is no longer retired (it is back in memory). Rare (a
    /// peer's new version of an activity retired here), so the loaded pairs
    /// are copied without it.
    pub(super) fn remove(&mut self, activity: &str) {
        let gone = match bits(activity) {
            Some(b) => {
                let loaded = !self.loaded_of(b).is_empty();
                if loaded {
                    Arc::make_mut(&mut self.loaded).retain(|&(x, _)| x != b);
                }
                let pairs: Vec<(u64, u64)> = self
                    .by_bits
                    .range((b, 0)..=(b, u64::MAX))
                    .copied()
                    .collect();
                for p in &pairs {
                    self.by_bits.remove(p);
                }
                loaded || !pairs.is_empty()
            }
            None => self.by_name.remove(activity).is_some(),
        };
        self.count -= usize::from(gone);
    }

    /// Entry `seq` is of retired `activity` too (a peer's entry about it).
    pub(super) fn add(&mut self, activity: &str, seq: u64) {
        if !self.contains(activity) {
            return;
        }
        match bits(activity) {
            Some(b) => {
                self.by_bits.insert((b, seq));
            }
            None => self
                .by_name
                .entry(activity.to_string())
                .or_default()
                .push(seq),
        }
    }
}

fn push_pair(out: &mut Vec<u8>, (bits, seq): (u64, u64)) {
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
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
            self.retire(id, &a);
        }
        let mut gone = Vec::new();
        for s in self.sites.values().filter(|s| !s.in_force(now_us)) {
            gone.extend((0..s.volume_count).map(|i| key(s.handle, i)));
        }
        for k in &gone {
            self.index.remove(k);
        }
        // A site leaves memory once it expired as long ago.
        let expired: Vec<String> = self
            .sites
            .iter()
            .filter(|(_, s)| s.expires_us <= before)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let s = self.sites.remove(&id).expect("listed above");
            self.handles.retire(s.handle);
            self.retired.sites.insert(id, s.at);
        }
        // A conflict leaves memory once neither of its sides is there.
        let in_memory = |side: &crate::entry::Side| match side.kind.as_str() {
            "site" => self.sites.contains_key(&side.id),
            _ => self.activities.contains_key(&side.id),
        };
        let settled: Vec<String> = self
            .conflicts
            .iter()
            .filter(|(_, c)| !in_memory(&c.a) && !in_memory(&c.b))
            .map(|(id, _)| id.clone())
            .collect();
        for id in settled {
            let c = self.conflicts.remove(&id).expect("listed above");
            self.retired.conflicts.insert(id, c.at);
        }
        ended.len()
    }

    /// The refusal of a change to conflict `conflict` if it left memory with
    /// both its sides (`None`: it did not); 404 to whom it was not told.
    pub(super) fn conflict_of_history(
        &self,
        actor: &crate::model::Actor,
        conflict: &str,
    ) -> Option<ServiceError> {
        let at = *self.retired.conflicts.get(conflict)?;
        self.refusal_of_history(actor, at, &format!("conflict {conflict}"), |hours| {
            format!("conflict {conflict} is history: both its sides ended more than {hours} h ago (it is exported and proved as before, and no longer listed); nothing is left to coordinate")
        })
    }

    /// The refusal of a withdrawal of site `site` if it expired long ago
    /// (`None`: it did not); 404 to whom its registration was not told.
    pub(super) fn site_expired_long_ago(
        &self,
        actor: &crate::model::Actor,
        site: &str,
    ) -> Option<ServiceError> {
        let at = *self.retired.sites.get(site)?;
        self.refusal_of_history(actor, at, &format!("site {site}"), |hours| {
            format!("site {site} expired more than {hours} h ago: it is history (exported and proved as before) and protects nothing; register a new site instead")
        })
    }

    /// A change to something that left memory, first logged at entry `at`:
    /// refused with 409 saying `message` (given the keep time in hours), or
    /// 404 naming `what` to whom that entry was not told.
    fn refusal_of_history(
        &self,
        actor: &crate::model::Actor,
        at: u64,
        what: &str,
        message: impl FnOnce(i64) -> String,
    ) -> Option<ServiceError> {
        let first = self.log.get(at)?;
        if !self.sees_entry(actor, &first) {
            return Some(ServiceError::NotFound(what.to_string()));
        }
        Some(ServiceError::Ended {
            pointer: String::new(),
            message: message(self.retired.keep_us / 3_600_000_000),
        })
    }

    fn retire(&mut self, id: &str, a: &Activity) {
        for i in 0..a.volume_count {
            self.index.remove(&key(a.handle, i));
        }
        self.handles.retire(a.handle);
        for version in 1..=a.versions.len() as u64 {
            let owed = Owed::Acknowledgment {
                activity: id.to_string(),
                version,
            };
            for other in self.others_on(&a.line, &a.party) {
                self.deadlines.meet(&owed.id(&a.line, &other));
            }
        }
        let mut seqs = [&a.versions[..], &a.acks[..]].concat();
        seqs.sort_unstable();
        self.retired.insert(id, seqs);
    }

    /// Volumes in the conflict index (live activities and sites in force).
    pub fn indexed_volumes(&self) -> usize {
        self.index.len()
    }

    /// Activities held in memory, and activities retired (see the module's docs).
    pub fn activities_held(&self) -> (usize, usize) {
        (self.activities.len(), self.retired.len())
    }

    /// Sites held in memory, and sites retired.
    pub fn sites_held(&self) -> (usize, usize) {
        (self.sites.len(), self.retired.sites.len())
    }

    /// A retired activity as it stood, rebuilt from its entries in the
    /// store (`None`: not retired); its volumes are in no index.
    pub(super) fn retired_activity(
        &self,
        activity: &str,
    ) -> Option<Result<Activity, ServiceError>> {
        let seqs = self.retired.seqs(activity)?;
        Some(self.rebuild(&seqs))
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

#[cfg(test)]
mod tests {
    use super::{bits, Retired};

    #[test]
    fn retired_ids_of_both_kinds_keep_their_positions_through_a_snapshot() {
        assert_eq!(bits("act-00000000000000ff"), Some(255));
        for other in [
            "act-00000000000000FF",
            "act-ff",
            "act-00000000000000ffa",
            "site-00000000000000ff",
        ] {
            assert_eq!(bits(other), None, "{other}");
        }
        let mut r = Retired::default();
        r.insert("act-00000000000000ff", vec![3, 9]);
        r.insert("act-0000000000000100", vec![4]);
        r.insert("peer-7", vec![5]);
        r.add("act-00000000000000ff", 12);
        r.add("peer-7", 13);
        r.add("act-0000000000000101", 14);
        // A snapshot: the JSON, and the pairs in their own section.
        let image = serde_json::to_string(&r).unwrap();
        let mut back: Retired = serde_json::from_str(&image).unwrap();
        assert_eq!(back.len(), 1, "the JSON holds only the named one");
        back.load_pair_bytes(&r.pair_bytes()).unwrap();
        for r in [&r, &back] {
            assert_eq!(r.len(), 3);
            assert_eq!(r.seqs("act-00000000000000ff"), Some(vec![3, 9, 12]));
            assert_eq!(r.seqs("act-0000000000000100"), Some(vec![4]));
            assert_eq!(r.seqs("peer-7"), Some(vec![5, 13]));
            assert!(!r.contains("act-0000000000000101"));
            assert!(!r.contains("act-00000000000000FF"));
            let mut all: Vec<u64> = r.positions().collect();
            all.sort_unstable();
            assert_eq!(all, [3, 4, 5, 9, 12, 13]);
        }
        // Retired after a start from that snapshot: merged in order at the next.
        back.insert("act-00000000000000fe", vec![20]);
        back.add("act-0000000000000100", 21);
        let mut next = Retired::default();
        next.load_pair_bytes(&back.pair_bytes()).unwrap();
        assert_eq!(next.len(), 3);
        assert_eq!(next.seqs("act-00000000000000fe"), Some(vec![20]));
        assert_eq!(next.seqs("act-0000000000000100"), Some(vec![4, 21]));
        assert_eq!(next.seqs("act-00000000000000ff"), Some(vec![3, 9, 12]));
        // Back in memory (another node's new version): no longer retired,
        // from the loaded pairs as from those retired since.
        back.remove("act-00000000000000ff");
        back.remove("act-00000000000000fe");
        assert_eq!(back.len(), 2);
        assert!(!back.contains("act-00000000000000ff") && !back.contains("act-00000000000000fe"));
        r.remove("act-00000000000000ff");
        r.remove("peer-7");
        r.remove("act-0000000000000101");
        assert_eq!(r.len(), 1);
        assert_eq!(r.positions().collect::<Vec<_>>(), [4]);
        assert!(!r.contains("act-00000000000000ff") && !r.contains("peer-7"));
    }
}
