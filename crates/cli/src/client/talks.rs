//! `parley talks`: the register of talks between parties: record a talk from a
//! JSON file, confirm a version or record your own, close follow-ups, and the
//! relations with the time since the last talk.

use super::output::{self, cell, Colour, Table};
use super::{read_input, seg, volumes, ApiError, Client, Global, Outcome};
use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};

pub const TALKS_HELP: &str = "Examples:
  parley talks                                   # your party's talks
  parley talks record talk.json                  # version 1; your party stands by it
  parley talks show t-8e61c3a09f27b4d5
  parley talks confirm t-8e61c3a09f27b4d5                      # the latest version, read back, then asked
  parley talks confirm t-8e61c3a09f27b4d5 --yes                # without asking (scripts)
  parley talks version t-8e61c3a09f27b4d5 ours.json            # your own version, kept beside theirs
  parley talks close-follow-up t-8e61c3a09f27b4d5 1 --note \"Procedure sent on the line\"
  parley talks relations                         # time since the last talk; flagged after 365 days

A record file is one JSON object:
  {\"parties\": [\"blue\", \"red\"], \"date\": \"2026-11-20\", \"level\": \"deputy minister\",
   \"participants\": [{\"party\": \"blue\", \"role\": \"under secretary for policy\"}],
   \"venue\": \"Beijing\", \"line\": \"syria-air\",
   \"agenda\": [{\"item\": \"maritime safety\", \"outcome\": \"positions_differ\",
                \"positions\": {\"blue\": \"...\", \"red\": \"...\"}}],
   \"follow_ups\": [{\"action\": \"...\", \"owner\": \"red\", \"due\": \"2026-12-20T00:00:00Z\"}]}
outcome: agreed, positions_differ or to_continue.";

#[derive(clap::Args)]
#[command(after_help = TALKS_HELP)]
pub struct Args {
    #[command(flatten)]
    g: Global,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List your party's talks (the default).
    List,
    /// One talk: agenda, outcomes, versions, confirmations, follow-ups.
    Show {
        /// The talk (t-N).
        talk: String,
    },
    /// Record a talk from a JSON file (`-`: standard input): version 1.
    Record {
        /// The record file.
        file: String,
    },
    /// Record your party's own version of a talk's record, from a JSON file.
    Version {
        /// The talk (t-N).
        talk: String,
        /// The record file.
        file: String,
    },
    /// Confirm a version of a talk's record for your party (default: the latest).
    #[command(disable_version_flag = true)]
    Confirm {
        /// The talk (t-N).
        talk: String,
        /// The version to confirm.
        #[arg(long)]
        version: Option<u64>,
        /// Do not ask; confirm.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Close a follow-up your party owes.
    CloseFollowUp {
        /// The talk (t-N).
        talk: String,
        /// The follow-up's number (1, 2, ...).
        follow_up: u64,
        /// What was done (1 to 2,000 bytes).
        #[arg(long)]
        note: String,
    },
    /// For each party you have a line or a talk with: time since the last talk,
    /// talks a year, open follow-ups, and the flag after a long silence.
    Relations,
}

/// A record file: its text (for the lines of the server's pointers) and its JSON.
fn record_file(path: &str) -> Result<(String, Value)> {
    let text = read_input(path)?;
    let v = serde_json::from_str(&text).with_context(|| format!("{path}: not JSON"))?;
    Ok((text, v))
}

/// The server's refusal of a record file, with the file and the line of the
/// field it names: "talk.json:12: /agenda/1/outcome: ...".
fn in_file(file: &str, text: &str, e: ApiError) -> anyhow::Error {
    if let ApiError::Status { status, message } = &e {
        let pointer = message.split(": ").next().filter(|p| p.starts_with('/'));
        if let Some(line) = pointer.and_then(|p| volumes::pointer_line(text, p)) {
            return anyhow::Error::new(ApiError::Status {
                status: *status,
                message: format!("{file}:{line}: {message}"),
            });
        }
    }
    anyhow::Error::new(e).context(file.to_string())
}

fn list(list: &[Value]) {
    let mut t = Table::new(&[
        "talk",
        "date",
        "parties",
        "level",
        "state",
        "versions",
        "open follow-ups",
    ]);
    for v in list {
        t.row(vec![
            cell(output::s(v, "id")),
            cell(output::s(v, "date")),
            cell(parties(&v["parties"])),
            cell(output::s(v, "level")),
            state(output::s(v, "state")),
            cell(output::text(&v["versions"])),
            cell(output::text(&v["open_follow_ups"])),
        ]);
    }
    t.print();
}

fn parties(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn state(s: &str) -> (String, Colour) {
    let colour = match s {
        "confirmed" | "closed" | "agreed" => Colour::Green,
        "disputed" | "overdue" | "flagged" => Colour::Red,
        "awaiting_confirmation" | "open" | "positions_differ" | "to_continue" => Colour::Yellow,
        _ => Colour::Plain,
    };
    (s.to_string(), colour)
}

/// A state painted for a line of text (tables paint their cells themselves).
fn painted(s: &str) -> String {
    let (text, colour) = state(s);
    output::paint(&text, colour)
}

fn show(v: &Value) {
    let r = &v["record"];
    outln!(
        "{}  {}  {}  ({})",
        output::s(v, "id"),
        output::s(v, "date"),
        parties(&v["parties"]),
        output::s(v, "level")
    );
    let place = [output::s(r, "venue"), output::s(r, "line")]
        .into_iter()
        .filter(|s| *s != "-")
        .collect::<Vec<_>>()
        .join(", line ");
    outln!("where: {place}");
    outln!(
        "state: {}, version {} (sha256 {})",
        painted(output::s(v, "state")),
        output::text(&v["version"]),
        output::s(v, "content_sha256")
    );
    if let Some(waiting) = v["awaiting"].as_array().filter(|a| !a.is_empty()) {
        outln!("awaiting: {}", parties(&Value::from(waiting.clone())));
    }
    let who: Vec<String> = r["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{} ({})", output::s(p, "role"), output::s(p, "party")))
        .collect();
    if !who.is_empty() {
        outln!("participants: {}", who.join("; "));
    }
    outln!();
    let mut t = Table::new(&["#", "agenda item", "outcome", "positions"]);
    for (i, a) in r["agenda"].as_array().into_iter().flatten().enumerate() {
        let positions: Vec<String> = a["positions"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(p, text)| format!("{p}: {}", output::text(text)))
            .collect();
        t.row(vec![
            cell((i + 1).to_string()),
            cell(output::s(a, "item")),
            state(output::s(a, "outcome")),
            cell(positions.join("; ")),
        ]);
    }
    t.print();
    let versions = v["versions"].as_array().cloned().unwrap_or_default();
    if versions.len() > 1 {
        outln!();
        let mut t = Table::new(&["version", "by", "stood by", "sha256"]);
        for ver in &versions {
            t.row(vec![
                cell(output::text(&ver["version"])),
                cell(output::s(ver, "party")),
                cell(parties(&ver["stood_by"])),
                cell(output::s(ver, "content_sha256")),
            ]);
        }
        t.print();
    }
    let follow_ups = v["follow_ups"].as_array().cloned().unwrap_or_default();
    if !follow_ups.is_empty() {
        outln!();
        let mut t = Table::new(&["follow-up", "owner", "due", "state", "action"]);
        for f in &follow_ups {
            t.row(vec![
                cell(output::text(&f["id"])),
                cell(output::s(f, "owner")),
                cell(format!(
                    "{} ({})",
                    output::s(f, "due"),
                    output::relative(output::s(f, "due"))
                )),
                state(output::s(f, "state")),
                cell(output::s(f, "action")),
            ]);
        }
        t.print();
    }
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let json = a.g.json;
    let done = |v: &Value, human: String| {
        if json {
            output::print_json(v);
        } else {
            outln!("{human}");
        }
        Ok(Outcome::Ok)
    };
    match a.action.unwrap_or(Action::List) {
        Action::List => {
            let v = c.get("/v1/talks")?;
            let talks = v["talks"].as_array().cloned().unwrap_or_default();
            if json {
                output::print_json(&v);
            } else if talks.is_empty() {
                outln!("no talks recorded for your party");
            } else {
                list(&talks);
            }
            Ok(Outcome::Ok)
        }
        Action::Show { talk } => {
            let v = c.get(&format!("/v1/talks/{}", seg(&talk)))?;
            if json {
                output::print_json(&v);
            } else {
                show(&v);
            }
            Ok(Outcome::Ok)
        }
        Action::Record { file } => {
            let (text, record) = record_file(&file)?;
            let v = c
                .post("/v1/talks", &record)
                .map_err(|e| in_file(&file, &text, e))?;
            let human = format!(
                "{}: recorded as version 1, which your party stands by; the other parties confirm it or record their own",
                output::s(&v, "talk")
            );
            done(&v, human)
        }
        Action::Version { talk, file } => {
            let (text, record) = record_file(&file)?;
            let v = c
                .post(&format!("/v1/talks/{}/versions", seg(&talk)), &record)
                .map_err(|e| in_file(&file, &text, e))?;
            let human = format!(
                "{talk}: your version {} is kept beside the others; your party stands by it",
                output::text(&v["version"])
            );
            done(&v, human)
        }
        Action::Confirm { talk, version, yes } => {
            let t = c.get(&format!("/v1/talks/{}", seg(&talk)))?;
            let versions = t["versions"].as_array().cloned().unwrap_or_default();
            let n = version.unwrap_or(versions.len() as u64);
            let chosen = n
                .checked_sub(1)
                .and_then(|i| versions.get(i as usize))
                .ok_or_else(|| anyhow!("{talk} has versions 1 to {}", versions.len()))?;
            // The read-back: the very version confirmed, as recorded. It goes
            // where a person reads it: stdout, or stderr under --json.
            let mut shown = t.clone();
            shown["record"] = chosen["record"].clone();
            shown["version"] = json!(n);
            shown["content_sha256"] = chosen["content_sha256"].clone();
            let by = output::s(chosen, "party").to_string();
            if json {
                eprintln!("confirming {talk} version {n}, recorded by {by}:");
            } else {
                outln!("confirming {talk} version {n}, recorded by {by}:");
                show(&shown);
                outln!();
            }
            super::ask(
                yes,
                "Confirm this record for your party? It becomes your party's word in the register.",
                "not confirmed",
                "confirm",
            )?;
            let v = c.post_signed(
                &format!("/v1/talks/{}/confirmation", seg(&talk)),
                &json!({"version": n, "content_sha256": chosen["content_sha256"]}),
                |me| {
                    let sha = output::s(chosen, "content_sha256");
                    Ok(parley_service::Claim::confirm(&talk, n, &me.party, sha))
                },
            )?;
            let human = format!(
                "{talk}: your party confirmed version {n} (sha256 {}); the talk is {}",
                output::s(&v, "content_sha256"),
                painted(output::s(&v, "state"))
            );
            done(&v, human)
        }
        Action::CloseFollowUp {
            talk,
            follow_up,
            note,
        } => {
            let v = c.post(
                &format!("/v1/talks/{}/follow-ups/{follow_up}/closure", seg(&talk)),
                &json!({"note": note}),
            )?;
            done(&v, format!("{talk}: follow-up {follow_up} closed"))
        }
        Action::Relations => {
            let v = c.get("/v1/talks/relations")?;
            if json {
                output::print_json(&v);
                return Ok(Outcome::Ok);
            }
            let mut t = Table::new(&[
                "party",
                "last talk",
                "days since",
                "talks in 365 d",
                "open follow-ups",
                "flag",
            ]);
            for r in v["relations"].as_array().into_iter().flatten() {
                let flag = if r["flagged"] == true {
                    state("flagged")
                } else {
                    cell("")
                };
                t.row(vec![
                    cell(output::s(r, "party")),
                    cell(output::s(r, "last_talk")),
                    cell(output::text(&r["days_since_last_talk"])),
                    cell(output::text(&r["talks_last_365_days"])),
                    cell(output::text(&r["open_follow_ups"])),
                    flag,
                ]);
            }
            if t.is_empty() {
                outln!("no relations: your party has no line and no talk with another party");
            } else {
                t.print();
            }
            Ok(Outcome::Ok)
        }
    }
}
