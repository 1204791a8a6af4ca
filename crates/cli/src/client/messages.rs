//! `parley messages`, `send`, `request`, `reply`: a line's messages.

use super::output::{self, cell, state_cell, Colour, Table};
use super::{seg, Client, Global, Outcome};
use anyhow::{anyhow, Result};
use serde_json::{json, Value};

#[derive(clap::Args)]
#[command(after_help = "Example:\n  parley messages syria-air --after 10")]
pub struct ListArgs {
    #[command(flatten)]
    g: Global,
    /// The line.
    line: String,
    /// Only messages after this line sequence number.
    #[arg(long)]
    after: Option<u64>,
    /// At most this many messages.
    #[arg(long)]
    limit: Option<u64>,
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  parley send syria-air \"Blue duty officer on the line.\"\n  parley send syria-air \"Correction: 1200Z, not 1100Z\" --references 4 --priority urgent"
)]
pub struct SendArgs {
    #[command(flatten)]
    g: Global,
    /// The line.
    line: String,
    /// The text.
    text: String,
    /// routine, urgent or flash.
    #[arg(long, default_value = "routine")]
    priority: String,
    /// The line sequence number of a message this one refers to (a correction).
    #[arg(long)]
    references: Option<u64>,
}

#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  parley request syria-air \"Request you hold north of 36N\" --deadline 30m"
)]
pub struct RequestArgs {
    #[command(flatten)]
    g: Global,
    /// The line.
    line: String,
    /// The text.
    text: String,
    /// When an answer is due: RFC 3339 or a delay from now (30m, 2h).
    #[arg(long)]
    deadline: String,
    /// routine, urgent or flash.
    #[arg(long, default_value = "routine")]
    priority: String,
}

#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  parley reply syria-air 5 \"Agreed, holding north of 36N until 1200Z\""
)]
pub struct ReplyArgs {
    #[command(flatten)]
    g: Global,
    /// The line.
    line: String,
    /// The line sequence number of the request answered.
    request: u64,
    /// The text.
    text: String,
    /// routine, urgent or flash.
    #[arg(long, default_value = "routine")]
    priority: String,
}

pub fn list(a: ListArgs) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let mut q = Vec::new();
    if let Some(n) = a.after {
        q.push(format!("after={n}"));
    }
    if let Some(n) = a.limit {
        q.push(format!("limit={n}"));
    }
    let query = if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    };
    let v = c.get(&format!("/v1/lines/{}/messages{query}", seg(&a.line)))?;
    if a.g.json {
        output::print_json(&v);
        return Ok(Outcome::Ok);
    }
    let mut t = Table::new(&["seq", "when", "party", "kind", "priority", "text"]);
    for m in v["messages"].as_array().into_iter().flatten() {
        let mut text = output::s(m, "text").to_string();
        if let Some(r) = m["references"].as_u64() {
            text = format!("(re {r}) {text}");
        }
        if let Some(d) = m["deadline"].as_str() {
            text = format!("{text} [due {}]", output::relative(d));
        }
        t.row(vec![
            cell(output::text(&m["seq"])),
            (output::relative(output::s(m, "logged_at")), Colour::Dim),
            cell(output::s(m, "party")),
            state_cell(output::s(m, "message")),
            state_cell(output::s(m, "priority")),
            cell(text),
        ]);
    }
    if t.is_empty() {
        outln!("no messages");
    } else {
        t.print();
    }
    Ok(Outcome::Ok)
}

fn post(g: &Global, line: &str, body: Value) -> Result<Outcome> {
    let c = Client::new(g)?;
    let v = c.post(&format!("/v1/lines/{}/messages", seg(line)), &body)?;
    if g.json {
        output::print_json(&v);
    } else {
        outln!(
            "sent {} {} on {line}",
            output::s(&v, "message"),
            output::text(&v["seq"])
        );
    }
    Ok(Outcome::Ok)
}

pub fn send(a: SendArgs) -> Result<Outcome> {
    let mut body = json!({"message": "text", "priority": a.priority, "text": a.text});
    if let Some(r) = a.references {
        body["references"] = json!(r);
    }
    post(&a.g, &a.line, body)
}

pub fn request(a: RequestArgs) -> Result<Outcome> {
    let deadline = output::when(&a.deadline).map_err(|e| anyhow!("--deadline: {e}"))?;
    post(
        &a.g,
        &a.line,
        json!({"message": "request", "priority": a.priority, "text": a.text, "deadline": deadline}),
    )
}

pub fn reply(a: ReplyArgs) -> Result<Outcome> {
    post(
        &a.g,
        &a.line,
        json!({"message": "reply", "priority": a.priority, "text": a.text, "references": a.request}),
    )
}
