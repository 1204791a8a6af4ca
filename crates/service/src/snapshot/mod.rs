//! Snapshots: the state saved in the store at intervals, so that a start
//! (or a recovery after a failed commit) replays only the journal's tail and
//! never validates a volume again.
//!
//! The snapshot's bytes (its format, read and written) are `format.rs`.
//!
//! A snapshot is the state's image (`state/image.rs`: its fields as JSON,
//! volumes as they were given) compressed in zstd frames, with the record's
//! hashes a start needs (its leaves and its subtrees of 16 leaves, see
//! [`encode`]) and a checksum that catches a damaged one. It is of one
//! journal position and carries the record's root there. At a start the latest snapshot is read and
//! checked: it must decompress and parse, be of this build's format, be of a
//! position the journal holds, and the journal's own leaves up to that
//! position must give its root (so a snapshot of another journal, or of a
//! journal changed since, is refused); only then is the state taken from it
//! and the entries after it evolved. Otherwise the service says why on
//! stderr and replays the whole journal, as it did before snapshots.
//!
//! Snapshots are taken by a thread of their own, at the lowest CPU priority,
//! with a store connection of its own (`Journal::snapshot_store`): the writer
//! only nudges it after a commit once one is due. Under the state's read lock
//! the thread takes a copy of the state that shares its parts with it (the
//! large maps are persistent `imbl` maps, the index's volumes and the
//! record's leaf chunks are shared: a copy costs a count a volume and the
//! small maps, and the writer copies a shared node only when it next changes
//! it); it writes the JSON,
//! compresses and saves with no lock held. A snapshot is due after
//! `--snapshot-entries` entries, or as many entries as the last image held
//! items if that is more (so the work per entry stays bounded as the state
//! grows), or `--snapshot-seconds` after the last.

mod format;

use format::decode;
pub(crate) use format::encode;

use crate::entry::IdempotencyRecord;
use crate::journal::EntryReader;
use crate::journal::{Journal, SnapshotStore, StorageError};
use crate::record::leaf_text;
use crate::state::{Entries, Image, ImageError, State};
use parley_record::{leaf_hash, MerkleLog};
use parley_wire::WireLimits;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// A snapshot is taken after this many entries by default.
pub const SNAPSHOT_EVERY_ENTRIES: u64 = 10_000;
/// ... or this many seconds after the last one, if anything was logged since.
pub const SNAPSHOT_EVERY_S: u64 = 600;

/// How the state was built at the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restored {
    /// From the snapshot of entry `seq`, then `tail` entries evolved.
    Snapshot {
        /// The snapshot's journal position.
        seq: u64,
        /// Entries evolved after it.
        tail: u64,
    },
    /// By replaying the whole journal: there was no snapshot, or the one
    /// there was refused (`refused`: why).
    Replay {
        /// Why the latest snapshot was not used, when there was one.
        refused: Option<String>,
    },
}

/// The state the journal holds: from its latest snapshot and the entries
/// after it when the snapshot fits, else by replaying every entry.
pub(crate) fn restore(
    journal: &mut impl Journal,
    limits: WireLimits,
) -> Result<(State, Restored), StorageError> {
    let reader = journal.entry_reader()?;
    let mut t = std::time::Instant::now();
    let stored = journal.latest_snapshot()?;
    let refused = match stored.map(|s| (s.seq, decode(s, &mut t))) {
        None => None,
        Some((seq, decoded)) => {
            let fitted = match decoded {
                Err(why) => Err(why),
                Ok((image, _)) if image.seq != seq => Err(format!(
                    "it says entry {} in the row of entry {seq}",
                    image.seq
                )),
                Ok((image, Some(record))) => {
                    from_leaves(journal, image, record, reader.clone(), limits.clone())?
                        .map_err(|e| e.to_string())
                }
                Ok((image, None)) => from_image(journal, image, reader.clone(), limits.clone())?
                    .map_err(|e| e.to_string()),
            };
            lap(&mut t, "state rebuilt and checked against the journal");
            match fitted {
                Ok(mut state) => {
                    let tail = replay_after(journal, &mut state)?;
                    lap(&mut t, "tail evolved");
                    return Ok((state, Restored::Snapshot { seq, tail }));
                }
                Err(why) => {
                    eprintln!(
                        "parley: the snapshot of journal entry {seq} is refused: {why}; replaying the whole journal"
                    );
                    Some(format!("snapshot of entry {seq}: {why}"))
                }
            }
        }
    };
    let mut state = State::new(limits);
    state.set_entry_reader(reader);
    replay_after(journal, &mut state)?;
    Ok((state, Restored::Replay { refused }))
}

