//! The register of talks: recording, confirming and disputing the record of a
//! talk, follow-ups as deadlines, who may see a talk, and relations between
//! parties. Time is an injected clock; the journal is the real SQLite store, so
//! a restart replays the talks.

use parley_service::{Actor, Command, LineRules, Role, ServiceError, TALK_GAP_DAYS};
use serde_json::{json, Value};

mod common;

use common::{actor, host, officer, World, DAY, MIN, T0};

/// Parties north, south and east; north and south share line `l` (line checks
/// weekly, out of the way), east is on no line with them.
fn world(name: &str) -> World {
    let rules = LineRules {
        line_check_interval_s: 7 * 86_400,
        ..LineRules::default()
    };
    World::new(
        &format!("talks-{name}"),
        &["north", "south", "east"],
        &["north", "south"],
        rules,
    )
}

/// Talks, for these tests.
trait Talks {
    fn talk(&self, a: &Actor, talk: &str) -> Result<Value, ServiceError>;
    fn relations(&self, party: &str) -> Vec<Value>;
    fn record(&self, a: &Actor, record: Value) -> Result<Value, ServiceError>;
    fn confirm(&self, a: &Actor, talk: &str, version: u64) -> Result<Value, ServiceError>;
}

impl Talks for World {
    fn talk(&self, a: &Actor, talk: &str) -> Result<Value, ServiceError> {
        let now = self.now();
        self.service().read(|s| s.talk(a, talk, now))
    }

    fn relations(&self, party: &str) -> Vec<Value> {
        let now = self.now();
        let views = self
            .service()
            .read(|s| s.talk_relations(&officer(party), now));
        views
            .into_iter()
            .map(|v| serde_json::to_value(v).unwrap())
            .collect()
    }

    fn record(&self, a: &Actor, record: Value) -> Result<Value, ServiceError> {
        self.run(a, Command::RecordTalk { record })
    }

    fn confirm(&self, a: &Actor, talk: &str, version: u64) -> Result<Value, ServiceError> {
        self.run(
            a,
            Command::ConfirmTalk {
                talk: talk.into(),
                version,
                content_sha256: None,
            },
        )
    }
}

/// A round of talks between north and south, with one follow-up owed by south
/// (due `due`).
fn round(date: &str, due: &str) -> Value {
    json!({
        "parties": ["north", "south"], "date": date, "level": "deputy chief of staff",
        "participants": [{"party": "north", "role": "under secretary for policy"},
                         {"party": "south", "role": "deputy chief of general staff"}],
        "venue": "neutral capital", "line": "l",
        "agenda": [
            {"item": "maritime safety", "outcome": "positions_differ",
             "positions": {"north": "freedom of navigation", "south": "notify first"}},
            {"item": "hotline tests", "outcome": "agreed"},
            {"item": "mechanisms", "outcome": "to_continue"},
        ],
        "follow_ups": [{"action": "send the draft hotline procedure", "owner": "south", "due": due}],
    })
}

fn id(v: &Value) -> String {
    v["talk"].as_str().unwrap().to_string()
}

