//! Deadlines, escalation and line checks, with time driven by an injected clock
//! (no sleeping) and the real SQLite journal, so that a restart in the middle of
//! a countdown is a real restart.

use parley_service::{
    Actor, Category, Command, LineRules, MessageKind, Priority, Role, ServiceError, Volumes,
};
use parley_wire::WireLimits;
use serde_json::{json, Value};

mod common;

use common::{actor, host, World, MIN, S, T0};

/// Reading a line, its operators, and notifying, for these tests.
trait Lines {
    fn line(&self, party: &str) -> Value;
    fn operators(&self, party: &str, roles: &[&str]) -> Vec<String>;
    fn notify(&self) -> Value;
    /// Ticks at `t`: the entries logged, as the host sees them.
    fn ticked(&self, t: i64) -> Vec<Value>;
}

impl Lines for World {
    fn line(&self, party: &str) -> Value {
        let a = actor("x", party, Role::Observer);
        let now = self.now();
        serde_json::to_value(self.service().read(|s| s.line(&a, "l", now)).unwrap()).unwrap()
    }

    fn operators(&self, party: &str, roles: &[&str]) -> Vec<String> {
        let ops = self
            .service()
            .read(|s| s.operators(&host(), party))
            .unwrap();
        ops.iter()
            .filter(|o| roles.contains(&serde_json::to_value(o.role).unwrap().as_str().unwrap()))
            .map(|o| o.id.clone())
            .collect()
    }

    /// North's officer notifies an activity starting in two hours.
    fn notify(&self) -> Value {
        let volume = json!({"volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 38.0},
            "radius": {"value": 1000.0, "units": "M"}},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
            "time_start": {"value": "2026-11-22T02:00:00Z", "format": "RFC3339"},
            "time_end": {"value": "2026-11-22T03:00:00Z", "format": "RFC3339"}});
        let volumes = Volumes::parse(vec![volume], &WireLimits::default()).unwrap();
        self.run(
            &north(),
            Command::Notify {
                line: "l".into(),
                category: Category::Air,
                point_of_contact: "north ops".into(),
                volumes,
                dry_run: false,
            },
        )
        .unwrap()
    }

    fn ticked(&self, t: i64) -> Vec<Value> {
        self.tick(t).into_iter().map(|(entry, _)| entry).collect()
    }
}

fn north() -> Actor {
    actor("op-north", "north", Role::Officer)
}

fn south() -> Actor {
    actor("op-south", "south", Role::Officer)
}

/// Ack deadline 10 minutes: escalation steps 5 minutes apart; line checks
/// weekly, out of the way.
fn rules() -> LineRules {
    LineRules {
        ack_deadline_s: 600,
        line_check_interval_s: 7 * 86_400,
        ..LineRules::default()
    }
}

fn kinds(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e["kind"].as_str().unwrap() {
            "deadline_escalated" => format!(
                "{}:{}",
                e["step"].as_str().unwrap(),
                e["party"].as_str().unwrap()
            ),
            k => k.to_string(),
        })
        .collect()
}

#[test]
fn an_acknowledgment_in_time_meets_its_deadline() {
    let w = World::new(
        "ack-in-time",
        &["north", "south"],
        &["north", "south"],
        rules(),
    );
    w.at(T0 + MIN);
    let notice = w.notify();
    let deadlines = w.line("south")["deadlines"].clone();
    assert_eq!(deadlines.as_array().unwrap().len(), 1, "{deadlines}");
    assert_eq!(deadlines[0]["party"], "south");
    assert_eq!(deadlines[0]["due"], "2026-11-22T00:11:00Z");
    assert_eq!(deadlines[0]["overdue"], false);

    w.at(T0 + 10 * MIN);
    w.run(
        &south(),
        Command::Acknowledge {
            activity: notice["activity"].as_str().unwrap().into(),
            version: 1,
            content_sha256: notice["content_sha256"].as_str().unwrap().into(),
        },
    )
    .unwrap();
    assert_eq!(w.line("north")["deadlines"], json!([]));
    assert!(w.ticked(T0 + 60 * MIN).is_empty(), "nothing to escalate");
}

