//! Altitudes as aviation and the field give them, turned into the band of
//! metres above the WGS84 ellipsoid that the engine compares.
//!
//! | you write | read as |
//! |---|---|
//! | `{"value": 5000, "reference": "W84", "units": "M"}` (or `"FT"`) | as given |
//! | `{"value": 5000, "reference": "AMSL", "units": "M"}` (or `"FT"`) | above mean sea level: the EGM96 geoid |
//! | `{"value": 130, "units": "FL"}` or `"FL130"` | a flight level, on lines whose rules allow them |
//!
//! **Mean sea level** is the EGM96 geoid, whose height above the ellipsoid
//! (`N`, −107 m to +86 m) changes over a footprint. A band given above mean
//! sea level becomes the W84 band that covers it over the *whole* footprint:
//! the lower altitude plus the lowest `N` there, the upper plus the highest.
//! `N` is evaluated by spherical harmonics to degree 360 (crate `egm96`, one
//! evaluation ≈ 0.55 ms) at the nodes of a grid over the footprint's bounding box
//! ([`geoid_range`]: at most 4 × 4 nodes, every point of the box within a
//! cell's half-diagonal `d` of a node); between nodes `N` may differ from the
//! nearest node by at most [`GEOID_SLOPE_M_PER_M`] × `d`, which is added on
//! both sides, and the result is never wider than EGM96's whole range.
//!
//! **A flight level** is a pressure altitude: FL130 is where the pressure is
//! the one the ICAO standard atmosphere (ISA, Doc 7488) has at 13,000 ft of
//! geopotential altitude above mean sea level. It is converted as that
//! altitude ([`flight_level_amsl_m`]: geopotential to geometric), then as
//! above mean sea level; the real altitude of a pressure surface differs from
//! the ISA's with the day's pressure and temperature (hundreds of metres), so
//! a line that accepts flight levels states a vertical margin
//! ([`VerticalRules::flight_level_margin_m`]) by which the band is widened on
//! both sides. A line without one refuses flight levels.

use crate::{field, kind, number, object, string, Parsed, WireError, FOOT_M};
use parley_engine::{
    AltitudeBand, LatLngBox, Limits, Outline, TimeWindow, Volume, VolumeError, VolumeInput,
};
use serde_json::{Map, Value};

/// What a line allows in altitudes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VerticalRules {
    /// Flight levels are accepted, and a band given in them is widened by
    /// this many metres on both sides; `None`: refused.
    pub flight_level_margin_m: Option<f64>,
}

/// The bound a flight level may have (FL000 to FL999).
const MAX_FLIGHT_LEVEL: f64 = 999.0;

/// The ISA's radius of the Earth for geopotential altitude, metres (Doc 7488).
const ISA_EARTH_RADIUS_M: f64 = 6_356_766.0;

/// The highest slope of the EGM96 geoid, metres of height a metre on the
/// ground (0.5 m/km, about 100″ of deflection of the vertical). EGM96's
/// steepest between neighbours of a global 0.1° grid (11 km) is 0.373 m/km
/// (`tests/reference/geoid.py slope`; `crates/wire/tests/geoid.rs` asserts
/// it stays under this bound); to degree 360 the model's shortest wave is
/// 111 km long, over which an 11 km difference sees at least 98% of the
/// slope, so the true steepest is under 0.38 m/km.
pub const GEOID_SLOPE_M_PER_M: f64 = 0.5e-3;

/// EGM96's lowest and highest geoid heights, metres, with a margin (the
/// model's, on a 0.1° grid: −107.04 m south of India and 85.42 m over New
/// Guinea).
pub const GEOID_RANGE_M: (f64, f64) = (-108.0, 86.0);

/// Most grid cells a side of the box [`geoid_range`] samples.
const MAX_CELLS: usize = 3;

/// Most geoid evaluations one volume costs.
pub const MAX_GEOID_EVALUATIONS: usize = (MAX_CELLS + 1) * (MAX_CELLS + 1);

/// The grid's cells are made no smaller than this, metres.
const CELL_M: f64 = 5_000.0;

