//! History leaves memory: an activity whose every window ended more than the
//! keep time ago (24 h by default) is retired by the writer (out of the
//! conflict index and the state), and a site no longer in force leaves the
//! index, then memory a day after its expiry; both are still read, exported
//! and proved, what is retired takes no change (409 naming the field), and a
//! start from a snapshot or from the whole journal answers alike.

use parley_engine::Timestamp;
use parley_record::Signer;
use parley_service::{Category, Command, LineRules, Restored, ServiceError, SiteKind, Volumes};
use parley_wire::{format_timestamp, WireLimits};
use serde_json::{json, Value};

mod common;

use common::{host, officer, reads, strip_ids, verify, World, DAY, MIN, T0};
const HOUR: i64 = 60 * MIN;

fn disc(from: i64, to: i64) -> Volumes {
    let at = |t: i64| format_timestamp(Timestamp(t));
    let v = json!({"volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 38.0}, "radius": {"value": 2000, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": at(from), "format": "RFC3339"},
        "time_end": {"value": at(to), "format": "RFC3339"}});
    // Some are notified after they ended, on purpose: confirmed as unusual.
    Volumes::parse(vec![v], &WireLimits::default())
        .unwrap()
        .with_unusual_confirmed(true)
}

fn notify(w: &World, party: &str, from: i64, to: i64, dry_run: bool) -> Value {
    let command = Command::Notify {
        line: "l".into(),
        category: Category::Air,
        point_of_contact: "ops".into(),
        volumes: disc(from, to),
        dry_run,
    };
    w.run(&officer(party), command).unwrap()
}

fn indexed(w: &World) -> usize {
    w.service().read(|s| s.indexed_volumes())
}

/// Activities in memory, and retired.
fn held(w: &World) -> (usize, usize) {
    w.service().read(|s| s.activities_held())
}

fn id(answer: &Value) -> String {
    answer["activity"].as_str().unwrap().to_string()
}

fn world(name: &str) -> World {
    let w = World::new(
        name,
        &["north", "south", "west"],
        &["north", "south"],
        LineRules::default(),
    );
    // Snapshots only when asked (the clock jumps days here).
    w.service().set_snapshots(0, 0);
    w
}

fn acknowledge(w: &World, party: &str, answer: &Value) -> Result<Value, ServiceError> {
    let ack = Command::Acknowledge {
        activity: id(answer),
        version: answer["version"].as_u64().unwrap(),
        content_sha256: answer["content_sha256"].as_str().unwrap().into(),
    };
    w.run(&officer(party), ack)
}

fn ended(result: Result<Value, ServiceError>, field: &str) {
    match result {
        Err(ServiceError::Ended { pointer, message }) => {
            assert_eq!(pointer, field);
            assert!(message.contains("ended more than 24 h ago"), "{message}");
        }
        other => panic!("{other:?}: refused as history, naming {field}"),
    }
}

