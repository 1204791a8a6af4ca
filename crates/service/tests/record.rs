//! The record after a restart: every entry is read back from the journal and
//! becomes the same leaf, so the tree has the same root. A party's saved
//! checkpoints stay valid; a node reading another node's entries agrees with it.

use parley_service::{Category, Command, LineRules, Volumes};
use parley_wire::WireLimits;
use serde_json::json;

mod common;

use common::{officer, World};

#[test]
fn the_record_has_the_same_root_after_a_restart() {
    let mut w = World::new(
        "record-restart",
        &["north", "south"],
        &["north", "south"],
        LineRules::default(),
    );
    // Conflicts carry computed numbers (distances, gaps, the meeting's box):
    // they must read back bit for bit.
    for i in 0..40 {
        let lat = 35.123_456_789 + f64::from(i) * 0.013_7;
        for (party, dlng) in [("north", 0.0), ("south", 0.004_1)] {
            let volume = json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": 38.777_1 + dlng},
                "radius": {"value": 731.3, "units": "M"}},
                "altitude_lower": {"value": 100.7, "reference": "W84", "units": "M"},
                "altitude_upper": {"value": 3001.3, "reference": "W84", "units": "M"}},
                "time_start": {"value": "2030-01-01T02:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2030-01-01T03:17:13Z", "format": "RFC3339"}});
            let volumes = Volumes::parse(vec![volume], &WireLimits::default()).unwrap();
            let command = Command::Notify {
                line: "l".into(),
                category: Category::Air,
                point_of_contact: format!("{party} ops"),
                volumes,
                dry_run: false,
            };
            w.run(&officer(party), command).unwrap();
        }
    }
    let conflicts = w.service().read(|s| s.conflicts(&officer("north")).len());
    assert!(conflicts >= 40, "{conflicts} conflicts");
    let before = w.service().read(|s| s.record_head());
    w.restart();
    let after = w.service().read(|s| s.record_head());
    assert_eq!(before, after, "the same entries, the same root");
}