#[test]
fn a_second_acknowledgment_of_the_same_version_records_nothing() {
    let mut w = World::new(
        "ack-twice",
        &["north", "south"],
        &["north", "south"],
        rules(),
    );
    let notice = w.notify();
    let id = notice["activity"].as_str().unwrap().to_string();
    let ack = || Command::Acknowledge {
        activity: id.clone(),
        version: 1,
        content_sha256: notice["content_sha256"].as_str().unwrap().into(),
    };
    let first = w.run(&south(), ack()).unwrap();
    assert!(first.get("already_acknowledged").is_none(), "{first}");
    let size = w.service().read(|s| s.record_head().0);
    let second = w.run(&south(), ack()).unwrap();
    assert_eq!(second["already_acknowledged"], true, "{second}");
    assert_eq!(second["meaning"], "received, not approved");
    assert_eq!(
        w.service().read(|s| s.record_head().0),
        size,
        "no new entry"
    );
    let acks = |w: &World| {
        w.service().read(|s| s.activity(&host(), &id)).unwrap()["acknowledgments"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(acks(&w), 1);
    w.restart();
    assert_eq!(acks(&w), 1, "and after replaying the journal");
    assert!(
        w.ticked(T0 + 60 * MIN).is_empty(),
        "nothing owed, nothing escalates"
    );
}

#[test]
fn a_missed_acknowledgment_escalates_in_order_and_once() {
    let w = World::new(
        "ack-missed",
        &["north", "south"],
        &["north", "south"],
        rules(),
    );
    w.notify();
    assert!(w.ticked(T0 + 10 * MIN - 1).is_empty(), "not yet due");

    let reminder = w.ticked(T0 + 10 * MIN);
    assert_eq!(kinds(&reminder), ["reminder:south"]);
    // Every operator of south who may answer, not one named person; no observer.
    let mut to: Vec<String> = serde_json::from_value(reminder[0]["to"].clone()).unwrap();
    to.sort();
    assert_eq!(to, w.operators("south", &["officer", "admin"]));
    assert!(w.ticked(T0 + 10 * MIN + 1).is_empty(), "each step once");

    assert_eq!(kinds(&w.ticked(T0 + 15 * MIN)), ["overdue:south"]);
    let line = w.line("north");
    assert_eq!(
        line["deadlines"][0]["overdue"], true,
        "every member sees the mark: {line}"
    );
    assert_eq!(
        line["deadlines"][0]["escalation"],
        json!(["reminder", "overdue"])
    );

    let admins = w.ticked(T0 + 20 * MIN);
    assert_eq!(kinds(&admins), ["admins:south"]);
    assert_eq!(admins[0]["to"], json!(w.operators("south", &["admin"])));
    assert!(
        w.ticked(T0 + 600 * MIN).is_empty(),
        "no step after the admins"
    );
    // Audiences: the overdue mark is the line's, reminders are south's alone.
    let north_sees = w.service().read(|s| {
        s.events_after(&actor("op-n", "north", Role::Officer), 0, 1_000)
            .iter()
            .map(|l| l.entry.public_json())
            .collect::<Vec<_>>()
    });
    let north_steps: Vec<_> = kinds(&north_sees)
        .into_iter()
        .filter(|k| k.contains(':'))
        .collect();
    assert_eq!(north_steps, ["overdue:south"]);
}

#[test]
fn a_restart_in_the_middle_of_a_countdown_goes_on_where_it_was() {
    let mut w = World::new("restart", &["north", "south"], &["north", "south"], rules());
    w.notify();
    assert_eq!(kinds(&w.ticked(T0 + 10 * MIN)), ["reminder:south"]);
    w.restart();
    assert_eq!(
        w.line("south")["deadlines"][0]["escalation"],
        json!(["reminder"])
    );
    // Down through the overdue time: the next tick logs the overdue step only.
    assert_eq!(kinds(&w.ticked(T0 + 16 * MIN)), ["overdue:south"]);
    w.restart();
    assert_eq!(kinds(&w.ticked(T0 + 21 * MIN)), ["admins:south"]);
}

#[test]
fn an_amendment_replaces_the_deadline_of_the_earlier_version() {
    let w = World::new("amend", &["north", "south"], &["north", "south"], rules());
    let notice = w.notify();
    let activity = notice["activity"].as_str().unwrap().to_string();
    w.at(T0 + 5 * MIN);
    let volume = json!({"volume": {"outline_circle": {"center": {"lat": 36.0, "lng": 38.0},
        "radius": {"value": 500.0, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": "2026-11-22T02:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2026-11-22T03:00:00Z", "format": "RFC3339"}});
    w.run(
        &north(),
        Command::Amend {
            activity: activity.clone(),
            replaces_version: 1,
            category: None,
            point_of_contact: None,
            volumes: Volumes::parse(vec![volume], &WireLimits::default()).unwrap(),
            dry_run: false,
        },
    )
    .unwrap();
    let deadlines = w.line("south")["deadlines"].clone();
    assert_eq!(deadlines.as_array().unwrap().len(), 1, "{deadlines}");
    assert_eq!(deadlines[0]["owed"]["version"], 2);
    assert_eq!(deadlines[0]["due"], "2026-11-22T00:15:00Z");
    assert!(
        w.ticked(T0 + 10 * MIN).is_empty(),
        "version 1 is no longer owed"
    );
    assert_eq!(kinds(&w.ticked(T0 + 15 * MIN)), ["reminder:south"]);
}

#[test]
fn a_flash_message_reaches_every_operator_at_once_and_a_reply_ends_it() {
    let w = World::new("flash", &["north", "south"], &["north", "south"], rules());
    let sent = w
        .run(
            &north(),
            Command::SendMessage {
                line: "l".into(),
                message: MessageKind::Text,
                priority: Priority::Flash,
                text: "stop: conflict imminent".into(),
                deadline: None,
                references: None,
            },
        )
        .unwrap();
    let at_once = w.ticked(T0);
    assert_eq!(kinds(&at_once), ["reminder:south"]);
    assert_eq!(
        at_once[0]["to"],
        json!(w.operators("south", &["officer", "observer", "admin"]))
    );
    assert_eq!(
        w.line("north")["deadlines"][0]["due"],
        "2026-11-22T00:05:00Z"
    );
    assert_eq!(kinds(&w.ticked(T0 + 5 * MIN)), ["overdue:south"]);
    w.run(
        &south(),
        Command::SendMessage {
            line: "l".into(),
            message: MessageKind::Reply,
            priority: Priority::Flash,
            text: "holding".into(),
            deadline: None,
            references: Some(sent["seq"].as_u64().expect("the line sequence")),
        },
    )
    .unwrap();
    assert_eq!(w.line("north")["deadlines"], json!([]), "the reply met it");
    assert!(w.ticked(T0 + 60 * MIN).is_empty());
}

#[test]
fn a_request_is_owed_a_reply_by_its_own_deadline() {
    let w = World::new("request", &["north", "south"], &["north", "south"], rules());
    w.run(
        &north(),
        Command::SendMessage {
            line: "l".into(),
            message: MessageKind::Request,
            priority: Priority::Routine,
            text: "confirm the corridor".into(),
            deadline: Some("2026-11-23T00:00:00Z".into()),
            references: None,
        },
    )
    .unwrap();
    assert!(w.ticked(T0 + 24 * 60 * MIN - 1).is_empty());
    assert_eq!(
        w.line("south")["deadlines"][0]["due"],
        "2026-11-23T00:00:00Z"
    );
    assert_eq!(kinds(&w.ticked(T0 + 24 * 60 * MIN)), ["reminder:south"]);
}

/// Checks every 60 s, answered within 30 s.
fn checked() -> LineRules {
    LineRules {
        line_check_interval_s: 60,
        ..rules()
    }
}

fn checks_sent(entries: &[Value]) -> Vec<(String, String)> {
    entries
        .iter()
        .filter(|e| e["kind"] == "line_check_sent")
        .map(|e| {
            (
                e["party"].as_str().unwrap().to_string(),
                e["check"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn answer(w: &World, who: &Actor, check: &str) -> Result<Value, ServiceError> {
    w.run(
        who,
        Command::AnswerLineCheck {
            check: check.into(),
        },
    )
}

#[test]
fn a_line_goes_degraded_then_silent_and_comes_back() {
    let w = World::new(
        "checks",
        &["north", "south"],
        &["north", "south"],
        checked(),
    );
    assert_eq!(w.line("north")["operation"]["state"], "unchecked");
    assert!(w.ticked(T0 + 59 * S).is_empty());
    let mut round = T0 + 60 * S;
    let sent = checks_sent(&w.ticked(round));
    assert_eq!(
        sent.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["north", "south"]
    );

    // Any operator of the party answers, an observer too; not another party.
    let observer = actor("op-obs", "south", Role::Observer);
    assert!(matches!(
        answer(&w, &north(), &sent[1].1),
        Err(ServiceError::Forbidden(_))
    ));
    w.at(round + 2 * S);
    assert_eq!(
        answer(&w, &north(), &sent[0].1).unwrap()["round_trip_ms"],
        2_000
    );
    w.at(round + 3 * S);
    answer(&w, &observer, &sent[1].1).unwrap();
    let op = w.line("south")["operation"].clone();
    assert_eq!(op["state"], "in_operation", "{op}");
    assert_eq!(op["parties"][1]["round_trip_ms"], 3_000);

    // South stops answering: degraded after one miss, silent after three.
    for k in 1..=3 {
        round = T0 + (60 + 60 * k) * S;
        let sent = checks_sent(&w.ticked(round));
        assert_eq!(sent.len(), 2, "round {k}");
        w.at(round + S);
        answer(&w, &north(), &sent[0].1).unwrap();
        let missed = w.ticked(round + 30 * S);
        assert_eq!(kinds(&missed), ["line_check_missed"]);
        assert_eq!(missed[0]["party"], "south");
        // Too late now.
        w.at(round + 31 * S);
        assert!(matches!(
            answer(&w, &south(), &sent[1].1),
            Err(ServiceError::NotFound(_))
        ));
        let op = w.line("north")["operation"].clone();
        assert_eq!(
            op["state"],
            if k < 3 { "degraded" } else { "silent" },
            "round {k}: {op}"
        );
        assert_eq!(op["parties"][1]["missed_in_a_row"], k);
    }

    // Back in operation once south answers again; its misses stay in evidence.
    round = T0 + 300 * S;
    let sent = checks_sent(&w.ticked(round));
    w.at(round + S);
    answer(&w, &north(), &sent[0].1).unwrap();
    answer(&w, &south(), &sent[1].1).unwrap();
    let op = w.line("north")["operation"].clone();
    assert_eq!(op["state"], "in_operation", "{op}");
    assert_eq!(op["parties"][1]["misses_24h"], 3);
    assert_eq!(op["parties"][1]["missed_in_a_row"], 0);
}

#[test]
fn line_checks_survive_a_restart() {
    let mut w = World::new(
        "checks-restart",
        &["north", "south"],
        &["north", "south"],
        checked(),
    );
    let sent = checks_sent(&w.ticked(T0 + 60 * S));
    w.restart();
    // The pending checks are still pending, and answerable, after the restart.
    w.at(T0 + 61 * S);
    answer(&w, &north(), &sent[0].1).unwrap();
    w.restart();
    let missed = w.ticked(T0 + 90 * S);
    assert_eq!(kinds(&missed), ["line_check_missed"]);
    assert_eq!(w.line("north")["operation"]["state"], "degraded");
    // The next round is an interval after the last, not after the restart.
    assert_eq!(checks_sent(&w.ticked(T0 + 120 * S)).len(), 2);
}

#[test]
fn a_line_check_interval_below_the_minimum_is_refused_naming_the_field() {
    let w = World::new(
        "interval",
        &["north", "south"],
        &["north", "south"],
        rules(),
    );
    let refused = w.run(
        &host(),
        Command::CreateLine {
            line: "fast".into(),
            name: "too fast".into(),
            parties: vec!["north".into(), "south".into()],
            rules: LineRules {
                line_check_interval_s: 1,
                ..rules()
            },
        },
    );
    match refused {
        Err(ServiceError::Invalid { pointer, message }) => {
            assert_eq!(pointer, "/rules/line_check_interval_s");
            assert!(message.contains("from 10"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The clock steps back an hour and forward again (issue 21, point 5): the
/// record's times never go back, no escalation step and no line check fires
/// twice, and none is lost.
#[test]
fn a_clock_that_jumps_back_and_forth_neither_repeats_nor_loses_a_step() {
    let w = World::new(
        "clock-jumps",
        &["north", "south"],
        &["north", "south"],
        checked(),
    );
    w.notify();
    let times = || {
        w.service().read(|s| {
            s.logged_after(0)
                .iter()
                .map(|l| l.at_us)
                .collect::<Vec<_>>()
        })
    };
    // Forward past the acknowledgment's deadline and a line check round.
    let reminded = w.ticked(T0 + 10 * MIN);
    assert!(
        kinds(&reminded).contains(&"reminder:south".to_string()),
        "{reminded:?}"
    );
    assert!(!checks_sent(&reminded).is_empty());
    // Back an hour: nothing is due again, and what is logged keeps the last time.
    let back = w.ticked(T0 - 50 * MIN);
    assert!(back.is_empty(), "nothing fires twice: {back:?}");
    w.at(T0 - 50 * MIN);
    w.run(
        &north(),
        Command::SendMessage {
            line: "l".into(),
            message: MessageKind::Text,
            priority: Priority::Routine,
            text: "while the clock is behind".into(),
            deadline: None,
            references: None,
        },
    )
    .unwrap();
    let t = times();
    assert!(
        t.windows(2).all(|p| p[0] <= p[1]),
        "times never decrease: {t:?}"
    );
    assert_eq!(
        *t.last().unwrap(),
        T0 + 10 * MIN,
        "the last entry's time is kept"
    );
    // Forward again, to the next step: it fires once, at its time.
    let overdue = w.ticked(T0 + 15 * MIN);
    assert_eq!(
        kinds(&overdue)
            .iter()
            .filter(|k| k.starts_with("overdue"))
            .count(),
        1,
        "{overdue:?}"
    );
    assert!(w
        .ticked(T0 + 15 * MIN)
        .iter()
        .all(|e| e["kind"] != "deadline_escalated"));
    assert_eq!(*times().last().unwrap(), T0 + 15 * MIN);
}
