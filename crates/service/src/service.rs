//! The running service: the state behind a lock, one writer thread that decides
//! commands in order and commits them in groups, and the idempotency records.
//!
//! Group commit: the writer takes every job waiting (up to [`MAX_BATCH`]),
//! decides and applies each in turn, appends all their entries in one
//! transaction and only then answers. A success answer therefore means durable,
//! and one fsync serves many writes. Readers never see an entry before it is
//! durable: the writer holds the state's write lock until the commit returns.
//! If the storage fails, the memory may be ahead of the disk, so the service
//! refuses every later write and the process should stop (the journal is the
//! truth on the next start).

use crate::command::{Command, Signed};
use crate::entry::{Entry, IdempotencyRecord, Logged};
use crate::error::ServiceError;
use crate::hashing::new_salt;
use crate::journal::{Journal, StorageError};
use crate::model::{Actor, WriteOutcome};
use crate::receipt::Owed;
use crate::record::signed_checkpoint;
use crate::snapshot::{recover, replay, Records, Restored, Snapshots};
use crate::state::State;
use parley_record::{Hash, Signer};
use parley_wire::WireLimits;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

/// Most commands committed together.
pub const MAX_BATCH: usize = 1_024;

/// How long an idempotency record is kept by default, hours: a retry within a
/// day gets the first answer; after that it is a new request.
pub const IDEMPOTENCY_WINDOW_H: i64 = 24;

/// How long an activity stays in the conflict index after its last window
/// ended by default, hours.
pub const KEEP_ENDED_H: i64 = 24;

/// How often the writer forgets expired idempotency records (and takes
/// ended activities out of the conflict index), µs.
const FORGET_EVERY_US: i64 = 60_000_000;

/// A clock: microseconds since the Unix epoch. Injected so tests can drive time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64)
    })
}

/// A client's idempotency key and a hash of its request.
#[derive(Clone, Debug)]
pub struct Idempotency {
    /// The key the client chose.
    pub key: String,
    /// SHA-256 of the request (method, path, body), hex.
    pub request_sha256: String,
}

/// A write's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// Whether it made something new.
    pub outcome: WriteOutcome,
    /// The body.
    pub body: Value,
    /// This is the stored answer to an earlier request with the same key.
    pub replayed: bool,
}

/// Receives a write's outcome once it is durable (or refused).
pub type Reply = Box<dyn FnOnce(Result<Answer, ServiceError>) + Send>;

/// What the writer is sent: a job, or the word to stop once the jobs before
/// it are done.
enum Work {
    Job(Box<Job>),
    Stop,
}

struct Job {
    actor: Actor,
    command: Command,
    idempotency: Option<Idempotency>,
    signed: Option<Signed>,
    reply: Reply,
}

struct Shared {
    state: RwLock<State>,
    /// Unrevoked operators by token hash, apart from the state so that
    /// authenticating a request never waits for the writer's commit.
    tokens: RwLock<HashMap<String, Actor>>,
    limits: WireLimits,
    broken: AtomicBool,
    /// The writer panicked: the state may be ahead of the journal, so the
    /// service must serve nothing until a restart rebuilds it from the journal.
    stopped: AtomicBool,
    /// How long an idempotency record is kept, µs.
    idempotency_window_us: AtomicI64,
    /// How long after its last window ends an activity stays in the
    /// conflict index, µs.
    keep_ended_us: AtomicI64,
    clock: Clock,
    /// Signs the record's checkpoints; set by the adapter that keeps the key.
    signer: OnceLock<Signer>,
    /// The writer's thread, until [`Service::shutdown`] joins it.
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The latest checkpoint cosigned by witnesses, if any witness is asked.
    witnessed: crate::witnessed::Slot,
    /// When snapshots are due (`snapshot.rs`).
    snapshots: Arc<Snapshots>,
    /// How the state was built at the start.
    restored: Restored,
}

/// A handle to the running service; cheap to clone.
#[derive(Clone)]
pub struct Service {
    shared: Arc<Shared>,
    /// The writer runs while a handle holds this (the ticker holds it weakly).
    jobs: Arc<mpsc::Sender<Work>>,
}

/// Who ticks: the service itself, acting as the host.
fn system_actor() -> Actor {
    Actor {
        operator: "system".into(),
        party: crate::model::HOST.into(),
        role: crate::model::Role::Admin,
    }
}

