//! Parley's engine: the domain at the heart of the deconfliction line, with no
//! I/O, no clock and no async.
//!
//! It answers one question: given the activities of several parties, each made
//! of 4D volumes, which pairs of activities of different parties come closer than
//! the separation minima, and where and when?
//!
//! - [`Volume`]: an outline on the WGS84 ellipsoid (a polygon with geodesic edges,
//!   or a circle), an altitude band and a half-open time window. Built only by
//!   [`Volume::new`], which validates a [`VolumeInput`] against [`Limits`] and
//!   says which [`Field`] is wrong and how to fix it.
//! - [`conflicts`] and [`meeting`]: the conflict predicate under [`Minima`]
//!   (its exact definition is in [`conflict`]) and where and when two volumes meet.
//! - [`Index`]: an in-memory spatio-temporal index that finds every stored volume
//!   that conflicts with a given one, with exact tests only on candidates.
//! - [`Activity`] and [`find_conflicts`]: every conflicting pair among many activities.
//!
//! ```
//! use parley_engine::*;
//! let limits = Limits::default();
//! let square = |lat: f64, lng: f64| Volume::new(VolumeInput {
//!     outline: Outline::Polygon(vec![
//!         LatLng::new(lat, lng), LatLng::new(lat, lng + 0.1),
//!         LatLng::new(lat + 0.1, lng + 0.1), LatLng::new(lat + 0.1, lng),
//!     ]),
//!     altitude: AltitudeBand { lower_m: 0.0, upper_m: 5_000.0 },
//!     window: TimeWindow { start: Timestamp(0), end: Timestamp(3_600_000_000) },
//! }, &limits).unwrap();
//! let mut index = Index::new();
//! index.insert("north", square(35.05, 38.0));
//! index.insert("east", square(35.0, 38.1)); // shares an edge with the query: no conflict at 0 m
//! assert_eq!(index.conflicts(&square(35.0, 38.0), &Minima::default()), vec!["north"]);
//! ```
#![deny(missing_docs)]

mod activity;
pub mod conflict;
mod footprint;
pub mod geodesy;
mod index;
mod planar;
mod region;
mod segments;
mod volume;

pub use activity::{find_conflicts, Activity, ActivityConflict, VolumeMeeting};
pub use conflict::{conflicts, meeting, time_gap_s, vertical_gap_m, Meeting, Minima};
pub use footprint::{polygon_pieces, MAX_PIECES, PIECE_M};
pub use geodesy::{distance_m, LatLng};
pub use index::{Index, MAX_CELLS};
pub use region::Region;
pub use volume::{
    AltitudeBand, ErrorKind, Field, LatLngBox, Limits, Outline, TimeWindow, Timestamp, Volume,
    VolumeError, VolumeInput, MAX_ALTITUDE_M, MIN_ALTITUDE_M, MIN_AREA_M2,
};
