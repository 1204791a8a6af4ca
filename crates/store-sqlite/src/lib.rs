//! Parley's embedded store: the journal and the idempotency records in one
//! SQLite file (default `./parley.db`), nothing to install.
//!
//! Crash safety: WAL journal mode with `synchronous=FULL`, so a transaction that
//! returned from `COMMIT` is on disk; each [`Journal::append`] is one
//! transaction, so a batch is all there or not at all.
//!
//! Checkpoints (copying the WAL into the database file, with its own fsync) run
//! on a thread of their own with a second connection, not inside the writer's
//! commits, so they do not add to a notice's latency.

use parley_service::{
    from_row, packed_rows, unpack_entry, EntryReader, IdempotencyRecord, Journal, Logged, Row,
    SnapshotStore, StorageError, StoredSnapshot, WriteOutcome,
};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The journal in a SQLite file.
pub struct SqliteJournal {
    conn: Connection,
    path: std::path::PathBuf,
    _checkpointer: Checkpointer,
}

/// The thread that checkpoints the WAL; stopped (after a last checkpoint)
/// when dropped.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StorageError> {
        let conn = Connection::open(path)
            .map_err(|e| StorageError(format!("cannot open {}: {e}", path.display())))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("parley-checkpoint".into())
            .spawn(move || loop {
                let last =
                    stopped.recv_timeout(CHECKPOINT_EVERY) != Err(mpsc::RecvTimeoutError::Timeout);
                // A failed checkpoint loses nothing (the WAL keeps the data); the
                // next one tries again.
                let _ = conn.execute_batch(if last {
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                } else {
                    "PRAGMA wal_checkpoint(PASSIVE)"
                });
                if last {
                    break;
                }
            })
            .map_err(|e| StorageError(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn err(e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => StorageError::full(format!("sqlite: {e}")),
        _ => StorageError(format!("sqlite: {e}")),
    }
}

impl SqliteJournal {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        own_only(path)?;
        let conn = Connection::open(path)
            .map_err(|e| StorageError(format!("cannot open {}: {e}", path.display())))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA wal_autocheckpoint = 0;
             PRAGMA journal_size_limit = 16777216;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS journal (
                 seq INTEGER PRIMARY KEY,
                 at_us INTEGER NOT NULL,
                 audience TEXT NOT NULL,
                 entry TEXT NOT NULL,
                 salt TEXT NOT NULL DEFAULT ''
             );
             CREATE TABLE IF NOT EXISTS idempotency (
                 operator TEXT NOT NULL,
                 key TEXT NOT NULL,
                 request_sha256 TEXT NOT NULL,
                 status INTEGER NOT NULL,
                 body TEXT NOT NULL,
                 at_us INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (operator, key)
             );
             CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS snapshot (seq INTEGER PRIMARY KEY, image BLOB NOT NULL);",
        )
        .map_err(err)?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        match version.as_deref() {
            None => {
                conn.execute("INSERT INTO meta (name, value) VALUES ('schema', '5')", [])
                    .map_err(err)?;
            }
            // Schema 1 kept idempotency records for ever, without their time:
            // they are taken as old, so the first sweep forgets them.
            Some("1") => {
                conn.execute_batch(
                    "BEGIN;
                     ALTER TABLE idempotency ADD COLUMN at_us INTEGER NOT NULL DEFAULT 0;
                     ALTER TABLE journal ADD COLUMN salt TEXT NOT NULL DEFAULT '';
                     UPDATE meta SET value = '5' WHERE name = 'schema';
                     COMMIT;",
                )
                .map_err(err)?;
            }
            // Schema 2 had no salts: its entries keep unsalted leaves.
            Some("2") => {
                conn.execute_batch(
                    "BEGIN;
                     ALTER TABLE journal ADD COLUMN salt TEXT NOT NULL DEFAULT '';
                     UPDATE meta SET value = '5' WHERE name = 'schema';
                     COMMIT;",
                )
                .map_err(err)?;
            }
            // Schema 3 kept entries as JSON text, 4 added deflated ones beside
            // them and 5 zstd frames: all are read (`stored_entry`). An
            // earlier build refuses a schema 5 store rather than fail on
            // entries it cannot unpack.
            Some("3" | "4") => {
                conn.execute("UPDATE meta SET value = '5' WHERE name = 'schema'", [])
                    .map_err(err)?;
            }
            Some("5") => {}
            Some(v) => {
                return Err(StorageError(format!(
                    "{}: schema {v} is newer than this parley knows",
                    path.display()
                )))
            }
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            _checkpointer: Checkpointer::start(path)?,
        })
    }
}

