//! Parley's witness: a C2SP tlog-witness that cosigns a log's checkpoint only
//! after checking that it extends the last one it cosigned for that log, and
//! keeps every checkpoint signed by a log that it refused, as evidence,
//! marked when it proves the log misbehaved.
//!
//! - [`Witness`]: the store (one SQLite file) and one writer thread that takes
//!   every request waiting, decides each in order
//!   ([`parley_record::check_add_checkpoint`]) and commits the batch in one
//!   transaction before answering: a cosignature is never returned before the
//!   new state is durable, and two requests for one log are never checked
//!   against the same state (no two inconsistent checkpoints are cosigned,
//!   however many arrive at once).
//! - [`router`]: the HTTP API: `POST /add-checkpoint` (tlog-witness, its
//!   status codes to the letter) and `GET /evidence` (JSON).
#![deny(missing_docs)]

mod http;

pub use http::router;

use parley_record::{
    check_add_checkpoint, AddCheckpoint, Cosigner, CosignerKey, Hash, Refusal, VerifierKey,
    Witnessed,
};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

/// Most requests decided and committed together.
const MAX_BATCH: usize = 1_024;

/// The witness's clock: seconds since the Unix epoch (cosignature timestamps).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock, in seconds.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// The store failed.
#[derive(Debug, thiserror::Error)]
#[error("witness store: {0}")]
pub struct StoreError(String);

fn err(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

/// The answer to an add-checkpoint request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200: the cosignature line(s).
    Cosigned(String),
    /// Refused, with the status tlog-witness gives ([`Refusal::status`]).
    Refused(Refusal),
    /// The store failed: nothing was cosigned (500).
    Failed(String),
}

struct Job {
    body: String,
    reply: tokio::sync::oneshot::Sender<Answer>,
}

/// A running witness: its store and its writer thread. Cheap to clone.
#[derive(Clone)]
pub struct Witness {
    jobs: mpsc::Sender<Job>,
    reader: Arc<Mutex<Connection>>,
    key: CosignerKey,
}

/// What the witness holds for one log: the head and the cosigned note.
struct Held {
    head: Witnessed,
    note: String,
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let denied = |e: std::io::Error| StoreError(format!("cannot open {}: {e}", path.display()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(denied)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(denied)?;
    let conn = Connection::open(path)
        .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(err)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS logs (
             origin TEXT PRIMARY KEY,
             size INTEGER NOT NULL,
             root TEXT NOT NULL,
             note TEXT NOT NULL,
             at_s INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS evidence (
             id INTEGER PRIMARY KEY,
             at_s INTEGER NOT NULL,
             origin TEXT NOT NULL,
             kind TEXT NOT NULL,
             status INTEGER NOT NULL,
             problem TEXT NOT NULL,
             request TEXT NOT NULL,
             witness_size INTEGER NOT NULL,
             witness_checkpoint TEXT NOT NULL,
             misbehaviour INTEGER NOT NULL
         );",
    )
    .map_err(err)?;
    Ok(conn)
}

fn load(conn: &Connection) -> Result<HashMap<String, Held>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT origin, size, root, note FROM logs")
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(err)?;
    let mut held = HashMap::new();
    for row in rows {
        let (origin, size, root, note) = row.map_err(err)?;
        let root = Hash::from_hex(&root)
            .ok_or_else(|| StoreError(format!("log {origin}: a stored root is not hex")))?;
        held.insert(
            origin,
            Held {
                head: Witnessed {
                    size: size as u64,
                    root,
                },
                note,
            },
        );
    }
    Ok(held)
}

impl Witness {
    /// Opens (or makes, mode 0600) the store at `path` and starts the writer.
    /// `logs` are the logs witnessed, each known by its key's name, which is
    /// its checkpoints' origin line.
    pub fn open(
        path: &Path,
        cosigner: Cosigner,
        logs: Vec<VerifierKey>,
        clock: Clock,
    ) -> Result<Witness, StoreError> {
        let conn = open_connection(path)?;
        let held = load(&conn)?;
        let reader = open_connection(path)?;
        let key = cosigner.cosigner_key();
        let logs: HashMap<String, VerifierKey> =
            logs.into_iter().map(|k| (k.name().to_owned(), k)).collect();
        let (jobs, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("parley-witness".into())
            .spawn(move || {
                Writer {
                    conn,
                    held,
                    logs,
                    cosigner,
                    clock,
                }
                .run(rx)
            })
            .map_err(|e| StoreError(format!("cannot start the writer: {e}")))?;
        Ok(Witness {
            jobs,
            reader: Arc::new(Mutex::new(reader)),
            key,
        })
    }

    /// The witness's public key (`name+id+base64(0x04 || key)`).
    pub fn cosigner_key(&self) -> &CosignerKey {
        &self.key
    }

    /// Decides an add-checkpoint request body; the answer comes once durable.
    pub async fn add_checkpoint(&self, body: String) -> Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.jobs.send(Job { body, reply }).is_err() {
            return Answer::Failed("the witness's writer has stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Answer::Failed("the witness's writer has stopped".into()))
    }

    /// Every refused checkpoint signed by its log, kept as evidence, oldest
    /// first: when, the origin, the kind of refusal, the status answered, the
    /// request as received (the checkpoint and its proof), the checkpoint the
    /// witness had cosigned then, and whether the two prove the log
    /// misbehaved (a split view, a rollback, a proof that fails) or only that
    /// the client was behind (a stale `old` size).
    pub fn evidence(&self) -> Result<Vec<Value>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare(
                "SELECT id, at_s, origin, kind, status, problem, request, witness_size,
                        witness_checkpoint, misbehaviour FROM evidence ORDER BY id",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(json!({
                    "id": r.get::<_, i64>(0)?,
                    "at_s": r.get::<_, i64>(1)?,
                    "origin": r.get::<_, String>(2)?,
                    "kind": r.get::<_, String>(3)?,
                    "status": r.get::<_, i64>(4)?,
                    "problem": r.get::<_, String>(5)?,
                    "request": r.get::<_, String>(6)?,
                    "witness_size": r.get::<_, i64>(7)?,
                    "witness_checkpoint": r.get::<_, String>(8)?,
                    "misbehaviour": r.get::<_, bool>(9)?,
                }))
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
}

struct Writer {
    conn: Connection,
    held: HashMap<String, Held>,
    logs: HashMap<String, VerifierKey>,
    cosigner: Cosigner,
    clock: Clock,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let answers = match self.decide_all(&batch) {
                Ok(answers) => answers,
                Err(e) => {
                    // The memory may be ahead of the store: read it again.
                    if let Ok(held) = load(&self.conn) {
                        self.held = held;
                    }
                    vec![Answer::Failed(e.to_string()); batch.len()]
                }
            };
            for (job, answer) in batch.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
    }