/// Says on stderr how long a step of a start took since `t`, when
/// `PARLEY_START_TIMES` is set (`bench history` sets it).
pub(super) fn lap(t: &mut std::time::Instant, step: &str) {
    static SAY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *SAY.get_or_init(|| std::env::var_os("PARLEY_START_TIMES").is_some()) {
        eprintln!(
            "parley: start: {step} in {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
    *t = std::time::Instant::now();
}

/// Entries read from the store at a time at a start: memory holds one
/// slice (and the recent entries), never the whole journal.
const SLICE: usize = 8_192;

/// Evolves `state` with every entry after its last; how many.
fn replay_after(journal: &mut impl Journal, state: &mut State) -> Result<u64, StorageError> {
    let mut n = 0;
    loop {
        let slice = journal.load_after(state.last_seq(), SLICE)?;
        if slice.is_empty() {
            return Ok(n);
        }
        n += slice.len() as u64;
        for l in slice {
            state.evolve(l);
        }
        // What the store holds may leave memory.
        state.forget_durable(state.last_seq());
    }
}

/// The state of `image`, once the journal's leaves up to its position give
/// its root (the outer error is the store's, the inner why it does not fit).
fn from_image(
    journal: &mut impl Journal,
    image: Image,
    reader: Option<Arc<dyn EntryReader>>,
    limits: WireLimits,
) -> Result<Result<State, ImageError>, StorageError> {
    let mut log = Entries::default();
    log.set_reader(reader);
    let mut record = MerkleLog::new();
    while log.len() < image.seq {
        let want = (image.seq - log.len()).min(SLICE as u64) as usize;
        let slice = journal.load_after(log.len(), want)?;
        if slice.is_empty() {
            break;
        }
        for l in slice {
            record.append(leaf_text(&l).as_bytes());
            log.push(l);
        }
        log.forget_durable(log.len());
    }
    Ok(State::from_image(image, log, record, limits))
}

/// Older journal positions a start from a snapshot with leaves checks
/// against the journal, besides the recent entries it reads anyway.
const SAMPLED: u64 = 64;

/// The state of `image` and its `record` (rebuilt from the hashes the
/// snapshot carries), once the journal agrees with them: it holds the
/// image's position, and its own leaves give the same hashes for the
/// recent entries (read anyway: they stay in memory) and for [`SAMPLED`]
/// older positions spread over it. A snapshot of another journal differs
/// at its last entry already (every leaf has a salt of its own); a journal
/// cut short is shorter than the image. Only these entries are read.
fn from_leaves(
    journal: &mut impl Journal,
    image: Image,
    record: MerkleLog,
    reader: Option<Arc<dyn EntryReader>>,
    limits: WireLimits,
) -> Result<Result<State, ImageError>, StorageError> {
    let seq = image.seq;
    let base = seq.saturating_sub(crate::state::RECENT_ENTRIES as u64);
    let mut log = Entries::after(base, reader);
    while log.len() < seq {
        let slice = journal.load_after(log.len(), (seq - log.len()) as usize)?;
        if slice.is_empty() {
            return Ok(Err(ImageError::Beyond {
                seq,
                len: log.len(),
            }));
        }
        slice.into_iter().for_each(|l| log.push(l));
    }
    let mut t = std::time::Instant::now();
    let differs =
        |l: &crate::Logged| Some(leaf_hash(leaf_text(l).as_bytes())) != record.leaf(l.seq - 1);
    if let Some(l) = log.range(base, seq).iter().find(|l| differs(l)) {
        return Ok(Err(ImageError::Leaf(l.seq)));
    }
    let n = SAMPLED.min(base);
    for k in 1..=n {
        let at = k * base / n;
        if journal.load_after(at - 1, 1)?.first().is_none_or(differs) {
            return Ok(Err(ImageError::Leaf(at)));
        }
    }
    lap(&mut t, "leaves checked against the journal");
    Ok(State::from_image(image, log, record, limits))
}

/// A snapshot's content, written out of the state.
pub(crate) struct Taken {
    /// The journal position it is the state after.
    pub(crate) seq: u64,
    /// The image ([`Image::to_json`]).
    pub(crate) json: Vec<u8>,
    /// The retired activities' pairs ([`Image::retired_pair_bytes`]).
    pub(crate) retired: Vec<u8>,
    /// The record's leaf hashes.
    pub(crate) leaves: Vec<u8>,
    /// The record's perfect subtrees of 2^[`DENSE_LEVEL`](parley_record::DENSE_LEVEL) leaves.
    pub(crate) subtrees: Vec<u8>,
    /// Items in the image ([`State::image_items`]).
    pub(crate) items: u64,
}

/// Makes the calling thread (and the threads it starts after) the last to
/// get the CPU: nice 19 (Linux; elsewhere nothing changes).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority with this thread's own id changes only its nice
    // value; it reads no memory of ours.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

pub(crate) struct Snapshots {
    every_entries: AtomicU64,
    every_s: AtomicU64,
    /// The position of the last snapshot taken (or restored from).
    last_seq: AtomicU64,
    /// Items (activities, sites, conflicts) in the last snapshot's image.
    last_items: AtomicU64,
    /// When it was taken, µs.
    last_at_us: AtomicI64,
    /// A snapshot is being taken.
    busy: AtomicBool,
    /// Snapshots saved since the start.
    saved: AtomicU64,
    nudge: Mutex<Option<mpsc::SyncSender<Nudge>>>,
}

/// A nudge to the snapshot thread, with where to say when it is done (for
/// [`Snapshots::take_now`]).
type Nudge = Option<mpsc::Sender<Result<u64, StorageError>>>;

impl Snapshots {
    /// The default policy, counting from a state of position `seq` and
    /// `items` image items ([`State::image_items`]) at `now_us`.
    pub(crate) fn new(seq: u64, items: u64, now_us: i64) -> Self {
        Snapshots {
            every_entries: AtomicU64::new(SNAPSHOT_EVERY_ENTRIES),
            every_s: AtomicU64::new(SNAPSHOT_EVERY_S),
            last_seq: AtomicU64::new(seq),
            last_items: AtomicU64::new(items),
            last_at_us: AtomicI64::new(now_us),
            busy: AtomicBool::new(false),
            saved: AtomicU64::new(0),
            nudge: Mutex::new(None),
        }
    }

    /// Takes a snapshot after `entries` entries or `seconds` seconds
    /// (whichever comes first; 0 turns that trigger off).
    pub(crate) fn set_policy(&self, entries: u64, seconds: u64) {
        self.every_entries.store(entries, Ordering::SeqCst);
        self.every_s.store(seconds, Ordering::SeqCst);
    }

    /// Called by the writer after a commit: nudges the snapshot thread if a
    /// snapshot is due at position `last` and none is being taken. Never waits.
    pub(crate) fn after_commit(&self, last: u64, now_us: i64) {
        let since = last.saturating_sub(self.last_seq.load(Ordering::SeqCst));
        if since == 0 || self.busy.load(Ordering::SeqCst) {
            return;
        }
        let (entries, seconds) = (
            self.every_entries.load(Ordering::SeqCst),
            self.every_s.load(Ordering::SeqCst),
        );
        // A snapshot's work grows with the state, so one is taken at most
        // once per as many entries as its image held items: the work per
        // entry stays bounded however large the state, and a start evolves
        // no more entries after it than it loads items from it.
        let items = self.last_items.load(Ordering::SeqCst);
        let by_entries = entries > 0 && since >= entries.max(items);
        let by_time = seconds > 0
            && now_us - self.last_at_us.load(Ordering::SeqCst) >= seconds as i64 * 1_000_000;
        if !(by_entries || by_time) {
            return;
        }
        let nudge = self.nudge.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = nudge.as_ref() {
            self.busy.store(true, Ordering::SeqCst);
            if tx.try_send(None).is_err() {
                self.busy.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Snapshots saved since the start.
    pub(crate) fn saved(&self) -> u64 {
        self.saved.load(Ordering::SeqCst)
    }

    /// Takes a snapshot now and waits until it is saved; its position.
    pub(crate) fn take_now(&self) -> Result<u64, StorageError> {
        let (done, saved) = mpsc::channel();
        let sent = {
            let nudge = self.nudge.lock().unwrap_or_else(|e| e.into_inner());
            let tx = nudge
                .as_ref()
                .ok_or_else(|| StorageError("this store keeps no snapshots".into()))?;
            self.busy.store(true, Ordering::SeqCst);
            tx.clone()
        };
        sent.send(Some(done))
            .map_err(|_| StorageError("the snapshot thread has stopped".into()))?;
        saved
            .recv()
            .map_err(|_| StorageError("the snapshot thread has stopped".into()))?
    }

    /// Starts the thread that takes snapshots into `store`. `image` copies the
    /// state under its read lock and writes it out after ([`Taken`]), or `None`
    /// once the service is gone (the thread then ends); `clock` tells the time.
    /// The thread ends when `this` is dropped (with the service).
    pub(crate) fn spawn(
        this: &Arc<Snapshots>,
        mut store: Box<dyn SnapshotStore>,
        image: impl Fn() -> Option<Taken> + Send + 'static,
        clock: crate::Clock,
    ) -> std::io::Result<()> {
        let (tx, rx) = mpsc::sync_channel::<Nudge>(1);
        *this.nudge.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        let this = Arc::downgrade(this);
        std::thread::Builder::new()
            .name("parley-snapshot".into())
            .spawn(move || {
                // Saving a snapshot can wait; the writer and the requests
                // cannot: this thread (and those it starts) yields the CPU.
                lower_priority();
                while let Ok(done) = rx.recv() {
                    let Some(Taken {
                        seq,
                        json,
                        retired,
                        leaves,
                        subtrees,
                        items,
                    }) = image()
                    else {
                        return;
                    };
                    let bytes = encode(&json, &retired, &leaves, &subtrees);
                    drop((json, retired, leaves, subtrees));
                    let saved = store.save(seq, &bytes);
                    let Some(s) = this.upgrade() else { return };
                    // A snapshot not saved loses nothing (the journal is
                    // whole): the next is tried at the next trigger.
                    match &saved {
                        Ok(()) => {
                            s.saved.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => eprintln!(
                            "parley: the snapshot of journal entry {seq} was not saved: {e}"
                        ),
                    }
                    s.last_seq.store(seq, Ordering::SeqCst);
                    s.last_items.store(items, Ordering::SeqCst);
                    s.last_at_us.store(clock(), Ordering::SeqCst);
                    s.busy.store(false, Ordering::SeqCst);
                    if let Some(done) = done {
                        let _ = done.send(saved.map(|()| seq));
                    }
                }
            })
            .map(|_| ())
    }
}

/// Idempotency records by operator and key.
pub(crate) type Records = HashMap<(String, String), IdempotencyRecord>;

/// The state and the idempotency records as the journal holds them (the
/// state from the latest snapshot and the journal's tail where it fits).
pub(crate) fn replay(
    journal: &mut impl Journal,
    limits: WireLimits,
) -> Result<(State, Records, Restored), StorageError> {
    let (state, restored) = restore(journal, limits)?;
    let records = journal
        .load_idempotency()?
        .into_iter()
        .map(|r| ((r.operator.clone(), r.key.clone()), r))
        .collect();
    Ok((state, records, restored))
}

/// After a failed commit the state may hold entries that are not durable (or,
/// when the commit's answer was lost, that are): it is rebuilt from the
/// journal, which is the truth, before the service takes writes again.
pub(crate) fn recover(
    state: &mut State,
    records: &mut Records,
    journal: &mut impl Journal,
) -> bool {
    match replay(journal, state.limits().clone()) {
        Ok((mut fresh, fresh_records, _)) => {
            fresh.set_talk_gap_days(state.talk_gap_days());
            fresh.set_site_rules(state.site_rules());
            fresh.set_recent_entries(state.recent_entries());
            let (origin, skew_s) = state.signing();
            fresh.set_signing(&origin, skew_s);
            *state = fresh;
            *records = fresh_records;
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::Snapshots;
    use std::sync::mpsc;

    /// Whether `after_commit(last)` nudges the snapshot thread, for a state
    /// whose last snapshot (of position 0) held `items` items.
    fn nudged(items: u64, last: u64) -> bool {
        let s = Snapshots::new(0, items, 0);
        s.set_policy(10_000, 0);
        let (tx, rx) = mpsc::sync_channel(1);
        *s.nudge.lock().unwrap() = Some(tx);
        s.after_commit(last, 1);
        rx.try_recv().is_ok()
    }

    #[test]
    fn a_large_state_is_snapshotted_after_as_many_entries_as_it_holds_items() {
        assert!(!nudged(0, 9_999));
        assert!(nudged(0, 10_000));
        assert!(nudged(4_000, 10_000));
        assert!(!nudged(50_000, 10_000));
        assert!(!nudged(50_000, 49_999));
        assert!(nudged(50_000, 50_000));
    }
}
