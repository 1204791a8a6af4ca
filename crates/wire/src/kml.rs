//! KML in and out (OGC KML 2.2/2.3, through georust's `kml`), for analysts
//! who draw in Google Earth or QGIS.
//!
//! **In**: every `Placemark` (in any `Document` or `Folder`) becomes one
//! GeoJSON Feature ([`crate::geojson`]), which the rest of the crate reads
//! as it reads any Feature:
//!
//! | KML | Feature |
//! |---|---|
//! | `Polygon` (its outer boundary; a hole is refused) or `LinearRing` | `Polygon` |
//! | `Point` with `ExtendedData` `radius_m` | `Point`: a circle |
//! | `LineString` with `ExtendedData` `half_width_m` | a route ([`crate::shapes`]) |
//! | `MultiGeometry` of polygons | `MultiPolygon` |
//! | `ExtendedData` `Data`/`SimpleData` | properties of the same names (a value that reads as JSON is that JSON; `"500 FT AMSL"` is an altitude) |
//! | `TimeSpan` `begin`/`end` | `time_start`/`time_end` when `ExtendedData` does not give them |
//!
//! Altitudes: `ExtendedData` `altitude_lower`/`altitude_upper` (or `_m`)
//! win. Otherwise the coordinates' altitudes give the band under
//! `altitudeMode` `absolute`, which KML defines as above mean sea level:
//! the highest is the upper limit (`AMSL`, through the geoid as any AMSL
//! altitude), the lowest the lower one unless the shape is extruded (it
//! then reaches the ground, whose height Parley does not know, so the
//! lower limit must be given). `clampToGround` (KML's default) and
//! `relativeToGround` carry no altitude Parley can use: the band must be
//! given in `ExtendedData`, and a refusal says so.
//!
//! **Out**: [`write_kml`] writes stored F3548 volumes as Placemarks that read
//! back as the same volumes (their band in `ExtendedData`, metres above the
//! WGS84 ellipsoid) and show in 3D in a viewer (coordinates `absolute` at the
//! upper limit above mean sea level, extruded, and a `TimeSpan`).

use crate::altitude::{geoid_height_m, given_from_text};
use kml::types::{AltitudeMode, Coord, Element, Geometry, LinearRing, Placemark, Point, Polygon};
use kml::{Kml, KmlDocument};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fmt;

/// A KML document that cannot be read: which Placemark (by its order in the
/// document, from 0, and its name) and what to give instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmlError {
    /// The Placemark, from 0 in document order; `None` for the whole document.
    pub placemark: Option<usize>,
    /// "Placemark 2 (\"Hospital\")" or "the document".
    pub label: String,
    /// What is wrong and what to give instead.
    pub message: String,
}

impl fmt::Display for KmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.message)
    }
}

impl std::error::Error for KmlError {}

/// One Placemark read as a GeoJSON Feature.
#[derive(Clone, Debug)]
pub struct KmlFeature {
    /// Its `name`, if it has one.
    pub name: Option<String>,
    /// "Placemark 2 (\"Hospital\")", for messages.
    pub label: String,
    /// The Feature.
    pub feature: Value,
}

/// The Placemarks of a KML document, each as a GeoJSON Feature.
pub fn read_kml(text: &str) -> Result<Vec<KmlFeature>, KmlError> {
    read_kml_with(text, &Map::new())
}

