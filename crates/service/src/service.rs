//! The running service: the state behind a lock, one writer thread that decides
//! commands in order and commits them in groups, and the idempotency records.
//!
//! The writer's batch loop is `writer.rs` (group commit). If the storage
//! fails, the memory may be ahead of the disk, so the writer rebuilds the
//! state from the journal at once and goes on (`recover`).

use crate::command::{Command, Signed};
use crate::error::ServiceError;
use crate::gate::Gate;
use crate::journal::{Journal, StorageError};
use crate::model::Actor;
use crate::record::signed_checkpoint;
use crate::snapshot::{replay, Restored, Snapshots, Taken};
use crate::state::State;
pub use crate::writer::{
    system_clock, Answer, Clock, Idempotency, Reply, IDEMPOTENCY_WINDOW_H, KEEP_ENDED_H, MAX_BATCH,
};
use crate::writer::{write_loop, Job, Shared, Work};
use parley_record::{Hash, Signer};
use parley_wire::{VerticalRules, WireLimits};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

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
        // History is retired by `set_keep_ended_hours` (at once) and the
        // writer's first batch: not here, before the deployment's keep time
        // is known (a retired activity does not come back).
        let (state, records, restored) = replay(&mut journal, limits)?;
        let from = match restored {
            Restored::Snapshot { seq, .. } => seq,
            Restored::Replay { .. } => 0,
        };
        let items = state.image_items();
        let snapshot_store = journal.snapshot_store()?;
        let shared = Arc::new(Shared {
            gate: RwLock::new(Gate::of(&state)),
            limits: state.limits().clone(),
            state: RwLock::new(state),
            broken: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            idempotency_window_us: AtomicI64::new(IDEMPOTENCY_WINDOW_H * 3_600_000_000),
            keep_ended_us: AtomicI64::new(KEEP_ENDED_H * 3_600_000_000),
            clock: Arc::clone(&clock),
            signer: OnceLock::new(),
            cosigner: OnceLock::new(),
            writer: Mutex::new(None),
            witnessed: Default::default(),
            snapshots: Arc::new(Snapshots::new(from, items, clock())),
            restored,
        });
        if let Some(store) = snapshot_store {
            let image = Arc::downgrade(&shared);
            let take = move || {
                let shared = image.upgrade()?;
                // Copies that share their parts with the state: the writer
                // waits for these, not for the JSON.
                let (seq, items, image, record) = {
                    let state = shared.state.read().unwrap_or_else(|e| e.into_inner());
                    let items = state.image_items();
                    (state.last_seq(), items, state.image(), state.record_copy())
                };
                Some(Taken {
                    seq,
                    items,
                    json: image.to_json(),
                    retired: image.retired_pair_bytes(),
                    leaves: record.level_bytes(0),
                    subtrees: record.level_bytes(parley_record::DENSE_LEVEL),
                })
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
        let _ = self.shared.cosigner.set(signer.cosigner());
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

    /// Keeps an activity in memory and the conflict index `hours` after its
    /// last window ended (default [`KEEP_ENDED_H`]); then it is retired: only
    /// the store and the record hold it ([`State::retire_ended`]). Retires
    /// what is due at once, so a start serves without it.
    pub fn set_keep_ended_hours(&self, hours: i64) {
        let keep_us = hours.saturating_mul(3_600_000_000);
        self.shared.keep_ended_us.store(keep_us, Ordering::SeqCst);
        let now = self.now();
        let mut state = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        state.retire_ended(now, keep_us);
    }

    /// Keeps the last `entries` journal entries in memory; older ones are
    /// read from the store when asked for ([`State::set_recent_entries`]).
    pub fn set_recent_entries(&self, entries: usize) {
        let mut state = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        state.set_recent_entries(entries);
        if !self.is_broken() {
            // The writer holds the lock until its commit: all is durable now.
            let last = state.last_seq();
            state.forget_durable(last);
        }
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

    /// This node's cosigner (derived from the record key once).
    pub(crate) fn cosigner(&self) -> Result<&parley_record::Cosigner, ServiceError> {
        self.shared
            .cosigner
            .get()
            .ok_or_else(|| ServiceError::Unavailable("the record has no signing key".into()))
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

    /// Logs the escalation steps, line checks and undelivered notices due
    /// now; `reply` gets the answer
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
        self.gate().operator(token_sha256)
    }

    /// Whether `party`'s operators are served on a connection whose client
    /// certificate is `spki_sha256` (`None`: no certificate): always when the
    /// party has bound none, else only with one of them.
    pub fn certificate_admits(&self, party: &str, spki_sha256: Option<&str>) -> bool {
        self.gate().certificate_admits(party, spki_sha256)
    }

    /// What `actor` may give in altitudes on `line`: its rules when the actor
    /// sees the line, the defaults otherwise (the writer refuses the notice
    /// then). For adapters, to read a notice's volumes with.
    pub fn vertical_rules_for(&self, actor: &Actor, line: &str) -> VerticalRules {
        self.gate().vertical_rules_for(actor, line)
    }

    /// [`Service::vertical_rules_for`] the line of `activity`. This one reads
    /// the state (an activity's line is not in the gate), so it waits for a
    /// commit under way.
    pub fn activity_vertical_rules_for(&self, actor: &Actor, activity: &str) -> VerticalRules {
        match self.read(|s| s.activity_line(activity)) {
            Some(line) => self.vertical_rules_for(actor, &line),
            None => VerticalRules::default(),
        }
    }

    fn gate(&self) -> std::sync::RwLockReadGuard<'_, Gate> {
        self.shared.gate.read().unwrap_or_else(|e| e.into_inner())
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
