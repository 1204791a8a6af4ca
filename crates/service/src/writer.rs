//! The writer: one thread that takes every job waiting (up to
//! [`MAX_BATCH`]), decides and applies each in turn against the state, appends
//! all their entries in one transaction and only then answers (group commit).
//! A success answer therefore means durable, and one fsync serves many
//! writes. Readers never see an entry before it is durable: the writer holds
//! the state's write lock until the commit returns. Also here: idempotency
//! lookups, the batch's receipts, recovery after a failed commit, and the
//! minute's housekeeping (idempotency records forgotten, history out of the
//! index).

use crate::command::{Command, Signed};
use crate::entry::{IdempotencyRecord, Logged};
use crate::error::ServiceError;
use crate::gate::Gate;
use crate::hashing::new_salt;
use crate::journal::Journal;
use crate::model::{Actor, WriteOutcome};
use crate::receipt::Owed;
use crate::snapshot::{recover, Records, Restored, Snapshots};
use crate::state::State;
use parley_record::Signer;
use parley_wire::WireLimits;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Most commands committed together.
pub const MAX_BATCH: usize = 1_024;

/// How long an idempotency record is kept by default, hours: a retry within a
/// day gets the first answer; after that it is a new request.
pub const IDEMPOTENCY_WINDOW_H: i64 = 24;

/// How long an activity stays in memory and the conflict index after its
/// last window ended by default, hours (then it is retired: `state/history.rs`).
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
pub(crate) enum Work {
    Job(Box<Job>),
    Stop,
}

pub(crate) struct Job {
    pub(crate) actor: Actor,
    pub(crate) command: Command,
    pub(crate) idempotency: Option<Idempotency>,
    pub(crate) signed: Option<Signed>,
    pub(crate) reply: Reply,
}

pub(crate) struct Shared {
    pub(crate) state: RwLock<State>,
    /// What requests are checked against (`gate.rs`), apart from the state
    /// so that no request waits for the writer's commit.
    pub(crate) gate: RwLock<Gate>,
    pub(crate) limits: WireLimits,
    pub(crate) broken: AtomicBool,
    /// The writer panicked: the state may be ahead of the journal, so the
    /// service must serve nothing until a restart rebuilds it from the journal.
    pub(crate) stopped: AtomicBool,
    /// How long an idempotency record is kept, µs.
    pub(crate) idempotency_window_us: AtomicI64,
    /// How long after its last window ends an activity stays in the
    /// conflict index, µs.
    pub(crate) keep_ended_us: AtomicI64,
    pub(crate) clock: Clock,
    /// Signs the record's checkpoints; set by the adapter that keeps the key.
    pub(crate) signer: OnceLock<Signer>,
    /// The node's cosigner, derived from the signer once.
    pub(crate) cosigner: OnceLock<parley_record::Cosigner>,
    /// The writer's thread, until [`Service::shutdown`] joins it.
    pub(crate) writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The latest checkpoint cosigned by witnesses, if any witness is asked.
    pub(crate) witnessed: crate::witnessed::Slot,
    /// When snapshots are due (`snapshot/mod.rs`).
    pub(crate) snapshots: Arc<Snapshots>,
    /// How the state was built at the start.
    pub(crate) restored: Restored,
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
pub(crate) fn write_loop(
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
        let mut gate_changed = false;
        if shared.broken.load(Ordering::SeqCst) && recover(&mut state, &mut records, &mut journal) {
            shared.broken.store(false, Ordering::SeqCst);
            // The rebuilt state retires its history at this batch's housekeeping.
            last_forgotten = i64::MIN / 2;
            gate_changed = true;
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
                        gate_changed |= Gate::changed_by(&l.entry);
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
            if let Err(e) = journal.append(&logged, &new_records) {
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
        gate_changed |= logged.iter().any(|l| Gate::changed_by(&l.entry));
        if failed {
            // Readers wait on the state's lock, so none saw the batch: take it
            // back now if the journal can be read, else at the next batch
            // (the ticker makes one a second), taking no writes until then.
            new_records.clear();
            if recover(&mut state, &mut records, &mut journal) {
                shared.broken.store(false, Ordering::SeqCst);
                last_forgotten = i64::MIN / 2;
            }
        }
        if gate_changed {
            *shared.gate.write().unwrap_or_else(|e| e.into_inner()) = Gate::of(&state);
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
            state.retire_ended(now, shared.keep_ended_us.load(Ordering::SeqCst));
            if journal.forget_idempotency(before).is_ok() {
                last_forgotten = now;
            }
        }
        let last = state.last_seq();
        if !failed && begun.is_ok() {
            // Committed: older entries may leave memory (the store reads them back).
            state.forget_durable(last);
        }
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
