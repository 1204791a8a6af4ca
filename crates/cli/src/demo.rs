//! `parley demo`: a fresh store with a realistic scenario (an air line over
//! Syria, a relief office's sites and its line with both air forces, a
//! maritime line, a round of talks), served as `parley serve` serves.

use crate::serve::{open, run_server, Limits};
use anyhow::{Context, Result};
use parley_server::{bootstrap, host_actor, run_blocking};
use parley_service::{
    sha256_hex, system_clock, Actor, Category, Command, LineRules, Priority, Role, Service, Volumes,
};
use parley_wire::{format_timestamp, WireLimits};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Where to keep the demo's store; it is started afresh each time.
    /// Default: `parley-demo/demo.db` in the system's temporary directory, so
    /// a demo run in a checkout leaves nothing in it.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Also write the URL and the tokens as JSON to this file once listening
    /// (`{"url", "host", "officers": [{"party", "operator", "token"}]}`), for scripts.
    #[arg(long)]
    tokens_file: Option<PathBuf>,
    /// Three nodes instead of one server: Blue's, Red's and a relief
    /// office's, each its own `parley serve` and store on `--listen`'s port
    /// and the two after it, peered, with lines joining them.
    #[arg(long)]
    federated: bool,
}

pub fn demo(args: DemoArgs) -> Result<()> {
    if args.federated {
        let dir = match &args.db {
            Some(db) => db.with_extension("nodes"),
            None => std::env::temp_dir().join("parley-demo-federated"),
        };
        return crate::demo_federated::run(&args.listen, &dir);
    }
    let db = match &args.db {
        Some(db) => db.clone(),
        None => {
            let dir = std::env::temp_dir().join("parley-demo");
            std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
            dir.join("demo.db")
        }
    };
    for suffix in ["", "-wal", "-shm", ".record-key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let (service, committed) = open(&db)?;
    let host_token = bootstrap(&service)?.context("a fresh demo store has no operators")?;
    let host_operator = service
        .authenticate(&sha256_hex(host_token.as_bytes()))
        .map(|a| a.operator)
        .unwrap_or_default();
    let tokens = scenario(&service)?;
    let who = cast(&service);
    run_server(
        service,
        committed,
        &args.listen,
        Limits::defaults(200.0),
        None,
        |url| {
            if let Some(path) = &args.tokens_file {
                let officers: Vec<Value> = tokens
                .iter()
                .map(|(party, operator, token)| {
                    json!({"party": party, "operator": operator, "token": token})
                })
                .collect();
                let doc = json!({"url": url, "host": host_token, "officers": officers});
                // Written whole, then renamed: a script polling for it never reads half.
                let partial = path.with_extension("partial");
                // It holds the host's token: the owner's alone, like the store.
                let _ = std::fs::remove_file(&partial);
                let written = crate::secret::create(&partial, &format!("{doc:#}\n"))
                    .map_err(std::io::Error::other)
                    .and_then(|()| std::fs::rename(&partial, path));
                if let Err(e) = written {
                    eprintln!("parley: cannot write {}: {e}", path.display());
                }
            }
            println!("Parley demo at {url}");
            println!("Console: {url}/ (log in with a token below)");
            println!();
            print!("{who}");
            println!();
            println!("  {:<8} {:<19} {:<8} token", "party", "operator", "role");
            println!(
                "  {:<8} {host_operator:<19} {:<8} {host_token}",
                "host", "admin"
            );
            for (party, operator, token) in &tokens {
                println!("  {party:<8} {operator:<19} {:<8} {token}", "officer");
            }
            println!();
            println!(
                "Try: curl -H 'Authorization: Bearer {}' {url}/v1/conflicts",
                tokens[0].2
            );
            println!(
                "     curl -N -H 'Authorization: Bearer {}' {url}/v1/events",
                tokens[1].2
            );
            let _ = std::io::stdout().flush();
        },
    )
}

fn volumes(json: Vec<Value>) -> Result<Volumes> {
    check(Volumes::parse(json, &WireLimits::default()), "volumes")
}

fn check<T>(r: Result<T, parley_service::ServiceError>, what: &str) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("demo scenario, {what}: {e}"))
}

/// Who is in the demo and what each line is for, for its banner.
fn cast(service: &Service) -> String {
    let host = host_actor();
    let now = (system_clock())();
    let (parties, lines) = service.read(|s| (s.parties(&host), s.lines(&host, now)));
    let mut text = String::from("Parties:\n");
    for p in parties.iter().filter(|p| p.id != parley_service::HOST) {
        text.push_str(&format!("  {:<8} {}\n", p.id, p.name));
    }
    text.push_str("Lines:\n");
    for l in &lines {
        text.push_str(&format!(
            "  {:<13} {} ({})\n",
            l.id,
            l.name,
            l.parties.join(", ")
        ));
    }
    text
}

/// `13:00Z`: a time of day in UTC as the demo's messages write it.
fn hour_z(us: i64) -> String {
    let t = format_timestamp(parley_engine::Timestamp(us));
    format!("{}Z", &t[11..16])
}

