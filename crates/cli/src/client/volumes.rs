//! Volumes from files (F3548 `Volume4D` JSON or GeoJSON), errors pointed back
//! into the file, and volumes as GeoJSON Features for export.

use super::ApiError;
use anyhow::{anyhow, bail, Result};
use parley_engine::LatLng;
use parley_wire::coordinates::{format_dms, format_mgrs, format_utm, Axis};
use parley_wire::FOOT_M;
use serde_json::{json, Map, Value};

/// The volumes of a file, and where each one sits in it (a JSON pointer).
pub struct Volumes {
    pub file: String,
    pub volumes: Vec<Value>,
    /// Each volume's JSON pointer in the file.
    pub at: Vec<String>,
    /// Each volume's line in the file (from 1).
    pub lines: Vec<usize>,
    /// The pointer of the array the volumes are in ("" for the whole file).
    pub array: String,
}

/// Calls `visit(pointer, line)` for every value in `text` (valid JSON), in
/// order: its JSON pointer (RFC 6901) and the line (from 1) it begins on;
/// stops when `visit` returns false.
fn each_value(text: &str, mut visit: impl FnMut(&str, usize) -> bool) {
    enum Frame {
        Array(usize),
        Object(String),
    }
    let pointer = |stack: &[Frame]| -> String {
        stack
            .iter()
            .map(|f| match f {
                Frame::Array(n) => format!("/{n}"),
                Frame::Object(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            })
            .collect()
    };
    let b = text.as_bytes();
    let (mut stack, mut line, mut i, mut value_next) = (Vec::<Frame>::new(), 1, 0, true);
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            line += usize::from(c == b'\n');
            i += 1;
            continue;
        }
        let starts_value = value_next && c != b']' && c != b'}';
        if starts_value {
            if !visit(&pointer(&stack), line) {
                return;
            }
            value_next = false;
        }
        match c {
            b'[' => {
                stack.push(Frame::Array(0));
                value_next = true;
            }
            b'{' => stack.push(Frame::Object(String::new())),
            b']' | b'}' => drop(stack.pop()),
            b',' => {
                if let Some(Frame::Array(n)) = stack.last_mut() {
                    *n += 1;
                    value_next = true;
                }
            }
            b':' => value_next = true,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let raw = &text[start..i.min(b.len())];
                line += raw.matches('\n').count();
                if let (false, Some(Frame::Object(key))) = (starts_value, stack.last_mut()) {
                    *key = serde_json::from_str(&format!("\"{raw}\""))
                        .unwrap_or_else(|_| raw.to_string());
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The line (from 1) where the value at `pointer` begins in `text` (valid JSON).
pub fn pointer_line(text: &str, pointer: &str) -> Option<usize> {
    let mut found = None;
    each_value(text, |p, line| {
        if p == pointer {
            found = Some(line);
        }
        found.is_none()
    });
    found
}

/// The line (from 1) where each element of the array at `pointer` begins.
fn element_lines(text: &str, pointer: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    each_value(text, |p, line| {
        let index = p.strip_prefix(pointer).and_then(|r| r.strip_prefix('/'));
        if index.is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())) {
            lines.push(line);
        }
        true
    });
    lines
}

/// Parses `text` (from `file`): a `Volume4D` or GeoJSON `Feature`, an array of
/// them, a `FeatureCollection`, or an object with `volumes` (a notice body).
pub fn parse(file: &str, text: &str) -> Result<Volumes> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        anyhow!(
            "{file}:{}:{}: not JSON: {e}; give F3548 Volume4D JSON or GeoJSON",
            e.line(),
            e.column()
        )
    })?;
    let (list, prefix): (Vec<Value>, &str) = match &v {
        Value::Array(a) => (a.clone(), ""),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("FeatureCollection") => {
            match o.get("features") {
                Some(Value::Array(a)) => (a.clone(), "/features"),
                _ => bail!(
                    "{file}: /features: missing; a FeatureCollection needs an array of features"
                ),
            }
        }
        Value::Object(o) if o.contains_key("volumes") => match o.get("volumes") {
            Some(Value::Array(a)) => (a.clone(), "/volumes"),
            _ => bail!("{file}: /volumes: give an array of volumes"),
        },
        Value::Object(_) => {
            return Ok(Volumes {
                file: file.to_string(),
                volumes: vec![v],
                at: vec![String::new()],
                lines: vec![1],
                array: String::new(),
            })
        }
        _ => bail!("{file}: give a volume, an array of volumes or a GeoJSON FeatureCollection"),
    };
    if list.is_empty() {
        bail!(
            "{file}: {}: no volume; give at least one",
            if prefix.is_empty() { "/" } else { prefix }
        );
    }
    let at = (0..list.len()).map(|i| format!("{prefix}/{i}")).collect();
    let mut lines = element_lines(text, prefix);
    if lines.len() != list.len() {
        lines = Vec::new();
    }
    Ok(Volumes {
        file: file.to_string(),
        volumes: list,
        at,
        lines,
        array: prefix.to_string(),
    })
}