#[test]
fn a_talk_is_confirmed_when_the_other_party_confirms_the_same_version() {
    let mut w = world("confirm");
    let t = w
        .record(
            &officer("north"),
            round("2026-11-20", "2026-12-01T00:00:00Z"),
        )
        .unwrap();
    assert_eq!(t["version"], 1);
    let talk = id(&t);
    let before = w.talk(&officer("south"), &talk).unwrap();
    assert_eq!(before["state"], "awaiting_confirmation");
    assert_eq!(before["awaiting"], json!(["south"]));
    assert_eq!(
        before["follow_ups"],
        json!([]),
        "no follow-ups before confirmation"
    );
    assert_eq!(before["record"]["agenda"][0]["outcome"], "positions_differ");

    // An observer cannot confirm; a stale read-back is refused.
    let observer = actor("op-so", "south", Role::Observer);
    assert!(matches!(
        w.confirm(&observer, &talk, 1),
        Err(ServiceError::Forbidden(_))
    ));
    let wrong = w.run(
        &officer("south"),
        Command::ConfirmTalk {
            talk: talk.clone(),
            version: 1,
            content_sha256: Some("00".into()),
        },
    );
    assert!(matches!(wrong, Err(ServiceError::Conflict(_))), "{wrong:?}");
    assert!(
        matches!(
            w.confirm(&officer("north"), &talk, 1),
            Err(ServiceError::Conflict(_))
        ),
        "north stands by its own version already"
    );

    let c = w.confirm(&officer("south"), &talk, 1).unwrap();
    assert_eq!(c["state"], "confirmed");
    w.restart();
    let after = w.talk(&officer("north"), &talk).unwrap();
    assert_eq!(after["state"], "confirmed", "{after}");
    assert_eq!(after["confirmed_version"], 1);
    assert_eq!(after["follow_ups"][0]["state"], "open");
    assert_eq!(after["follow_ups"][0]["owner"], "south");
    // The confirmation is an entry of the record, with the content's hash.
    assert_eq!(
        after["confirmations"][0]["content_sha256"],
        after["content_sha256"]
    );
    assert!(after["confirmations"][0]["journal_seq"].as_u64().is_some());
    assert!(matches!(
        w.confirm(&officer("north"), &talk, 1),
        Err(ServiceError::Conflict(_))
    ));
}

#[test]
fn where_the_parties_disagree_each_version_is_kept() {
    let w = world("dispute");
    let talk = id(&w
        .record(
            &officer("north"),
            round("2026-11-20", "2026-12-01T00:00:00Z"),
        )
        .unwrap());
    let mut theirs = round("2026-11-20", "2026-12-01T00:00:00Z");
    theirs["agenda"][1]["outcome"] = json!("to_continue");
    let v2 = w
        .run(
            &officer("south"),
            Command::ProposeTalkVersion {
                talk: talk.clone(),
                record: theirs.clone(),
            },
        )
        .unwrap();
    assert_eq!(v2["version"], 2);
    let t = w.talk(&officer("north"), &talk).unwrap();
    assert_eq!(t["state"], "disputed");
    assert_eq!(t["versions"].as_array().unwrap().len(), 2);
    assert_eq!(t["versions"][0]["stood_by"], json!(["north"]));
    assert_eq!(t["versions"][1]["stood_by"], json!(["south"]));
    assert_eq!(t["versions"][0]["record"]["agenda"][1]["outcome"], "agreed");
    assert_eq!(
        t["versions"][1]["record"]["agenda"][1]["outcome"],
        "to_continue"
    );

    // The same words again are not a new version; other parties are refused.
    let again = w.run(
        &officer("north"),
        Command::ProposeTalkVersion {
            talk: talk.clone(),
            record: theirs,
        },
    );
    assert!(matches!(again, Err(ServiceError::Conflict(_))), "{again:?}");
    let mut other_parties = round("2026-11-20", "2026-12-01T00:00:00Z");
    other_parties["parties"] = json!(["north", "south", "east"]);
    match w.run(
        &officer("south"),
        Command::ProposeTalkVersion {
            talk: talk.clone(),
            record: other_parties,
        },
    ) {
        Err(ServiceError::Invalid { pointer, .. }) => assert_eq!(pointer, "/parties"),
        other => panic!("{other:?}"),
    }

    // North accepts south's version: confirmed in version 2; version 1 stays.
    assert_eq!(
        w.confirm(&officer("north"), &talk, 2).unwrap()["state"],
        "confirmed"
    );
    let t = w.talk(&officer("south"), &talk).unwrap();
    assert_eq!(t["state"], "confirmed");
    assert_eq!(t["record"]["agenda"][1]["outcome"], "to_continue");
    assert_eq!(t["versions"].as_array().unwrap().len(), 2);
}