impl Journal for SqliteJournal {
    fn load(&mut self) -> Result<Vec<Logged>, StorageError> {
        read_entries(&self.conn, 0, i64::MAX as u64)
    }

    fn load_after(&mut self, after: u64, limit: usize) -> Result<Vec<Logged>, StorageError> {
        read_entries(&self.conn, after, after.saturating_add(limit as u64))
    }

    fn load_idempotency(&mut self) -> Result<Vec<IdempotencyRecord>, StorageError> {
        let mut stmt = self
            .conn
            .prepare("SELECT operator, key, request_sha256, status, body, at_us FROM idempotency")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(IdempotencyRecord {
                    operator: r.get(0)?,
                    key: r.get(1)?,
                    request_sha256: r.get(2)?,
                    outcome: WriteOutcome::from_stored(r.get(3)?),
                    body: r.get(4)?,
                    at_us: r.get(5)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn append(
        &mut self,
        entries: &[Logged],
        records: &[IdempotencyRecord],
    ) -> Result<(), StorageError> {
        if entries.is_empty() && records.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO journal (seq, at_us, audience, salt, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for (row, packed) in packed_rows(entries)? {
                insert
                    .execute(params![row.seq, row.at_us, row.audience, row.salt, packed])
                    .map_err(err)?;
            }
            let mut record = tx
                .prepare_cached(
                    // A key reused after its record's window replaces the record.
                    "INSERT INTO idempotency (operator, key, request_sha256, status, body, at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (operator, key) DO UPDATE SET request_sha256 = excluded.request_sha256,
                         status = excluded.status, body = excluded.body, at_us = excluded.at_us",
                )
                .map_err(err)?;
            for r in records {
                record
                    .execute(params![
                        r.operator,
                        r.key,
                        r.request_sha256,
                        r.outcome.stored(),
                        r.body,
                        r.at_us
                    ])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn forget_idempotency(&mut self, before_us: i64) -> Result<(), StorageError> {
        self.conn
            .execute(
                "DELETE FROM idempotency WHERE at_us < ?1",
                params![before_us],
            )
            .map(drop)
            .map_err(err)
    }

    fn latest_snapshot(&mut self) -> Result<Option<StoredSnapshot<'_>>, StorageError> {
        let seq: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM snapshot", [], |r| r.get(0))
            .map_err(err)?;
        let Some(seq) = seq else { return Ok(None) };
        // Read in place from the database's pages (`seq` is the rowid), not
        // into a buffer as large as the snapshot and then a copy of it.
        let blob = self
            .conn
            .blob_open(rusqlite::MAIN_DB, "snapshot", "image", seq, true)
            .map_err(err)?;
        Ok(Some(StoredSnapshot {
            seq: seq as u64,
            len: blob.len() as u64,
            bytes: Box::new(blob),
        }))
    }

    fn snapshot_store(&self) -> Result<Option<Box<dyn SnapshotStore>>, StorageError> {
        let conn = Connection::open(&self.path)
            .map_err(|e| StorageError(format!("cannot open {}: {e}", self.path.display())))?;
        Ok(Some(Box::new(SqliteSnapshots { conn })))
    }

    fn entry_reader(&self) -> Result<Option<Arc<dyn EntryReader>>, StorageError> {
        let conn = Connection::open(&self.path)
            .map_err(|e| StorageError(format!("cannot open {}: {e}", self.path.display())))?;
        Ok(Some(Arc::new(SqliteReader(Mutex::new(conn)))))
    }
}

/// Entries `after + 1 ..= upto` of the journal on `conn`, in order; a gap is
/// an error, not a shorter answer.
fn read_entries(conn: &Connection, after: u64, upto: u64) -> Result<Vec<Logged>, StorageError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, at_us, audience, salt, entry FROM journal
             WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map(
            params![after as i64, upto.min(i64::MAX as u64) as i64],
            |r| {
                Ok(Row {
                    seq: r.get(0)?,
                    at_us: r.get(1)?,
                    audience: r.get(2)?,
                    salt: r.get(3)?,
                    entry: stored_entry(r.get(0)?, r.get_ref(4)?)?,
                })
            },
        )
        .map_err(err)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(from_row(after + out.len() as u64 + 1, row.map_err(err)?)?);
    }
    Ok(out)
}

/// Reads committed entries back for the state's readers, with a connection
/// of its own: WAL lets it read while the writer commits.
struct SqliteReader(Mutex<Connection>);

impl EntryReader for SqliteReader {
    fn range(&self, after: u64, upto: u64) -> Result<Vec<Logged>, StorageError> {
        let conn = self.0.lock().unwrap_or_else(|e| e.into_inner());
        read_entries(&conn, after, upto)
    }
}

/// Saves snapshots with a connection of its own (rusqlite waits up to 5 s
/// for the writer's transaction, and the writer for it).
struct SqliteSnapshots {
    conn: Connection,
}

impl SnapshotStore for SqliteSnapshots {
    fn save(&mut self, seq: u64, image: &[u8]) -> Result<(), StorageError> {
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO snapshot (seq, image) VALUES (?1, ?2) ON CONFLICT (seq) DO UPDATE SET image = excluded.image",
            params![seq as i64, image],
        )
        .map_err(err)?;
        // Only the latest is read; the one it replaces goes in the same
        // transaction, so there is always one whole snapshot or none (and a
        // refused one does not outlive the next, even of the same position:
        // one taken again, by a later build say, replaces it).
        tx.execute("DELETE FROM snapshot WHERE seq <> ?1", params![seq as i64])
            .map_err(err)?;
        tx.commit().map_err(err)
    }
}

/// An entry's JSON from its column: text as schema 3 wrote it, or packed
/// (deflated by schema 4, zstd from schema 5 on: [`unpack_entry`] reads both).
fn stored_entry(seq: i64, value: ValueRef<'_>) -> rusqlite::Result<String> {
    let bad = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Blob, e)
    };
    match value {
        ValueRef::Text(t) => String::from_utf8(t.to_vec()).map_err(|e| bad(e.into())),
        ValueRef::Blob(b) => unpack_entry(seq, b).map_err(|e| bad(e.0.into())),
        other => Err(rusqlite::Error::InvalidColumnType(
            4,
            "entry".into(),
            other.data_type(),
        )),
    }
}

