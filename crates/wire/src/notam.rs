//! A stored notice as the messages others already read: an ICAO NOTAM
//! (ICAO Annex 15 / PANS-AIM format: item 1, the Q-line, items A to G) and
//! a maritime NAVAREA warning (IMO/IHO World-Wide Navigational Warning
//! Service style). Both are written from the activity as the API reads it
//! back (`GET /v1/activities/{id}`: its current version's stored F3548
//! volumes, with `given` altitudes), never from what a client sent.
//!
//! What Parley cannot know is left to the caller or marked: the FIR (item A
//! and the Q-line; `XXXX` when none is given) and the NAVAREA; the series
//! and number, which a NOTAM office assigns (`P` and the activity's version
//! here, a replacement `NOTAMR` naming the version before, a cancelled
//! activity `NOTAMC`). Positions are written to the second (NOTAM) or the
//! hundredth of a minute (NAVAREA): within 16 m of the vertices Parley
//! compares exactly. Limits are written as given (a flight level, feet or
//! metres above mean sea level); limits given above the WGS84 ellipsoid are
//! written above mean sea level through the EGM96 geoid at the volume's
//! centre, rounded outward to the foot; a lower limit at or below mean sea
//! level is `SFC`.

use crate::altitude::geoid_height_m;
use crate::{parse_timestamp, FOOT_M};
use parley_engine::{distance_m, LatLng};
use serde_json::Value;

const NM: f64 = 1852.0;

/// A volume as these messages need it.
struct Area {
    /// Polygon vertices, or a circle's centre, (lat, lng).
    points: Vec<(f64, f64)>,
    radius_m: Option<f64>,
    start: String,
    end: String,
    lower: Limit,
    upper: Limit,
}

/// One limit: what is written, and feet above mean sea level to compare
/// and to put in the Q-line.
struct Limit {
    text: String,
    feet: f64,
}

fn limit(stored: &Value, given: Option<&Value>, centre: (f64, f64), lower: bool) -> Option<Limit> {
    let outward = |ft: f64| if lower { ft.floor() } else { ft.ceil() };
    let amsl = |ft: f64| {
        let ft = outward(ft);
        Limit {
            text: if lower && ft <= 0.0 {
                "SFC".into()
            } else {
                format!("{ft}FT AMSL")
            },
            feet: ft,
        }
    };
    match given {
        Some(Value::String(fl)) => Some(Limit {
            feet: fl.trim_start_matches("FL").parse::<f64>().ok()? * 100.0,
            text: fl.clone(),
        }),
        Some(g) if g["units"] == "FL" => {
            let n = g["value"].as_f64()?;
            Some(Limit {
                text: format!("FL{n:03}"),
                feet: n * 100.0,
            })
        }
        Some(g) if g["reference"] == "AMSL" => {
            let scale = if g["units"] == "FT" {
                1.0
            } else {
                1.0 / FOOT_M
            };
            Some(amsl(g["value"].as_f64()? * scale))
        }
        _ => {
            let w84 = stored["value"].as_f64()?;
            Some(amsl((w84 - geoid_height_m(centre.0, centre.1)) / FOOT_M))
        }
    }
}

fn areas(activity: &Value) -> Option<Vec<Area>> {
    let volumes = activity["current"]["content"]["volumes"].as_array()?;
    volumes
        .iter()
        .map(|v| {
            let vol = &v["volume"];
            let (points, radius_m) = if let Some(vs) = vol["outline_polygon"]["vertices"].as_array()
            {
                let ps = vs
                    .iter()
                    .map(|p| Some((p["lat"].as_f64()?, p["lng"].as_f64()?)))
                    .collect::<Option<Vec<_>>>()?;
                (ps, None)
            } else {
                let c = &vol["outline_circle"];
                let centre = (c["center"]["lat"].as_f64()?, c["center"]["lng"].as_f64()?);
                (vec![centre], Some(c["radius"]["value"].as_f64()?))
            };
            let centre = points[0];
            Some(Area {
                lower: limit(
                    &vol["altitude_lower"],
                    v["given"].get("altitude_lower"),
                    centre,
                    true,
                )?,
                upper: limit(
                    &vol["altitude_upper"],
                    v["given"].get("altitude_upper"),
                    centre,
                    false,
                )?,
                start: v["time_start"]["value"].as_str()?.to_string(),
                end: v["time_end"]["value"].as_str()?.to_string(),
                points,
                radius_m,
            })
        })
        .collect()
}

/// Degrees, minutes and seconds, rounded to the second: (d, m, s).
fn dms(angle: f64) -> (u32, u32, u32) {
    let s = (angle.abs() * 3600.0).round() as u32;
    (s / 3600, s / 60 % 60, s % 60)
}