impl Volumes {
    /// Turns a server error about `/volumes/N/...` (where `base` is the pointer of
    /// the volumes array in the request) into one about the file.
    ///
    /// The file's own pointer comes with the volume's line ("route.geojson:12:
    /// /features/3/geometry: ..."); an error about the whole array names the
    /// array and how many volumes it holds.
    pub fn locate(&self, e: ApiError, base: &str) -> anyhow::Error {
        if let ApiError::Status { status, message } = &e {
            let located = |message: String| {
                anyhow::Error::new(ApiError::Status {
                    status: *status,
                    message,
                })
            };
            if let Some(detail) = message
                .strip_prefix(base)
                .and_then(|r| r.strip_prefix(": "))
            {
                let array = if self.array.is_empty() {
                    "/"
                } else {
                    &self.array
                };
                let from = self
                    .lines
                    .first()
                    .map_or(String::new(), |l| format!(":{l}"));
                return located(format!(
                    "{}{from}: {array} ({} volumes): {detail}",
                    self.file,
                    self.volumes.len()
                ));
            }
            if let Some(rest) = message.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let index = digits.parse::<usize>().ok();
                if let Some(at) = index.and_then(|i| self.at.get(i)) {
                    let tail = &rest[digits.len()..];
                    let pointer = format!("{at}{tail}");
                    let pointer = if pointer.starts_with('/') || pointer.starts_with(':') {
                        pointer
                    } else {
                        format!("/{pointer}")
                    };
                    let line = index
                        .and_then(|i| self.lines.get(i))
                        .map_or(String::new(), |l| format!(":{l}"));
                    return located(format!(
                        "{}{line}: {}",
                        self.file,
                        pointer.trim_start_matches(':').trim_start()
                    ));
                }
            }
        }
        anyhow::Error::new(e)
    }
}

/// A volume as a GeoJSON Feature with `props` merged into its properties.
pub fn to_feature(volume: &Value, props: &Map<String, Value>) -> Value {
    if volume["type"] == "Feature" {
        let mut f = volume.clone();
        let p = f["properties"].as_object().cloned().unwrap_or_default();
        let mut merged = props.clone();
        merged.extend(p);
        f["properties"] = Value::Object(merged);
        return f;
    }
    let vol = &volume["volume"];
    let mut p = props.clone();
    p.insert(
        "altitude_lower_m".into(),
        vol["altitude_lower"]["value"].clone(),
    );
    p.insert(
        "altitude_upper_m".into(),
        vol["altitude_upper"]["value"].clone(),
    );
    p.insert("time_start".into(), volume["time_start"]["value"].clone());
    p.insert("time_end".into(), volume["time_end"]["value"].clone());
    let geometry = if let Some(vs) = vol["outline_polygon"]["vertices"].as_array() {
        let mut ring: Vec<Value> = vs.iter().map(|v| json!([v["lng"], v["lat"]])).collect();
        if let Some(first) = ring.first().cloned() {
            ring.push(first);
        }
        json!({"type": "Polygon", "coordinates": [ring]})
    } else {
        let c = &vol["outline_circle"];
        p.insert("radius_m".into(), c["radius"]["value"].clone());
        json!({"type": "Point", "coordinates": [c["center"]["lng"], c["center"]["lat"]]})
    };
    json!({"type": "Feature", "geometry": geometry, "properties": p})
}

