//! `parley export`: the activities and sites you may see, as GeoJSON, KML or JSON lines.

use super::volumes;
use super::{seg, Client, Global, Outcome};
use anyhow::{Context, Result};
use serde_json::{json, Map, Value};
use std::io::{IsTerminal, Write};

#[derive(clap::Args)]
#[command(after_help = "\
geojson: one FeatureCollection, a Feature for each volume (a Polygon, or a Point
with radius_m), its properties naming the activity or site (kind, id, version,
line, party, state, category, point_of_contact or name, expires) and the volume
(altitude_lower_m, altitude_upper_m, time_start, time_end, volume).
jsonl: one line for each activity (as GET /v1/activities/{id} answers: every
version and acknowledgment) and each site (as GET /v1/sites lists it).
kml: one Document, a Placemark for each volume (extruded at its upper limit
above mean sea level, a TimeSpan, and in ExtendedData the same properties as
geojson, altitudes in metres above the WGS84 ellipsoid): it reads back as the
same volumes (`parley notify LINE export.kml`).

Examples:
  parley export geojson -o syria.geojson --line syria-air
  parley export jsonl --what sites > sites.jsonl
  parley export kml --line syria-air -o syria.kml

Exit status: 0 done; 2 bad input; 3 server or network error.")]
pub struct Args {
    #[command(flatten)]
    g: Global,
    /// geojson, jsonl or kml.
    format: Format,
    /// What to export.
    #[arg(long, value_enum, default_value = "all")]
    what: What,
    /// Only this line's activities.
    #[arg(long)]
    line: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Format {
    Geojson,
    Jsonl,
    Kml,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum What {
    All,
    Activities,
    Sites,
}

/// A progress bar on a terminal (stderr), nothing when piped.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what}  eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let mut records: Vec<(&str, Value)> = Vec::new();
    if a.what != What::Sites {
        let path = match &a.line {
            Some(l) => format!("/v1/activities?line={}", seg(l)),
            None => "/v1/activities".to_string(),
        };
        let list = c.get(&path)?;
        let ids: Vec<String> = list["activities"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["id"].as_str().map(str::to_string))
            .collect();
        let bar = progress(ids.len() as u64, "activities");
        for id in ids {
            records.push(("activity", c.get(&format!("/v1/activities/{}", seg(&id)))?));
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    if a.what != What::Activities {
        let sites = c.get("/v1/sites")?;
        for s in sites["sites"].as_array().into_iter().flatten() {
            records.push(("site", s.clone()));
        }
    }
    let mut out: Box<dyn Write> = match &a.output {
        Some(f) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(f).with_context(|| format!("{f}: cannot create"))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match a.format {
        Format::Jsonl => {
            for (_, r) in &records {
                writeln!(out, "{r}")?;
            }
        }
        Format::Geojson => {
            let mut features = Vec::new();
            for (kind, r) in &records {
                features.extend(features_of(kind, r));
            }
            let fc = json!({"type": "FeatureCollection", "features": features});
            writeln!(out, "{}", serde_json::to_string_pretty(&fc)?)?;
        }
        Format::Kml => {
            let mut placemarks = Vec::new();
            for (kind, r) in &records {
                placemarks.extend(placemarks_of(kind, r));
            }
            write!(
                out,
                "{}",
                parley_wire::kml::write_kml("Parley export", &placemarks)
            )?;
        }
    }
    out.flush()?;
    if let Some(f) = &a.output {
        eprintln!("wrote {} record(s) to {f}", records.len());
    }
    Ok(Outcome::Ok)
}

/// The features of one activity (its current version) or site.
fn features_of(kind: &str, r: &Value) -> Vec<Value> {
    let (p, volumes) = volumes_of(kind, r);
    volumes
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut props = p.clone();
            props.insert("volume".into(), json!(i));
            volumes::to_feature(v, &props)
        })
        .collect()
}

/// The Placemarks of one activity or site: a name, the volume, what to keep beside it.
fn placemarks_of(kind: &str, r: &Value) -> Vec<(String, Value, Map<String, Value>)> {
    let (p, volumes) = volumes_of(kind, r);
    let who = r["name"].as_str().or(r["id"].as_str()).unwrap_or(kind);
    volumes
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut props = p.clone();
            props.retain(|_, v| !v.is_null());
            props.insert("volume".into(), json!(i));
            (format!("{who} volume {}", i + 1), v.clone(), props)
        })
        .collect()
}

/// What names an activity (its current version) or a site, and its volumes.
fn volumes_of<'a>(kind: &str, r: &'a Value) -> (Map<String, Value>, &'a [Value]) {
    let mut p = Map::new();
    p.insert("kind".into(), json!(kind));
    let volumes: &[Value] = if kind == "activity" {
        let cur = &r["current"];
        let content = &cur["content"];
        for (k, v) in [
            ("id", &r["id"]),
            ("version", &r["version"]),
            ("line", &r["line"]),
            ("party", &r["party"]),
            ("state", &r["state"]),
            ("category", &content["category"]),
            ("point_of_contact", &content["point_of_contact"]),
            ("content_sha256", &r["content_sha256"]),
        ] {
            p.insert(k.into(), v.clone());
        }
        content["volumes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    } else {
        for (k, v) in [
            ("id", &r["id"]),
            ("party", &r["party"]),
            ("name", &r["name"]),
            ("site_kind", &r["site_kind"]),
            ("expires", &r["expires"]),
        ] {
            p.insert(k.into(), v.clone());
        }
        r["volumes"].as_array().map(Vec::as_slice).unwrap_or(&[])
    };
    (p, volumes)
}
