//! History leaves the conflict index: an activity whose every window ended
//! more than the keep time ago (24 h by default), and a site no longer in
//! force, are taken out of it by the writer, and are still read, exported
//! and proved; a start, from a snapshot or the whole journal, serves without
//! them.

use parley_engine::Timestamp;
use parley_service::{Category, Command, LineRules, SiteKind, Volumes};
use parley_wire::{format_timestamp, WireLimits};
use serde_json::{json, Value};

mod common;

use common::{host, officer, World, DAY, MIN, T0};

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

#[test]
fn ended_activities_and_expired_sites_leave_the_index_and_stay_readable() {
    let mut w = World::new(
        "history-evict",
        &["north", "south"],
        &["north", "south"],
        LineRules::default(),
    );
    // Snapshots only when asked (the clock jumps days here).
    w.service().set_snapshots(0, 0);
    let a = notify(&w, "north", T0 + HOUR, T0 + 3 * HOUR, false);
    let b = notify(&w, "south", T0 + 2 * HOUR, T0 + 4 * HOUR, false);
    assert_eq!(b["conflicts"].as_array().unwrap().len(), 1, "{b}");
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

    // 23 hours after A's end: both stay (the keep time is 24 hours).
    w.tick(T0 + 3 * HOUR + 23 * HOUR);
    assert_eq!(indexed(&w), 3);
    // A day after B's end: both leave; the site stays until it expires.
    w.tick(T0 + 4 * HOUR + 25 * HOUR);
    assert_eq!(indexed(&w), 1);
    let id = a["activity"].as_str().unwrap();
    let north = officer("north");
    let (read, export, receipt) = w.service().read(|s| {
        let read = s.activity(&north, id).unwrap();
        let last = s.last_seq();
        let seq = read["current"]["journal_seq"].as_u64().unwrap_or(0);
        (
            read,
            s.export(&north, None, 0, last),
            s.inclusion(&north, seq, last),
        )
    });
    assert_eq!(read["id"], id, "{read}");
    assert_eq!(
        read["current"]["content"]["volumes"][0]["volume"]["outline_circle"]["radius"]["value"],
        2000.0
    );
    assert!(export.contains(id), "the export holds it");
    assert!(receipt.is_ok(), "its receipt: {receipt:?}");
    // A notice of the same place and time conflicts with nothing now.
    let late = notify(&w, "south", T0 + HOUR, T0 + 3 * HOUR, true);
    assert_eq!(late["conflicts"], json!([]), "{late}");

    // The site leaves once expired, and is still listed.
    w.tick(T0 + 10 * DAY + MIN);
    assert_eq!(indexed(&w), 0);
    let sites = w.service().read(|s| s.sites(&host()));
    assert_eq!(sites.len(), 1);

    // A start from a snapshot has the index as it was; a full replay
    // sweeps before it serves.
    w.service().take_snapshot().unwrap();
    w.service().shutdown();
    w.restart();
    assert!(matches!(
        w.service().restored(),
        parley_service::Restored::Snapshot { .. }
    ));
    assert_eq!(indexed(&w), 0);
    let conn = rusqlite::Connection::open(w.db()).unwrap();
    conn.execute("DELETE FROM snapshot", []).unwrap();
    w.service().shutdown();
    w.restart();
    assert_eq!(
        w.service().restored(),
        &parley_service::Restored::Replay { refused: None }
    );
    assert_eq!(indexed(&w), 0);
}
