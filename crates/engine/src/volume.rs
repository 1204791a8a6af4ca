//! 4D volumes: an area on the ellipsoid, an altitude band and a time window, and
//! the validation that is the only way to build one.

use crate::footprint::Footprint;
use crate::geodesy::{self, LatLng};
use std::fmt;

/// A point in time: microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds since the Unix epoch.
    pub const fn micros(self) -> i64 {
        self.0
    }
}

/// A half-open time window `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// First instant inside the window.
    pub start: Timestamp,
    /// First instant after the window.
    pub end: Timestamp,
}

/// A closed altitude band, metres above the WGS84 ellipsoid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AltitudeBand {
    /// Lowest altitude, metres.
    pub lower_m: f64,
    /// Highest altitude, metres.
    pub upper_m: f64,
}

/// The horizontal outline of a volume as it was given.
#[derive(Clone, Debug, PartialEq)]
pub enum Outline {
    /// A ring of vertices joined by geodesics; the area is the smaller of the two
    /// regions the ring bounds, whatever its orientation. Not closed: the last
    /// vertex joins the first.
    Polygon(Vec<LatLng>),
    /// Every point within `radius_m` geodesic metres of `center`.
    Circle {
        /// The centre.
        center: LatLng,
        /// Radius, metres.
        radius_m: f64,
    },
}

/// What a caller gives to build a [`Volume`]; nothing about it is trusted yet.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeInput {
    /// The horizontal outline.
    pub outline: Outline,
    /// Altitude band, metres above the WGS84 ellipsoid.
    pub altitude: AltitudeBand,
    /// Time window.
    pub window: TimeWindow,
}

/// Limits on what one volume may be. Every limit is a guard against mistakes and
/// abuse, not a physical law: deployments may set their own.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Most vertices in a polygon outline (default 1,000).
    pub max_vertices: usize,
    /// Largest area, square metres (default 1,000,000 km²).
    pub max_area_m2: f64,
    /// Farthest any point of the outline may lie from its centre, metres (default
    /// 2,000 km; circles: the largest radius).
    pub max_extent_m: f64,
    /// Longest time window, microseconds (default 31 days).
    pub max_duration_us: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_vertices: 1_000,
            max_area_m2: 1.0e12,
            max_extent_m: 2_000_000.0,
            max_duration_us: 31 * 24 * 3_600 * 1_000_000,
        }
    }
}

/// Lowest altitude accepted, metres (below the deepest ocean trench).
pub const MIN_ALTITUDE_M: f64 = -8_000.0;
/// Highest altitude accepted, metres (the edge of space).
pub const MAX_ALTITUDE_M: f64 = 100_000.0;
/// A polygon that encloses less than this many square metres encloses nothing.
pub const MIN_AREA_M2: f64 = 0.01;

/// A validated 4D volume. The only way to get one is [`Volume::new`].
#[derive(Clone, Debug)]
pub struct Volume {
    outline: Outline,
    altitude: AltitudeBand,
    window: TimeWindow,
    pub(crate) footprint: Footprint,
}

impl Volume {
    /// Validates `input` against `limits`.
    pub fn new(input: VolumeInput, limits: &Limits) -> Result<Volume, VolumeError> {
        let VolumeInput {
            outline,
            altitude,
            window,
        } = input;
        validate_altitude(&altitude)?;
        validate_window(&window, limits)?;
        let footprint = match &outline {
            Outline::Polygon(vertices) => Footprint::polygon(vertices, limits)?,
            Outline::Circle { center, radius_m } => Footprint::circle(*center, *radius_m, limits)?,
        };
        Ok(Volume {
            outline,
            altitude,
            window,
            footprint,
        })
    }

    /// Rebuilds a volume that [`Volume::new`] accepted before, without
    /// checking it again: the footprint is computed the same way, so the
    /// volume is the one validation made. Only for volumes the program
    /// validated itself and kept (a snapshot of its state); anything that
    /// comes from outside goes through [`Volume::new`]. Input that was never
    /// validated gives a volume whose answers mean nothing (no panic).
    pub fn trusted(input: VolumeInput) -> Volume {
        let VolumeInput {
            outline,
            altitude,
            window,
        } = input;
        let footprint = match &outline {
            Outline::Polygon(vertices) => Footprint::polygon_trusted(vertices),
            Outline::Circle { center, radius_m } => Footprint::circle_trusted(*center, *radius_m),
        };
        Volume {
            outline,
            altitude,
            window,
            footprint,
        }
    }

