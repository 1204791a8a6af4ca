//! Lists of protected sites as relief offices keep them: a CSV file or a
//! spreadsheet (XLSX, XLS, ODS: its first sheet), one site a row under a
//! header row. Each row becomes a site of one circle; a refusal names the
//! row (as the spreadsheet numbers it, the header being row 1) and the column.
//!
//! The columns are found by `--columns name=Site,lat=Latitude,...` or, for
//! those not mapped, by their header (case, spaces and punctuation ignored):
//!
//! | field | headers recognised | cell |
//! |---|---|---|
//! | `name` | name, site, site name, facility | text (required) |
//! | `lat`, `lng` | lat, latitude / lng, lon, long, longitude | decimal degrees, DMS or DDM (`35°30'15"N`) |
//! | `position` | position, location, coordinates, mgrs, grid | both at once: `35°30'N 038°30'E`, `3530N03830E`, MGRS |
//! | `radius` | radius, radius m | metres (else `--radius`) |
//! | `lower`, `upper` | lower, floor, altitude lower / upper, ceiling, altitude upper | "500 FT AMSL", "FL100", or metres above the WGS84 ellipsoid (else `--lower`, `--upper`) |
//! | `start`, `end` | start, from, time start / end, until, time end | RFC 3339 or a spreadsheet date (else `--start`, `--end`; the window defaults to now until the site's expiry) |
//! | `expires`, `kind` | expires, expiry / kind, site kind | as the API takes them (else `--expires`, `--kind`) |

use super::files::altitude;
use super::output;
use anyhow::{anyhow, bail, Context, Result};
use calamine::{Data, Reader};
use parley_wire::coordinates::{parse_angle, parse_position, Axis};
use serde_json::{json, Value};

/// The fields a row may give, and the headers each is recognised by.
const FIELDS: [(&str, &[&str]); 11] = [
    (
        "name",
        &["name", "site", "sitename", "facility", "facilityname"],
    ),
    ("lat", &["lat", "latitude"]),
    ("lng", &["lng", "lon", "long", "longitude"]),
    (
        "position",
        &[
            "position",
            "location",
            "coordinates",
            "mgrs",
            "grid",
            "gridreference",
        ],
    ),
    (
        "radius",
        &["radius", "radiusm", "radiusmetres", "radiusmeters"],
    ),
    (
        "lower",
        &["lower", "floor", "altitudelower", "altitudelowerm"],
    ),
    (
        "upper",
        &["upper", "ceiling", "altitudeupper", "altitudeupperm"],
    ),
    ("start", &["start", "from", "timestart"]),
    ("end", &["end", "until", "timeend"]),
    ("expires", &["expires", "expiry"]),
    ("kind", &["kind", "sitekind"]),
];

/// What the command line gives for a field a row leaves empty.
#[derive(clap::Args, Clone, Default)]
pub struct TableArgs {
    /// Which column holds which field, for a CSV or spreadsheet:
    /// name=Site,lat=Latitude,lng=Longitude (or position=MGRS),radius=...,
    /// lower=...,upper=...,start=...,end=...,expires=...,kind=...; fields not
    /// mapped are found by their header.
    #[arg(long)]
    columns: Option<String>,
    /// A site's radius in metres, where its row gives none.
    #[arg(long)]
    radius: Option<f64>,
    /// Lower limit where a row gives none: "0 M AMSL", "FL100", or metres
    /// above the WGS84 ellipsoid.
    #[arg(long)]
    lower: Option<String>,
    /// Upper limit where a row gives none.
    #[arg(long)]
    upper: Option<String>,
    /// Start of each site's window where a row gives none (default: now).
    #[arg(long)]
    start: Option<String>,
    /// End of each site's window where a row gives none (default: its expiry).
    #[arg(long)]
    end: Option<String>,
}

