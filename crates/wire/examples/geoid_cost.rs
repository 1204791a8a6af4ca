//! What one EGM96 evaluation costs, against one work point of an outline
//! (`parley_wire::check_work`), to weigh the geoid in the work budget:
//! `cargo run --release -p parley-wire --example geoid_cost`.
use parley_wire::{check_work, parse_volume, WireLimits};
use std::time::Instant;

fn main() {
    let n = 500;
    let t = Instant::now();
    let mut s = 0.0;
    for i in 0..n {
        s += parley_wire::altitude::geoid_height_m(-60.0 + i as f64 * 0.2, -170.0 + i as f64 * 0.6);
    }
    let geoid_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    // A polygon of 1,000 vertices on an ellipse of 450 by 440 km: about 1,000 long edges.
    let vertices: Vec<_> = (0..1000)
        .map(|k| {
            let a = k as f64 / 1000.0 * std::f64::consts::TAU;
            serde_json::json!({"lat": 30.0 + 4.0 * a.sin(), "lng": 40.0 + 5.0 * a.cos()})
        })
        .collect();
    let v = serde_json::json!({"volume": {"outline_polygon": {"vertices": vertices},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 10, "reference": "W84", "units": "M"}},
        "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2026-11-22T11:00:00Z", "format": "RFC3339"}});
    let limits = WireLimits::default();
    let t = Instant::now();
    let points = check_work(std::slice::from_ref(&v), "", &limits).expect("within budget");
    parse_volume(&v, "", &limits.volume).expect("valid");
    let point_us = t.elapsed().as_secs_f64() * 1e6 / points as f64;
    println!(
        "one geoid evaluation {geoid_us:.0} us; one work point {point_us:.1} us ({points} points); ratio {:.0} (checksum {s:.3})",
        geoid_us / point_us
    );
}
