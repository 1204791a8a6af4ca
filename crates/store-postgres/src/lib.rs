//! Parley's server store: the journal and the idempotency records in
//! PostgreSQL, for a deployment that outgrows one node. Several `parley serve`
//! nodes share one database.
//!
//! Every batch of writes runs under one transaction-scoped advisory lock: in
//! [`Journal::begin`] a node takes the lock and reads what the other nodes
//! appended since it last looked, decides on the whole journal, and in
//! [`Journal::append`] inserts its entries and commits, which releases the
//! lock. So a notice's conflict check and its insertion are atomic with respect
//! to every other notice on every node. A commit returns once PostgreSQL has
//! flushed its write-ahead log (`synchronous_commit` is set on for the session).
//!
//! The connection string's `sslmode` (up to `verify-full`) and `sslrootcert`
//! are honoured as libpq does, through rustls (`tls.rs`).

use parley_service::{
    from_row, packed_rows, unpack_entry, CaughtUp, EntryReader, IdempotencyRecord, Journal, Logged,
    Row, SnapshotStore, StorageError, StoredSnapshot, WriteOutcome,
};
use postgres::Client;
use std::sync::{Arc, Mutex};

pub mod local;
mod tls;

/// The advisory lock every node takes for a batch of writes ("parley" in ASCII).
const WRITE_LOCK: i64 = 0x70_61_72_6c_65_79;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS journal (
        seq BIGINT PRIMARY KEY,
        at_us BIGINT NOT NULL,
        audience TEXT NOT NULL,
        entry TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS idempotency (
        n BIGSERIAL UNIQUE,
        operator TEXT NOT NULL,
        key TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (operator, key)
    );
    -- When a record was answered; records from before it are taken as old.
    ALTER TABLE idempotency ADD COLUMN IF NOT EXISTS at_us BIGINT NOT NULL DEFAULT 0;
    -- Each leaf's salt; entries from before salts have none and keep their leaves.
    ALTER TABLE journal ADD COLUMN IF NOT EXISTS salt TEXT NOT NULL DEFAULT '';
    -- Entries are stored packed (parley-service's pack_entry: zstd from
    -- schema 2 on, deflated before) in `packed`, `entry` left NULL; rows of
    -- before keep their JSON text in `entry`. Packed bytes do not compress
    -- again: TOAST is told not to try.
    ALTER TABLE journal ADD COLUMN IF NOT EXISTS packed BYTEA;
    ALTER TABLE journal ALTER COLUMN packed SET STORAGE EXTERNAL;
    ALTER TABLE journal ALTER COLUMN entry DROP NOT NULL;
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- The latest snapshot of the state (any node's), see parley-service.
    CREATE TABLE IF NOT EXISTS snapshot (seq BIGINT PRIMARY KEY, image BYTEA NOT NULL);
    INSERT INTO meta (name, value) VALUES ('schema', '2') ON CONFLICT (name) DO NOTHING;
    -- Schema 2 packs entries with zstd, which a build of schema 1 cannot
    -- read: it refuses the database rather than fail on an entry.
    UPDATE meta SET value = '2' WHERE name = 'schema' AND value = '1';";

/// The journal in a PostgreSQL database.
pub struct PostgresJournal {
    url: String,
    client: Client,
    /// The last idempotency record this node has seen (`idempotency.n`).
    last_record: i64,
    /// A batch's transaction is open (between `begin` and `append`).
    in_batch: bool,
}

fn err(what: &str, e: postgres::Error) -> StorageError {
    if e.code() == Some(&postgres::error::SqlState::DISK_FULL) {
        return StorageError::full(format!("postgresql: {what}: {e}"));
    }
    StorageError(format!("postgresql: {what}: {e}"))
}

fn connect(url: &str) -> Result<Client, StorageError> {
    let (conninfo, tls) =
        tls::connector(url).map_err(|e| StorageError(format!("postgresql: {e}")))?;
    let mut client = Client::connect(&conninfo, tls).map_err(|e| err("cannot connect", e))?;
    client
        .batch_execute("SET synchronous_commit = on")
        .map_err(|e| err("setting synchronous_commit", e))?;
    Ok(client)
}

impl PostgresJournal {
    /// Connects to `url` (a libpq connection string or URL) and creates the
    /// tables if they are missing; refuses a schema newer than this build.
    pub fn open(url: &str) -> Result<Self, StorageError> {
        let mut client = connect(url)?;
        // Two nodes starting at once must not both create the tables.
        client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK}); {SCHEMA} COMMIT;"
            ))
            .map_err(|e| err("creating the tables", e))?;
        let version: String = client
            .query_one("SELECT value FROM meta WHERE name = 'schema'", &[])
            .map_err(|e| err("reading the schema version", e))?
            .get(0);
        if version != "2" {
            return Err(StorageError(format!(
                "postgresql: schema {version} is newer than this parley knows"
            )));
        }
        Ok(Self {
            url: url.to_string(),
            client,
            last_record: 0,
            in_batch: false,
        })
    }

    fn entries_after(&mut self, after: u64) -> Result<Vec<Logged>, StorageError> {
        read_entries(&mut self.client, after, i64::MAX as u64)
    }

    fn records_after(&mut self, n: i64) -> Result<Vec<IdempotencyRecord>, StorageError> {
        let rows = self
            .client
            .query(
                "SELECT n, operator, key, request_sha256, status, body, at_us FROM idempotency WHERE n > $1 ORDER BY n",
                &[&n],
            )
            .map_err(|e| err("reading idempotency records", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            self.last_record = self.last_record.max(r.get(0));
            out.push(IdempotencyRecord {
                operator: r.get(1),
                key: r.get(2),
                request_sha256: r.get(3),
                outcome: WriteOutcome::from_stored(r.get::<_, i32>(4) as u16),
                body: r.get(5),
                at_us: r.get(6),
            });
        }
        Ok(out)
    }

    /// A connection that went away (the database restarted, a fail-over) is
    /// opened again before the next use.
    fn reconnect_if_closed(&mut self) -> Result<(), StorageError> {
        if self.client.is_closed() {
            self.client = connect(&self.url)?;
        }
        Ok(())
    }

    fn try_begin(&mut self, after: u64) -> Result<CaughtUp, StorageError> {
        self.reconnect_if_closed()?;
        self.client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ))
            .map_err(|e| err("taking the write lock", e))?;
        self.in_batch = true;
        let entries = self.entries_after(after)?;
        let records = self.records_after(self.last_record)?;
        Ok(CaughtUp { entries, records })
    }

    fn try_append(
        &mut self,
        entries: &[Logged],
        records: &[IdempotencyRecord],
    ) -> Result<(), StorageError> {
        if !entries.is_empty() {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (row, packed) in packed_rows(entries)? {
                columns.0.push(row.seq);
                columns.1.push(row.at_us);
                columns.2.push(row.audience);
                columns.3.push(row.salt);
                columns.4.push(packed);
            }
            // One statement for the batch; a seq another node holds already
            // fails it, and with it the batch (the lock makes that a bug).
            self.client
                .execute(
                    "INSERT INTO journal (seq, at_us, audience, salt, packed)
                     SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BYTEA[])",
                    &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4],
                )
                .map_err(|e| err("appending to the journal", e))?;
        }
        if !records.is_empty() {
            let operators: Vec<&str> = records.iter().map(|r| r.operator.as_str()).collect();
            let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
            let hashes: Vec<&str> = records.iter().map(|r| r.request_sha256.as_str()).collect();
            let statuses: Vec<i32> = records
                .iter()
                .map(|r| i32::from(r.outcome.stored()))
                .collect();
            let bodies: Vec<&str> = records.iter().map(|r| r.body.as_str()).collect();
            let times: Vec<i64> = records.iter().map(|r| r.at_us).collect();
            let rows = self
                .client
                .query(
                    "INSERT INTO idempotency (operator, key, request_sha256, status, body, at_us)
                     SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::INTEGER[], $5::TEXT[], $6::BIGINT[])
                     ON CONFLICT (operator, key) DO UPDATE SET request_sha256 = EXCLUDED.request_sha256,
                         status = EXCLUDED.status, body = EXCLUDED.body, at_us = EXCLUDED.at_us,
                         n = nextval(pg_get_serial_sequence('idempotency', 'n'))
                     RETURNING n",
                    &[&operators, &keys, &hashes, &statuses, &bodies, &times],
                )
                .map_err(|e| err("storing idempotency records", e))?;
            for r in rows {
                self.last_record = self.last_record.max(r.get(0));
            }
        }
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| err("committing", e))
    }

    /// Ends a failed batch: its transaction is rolled back (and the lock let go).
    fn abandon(&mut self) {
        if self.in_batch && !self.client.is_closed() {
            let _ = self.client.batch_execute("ROLLBACK");
        }
        self.in_batch = false;
    }
}