    /// The same volume with another altitude band, validated as
    /// [`Volume::new`] validates one (the outline is not checked again).
    pub fn with_altitude(self, altitude: AltitudeBand) -> Result<Volume, VolumeError> {
        validate_altitude(&altitude)?;
        Ok(Volume { altitude, ..self })
    }

    /// The outline as it was given.
    pub fn outline(&self) -> &Outline {
        &self.outline
    }

    /// The altitude band.
    pub fn altitude(&self) -> AltitudeBand {
        self.altitude
    }

    /// The time window.
    pub fn window(&self) -> TimeWindow {
        self.window
    }

    /// The area the outline covers, square metres: to within a few per cent,
    /// enough for a limit.
    pub fn area_m2(&self) -> f64 {
        self.footprint.area_m2
    }

    /// A latitude/longitude box that contains the whole outline.
    pub fn bounds(&self) -> LatLngBox {
        self.footprint.bounds
    }
}

/// A box of latitudes and longitudes. When `west > east` it crosses the
/// antimeridian and covers `[west, 180]` and `[-180, east]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLngBox {
    /// Southern edge, degrees north.
    pub south: f64,
    /// Western edge, degrees east.
    pub west: f64,
    /// Northern edge, degrees north.
    pub north: f64,
    /// Eastern edge, degrees east.
    pub east: f64,
}

impl LatLngBox {
    /// Degrees of longitude the box spans, in [0, 360].
    pub fn lng_span(&self) -> f64 {
        if self.west <= self.east {
            self.east - self.west
        } else {
            360.0 - self.west + self.east
        }
    }

    /// The smallest box that covers `points`, seen from `near` (so that a cluster
    /// of points astride the antimeridian gets a narrow box).
    pub(crate) fn around(near: LatLng, points: impl IntoIterator<Item = LatLng>) -> LatLngBox {
        let (mut s, mut n) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut w, mut e) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in points {
            s = s.min(p.lat);
            n = n.max(p.lat);
            let d = geodesy::lng_delta(near.lng, p.lng);
            w = w.min(d);
            e = e.max(d);
        }
        if e - w >= 360.0 {
            return LatLngBox {
                south: s,
                west: -180.0,
                north: n,
                east: 180.0,
            };
        }
        LatLngBox {
            south: s,
            west: geodesy::normalize_lng(near.lng + w),
            north: n,
            east: geodesy::normalize_lng(near.lng + e),
        }
    }
}

fn validate_altitude(a: &AltitudeBand) -> Result<(), VolumeError> {
    for (value, field) in [
        (a.lower_m, Field::AltitudeLower),
        (a.upper_m, Field::AltitudeUpper),
    ] {
        if !value.is_finite() || !(MIN_ALTITUDE_M..=MAX_ALTITUDE_M).contains(&value) {
            return Err(VolumeError::new(
                field,
                ErrorKind::AltitudeOutOfRange(value),
            ));
        }
    }
    if a.lower_m > a.upper_m {
        return Err(VolumeError::new(
            Field::AltitudeLower,
            ErrorKind::AltitudeInverted {
                lower: a.lower_m,
                upper: a.upper_m,
            },
        ));
    }
    Ok(())
}

fn validate_window(w: &TimeWindow, limits: &Limits) -> Result<(), VolumeError> {
    if w.end <= w.start {
        return Err(VolumeError::new(
            Field::TimeEnd,
            ErrorKind::EndNotAfterStart,
        ));
    }
    let duration = w.end.0.checked_sub(w.start.0).unwrap_or(i64::MAX);
    if duration > limits.max_duration_us {
        return Err(VolumeError::new(
            Field::TimeEnd,
            ErrorKind::DurationTooLong {
                hours: duration as f64 / 3.6e9,
                max_hours: limits.max_duration_us as f64 / 3.6e9,
            },
        ));
    }
    Ok(())
}

/// Which part of a volume an error is about. Adapters turn it into their own
/// notation (a JSON pointer, a form field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The outline as a whole.
    Outline,
    /// The list of polygon vertices as a whole.
    Vertices,
    /// One polygon vertex, by index.
    Vertex(usize),
    /// The latitude of one polygon vertex.
    VertexLat(usize),
    /// The longitude of one polygon vertex.
    VertexLng(usize),
    /// The latitude of a circle's centre.
    CenterLat,
    /// The longitude of a circle's centre.
    CenterLng,
    /// A circle's radius.
    Radius,
    /// The lower altitude.
    AltitudeLower,
    /// The upper altitude.
    AltitudeUpper,
    /// The start of the time window.
    TimeStart,
    /// The end of the time window.
    TimeEnd,
}

