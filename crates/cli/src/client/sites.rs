//! `parley sites`: add a protected site, import many, list them.

use super::files::{self, Defaults};
use super::output::{self, cell, state_cell, Colour, Table};
use super::site_table::{self, TableArgs};
use super::{read_input, seg, ApiError, Client, Global, Outcome, EXIT_HELP};
use anyhow::{anyhow, bail, Result};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(clap::Args)]
#[command(after_help = SITES_HELP)]
pub struct Args {
    #[command(flatten)]
    g: Global,
    #[command(subcommand)]
    action: Option<Action>,
}

const TABLE_HELP: &str = "Examples:
  parley sites import sites.xlsx --expires 30d --radius 300 --lower \"0 M AMSL\" --upper \"500 FT AMSL\"
  parley sites import list.csv --columns name=Facility,position=MGRS --expires 2027-01-01T00:00:00Z

Exit status: 0 done; 2 bad input (the row and column named); 3 server or network error.";

const SITES_HELP: &str = "Examples:
  parley sites
  parley sites add hospital.geojson --name \"Idlib central hospital\" --expires 30d --share-party blue --share-party red
  parley sites import sites.geojson --expires 2027-01-01T00:00:00Z --share-line syria-air
  parley sites import sites.csv --columns name=Site,lat=Latitude,lng=Longitude --radius 300 --lower \"0 M AMSL\" --upper \"300 FT AMSL\" --expires 30d