impl Journal for PostgresJournal {
    fn load(&mut self) -> Result<Vec<Logged>, StorageError> {
        self.reconnect_if_closed()?;
        self.entries_after(0)
    }

    fn load_after(&mut self, after: u64, limit: usize) -> Result<Vec<Logged>, StorageError> {
        self.reconnect_if_closed()?;
        read_entries(&mut self.client, after, after.saturating_add(limit as u64))
    }

    fn load_idempotency(&mut self) -> Result<Vec<IdempotencyRecord>, StorageError> {
        self.reconnect_if_closed()?;
        self.last_record = 0;
        self.records_after(0)
    }

    fn begin(&mut self, after: u64) -> Result<CaughtUp, StorageError> {
        let caught_up = self.try_begin(after);
        if caught_up.is_err() {
            self.abandon();
        }
        caught_up
    }

    fn append(
        &mut self,
        entries: &[Logged],
        records: &[IdempotencyRecord],
    ) -> Result<(), StorageError> {
        let done = self.try_append(entries, records);
        if done.is_err() {
            self.abandon();
        }
        self.in_batch = false;
        done
    }

    fn forget_idempotency(&mut self, before_us: i64) -> Result<(), StorageError> {
        self.reconnect_if_closed()?;
        self.client
            .execute("DELETE FROM idempotency WHERE at_us < $1", &[&before_us])
            .map(drop)
            .map_err(|e| err("forgetting idempotency records", e))
    }