/// A volume that cannot be accepted: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeError {
    /// The field at fault.
    pub field: Field,
    /// What is wrong, worded to say what to fix.
    pub kind: ErrorKind,
}

impl VolumeError {
    pub(crate) fn new(field: Field, kind: ErrorKind) -> Self {
        Self { field, kind }
    }
}

impl fmt::Display for VolumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.field, self.kind)
    }
}

impl std::error::Error for VolumeError {}

/// What is wrong with a volume. Each message says what to fix.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A coordinate is not a finite number.
    #[error("{0} is not a finite number of degrees")]
    NotFinite(f64),
    /// Latitude outside [-90, 90].
    #[error("latitude {0} is outside [-90, 90]; give degrees north (south is negative)")]
    LatitudeOutOfRange(f64),
    /// Longitude outside [-180, 180].
    #[error("longitude {0} is outside [-180, 180]; give degrees east (west is negative)")]
    LongitudeOutOfRange(f64),
    /// Fewer than three distinct vertices.
    #[error("a polygon needs at least 3 distinct vertices, this one has {0}")]
    TooFewVertices(usize),
    /// More vertices than the limit.
    #[error("{count} vertices is more than the limit of {max}; simplify the outline or split the volume")]
    TooManyVertices {
        /// Vertices given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The outline, its edges cut into geodesic pieces of at most 5 km, has more
    /// points than a limit (the work it would cost to check).
    #[error("the outline's edges, cut into pieces of at most 5 km, make {pieces} points, more than the limit of {max}; give fewer or shorter edges (the perimeter, in units of 5 km, plus the vertices), or split the volume")]
    TooManyPieces {
        /// Points once the edges are cut.
        pieces: usize,
        /// The limit.
        max: usize,
    },
    /// A vertex equals the one before it (or the last equals the first).
    #[error("vertex {index} repeats vertex {previous}; remove it (the ring closes by itself, do not repeat the first vertex)")]
    RepeatedVertex {
        /// The repeating vertex.
        index: usize,
        /// The vertex it repeats.
        previous: usize,
    },
    /// Two edges cross or touch.
    #[error("edge {first} (from vertex {first}) and edge {second} (from vertex {second}) cross or touch; list the vertices in order around the boundary, without loops")]
    SelfCrossing {
        /// The first edge, by its starting vertex.
        first: usize,
        /// The second edge, by its starting vertex.
        second: usize,
    },
    /// The polygon encloses (almost) no area.
    #[error(
        "the polygon encloses no area ({area_m2:.3} m²); its vertices are (nearly) on one line"
    )]
    ZeroArea {
        /// The area, m².
        area_m2: f64,
    },
    /// The area is over the limit.
    #[error(
        "the area is {area_km2:.0} km², more than the limit of {max_km2:.0} km²; split the volume"
    )]
    AreaTooLarge {
        /// The area, km².
        area_km2: f64,
        /// The limit, km².
        max_km2: f64,
    },
    /// Some point lies too far from the outline's centre.
    #[error("the outline reaches {extent_km:.0} km from its centre, more than the limit of {max_km:.0} km; split the volume")]
    ExtentTooLarge {
        /// The extent, km.
        extent_km: f64,
        /// The limit, km.
        max_km: f64,
    },
    /// The area contains a pole.
    #[error("the area contains the {0} pole; split it into volumes that do not")]
    ContainsPole(&'static str),
    /// A circle's radius is not positive.
    #[error("radius {0} m is not positive; give a radius above 0 metres")]
    RadiusNotPositive(f64),
    /// An altitude outside the accepted range.
    #[error("altitude {0} m is outside [-8000, 100000] m above the WGS84 ellipsoid")]
    AltitudeOutOfRange(f64),
    /// Lower altitude above upper.
    #[error("altitude_lower {lower} m is above altitude_upper {upper} m; swap them")]
    AltitudeInverted {
        /// Lower altitude given.
        lower: f64,
        /// Upper altitude given.
        upper: f64,
    },
    /// The window ends at or before its start.
    #[error("the end is not after the start; the window is [start, end) and must not be empty")]
    EndNotAfterStart,
    /// The window is longer than the limit.
    #[error("the window lasts {hours:.1} h, more than the limit of {max_hours:.0} h; split the activity")]
    DurationTooLong {
        /// Duration given, hours.
        hours: f64,
        /// The limit, hours.
        max_hours: f64,
    },
}