#[test]
fn an_overdue_follow_up_escalates_in_order_to_the_talks_parties_and_closing_meets_it() {
    let w = world("follow-up");
    // Due in 10 minutes from confirmation: steps 5 minutes apart.
    let talk = id(&w
        .record(
            &officer("north"),
            round("2026-11-21", "2026-11-22T00:10:00Z"),
        )
        .unwrap());
    w.confirm(&officer("south"), &talk, 1).unwrap();
    let deadlines = w.service().read(|s| s.deadlines(&officer("south"), T0));
    assert_eq!(deadlines.len(), 1, "{deadlines:?}");
    assert_eq!(
        serde_json::to_value(&deadlines[0].owed).unwrap(),
        json!({"kind": "follow_up", "talk": talk, "follow_up": 1})
    );
    assert!(
        w.service()
            .read(|s| s.deadlines(&officer("east"), T0))
            .is_empty(),
        "east is no party to the talk"
    );

    assert!(w.tick(T0 + 10 * MIN - 1).is_empty());
    let reminder = w.tick(T0 + 10 * MIN);
    assert_eq!(reminder.len(), 1);
    assert_eq!(reminder[0].0["step"], "reminder");
    assert_eq!(reminder[0].0["party"], "south");
    assert_eq!(reminder[0].1, ["south"]);
    let overdue = w.tick(T0 + 15 * MIN);
    assert_eq!(overdue[0].0["step"], "overdue");
    assert_eq!(
        overdue[0].1,
        ["north", "south"],
        "the talk's parties, nobody else"
    );
    let t = w.talk(&officer("north"), &talk).unwrap();
    assert_eq!(t["follow_ups"][0]["state"], "overdue");
    assert_eq!(
        t["follow_ups"][0]["escalation"],
        json!(["reminder", "overdue"])
    );

    // Only the owner closes it, with a note.
    let close = |a: &Actor, note: &str| {
        w.run(
            a,
            Command::CloseFollowUp {
                talk: talk.clone(),
                follow_up: 1,
                note: note.into(),
            },
        )
    };
    assert!(matches!(
        close(&officer("north"), "done"),
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        close(&officer("south"), " "),
        Err(ServiceError::Invalid { .. })
    ));
    close(&officer("south"), "procedure sent by the line").unwrap();
    assert!(matches!(
        close(&officer("south"), "again"),
        Err(ServiceError::Conflict(_))
    ));
    assert!(w.tick(T0 + 60 * MIN).is_empty(), "met: no admins step");
    let t = w.talk(&officer("north"), &talk).unwrap();
    assert_eq!(t["follow_ups"][0]["state"], "closed");
    assert_eq!(
        t["follow_ups"][0]["closure"]["note"],
        "procedure sent by the line"
    );
    assert!(w
        .service()
        .read(|s| s.deadlines(&officer("south"), T0 + 60 * MIN))
        .is_empty());
}