/// Metres a degree of latitude or of longitude is at most (111,694 m for a
/// degree of latitude at the poles, 111,319 m of longitude at the equator).
const DEGREE_M: f64 = 111_700.0;

/// One altitude as given.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// Metres above the WGS84 ellipsoid.
    W84(f64),
    /// Metres above mean sea level (the EGM96 geoid).
    Amsl(f64),
    /// A flight level (hundreds of feet of pressure altitude).
    FlightLevel(f64),
}

impl Given {
    /// Metres above the reference it converts through: the ellipsoid for
    /// W84, mean sea level for AMSL and (through the ISA) flight levels.
    pub fn metres(&self) -> f64 {
        match *self {
            Given::W84(m) | Given::Amsl(m) => m,
            Given::FlightLevel(fl) => flight_level_amsl_m(fl),
        }
    }

    /// Whether the geoid is needed to convert it.
    pub fn needs_geoid(&self) -> bool {
        !matches!(self, Given::W84(_))
    }
}

/// A flight level's altitude above mean sea level in the ICAO standard
/// atmosphere, metres: its pressure altitude (`fl` × 100 ft) is the ISA's
/// geopotential altitude, made geometric by `r·H / (r − H)`.
pub fn flight_level_amsl_m(fl: f64) -> f64 {
    let geopotential = fl * 100.0 * FOOT_M;
    ISA_EARTH_RADIUS_M * geopotential / (ISA_EARTH_RADIUS_M - geopotential)
}

/// Reads one altitude at `at`: `{"value", "reference", "units"}` or a flight
/// level, `"FL130"` or `{"value": 130, "units": "FL"}`.
pub(crate) fn parse(v: &Value, at: &str, rules: &VerticalRules) -> Result<Given, WireError> {
    if let Value::String(text) = v {
        let digits = text
            .strip_prefix("FL")
            .filter(|d| !d.is_empty() && d.len() <= 3 && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                WireError::at(
                    at,
                    format!("\"{text}\" is not an altitude; give a flight level as \"FL130\", or {{\"value\", \"reference\", \"units\"}}"),
                )
            })?;
        return flight_level(digits.parse().unwrap_or(f64::NAN), at, rules);
    }
    let obj = object(v, at).map_err(|_| {
        WireError::at(
            at,
            format!(
                "expected an altitude, found {}; give {{\"value\", \"reference\", \"units\"}} or a flight level \"FL130\"",
                kind(v)
            ),
        )
    })?;
    let uat = format!("{at}/units");
    let units = string(field(obj, at, "units")?, &uat)?;
    let value = number(field(obj, at, "value")?, &format!("{at}/value"))?;
    if units == "FL" {
        if let Some(r) = obj.get("reference") {
            if r.as_str() != Some("STD") {
                return Err(WireError::at(
                    format!("{at}/reference"),
                    "a flight level is a pressure altitude over the standard pressure: leave out the reference, or give \"STD\"",
                ));
            }
        }
        return flight_level(value, &format!("{at}/value"), rules);
    }
    let scale = match units {
        "M" => 1.0,
        "FT" => FOOT_M,
        other => {
            return Err(WireError::at(
                uat,
                format!("unknown units \"{other}\"; give \"M\" (metres), \"FT\" (feet) or \"FL\" (a flight level)"),
            ))
        }
    };
    reference(obj, at, value * scale)
}

fn reference(obj: &Map<String, Value>, at: &str, metres: f64) -> Result<Given, WireError> {
    let rat = format!("{at}/reference");
    match string(field(obj, at, "reference")?, &rat)? {
        "W84" => Ok(Given::W84(metres)),
        "AMSL" | "MSL" => Ok(Given::Amsl(metres)),
        other => Err(WireError::at(
            rat,
            format!("unknown reference \"{other}\"; give \"W84\" (above the WGS84 ellipsoid) or \"AMSL\" (above mean sea level)"),
        )),
    }
}

