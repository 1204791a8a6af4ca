//! Snapshots on the real SQLite store: a start from the latest snapshot and
//! the journal's tail gives the state a full replay gives (every read, the
//! record's root, the next conflict check), and a snapshot that is damaged,
//! cut short, of another root or of a position the journal does not hold is
//! refused, the whole journal replayed instead.

use parley_engine::Timestamp;
use parley_service::{
    Actor, Category, Command, LineRules, MessageKind, Priority, Restored, SiteKind, Volumes,
};
use parley_wire::{format_timestamp, WireLimits};
use serde_json::{json, Value};

mod common;

use common::{host, joined, officer, parts, reads, strip_ids, World, MIN, T0};

fn at(t: i64) -> String {
    format_timestamp(Timestamp(t))
}

fn volume(lat: f64, lng: f64, polygon: bool) -> Value {
    let area = if polygon {
        let ring: Vec<Value> = (0..8)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::TAU / 8.0;
                json!({"lat": lat + 0.03 * a.cos(), "lng": lng + 0.04 * a.sin()})
            })
            .collect();
        json!({"outline_polygon": {"vertices": ring}})
    } else {
        json!({"outline_circle": {"center": {"lat": lat, "lng": lng},
            "radius": {"value": 2_500.5, "units": "M"}}})
    };
    let mut v = json!({"volume": area,
        "time_start": {"value": at(T0 + 60 * MIN), "format": "RFC3339"},
        "time_end": {"value": at(T0 + 180 * MIN), "format": "RFC3339"}});
    v["volume"]["altitude_lower"] = json!({"value": 100.25, "reference": "W84", "units": "M"});
    v["volume"]["altitude_upper"] = json!({"value": 3_000.75, "reference": "W84", "units": "M"});
    v
}

fn volumes(lat: f64, lng: f64, polygon: bool) -> Volumes {
    Volumes::parse(vec![volume(lat, lng, polygon)], &WireLimits::default()).unwrap()
}

fn notify(party: &str, lat: f64, polygon: bool, dry_run: bool) -> (Actor, Command) {
    let command = Command::Notify {
        line: "l".into(),
        category: Category::Air,
        point_of_contact: format!("{party} ops"),
        volumes: volumes(lat, 38.5, polygon),
        dry_run,
    };
    (officer(party), command)
}

/// Notices (conflicting ones among them), an amendment, a cancellation, an
/// acknowledgment, a request with its deadline, a site, a tick; returns the
/// number of entries logged.
fn history(w: &World, from: usize) {
    for i in from..from + 6 {
        let lat = 35.0 + i as f64 * 0.01;
        for (party, polygon) in [("north", i % 2 == 0), ("south", i % 3 == 0)] {
            let (a, c) = notify(party, lat, polygon, false);
            let answer = w.run(&a, c).unwrap();
            let id = answer["activity"].as_str().unwrap().to_string();
            match i % 6 {
                1 if party == "north" => {
                    let amend = Command::Amend {
                        activity: id,
                        replaces_version: 1,
                        category: None,
                        point_of_contact: None,
                        volumes: volumes(lat + 0.5, 38.6, true),
                        dry_run: false,
                    };
                    w.run(&a, amend).unwrap();
                }
                2 if party == "south" => {
                    let cancel = Command::Cancel {
                        activity: id,
                        replaces_version: 1,
                    };
                    w.run(&a, cancel).unwrap();
                }
                3 => {
                    let ack = Command::Acknowledge {
                        activity: id,
                        version: 1,
                        content_sha256: answer["content_sha256"].as_str().unwrap().into(),
                    };
                    let other = if party == "north" { "south" } else { "north" };
                    w.run(&officer(other), ack).unwrap();
                }
                _ => {}
            }
        }
    }
    let request = Command::SendMessage {
        line: "l".into(),
        message: MessageKind::Request,
        priority: Priority::Routine,
        text: format!("confirm the corridor ({from})"),
        deadline: Some(at(T0 + 24 * 60 * MIN)),
        references: None,
    };
    w.run(&officer("north"), request).unwrap();
    let site = Command::RegisterSite {
        name: format!("hospital {from}"),
        site_kind: SiteKind::Static,
        volumes: volumes(35.02, 38.5, false),
        expires: at(T0 + 10 * 24 * 60 * MIN),
        shared_with_parties: vec!["north".into()],
        shared_with_lines: vec![],
    };
    w.run(&officer("south"), site).unwrap();
}

