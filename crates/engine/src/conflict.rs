//! The conflict predicate between volumes and activities, and what a conflict
//! tells both sides: where and when they meet.
//!
//! # Definition
//! Two volumes *conflict* under [`Minima`] `(H, V, T)` when all three of their
//! gaps are strictly less than the minima at once:
//!
//! - horizontal gap: the geodesic distance in metres between their outlines,
//!   counted as negative when their interiors overlap and 0 when they only touch;
//! - vertical gap: `max(a.lower − b.upper, b.lower − a.upper)` in metres;
//! - time gap: `max(a.start − b.end, b.start − a.end)` in seconds, windows being
//!   half-open `[start, end)`.
//!
//! So with a minimum of 0, sharing only a boundary (an edge, an altitude, an
//! instant) is not a conflict, and with a minimum `m > 0` any gap strictly less
//! than `m` is one. The predicate is symmetric and grows with the minima.
//! Two activities conflict when any volume of one conflicts with any volume of
//! the other; activities of the same party never conflict.
//!
//! ```
//! use parley_engine::{conflicts, LatLng, Limits, Minima, Outline, Volume, VolumeInput};
//! use parley_engine::{AltitudeBand, TimeWindow, Timestamp};
//! let hour = 3_600_000_000;
//! let disc = |lng: f64, start: i64| Volume::new(VolumeInput {
//!     outline: Outline::Circle { center: LatLng::new(35.0, lng), radius_m: 1_000.0 },
//!     altitude: AltitudeBand { lower_m: 0.0, upper_m: 3_000.0 },
//!     window: TimeWindow { start: Timestamp(start), end: Timestamp(start + hour) },
//! }, &Limits::default()).unwrap();
//! let none = Minima::default();
//! assert!(conflicts(&disc(38.0, 0), &disc(38.01, 0), &none));      // ~900 m apart centres
//! assert!(!conflicts(&disc(38.0, 0), &disc(38.0, hour), &none));   // one ends as the other starts
//! assert!(conflicts(&disc(38.0, 0), &disc(38.0, hour), &Minima { time_s: 1.0, ..none }));
//! ```

use crate::footprint::Horizontal;
use crate::volume::{LatLngBox, Timestamp, Volume};

/// Separation minima: how close two volumes may come before they conflict.
/// All three are non-negative.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Minima {
    /// Horizontal separation, geodesic metres.
    pub horizontal_m: f64,
    /// Vertical separation, metres.
    pub vertical_m: f64,
    /// Separation in time, seconds.
    pub time_s: f64,
}

/// Vertical gap between two volumes, metres (negative when the bands overlap).
pub fn vertical_gap_m(a: &Volume, b: &Volume) -> f64 {
    let (x, y) = (a.altitude(), b.altitude());
    (x.lower_m - y.upper_m).max(y.lower_m - x.upper_m)
}

/// Time gap between two volumes, seconds (negative when the windows overlap).
pub fn time_gap_s(a: &Volume, b: &Volume) -> f64 {
    let (x, y) = (a.window(), b.window());
    (x.start.0 - y.end.0).max(y.start.0 - x.end.0) as f64 / 1e6
}

/// Whether volumes `a` and `b` conflict under `minima` (see the module docs).
pub fn conflicts(a: &Volume, b: &Volume, minima: &Minima) -> bool {
    horizontal_if_conflict(a, b, minima).is_some()
}

/// The horizontal relation of `a` and `b` when they conflict under `minima`:
/// the cheap tests first, the exact geometry once.
fn horizontal_if_conflict(a: &Volume, b: &Volume, minima: &Minima) -> Option<Horizontal> {
    if time_gap_s(a, b) >= minima.time_s
        || vertical_gap_m(a, b) >= minima.vertical_m
        || a.footprint.distance_lower_bound(&b.footprint) >= minima.horizontal_m
    {
        return None;
    }
    let h = a.footprint.relation(&b.footprint, minima.horizontal_m);
    h.closer_than(minima.horizontal_m).then_some(h)
}

/// Where and when two conflicting volumes meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Meeting {
    /// When: the overlap of the two windows, or the gap between them when they
    /// are apart by less than the time minimum.
    pub start: Timestamp,
    /// End of that interval.
    pub end: Timestamp,
    /// Time gap, seconds; 0 when the windows overlap.
    pub time_gap_s: f64,
    /// The altitude band where they meet (or the gap between their bands).
    pub altitude_lower_m: f64,
    /// Top of that band, metres.
    pub altitude_upper_m: f64,
    /// Vertical gap, metres; 0 when the bands overlap.
    pub vertical_gap_m: f64,
    /// Horizontal distance between the outlines, geodesic metres; 0 when they overlap.
    pub horizontal_distance_m: f64,
    /// Approximate area: the bounding box of the overlap, or of the closest points.
    pub area: LatLngBox,
}

/// Where and when `a` and `b` meet, if they conflict under `minima`.
pub fn meeting(a: &Volume, b: &Volume, minima: &Minima) -> Option<Meeting> {
    let horizontal = match horizontal_if_conflict(a, b, minima)? {
        Horizontal::Overlap => 0.0,
        Horizontal::Apart(d) => d,
    };
    let (wa, wb) = (a.window(), b.window());
    let (aa, ab) = (a.altitude(), b.altitude());
    let (start, end) = ordered(wa.start.max(wb.start), wa.end.min(wb.end));
    let (lower, upper) = ordered(aa.lower_m.max(ab.lower_m), aa.upper_m.min(ab.upper_m));
    Some(Meeting {
        start,
        end,
        time_gap_s: time_gap_s(a, b).max(0.0),
        altitude_lower_m: lower,
        altitude_upper_m: upper,
        vertical_gap_m: vertical_gap_m(a, b).max(0.0),
        horizontal_distance_m: horizontal,
        area: a.footprint.meeting_bounds(&b.footprint),
    })
}

/// The later start and earlier end of two intervals, or, when they do not overlap,
/// the gap between them.
fn ordered<T: PartialOrd>(x: T, y: T) -> (T, T) {
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}
