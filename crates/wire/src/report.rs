//! Conflict reports as JSON: one object per conflicting pair of activities.

use crate::format_timestamp;
use parley_engine::{Activity, ActivityConflict, LatLngBox, Meeting};
use serde_json::{json, Value};

/// Rounds metres to millimetres so that reports read cleanly.
fn mm(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn area(b: &LatLngBox) -> Value {
    json!({"south": b.south, "west": b.west, "north": b.north, "east": b.east})
}

/// One meeting of two volumes as JSON.
pub fn meeting_json(m: &Meeting) -> Value {
    json!({
        "time_start": format_timestamp(m.start),
        "time_end": format_timestamp(m.end),
        "time_gap_s": m.time_gap_s,
        "altitude_lower_m": m.altitude_lower_m,
        "altitude_upper_m": m.altitude_upper_m,
        "vertical_gap_m": mm(m.vertical_gap_m),
        "horizontal_distance_m": mm(m.horizontal_distance_m),
        "area": area(&m.area),
    })
}

/// A conflicting pair of activities: `a` and `b` (their ids and parties), a
/// summary of where and when (the earliest start, latest end, closest distance
/// and a box around every meeting) and each meeting of two of their volumes.
pub fn conflict_json(c: &ActivityConflict, activities: &[Activity]) -> Value {
    let (a, b) = (&activities[c.a], &activities[c.b]);
    let ms = || c.meetings.iter().map(|v| &v.meeting);
    let start = ms()
        .map(|m| m.start)
        .min()
        .expect("a conflict has a meeting");
    let end = ms().map(|m| m.end).max().expect("a conflict has a meeting");
    let closest = ms()
        .map(|m| m.horizontal_distance_m)
        .fold(f64::INFINITY, f64::min);
    let south = ms().map(|m| m.area.south).fold(f64::INFINITY, f64::min);
    let north = ms().map(|m| m.area.north).fold(f64::NEG_INFINITY, f64::max);
    let first = &c.meetings[0].meeting.area;
    // Longitudes: widen the first box eastwards and westwards as seen from its west edge.
    let (mut w, mut e) = (0.0f64, first.lng_span());
    for m in ms() {
        let dw = parley_engine::geodesy::lng_delta(first.west, m.area.west);
        w = w.min(dw);
        e = e.max(dw + m.area.lng_span());
    }
    let wrap = |x: f64| (x + 180.0).rem_euclid(360.0) - 180.0;
    let bounds = LatLngBox {
        south,
        north,
        west: wrap(first.west + w),
        east: wrap(first.west + e),
    };
    json!({
        "a": a.id,
        "b": b.id,
        "a_party": a.party,
        "b_party": b.party,
        "time_start": format_timestamp(start),
        "time_end": format_timestamp(end),
        "horizontal_distance_m": mm(closest),
        "area": area(&bounds),
        "meetings": c.meetings.iter().map(|v| {
            let mut m = meeting_json(&v.meeting);
            m["a_volume"] = json!(v.a_volume);
            m["b_volume"] = json!(v.b_volume);
            m
        }).collect::<Vec<_>>(),
    })
}