/// [`read_kml`], with `defaults`: the properties of a Placemark that gives
/// none of its own (a route's `half_width_m`, a window, a band).
pub fn read_kml_with(
    text: &str,
    defaults: &Map<String, Value>,
) -> Result<Vec<KmlFeature>, KmlError> {
    let document = |message: String| KmlError {
        placemark: None,
        label: "the document".into(),
        message,
    };
    let text = text.trim_start_matches('\u{feff}');
    // The `kml` reader does not return on a truncated document: check that
    // the XML is whole first.
    well_formed(text)
        .map_err(|e| document(format!("not KML ({e}); give a whole KML 2.2 document")))?;
    let root: Kml = text.parse().map_err(|e| {
        document(format!(
            "not KML ({e}); give a KML 2.2 document with Placemarks"
        ))
    })?;
    let mut placemarks = Vec::new();
    collect(&root, &mut placemarks);
    if placemarks.is_empty() {
        return Err(document(
            "has no Placemark; give at least one Placemark with a geometry".into(),
        ));
    }
    placemarks
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let label = match &p.name {
                Some(n) => format!("Placemark {} (\"{n}\")", i + 1),
                None => format!("Placemark {}", i + 1),
            };
            let feature = feature(p, defaults).map_err(|message| KmlError {
                placemark: Some(i),
                label: label.clone(),
                message,
            })?;
            Ok(KmlFeature {
                name: p.name.clone(),
                label,
                feature,
            })
        })
        .collect()
}

/// Whether `text` is whole XML: every element closed, nothing after the end.
/// A fault is placed by line and column (from 1, columns in bytes), as an
/// editor shows them.
fn well_formed(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let at = |byte: u64| {
        let before = &text.as_bytes()[..(byte as usize).min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        format!("line {line}, column {column}")
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<(String, u64)> = Vec::new();
    loop {
        let before = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(e)) => open.push((
                String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                before,
            )),
            Ok(Event::End(_)) => drop(open.pop()),
            Ok(Event::Eof) => {
                return match open.last() {
                    Some((tag, opened)) => Err(format!(
                        "<{tag}> opened at {} is never closed; close it with </{tag}> (is the file cut short?)",
                        at(*opened)
                    )),
                    None => Ok(()),
                }
            }
            Ok(_) => {}
            Err(e) => return Err(format!("{}: {e}", at(reader.buffer_position()))),
        }
    }
}

/// The line (from 1) each Placemark begins on, in document order.
pub fn placemark_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut line = 1;
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        line += rest[..i].matches('\n').count();
        rest = &rest[i + 1..];
        let tag = rest
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next();
        // `kml:Placemark` as well, when the namespace is prefixed.
        if tag.is_some_and(|t| t == "Placemark" || t.ends_with(":Placemark")) {
            lines.push(line);
        }
    }
    lines
}

fn collect<'a>(k: &'a Kml, out: &mut Vec<&'a Placemark>) {
    match k {
        Kml::KmlDocument(d) => d.elements.iter().for_each(|e| collect(e, out)),
        Kml::Document { elements, .. } => elements.iter().for_each(|e| collect(e, out)),
        Kml::Folder(f) => f.elements.iter().for_each(|e| collect(e, out)),
        Kml::Placemark(p) => out.push(p),
        _ => {}
    }
}

/// What a geometry says of altitudes: its mode, whether it is extruded and
/// its coordinates' altitudes.
struct Heights {
    mode: AltitudeMode,
    extrude: bool,
    z: Vec<f64>,
}

fn feature(p: &Placemark, defaults: &Map<String, Value>) -> Result<Value, String> {
    let geometry = p.geometry.as_ref().ok_or(
        "has no geometry; give a Polygon, a Point (with ExtendedData radius_m) or a LineString (with ExtendedData half_width_m)",
    )?;
    let mut heights = Vec::new();
    let geometry = geojson_geometry(geometry, &mut heights)?;
    let mut props = extended_data(&p.children);
    if let Some(name) = &p.name {
        props.entry("name").or_insert(json!(name));
    }
    time_span(&p.children, &mut props);
    fill(&mut props, defaults);
    for key in ["time_start", "time_end"] {
        if !props.contains_key(key) {
            return Err(format!("has no {key}; give a TimeSpan with begin and end (RFC 3339), or ExtendedData time_start and time_end"));
        }
    }
    band(&heights, &mut props)?;
    match geometry["type"].as_str() {
        Some("Point") if !props.contains_key("radius_m") => {
            return Err("is a Point: a circle needs its radius; give ExtendedData radius_m (metres)".into())
        }
        Some("LineString") if !props.contains_key("half_width_m") => {
            return Err("is a LineString: a route needs its width; give ExtendedData half_width_m (metres either side)".into())
        }
        _ => {}
    }
    Ok(json!({"type": "Feature", "geometry": geometry, "properties": props}))
}

