//! The storage boundary: an append-only journal of entries plus idempotency
//! records. A backend implements [`Journal`]: SQLite (one node) or PostgreSQL
//! (several nodes on one database).

use crate::entry::{IdempotencyRecord, Logged};

/// Failure of the storage backend. The service stops taking writes when it
/// sees one: its memory may be ahead of what is durable.
#[derive(Debug, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StorageError(pub String);

/// How a full store's error begins (see [`StorageError::full`]).
const STORE_FULL: &str = "the store is full";

impl StorageError {
    /// The store has no room left (a full disk or file system): the
    /// transaction was rolled back, so nothing of it was written.
    pub fn full(detail: impl std::fmt::Display) -> StorageError {
        StorageError(format!("{STORE_FULL} ({detail})"))
    }

    /// Whether the store refused for want of room.
    pub fn is_full(&self) -> bool {
        self.0.starts_with(STORE_FULL)
    }
}

/// What other nodes appended since this node last looked: their entries, in
/// order, and their idempotency records.
#[derive(Debug, Default)]
pub struct CaughtUp {
    /// Entries after the position this node knew, in order.
    pub entries: Vec<Logged>,
    /// Idempotency records written with them.
    pub records: Vec<IdempotencyRecord>,
}

/// Durable, ordered storage of the journal.
///
/// The writer runs each batch as `begin`, then deciding, then `append`. A
/// journal shared by several nodes takes its write lock in `begin` and gives
/// back what the others appended, so a node decides on the whole journal and
/// two nodes never both answer "no conflict" to conflicting notices; `append`
/// commits and releases the lock.
pub trait Journal: Send + 'static {
    /// Every entry, in order.
    fn load(&mut self) -> Result<Vec<Logged>, StorageError>;
    /// At most `limit` entries after position `after`, in order (a start
    /// reads the journal a slice at a time, so it never holds all of it).
    fn load_after(&mut self, after: u64, limit: usize) -> Result<Vec<Logged>, StorageError> {
        let all = self.load()?;
        Ok(all.into_iter().skip(after as usize).take(limit).collect())
    }
    /// Every idempotency record.
    fn load_idempotency(&mut self) -> Result<Vec<IdempotencyRecord>, StorageError>;
    /// Starts a batch; what other writers appended after position `after`.
    /// A journal with one writer has nothing to give.
    fn begin(&mut self, after: u64) -> Result<CaughtUp, StorageError> {
        let _ = after;
        Ok(CaughtUp::default())
    }
    /// Ends a batch: appends entries and idempotency records (possibly none)
    /// in one transaction and returns only once it is durable (committed and
    /// synced).
    fn append(
        &mut self,
        entries: &[Logged],
        records: &[IdempotencyRecord],
    ) -> Result<(), StorageError>;
    /// Deletes the idempotency records answered before `before_us`: a retry
    /// after the idempotency window is a new request. Outside a batch.
    fn forget_idempotency(&mut self, before_us: i64) -> Result<(), StorageError>;
    /// The latest snapshot saved (see `crate::snapshot`). A store that
    /// keeps none has none.
    fn latest_snapshot(&mut self) -> Result<Option<StoredSnapshot<'_>>, StorageError> {
        Ok(None)
    }
    /// A handle of its own (its own connection) that saves snapshots off the
    /// writer's thread; `None` when the store keeps no snapshots.
    fn snapshot_store(&self) -> Result<Option<Box<dyn SnapshotStore>>, StorageError> {
        Ok(None)
    }
    /// A handle of its own (its own connection) that reads committed entries
    /// back for the readers, so that the state keeps only recent ones in
    /// memory; `None` keeps them all in memory.
    fn entry_reader(&self) -> Result<Option<std::sync::Arc<dyn EntryReader>>, StorageError> {
        Ok(None)
    }
}

