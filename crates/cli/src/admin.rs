//! `parley admin ...`: the host's and parties' admins manage parties, operators
//! and lines through the API, and list them.

use crate::client::output::{self, cell, state_cell, Table};
use crate::client::{seg, Client, Global};
use anyhow::Result;
use serde_json::{json, Value};

#[derive(clap::Args)]
pub struct AdminArgs {
    /// The server, an admin's token, the profile (as for every client command).
    #[command(flatten)]
    g: Global,
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the parties you may see (every party for the host's admins).
    Parties,
    /// List the lines you may see, with their parties and political status.
    Lines,
    /// List operators: who holds a token, with role and whether it is revoked
    /// (default: every party you may list: all for the host, else your own).
    Operators {
        /// Only this party's operators.
        party: Option<String>,
    },
    /// Register a party (host admins).
    PartyCreate {
        /// Its id: letters, digits, '-', '_', '.'.
        id: String,
        /// Its name.
        name: String,
    },
    /// Give a party's operator a token, printed once (host admins, or the party's admins).
    OperatorCreate {
        /// The party.
        party: String,
        /// The operator's name.
        name: String,
        /// observer, officer or admin.
        #[arg(long, default_value = "officer")]
        role: String,
    },
    /// Close the party to the host: the host's admins may no longer add
    /// operators to it (the party's admins; the host's recovery path, when
    /// the party has no admin left, stays open and shows on its record).
    PartyLock {
        /// The party (yours).
        party: String,
    },
    /// Let the host's admins add operators to the party again (its admins).
    PartyUnlock {
        /// The party (yours).
        party: String,
    },
    /// Revoke an operator's token, at once.
    OperatorRevoke {
        /// The operator's id (op-N).
        operator: String,
    },
    /// Open a line between two or more parties (host admins).
    LineCreate {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
        /// A member party (repeat: --party a --party b).
        #[arg(long = "party", required = true)]
        parties: Vec<String>,
        /// Horizontal separation minimum, metres.
        #[arg(long, default_value_t = 0.0)]
        horizontal_m: f64,
        /// Vertical separation minimum, metres.
        #[arg(long, default_value_t = 0.0)]
        vertical_m: f64,
        /// Separation minimum in time, seconds.
        #[arg(long, default_value_t = 0.0)]
        time_s: f64,
        /// Minimum notice before an activity starts, seconds.
        #[arg(long, default_value_t = 3_600)]
        notice_lead_time_s: u64,
        /// Acknowledgment deadline, seconds.
        #[arg(long, default_value_t = 900)]
        ack_deadline_s: u64,
        /// Line-check interval, seconds.
        #[arg(long, default_value_t = 3_600)]
        line_check_interval_s: u64,
        /// Refuse unsigned notices and acknowledgments on this line.
        #[arg(long)]
        signatures_required: bool,
        /// The shortest time a request may give the other side to reply, seconds.
        #[arg(long, default_value_t = 300)]
        min_reply_s: u64,
        /// Most requests one party may send on the line in an hour.
        #[arg(long, default_value_t = 12)]
        max_requests_per_hour: u32,
        /// Most flash messages one party may send on the line in an hour.
        #[arg(long, default_value_t = 4)]
        max_flash_per_hour: u32,
        /// Accept flight levels in notices, widening their bands by this many
        /// metres on both sides (a flight level is a pressure altitude);
        /// without it flight levels are refused.
        #[arg(long)]
        flight_level_margin_m: Option<f64>,
        /// The line's region of operation: a box, `south,west,north,east`
        /// in degrees, or a polygon, its vertices separated by `;` (each
        /// `lat,lng` in decimal degrees or a position as a notice takes one,
        /// such as `35°30'N 038°30'E` or MGRS). A notice reaching outside it
        /// is refused unless its sender confirms it.
        #[arg(long, value_name = "S,W,N,E | LAT,LNG;LAT,LNG;...")]
        region: Option<String>,
    },
    /// Peer this node with another node (host admins; both nodes' admins do
    /// it, with the keys exchanged out of band): its parties become known
    /// here, so a line may name them.
    PeerAdd {
        /// The peer's name: its record's origin (`parley admin federation` there).
        node: String,
        /// Where the peer is served.
        #[arg(long)]
        url: String,
        /// The peer's record key line (`parley admin federation` there).
        #[arg(long)]
        node_key: String,
        /// A party of the peer (repeat).
        #[arg(long = "party", required = true)]
        parties: Vec<String>,
        /// The SHA-256 of the peer's TLS key (SPKI, hex), pinned: required
        /// for https:// (plain http only on loopback).
        #[arg(long)]
        tls_pin: Option<String>,
        /// The peer's cosigner key line (`cosigner_key` in `parley admin
        /// federation` there): its cosignatures of this node's checkpoints
        /// are then checked and kept.
        #[arg(long)]
        cosigner_key: Option<String>,
    },
    /// This node's name and key, its peers (reachable or since when not) and
    /// what each federated line has delivered and holds (host admins).
    Federation,
    /// Mark a line suspended or active (its political status; it keeps working).
    LineStatus {
        /// The line.
        line: String,
        /// suspended or active.
        status: String,
    },
}

/// The lists: parties, lines, operators, as tables (or the server's JSON).
fn list(g: &Global, action: &Action) -> Result<()> {
    let c = Client::new(g)?;
    let (v, t) = match action {
        Action::Parties => {
            let v = c.get("/v1/parties")?;
            let mut t = Table::new(&["party", "name"]);
            for p in v["parties"].as_array().into_iter().flatten() {
                t.row(vec![cell(output::s(p, "id")), cell(output::s(p, "name"))]);
            }
            (v, t)
        }
        Action::Lines => {
            let v = c.get("/v1/lines")?;
            let mut t = Table::new(&["line", "status", "parties", "name"]);
            for l in v["lines"].as_array().into_iter().flatten() {
                t.row(vec![
                    cell(output::s(l, "id")),
                    state_cell(output::s(l, "status")),
                    cell(output::text(&l["parties"])),
                    cell(output::s(l, "name")),
                ]);
            }
            (v, t)
        }
        Action::Operators { party } => {
            let parties: Vec<String> = match party {
                Some(p) => vec![p.clone()],
                None => {
                    let me = c.get("/v1/me")?;
                    if output::s(&me, "party") == "host" && output::s(&me, "role") == "admin" {
                        c.get("/v1/parties")?["parties"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| output::s(p, "id").to_string())
                            .collect()
                    } else {
                        vec![output::s(&me, "party").to_string()]
                    }
                }
            };
            let mut all = Vec::new();
            for p in &parties {
                let v = c.get(&format!("/v1/parties/{}/operators", seg(p)))?;
                all.extend(v["operators"].as_array().cloned().unwrap_or_default());
            }
            let t = operators_table(&all);
            (json!({ "operators": all }), t)
        }
        _ => unreachable!("only lists come here"),
    };
    if g.json {
        output::print_json(&v);
    } else if t.is_empty() {
        println!("none");
    } else {
        t.print();
    }
    Ok(())
}

/// Operators as a table: role, token state, and who made each (the host or
/// the party, which operator; `RECOVERY` for the host's recovery path).
pub fn operators_table(operators: &[Value]) -> Table {
    let mut t = Table::new(&["operator", "party", "role", "token", "made by", "name"]);
    for o in operators {
        let token = if o["revoked"] == true {
            "revoked"
        } else {
            "active"
        };
        t.row(vec![
            cell(output::s(o, "id")),
            cell(output::s(o, "party")),
            cell(output::s(o, "role")),
            state_cell(token),
            cell(made_by(o)),
            cell(output::s(o, "name")),
        ]);
    }
    t
}

/// `host (op-…)`, `blue (op-…)`, with ` RECOVERY` for the host's recovery
/// path; `-` when the record does not say (operators made before it did).
fn made_by(o: &Value) -> String {
    let by = &o["made_by"];
    if !by.is_object() {
        return "-".into();
    }
    let mut s = format!("{} ({})", output::s(by, "party"), output::s(by, "operator"));
    if o["recovery"] == true {
        s.push_str(" RECOVERY");
    }
    s
}

/// Prints `party`'s operators and who made them, and whether the host may add
/// operators to it (for `parley whoami`).
pub fn print_party(c: &Client, party: &str) -> Result<()> {
    let ops = c.get(&format!("/v1/parties/{}/operators", seg(party)))?;
    let parties = c.get("/v1/parties")?;
    let open = parties["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| output::s(p, "id") == party)
        .map(|p| p["host_may_add_operators"] != false);
    match open {
        Some(true) => println!("the host's admins may add operators to {party}"),
        Some(false) => println!(
            "the host's admins may not add operators to {party} (only when it has no admin left, as recovery)"
        ),
        None => {}
    }
    operators_table(ops["operators"].as_array().map_or(&[], |a| a)).print();
    Ok(())
}

pub fn run(args: AdminArgs) -> Result<()> {
    if matches!(
        args.action,
        Action::Parties | Action::Lines | Action::Operators { .. }
    ) {
        return list(&args.g, &args.action);
    }
    if matches!(args.action, Action::Federation) {
        let status: Value = Client::new(&args.g)?.get("/v1/federation")?;
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    let (path, body) = match &args.action {
        Action::PartyCreate { id, name } => {
            ("/v1/parties".to_string(), json!({"id": id, "name": name}))
        }
        Action::OperatorCreate { party, name, role } => (
            format!("/v1/parties/{party}/operators"),
            json!({"name": name, "role": role}),
        ),
        Action::PartyLock { party } | Action::PartyUnlock { party } => (
            format!("/v1/parties/{}/settings", seg(party)),
            json!({"host_may_add_operators": matches!(args.action, Action::PartyUnlock { .. })}),
        ),
        Action::OperatorRevoke { operator } => {
            (format!("/v1/operators/{operator}/revoke"), json!({}))
        }
        Action::LineCreate {
            id,
            name,
            parties,
            horizontal_m,
            vertical_m,
            time_s,
            notice_lead_time_s,
            ack_deadline_s,
            line_check_interval_s,
            signatures_required,
            min_reply_s,
            max_requests_per_hour,
            max_flash_per_hour,
            flight_level_margin_m,
            region,
        } => {
            let mut body = json!({"id": id, "name": name, "parties": parties, "rules": {
                "horizontal_m": horizontal_m, "vertical_m": vertical_m, "time_s": time_s,
                "notice_lead_time_s": notice_lead_time_s, "ack_deadline_s": ack_deadline_s,
                "line_check_interval_s": line_check_interval_s,
                "signatures_required": signatures_required, "min_reply_s": min_reply_s,
                "max_requests_per_hour": max_requests_per_hour,
                "max_flash_per_hour": max_flash_per_hour}});
            if let Some(m) = flight_level_margin_m {
                body["rules"]["flight_level_margin_m"] = json!(m);
            }
            if let Some(r) = region {
                body["rules"]["region"] = region_json(r)?;
            }
            ("/v1/lines".to_string(), body)
        }
        Action::LineStatus { line, status } => (
            format!("/v1/lines/{line}/status"),
            json!({"status": status}),
        ),
        Action::PeerAdd {
            node,
            url,
            node_key,
            parties,
            tls_pin,
            cosigner_key,
        } => {
            let mut body =
                json!({"node": node, "url": url, "node_key": node_key, "parties": parties});
            if let Some(pin) = tls_pin {
                body["tls_pin"] = json!(pin);
            }
            if let Some(key) = cosigner_key {
                body["cosigner_key"] = json!(key);
            }
            ("/v1/federation/peers".to_string(), body)
        }
        Action::Parties | Action::Lines | Action::Operators { .. } | Action::Federation => {
            unreachable!("lists are answered above")
        }
    };
    let answer: Value = Client::new(&args.g)?.post(&path, &body)?;
    if args.g.json {
        crate::client::output::print_json(&answer);
        return Ok(());
    }
    if let Some(token) = answer["token"].as_str() {
        eprintln!(
            "token for {} (shown once; hand it over securely):",
            answer["id"].as_str().unwrap_or("?")
        );
        println!("{token}");
    } else {
        // The receipt is kept (`parley record receipts`), not printed.
        let mut shown = answer.clone();
        if let Some(o) = shown.as_object_mut() {
            o.remove("receipt");
        }
        println!("{}", serde_json::to_string_pretty(&shown)?);
    }
    Ok(())
}

/// `--region` as the API takes it: a box (`S,W,N,E`) or a polygon's
/// vertices (`LAT,LNG;...`, or any form of a position).
fn region_json(text: &str) -> anyhow::Result<serde_json::Value> {
    let numbers = |t: &str| -> Option<Vec<f64>> {
        t.split(',').map(|e| e.trim().parse::<f64>().ok()).collect()
    };
    if !text.contains(';') {
        return numbers(text)
            .filter(|e| e.len() == 4)
            .map(|e| json!({"south": e[0], "west": e[1], "north": e[2], "east": e[3]}))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--region: give a box, south,west,north,east in degrees, or a polygon, lat,lng;lat,lng;... (at least 3 vertices)"
                )
            });
    }
    let vertices = text
        .split(';')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .enumerate()
        .map(|(i, v)| match numbers(v).filter(|n| n.len() == 2) {
            Some(n) => Ok(json!({"lat": n[0], "lng": n[1]})),
            None => parley_wire::coordinates::parse_position(v)
                .map(|p| json!({"lat": p.point.lat, "lng": p.point.lng}))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "--region vertex {}: {e}; or give lat,lng in decimal degrees",
                        i + 1
                    )
                }),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(json!({ "vertices": vertices }))
}
