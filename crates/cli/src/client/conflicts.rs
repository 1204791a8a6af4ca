//! `parley conflicts`: the conflicts your party owns a side of; coordination.

use super::output::{self, cell, state_cell, Colour, Table};
use super::{seg, Client, Global, Outcome};
use anyhow::{bail, Result};
use serde_json::{json, Value};

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  parley conflicts                 # exit 1 when any is open\n  parley conflicts --all\n  parley conflicts coordinate c-7a13f0e9b2c45d81 --note \"Agreed by phone: Red holds south of 36N\"\n\nA conflict is resolved by amending or cancelling one of its activities\n(`parley amend`, `parley cancel`), or coordinated when both sides mark it."
)]
pub struct Args {
    #[command(flatten)]
    g: Global,
    /// Also list coordinated and closed conflicts (the default lists open ones).
    #[arg(long)]
    all: bool,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List conflicts (the default); exit 1 when any is open.
    List,
    /// One conflict with its meetings.
    Show {
        /// The conflict (c-N).
        conflict: String,
    },
    /// Mark a conflict coordinated on your side; it is coordinated once both sides have.
    Coordinate {
        /// The conflict (c-N).
        conflict: String,
        /// What was agreed (1 to 2,000 bytes).
        #[arg(long)]
        note: String,
    },
}

/// The other side of a conflict, as "act-2f7d90c1e84ab356 (blue, v1)".
fn side(v: &Value) -> String {
    format!(
        "{} ({}, v{})",
        output::s(v, "id"),
        output::s(v, "party"),
        output::text(&v["version"])
    )
}

/// Where two meet: the centre of the meeting area and its size,
/// "35.4120N 38.5013E, 12 x 8 km" (decimal degrees, kilometres).
pub fn area_text(area: &Value) -> String {
    let f = |k: &str| area[k].as_f64();
    let (Some(s), Some(w), Some(n), Some(e)) = (f("south"), f("west"), f("north"), f("east"))
    else {
        return "-".to_string();
    };
    // The area may cross the antimeridian (west > east).
    let width = if e >= w { e - w } else { e + 360.0 - w };
    let lat = (s + n) / 2.0;
    let mut lng = w + width / 2.0;
    if lng >= 180.0 {
        lng -= 360.0;
    }
    let km_per_deg = 111.195;
    let ew_km = width * km_per_deg * lat.to_radians().cos();
    let ns_km = (n - s) * km_per_deg;
    format!(
        "{:.4}{} {:.4}{}, {:.0} x {:.0} km",
        lat.abs(),
        if lat < 0.0 { 'S' } else { 'N' },
        lng.abs(),
        if lng < 0.0 { 'W' } else { 'E' },
        ew_km.max(1.0),
        ns_km.max(1.0)
    )
}

/// Prints conflicts as a table with their first meeting; a dry run's have no
/// id yet ("would be").
pub fn print(list: &[Value], dry_run: bool) {
    let mut t = Table::new(&[
        "conflict", "state", "a", "b", "when", "altitude", "distance", "where",
    ]);
    for c in list {
        let m = &c["meetings"][0];
        let when = match m["time_start"].as_str() {
            Some(s) => format!(
                "{} ({} to {})",
                output::relative(s),
                s,
                output::s(m, "time_end")
            ),
            None => "-".to_string(),
        };
        let alt = format!(
            "{}-{} m",
            output::text(&m["altitude_lower_m"]),
            output::text(&m["altitude_upper_m"])
        );
        t.row(vec![
            cell(if dry_run {
                "(would be)"
            } else {
                output::s(c, "id")
            }),
            state_cell(c["state"].as_str().unwrap_or("open")),
            cell(side(&c["a"])),
            cell(side(&c["b"])),
            cell(when),
            cell(alt),
            cell(format!("{} m", output::text(&m["horizontal_distance_m"]))),
            cell(area_text(&m["area"])),
        ]);
    }
    t.print();
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    match a.action.unwrap_or(Action::List) {
        Action::List => {
            let v = c.get("/v1/conflicts")?;
            let list = v["conflicts"].as_array().cloned().unwrap_or_default();
            let open = list.iter().any(|c| c["state"] == "open");
            if a.g.json {
                output::print_json(&v);
            } else {
                let shown: Vec<Value> = list
                    .into_iter()
                    .filter(|c| a.all || c["state"] == "open")
                    .collect();
                if shown.is_empty() {
                    outln!("{}", output::paint("no open conflict", Colour::Green));
                } else {
                    print(&shown, false);
                }
            }
            Ok(if open { Outcome::Found } else { Outcome::Ok })
        }
        Action::Show { conflict } => {
            let v = c.get("/v1/conflicts")?;
            let Some(found) = v["conflicts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["id"].as_str() == Some(conflict.as_str()))
            else {
                bail!("{conflict}: no such conflict of yours; see `parley conflicts --all`");
            };
            if a.g.json {
                output::print_json(found);
            } else {
                print(std::slice::from_ref(found), false);
                outln!(
                    "\ncoordinated by: {}",
                    output::text(&found["coordinated_by"])
                );
                for (i, m) in found["meetings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    outln!("meeting {}: at {}", i + 1, area_text(&m["area"]));
                }
                let mut t = Table::new(&[
                    "a vol",
                    "b vol",
                    "from",
                    "to",
                    "altitude",
                    "distance",
                    "area s,w,n,e",
                ]);
                for m in found["meetings"].as_array().into_iter().flatten() {
                    let area = &m["area"];
                    t.row(vec![
                        cell(output::text(&m["a_volume"])),
                        cell(output::text(&m["b_volume"])),
                        cell(output::s(m, "time_start")),
                        cell(output::s(m, "time_end")),
                        cell(format!(
                            "{}-{} m",
                            output::text(&m["altitude_lower_m"]),
                            output::text(&m["altitude_upper_m"])
                        )),
                        cell(format!("{} m", output::text(&m["horizontal_distance_m"]))),
                        cell(format!(
                            "{:.4},{:.4},{:.4},{:.4}",
                            area["south"].as_f64().unwrap_or(f64::NAN),
                            area["west"].as_f64().unwrap_or(f64::NAN),
                            area["north"].as_f64().unwrap_or(f64::NAN),
                            area["east"].as_f64().unwrap_or(f64::NAN)
                        )),
                    ]);
                }
                t.print();
            }
            Ok(if found["state"] == "open" {
                Outcome::Found
            } else {
                Outcome::Ok
            })
        }
        Action::Coordinate { conflict, note } => {
            let v = c.post(
                &format!("/v1/conflicts/{}/coordination", seg(&conflict)),
                &json!({"note": note}),
            )?;
            if a.g.json {
                output::print_json(&v);
            } else {
                let state = v["state"].as_str().unwrap_or("open");
                if state == "coordinated" {
                    outln!(
                        "{conflict}: {} (both sides have marked it)",
                        output::paint(state, output::state_colour(state))
                    );
                } else {
                    outln!(
                        "{conflict}: your side's mark is recorded; it stays {} until the other side marks it coordinated too",
                        output::paint(state, output::state_colour(state))
                    );
                }
            }
            Ok(Outcome::Ok)
        }
    }
}