fn flight_level(fl: f64, at: &str, rules: &VerticalRules) -> Result<Given, WireError> {
    if rules.flight_level_margin_m.is_none() {
        return Err(WireError::at(
            at,
            "this line's rules do not allow flight levels (a pressure altitude, compared only with a vertical margin the line states: flight_level_margin_m, set when the line is created); give metres or feet with reference \"AMSL\" or \"W84\"",
        ));
    }
    if !(0.0..=MAX_FLIGHT_LEVEL).contains(&fl) || fl.fract() != 0.0 {
        return Err(WireError::at(
            at,
            "a flight level is a whole number of hundreds of feet, 0 to 999 (FL130 is 130)",
        ));
    }
    Ok(Given::FlightLevel(fl))
}

/// Validates a volume whose altitudes are `lower` and `upper` (as read, and
/// their JSON as given): with the band as given first (which orders as it
/// will), then, when the geoid is needed, with the W84 band over its
/// footprint ([`band`]).
pub(crate) fn validate(
    outline: Outline,
    lower: (Given, &Value),
    upper: (Given, &Value),
    window: TimeWindow,
    limits: &Limits,
    rules: &VerticalRules,
) -> Result<Parsed, VolumeError> {
    let input = VolumeInput {
        outline,
        altitude: AltitudeBand {
            lower_m: lower.0.metres(),
            upper_m: upper.0.metres(),
        },
        window,
    };
    let volume = Volume::new(input, limits)?;
    if !lower.0.needs_geoid() && !upper.0.needs_geoid() {
        return Ok(Parsed {
            volume,
            given: None,
        });
    }
    let (band, _) = band(&lower.0, &upper.0, volume.bounds(), rules);
    Ok(Parsed {
        volume: volume.with_altitude(band)?,
        given: Some(serde_json::json!({"altitude_lower": lower.1, "altitude_upper": upper.1})),
    })
}

/// The W84 band that covers `lower`..`upper` over a footprint within
/// `bounds`, and the geoid evaluations it took (0 when both are W84).
pub fn band(
    lower: &Given,
    upper: &Given,
    bounds: LatLngBox,
    rules: &VerticalRules,
) -> (AltitudeBand, usize) {
    let geoid = (lower.needs_geoid() || upper.needs_geoid()).then(|| geoid_range(bounds));
    let margin = rules.flight_level_margin_m.unwrap_or(0.0);
    let convert = |g: &Given, low: bool| {
        let n = geoid.map_or(0.0, |r| if low { r.min_m } else { r.max_m });
        let widen = if low { -margin } else { margin };
        match g {
            Given::W84(m) => *m,
            Given::Amsl(m) => m + n,
            Given::FlightLevel(_) => g.metres() + n + widen,
        }
    };
    // Rounded outward to the centimetre: a shorter read-back, as conservative.
    let band = AltitudeBand {
        lower_m: (convert(lower, true) * 100.0).floor() / 100.0,
        upper_m: (convert(upper, false) * 100.0).ceil() / 100.0,
    };
    (band, geoid.map_or(0, |r| r.evaluations))
}

/// The geoid's lowest and highest heights over a box, as covered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoidRange {
    /// No point of the box has a lower geoid height, metres.
    pub min_m: f64,
    /// No point of the box has a higher geoid height, metres.
    pub max_m: f64,
    /// Evaluations of the model it took.
    pub evaluations: usize,
}

/// EGM96's geoid height at a point, metres above the WGS84 ellipsoid.
pub fn geoid_height_m(lat: f64, lng: f64) -> f64 {
    egm96::egm96_compute_altitude_offset(lat, lng)
}

