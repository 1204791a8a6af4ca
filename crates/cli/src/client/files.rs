//! Files the field already keeps, read into the volumes and sites the API
//! takes: KML and KMZ (Placemarks, `parley_wire::kml`), GPX routes and
//! tracks (a route of a half-width the user gives), and CSV or spreadsheet
//! lists of protected sites (one site a row, the columns mapped by
//! `--columns` or guessed from the header). Every refusal names where in
//! the file: the Placemark and its line, the route, the row and the column.

use super::output;
use super::read_input;
use super::volumes::{self, Volumes};
use anyhow::{anyhow, bail, Context, Result};
use parley_wire::altitude::given_from_text;
use parley_wire::kml::fill;
use serde_json::{json, Map, Value};
use std::io::Read;

/// What a file may leave out, given on the command line.
#[derive(clap::Args, Clone, Default)]
pub struct Defaults {
    /// For a route (GPX, or a KML LineString without ExtendedData
    /// half_width_m): metres either side of it.
    #[arg(long)]
    half_width: Option<f64>,
    /// Start of the window, where the file gives none (RFC 3339 or a delay
    /// from now, such as 2h).
    #[arg(long)]
    start: Option<String>,
    /// End of the window, where the file gives none.
    #[arg(long)]
    end: Option<String>,
    /// Lower limit where the file gives none: "500 FT AMSL", "FL100", or
    /// metres above the WGS84 ellipsoid.
    #[arg(long)]
    lower: Option<String>,
    /// Upper limit where the file gives none (as --lower).
    #[arg(long)]
    upper: Option<String>,
}

/// An altitude given as text: "500 FT AMSL", "FL130", or metres (W84).
pub fn altitude(text: &str, what: &str) -> Result<(String, Value), String> {
    if let Some(v) = given_from_text(text) {
        return Ok((what.to_string(), v));
    }
    match text.trim().parse::<f64>() {
        Ok(m) if m.is_finite() => Ok((format!("{what}_m"), json!(m))),
        _ => Err(format!(
            "\"{text}\" is not an altitude; give \"500 FT AMSL\", \"150 M W84\", \"FL130\", or metres above the WGS84 ellipsoid"
        )),
    }
}

impl Defaults {
    /// The properties these flags give, as a Feature's.
    pub fn properties(&self) -> Result<Map<String, Value>> {
        let mut p = Map::new();
        if let Some(w) = self.half_width {
            p.insert("half_width_m".into(), json!(w));
        }
        for (flag, key, v) in [
            ("--start", "time_start", &self.start),
            ("--end", "time_end", &self.end),
        ] {
            if let Some(t) = v {
                p.insert(
                    key.into(),
                    json!(output::when(t).map_err(|e| anyhow!("{flag}: {e}"))?),
                );
            }
        }
        for (flag, key, v) in [
            ("--lower", "altitude_lower", &self.lower),
            ("--upper", "altitude_upper", &self.upper),
        ] {
            if let Some(t) = v {
                let (k, v) = altitude(t, key).map_err(|e| anyhow!("{flag}: {e}"))?;
                p.insert(k, v);
            }
        }
        Ok(p)
    }
}

fn extension(file: &str) -> String {
    std::path::Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The volumes of `file`, by its extension: `.kml`, `.kmz`, `.gpx`, else
/// F3548 JSON or GeoJSON.
pub fn load(file: &str, defaults: &Defaults) -> Result<Volumes> {
    match extension(file).as_str() {
        "kml" => kml(file, &read_input(file)?, defaults),
        "kmz" => kml(file, &kmz(file)?, defaults),
        "gpx" => gpx(file, defaults),
        _ => {
            let mut vols = volumes::parse(file, &read_input(file)?)?;
            let d = defaults.properties()?;
            if !d.is_empty() {
                for v in vols.volumes.iter_mut().filter(|v| v["type"] == "Feature") {
                    if let Some(p) = v["properties"].as_object_mut() {
                        fill(p, &d);
                    }
                }
            }
            Ok(vols)
        }
    }
}

/// The KML document of a KMZ (a zip): `doc.kml`, else its first `.kml`.
fn kmz(file: &str) -> Result<String> {
    let f = std::fs::File::open(file).with_context(|| format!("{file}: cannot read"))?;
    let mut zip = zip::ZipArchive::new(f)
        .map_err(|e| anyhow!("{file}: not a KMZ ({e}); give a zip holding doc.kml"))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("{file}: a name in the KMZ cannot be read ({e})"))?;
    let name = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case("doc.kml"))
        .or_else(|| {
            names
                .iter()
                .find(|n| n.to_ascii_lowercase().ends_with(".kml"))
        })
        .ok_or_else(|| anyhow!("{file}: the KMZ holds no .kml file; give a zip holding doc.kml"))?
        .clone();
    let mut text = String::new();
    zip.by_name(&name)
        .map_err(|e| anyhow!("{file}: {name}: {e}"))?
        .read_to_string(&mut text)
        .with_context(|| format!("{file}: {name}: not UTF-8 text"))?;
    Ok(text)
}

