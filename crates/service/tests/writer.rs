//! The writer against a rigged journal over the real SQLite one. A writer
//! that panics: the service must not go on serving a state that may be ahead
//! of its journal (the panic is real, in the writer thread, between evolving
//! a batch and committing it). A commit held up: requests are still checked
//! meanwhile.

use parley_service::{
    Actor, Clock, Command, IdempotencyRecord, Journal, Logged, Role, Service, ServiceError,
    StorageError, HOST,
};
use parley_store_sqlite::SqliteJournal;
use parley_wire::WireLimits;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// The real journal, which panics on an append once `fail` is set, and
/// holds one while `hold` is on.
struct Rigged {
    inner: SqliteJournal,
    fail: Arc<AtomicBool>,
    hold: Option<Hold>,
}

/// Holds the appends made while `on` is set until it is told to go on
/// (`go`), after saying it is holding one (`entered`).
struct Hold {
    on: Arc<AtomicBool>,
    entered: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
}

impl Journal for Rigged {
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
        if let Some(hold) = self.hold.as_ref().filter(|h| h.on.load(Ordering::SeqCst)) {
            hold.entered.send(()).unwrap();
            hold.go.recv().unwrap();
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
        let journal = Rigged {
            inner: SqliteJournal::open(&db).unwrap(),
            fail: Arc::clone(fail),
            hold: None,
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

/// What a request is checked and read against before it reaches the writer
/// (its token, its party's certificates, its line's vertical rules) follows
/// each commit, and is read while a commit is under way without waiting for
/// it (the writer holds the state's lock until its commit returns).
#[test]
fn requests_are_checked_against_each_commit_without_waiting_for_one() {
    let db = std::env::temp_dir().join(format!("parley-gate-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let clock: Clock = Arc::new(|| 1_795_305_600_000_000);
    let hold = Arc::new(AtomicBool::new(false));
    let (entered_tx, entered) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    let journal = Rigged {
        inner: SqliteJournal::open(&db).unwrap(),
        fail: Arc::new(AtomicBool::new(false)),
        hold: Some(Hold {
            on: Arc::clone(&hold),
            entered: entered_tx,
            go: go_rx,
        }),
    };
    let service = Service::open(journal, WireLimits::default(), clock, |_| {}).unwrap();
    for id in ["north", "south"] {
        run(&service, party(id)).unwrap();
    }
    let officer = Command::CreateOperator {
        party: "north".into(),
        name: "north officer".into(),
        role: Role::Officer,
        token_sha256: "token-of-north".into(),
    };
    run(&service, officer).unwrap();
    let north = service
        .authenticate("token-of-north")
        .expect("a new operator is let in");
    let rules = parley_service::LineRules {
        flight_level_margin_m: Some(150.0),
        ..Default::default()
    };
    let line = Command::CreateLine {
        line: "l".into(),
        name: "l".into(),
        parties: vec!["north".into(), "south".into()],
        rules,
    };
    run(&service, line).unwrap();
    assert_eq!(
        service
            .vertical_rules_for(&north, "l")
            .flight_level_margin_m,
        Some(150.0)
    );
    assert_eq!(
        service
            .vertical_rules_for(&north, "unknown")
            .flight_level_margin_m,
        None
    );
    assert!(service.certificate_admits("north", None));
    let bind = Command::BindCertificate {
        party: "north".into(),
        spki_sha256: "ab".repeat(32),
    };
    let admin = Command::CreateOperator {
        party: "north".into(),
        name: "north admin".into(),
        role: Role::Admin,
        token_sha256: "token-of-north-admin".into(),
    };
    run(&service, admin).unwrap();
    let north_admin = service.authenticate("token-of-north-admin").unwrap();
    let (tx, rx) = mpsc::channel();
    service.submit(north_admin, bind, None, Box::new(move |r| drop(tx.send(r))));
    rx.recv().unwrap().expect("bound");
    assert!(!service.certificate_admits("north", None));
    assert!(service.certificate_admits("north", Some(&"ab".repeat(32))));

    // A commit under way: the gate answers meanwhile, with what was committed.
    hold.store(true, Ordering::SeqCst);
    let (tx, revoked) = mpsc::channel();
    let revoke = Command::RevokeOperator {
        operator: north.operator.clone(),
    };
    service.submit(host(), revoke, None, Box::new(move |r| drop(tx.send(r))));
    entered.recv().unwrap();
    let (tx, read) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let answers = (
                service.authenticate("token-of-north").is_some(),
                service
                    .vertical_rules_for(&north, "l")
                    .flight_level_margin_m,
                service.certificate_admits("north", None),
            );
            tx.send(answers).unwrap();
        });
        // A read that waited for the commit would wait for ever: the commit
        // goes on only after this answer (or after a minute, to fail).
        let answers = read.recv_timeout(std::time::Duration::from_secs(60));
        hold.store(false, Ordering::SeqCst);
        go.send(()).unwrap();
        assert_eq!(
            answers.expect("read while a commit is under way"),
            (true, Some(150.0), false)
        );
    });
    revoked.recv().unwrap().expect("revoked");
    assert!(service.authenticate("token-of-north").is_none());
    service.shutdown();
    let _ = std::fs::remove_file(&db);
}