/// Reads committed entries back (`Journal::entry_reader`), from any thread,
/// without waiting for the writer.
pub trait EntryReader: Send + Sync + 'static {
    /// Entries `after + 1 ..= upto`, in order; every one of them is committed.
    fn range(&self, after: u64, upto: u64) -> Result<Vec<Logged>, StorageError>;
}

/// The latest snapshot a store holds (`Journal::latest_snapshot`), read as a
/// stream: a start puts what it reads where it stays (the record's leaves
/// alone are 320 MB at ten million entries), rather than hold the whole
/// snapshot once more, or twice (a database's buffer and a copy of it).
pub struct StoredSnapshot<'a> {
    /// The journal position it is of.
    pub seq: u64,
    /// Its length, bytes.
    pub len: u64,
    /// Its bytes.
    pub bytes: Box<dyn std::io::Read + 'a>,
}

/// Where snapshots are saved, apart from the writer (`Journal::snapshot_store`).
pub trait SnapshotStore: Send + 'static {
    /// Saves `bytes` as the snapshot of the state after entry `seq`, in one
    /// transaction (a crash leaves the previous one), and deletes the older
    /// ones. Several nodes may save the same position: one is kept.
    fn save(&mut self, seq: u64, bytes: &[u8]) -> Result<(), StorageError>;
}

/// A logged entry as a storage row: the audience comma-separated (party ids
/// hold no commas), the salt as hex (empty for entries logged before salts)
/// and the entry as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Position in the journal.
    pub seq: i64,
    /// When it was logged, µs since the Unix epoch.
    pub at_us: i64,
    /// The audience, comma-separated.
    pub audience: String,
    /// The leaf's salt, hex; empty when the entry has none.
    pub salt: String,
    /// The entry, as JSON.
    pub entry: String,
}

/// The row of entry `l`.
pub fn to_row(l: &Logged) -> Result<Row, StorageError> {
    let entry = serde_json::to_string(&l.entry).map_err(|e| StorageError(e.to_string()))?;
    Ok(Row {
        seq: l.seq as i64,
        at_us: l.at_us,
        audience: l.audience.join(","),
        salt: l.salt.clone().unwrap_or_default(),
        entry,
    })
}