/// A short summary of volumes: their count and overall window.
pub fn summary(volumes: &[Value]) -> String {
    let mut starts: Vec<&str> = Vec::new();
    let mut ends: Vec<&str> = Vec::new();
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for v in volumes {
        let (s, e, l, h) = if v["type"] == "Feature" {
            let p = &v["properties"];
            (
                &p["time_start"],
                &p["time_end"],
                &p["altitude_lower_m"],
                &p["altitude_upper_m"],
            )
        } else {
            (
                &v["time_start"]["value"],
                &v["time_end"]["value"],
                &v["volume"]["altitude_lower"]["value"],
                &v["volume"]["altitude_upper"]["value"],
            )
        };
        starts.extend(s.as_str());
        ends.extend(e.as_str());
        low = low.min(l.as_f64().unwrap_or(f64::INFINITY));
        high = high.max(h.as_f64().unwrap_or(f64::NEG_INFINITY));
    }
    let start = starts.iter().min().copied().unwrap_or("?");
    let end = ends.iter().max().copied().unwrap_or("?");
    let band = if low.is_finite() && high.is_finite() {
        format!(", {low}-{high} m")
    } else {
        String::new()
    };
    format!(
        "{} volume{}, {start} to {end}{band}",
        volumes.len(),
        if volumes.len() == 1 { "" } else { "s" }
    )
}

/// A volume's outline, read from the F3548 or the GeoJSON form. Degrees; metres.
#[derive(Debug, Clone, PartialEq)]
pub enum Outline {
    /// The vertices as (latitude, longitude), without the closing repeat.
    Polygon(Vec<(f64, f64)>),
    /// A centre (latitude, longitude) and a radius in metres.
    Circle { lat: f64, lng: f64, radius_m: f64 },
}

/// What a read-back says of one volume: where (outline), how high (metres above
/// the WGS84 ellipsoid) and when (RFC 3339, as stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub outline: Outline,
    pub lower_m: f64,
    pub upper_m: f64,
    pub start: String,
    pub end: String,
    /// The altitudes as given, when they were not W84 (above mean sea level,
    /// flight levels): the content's `given` member.
    pub given: Option<(String, String)>,
}

/// An altitude as given (`"FL130"`, `{"value", "reference", "units"}`), as text.
fn given_altitude(v: &Value) -> String {
    if let Some(text) = v.as_str() {
        return text.to_string();
    }
    let value = super::output::text(&v["value"]);
    match (v["units"].as_str(), v["reference"].as_str()) {
        (Some("FL"), _) => format!("FL{value}"),
        (Some(units), Some(reference)) => format!("{value} {} {reference}", units.to_lowercase()),
        _ => v.to_string(),
    }
}

/// The facts of a volume in either form; `None` when a part is missing.
pub fn facts(v: &Value) -> Option<Facts> {
    let num = |x: &Value| x.as_f64();
    if v["type"] == "Feature" {
        let p = &v["properties"];
        let g = &v["geometry"];
        let outline = match g["type"].as_str()? {
            "Polygon" => {
                let mut ring: Vec<(f64, f64)> = g["coordinates"][0]
                    .as_array()?
                    .iter()
                    .map(|c| Some((num(&c[1])?, num(&c[0])?)))
                    .collect::<Option<_>>()?;
                if ring.len() > 1 && ring.first() == ring.last() {
                    ring.pop();
                }
                Outline::Polygon(ring)
            }
            "Point" => Outline::Circle {
                lat: num(&g["coordinates"][1])?,
                lng: num(&g["coordinates"][0])?,
                radius_m: num(&p["radius_m"])?,
            },
            _ => return None,
        };
        return Some(Facts {
            outline,
            lower_m: num(&p["altitude_lower_m"])?,
            upper_m: num(&p["altitude_upper_m"])?,
            start: p["time_start"].as_str()?.to_string(),
            end: p["time_end"].as_str()?.to_string(),
            given: None,
        });
    }
    let vol = &v["volume"];
    let outline = if let Some(vs) = vol["outline_polygon"]["vertices"].as_array() {
        Outline::Polygon(
            vs.iter()
                .map(|p| Some((num(&p["lat"])?, num(&p["lng"])?)))
                .collect::<Option<_>>()?,
        )
    } else {
        let c = &vol["outline_circle"];
        Outline::Circle {
            lat: num(&c["center"]["lat"])?,
            lng: num(&c["center"]["lng"])?,
            radius_m: num(&c["radius"]["value"])?,
        }
    };
    Some(Facts {
        outline,
        lower_m: num(&vol["altitude_lower"]["value"])?,
        upper_m: num(&vol["altitude_upper"]["value"])?,
        start: v["time_start"]["value"].as_str()?.to_string(),
        end: v["time_end"]["value"].as_str()?.to_string(),
        given: v.get("given").map(|g| {
            (
                given_altitude(&g["altitude_lower"]),
                given_altitude(&g["altitude_upper"]),
            )
        }),
    })
}