/// A conflict check now (a dry run against every activity), ids left out
/// (they are drawn at random).
fn check(w: &World) -> Value {
    let mut answers = Vec::new();
    for (lat, polygon) in [(35.02, true), (35.03, false), (35.51, true)] {
        let (a, c) = notify("south", lat, polygon, true);
        let mut answer = w.run(&a, c).unwrap();
        strip_ids(&mut answer);
        answers.push(answer);
    }
    json!(answers)
}

fn world(name: &str) -> World {
    let w = World::new(
        name,
        &["north", "south", "west"],
        &["north", "south"],
        LineRules::default(),
    );
    w.service().set_snapshots(0, 0);
    w
}

fn restart(w: &mut World) {
    w.service().shutdown();
    w.restart();
    w.service().set_snapshots(0, 0);
}

fn sql(w: &World, statement: &str, image: Option<&[u8]>) {
    let conn = rusqlite::Connection::open(w.db()).unwrap();
    match image {
        Some(bytes) => conn.execute(statement, [bytes]).unwrap(),
        None => conn.execute(statement, []).unwrap(),
    };
}

fn stored_image(w: &World) -> (i64, Vec<u8>) {
    let conn = rusqlite::Connection::open(w.db()).unwrap();
    conn.query_row("SELECT seq, image FROM snapshot", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

#[test]
fn a_snapshot_and_the_tail_give_what_a_full_replay_gives() {
    let mut w = world("snapshot-tail");
    history(&w, 0);
    let seq = w.service().take_snapshot().expect("snapshot saved");
    assert_eq!(seq, w.service().read(|s| s.last_seq()));
    history(&w, 6);
    w.tick(T0 + 5 * MIN);
    let before = reads(&w, &[]);
    let last = before["last"].as_u64().unwrap();

    restart(&mut w);
    assert_eq!(
        w.service().restored(),
        &Restored::Snapshot {
            seq,
            tail: last - seq
        }
    );
    let from_snapshot = reads(&w, &[]);
    assert_eq!(from_snapshot, before, "the same state from the snapshot");
    let checked = check(&w);

    // The same journal without the snapshot: a full replay.
    sql(&w, "DELETE FROM snapshot", None);
    restart(&mut w);
    assert_eq!(w.service().restored(), &Restored::Replay { refused: None });
    assert_eq!(reads(&w, &[]), before, "the same state from the journal");
    assert_eq!(check(&w), checked, "the same conflicts found after both");
    let conflicts = checked[0]["conflicts"].as_array().map_or(0, Vec::len);
    assert!(conflicts > 0, "the check finds conflicts: {checked}");

    // Writes go on after a start from a snapshot, and the next start agrees.
    let seq = w.service().take_snapshot().unwrap();
    restart(&mut w);
    assert!(matches!(
        w.service().restored(),
        Restored::Snapshot { tail: 0, .. }
    ));
    history(&w, 12);
    let after = reads(&w, &[]);
    restart(&mut w);
    assert_eq!(
        w.service().restored(),
        &Restored::Snapshot {
            seq,
            tail: after["last"].as_u64().unwrap() - seq
        }
    );
    assert_eq!(reads(&w, &[]), after);
}

#[test]
fn entries_read_back_from_the_store_read_as_entries_in_memory() {
    let mut w = world("snapshot-store-reads");
    history(&w, 0);
    history(&w, 6);
    w.tick(T0 + 5 * MIN);
    let in_memory = reads(&w, &[]);
    let checked = check(&w);
    // All but the last two entries leave memory: every read comes from the store.
    w.service().set_recent_entries(2);
    let held = w.service().read(|s| s.entries_in_memory());
    assert!(held <= 2, "{held} entries still in memory");
    assert_eq!(reads(&w, &[]), in_memory, "the same reads from the store");
    assert_eq!(check(&w), checked, "the same conflict check");
    // Event streams page through the store a few entries at a time and
    // find what one long look finds.
    for a in [host(), officer("north"), officer("west")] {
        w.service().read(|s| {
            let whole: Vec<u64> = s
                .events_after(&a, 0, 10_000)
                .iter()
                .map(|l| l.seq)
                .collect();
            let (mut paged, mut cursor) = (Vec::new(), 0);
            while cursor < s.last_seq() {
                let (page, scanned) = s.events_page(&a, cursor, 2, 3);
                assert!(scanned > cursor, "a page moves on");
                cursor = page.last().map_or(scanned, |l| l.seq);
                paged.extend(page.iter().map(|l| l.seq));
            }
            assert_eq!(paged, whole);
        });
    }

    // Writes that decide on entries no longer in memory (an amendment and
    // a cancellation of old activities, replies) go on; a full replay and
    // a snapshot with its tail, all in memory, then agree.
    history(&w, 12);
    assert!(w.service().read(|s| s.entries_in_memory()) <= 4);
    let from_store = reads(&w, &[]);
    let seq = w.service().take_snapshot().unwrap();
    history(&w, 18);
    let later = reads(&w, &[]);
    restart(&mut w);
    assert!(matches!(w.service().restored(), Restored::Snapshot { seq: s, .. } if *s == seq));
    assert_eq!(reads(&w, &[]), later, "snapshot and tail");
    sql(&w, "DELETE FROM snapshot", None);
    restart(&mut w);
    assert_eq!(w.service().restored(), &Restored::Replay { refused: None });
    let replayed = reads(&w, &[]);
    assert_eq!(replayed, later, "full replay");
    assert_ne!(from_store, later);
}

#[test]
fn a_bad_snapshot_is_refused_and_the_journal_replayed() {
    let mut w = world("snapshot-bad");
    history(&w, 0);
    let seq = w.service().take_snapshot().unwrap();
    history(&w, 6);
    let before = reads(&w, &[]);
    let (row, image) = stored_image(&w);
    assert_eq!(row as u64, seq);

    let refused = |w: &World, why: &str| match w.service().restored() {
        Restored::Replay { refused: Some(r) } => {
            assert!(r.contains(why), "{r} should say {why}");
        }
        other => panic!("{other:?}: the snapshot should have been refused ({why})"),
    };
    // Damaged: one byte changed, in its image, its leaves or its
    // subtrees (its checksum finds it out).
    for at in [60, image.len() / 2, image.len() - 10] {
        let mut damaged = image.clone();
        damaged[at] ^= 0x5a;
        sql(&w, "UPDATE snapshot SET image = ?1", Some(&damaged));
        restart(&mut w);
        refused(&w, "checksum does not match");
        assert_eq!(reads(&w, &[]), before);
    }

    // Cut short, as a write stopped half way would leave it.
    sql(
        &w,
        "UPDATE snapshot SET image = ?1",
        Some(&image[..image.len() / 2]),
    );
    restart(&mut w);
    refused(&w, "cut short");
    assert_eq!(reads(&w, &[]), before);
    // ... or as an earlier build saved it (the image alone).
    let (mut parsed, retired, leaves) = parts(&image);
    let compressed =
        |v: &Value| miniz_oxide::deflate::compress_to_vec_zlib(&serde_json::to_vec(v).unwrap(), 3);
    let old = compressed(&parsed);
    sql(
        &w,
        "UPDATE snapshot SET image = ?1",
        Some(&old[..old.len() / 2]),
    );
    restart(&mut w);
    refused(&w, "does not decompress");
    assert_eq!(reads(&w, &[]), before);

    // Whole, but of another record: its root is not the journal's (with
    // the leaves and subtrees it carries, with its leaves only, and
    // without: as earlier builds saved it).
    parsed["root"] = json!("00".repeat(32));
    for other in [
        joined(&parsed, &retired, &leaves),
        common::previous(&parsed, &retired, &leaves),
        common::earlier(&parsed, &retired, &leaves),
        compressed(&parsed),
    ] {
        sql(&w, "UPDATE snapshot SET image = ?1", Some(&other));
        restart(&mut w);
        refused(&w, "is not the journal's");
        assert_eq!(reads(&w, &[]), before);
    }
    // Its leaves and the journal's differ (another journal's snapshot).
    parsed["root"] = json!(before["root"]);
    let mut changed = leaves.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    sql(
        &w,
        "UPDATE snapshot SET image = ?1",
        Some(&joined(&parsed, &retired, &changed)),
    );
    restart(&mut w);
    refused(&w, "is not the journal's");
    assert_eq!(reads(&w, &[]), before);
    // Its subtrees are not its leaves' (its checksum made to fit): the
    // root they give is not the journal's.
    let mut other = joined(&parsed, &retired, &leaves);
    let subtree = other.len() - 4 - 32;
    other[subtree] ^= 1;
    let crc_at = other.len() - 4;
    let crc = crc32fast::hash(&other[common::WITH_SUBTREES.len()..crc_at]);
    other[crc_at..].copy_from_slice(&crc.to_be_bytes());
    sql(&w, "UPDATE snapshot SET image = ?1", Some(&other));
    restart(&mut w);
    refused(&w, "is not the journal's");
    assert_eq!(reads(&w, &[]), before);

    // A leaf short of its position.
    let short = joined(&parsed, &retired, &leaves[..leaves.len() - 32]);
    sql(&w, "UPDATE snapshot SET image = ?1", Some(&short));
    restart(&mut w);
    refused(&w, "leaves for");
    assert_eq!(reads(&w, &[]), before);

    // Of a position the journal does not hold.
    let beyond_seq = before["last"].as_u64().unwrap() + 5;
    parsed["seq"] = json!(beyond_seq);
    let mut padded = leaves.clone();
    padded.resize(beyond_seq as usize * 32, 7);
    let beyond = joined(&parsed, &retired, &padded);
    sql(&w, "UPDATE snapshot SET image = ?1", Some(&beyond));
    sql(
        &w,
        &format!(
            "UPDATE snapshot SET seq = {}",
            before["last"].as_u64().unwrap() + 5
        ),
        None,
    );
    restart(&mut w);
    refused(&w, "the journal holds");
    assert_eq!(reads(&w, &[]), before);

    // The service goes on, and its next snapshot is taken and used.
    let seq = w.service().take_snapshot().unwrap();
    restart(&mut w);
    assert_eq!(w.service().restored(), &Restored::Snapshot { seq, tail: 0 });
    assert_eq!(reads(&w, &[]), before);
}

#[test]
fn snapshots_are_taken_by_entries_without_being_asked() {
    let mut w = world("snapshot-policy");
    // One every 10 entries: the writer nudges the snapshot thread.
    w.service().set_snapshots(10, 0);
    history(&w, 0);
    // Nudges are served in order: once the one asked for is saved, so is
    // any the writer made before it.
    let asked = w.service().take_snapshot().unwrap();
    assert!(
        w.service().snapshots_saved() >= 2,
        "{} saved",
        w.service().snapshots_saved()
    );
    restart(&mut w);
    assert_eq!(
        w.service().restored(),
        &Restored::Snapshot {
            seq: asked,
            tail: 0
        }
    );
}

/// A snapshot taken again of the same position (nothing logged since: a
/// later build's graceful stop, say) replaces the one stored, even one that
/// was refused: the next start uses it.
#[test]
fn a_snapshot_of_the_same_position_replaces_the_one_before() {
    let mut w = world("snapshot-again");
    history(&w, 0);
    let seq = w.service().take_snapshot().unwrap();
    let before = reads(&w, &[]);
    let (_, mut image) = stored_image(&w);
    image[60] ^= 1;
    sql(&w, "UPDATE snapshot SET image = ?1", Some(&image));
    restart(&mut w);
    assert!(
        matches!(
            w.service().restored(),
            Restored::Replay { refused: Some(_) }
        ),
        "{:?}",
        w.service().restored()
    );
    assert_eq!(w.service().take_snapshot().unwrap(), seq);
    restart(&mut w);
    assert_eq!(w.service().restored(), &Restored::Snapshot { seq, tail: 0 });
    assert_eq!(reads(&w, &[]), before);
}

/// Set for the child process of
/// [`a_crash_while_a_snapshot_is_written_leaves_the_one_before`]: the store
/// it writes half a snapshot into.
const HALF_SNAPSHOT: &str = "PARLEY_TEST_HALF_SNAPSHOT_OF";

/// The child's part (it does nothing in a test run of its own): saves a
/// snapshot as the store does, in one transaction, and dies before the
/// commit, its image large enough that SQLite has spilled part of it into
/// the write-ahead log.
#[test]
fn child_dies_while_it_writes_a_snapshot() {
    let Ok(db) = std::env::var(HALF_SNAPSHOT) else {
        return;
    };
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let image = vec![0x5a_u8; 32 << 20];
    conn.execute(
        "INSERT INTO snapshot (seq, image) VALUES (1000000, ?1)",
        [&image],
    )
    .unwrap();
    conn.execute("DELETE FROM snapshot WHERE seq <> 1000000", [])
        .unwrap();
    std::process::abort();
}

#[test]
fn a_crash_while_a_snapshot_is_written_leaves_the_one_before() {
    let mut w = world("snapshot-crash");
    history(&w, 0);
    let seq = w.service().take_snapshot().unwrap();
    history(&w, 6);
    let before = reads(&w, &[]);
    w.service().shutdown();
    let wal = std::path::PathBuf::from(format!("{}-wal", w.db().display()));
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_dies_while_it_writes_a_snapshot",
            "--nocapture",
        ])
        .env(HALF_SNAPSHOT, w.db())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "the child died mid-transaction: {status}"
    );
    let spilled = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(
        spilled > 1 << 20,
        "half the snapshot is in the WAL: {spilled} bytes"
    );

    w.restart();
    w.service().set_snapshots(0, 0);
    assert_eq!(
        w.service().restored(),
        &Restored::Snapshot {
            seq,
            tail: before["last"].as_u64().unwrap() - seq
        },
        "the snapshot before, as if the half one had never been"
    );
    assert_eq!(reads(&w, &[]), before);
}