/// Fills what a Feature's `props` lack from `defaults` (an altitude given
/// either way, `altitude_lower` or `altitude_lower_m`, counts as given).
pub fn fill(props: &mut Map<String, Value>, defaults: &Map<String, Value>) {
    for (k, v) in defaults {
        let base = k.trim_end_matches("_m");
        if !props.contains_key(base) && !props.contains_key(&format!("{base}_m")) {
            props.insert(k.clone(), v.clone());
        }
    }
}

fn positions(coords: &[Coord]) -> Vec<Value> {
    coords.iter().map(|c| json!([c.x, c.y])).collect()
}

fn ring(r: &LinearRing, heights: &mut Vec<Heights>, what: &str) -> Result<Value, String> {
    let mut ring = positions(&r.coords);
    if ring.len() < 3 {
        return Err(format!(
            "{what} has {} positions; give at least three",
            ring.len()
        ));
    }
    if ring.first() != ring.last() {
        ring.push(ring[0].clone());
    }
    heights.push(Heights {
        mode: r.altitude_mode,
        extrude: r.extrude,
        z: r.coords.iter().filter_map(|c| c.z).collect(),
    });
    Ok(json!([ring]))
}

fn polygon(p: &Polygon, heights: &mut Vec<Heights>) -> Result<Value, String> {
    if !p.inner.is_empty() {
        return Err("has an innerBoundaryIs (a hole); Parley covers whole polygons: leave the hole out, or draw the area around it as several polygons".into());
    }
    let rings = ring(&p.outer, heights, "its outerBoundaryIs")?;
    let last = heights.len() - 1;
    // The polygon's own mode and extrude are what viewers use.
    heights[last].mode = p.altitude_mode;
    heights[last].extrude = p.extrude;
    Ok(rings)
}

fn geojson_geometry(g: &Geometry, heights: &mut Vec<Heights>) -> Result<Value, String> {
    Ok(match g {
        Geometry::Point(p) => {
            heights.push(Heights {
                mode: p.altitude_mode,
                extrude: p.extrude,
                z: p.coord.z.into_iter().collect(),
            });
            json!({"type": "Point", "coordinates": [p.coord.x, p.coord.y]})
        }
        Geometry::LineString(l) => {
            if l.coords.len() < 2 {
                return Err("its LineString has fewer than two positions; give at least two".into());
            }
            heights.push(Heights {
                mode: l.altitude_mode,
                extrude: l.extrude,
                z: l.coords.iter().filter_map(|c| c.z).collect(),
            });
            json!({"type": "LineString", "coordinates": positions(&l.coords)})
        }
        Geometry::LinearRing(r) => {
            json!({"type": "Polygon", "coordinates": ring(r, heights, "its LinearRing")?})
        }
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": polygon(p, heights)?}),
        Geometry::MultiGeometry(m) => {
            let polygons = m
                .geometries
                .iter()
                .map(|g| match g {
                    Geometry::Polygon(p) => polygon(p, heights),
                    _ => Err("has a MultiGeometry of other than polygons; give polygons only, or one Placemark a shape".into()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if polygons.is_empty() {
                return Err("has an empty MultiGeometry; give at least one Polygon".into());
            }
            json!({"type": "MultiPolygon", "coordinates": polygons})
        }
        _ => return Err("has a geometry Parley does not read (a Model); give a Polygon, a Point or a LineString".into()),
    })
}

fn child<'a>(e: &'a [Element], name: &str) -> Option<&'a Element> {
    e.iter()
        .find(|c| c.name == name || c.name.ends_with(&format!(":{name}")))
}

/// A text value as the property it means: JSON when it reads as JSON (a
/// number, an object), an altitude when it reads as one ("500 FT AMSL"),
/// else the text.
pub fn property_value(text: &str) -> Value {
    let text = text.trim();
    if let Some(altitude) = given_from_text(text) {
        return altitude;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Number(_) | Value::Object(_) | Value::Array(_) | Value::Bool(_))) => v,
        _ => Value::String(text.to_string()),
    }
}

