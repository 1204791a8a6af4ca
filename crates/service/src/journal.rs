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
    /// The latest snapshot saved (see `crate::snapshot`): the journal
    /// position it is of and its bytes. A store that keeps none has none.
    fn latest_snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, StorageError> {
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

/// An entry's JSON as a store keeps it compactly: raw deflate at the fastest
/// level (about 2.5 times smaller for notices; microseconds on the writer).
/// What is hashed and signed is the leaf text computed from the entry, never
/// these bytes, so the encoding may change without touching the record.
pub fn deflate_entry(json: &str) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
    };
    thread_local! {
        // A compressor is a few hundred KB: made afresh for every entry it
        // cost the writer more in page faults and zeroing than in deflating.
        static COMPRESSOR: std::cell::RefCell<CompressorOxide> = std::cell::RefCell::new(
            CompressorOxide::new(create_comp_flags_from_zip_params(1, 0, 0)),
        );
    }
    COMPRESSOR.with_borrow_mut(|compressor| {
        compressor.reset();
        let mut input = json.as_bytes();
        let mut out = vec![0; input.len() / 2 + 64];
        let mut at = 0;
        loop {
            let (status, read, wrote) =
                compress(compressor, input, &mut out[at..], TDEFLFlush::Finish);
            at += wrote;
            input = &input[read..];
            match status {
                TDEFLStatus::Done => break,
                TDEFLStatus::Okay => out.resize(out.len() * 2, 0),
                other => unreachable!("deflating into a growing buffer: {other:?}"),
            }
        }
        out.truncate(at);
        out
    })
}

/// The JSON of entry `seq` stored by [`deflate_entry`].
pub fn inflate_entry(seq: i64, bytes: &[u8]) -> Result<String, StorageError> {
    let unreadable =
        |why: String| StorageError(format!("journal entry {seq} is unreadable: {why}"));
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, 64 << 20)
        .map_err(|e| unreadable(format!("it does not inflate ({:?})", e.status)))?;
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
    use super::{deflate_entry, inflate_entry};

    #[test]
    fn a_deflated_entry_inflates_to_itself_with_the_compressor_reused() {
        // Incompressible text larger than the first output buffer makes it grow.
        let mut noise = String::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(char::from(b'!' + (x % 90) as u8));
        }
        let notice = r#"{"kind":"notified","activity":"act-1","volumes":[]}"#.repeat(40);
        for json in ["", "{}", notice.as_str(), noise.as_str(), notice.as_str()] {
            let packed = deflate_entry(json);
            assert_eq!(inflate_entry(1, &packed).unwrap(), json);
        }
        assert!(deflate_entry(&notice).len() < notice.len() / 4);
    }
}