/// Makes the store's file readable by its owner alone (mode 0600), creating it
/// empty if missing: it holds every party's plans and the operators' token
/// hashes. SQLite gives its `-wal` and `-shm` files the same mode.
fn own_only(path: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let denied = |e: std::io::Error| StorageError(format!("cannot open {}: {e}", path.display()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(denied)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(denied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_service::{leaf_text, to_row, Entry};

    fn party(seq: u64, salt: Option<&str>) -> Logged {
        Logged {
            seq,
            at_us: 1_000 * seq as i64,
            audience: vec!["blue".into()],
            salt: salt.map(str::to_string),
            entry: Entry::PartyCreated {
                party: format!("p{seq}"),
                name: "P".into(),
            },
        }
    }

    #[test]
    fn a_schema_2_journal_keeps_its_unsalted_leaves_and_takes_salted_ones() {
        let dir = std::env::temp_dir().join(format!("parley-schema2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        let _ = std::fs::remove_file(&path);
        // A store as schema 2 wrote it: no salt column.
        let old = party(1, None);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE journal (seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL,
                     audience TEXT NOT NULL, entry TEXT NOT NULL);
                 CREATE TABLE idempotency (operator TEXT NOT NULL, key TEXT NOT NULL,
                     request_sha256 TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
                     at_us INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (operator, key));
                 CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES ('schema', '2');",
            )
            .unwrap();
            let row = to_row(&old).unwrap();
            conn.execute(
                "INSERT INTO journal VALUES (?1, ?2, ?3, ?4)",
                params![row.seq, row.at_us, row.audience, row.entry],
            )
            .unwrap();
        }
        let old_leaf = leaf_text(&old);
        assert!(!old_leaf.contains("salt"), "{old_leaf}");
        let salted = party(2, Some("00112233445566778899aabbccddeeff"));
        {
            let mut journal = SqliteJournal::open(&path).unwrap();
            let loaded = journal.load().unwrap();
            assert_eq!(loaded[0].salt, None);
            assert_eq!(leaf_text(&loaded[0]), old_leaf, "the old leaf is unchanged");
            journal.append(std::slice::from_ref(&salted), &[]).unwrap();
        }
        let mut journal = SqliteJournal::open(&path).unwrap();
        let loaded = journal.load().unwrap();
        assert_eq!(loaded[1].salt, salted.salt);
        assert!(leaf_text(&loaded[1]).contains("\"salt\":\"00112233445566778899aabbccddeeff\""));
        let schema: String = journal
            .conn
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(schema, "5");
        // A salt that is not 128 bits of hex is a damaged store, not a leaf.
        journal
            .conn
            .execute("UPDATE journal SET salt = 'zz' WHERE seq = 2", [])
            .unwrap();
        let e = journal.load().unwrap_err();
        assert!(e.0.contains("entry 2 has a salt"), "{e}");
        // Entries are stored packed from schema 4 on, the old one as text.
        let kinds: Vec<(String, i64, i64)> = journal
            .conn
            .prepare("SELECT typeof(entry), length(entry), seq FROM journal ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds[0].0, "text");
        assert_eq!(kinds[1].0, "blob");
        // A damaged packed entry is an error naming it, not a panic.
        journal
            .conn
            .execute_batch(
                "UPDATE journal SET salt = '' WHERE seq = 2;
                 UPDATE journal SET entry = x'ffff00' WHERE seq = 2;",
            )
            .unwrap();
        let e = journal.load().unwrap_err();
        assert!(e.0.contains("journal entry 2 is unreadable"), "{e}");
        drop(journal);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_schema_4_store_keeps_its_deflated_entries_and_packs_new_ones_with_zstd() {
        let dir = std::env::temp_dir().join(format!("parley-schema4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        let _ = std::fs::remove_file(&path);
        // A store as schema 4 left it: its entry deflated raw.
        let (old, new) = (
            party(1, None),
            party(2, Some("00112233445566778899aabbccddeeff")),
        );
        SqliteJournal::open(&path)
            .unwrap()
            .append(std::slice::from_ref(&old), &[])
            .unwrap();
        let deflated =
            miniz_oxide::deflate::compress_to_vec(to_row(&old).unwrap().entry.as_bytes(), 1);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute(
                "UPDATE journal SET entry = ?1 WHERE seq = 1",
                params![deflated],
            )
            .unwrap();
            conn.execute("UPDATE meta SET value = '4' WHERE name = 'schema'", [])
                .unwrap();
        }
        let mut journal = SqliteJournal::open(&path).unwrap();
        journal.append(std::slice::from_ref(&new), &[]).unwrap();
        assert_eq!(journal.load().unwrap(), vec![old, new]);
        let stored = |seq: i64| -> Vec<u8> {
            let sql = "SELECT entry FROM journal WHERE seq = ?1";
            journal.conn.query_row(sql, [seq], |r| r.get(0)).unwrap()
        };
        assert_eq!(stored(1), deflated);
        assert!(
            stored(2).starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
            "a zstd frame"
        );
        let sql = "SELECT value FROM meta WHERE name = 'schema'";
        let schema: String = journal.conn.query_row(sql, [], |r| r.get(0)).unwrap();
        assert_eq!(schema, "5");
        // A store of a later schema is refused, naming it, rather than misread.
        journal
            .conn
            .execute("UPDATE meta SET value = '6' WHERE name = 'schema'", [])
            .unwrap();
        drop(journal);
        let refused = SqliteJournal::open(&path)
            .err()
            .expect("schema 6 refused")
            .0;
        assert!(
            refused.contains("schema 6 is newer than this parley knows"),
            "{refused}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