fn extended_data(children: &[Element]) -> Map<String, Value> {
    let mut props = Map::new();
    let Some(data) = child(children, "ExtendedData") else {
        return props;
    };
    for d in &data.children {
        if d.name == "Data" {
            if let (Some(name), Some(value)) = (
                d.attrs.get("name"),
                child(&d.children, "value").and_then(|v| v.content.as_deref()),
            ) {
                props.insert(name.clone(), property_value(value));
            }
        } else if d.name == "SchemaData" {
            for s in d.children.iter().filter(|s| s.name == "SimpleData") {
                if let (Some(name), Some(value)) = (s.attrs.get("name"), s.content.as_deref()) {
                    props.insert(name.clone(), property_value(value));
                }
            }
        }
    }
    props
}

fn time_span(children: &[Element], props: &mut Map<String, Value>) {
    if let Some(span) = child(children, "TimeSpan") {
        for (tag, key) in [("begin", "time_start"), ("end", "time_end")] {
            if let Some(t) = child(&span.children, tag).and_then(|t| t.content.as_deref()) {
                props.entry(key).or_insert(json!(t.trim()));
            }
        }
    }
}

/// Fills the band from the coordinates' altitudes where KML defines them
/// (`absolute`: above mean sea level), or says what to give.
fn band(heights: &[Heights], props: &mut Map<String, Value>) -> Result<(), String> {
    let given = |props: &Map<String, Value>, end: &str| {
        props.contains_key(end) || props.contains_key(&format!("{end}_m"))
    };
    let absolute: Vec<f64> = heights
        .iter()
        .filter(|h| h.mode == AltitudeMode::Absolute)
        .flat_map(|h| h.z.iter().copied())
        .collect();
    let extruded = heights.iter().any(|h| h.extrude);
    let all_absolute = heights.iter().all(|h| h.mode == AltitudeMode::Absolute);
    let amsl = |m: f64| json!({"value": m, "reference": "AMSL", "units": "M"});
    if all_absolute && !absolute.is_empty() {
        let (low, high) = absolute
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &z| {
                (l.min(z), h.max(z))
            });
        if !given(props, "altitude_upper") {
            props.insert("altitude_upper".into(), amsl(high));
        }
        if !given(props, "altitude_lower") && !extruded && low < high {
            props.insert("altitude_lower".into(), amsl(low));
        }
    }
    let missing: Vec<&str> = ["altitude_lower", "altitude_upper"]
        .into_iter()
        .filter(|end| !given(props, end))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let why = match heights.first().map(|h| h.mode) {
        Some(AltitudeMode::RelativeToGround) => {
            "its altitudes are relative to the ground, whose height Parley does not know"
        }
        Some(AltitudeMode::ClampToGround) => {
            "its altitudeMode is clampToGround (KML's default): it says nothing of height"
        }
        _ if extruded => "it is extruded to the ground, whose height Parley does not know",
        _ => "its coordinates give one altitude, not a band",
    };
    Err(format!(
        "has no {}: {why}; give altitudeMode absolute with altitudes in the coordinates (metres above mean sea level), or ExtendedData {} (\"500 FT AMSL\", \"FL130\", or metres above the WGS84 ellipsoid as {}_m)",
        missing.join(" and "),
        missing.join(" and "),
        missing[0]
    ))
}