/// How a packed entry begins: zstd's frame magic number. A raw deflate
/// stream (what earlier builds stored) cannot begin so: these bytes would make
/// its first block a stored one whose length check fails.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Most bytes an entry's JSON may unpack to.
const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// An entry's JSON as a store keeps it compactly: a zstd frame at level 1
/// (about 2.3 times smaller for notices; about 10 µs of the writer's time for
/// a notice's 1.5 KB, half what deflate took). What is hashed and signed is
/// the leaf text computed from the entry, never these bytes, so the encoding
/// may change without touching the record.
pub fn pack_entry(json: &str) -> Vec<u8> {
    thread_local! {
        // One context a thread: a fresh one for every entry costs more in
        // allocation than the compression.
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with_borrow_mut(|compressor| {
        let compressor = match compressor {
            Some(c) => c,
            None => compressor
                .insert(zstd::bulk::Compressor::new(1).expect("zstd's level 1 is always valid")),
        };
        // Only allocation can fail here, which aborts anyway.
        compressor
            .compress(json.as_bytes())
            .expect("zstd compresses into a buffer of its own bound")
    })
}

/// Fewest entries whose packing is shared with the packer thread: below, a
/// hand-over costs more than it saves.
const SHARED_PACKING: usize = 16;

/// The rows of `entries`, each with its entry packed ([`pack_entry`]) and its
/// JSON text left empty. Packing is most of a store's share of the writer's
/// time: a batch's second half is packed on a thread of its own (one for the
/// process, with its own zstd context) while the writer packs the first.
pub fn packed_rows(entries: &[Logged]) -> Result<Vec<(Row, Vec<u8>)>, StorageError> {
    let mut rows = entries.iter().map(to_row).collect::<Result<Vec<_>, _>>()?;
    let shared = rows.len() >= SHARED_PACKING;
    let ours = if shared { rows.len() / 2 } else { rows.len() };
    let handed = shared.then(|| {
        packer::pack(
            rows[ours..]
                .iter_mut()
                .map(|r| std::mem::take(&mut r.entry))
                .collect(),
        )
    });
    let mut packed: Vec<Vec<u8>> = rows[..ours]
        .iter_mut()
        .map(|r| pack_entry(&std::mem::take(&mut r.entry)))
        .collect();
    if let Some(handed) = handed {
        packed.extend(handed.wait()?);
    }
    Ok(rows.into_iter().zip(packed).collect())
}

/// The packer thread of [`packed_rows`].
mod packer {
    use super::StorageError;
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::sync::OnceLock;

    type Job = (Vec<String>, Sender<Vec<Vec<u8>>>);

    fn pack_all(jsons: &[String]) -> Vec<Vec<u8>> {
        jsons.iter().map(|j| super::pack_entry(j)).collect()
    }

    /// Entries handed to the packer thread, or kept to pack here when it
    /// cannot be had.
    pub(super) enum Handed {
        Packing(Receiver<Vec<Vec<u8>>>),
        Here(Vec<String>),
    }

    impl Handed {
        /// The packed entries, in the order they were handed.
        pub(super) fn wait(self) -> Result<Vec<Vec<u8>>, StorageError> {
            match self {
                Handed::Packing(rx) => rx.recv().map_err(|_| {
                    StorageError("the packer thread stopped; nothing was written".into())
                }),
                Handed::Here(jsons) => Ok(pack_all(&jsons)),
            }
        }
    }

    /// The thread, started on first use; `None` if it could not start.
    fn thread() -> Option<&'static Sender<Job>> {
        static PACKER: OnceLock<Option<Sender<Job>>> = OnceLock::new();
        PACKER
            .get_or_init(|| {
                let (tx, rx) = channel::<Job>();
                std::thread::Builder::new()
                    .name("parley-packer".into())
                    .spawn(move || {
                        for (jsons, done) in rx {
                            let _ = done.send(pack_all(&jsons));
                        }
                    })
                    .ok()?;
                Some(tx)
            })
            .as_ref()
    }

    /// Hands `jsons` to the packer thread.
    pub(super) fn pack(jsons: Vec<String>) -> Handed {
        let Some(packer) = thread() else {
            return Handed::Here(jsons);
        };
        let (done, rx) = channel();
        match packer.send((jsons, done)) {
            Ok(()) => Handed::Packing(rx),
            Err(returned) => Handed::Here(returned.0 .0),
        }
    }
}

/// The JSON of entry `seq` stored by [`pack_entry`], or deflated raw by an
/// earlier build (SQLite schema 4, PostgreSQL's first `packed` rows).
pub fn unpack_entry(seq: i64, bytes: &[u8]) -> Result<String, StorageError> {
    let unreadable =
        |why: String| StorageError(format!("journal entry {seq} is unreadable: {why}"));
    let json = if bytes.starts_with(&ZSTD_MAGIC) {
        let size = match zstd::zstd_safe::get_frame_content_size(bytes) {
            Ok(Some(size)) if size <= MAX_ENTRY_BYTES => size as usize,
            Ok(Some(size)) => {
                return Err(unreadable(format!("it says it unpacks to {size} bytes")))
            }
            Ok(None) | Err(_) => return Err(unreadable("its zstd frame has no size".into())),
        };
        thread_local! {
            static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
                const { std::cell::RefCell::new(None) };
        }
        DECOMPRESSOR
            .with_borrow_mut(|d| {
                let d = match d {
                    Some(d) => d,
                    None => d.insert(zstd::bulk::Decompressor::new()?),
                };
                d.decompress(bytes, size)
            })
            .map_err(|e| unreadable(format!("it does not unpack ({e})")))?
    } else {
        miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, MAX_ENTRY_BYTES as usize)
            .map_err(|e| unreadable(format!("it does not inflate ({:?})", e.status)))?
    };
    String::from_utf8(json).map_err(|e| unreadable(e.to_string()))
}