/// Bounds on the geoid height over `b`: sampled at the nodes of a grid of at
/// most [`MAX_CELLS`] × [`MAX_CELLS`] cells over the box (cells no smaller
/// than 5 km), widened by the slope bound times the farthest any point of the
/// box can be from a node (a cell's half-diagonal), and kept within EGM96's
/// range.
pub fn geoid_range(b: LatLngBox) -> GeoidRange {
    let lat_span = (b.north - b.south).max(0.0);
    let lng_span = b.lng_span();
    // The widest a degree of longitude is in the box: at its latitude
    // nearest the equator.
    let nearest_equator = if b.south <= 0.0 && b.north >= 0.0 {
        0.0
    } else {
        b.south.abs().min(b.north.abs())
    };
    let lng_scale = nearest_equator.to_radians().cos();
    let extent_m = (lat_span * DEGREE_M).max(lng_span * DEGREE_M * lng_scale);
    let cells = ((extent_m / CELL_M).ceil() as usize).clamp(1, MAX_CELLS);
    let (dlat, dlng) = (lat_span / cells as f64, lng_span / cells as f64);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..=cells {
        let lat = (b.south + dlat * i as f64).clamp(-90.0, 90.0);
        for j in 0..=cells {
            let n = geoid_height_m(lat, b.west + dlng * j as f64);
            lo = lo.min(n);
            hi = hi.max(n);
        }
    }
    let half_diagonal_m = 0.5 * (dlat * DEGREE_M).hypot(dlng * DEGREE_M * lng_scale);
    let slack = GEOID_SLOPE_M_PER_M * half_diagonal_m;
    GeoidRange {
        min_m: (lo - slack).max(GEOID_RANGE_M.0),
        max_m: (hi + slack).min(GEOID_RANGE_M.1),
        evaluations: (cells + 1) * (cells + 1),
    }
}

/// The work points one geoid evaluation counts for in the work budget
/// ([`crate::check_work`]), which counts [`MAX_GEOID_EVALUATIONS`] for every
/// volume that needs the geoid. One evaluation costs about 0.55 ms, what
/// validating some 750 points of an outline costs (`cargo run --release -p
/// parley-wire --example geoid_cost`); but a point is mostly paid for again
/// in every comparison with the index, which the geoid never is. At 30, a
/// notice of 100 volumes above mean sea level fits the request's budget
/// (48,000 of 50,000 points) and costs under a second of a validating
/// thread, never the writer's.
pub const GEOID_EVALUATION_POINTS: usize = 30;

/// The altitudes a volume gives as objects or flight levels, as JSON: the
/// F3548 form's, or a GeoJSON Feature's `altitude_lower`/`altitude_upper`
/// properties.
fn altitudes(v: &Value) -> impl Iterator<Item = &Value> {
    let holder = v.get("volume").or_else(|| v.get("properties"));
    ["altitude_lower", "altitude_upper"]
        .into_iter()
        .filter_map(move |name| holder?.get(name))
}

fn is_flight_level(a: &Value) -> bool {
    a.is_string() || a.get("units").and_then(Value::as_str) == Some("FL")
}

/// Whether a volume (F3548 form) gives a flight level.
pub fn uses_flight_level(v: &Value) -> bool {
    altitudes(v).any(is_flight_level)
}

/// Whether a volume (F3548 form) gives an altitude that needs the geoid
/// (above mean sea level, a flight level, or one this cannot read).
pub fn volume_needs_geoid(v: &Value) -> bool {
    altitudes(v)
        .any(|a| is_flight_level(a) || a.get("reference").and_then(Value::as_str) != Some("W84"))
}

/// An altitude written as text, as spreadsheets and KML `ExtendedData` hold
/// it: `"FL130"`, `"500 FT AMSL"`, `"152.4 m W84"` (units `M`/`FT`, reference
/// `W84`/`AMSL`/`MSL`, in any case), as the JSON the volume readers take;
/// `None` when the text is not one.
pub fn given_from_text(text: &str) -> Option<Value> {
    let upper = text.trim().to_ascii_uppercase();
    if let Some(digits) = upper.strip_prefix("FL") {
        let digits = digits.trim();
        return (!digits.is_empty()
            && digits.len() <= 3
            && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| Value::String(format!("FL{digits}")));
    }
    let words: Vec<&str> = upper.split_whitespace().collect();
    let [value, units, reference] = words[..] else {
        return None;
    };
    let value: f64 = value.parse().ok().filter(|v: &f64| v.is_finite())?;
    let units = match units {
        "M" | "METRES" | "METERS" => "M",
        "FT" | "FEET" => "FT",
        _ => return None,
    };
    let reference = match reference {
        "W84" | "WGS84" => "W84",
        "AMSL" | "MSL" => "AMSL",
        _ => return None,
    };
    Some(serde_json::json!({"value": value, "units": units, "reference": reference}))
}
