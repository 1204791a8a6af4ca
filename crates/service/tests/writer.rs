//! A writer that panics: the service must not go on serving a state that may
//! be ahead of its journal. The panic is real (in the writer thread, between
//! evolving a batch and committing it), made by a journal that panics on its
//! next append; the store under it is the real SQLite journal.

use parley_service::{
    Actor, Clock, Command, IdempotencyRecord, Journal, Logged, Role, Service, ServiceError,
    StorageError, HOST,
};
use parley_store_sqlite::SqliteJournal;
use parley_wire::WireLimits;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// The real journal, which panics on an append once `fail` is set.
struct Panicking {
    inner: SqliteJournal,
    fail: Arc<AtomicBool>,
}

impl Journal for Panicking {
    fn load(&mut self) -> Result<Vec<Logged>, StorageError> {
        self.inner.load()
    }
    fn load_idempotency(&mut self) -> Result<Vec<IdempotencyRecord>, StorageError> {
        self.inner.load_idempotency()
    }
    fn append(&mut self, e: &[Logged], r: &[IdempotencyRecord]) -> Result<(), StorageError> {
        if self.fail.load(Ordering::SeqCst) && !e.is_empty() {
            panic!("an internal error in the writer");
        }
        self.inner.append(e, r)
    }
    fn forget_idempotency(&mut self, before_us: i64) -> Result<(), StorageError> {
        self.inner.forget_idempotency(before_us)
    }
}

fn host() -> Actor {
    Actor {
        operator: "op-host".into(),
        party: HOST.into(),
        role: Role::Admin,
    }
}

fn run(service: &Service, c: Command) -> Result<serde_json::Value, ServiceError> {
    let (tx, rx) = mpsc::channel();
    service.submit(host(), c, None, Box::new(move |r| drop(tx.send(r))));
    match rx.recv() {
        Ok(r) => r.map(|a| a.body),
        // The writer died holding the reply: no answer at all, never a success.
        Err(_) => Err(ServiceError::Unavailable("no answer".into())),
    }
}

fn party(id: &str) -> Command {
    Command::CreateParty {
        party: id.into(),
        name: id.into(),
    }
}

#[test]
fn a_writer_that_panics_stops_the_service_and_nothing_half_made_survives() {
    let db = std::env::temp_dir().join(format!("parley-writer-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let fail = Arc::new(AtomicBool::new(false));
    let clock: Clock = Arc::new(|| 1_795_305_600_000_000);
    let open = |fail: &Arc<AtomicBool>| {
        let journal = Panicking {
            inner: SqliteJournal::open(&db).unwrap(),
            fail: Arc::clone(fail),
        };
        Service::open(journal, WireLimits::default(), Arc::clone(&clock), |_| {}).unwrap()
    };
    let service = open(&fail);
    run(&service, party("north")).unwrap();
    assert!(!service.has_stopped());

    fail.store(true, Ordering::SeqCst);
    let r = run(&service, party("south"));
    assert!(matches!(r, Err(ServiceError::Unavailable(_))), "{r:?}");
    // The flag is set as the writer thread unwinds: join it.
    service.shutdown();
    assert!(service.has_stopped(), "the service never said it stopped");
    // Every later write is refused, never silently lost.
    let r = run(&service, party("east"));
    assert!(matches!(r, Err(ServiceError::Unavailable(_))), "{r:?}");

    // A restart rebuilds the state from the journal: south, never committed,
    // is not there; north is.
    drop(service);
    let service = open(&Arc::new(AtomicBool::new(false)));
    let parties: Vec<String> =
        service.read(|s| s.parties(&host()).iter().map(|p| p.id.clone()).collect());
    assert_eq!(parties, vec!["north".to_string()]);
    assert!(!service.has_stopped());
    drop(service);
    let _ = std::fs::remove_file(&db);
}

/// Shutting down finishes the writes sent before it (each answered, and
/// durable: a reopened store has them), joins the writer, and refuses what
/// comes after.
#[test]
fn shutdown_finishes_what_was_sent_and_refuses_the_rest() {
    let db = std::env::temp_dir().join(format!("parley-shutdown-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let clock: Clock = Arc::new(|| 1_795_305_600_000_000);
    let open = || {
        let journal = SqliteJournal::open(&db).unwrap();
        Service::open(journal, WireLimits::default(), Arc::clone(&clock), |_| {}).unwrap()
    };
    let service = open();
    let answers: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| {
            let (tx, rx) = mpsc::channel();
            service.submit(host(), party(id), None, Box::new(move |r| drop(tx.send(r))));
            rx
        })
        .collect();
    service.shutdown();
    for rx in answers {
        assert!(rx.recv().expect("an answer").is_ok());
    }
    let r = run(&service, party("late"));
    assert!(matches!(r, Err(ServiceError::Unavailable(_))), "{r:?}");
    drop(service);
    let service = open();
    let parties = service.read(|s| s.parties(&host()).len());
    assert_eq!(parties, 3);
    service.shutdown();
    let _ = std::fs::remove_file(&db);
}