    fn latest_snapshot(&mut self) -> Result<Option<StoredSnapshot<'_>>, StorageError> {
        self.reconnect_if_closed()?;
        let row = self
            .client
            .query_opt(
                "SELECT seq, image FROM snapshot ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .map_err(|e| err("reading the snapshot", e))?;
        // The server sends it whole; it is read from that one buffer.
        Ok(row.map(|r| {
            let bytes: Vec<u8> = r.get(1);
            StoredSnapshot {
                seq: r.get::<_, i64>(0) as u64,
                len: bytes.len() as u64,
                bytes: Box::new(std::io::Cursor::new(bytes)),
            }
        }))
    }

    fn snapshot_store(&self) -> Result<Option<Box<dyn SnapshotStore>>, StorageError> {
        Ok(Some(Box::new(PostgresSnapshots {
            url: self.url.clone(),
            client: None,
        })))
    }

    fn entry_reader(&self) -> Result<Option<Arc<dyn EntryReader>>, StorageError> {
        Ok(Some(Arc::new(PostgresReader {
            url: self.url.clone(),
            client: Mutex::new(None),
        })))
    }
}

/// Entries `after + 1 ..= upto` of the journal, in order; a gap is an
/// error, not a shorter answer.
fn read_entries(client: &mut Client, after: u64, upto: u64) -> Result<Vec<Logged>, StorageError> {
    let rows = client
        .query(
            "SELECT seq, at_us, audience, salt, entry, packed FROM journal
             WHERE seq > $1 AND seq <= $2 ORDER BY seq",
            &[&(after as i64), &(upto.min(i64::MAX as u64) as i64)],
        )
        .map_err(|e| err("reading the journal", e))?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let seq: i64 = r.get(0);
        let entry = match r.get::<_, Option<&[u8]>>(5) {
            Some(packed) => unpack_entry(seq, packed)?,
            None => r.get::<_, Option<String>>(4).unwrap_or_default(),
        };
        let row = Row {
            seq,
            at_us: r.get(1),
            audience: r.get(2),
            salt: r.get(3),
            entry,
        };
        out.push(from_row(after + i as u64 + 1, row)?);
    }
    Ok(out)
}

/// Reads committed entries back for the state's readers over a connection
/// of its own, opened when first needed (and again after it closed).
struct PostgresReader {
    url: String,
    client: Mutex<Option<Client>>,
}

impl EntryReader for PostgresReader {
    fn range(&self, after: u64, upto: u64) -> Result<Vec<Logged>, StorageError> {
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let open = slot.take().filter(|c| !c.is_closed());
        let client = slot.insert(match open {
            Some(c) => c,
            None => connect(&self.url)?,
        });
        read_entries(client, after, upto)
    }
}

/// Saves snapshots over a connection of its own, opened when first needed
/// (and again after it closed). Nodes share the table: each saves its own,
/// the last saved stays.
struct PostgresSnapshots {
    url: String,
    client: Option<Client>,
}

impl SnapshotStore for PostgresSnapshots {
    fn save(&mut self, seq: u64, image: &[u8]) -> Result<(), StorageError> {
        let open = self.client.take().filter(|c| !c.is_closed());
        let client = match open {
            Some(c) => c,
            None => connect(&self.url)?,
        };
        let client = self.client.insert(client);
        let mut tx = client
            .transaction()
            .map_err(|e| err("saving a snapshot", e))?;
        tx.execute(
            "INSERT INTO snapshot (seq, image) VALUES ($1, $2) ON CONFLICT (seq) DO UPDATE SET image = excluded.image",
            &[&(seq as i64), &image],
        )
        .map_err(|e| err("saving a snapshot", e))?;
        tx.execute("DELETE FROM snapshot WHERE seq <> $1", &[&(seq as i64)])
            .map_err(|e| err("saving a snapshot", e))?;
        tx.commit().map_err(|e| err("saving a snapshot", e))
    }
}
