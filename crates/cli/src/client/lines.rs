//! `parley lines`: the lines your party is on, and one line's rules and status.

use super::output::{self, cell, state_cell, Table};
use super::{seg, Client, Global, Outcome};
use anyhow::Result;
use serde_json::Value;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  parley lines\n  parley lines show syria-air\n  parley lines --json | jq '.lines[].id'\n  parley lines logs air > blue-air.json   # then: parley verify federation blue-air.json red-air.json --node-key ..."
)]
pub struct Args {
    #[command(flatten)]
    g: Global,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the lines your party is on (the default).
    List,
    /// Show one line: its parties, rules and status.
    Show {
        /// The line's id.
        line: String,
    },
    /// A federated line's logs as this node holds them, as JSON to keep and
    /// check offline with `parley verify federation` beside the other nodes'.
    Logs {
        /// The line's id.
        line: String,
    },
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    match a.action.unwrap_or(Action::List) {
        Action::List => {
            let v = c.get("/v1/lines")?;
            if a.g.json {
                output::print_json(&v);
                return Ok(Outcome::Ok);
            }
            let mut t = Table::new(&["line", "status", "parties", "messages", "name"]);
            for l in v["lines"].as_array().into_iter().flatten() {
                t.row(vec![
                    cell(output::s(l, "id")),
                    state_cell(output::s(l, "status")),
                    cell(output::text(&l["parties"])),
                    cell(output::text(&l["messages"])),
                    cell(output::s(l, "name")),
                ]);
            }
            if t.is_empty() {
                outln!("no lines");
            } else {
                t.print();
            }
        }
        Action::Show { line } => {
            let l = c.get(&format!("/v1/lines/{}", seg(&line)))?;
            if a.g.json {
                output::print_json(&l);
                return Ok(Outcome::Ok);
            }
            show(&l);
        }
        Action::Logs { line } => {
            output::print_json(&c.get(&format!("/v1/federation/lines/{}/logs", seg(&line)))?);
        }
    }
    Ok(Outcome::Ok)
}

/// What a rule means, in words, with its value for a person.
fn rule(name: &str, v: &Value) -> (String, String) {
    let secs = |label: &str| {
        let value = v
            .as_f64()
            .map_or(output::text(v), |s| output::duration_s(s.round() as i64));
        (label.to_string(), value)
    };
    // Metres as written, without a trailing ".0".
    let metres = |label: &str| {
        let value = match v.as_f64() {
            Some(m) if m.fract() == 0.0 => format!("{m:.0} m"),
            _ => format!("{} m", output::text(v)),
        };
        (label.to_string(), value)
    };
    match name {
        "notice_lead_time_s" => secs("notice lead time"),
        "ack_deadline_s" => secs("acknowledge within"),
        "line_check_interval_s" => secs("line check every"),
        "min_reply_s" => secs("shortest reply deadline"),
        "time_s" => secs("separation in time"),
        "horizontal_m" => metres("separation, horizontal"),
        "vertical_m" => metres("separation, vertical"),
        "flight_level_margin_m" => metres("flight levels, margin"),
        "region" => (
            "region of operation".into(),
            match v["vertices"].as_array() {
                Some(vertices) => format!(
                    "a polygon: {}",
                    vertices
                        .iter()
                        .map(|p| format!("{},{}", output::text(&p["lat"]), output::text(&p["lng"])))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                None => format!(
                    "{} to {} N, {} to {} E",
                    output::text(&v["south"]),
                    output::text(&v["north"]),
                    output::text(&v["west"]),
                    output::text(&v["east"])
                ),
            },
        ),
        "max_requests_per_hour" => (
            "requests per party".into(),
            format!("{} an hour", output::text(v)),
        ),
        "max_flash_per_hour" => (
            "flash messages per party".into(),
            format!("{} an hour", output::text(v)),
        ),
        other => (other.replace('_', " "), output::text(v)),
    }
}

/// One line for a person: its facts and rules, its operation (line checks),
/// and what is owed on it; times in 24-hour UTC.
fn show(l: &Value) {
    let mut t = Table::new(&["field", "value"]);
    t.row(vec![cell("line"), cell(output::s(l, "id"))]);
    t.row(vec![cell("name"), cell(output::s(l, "name"))]);
    t.row(vec![cell("status"), state_cell(output::s(l, "status"))]);
    t.row(vec![cell("parties"), cell(output::text(&l["parties"]))]);
    t.row(vec![cell("messages"), cell(output::text(&l["messages"]))]);
    if let Some(rules) = l["rules"].as_object() {
        for (k, v) in rules {
            let (name, value) = rule(k, v);
            t.row(vec![cell(name), cell(value)]);
        }
    }
    let op = &l["operation"];
    if let Some(state) = op["state"].as_str() {
        t.row(vec![cell("operation"), state_cell(state)]);
    }
    // Anything else the server tells about the line, as it comes.
    if let Some(o) = l.as_object() {
        for (k, v) in o {
            let known = [
                "id",
                "name",
                "status",
                "parties",
                "messages",
                "rules",
                "operation",
                "deadlines",
            ];
            if !known.contains(&k.as_str()) {
                t.row(vec![cell(k.clone()), cell(output::text(v))]);
            }
        }
    }
    t.print();
    if let Some(parties) = op["parties"].as_array().filter(|p| !p.is_empty()) {
        outln!();
        let mut t = Table::new(&[
            "party",
            "last line check",
            "round trip",
            "missed (24 h / in a row)",
        ]);
        for p in parties {
            t.row(vec![
                cell(output::s(p, "party")),
                cell(
                    p["last_check_at"]
                        .as_str()
                        .map_or("never".into(), output::utc),
                ),
                cell(
                    p["round_trip_ms"]
                        .as_i64()
                        .map_or("-".into(), |ms| format!("{ms} ms")),
                ),
                cell(format!(
                    "{} / {}",
                    output::text(&p["misses_24h"]),
                    output::text(&p["missed_in_a_row"])
                )),
            ]);
        }
        t.print();
    }
    if let Some(nodes) = op["nodes"].as_array().filter(|n| !n.is_empty()) {
        outln!();
        let mut t = Table::new(&["node", "parties", "reach", "receipted / logged here"]);
        for n in nodes {
            let reach = match (n["reachable"].as_bool(), n["behind_since"].as_str()) {
                (Some(false), Some(since)) => (
                    format!("unreachable since {}", output::utc(since)),
                    output::Colour::Red,
                ),
                (_, Some(since)) => cell(format!("catching up since {}", output::utc(since))),
                _ => cell("in step"),
            };
            t.row(vec![
                cell(output::s(n, "node")),
                cell(output::text(&n["parties"])),
                reach,
                cell(format!(
                    "{} / {}",
                    output::text(&n["receipted"]),
                    output::text(&n["log_size"])
                )),
            ]);
        }
        t.print();
    }
    let owed = l["deadlines"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    outln!();
    if owed.is_empty() {
        outln!("nothing owed on this line");
    } else {
        super::deadlines::print(owed);
    }
}