#[test]
fn an_ended_activity_retires_and_stays_readable_exportable_and_provable() {
    let mut w = world("history-retire");
    let signer = || Signer::from_seed("parley.local/record", &[3; 32]).unwrap();
    w.service().set_record_signer(signer());
    let a = notify(&w, "north", T0 + HOUR, T0 + 3 * HOUR, false);
    let b = notify(&w, "south", T0 + 2 * HOUR, T0 + 4 * HOUR, false);
    assert_eq!(b["conflicts"].as_array().unwrap().len(), 1, "{b}");
    let conflict = b["conflicts"][0]["id"].as_str().unwrap().to_string();
    acknowledge(&w, "south", &a).unwrap();
    let site = Command::RegisterSite {
        name: "hospital".into(),
        site_kind: SiteKind::Static,
        volumes: disc(T0, T0 + 10 * DAY),
        expires: format_timestamp(Timestamp(T0 + 10 * DAY)),
        shared_with_parties: vec!["north".into()],
        shared_with_lines: vec![],
    };
    w.run(&officer("south"), site).unwrap();
    assert_eq!(indexed(&w), 3);
    let (ids, size) = ([id(&a), id(&b)], w.service().read(|s| s.last_seq()));
    let before = w.service().read(|s| {
        let as_each = |id: &String| {
            [host(), officer("north"), officer("south")].map(|r| s.activity(&r, id).unwrap())
        };
        (
            ids.iter().map(as_each).collect::<Vec<_>>(),
            s.export(&officer("north"), None, 0, size),
        )
    });
    // North owes an acknowledgment of B.
    let owed = |w: &World| {
        w.service()
            .read(|s| s.deadlines(&officer("north"), w.now()).len())
    };
    assert_eq!(owed(&w), 1);

    // 23 hours after A's end: both stay (the keep time is 24 hours).
    w.tick(T0 + 3 * HOUR + 23 * HOUR);
    assert_eq!((indexed(&w), held(&w)), (3, (2, 0)));
    // A day after B's end: both retire; the site stays until it expires.
    w.tick(T0 + 4 * HOUR + 25 * HOUR);
    assert_eq!((indexed(&w), held(&w)), (1, (0, 2)));
    assert_eq!(
        owed(&w),
        0,
        "an acknowledgment of history is no longer asked for"
    );

    // Read by id as before, by whoever saw it; exported and proved.
    let after = w.service().read(|s| {
        let as_each = |id: &String| {
            [host(), officer("north"), officer("south")].map(|r| s.activity(&r, id).unwrap())
        };
        (
            ids.iter().map(as_each).collect::<Vec<_>>(),
            s.export(&officer("north"), None, 0, size),
        )
    });
    assert_eq!(after, before);
    assert!(after.1.contains(&ids[0]), "the export holds it");
    let west = w.service().read(|s| s.activity(&officer("west"), &ids[0]));
    assert!(matches!(west, Err(ServiceError::NotFound(_))), "{west:?}");
    let listed = w.service().read(|s| s.activities(&host(), None).len());
    assert_eq!(listed, 0, "the list is of activities in memory");
    // Their conflict left memory with them: no longer listed, exported as
    // before, nothing left to coordinate.
    let conflicts = w.service().read(|s| s.conflicts(&host()));
    assert!(
        conflicts.iter().all(|c| c["id"] != conflict.as_str()),
        "{conflicts:?}"
    );
    assert!(after.1.contains(&conflict), "the export holds it");
    let coordinate = |party: &str| {
        let c = Command::Coordinate {
            conflict: conflict.clone(),
            note: "agreed".into(),
        };
        w.run(&officer(party), c)
    };
    match coordinate("north") {
        Err(ServiceError::Ended { pointer, message }) => {
            assert_eq!(pointer, "");
            assert!(message.contains("is history"), "{message}");
        }
        other => panic!("{other:?}: refused as history"),
    }
    let unseen = coordinate("west");
    assert!(
        matches!(unseen, Err(ServiceError::NotFound(_))),
        "{unseen:?}"
    );
    for read in &after.0 {
        for seq in [&read[0]["current"], &read[0]["acknowledgments"][0]]
            .iter()
            .filter_map(|v| v["journal_seq"].as_u64())
        {
            let receipt = w.service().receipt(&officer("south"), seq).unwrap();
            verify(&receipt, &signer());
        }
    }

    // It takes no change, with a refusal naming the field; others learn nothing.
    let amend = || Command::Amend {
        activity: ids[0].clone(),
        replaces_version: 1,
        category: None,
        point_of_contact: None,
        volumes: disc(T0 + 2 * DAY, T0 + 3 * DAY),
        dry_run: false,
    };
    ended(w.run(&officer("north"), amend()), "/replaces_version");
    let cancel = Command::Cancel {
        activity: ids[0].clone(),
        replaces_version: 1,
    };
    ended(w.run(&officer("north"), cancel), "/replaces_version");
    ended(acknowledge(&w, "north", &b), "/version");
    let unseen = w.run(&officer("west"), amend());
    assert!(
        matches!(unseen, Err(ServiceError::NotFound(_))),
        "{unseen:?}"
    );
    // A notice of the same place and time conflicts with nothing now.
    let late = notify(&w, "south", T0 + HOUR, T0 + 3 * HOUR, true);
    assert_eq!(late["conflicts"], json!([]), "{late}");

    // The site leaves the index once expired, and is still listed; a day
    // later it leaves memory, and its withdrawal is refused.
    w.tick(T0 + 10 * DAY + MIN);
    assert_eq!(indexed(&w), 0);
    let sites = w.service().read(|s| s.sites(&host()));
    assert_eq!(sites.len(), 1);
    let site = sites[0]["id"].as_str().unwrap().to_string();
    w.tick(T0 + 11 * DAY + HOUR);
    assert_eq!(w.service().read(|s| s.sites_held()), (0, 1));
    assert_eq!(w.service().read(|s| s.sites(&host()).len()), 0);
    let conflicts = w.service().read(|s| s.conflicts(&host()));
    assert_eq!(
        conflicts,
        Vec::<Value>::new(),
        "every side gone, every conflict"
    );
    let withdraw = || Command::WithdrawSite { site: site.clone() };
    match w.run(&officer("south"), withdraw()) {
        Err(ServiceError::Ended { pointer, message }) => {
            assert_eq!(pointer, "");
            assert!(message.contains("expired more than 24 h ago"), "{message}");
        }
        other => panic!("{other:?}: refused as history"),
    }
    let unseen = w.run(&officer("west"), withdraw());
    assert!(
        matches!(unseen, Err(ServiceError::NotFound(_))),
        "{unseen:?}"
    );

    // A start from a snapshot has them out already; a full replay retires
    // them before it serves.
    w.service().take_snapshot().unwrap();
    w.service().shutdown();
    w.restart();
    assert!(matches!(w.service().restored(), Restored::Snapshot { .. }));
    assert_eq!((indexed(&w), held(&w)), (0, (0, 2)));
    assert_eq!(w.service().read(|s| s.sites_held()), (0, 1));
    let conn = rusqlite::Connection::open(w.db()).unwrap();
    conn.execute("DELETE FROM snapshot", []).unwrap();
    w.service().shutdown();
    w.restart();
    assert_eq!(w.service().restored(), &Restored::Replay { refused: None });
    assert_eq!((indexed(&w), held(&w)), (0, (0, 2)));
    assert_eq!(w.service().read(|s| s.sites_held()), (0, 1));
}