fn text(name: &str, content: String) -> Element {
    Element {
        name: name.into(),
        content: Some(content),
        ..Default::default()
    }
}

fn data(name: &str, value: &Value) -> Element {
    let content = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Element {
        name: "Data".into(),
        attrs: HashMap::from([("name".to_string(), name.to_string())]),
        children: vec![text("value", content)],
        ..Default::default()
    }
}

/// One stored F3548 volume as a Placemark named `name`, with `extra` (an
/// activity's id, party, version) beside the band and window in its
/// `ExtendedData`. `None` when the volume is not in the F3548 form.
fn placemark(name: &str, volume: &Value, extra: &Map<String, Value>) -> Option<Kml> {
    let vol = &volume["volume"];
    let lower = vol["altitude_lower"]["value"].as_f64()?;
    let upper = vol["altitude_upper"]["value"].as_f64()?;
    let (start, end) = (
        volume["time_start"]["value"].as_str()?,
        volume["time_end"]["value"].as_str()?,
    );
    // In a viewer the shape stands at its upper limit above mean sea level.
    let at = |lat: f64, lng: f64| Coord::new(lng, lat, Some(upper - geoid_height_m(lat, lng)));
    let mut fields: Vec<Element> = extra.iter().map(|(k, v)| data(k, v)).collect();
    fields.push(data("altitude_lower_m", &json!(lower)));
    fields.push(data("altitude_upper_m", &json!(upper)));
    fields.push(data("time_start", &json!(start)));
    fields.push(data("time_end", &json!(end)));
    let geometry = if let Some(vs) = vol["outline_polygon"]["vertices"].as_array() {
        let mut coords = vs
            .iter()
            .map(|v| Some(at(v["lat"].as_f64()?, v["lng"].as_f64()?)))
            .collect::<Option<Vec<_>>>()?;
        coords.push(*coords.first()?);
        let mut outer = LinearRing::from(coords);
        outer.altitude_mode = AltitudeMode::Absolute;
        let mut p = Polygon::new(outer, Vec::new());
        p.altitude_mode = AltitudeMode::Absolute;
        p.extrude = true;
        Geometry::Polygon(p)
    } else {
        let c = &vol["outline_circle"];
        let (lat, lng) = (c["center"]["lat"].as_f64()?, c["center"]["lng"].as_f64()?);
        fields.push(data("radius_m", &c["radius"]["value"]));
        let mut p = Point::from(at(lat, lng));
        p.altitude_mode = AltitudeMode::Absolute;
        p.extrude = true;
        Geometry::Point(p)
    };
    let span = Element {
        name: "TimeSpan".into(),
        children: vec![text("begin", start.into()), text("end", end.into())],
        ..Default::default()
    };
    let extended = Element {
        name: "ExtendedData".into(),
        children: fields,
        ..Default::default()
    };
    Some(Kml::Placemark(Placemark {
        name: Some(name.to_string()),
        geometry: Some(geometry),
        children: vec![span, extended],
        ..Default::default()
    }))
}

/// A KML document named `name` of Placemarks, one for each `(name, volume,
/// extra)`: a stored F3548 volume and what to keep beside it. Volumes not in
/// the F3548 form are left out.
pub fn write_kml(name: &str, volumes: &[(String, Value, Map<String, Value>)]) -> String {
    let mut elements = vec![Kml::Element(text("name", name.to_string()))];
    elements.extend(
        volumes
            .iter()
            .filter_map(|(n, v, extra)| placemark(n, v, extra)),
    );
    let root = Kml::KmlDocument(KmlDocument {
        attrs: HashMap::from([(
            "xmlns".to_string(),
            "http://www.opengis.net/kml/2.2".to_string(),
        )]),
        elements: vec![Kml::Document {
            attrs: HashMap::new(),
            elements,
        }],
        ..Default::default()
    });
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{root}\n")
}