    /// Decides each request in order in one transaction, and commits.
    fn decide_all(&mut self, batch: &[Job]) -> Result<Vec<Answer>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let now = (self.clock)();
        let mut answers = Vec::with_capacity(batch.len());
        for job in batch {
            let request = match AddCheckpoint::parse(&job.body) {
                Ok(r) => r,
                Err(e) => {
                    answers.push(Answer::Refused(Refusal::BadRequest(e.to_string())));
                    continue;
                }
            };
            let origin = parley_record::TreeHead::origin_of(&request.note).unwrap_or_default();
            let held = self.held.get(origin);
            let decision =
                match check_add_checkpoint(&request, |o| self.logs.get(o), held.map(|h| &h.head)) {
                    Ok(d) => d,
                    Err(refusal) => {
                        answers.push(Answer::Refused(refusal));
                        continue;
                    }
                };
            let origin = decision.head.origin.clone();
            match decision.verdict {
                Ok(()) => {
                    let line = self.cosigner.cosign(&decision.body, now);
                    let note = format!("{}{line}", request.note);
                    tx.execute(
                        "INSERT INTO logs (origin, size, root, note, at_s) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, note = ?4, at_s = ?5",
                        params![
                            origin,
                            decision.head.size as i64,
                            decision.head.root.to_string(),
                            note,
                            now as i64
                        ],
                    )
                    .map_err(err)?;
                    self.held.insert(
                        origin,
                        Held {
                            head: Witnessed {
                                size: decision.head.size,
                                root: decision.head.root,
                            },
                            note,
                        },
                    );
                    answers.push(Answer::Cosigned(line));
                }
                Err(refusal) => {
                    let (size, cosigned) = held.map_or((0, ""), |h| (h.head.size, h.note.as_str()));
                    let kind = if decision.head.size < size {
                        "rollback"
                    } else {
                        refusal.kind()
                    };
                    tx.execute(
                        "INSERT INTO evidence (at_s, origin, kind, status, problem, request,
                             witness_size, witness_checkpoint, misbehaviour)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            now as i64,
                            origin,
                            kind,
                            refusal.status(),
                            refusal.to_string(),
                            job.body,
                            size as i64,
                            cosigned,
                            decision.evidence
                        ],
                    )
                    .map_err(err)?;
                    answers.push(Answer::Refused(refusal));
                }
            }
        }
        tx.commit().map_err(err)?;
        Ok(answers)
    }
}