fn kml(file: &str, text: &str, defaults: &Defaults) -> Result<Volumes> {
    let lines = parley_wire::kml::placemark_lines(text);
    let read = parley_wire::kml::read_kml_with(text, &defaults.properties()?).map_err(|e| {
        let line = e
            .placemark
            .and_then(|i| lines.get(i))
            .map_or(String::new(), |l| format!(":{l}"));
        anyhow!("{file}{line}: {e}")
    })?;
    Ok(Volumes {
        file: file.to_string(),
        lines: if lines.len() == read.len() {
            lines
        } else {
            Vec::new()
        },
        at: read.iter().map(|p| p.label.clone()).collect(),
        volumes: read.into_iter().map(|p| p.feature).collect(),
        array: String::new(),
    })
}

/// Each route and track segment of a GPX file as a route of the half-width
/// given; its window from the points' times and its band from their
/// elevations (above mean sea level, as GPS receivers write them) where the
/// flags give none.
fn gpx(file: &str, defaults: &Defaults) -> Result<Volumes> {
    let f = std::fs::File::open(file).with_context(|| format!("{file}: cannot read"))?;
    let doc = gpx::read(std::io::BufReader::new(f)).map_err(|e| {
        anyhow!("{file}: not GPX ({e}); give a GPX 1.0 or 1.1 file with a route or a track")
    })?;
    let given = defaults.properties()?;
    if !given.contains_key("half_width_m") {
        bail!("{file}: a GPX route is a line; give --half-width (metres either side of it)");
    }
    let mut paths: Vec<(String, &[gpx::Waypoint])> = Vec::new();
    for (i, r) in doc.routes.iter().enumerate() {
        let name = r.name.clone().unwrap_or_else(|| format!("{}", i + 1));
        paths.push((format!("route {name}"), &r.points));
    }
    for (i, t) in doc.tracks.iter().enumerate() {
        let name = t.name.clone().unwrap_or_else(|| format!("{}", i + 1));
        for (k, s) in t.segments.iter().enumerate() {
            paths.push((format!("track {name} segment {}", k + 1), &s.points));
        }
    }
    if paths.is_empty() {
        bail!("{file}: has no route (rte) and no track (trk); give one");
    }
    let mut out = Vec::new();
    for (label, points) in &paths {
        if points.len() < 2 {
            bail!(
                "{file}: {label}: has {} point(s); give at least two",
                points.len()
            );
        }
        let mut props = given.clone();
        let times: Vec<String> = points
            .iter()
            .filter_map(|p| p.time)
            .filter_map(|t| {
                let t = time::OffsetDateTime::from(t);
                let micros = t.unix_timestamp_nanos() / 1000;
                Some(parley_wire::format_timestamp(parley_engine::Timestamp(
                    i64::try_from(micros).ok()?,
                )))
            })
            .collect();
        if let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) {
            if first < last {
                props.entry("time_start").or_insert(json!(first));
                props.entry("time_end").or_insert(json!(last));
            }
        }
        let heights: Vec<f64> = points.iter().filter_map(|p| p.elevation).collect();
        let (low, high) = heights
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &z| {
                (l.min(z), h.max(z))
            });
        if heights.len() == points.len() && low < high {
            let amsl = |m: f64| json!({"value": m, "reference": "AMSL", "units": "M"});
            fill(
                &mut props,
                &Map::from_iter([
                    ("altitude_lower".to_string(), amsl(low)),
                    ("altitude_upper".to_string(), amsl(high)),
                ]),
            );
        }
        for (key, flag) in [
            ("time_start", "--start"),
            ("time_end", "--end"),
            ("altitude_lower", "--lower"),
            ("altitude_upper", "--upper"),
        ] {
            if !props.contains_key(key) && !props.contains_key(&format!("{key}_m")) {
                bail!("{file}: {label}: its points do not give {key}; give {flag}");
            }
        }
        let coordinates: Vec<Value> = points
            .iter()
            .map(|p| json!([p.point().x(), p.point().y()]))
            .collect();
        out.push(json!({"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coordinates},
            "properties": props}));
    }
    Ok(Volumes {
        file: file.to_string(),
        volumes: out,
        at: paths.into_iter().map(|(l, _)| l).collect(),
        lines: Vec::new(),
        array: String::new(),
    })
}