/// `353015N0383000E`: a NOTAM position to the second.
fn notam_position((lat, lng): (f64, f64)) -> String {
    let (a, b, c) = dms(lat);
    let (d, e, f) = dms(lng);
    format!(
        "{a:02}{b:02}{c:02}{}{d:03}{e:02}{f:02}{}",
        if lat < 0.0 { 'S' } else { 'N' },
        if lng < 0.0 { 'W' } else { 'E' }
    )
}

/// `35-30.25N 038-30.00E`: a NAVAREA position to the hundredth of a minute.
fn navarea_position((lat, lng): (f64, f64)) -> String {
    let part = |v: f64, width: usize, hemi: [char; 2]| {
        let hundredths = (v.abs() * 6000.0).round() as u64;
        format!(
            "{:0width$}-{:02}.{:02}{}",
            hundredths / 6000,
            hundredths / 100 % 60,
            hundredths % 100,
            hemi[usize::from(v < 0.0)]
        )
    };
    format!("{} {}", part(lat, 2, ['N', 'S']), part(lng, 3, ['E', 'W']))
}

/// The time as `YYMMDDhhmm` (NOTAM items B and C), UTC.
fn notam_time(rfc3339: &str) -> String {
    utc(rfc3339).map_or_else(
        || "??????????".into(),
        |t| {
            format!(
                "{:02}{:02}{:02}{:02}{:02}",
                t.year() % 100,
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
    )
}

/// The time as `DDhhmm UTC MON YY` (NAVAREA).
fn navarea_time(rfc3339: &str) -> String {
    utc(rfc3339).map_or_else(
        || "??????".into(),
        |t| {
            let month = format!("{:?}", t.month()).to_uppercase();
            format!(
                "{:02}{:02}{:02} UTC {} {:02}",
                t.day(),
                t.hour(),
                t.minute(),
                &month[..3],
                t.year() % 100
            )
        },
    )
}

fn utc(rfc3339: &str) -> Option<time::OffsetDateTime> {
    let t = parse_timestamp(rfc3339).ok()?;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1000).ok()
}

/// The centre of all the areas' points and the radius (metres) that covers them.
fn envelope(areas: &[Area]) -> ((f64, f64), f64) {
    let all: Vec<(f64, f64, f64)> = areas
        .iter()
        .flat_map(|a| {
            a.points
                .iter()
                .map(|&(lat, lng)| (lat, lng, a.radius_m.unwrap_or(0.0)))
        })
        .collect();
    let (s, n) = all
        .iter()
        .fold((90.0f64, -90.0f64), |(s, n), p| (s.min(p.0), n.max(p.0)));
    // Longitudes about the first point, so an area across the antimeridian
    // has its middle near it.
    let first = all[0].1;
    let rel = |lng: f64| (lng - first + 540.0).rem_euclid(360.0) - 180.0;
    let (w, e) = all.iter().fold((180.0f64, -180.0f64), |(w, e), p| {
        (w.min(rel(p.1)), e.max(rel(p.1)))
    });
    let mid_lng = (first + (w + e) / 2.0 + 540.0).rem_euclid(360.0) - 180.0;
    let centre = ((s + n) / 2.0, mid_lng);
    let c = LatLng::new(centre.0, centre.1);
    let reach = all
        .iter()
        .map(|&(lat, lng, r)| distance_m(c, LatLng::new(lat, lng)) + r)
        .fold(0.0, f64::max);
    (centre, reach)
}

fn category(activity: &Value) -> String {
    activity["current"]["content"]["category"]
        .as_str()
        .unwrap_or("activity")
        .to_uppercase()
}

fn area_text(i: usize, a: &Area, position: fn((f64, f64)) -> String, joiner: &str) -> String {
    match a.radius_m {
        Some(r) => format!(
            "AREA {}: CIRCLE RADIUS {:.1}NM CENTRE {}",
            i + 1,
            (r / NM * 10.0).ceil() / 10.0,
            position(a.points[0])
        ),
        None => {
            let mut ps: Vec<String> = a.points.iter().map(|&p| position(p)).collect();
            ps.push(position(a.points[0]));
            format!("AREA {}: {}", i + 1, ps.join(joiner))
        }
    }
}

/// The activity (as `GET /v1/activities/{id}` answers) as ICAO NOTAM text;
/// `fir` is item A's and the Q-line's FIR (`XXXX` when the line names
/// none). `None` when the activity has no volumes in the stored form.
pub fn notam(activity: &Value, fir: &str) -> Option<String> {
    let areas = areas(activity)?;
    if areas.is_empty() {
        return None;
    }
    let start = areas.iter().map(|a| a.start.as_str()).min()?;
    let end = areas.iter().map(|a| a.end.as_str()).max()?;
    let lower = areas
        .iter()
        .min_by(|a, b| a.lower.feet.total_cmp(&b.lower.feet))?;
    let upper = areas
        .iter()
        .max_by(|a, b| a.upper.feet.total_cmp(&b.upper.feet))?;
    let ((clat, clng), reach) = envelope(&areas);
    let (la, lb, _) = dms(clat);
    let (ga, gb, _) = dms(clng);
    let radius_nm = ((reach / NM).ceil() as u32).clamp(1, 999);
    let version = activity["version"].as_u64().unwrap_or(1);
    let year = utc(start).map_or(0, |t| t.year() % 100);
    let kind = if activity["state"] == "cancelled" {
        format!("NOTAMC P{version:04}/{year:02}")
    } else if version > 1 {
        format!("NOTAMR P{:04}/{year:02}", version - 1)
    } else {
        "NOTAMN".into()
    };
    let qcode = if activity["current"]["content"]["category"] == "launch" {
        "QWMLW"
    } else {
        "QWELW"
    };
    let fl = |ft: f64| ((ft / 100.0).max(0.0) as u32).min(999);
    let upper_fl = ((upper.upper.feet / 100.0).ceil().max(0.0) as u32).min(999);
    let mut e = format!(
        "{} ACTIVITY NOTIFIED ON PARLEY LINE {} AS {} VERSION {version}.",
        category(activity),
        activity["line"].as_str().unwrap_or("?").to_uppercase(),
        activity["id"].as_str().unwrap_or("?").to_uppercase()
    );
    for (i, a) in areas.iter().enumerate() {
        e.push_str(&format!("\n{}", area_text(i, a, notam_position, " ")));
        if a.start != start || a.end != end {
            e.push_str(&format!(" {}-{}", notam_time(&a.start), notam_time(&a.end)));
        }
        if areas.len() > 1 {
            e.push_str(&format!(" {}-{}", a.lower.text, a.upper.text));
        }
        e.push('.');
    }
    if let Some(c) = activity["current"]["content"]["point_of_contact"].as_str() {
        e.push_str(&format!("\nCONTACT {}.", c.to_uppercase()));
    }
    Some(format!(
        "(P{version:04}/{year:02} {kind}\nQ) {fir}/{qcode}/IV/BO/W/{:03}/{upper_fl:03}/{la:02}{lb:02}{}{ga:03}{gb:02}{}{radius_nm:03}\nA) {fir} B) {} C) {}\nE) {e}\nF) {} G) {})\n",
        fl(lower.lower.feet),
        if clat < 0.0 { 'S' } else { 'N' },
        if clng < 0.0 { 'W' } else { 'E' },
        notam_time(start),
        notam_time(end),
        lower.lower.text,
        upper.upper.text,
    ))
}

/// The activity as a NAVAREA-style navigational warning; `navarea` names
/// the area (`III`), `XX` when the line names none.
pub fn navarea(activity: &Value, navarea: &str) -> Option<String> {
    let areas = areas(activity)?;
    let start = areas.iter().map(|a| a.start.as_str()).min()?;
    let end = areas.iter().map(|a| a.end.as_str()).max()?;
    let version = activity["version"].as_u64().unwrap_or(1);
    let year = utc(start).map_or(0, |t| t.year() % 100);
    let mut text = format!(
        "NAVAREA {navarea} {version:04}/{year:02}\n{} OPERATIONS NOTIFIED ON PARLEY LINE {} AS {} VERSION {version}.\n1. {} TO {} IN\n",
        category(activity),
        activity["line"].as_str().unwrap_or("?").to_uppercase(),
        activity["id"].as_str().unwrap_or("?").to_uppercase(),
        navarea_time(start),
        navarea_time(end),
    );
    for (i, a) in areas.iter().enumerate() {
        text.push_str(&format!("   {}", area_text(i, a, navarea_position, ", ")));
        if a.start != start || a.end != end {
            text.push_str(&format!(
                " FROM {} TO {}",
                navarea_time(&a.start),
                navarea_time(&a.end)
            ));
        }
        text.push_str(".\n");
    }
    if activity["state"] == "cancelled" {
        text.push_str("2. THIS ACTIVITY IS CANCELLED.\n");
    } else {
        text.push_str(&format!("2. CANCEL THIS MSG {}.\n", navarea_time(end)));
    }
    if let Some(c) = activity["current"]["content"]["point_of_contact"].as_str() {
        text.push_str(&format!("CONTACT {}.\n", c.to_uppercase()));
    }
    Some(text)
}