A CSV file or spreadsheet (XLSX, XLS, ODS: its first sheet) lists one site a
row under a header row, each a circle: name, lat and lng (decimal degrees, DMS
or DDM) or position (both, or MGRS, whose cell is covered whole), radius,
lower, upper (\"500 FT AMSL\", \"FL100\", or metres above the WGS84 ellipsoid),
start, end, expires, kind. Columns are found by their header (name, site;
lat, latitude; lng, lon, longitude; position, mgrs, grid; radius; lower,
floor; upper, ceiling; ...) or named by --columns name=Site,lat=Latitude,...;
--radius, --lower, --upper, --start, --end fill what a row leaves empty (the
window defaults to now until the expiry). A refusal names the row (the header
is row 1) and the column.

An import file is JSON lines, one site a line ({name, volumes, expires, kind,
shared_with_parties, shared_with_lines}), or a GeoJSON FeatureCollection, one
site a feature (properties name, expires, kind, and the volume's altitude_lower_m,
altitude_upper_m, time_start, time_end, radius_m). The flags fill what a site
does not give. Each site is sent with an Idempotency-Key made from its content,
so running an interrupted import again creates nothing twice.";

#[derive(clap::Args, Clone)]
struct Share {
    /// Default expiry: RFC 3339 or a delay from now (30d).
    #[arg(long)]
    expires: Option<String>,
    /// static or movement.
    #[arg(long)]
    kind: Option<String>,
    /// A party that sees the site (repeat).
    #[arg(long = "share-party")]
    parties: Vec<String>,
    /// A line of yours whose parties see the site (repeat).
    #[arg(long = "share-line")]
    lines: Vec<String>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the sites you may see (the default).
    List,
    /// Register one site from a file of volumes (as for `notify`).
    #[command(after_help = EXIT_HELP)]
    Add {
        /// Its volumes: F3548 JSON or GeoJSON (`-` for standard input), KML,
        /// KMZ or GPX (as for `notify`).
        file: String,
        /// Its name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        share: Share,
        #[command(flatten)]
        from: Defaults,
    },
    /// Register many sites from JSON lines, a GeoJSON FeatureCollection, a
    /// KML or KMZ file (a site a Placemark), or a CSV file or spreadsheet
    /// (a site a row).
    #[command(after_help = TABLE_HELP)]
    Import {
        /// The file (`-` for standard input).
        file: String,
        #[command(flatten)]
        share: Share,
        #[command(flatten)]
        table: TableArgs,
    },
    /// Withdraw a site of your party before its expiry: it protects nothing
    /// from then on, and its open conflicts are resolved.
    #[command(after_help = EXIT_HELP)]
    Withdraw {
        /// The site (`site-` and 16 hex digits).
        site: String,
    },
}

impl Share {
    /// Fills what `site` lacks from the flags.
    fn fill(&self, site: &mut Value) -> Result<()> {
        if site.get("expires").is_none_or(Value::is_null) {
            let Some(e) = &self.expires else {
                bail!("expires: missing; give --expires (RFC 3339 or a delay such as 30d)");
            };
            site["expires"] = json!(output::when(e).map_err(|e| anyhow!("--expires: {e}"))?);
        }
        if let (Some(k), true) = (&self.kind, site.get("kind").is_none_or(Value::is_null)) {
            site["kind"] = json!(k);
        }
        if !self.parties.is_empty() && site.get("shared_with_parties").is_none_or(Value::is_null) {
            site["shared_with_parties"] = json!(self.parties);
        }
        if !self.lines.is_empty() && site.get("shared_with_lines").is_none_or(Value::is_null) {
            site["shared_with_lines"] = json!(self.lines);
        }
        Ok(())
    }
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    match a.action.unwrap_or(Action::List) {
        Action::List => list(&c, &a.g),
        Action::Add {
            file,
            name,
            share,
            from,
        } => {
            let vols = files::load(&file, &from)?;
            let mut site = json!({"name": name, "volumes": vols.volumes});
            share.fill(&mut site)?;
            let v = c
                .post("/v1/sites", &site)
                .map_err(|e| vols.locate(e, "/volumes"))?;
            if a.g.json {
                output::print_json(&v);
            } else {
                outln!("registered site {} ({name})", output::s(&v, "id"));
            }
            Ok(Outcome::Ok)
        }
        Action::Import { file, share, table } => import(&c, &a.g, &file, &share, &table),
        Action::Withdraw { site } => {
            let v = c.post(&format!("/v1/sites/{}/withdrawal", seg(&site)), &json!({}))?;
            if a.g.json {
                output::print_json(&v);
            } else {
                outln!("withdrew site {site}: it protects nothing from now on");
            }
            Ok(Outcome::Ok)
        }
    }
}

fn list(c: &Client, g: &Global) -> Result<Outcome> {
    let v = c.get("/v1/sites")?;
    if g.json {
        output::print_json(&v);
        return Ok(Outcome::Ok);
    }
    let mut t = Table::new(&[
        "site",
        "party",
        "kind",
        "expires",
        "volumes",
        "shared with",
        "name",
    ]);
    for s in v["sites"].as_array().into_iter().flatten() {
        let mut shared: Vec<String> = Vec::new();
        for k in ["shared_with_parties", "shared_with_lines"] {
            shared.extend(
                s[k].as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str().map(str::to_string)),
            );
        }
        t.row(vec![
            cell(output::s(s, "id")),
            cell(output::s(s, "party")),
            if s["withdrawn"] == true {
                (
                    format!("{} (withdrawn)", output::s(s, "site_kind")),
                    Colour::Dim,
                )
            } else {
                state_cell(output::s(s, "site_kind"))
            },
            (output::relative(output::s(s, "expires")), Colour::Dim),
            cell(output::text(&s["volumes_count"])),
            cell(shared.join(",")),
            cell(output::s(s, "name")),
        ]);
    }
    if t.is_empty() {
        outln!("no sites");
    } else {
        t.print();
    }
    Ok(Outcome::Ok)
}