/// One coordinate: decimal degrees (`35.50417°N`, five decimals, about 1 m) or
/// degrees-minutes-seconds (`038°30'15"E`, longitudes with three degree digits).
pub fn coordinate(value: f64, latitude: bool, dms: bool) -> String {
    let axis = if latitude {
        Axis::Latitude
    } else {
        Axis::Longitude
    };
    if dms {
        format_dms(value, axis)
    } else {
        let hemi = match (latitude, value < 0.0) {
            (true, false) => 'N',
            (true, true) => 'S',
            (false, false) => 'E',
            (false, true) => 'W',
        };
        format!("{:.5}°{hemi}", value.abs())
    }
}

/// A point as "latitude longitude".
pub fn point(lat: f64, lng: f64, dms: bool) -> String {
    format!(
        "{} {}",
        coordinate(lat, true, dms),
        coordinate(lng, false, dms)
    )
}

/// A point as officers write it besides decimal degrees: DMS, then MGRS and
/// UTM to the metre.
fn in_other_forms(lat: f64, lng: f64) -> String {
    let at = LatLng::new(lat, lng);
    let mut out = point(lat, lng, true);
    if let Ok(mgrs) = format_mgrs(at) {
        out.push_str(&format!(", MGRS {mgrs}"));
    }
    if let Ok(utm) = format_utm(at) {
        out.push_str(&format!(", UTM {utm}"));
    }
    out
}

/// Metres as whole feet, for the altitudes aviation reads.
fn feet(m: f64) -> String {
    format!("{:.0}", m / FOOT_M)
}