/// The reverse of [`to_row`]; `expected` is the position the row must hold,
/// so that a gap in storage is an error rather than a silently shorter journal.
pub fn from_row(expected: u64, row: Row) -> Result<Logged, StorageError> {
    let seq = row.seq;
    if seq as u64 != expected {
        return Err(StorageError(format!(
            "journal entry {expected} is missing (found {seq})"
        )));
    }
    let entry = crate::stored::entry_from_json(&row.entry)
        .map_err(|e| StorageError(format!("journal entry {seq} is unreadable: {e}")))?;
    let audience = row
        .audience
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let salt = Some(row.salt).filter(|s| !s.is_empty());
    if salt
        .as_deref()
        .is_some_and(|s| s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(StorageError(format!(
            "journal entry {seq} has a salt that is not 32 hex digits"
        )));
    }
    Ok(Logged {
        seq: seq as u64,
        at_us: row.at_us,
        audience,
        salt,
        entry,
    })
}

#[cfg(test)]
mod tests {
    use super::{pack_entry, packed_rows, to_row, unpack_entry};
    use crate::entry::{Entry, Logged};

    /// Text no compressor can shrink, `n` characters long.
    fn noise(n: usize) -> String {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'!' + (x % 90) as u8)
            })
            .collect()
    }

    #[test]
    fn a_packed_entry_unpacks_to_itself_with_the_contexts_reused() {
        let notice = r#"{"kind":"notified","activity":"act-1","volumes":[]}"#.repeat(40);
        let noise = noise(20_000);
        for json in ["", "{}", notice.as_str(), noise.as_str(), notice.as_str()] {
            let packed = pack_entry(json);
            assert_eq!(unpack_entry(1, &packed).unwrap(), json);
        }
        assert!(pack_entry(&notice).len() < notice.len() / 4);
    }

    #[test]
    fn an_entry_deflated_by_an_earlier_build_still_reads() {
        let notice = r#"{"kind":"notified","activity":"act-2","volumes":[]}"#.repeat(3);
        for level in [1, 6] {
            let deflated = miniz_oxide::deflate::compress_to_vec(notice.as_bytes(), level);
            assert_eq!(unpack_entry(7, &deflated).unwrap(), notice);
        }
    }

    #[test]
    fn damaged_bytes_are_an_error_naming_the_entry() {
        let mut packed = pack_entry(&noise(3_000));
        packed.truncate(packed.len() / 2);
        let bad = unpack_entry(42, &packed).unwrap_err().0;
        assert!(bad.starts_with("journal entry 42 is unreadable"), "{bad}");
        let bad = unpack_entry(43, b"not an entry at all").unwrap_err().0;
        assert!(bad.starts_with("journal entry 43 is unreadable"), "{bad}");
    }

    #[test]
    fn packed_rows_keep_their_order_whoever_packs_them() {
        let logged = |seq: u64| Logged {
            seq,
            at_us: seq as i64,
            audience: vec![format!("p{seq}")],
            salt: None,
            entry: Entry::PartyCreated {
                party: format!("p{seq}"),
                name: noise(seq as usize % 700),
            },
        };
        // Both sides of the threshold, and batches packed at once by several writers.
        let sizes = [
            0,
            1,
            super::SHARED_PACKING - 1,
            super::SHARED_PACKING,
            17,
            300,
        ];
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for n in sizes {
                        let entries: Vec<Logged> = (1..=n as u64).map(logged).collect();
                        let rows = packed_rows(&entries).unwrap();
                        assert_eq!(rows.len(), n);
                        for (l, (row, packed)) in entries.iter().zip(rows) {
                            let mut expected = to_row(l).unwrap();
                            let json = unpack_entry(row.seq, &packed).unwrap();
                            assert_eq!(json, expected.entry, "entry {} of {n}", l.seq);
                            expected.entry.clear();
                            assert_eq!(row, expected);
                        }
                    }
                });
            }
        });
    }
}