/// A conflict check now: a dry run where A and B were, and where C is.
fn check(w: &World) -> Value {
    let mut answers = Vec::new();
    for (from, to) in [
        (T0 + HOUR, T0 + 3 * HOUR),
        (T0 + 9 * DAY, T0 + 9 * DAY + HOUR),
    ] {
        let mut answer = notify(w, "south", from, to, true);
        strip_ids(&mut answer);
        answers.push(answer);
    }
    json!(answers)
}

fn restart(w: &mut World) {
    w.service().shutdown();
    w.restart();
    w.service().set_snapshots(0, 0);
}

#[test]
fn a_snapshot_and_the_tail_give_what_a_full_replay_gives_with_history_retired() {
    let mut w = world("history-snapshots");
    let a = notify(&w, "north", T0 + HOUR, T0 + 3 * HOUR, false);
    let b = notify(&w, "south", T0 + 2 * HOUR, T0 + 4 * HOUR, false);
    let c = notify(&w, "north", T0 + 9 * DAY, T0 + 10 * DAY, false);
    acknowledge(&w, "south", &a).unwrap();
    // A snapshot of everything in memory; the retirement comes in its tail.
    let first = w.service().take_snapshot().unwrap();
    w.tick(T0 + 4 * HOUR + 25 * HOUR);
    assert_eq!(held(&w), (1, 2));
    let mut ids = vec![id(&a), id(&b), id(&c)];
    let before = reads(&w, &ids);
    restart(&mut w);
    assert!(matches!(w.service().restored(), Restored::Snapshot { seq, .. } if *seq == first));
    assert_eq!(held(&w), (1, 2));
    assert_eq!(
        reads(&w, &ids),
        before,
        "the snapshot's tail, retired at the start"
    );

    // A snapshot with them retired, and a tail after it.
    let second = w.service().take_snapshot().unwrap();
    let d = notify(&w, "south", T0 + 9 * DAY, T0 + 9 * DAY + 2 * HOUR, false);
    assert_eq!(d["conflicts"].as_array().unwrap().len(), 1, "{d}");
    ids.push(id(&d));
    let before = reads(&w, &ids);
    let checked = check(&w);
    restart(&mut w);
    assert_eq!(
        w.service().restored(),
        &Restored::Snapshot {
            seq: second,
            tail: before["last"].as_u64().unwrap() - second
        }
    );
    assert_eq!(reads(&w, &ids), before, "from the snapshot");
    assert_eq!(check(&w), checked);

    let conn = rusqlite::Connection::open(w.db()).unwrap();
    conn.execute("DELETE FROM snapshot", []).unwrap();
    restart(&mut w);
    assert_eq!(w.service().restored(), &Restored::Replay { refused: None });
    assert_eq!(held(&w), (2, 2));
    assert_eq!(reads(&w, &ids), before, "from the whole journal");
    assert_eq!(check(&w), checked);
    let found = |i: usize| checked[i]["conflicts"].as_array().map_or(0, Vec::len);
    assert_eq!(
        (found(0), found(1)),
        (0, 1),
        "C is live, A and B are not: {checked}"
    );
}