/// Volumes of an example activity, moved from the examples' day to the same
/// hours from `base_us` (taken from the clock), so the fixed date below is only
/// the reference the examples were written on and never ages.
fn shifted(activity: &Value, base_us: i64) -> Vec<Value> {
    let day = parley_wire::parse_timestamp("2026-11-22T00:00:00Z")
        .expect("a timestamp")
        .0;
    let shift = |v: &Value| {
        let t = parley_wire::parse_timestamp(v.as_str().unwrap_or_default())
            .map(|t| t.0)
            .unwrap_or(day);
        json!(format_timestamp(parley_engine::Timestamp(
            base_us + (t - day)
        )))
    };
    activity["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut v| {
            v["time_start"]["value"] = shift(&v["time_start"]["value"]);
            v["time_end"]["value"] = shift(&v["time_end"]["value"]);
            v
        })
        .collect()
}

/// The demo: an air line over Syria between Blue and Red with notices, an
/// acknowledgment and one open conflict; a relief office whose protected sites
/// both see; a maritime line between Green and Yellow.
fn scenario(service: &Service) -> Result<Vec<(String, String, String)>> {
    let host = host_actor();
    let parties = [
        ("blue", "Blue Air Force"),
        ("red", "Red Aerospace Forces"),
        ("relief", "Relief Coordination Office"),
        ("green", "Green Navy"),
        ("yellow", "Yellow Navy"),
    ];
    let mut officers: Vec<(String, Actor, String)> = Vec::new();
    for (id, name) in parties {
        check(
            run_blocking(
                service,
                &host,
                Command::CreateParty {
                    party: id.into(),
                    name: name.into(),
                },
            ),
            "party",
        )?;
        let token = parley_server::new_token();
        let op = check(
            run_blocking(
                service,
                &host,
                Command::CreateOperator {
                    party: id.into(),
                    name: format!("{id} duty officer"),
                    role: Role::Officer,
                    token_sha256: sha256_hex(token.as_bytes()),
                },
            ),
            "operator",
        )?;
        let operator = op["id"].as_str().unwrap_or_default().to_string();
        officers.push((
            id.into(),
            Actor {
                operator,
                party: id.into(),
                role: Role::Officer,
            },
            token,
        ));
    }
    let actor = |party: &str| {
        officers
            .iter()
            .find(|o| o.0 == party)
            .map(|o| o.1.clone())
            .expect("a demo party")
    };
    let air = LineRules {
        horizontal_m: 1_000.0,
        vertical_m: 300.0,
        time_s: 300.0,
        ..LineRules::default()
    };
    let sea = LineRules {
        horizontal_m: 2_000.0,
        vertical_m: 0.0,
        time_s: 600.0,
        ..LineRules::default()
    };
    for (id, name, members, rules) in [
        (
            "syria-air",
            "Syria air deconfliction",
            vec!["blue", "red"],
            air.clone(),
        ),
        (
            "black-sea",
            "Black Sea incidents at sea",
            vec!["green", "yellow"],
            sea,
        ),
        // The relief office shares its sites only with parties it has a line
        // with: this one, with both air forces.
        (
            "syria-relief",
            "Syria humanitarian notification",
            vec!["relief", "blue", "red"],
            air,
        ),
    ] {
        let parties = members.into_iter().map(String::from).collect();
        check(
            run_blocking(
                service,
                &host,
                Command::CreateLine {
                    line: id.into(),
                    name: name.into(),
                    parties,
                    rules,
                },
            ),
            "line",
        )?;
    }

    let examples: Vec<Value> = include_str!("../../../examples/syria-air.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("the examples are JSON"))
        .collect();
    let example = |id: &str| {
        examples
            .iter()
            .find(|a| a["id"] == id)
            .expect("an example activity")
            .clone()
    };
    let now = (system_clock())();
    let base = (now / 3_600_000_000 + 2) * 3_600_000_000 - 10 * 3_600_000_000; // examples start at 10:00
    let notify = |party: &str, id: &str, category: Category, poc: &str| {
        let command = Command::Notify {
            line: "syria-air".into(),
            category,
            point_of_contact: poc.into(),
            volumes: volumes(shifted(&example(id), base))?,
            dry_run: false,
        };
        check(run_blocking(service, &actor(party), command), id)
    };
    let strike = notify(
        "blue",
        "blue-strike-raqqa",
        Category::Air,
        "Blue CAOC duty officer, channel 2",
    )?;
    let transport = notify(
        "red",
        "red-transport-hmeimim-palmyra",
        Category::Air,
        "Red air operations centre",
    )?;
    let patrol = notify(
        "red",
        "red-patrol-euphrates",
        Category::Air,
        "Red air operations centre",
    )?;
    for (party, notice) in [("red", &strike), ("blue", &transport)] {
        let command = Command::Acknowledge {
            activity: notice["activity"].as_str().unwrap_or_default().into(),
            version: 1,
            content_sha256: notice["content_sha256"].as_str().unwrap_or_default().into(),
        };
        check(
            run_blocking(service, &actor(party), command),
            "acknowledgment",
        )?;
    }
    let message = |party: &str, text: &str, priority: Priority| {
        let command = Command::SendMessage {
            line: "syria-air".into(),
            message: parley_service::MessageKind::Text,
            priority,
            text: text.into(),
            deadline: None,
            references: None,
        };
        check(run_blocking(service, &actor(party), command), "message")
    };
    message(
        "blue",
        "Blue duty officer on the line. Raqqa strike package notified.",
        Priority::Routine,
    )?;
    message(
        "blue",
        &format!(
            "Your patrol {} meets our Raqqa package {}-{} at 6,000-8,000 m. Please amend or propose a split.",
            patrol["activity"].as_str().unwrap_or_default(),
            // The examples' 11:00 and 12:00, moved to the demo's day and hour.
            hour_z(base + 11 * 3_600_000_000),
            hour_z(base + 12 * 3_600_000_000)
        ),
        Priority::Urgent,
    )?;

    let hospital = json!({"volume": {"outline_circle": {"center": {"lat": 35.9306, "lng": 36.6339}, "radius": {"value": 500, "units": "M"}},
        "altitude_lower": {"value": -50, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": format_timestamp(parley_engine::Timestamp(now)), "format": "RFC3339"},
        "time_end": {"value": format_timestamp(parley_engine::Timestamp(now + 30 * 86_400_000_000)), "format": "RFC3339"}});
    let relief = actor("relief");
    check(
        run_blocking(
            service,
            &relief,
            Command::RegisterSite {
                name: "Idlib central hospital".into(),
                site_kind: parley_service::SiteKind::Static,
                volumes: volumes(vec![hospital])?,
                expires: format_timestamp(parley_engine::Timestamp(now + 30 * 86_400_000_000)),
                shared_with_parties: vec!["blue".into(), "red".into()],
                shared_with_lines: vec![],
            },
        ),
        "site",
    )?;
    let convoy = shifted(&example("relief-convoy-aleppo"), base);
    check(
        run_blocking(
            service,
            &relief,
            Command::RegisterSite {
                name: "Aleppo convoy, day 1".into(),
                site_kind: parley_service::SiteKind::Movement,
                volumes: volumes(convoy)?,
                expires: format_timestamp(parley_engine::Timestamp(base + 20 * 3_600_000_000)),
                shared_with_parties: vec!["blue".into(), "red".into()],
                shared_with_lines: vec![],
            },
        ),
        "convoy",
    )?;

    let exercise = json!({"volume": {"outline_polygon": {"vertices": [
            {"lat": 43.0, "lng": 33.0}, {"lat": 43.0, "lng": 34.0}, {"lat": 43.6, "lng": 34.0}, {"lat": 43.6, "lng": 33.0}]},
        "altitude_lower": {"value": -300, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": format_timestamp(parley_engine::Timestamp(base + 8 * 3_600_000_000)), "format": "RFC3339"},
        "time_end": {"value": format_timestamp(parley_engine::Timestamp(base + 16 * 3_600_000_000)), "format": "RFC3339"}});
    let notice = check(
        run_blocking(
            service,
            &actor("green"),
            Command::Notify {
                line: "black-sea".into(),
                category: Category::Maritime,
                point_of_contact: "Green fleet HQ".into(),
                volumes: volumes(vec![exercise])?,
                dry_run: false,
            },
        ),
        "exercise",
    )?;
    check(
        run_blocking(
            service,
            &actor("yellow"),
            Command::Acknowledge {
                activity: notice["activity"].as_str().unwrap_or_default().into(),
                version: 1,
                content_sha256: notice["content_sha256"].as_str().unwrap_or_default().into(),
            },
        ),
        "acknowledgment",
    )?;
    // A round of talks between blue and red, recorded by blue three weeks ago
    // and awaiting red's confirmation (the console's browser test confirms it).
    let day = 86_400_000_000;
    let talk_day = &format_timestamp(parley_engine::Timestamp(now - 21 * day))[..10];
    let record = json!({
        "parties": ["blue", "red"], "date": talk_day, "level": "deputy chief of staff",
        "participants": [{"party": "blue", "role": "director of operations"},
                         {"party": "red", "role": "deputy chief of general staff"}],
        "venue": "Hmeimim", "line": "syria-air",
        "agenda": [
            {"item": "Flight safety over the Euphrates valley", "outcome": "positions_differ",
             "positions": {"blue": "Keep 1 km horizontal separation", "red": "Keep 2 km horizontal separation"}},
            {"item": "Hourly tests of the line", "outcome": "agreed"},
            {"item": "Mechanisms for notifying drone flights", "outcome": "to_continue"},
        ],
        "follow_ups": [{"action": "Send the draft procedure for drone notices", "owner": "red",
                        "due": format_timestamp(parley_engine::Timestamp(now + 14 * day))}],
    });
    check(
        run_blocking(service, &actor("blue"), Command::RecordTalk { record }),
        "talk",
    )?;
    Ok(officers
        .into_iter()
        .map(|(party, a, token)| (party, a.operator, token))
        .collect())
}