/// The box around a polygon's vertices: (south, north, west, east), degrees;
/// west > east when it crosses the antimeridian (the narrowest arc of
/// longitude that holds every vertex).
pub fn polygon_box(vertices: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    let south = vertices.iter().map(|v| v.0).fold(f64::INFINITY, f64::min);
    let north = vertices
        .iter()
        .map(|v| v.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let wrap = |l: f64| (l + 180.0).rem_euclid(360.0) - 180.0;
    let (west, width) = vertices
        .iter()
        .map(|&(_, start)| {
            let width = vertices
                .iter()
                .map(|&(_, l)| (l - start).rem_euclid(360.0))
                .fold(0.0, f64::max);
            (wrap(start), width)
        })
        .fold(
            (-180.0, 360.0),
            |best, c| if c.1 < best.1 { c } else { best },
        );
    (south, north, west, wrap(west + width))
}

/// The read-back of one volume in three lines (after a label of `indent` width):
/// the shape and centre (decimal degrees, DMS and MGRS), the extent, then the
/// altitudes (metres and feet) and the window.
pub fn place_lines(f: &Facts, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let (head, extent) = match &f.outline {
        Outline::Circle { lat, lng, radius_m } => (
            format!(
                "circle, centre {} ({})",
                point(*lat, *lng, false),
                in_other_forms(*lat, *lng)
            ),
            format!("radius {radius_m} m"),
        ),
        Outline::Polygon(vs) => {
            let (s, n, w, e) = polygon_box(vs);
            let (clat, clng) = ((s + n) / 2.0, {
                let mid = w + ((e - w).rem_euclid(360.0)) / 2.0;
                if mid >= 180.0 {
                    mid - 360.0
                } else {
                    mid
                }
            });
            (
                format!(
                    "polygon of {} vertices, centre {} ({})",
                    vs.len(),
                    point(clat, clng, false),
                    in_other_forms(clat, clng)
                ),
                format!(
                    "box {} to {}, {} to {}",
                    coordinate(s, true, false),
                    coordinate(n, true, false),
                    coordinate(w, false, false),
                    coordinate(e, false, false)
                ),
            )
        }
    };
    // Altitudes given otherwise are shown as given, then as compared.
    let given = f.given.as_ref().map_or(String::new(), |(lower, upper)| {
        format!("given {lower} to {upper}, compared as ")
    });
    format!(
        "{head}\n{pad}{extent}\n{pad}{given}{}-{} m W84 ({}-{} ft), {} to {}\n",
        f.lower_m,
        f.upper_m,
        feet(f.lower_m),
        feet(f.upper_m),
        f.start,
        f.end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn altitudes_given_otherwise_read_back_as_given_and_as_compared() {
        let stored = json!({"volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 38.0},
            "radius": {"value": 5000.0, "units": "M"}},
            "altitude_lower": {"value": 2733.21, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 4284.93, "reference": "W84", "units": "M"}},
            "time_start": {"value": "2026-11-22T02:00:00Z", "format": "RFC3339"},
            "time_end": {"value": "2026-11-22T03:00:00Z", "format": "RFC3339"},
            "given": {"altitude_lower": "FL100", "altitude_upper": {"value": 1300, "reference": "AMSL", "units": "FT"}}});
        let text = place_lines(&facts(&stored).unwrap(), 2);
        assert!(
            text.contains("given FL100 to 1300 ft AMSL, compared as 2733.21-4284.93 m W84"),
            "{text}"
        );
        let mut plain = stored.clone();
        plain.as_object_mut().unwrap().remove("given");
        assert!(!place_lines(&facts(&plain).unwrap(), 2).contains("given"));
    }

    #[test]
    fn each_volume_is_found_on_its_line() {
        let collection = "{\"type\": \"FeatureCollection\",\n \"name\": \"[not, this]\",\n \"features\": [\n  {\"a\": [1,\n 2]},\n  {\"b\": \"x\\\"]\"}, {\"c\": 3}\n ]}";
        let v = parse("f.geojson", collection).unwrap();
        assert_eq!(v.lines, vec![4, 6, 6]);
        assert_eq!(element_lines("[\n{},\n\n{}]", ""), vec![2, 4]);
        let talk = "{\n \"a/b\": 1,\n \"agenda\": [\n  {\"item\": \"x\\\"y\",\n   \"outcome\": \"maybe\"}\n ]\n}";
        assert_eq!(pointer_line(talk, "/agenda/0/outcome"), Some(5));
        assert_eq!(pointer_line(talk, "/agenda/0"), Some(4));
        assert_eq!(pointer_line(talk, "/a~1b"), Some(2));
        assert_eq!(pointer_line(talk, ""), Some(1));
        assert_eq!(pointer_line(talk, "/agenda/1"), None);
        let e = ApiError::Status {
            status: reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            message: "/volumes/1/volume: give an outline".into(),
        };
        assert_eq!(
            v.locate(e, "/volumes").to_string(),
            "f.geojson:6: /features/1/volume: give an outline (server answered 422)"
        );
        let e = ApiError::Status {
            status: reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            message: "/volumes: give at most 100 volumes".into(),
        };
        assert_eq!(
            v.locate(e, "/volumes").to_string(),
            "f.geojson:4: /features (3 volumes): give at most 100 volumes (server answered 422)"
        );
    }

    #[test]
    fn coordinates_in_both_formats() {
        assert_eq!(point(35.504166, 38.5, true), "35°30'15\"N 038°30'00\"E");
        assert_eq!(point(-0.5, -120.25, false), "0.50000°S 120.25000°W");
        // Seconds that round to 60 carry into the minute.
        assert_eq!(coordinate(10.999_999, true, true), "11°00'00\"N");
    }

    #[test]
    fn a_box_across_the_antimeridian_is_the_narrow_one() {
        let (s, n, w, e) = polygon_box(&[(1.0, 179.0), (2.0, -179.0), (0.0, -178.0)]);
        assert_eq!((s, n, w, e), (0.0, 2.0, 179.0, -178.0));
    }
}