/// Retired activities are saved in a section of the snapshot of their own:
/// a start reads them back (with those retired since, merged in order, at
/// the next snapshot), as it reads an earlier build's snapshot that keeps
/// them in its JSON with a handle for every activity ever; a section out of
/// order is refused and the journal replayed.
#[test]
fn retired_activities_come_back_from_their_section_and_from_an_earlier_snapshot() {
    let mut w = world("history-sections");
    let a = notify(&w, "north", T0 + HOUR, T0 + 3 * HOUR, false);
    let b = notify(&w, "south", T0 + 2 * HOUR, T0 + 4 * HOUR, false);
    let c = notify(&w, "north", T0 + 2 * DAY, T0 + 2 * DAY + HOUR, false);
    acknowledge(&w, "south", &a).unwrap();
    w.tick(T0 + 29 * HOUR);
    assert_eq!(held(&w), (1, 2));
    let first = w.service().take_snapshot().unwrap();
    restart(&mut w);
    assert!(matches!(w.service().restored(), Restored::Snapshot { seq, .. } if *seq == first));
    assert_eq!(held(&w), (1, 2));
    // C retires after a start that read A and B from the section.
    w.tick(T0 + 3 * DAY + HOUR);
    assert_eq!(held(&w), (0, 3));
    let ids = vec![id(&a), id(&b), id(&c)];
    let before = reads(&w, &ids);
    let second = w.service().take_snapshot().unwrap();
    let from_snapshot = |w: &mut World| {
        restart(w);
        assert_eq!(
            w.service().restored(),
            &Restored::Snapshot {
                seq: second,
                tail: 0
            }
        );
        assert_eq!(held(w), (0, 3));
        assert_eq!(reads(w, &ids), before);
    };
    from_snapshot(&mut w);

    let conn = rusqlite::Connection::open(w.db()).unwrap();
    let stored: Vec<u8> = conn
        .query_row("SELECT image FROM snapshot", [], |r| r.get(0))
        .unwrap();
    let (image, retired, leaves) = common::parts(&stored);
    assert_eq!(
        retired.len(),
        16 * 4,
        "A's notice and acknowledgment, B's, C's"
    );
    let save = |bytes: Vec<u8>| {
        conn.execute("UPDATE snapshot SET image = ?1", [bytes])
            .unwrap();
    };
    // As earlier builds saved it: the image deflated and the leaves alone,
    // or the retired activities in the image too.
    save(common::previous(&image, &retired, &leaves));
    from_snapshot(&mut w);
    save(common::earlier(&image, &retired, &leaves));
    from_snapshot(&mut w);

    let mut shuffled = retired.clone();
    shuffled.rotate_left(16);
    save(common::joined(&image, &shuffled, &leaves));
    restart(&mut w);
    match w.service().restored() {
        Restored::Replay { refused: Some(why) } => assert!(why.contains("out of order"), "{why}"),
        other => panic!("{other:?}: the snapshot should have been refused"),
    }
    assert_eq!(held(&w), (0, 3));
    assert_eq!(reads(&w, &ids), before);
}