#[test]
fn a_third_party_cannot_see_or_touch_a_talk() {
    let w = world("visibility");
    let talk = id(&w
        .record(
            &officer("north"),
            round("2026-11-20", "2026-12-01T00:00:00Z"),
        )
        .unwrap());
    let east = officer("east");
    assert!(matches!(
        w.talk(&east, &talk),
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        w.confirm(&east, &talk, 1),
        Err(ServiceError::NotFound(_))
    ));
    assert!(w.service().read(|s| s.talks(&east)).is_empty());
    assert_eq!(w.service().read(|s| s.talks(&officer("south"))).len(), 1);
    let east_events = w.service().read(|s| s.events_after(&east, 0, 1_000).len());
    let all = w.service().read(|s| {
        s.events_after(&east, 0, 1_000)
            .iter()
            .any(|l| l.entry.public_json()["kind"] == "talk_recorded")
    });
    assert!(east_events > 0 && !all, "east's stream has no talk");
    assert!(
        w.relations("east").is_empty(),
        "east has no line or talk with anyone"
    );

    // The host's admins see the rest of the journal, but not the talks.
    w.confirm(&officer("south"), &talk, 1).unwrap();
    let host = host();
    assert!(matches!(
        w.talk(&host, &talk),
        Err(ServiceError::NotFound(_))
    ));
    assert!(w.service().read(|s| s.talks(&host)).is_empty());
    let seen: Vec<Value> = w.service().read(|s| {
        s.events_after(&host, 0, 1_000)
            .iter()
            .map(|l| l.entry.public_json())
            .collect()
    });
    assert!(seen.iter().any(|e| e["kind"] == "line_created"), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|e| e["kind"].as_str().unwrap().starts_with("talk")),
        "{seen:?}"
    );
    let deadlines = |a: &Actor| w.service().read(|s| s.deadlines(a, w.now()));
    assert_eq!(
        deadlines(&officer("south")).len(),
        1,
        "south owes the follow-up"
    );
    assert!(deadlines(&host).is_empty());
    // In the host's export of the record, the talk's entries are hashes only.
    let size = w.service().read(|s| s.record_head().0);
    let export = w.service().read(|s| s.export(&host, None, 0, size));
    let hidden = export
        .lines()
        .filter(|l| l.contains("\"leaf_hash\""))
        .count();
    assert_eq!(hidden, 2, "the talk and its confirmation: {export:?}");
    // The follow-up's escalation is the talk's parties' too.
    let of_talk = |e: &Value| e["line"].as_str().is_some_and(|l| l.starts_with("talk:"));
    let logged = w.tick(T0 + 30 * DAY);
    assert!(logged.iter().any(|(e, _)| of_talk(e)), "{logged:?}");
    let host_sees: Vec<Value> = w.service().read(|s| {
        s.events_after(&host, 0, 1_000)
            .iter()
            .map(|l| l.entry.public_json())
            .collect()
    });
    assert!(!host_sees.iter().any(of_talk), "{host_sees:?}");
}

#[test]
fn records_are_validated_with_pointers() {
    let w = world("validation");
    let cases = [
        (json!({"parties": ["north"]}), "/parties"),
        (json!({"parties": ["north", "nobody"]}), "/parties/1"),
        (json!({"parties": ["north", "north"]}), "/parties/1"),
        (
            json!({"parties": ["north", "south"], "date": "20 Nov"}),
            "/date",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2027-01-01"}),
            "/date",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20"}),
            "/level",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20", "level": "x"}),
            "/venue",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20", "level": "x", "venue": "v",
                "agenda": []}),
            "/agenda",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20", "level": "x", "venue": "v",
                "agenda": [{"item": "a", "outcome": "maybe"}]}),
            "/agenda/0/outcome",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20", "level": "x", "venue": "v",
                "agenda": [{"item": "a", "outcome": "agreed", "positions": {"east": "no"}}]}),
            "/agenda/0/positions/east",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20", "level": "x", "venue": "v",
                "agenda": [{"item": "a", "outcome": "agreed"}],
                "follow_ups": [{"action": "b", "owner": "south", "due": "soon"}]}),
            "/follow_ups/0/due",
        ),
        (
            json!({"parties": ["north", "south"], "date": "2026-11-20", "level": "x", "line": "other",
                "agenda": [{"item": "a", "outcome": "agreed"}]}),
            "/line",
        ),
        (
            json!({"parties": ["north", "south"], "colour": "red"}),
            "/colour",
        ),
    ];
    for (record, want) in cases {
        match w.record(&officer("north"), record.clone()) {
            Err(ServiceError::Invalid { pointer, message }) => {
                assert_eq!(pointer, want, "{record}: {message}")
            }
            other => panic!("{record}: {other:?}"),
        }
    }
    // Not a party to the talk it records; an observer; the host.
    let mut record = round("2026-11-20", "2026-12-01T00:00:00Z");
    record["line"] = Value::Null;
    assert!(matches!(
        w.record(&officer("east"), record.clone()),
        Err(ServiceError::Invalid { .. })
    ));
    assert!(matches!(
        w.record(&actor("op-no", "north", Role::Observer), record.clone()),
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        w.record(&host(), record),
        Err(ServiceError::Forbidden(_))
    ));
}

