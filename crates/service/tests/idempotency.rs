//! Idempotency records live a window (24 hours by default), not for ever: a
//! retry within it gets the first answer, a later one is a new request, and
//! the store forgets them. Dry runs keep none. Time is the injected clock.

use parley_service::{
    Answer, Category, Command, Idempotency, Journal, LineRules, Priority, Volumes,
    IDEMPOTENCY_WINDOW_H,
};
use parley_store_sqlite::SqliteJournal;
use parley_wire::WireLimits;
use serde_json::json;
use std::sync::mpsc;

mod common;

use common::{officer, World, T0};

const HOUR: i64 = 3_600_000_000;

fn send(w: &World, key: &str, command: Command) -> Answer {
    let (tx, rx) = mpsc::channel();
    let idem = Idempotency {
        key: key.into(),
        request_sha256: format!("hash of {command:?}"),
    };
    w.service().submit(
        officer("north"),
        command,
        Some(idem),
        Box::new(move |r| tx.send(r).unwrap()),
    );
    rx.recv().unwrap().unwrap()
}

fn message() -> Command {
    Command::SendMessage {
        line: "l".into(),
        message: parley_service::MessageKind::Text,
        priority: Priority::Routine,
        text: "on the line".into(),
        deadline: None,
        references: None,
    }
}

fn stored_records(w: &World) -> usize {
    SqliteJournal::open(w.db())
        .unwrap()
        .load_idempotency()
        .unwrap()
        .len()
}

#[test]
fn a_retry_within_the_window_gets_the_first_answer_and_after_it_is_new() {
    let w = World::new(
        "idempotency-window",
        &["north", "south"],
        &["north", "south"],
        LineRules::default(),
    );
    let first = send(&w, "k-1", message());
    assert!(!first.replayed);
    send(&w, "k-0", message());
    assert_eq!(stored_records(&w), 2);
    w.at(T0 + (IDEMPOTENCY_WINDOW_H - 1) * HOUR);
    let again = send(&w, "k-1", message());
    assert!(again.replayed);
    assert_eq!(again.body, first.body);
    send(&w, "k-2", message());
    assert_eq!(stored_records(&w), 3);
    // Past the window the same key and request make a new message...
    w.at(T0 + (IDEMPOTENCY_WINDOW_H + 1) * HOUR);
    let later = send(&w, "k-1", message());
    assert!(!later.replayed);
    assert_ne!(later.body["seq"], first.body["seq"]);
    // ... and the store forgot k-0, out of its window: k-1 (made anew) and k-2 stay.
    assert_eq!(stored_records(&w), 2);
    // A deployment may keep them for less.
    w.service().set_idempotency_hours(1);
    w.at(T0 + (IDEMPOTENCY_WINDOW_H + 3) * HOUR);
    assert!(!send(&w, "k-1", message()).replayed);
}

#[test]
fn dry_runs_keep_no_idempotency_record() {
    let w = World::new(
        "idempotency-dry",
        &["north", "south"],
        &["north", "south"],
        LineRules::default(),
    );
    // Its window is on the injected clock's first day (T0): safe for ever, the
    // service reads no other clock.
    let notice = |dry_run: bool| {
        Command::Notify {
        line: "l".into(),
        category: Category::Air,
        point_of_contact: "ops".into(),
        volumes: Volumes::parse(
            vec![json!({"volume": {"outline_circle": {"center": {"lat": 1.0, "lng": 1.0}, "radius": {"value": 100, "units": "M"}},
                "altitude_lower": {"value": 0, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 10, "reference": "W84", "units": "M"}},
                "time_start": {"value": "2026-11-22T02:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2026-11-22T03:00:00Z", "format": "RFC3339"}})],
            &WireLimits::default(),
        )
        .unwrap(),
        dry_run,
    }
    };
    let dry = send(&w, "k-dry", notice(true));
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(stored_records(&w), 0);
    // The same key for the real notice: notified, not "used for another request".
    let real = send(&w, "k-dry", notice(false));
    assert_eq!(
        (real.outcome, real.replayed),
        (parley_service::WriteOutcome::Created, false)
    );
    assert_eq!(stored_records(&w), 1);
}