/// The volumes at pointer `at` with each `{"kml": "<Placemark>…</Placemark>"}`
/// (a Placemark, or a KML document holding one) replaced by the Feature it
/// reads as: how the API takes KML beside F3548 and GeoJSON. A refusal
/// points at the entry's `kml` member and names the Placemark.
pub fn inline(values: Vec<Value>, at: &str) -> Result<Vec<Value>, crate::WireError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let Some(text) = v.get("kml") else {
                return Ok(v);
            };
            let kat = format!("{at}/{i}/kml");
            let text = text.as_str().ok_or_else(|| {
                crate::WireError::at(
                    &kat,
                    "give the KML as a string: a Placemark, or a document holding one",
                )
            })?;
            let mut read = read_kml(text).map_err(|e| crate::WireError::at(&kat, e.to_string()))?;
            match read.len() {
                1 => Ok(read.remove(0).feature),
                n => Err(crate::WireError::at(
                    kat,
                    format!("holds {n} Placemarks; give one Placemark an entry of the array"),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placemark(geometry: &str, data: &str) -> String {
        format!(
            "<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document>\n<Placemark><name>A</name>\
             <TimeSpan><begin>2030-01-01T10:00:00Z</begin><end>2030-01-01T12:00:00Z</end></TimeSpan>\
             <ExtendedData>{data}</ExtendedData>{geometry}</Placemark></Document></kml>"
        )
    }

    #[test]
    fn truncated_documents_and_holes_are_refused_saying_what_to_give() {
        let e = read_kml("<kml>\n  <Placemark><name>x</name>").unwrap_err();
        assert!(
            e.message
                .contains("<Placemark> opened at line 2, column 3 is never closed; close it with </Placemark>"),
            "{e}"
        );
        let e = read_kml("<kml>\n<Placemark>\n <name>x</nome></Placemark></kml>").unwrap_err();
        assert!(e.message.contains("line 3, column"), "{e}");
        assert!(e.message.contains("give a whole KML 2.2 document"), "{e}");
        let hole = "<Polygon><altitudeMode>absolute</altitudeMode><outerBoundaryIs><LinearRing><coordinates>0,0,5 1,0,5 1,1,9 0,0,5</coordinates></LinearRing></outerBoundaryIs>\
                    <innerBoundaryIs><LinearRing><coordinates>0.1,0.1 0.2,0.1 0.2,0.2 0.1,0.1</coordinates></LinearRing></innerBoundaryIs></Polygon>";
        let e = read_kml(&placemark(hole, "")).unwrap_err();
        assert_eq!(
            (e.placemark, e.label.as_str()),
            (Some(0), "Placemark 1 (\"A\")")
        );
        assert!(e.message.contains("hole"), "{e}");
    }

    #[test]
    fn absolute_altitudes_are_above_mean_sea_level_and_extended_data_wins() {
        let ring = "<Polygon><altitudeMode>absolute</altitudeMode><outerBoundaryIs><LinearRing><coordinates>0,0,5 1,0,5 1,1,9 0,0,5</coordinates></LinearRing></outerBoundaryIs></Polygon>";
        let f = &read_kml(&placemark(ring, "")).unwrap()[0].feature;
        assert_eq!(
            f["properties"]["altitude_lower"],
            json!({"value": 5.0, "reference": "AMSL", "units": "M"})
        );
        assert_eq!(f["properties"]["altitude_upper"]["value"], 9.0);
        assert_eq!(f["geometry"]["coordinates"][0][3], json!([0.0, 0.0]));
        let given = "<Data name=\"altitude_upper\"><value>FL100</value></Data>";
        let f = &read_kml(&placemark(ring, given)).unwrap()[0].feature;
        assert_eq!(f["properties"]["altitude_upper"], "FL100");
        assert_eq!(placemark_lines(&placemark(ring, "")), vec![2]);
    }
}