/// The sites of an import file, each with where it is ("file:line" or "file: /features/N").
fn sites_of(file: &str, text: &str) -> Result<Vec<(String, Value)>> {
    let whole: Option<Value> = serde_json::from_str(text).ok();
    if let Some(Value::Object(o)) = &whole {
        if o.get("type").and_then(Value::as_str) == Some("FeatureCollection") {
            let features = o
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| anyhow!("{file}: /features: missing; give an array of features"))?;
            return features
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let at = format!("{file}: /features/{i}");
                    let p = &f["properties"];
                    let name = p["name"].as_str().ok_or_else(|| {
                        anyhow!("{at}/properties/name: missing; give the site's name")
                    })?;
                    let mut site = json!({"name": name, "volumes": [f]});
                    for (from, to) in [
                        ("expires", "expires"),
                        ("kind", "kind"),
                        ("site_kind", "kind"),
                        ("shared_with_parties", "shared_with_parties"),
                        ("shared_with_lines", "shared_with_lines"),
                    ] {
                        if !p[from].is_null() {
                            site[to] = p[from].clone();
                        }
                    }
                    Ok((at, site))
                })
                .collect();
        }
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            anyhow!(
                "{file}:{}: not JSON: {e}; give one site a line, or a GeoJSON FeatureCollection",
                i + 1
            )
        })?;
        if !v.is_object() {
            bail!(
                "{file}:{}: give a site object: {{\"name\", \"volumes\", \"expires\"}}",
                i + 1
            );
        }
        out.push((format!("{file}:{}", i + 1), v));
    }
    Ok(out)
}

fn import(c: &Client, g: &Global, file: &str, share: &Share, table: &TableArgs) -> Result<Outcome> {
    let sites = if site_table::is_table(file) {
        let expires = share
            .expires
            .as_deref()
            .map(output::when)
            .transpose()
            .map_err(|e| anyhow!("--expires: {e}"))?;
        site_table::sites(file, table, expires.as_deref())?
    } else if file.to_ascii_lowercase().ends_with(".kml")
        || file.to_ascii_lowercase().ends_with(".kmz")
    {
        let vols = files::load(file, &Defaults::default())?;
        vols.volumes
            .into_iter()
            .zip(vols.at)
            .map(|(f, at)| {
                let mut site = json!({"name": f["properties"]["name"], "volumes": [f]});
                for k in ["expires", "kind"] {
                    if let Some(v) = site["volumes"][0]["properties"].get(k).cloned() {
                        site[k] = v;
                    }
                }
                (format!("{file}: {at}"), site)
            })
            .collect()
    } else {
        sites_of(file, &read_input(file)?)?
    };
    let bar = super::export::progress(sites.len() as u64, "sites");
    let mut ids = Vec::new();
    for (at, mut site) in sites {
        share.fill(&mut site).map_err(|e| anyhow!("{at}: {e}"))?;
        let digest = Sha256::digest(site.to_string().as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let key = &format!("site-import-{hex}");
        let answer = send_retrying(c, &site, key).map_err(|e| {
            bar.abandon();
            located(e, &at, ids.len())
        })?;
        ids.push(answer["id"].clone());
        bar.inc(1);
    }
    bar.finish_and_clear();
    if g.json {
        output::print_json(&json!({"imported": ids.len(), "sites": ids}));
    } else {
        outln!(
            "imported {} site{} from {file}",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
        );
    }
    Ok(Outcome::Ok)
}

/// Posts a site, retrying server and network errors with the same key.
fn send_retrying(c: &Client, site: &Value, key: &str) -> Result<Value, ApiError> {
    let mut attempt = 0;
    loop {
        match c.send(Method::POST, "/v1/sites", Some(site), Some(key)) {
            Ok(v) => return Ok(v),
            Err(e) if e.is_server_side() && attempt < 3 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(250 * attempt));
            }
            Err(e) => return Err(e),
        }
    }
}

/// An import error: where in the file, and how many went in before it.
fn located(e: ApiError, at: &str, done: usize) -> anyhow::Error {
    let note = format!("; {done} site(s) imported before it; run the import again after fixing it");
    match e {
        ApiError::Status { status, message } => anyhow::Error::new(ApiError::Status {
            status,
            message: format!("{at}: {message}{note}"),
        }),
        other => anyhow::Error::new(other).context(format!("{at}{note}")),
    }
}