impl Service {
    /// Replays `journal` and starts the writer. `on_commit` is called with the
    /// last journal position after every commit (to wake live streams).
    pub fn open(
        mut journal: impl Journal,
        limits: WireLimits,
        clock: Clock,
        on_commit: impl Fn(u64) + Send + 'static,
    ) -> Result<Service, StorageError> {
        let (mut state, records, restored) = replay(&mut journal, limits)?;
        // History leaves the index at once, not at the first batch.
        state.evict_ended(clock(), KEEP_ENDED_H * 3_600_000_000);
        let from = match restored {
            Restored::Snapshot { seq, .. } => seq,
            Restored::Replay { .. } => 0,
        };
        let snapshot_store = journal.snapshot_store()?;
        let shared = Arc::new(Shared {
            tokens: RwLock::new(state.tokens()),
            limits: state.limits().clone(),
            state: RwLock::new(state),
            broken: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            idempotency_window_us: AtomicI64::new(IDEMPOTENCY_WINDOW_H * 3_600_000_000),
            keep_ended_us: AtomicI64::new(KEEP_ENDED_H * 3_600_000_000),
            clock: Arc::clone(&clock),
            signer: OnceLock::new(),
            writer: Mutex::new(None),
            witnessed: Default::default(),
            snapshots: Arc::new(Snapshots::new(from, clock())),
            restored,
        });
        if let Some(store) = snapshot_store {
            let image = Arc::downgrade(&shared);
            let take = move || {
                let shared = image.upgrade()?;
                let state = shared.state.read().unwrap_or_else(|e| e.into_inner());
                Some((state.last_seq(), state.image_json()))
            };
            Snapshots::spawn(&shared.snapshots, store, take, Arc::clone(&clock))
                .map_err(|e| StorageError(format!("cannot start the snapshot thread: {e}")))?;
        }
        let (jobs, rx) = mpsc::channel::<Work>();
        let writer = Arc::clone(&shared);
        let watched = Arc::clone(&shared);
        let writer_thread = std::thread::Builder::new()
            .name("parley-writer".into())
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(move || {
                    write_loop(writer, journal, records, rx, clock, on_commit)
                });
                if std::panic::catch_unwind(run).is_err() {
                    // A panic may have left the state half evolved, ahead of
                    // what the journal holds: no one may read it again.
                    watched.stopped.store(true, Ordering::SeqCst);
                }
            })
            .map_err(|e| StorageError(format!("cannot start the writer: {e}")))?;
        *shared.writer.lock().unwrap_or_else(|e| e.into_inner()) = Some(writer_thread);
        Ok(Service {
            shared,
            jobs: Arc::new(jobs),
        })
    }

    /// Sets the key that signs the record's checkpoints (the adapter keeps it in
    /// its data directory). Only the first call counts.
    /// Signed statements must name the record by the signer's name.
    pub fn set_record_signer(&self, signer: Signer) {
        let mut state = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        let (_, skew_s) = state.signing();
        state.set_signing(signer.name(), skew_s);
        drop(state);
        let _ = self.shared.signer.set(signer);
    }

    /// Accepts signed statements within `seconds` of the clock
    /// ([`State::set_signing`]; default [`crate::SIGNATURE_SKEW_S`]).
    pub fn set_signature_skew_s(&self, seconds: i64) {
        let mut state = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        let (origin, _) = state.signing();
        state.set_signing(&origin, seconds);
    }

    /// Flags a relationship after `days` without a confirmed talk
    /// ([`State::set_talk_gap_days`]).
    pub fn set_talk_gap_days(&self, days: i64) {
        self.shared
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_talk_gap_days(days);
    }

    /// Keeps idempotency records `hours` (default [`IDEMPOTENCY_WINDOW_H`]):
    /// a retry within that time gets the first answer, a later one is a new
    /// request.
    pub fn set_idempotency_hours(&self, hours: i64) {
        self.shared
            .idempotency_window_us
            .store(hours * 3_600_000_000, Ordering::SeqCst);
    }

    /// Takes a snapshot of the state after `entries` entries or `seconds`
    /// seconds, whichever comes first (0 turns a trigger off; both 0: none).
    /// Defaults: [`crate::SNAPSHOT_EVERY_ENTRIES`], [`crate::SNAPSHOT_EVERY_S`].
    pub fn set_snapshots(&self, entries: u64, seconds: u64) {
        self.shared.snapshots.set_policy(entries, seconds);
    }

    /// Takes a snapshot of the state now and returns once it is saved, with
    /// its journal position (for a graceful stop, tests and benchmarks).
    pub fn take_snapshot(&self) -> Result<u64, StorageError> {
        self.shared.snapshots.take_now()
    }

    /// Snapshots saved since the start.
    pub fn snapshots_saved(&self) -> u64 {
        self.shared.snapshots.saved()
    }

    /// How the state was built at the start: from a snapshot and the
    /// journal's tail, or by replaying the whole journal (and why).
    pub fn restored(&self) -> &Restored {
        &self.shared.restored
    }

    /// Keeps an activity in the conflict index `hours` after its last window
    /// ended (default [`KEEP_ENDED_H`]); then only the store and the record
    /// hold it ([`State::evict_ended`]).
    pub fn set_keep_ended_hours(&self, hours: i64) {
        self.shared
            .keep_ended_us
            .store(hours.saturating_mul(3_600_000_000), Ordering::SeqCst);
    }

    /// Limits new protected sites ([`State::set_site_rules`]).
    pub fn set_site_rules(&self, rules: crate::SiteRules) {
        self.shared
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_site_rules(rules);
    }

    /// The verifier key of the record, as one line (`name+id+key`).
    pub fn record_key(&self) -> Result<String, ServiceError> {
        Ok(self.signer()?.verifier_key().to_string())
    }

    pub(crate) fn signer(&self) -> Result<&Signer, ServiceError> {
        self.shared
            .signer
            .get()
            .ok_or_else(|| ServiceError::Unavailable("the record has no signing key".into()))
    }

    /// The latest witnessed checkpoint (see [`Service::set_witnessed`]), or
    /// when there is none a signed checkpoint of the record as it is now.
    pub fn checkpoint(&self) -> Result<Value, ServiceError> {
        let (size, root) = match self.witnessed() {
            Some(w) => (w.size, w.root),
            None => self.read(|s| s.record_head()),
        };
        let mut answer = serde_json::json!({"size": size, "root": root.to_string()});
        self.add_signed_head(&mut answer, size, root)?;
        Ok(answer)
    }

    /// The record as it is now, signed now: its size, root and signed note
    /// (what is sent to witnesses).
    pub fn sign_head(&self) -> Result<(u64, Hash, String), ServiceError> {
        let (size, root) = self.read(|s| s.record_head());
        Ok((
            size,
            root,
            signed_checkpoint(self.signer()?, size, root, self.now()),
        ))
    }

    /// Keeps `cp` as the latest witnessed checkpoint (unless a larger one is
    /// kept): checkpoints and receipts are then served from it.
    pub fn set_witnessed(&self, cp: crate::WitnessedCheckpoint) {
        self.shared.witnessed.set(cp);
    }

    /// The latest witnessed checkpoint, if any.
    pub fn witnessed(&self) -> Option<Arc<crate::WitnessedCheckpoint>> {
        self.shared.witnessed.get()
    }

    /// Adds `checkpoint` (the tree of `size` entries with `root`, signed now)
    /// and `key` (the server's verifier key) to `answer`, an object.
    fn add_signed_head(
        &self,
        answer: &mut Value,
        size: u64,
        root: Hash,
    ) -> Result<(), ServiceError> {
        let signer = self.signer()?;
        match self
            .witnessed()
            .filter(|w| w.size == size && w.root == root)
        {
            Some(w) => w.add_to(answer, signer.verifier_key().to_string()),
            None => {
                answer["checkpoint"] =
                    Value::from(signed_checkpoint(signer, size, root, self.now()));
                answer["key"] = Value::from(signer.verifier_key().to_string());
            }
        }
        Ok(())
    }

    /// A receipt ("proof of notice") for entry `seq`, if `actor` may see it: the
    /// entry's leaf text, its inclusion proof and a signed checkpoint of the
    /// same tree, which `parley verify receipt` checks offline.
    pub fn receipt(&self, actor: &Actor, seq: u64) -> Result<Value, ServiceError> {
        // Against the witnessed checkpoint when it holds the entry.
        let witnessed = self.witnessed().filter(|w| w.size >= seq);
        let (mut receipt, size, root) = self.read(|s| {
            let (size, root) = witnessed
                .as_ref()
                .map_or_else(|| s.record_head(), |w| (w.size, w.root));
            s.inclusion(actor, seq, size).map(|r| (r, size, root))
        })?;
        self.add_signed_head(&mut receipt, size, root)?;
        Ok(receipt)
    }

    /// The first line of an export of the record: the signed checkpoint of the
    /// tree as it is now and the server's key, with that tree's size. The
    /// entries follow from [`State::export`], read a slice at a time up to
    /// that size.
    pub fn export_head(&self, line: Option<&str>) -> Result<(String, u64), ServiceError> {
        let (size, root) = self.read(|s| s.record_head());
        let mut head = serde_json::json!({"size": size, "line": line});
        self.add_signed_head(&mut head, size, root)?;
        Ok((format!("{head}\n"), size))
    }

    /// The service's clock, now (µs since the Unix epoch).
    pub fn now(&self) -> i64 {
        (self.shared.clock)()
    }

    /// Logs the escalation steps and line checks due now; `reply` gets the answer
    /// (`{"logged": n}`) once they are durable.
    pub fn tick(&self, reply: Reply) {
        self.submit(system_actor(), Command::Tick, None, reply);
    }

    /// Ticks every `every` on a thread of its own, until every other handle to
    /// the service is dropped.
    pub fn spawn_ticker(&self, every: Duration) -> std::io::Result<()> {
        let shared = Arc::downgrade(&self.shared);
        let jobs: Weak<mpsc::Sender<Work>> = Arc::downgrade(&self.jobs);
        std::thread::Builder::new()
            .name("parley-ticker".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                let (Some(shared), Some(jobs)) = (shared.upgrade(), jobs.upgrade()) else {
                    return;
                };
                Service { shared, jobs }.tick(Box::new(|_| {}));
            })
            .map(|_| ())
    }

    /// Queues a write; `reply` gets its outcome once it is durable.
    pub fn submit(
        &self,
        actor: Actor,
        command: Command,
        idempotency: Option<Idempotency>,
        reply: Reply,
    ) {
        self.submit_signed(actor, command, idempotency, None, reply);
    }

    /// [`Service::submit`] with the party's signature of the request, if any
    /// (see [`State::decide_signed`]).
    pub fn submit_signed(
        &self,
        actor: Actor,
        command: Command,
        idempotency: Option<Idempotency>,
        signed: Option<Signed>,
        reply: Reply,
    ) {
        if let Err(mpsc::SendError(Work::Job(job))) = self.jobs.send(Work::Job(Box::new(Job {
            actor,
            command,
            idempotency,
            signed,
            reply,
        }))) {
            (job.reply)(Err(ServiceError::Unavailable(
                "the writer has stopped".into(),
            )));
        }
    }

    /// Stops the writer once the writes sent before are done, and waits for
    /// its thread to end (the journal is closed then). Later writes are
    /// refused as unavailable. Returns at once when the writer has ended
    /// already (after a panic, say).
    pub fn shutdown(&self) {
        let _ = self.jobs.send(Work::Stop);
        let thread = self
            .shared
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Reads the committed state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let state = self.shared.state.read().unwrap_or_else(|e| e.into_inner());
        f(&state)
    }

    /// The operator with this token hash, if it exists and is not revoked.
    pub fn authenticate(&self, token_sha256: &str) -> Option<Actor> {
        let tokens = self.shared.tokens.read().unwrap_or_else(|e| e.into_inner());
        tokens.get(token_sha256).cloned()
    }

    /// The limits new volumes are validated against (see [`crate::Volumes::parse`]).
    pub fn limits(&self) -> &WireLimits {
        &self.shared.limits
    }

    /// Whether storage has failed (the service then refuses writes until it
    /// has read the journal again, which it tries at every batch).
    pub fn is_broken(&self) -> bool {
        self.shared.broken.load(Ordering::SeqCst)
    }

    /// Whether the writer has stopped on a panic: the state in memory may be
    /// ahead of the journal, so adapters must refuse every request (reads
    /// too) until the process is restarted and replays the journal.
    pub fn has_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::SeqCst)
    }
}