#[test]
fn relations_count_confirmed_talks_and_flag_a_long_silence() {
    let w = world("relations");
    // North and south share a line but never talked: flagged.
    let r = w.relations("north");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["party"], "south");
    assert_eq!(r[0]["flagged"], true);
    assert_eq!(r[0]["days_since_last_talk"], Value::Null);

    let old = id(&w
        .record(
            &officer("north"),
            round("2025-06-01", "2025-07-01T00:00:00Z"),
        )
        .unwrap());
    // Unconfirmed talks do not count.
    assert_eq!(w.relations("north")[0]["talks_last_365_days"], 0);
    assert_eq!(w.relations("north")[0]["unconfirmed_talks"], 1);
    w.confirm(&officer("south"), &old, 1).unwrap();
    let r = w.relations("south");
    assert_eq!(r[0]["party"], "north");
    assert_eq!(r[0]["last_talk"], "2025-06-01");
    assert_eq!(r[0]["days_since_last_talk"], 539);
    assert_eq!(r[0]["talks_last_365_days"], 0);
    assert_eq!(r[0]["open_follow_ups"], 1);
    assert_eq!(r[0]["flagged"], true, "{} days > {TALK_GAP_DAYS}", 539);

    // A talk with east: a new relation; and 365 days after it, not yet flagged.
    let mut with_east = round("2026-11-22", "2026-12-01T00:00:00Z");
    with_east["parties"] = json!(["north", "east"]);
    with_east["line"] = Value::Null;
    with_east["agenda"][0]["positions"] = json!({"east": "notify first"});
    with_east["participants"] = json!([{"party": "east", "role": "liaison officer"}]);
    with_east["follow_ups"] = json!([]);
    let t = id(&w.record(&officer("north"), with_east).unwrap());
    w.confirm(&officer("east"), &t, 1).unwrap();
    // The window is today and the 364 days before it: held 364 days ago, a
    // talk is in the last 365 days; held exactly 365 days ago, it is not.
    w.at(T0 + 364 * DAY);
    let r = w.relations("north");
    let east = r.iter().find(|v| v["party"] == "east").unwrap();
    assert_eq!(east["days_since_last_talk"], 364);
    assert_eq!(east["talks_last_365_days"], 1);
    assert_eq!(east["flagged"], false);
    w.at(T0 + TALK_GAP_DAYS * DAY);
    let r = w.relations("north");
    let east = r.iter().find(|v| v["party"] == "east").unwrap();
    assert_eq!(east["days_since_last_talk"], TALK_GAP_DAYS);
    assert_eq!(east["talks_last_365_days"], 0);
    assert_eq!(east["flagged"], false);
    w.at(T0 + (TALK_GAP_DAYS + 1) * DAY);
    let r = w.relations("north");
    let east = r.iter().find(|v| v["party"] == "east").unwrap();
    assert_eq!(east["flagged"], true);
    // East sees north only: it shares no line and no talk with south.
    let r = w.relations("east");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["party"], "north");

    // A deployment that wants talks every 30 days flags sooner.
    w.service().set_talk_gap_days(30);
    w.at(T0 + 30 * DAY);
    let east = &w.relations("east")[0];
    assert_eq!(
        (east["flagged"].clone(), east["flag_after_days"].clone()),
        (json!(false), json!(30))
    );
    w.at(T0 + 31 * DAY);
    assert_eq!(w.relations("east")[0]["flagged"], true);
}