fn normal(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `file` is a table this module reads.
pub fn is_table(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    [".csv", ".xlsx", ".xlsm", ".xls", ".ods"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// A cell as text, with its column's header; dates as RFC 3339.
type Row = Vec<String>;

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        // A spreadsheet date: days since 1899-12-30, in UTC.
        Data::DateTime(t) => {
            let micros = ((t.as_f64() - 25_569.0) * 86_400e6).round() as i64;
            parley_wire::format_timestamp(parley_engine::Timestamp(micros))
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// The header and rows of `file`: a CSV, or a spreadsheet's first sheet.
fn rows(file: &str) -> Result<(Row, Vec<Row>)> {
    let mut all: Vec<Row> = if file.to_ascii_lowercase().ends_with(".csv") {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(file)
            .with_context(|| format!("{file}: cannot read"))?;
        r.records()
            .enumerate()
            .map(|(i, rec)| {
                rec.map(|rec| rec.iter().map(|c| c.trim().to_string()).collect())
                    .map_err(|e| {
                        anyhow!(
                            "{file}: row {}: not CSV ({e}); give comma-separated UTF-8 text",
                            i + 1
                        )
                    })
            })
            .collect::<Result<_>>()?
    } else {
        let mut book = calamine::open_workbook_auto(file)
            .map_err(|e| anyhow!("{file}: not a spreadsheet ({e}); give XLSX, XLS, ODS or CSV"))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| {
                anyhow!("{file}: has no sheet; give one whose first sheet lists the sites")
            })?
            .map_err(|e| anyhow!("{file}: first sheet: {e}"))?;
        // The sheet's rows as the spreadsheet numbers them, from row 1.
        let skip = range.start().map_or(0, |(r, _)| r as usize);
        let width = range.end().map_or(0, |(_, c)| c as usize + 1);
        let offset = range.start().map_or(0, |(_, c)| c as usize);
        let mut all = vec![Vec::new(); skip];
        all.extend(range.rows().map(|r| {
            let mut row = vec![String::new(); offset];
            row.extend(r.iter().map(cell_text));
            row.resize(width, String::new());
            row
        }));
        all
    };
    let first = all
        .iter()
        .position(|r| r.iter().any(|c| !c.is_empty()))
        .ok_or_else(|| anyhow!("{file}: is empty; give a header row, then one site a row"))?;
    let header = std::mem::take(&mut all[first]);
    // Rows keep their numbers: empty ones stay (and are skipped later).
    for r in all.iter_mut().take(first) {
        r.clear();
    }
    Ok((header, all))
}

/// The column of each field (0-based), from `--columns` then the header.
fn columns(file: &str, header: &Row, mapping: Option<&str>) -> Result<Vec<(&'static str, usize)>> {
    let mut found = Vec::new();
    let mut mapped: Vec<(&str, &str)> = Vec::new();
    for pair in mapping
        .into_iter()
        .flat_map(|m| m.split(','))
        .filter(|p| !p.trim().is_empty())
    {
        let (field, column) = pair.split_once('=').ok_or_else(|| {
            anyhow!(
                "--columns: \"{pair}\": give field=Header pairs, such as name=Site,lat=Latitude"
            )
        })?;
        mapped.push((field.trim(), column.trim()));
    }
    for (field, column) in &mapped {
        let Some((name, _)) = FIELDS.iter().find(|(f, _)| f == field) else {
            let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
            bail!(
                "--columns: unknown field \"{field}\"; give one of {}",
                known.join(", ")
            );
        };
        let at = header
            .iter()
            .position(|h| h == column || normal(h) == normal(column))
            .ok_or_else(|| {
                anyhow!(
                    "--columns: {file} has no column \"{column}\"; its columns are {}",
                    header.join(", ")
                )
            })?;
        found.push((*name, at));
    }
    for (field, aliases) in FIELDS {
        if found.iter().any(|(f, _)| *f == field) {
            continue;
        }
        if let Some(at) = header
            .iter()
            .position(|h| aliases.contains(&normal(h).as_str()))
        {
            found.push((field, at));
        }
    }
    let has = |f: &str| found.iter().any(|(x, _)| *x == f);
    if !has("name") {
        bail!("{file}: no column for the site's name; give --columns name=<header> (its columns are {})", header.join(", "));
    }
    if !(has("position") || (has("lat") && has("lng"))) {
        bail!("{file}: no columns for the position; give --columns lat=<header>,lng=<header> or position=<header> (its columns are {})", header.join(", "));
    }
    Ok(found)
}

/// A column's name in a message: its header, and its letter in a spreadsheet.
fn column_name(header: &Row, i: usize) -> String {
    let mut letters = String::new();
    let mut n = i + 1;
    while n > 0 {
        letters.insert(0, char::from(b'A' + ((n - 1) % 26) as u8));
        n = (n - 1) / 26;
    }
    format!(
        "column {letters} (\"{}\")",
        header.get(i).map_or("", String::as_str)
    )
}

/// The sites of a table, each with where it is ("sites.csv: row 4").
pub fn sites(file: &str, args: &TableArgs, expires: Option<&str>) -> Result<Vec<(String, Value)>> {
    let (header, rows) = rows(file)?;
    let cols = columns(file, &header, args.columns.as_deref())?;
    let now = parley_wire::format_timestamp(parley_engine::Timestamp(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros()),
        )
        .unwrap_or(i64::MAX),
    ));
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if row.iter().all(String::is_empty) {
            continue;
        }
        let at = format!("{file}: row {}", i + 1);
        let get = |field: &str| -> Option<(&str, usize)> {
            let (_, c) = cols.iter().find(|(f, _)| *f == field)?;
            Some((row.get(*c).map_or("", String::as_str), *c)).filter(|(v, _)| !v.is_empty())
        };
        let bad = |c: usize, msg: String| anyhow!("{at}, {}: {msg}", column_name(&header, c));
        let name = get("name").ok_or_else(|| {
            let c = cols
                .iter()
                .find(|(f, _)| *f == "name")
                .map_or(0, |(_, c)| *c);
            bad(c, "empty; give the site's name".into())
        })?;
        let (point, spread) = match (get("position"), get("lat"), get("lng")) {
            (Some((text, c)), _, _) => parse_position(text)
                .map(|p| ((p.point.lat, p.point.lng), p.spread_m))
                .map_err(|e| bad(c, format!("\"{text}\": {e}")))?,
            (None, Some((lat, cl)), Some((lng, cg))) => {
                let lat = parse_angle(lat, Axis::Latitude)
                    .map_err(|e| bad(cl, format!("\"{lat}\": {e}")))?;
                let lng = parse_angle(lng, Axis::Longitude)
                    .map_err(|e| bad(cg, format!("\"{lng}\": {e}")))?;
                ((lat, lng), 0.0)
            }
            (None, lat, _) => {
                let missing = if lat.is_none() { "lat" } else { "lng" };
                let c = cols
                    .iter()
                    .find(|(f, _)| *f == missing)
                    .map_or(0, |(_, c)| *c);
                return Err(bad(
                    c,
                    format!(
                        "empty; give the site's {}",
                        if missing == "lat" {
                            "latitude"
                        } else {
                            "longitude"
                        }
                    ),
                ));
            }
        };
        let radius = match get("radius") {
            Some((text, c)) => text
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r > 0.0)
                .ok_or_else(|| {
                    bad(
                        c,
                        format!("\"{text}\" is not a radius; give metres, such as 250"),
                    )
                })?,
            None => args.radius.ok_or_else(|| {
                anyhow!("{at}: no radius; give a radius column or --radius (metres)")
            })?,
        };
        // An MGRS cell is covered whole: its half-diagonal adds to the radius.
        let mut props = json!({"radius_m": radius + spread});
        for (field, key, flag, default) in [
            ("lower", "altitude_lower", "--lower", &args.lower),
            ("upper", "altitude_upper", "--upper", &args.upper),
        ] {
            let (k, v) = match (get(field), default) {
                (Some((text, c)), _) => altitude(text, key).map_err(|e| bad(c, e))?,
                (None, Some(d)) => altitude(d, key).map_err(|e| anyhow!("{flag}: {e}"))?,
                (None, None) => bail!("{at}: no {field} limit; give a {field} column or {flag}"),
            };
            props[k] = v;
        }
        let expires = match get("expires") {
            Some((text, c)) => Some(output::when(text).map_err(|e| bad(c, e))?),
            None => expires.map(str::to_string),
        };
        for (field, key, flag, default, fallback) in [
            (
                "start",
                "time_start",
                "--start",
                &args.start,
                Some(now.clone()),
            ),
            ("end", "time_end", "--end", &args.end, expires.clone()),
        ] {
            props[key] = json!(match (get(field), default) {
                (Some((text, c)), _) => output::when(text).map_err(|e| bad(c, e))?,
                (None, Some(d)) => output::when(d).map_err(|e| anyhow!("{flag}: {e}"))?,
                (None, None) => fallback.ok_or_else(|| anyhow!(
                    "{at}: no {field}; give a {field} column, {flag} or --expires"
                ))?,
            });
        }
        let feature = json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [point.1, point.0]},
            "properties": props});
        let mut site = json!({"name": name.0, "volumes": [feature]});
        if let Some(e) = expires {
            site["expires"] = json!(e);
        }
        if let Some((k, _)) = get("kind") {
            site["kind"] = json!(k);
        }
        out.push((at, site));
    }
    if out.is_empty() {
        bail!("{file}: has a header but no site; give one site a row");
    }
    Ok(out)
}