/// The time of the next entry: the clock, but never before the last entry,
/// so the record's times never go back when the clock does (a step back of
/// NTP, a wrong manual setting). Deadlines and line checks are decided at
/// this time too, so none fires twice. Said once each time the clock falls
/// behind.
fn not_before(clock_us: i64, last_us: i64, behind: &mut bool) -> i64 {
    if clock_us >= last_us {
        *behind = false;
        return clock_us;
    }
    if !*behind {
        eprintln!(
            "parley: the clock is {:.3} s behind the last entry; entries keep that entry's time until it catches up",
            (last_us - clock_us) as f64 / 1e6
        );
        *behind = true;
    }
    last_us
}

/// Whether an entry changes who may authenticate.
fn changes_operators(entry: &Entry) -> bool {
    matches!(
        entry,
        Entry::OperatorCreated { .. } | Entry::OperatorRevoked { .. }
    )
}

fn write_loop(
    shared: Arc<Shared>,
    mut journal: impl Journal,
    mut records: Records,
    rx: mpsc::Receiver<Work>,
    clock: Clock,
    on_commit: impl Fn(u64),
) {
    let mut last_forgotten = i64::MIN / 2;
    let mut clock_behind = false;
    let mut stop = false;
    while !stop {
        let Ok(Work::Job(first)) = rx.recv() else {
            break;
        };
        let mut batch = vec![*first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Work::Job(job)) => batch.push(*job),
                Ok(Work::Stop) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let mut state = shared.state.write().unwrap_or_else(|e| e.into_inner());
        let mut operators_changed = false;
        if shared.broken.load(Ordering::SeqCst) && recover(&mut state, &mut records, &mut journal) {
            shared.broken.store(false, Ordering::SeqCst);
            operators_changed = true;
        }
        // Another node may have written since: decide on the whole journal.
        let begun = if shared.broken.load(Ordering::SeqCst) {
            Err(ServiceError::Unavailable(
                "storage failed and the journal cannot be read again yet; the service takes no writes".into(),
            ))
        } else {
            journal
                .begin(state.last_seq())
                .map(|theirs| {
                    for l in theirs.entries {
                        operators_changed |= changes_operators(&l.entry);
                        state.evolve(l);
                    }
                    for r in theirs.records {
                        records.insert((r.operator.clone(), r.key.clone()), r);
                    }
                })
                .map_err(|e| ServiceError::Unavailable(format!("{e}; nothing was written")))
        };
        let first = state.last_seq();
        let mut new_records: Vec<IdempotencyRecord> = Vec::new();
        let mut answers: Vec<(Reply, Result<Answer, ServiceError>)> = Vec::new();
        let mut owed: Vec<Owed> = Vec::new();
        for job in batch {
            if let Err(e) = &begun {
                answers.push((job.reply, Err(e.clone())));
                continue;
            }
            let now = not_before(clock(), state.last_at_us(), &mut clock_behind);
            let window = shared.idempotency_window_us.load(Ordering::SeqCst);
            if let Some(idem) = &job.idempotency {
                let id = (job.actor.operator.clone(), idem.key.clone());
                let earlier = records
                    .get(&id)
                    .filter(|r| now - r.at_us < window)
                    .or_else(|| {
                        new_records
                            .iter()
                            .find(|r| r.operator == id.0 && r.key == id.1)
                    });
                if let Some(r) = earlier {
                    let outcome = if r.request_sha256 == idem.request_sha256 {
                        let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                        Ok(Answer {
                            outcome: r.outcome,
                            body,
                            replayed: true,
                        })
                    } else {
                        Err(ServiceError::invalid(
                            "",
                            format!(
                                "Idempotency-Key {} was used for a different request; use a new key",
                                idem.key
                            ),
                        ))
                    };
                    answers.push((job.reply, outcome));
                    continue;
                }
            }
            match state.decide_signed(&job.actor, &job.command, job.signed.as_ref(), now) {
                Ok(decision) => {
                    // The notice's or site's volumes were validated by the adapter:
                    // move them into the state rather than parse or copy them.
                    let dry_run = job.command.is_dry_run();
                    let ticked = matches!(job.command, Command::Tick);
                    let seq = state.last_seq() + 1;
                    let mut prepared = decision.volumes.or_else(|| job.command.into_volumes());
                    for (entry, audience) in decision.entries {
                        let l = Logged {
                            seq: state.last_seq() + 1,
                            at_us: now,
                            audience,
                            salt: Some(new_salt()),
                            entry,
                        };
                        state.evolve_with(l, prepared.take());
                    }
                    let record = job.idempotency.is_some().then_some(new_records.len());
                    if state.last_seq() >= seq && !ticked {
                        let answer = answers.len();
                        owed.push(Owed {
                            answer,
                            record,
                            seq,
                            actor: job.actor.clone(),
                        });
                    }
                    if let Some(idem) = job.idempotency.filter(|_| !dry_run) {
                        new_records.push(IdempotencyRecord {
                            operator: job.actor.operator.clone(),
                            key: idem.key,
                            request_sha256: idem.request_sha256,
                            outcome: decision.outcome,
                            body: decision.body.to_string(),
                            at_us: now,
                        });
                    }
                    answers.push((
                        job.reply,
                        Ok(Answer {
                            outcome: decision.outcome,
                            body: decision.body,
                            replayed: false,
                        }),
                    ));
                }
                Err(e) => answers.push((job.reply, Err(e))),
            }
        }
        if let Some(signer) = shared.signer.get().filter(|_| !owed.is_empty()) {
            // One signed checkpoint for the batch; each write's receipt in its
            // answer and in its idempotency record (a retry gets the same).
            let receipts = crate::receipt::sign_batch(&state, signer, clock(), &owed);
            for (o, receipt) in owed.iter().zip(receipts) {
                let Some(receipt) = receipt else { continue };
                if let (_, Ok(a)) = &mut answers[o.answer] {
                    if let Some(body) = a.body.as_object_mut() {
                        body.insert("receipt".into(), receipt);
                    }
                    if let Some(r) = o.record.and_then(|i| new_records.get_mut(i)) {
                        r.body = a.body.to_string();
                    }
                }
            }
        }
        let logged = state.logged_after(first);
        let mut failed = false;
        if begun.is_ok() {
            if let Err(e) = journal.append(logged, &new_records) {
                failed = true;
                shared.broken.store(true, Ordering::SeqCst);
                for (_, outcome) in answers.iter_mut() {
                    if outcome.is_ok() {
                        *outcome = Err(if e.is_full() {
                            // A full store rolls the transaction back: nothing was written.
                            ServiceError::StoreFull(format!(
                                "{}; the write was not made: retry with the same Idempotency-Key, writes resume by themselves once the store has room",
                                e.0
                            ))
                        } else {
                            // A lost answer to a commit leaves its outcome unknown;
                            // the Idempotency-Key makes the retry safe either way.
                            ServiceError::Unavailable(format!(
                                "{e}; the write may not have been made: retry with the same Idempotency-Key"
                            ))
                        });
                    }
                }
            }
        }
        operators_changed |= logged.iter().any(|l| changes_operators(&l.entry));
        if failed {
            // Readers wait on the state's lock, so none saw the batch: take it
            // back now if the journal can be read, else at the next batch
            // (the ticker makes one a second), taking no writes until then.
            new_records.clear();
            if recover(&mut state, &mut records, &mut journal) {
                shared.broken.store(false, Ordering::SeqCst);
            }
        }
        if operators_changed {
            *shared.tokens.write().unwrap_or_else(|e| e.into_inner()) = state.tokens();
        }
        for r in new_records {
            records.insert((r.operator.clone(), r.key.clone()), r);
        }
        let now = clock();
        if now - last_forgotten >= FORGET_EVERY_US && !failed {
            // Memory and store: records live a window, not for ever. A store
            // that cannot delete now tries again at the next round; the
            // window is also checked at every lookup.
            let before = now - shared.idempotency_window_us.load(Ordering::SeqCst);
            records.retain(|_, r| r.at_us >= before);
            state.evict_ended(now, shared.keep_ended_us.load(Ordering::SeqCst));
            if journal.forget_idempotency(before).is_ok() {
                last_forgotten = now;
            }
        }
        let last = state.last_seq();
        drop(state);
        if !failed {
            shared.snapshots.after_commit(last, clock());
        }
        on_commit(last);
        for (reply, outcome) in answers {
            reply(outcome);
        }
    }
}