#[test]
fn a_journal_changed_under_its_snapshot_is_found_out() {
    let mut w = world("snapshot-changed");
    // More entries than stay in memory: the older ones are checked by sample.
    let (tx, rx) = std::sync::mpsc::channel();
    let sent = parley_service::RECENT_ENTRIES * 3 / 2;
    for i in 0..sent {
        let tx = tx.clone();
        let text = Command::SendMessage {
            line: "l".into(),
            message: MessageKind::Text,
            priority: Priority::Routine,
            text: format!("m{i}"),
            deadline: None,
            references: None,
        };
        let reply =
            Box::new(move |r: Result<parley_service::Answer, _>| tx.send(r.is_ok()).unwrap());
        w.service().submit(officer("north"), text, None, reply);
    }
    assert!(rx.iter().take(sent).all(|ok| ok));
    let seq = w.service().take_snapshot().unwrap();
    restart(&mut w);
    assert_eq!(w.service().restored(), &Restored::Snapshot { seq, tail: 0 });

    // The first position sampled (of 64 spread over the entries not kept
    // in memory), changed as a host with the database could.
    let base = seq - parley_service::RECENT_ENTRIES as u64;
    let sampled = base / 64;
    w.service().shutdown();
    sql(
        &w,
        &format!("UPDATE journal SET audience = 'north' WHERE seq = {sampled}"),
        None,
    );
    restart(&mut w);
    match w.service().restored() {
        Restored::Replay { refused: Some(why) } => assert!(
            why.contains(&format!(
                "its record leaf of entry {sampled} is not the journal's"
            )),
            "{why}"
        ),
        other => panic!("{other:?}: the snapshot should have been refused"),
    }
}
