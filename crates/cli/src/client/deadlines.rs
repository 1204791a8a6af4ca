//! `parley deadlines`: what is owed on your lines and talks, and by when.

use super::output::{self, cell, state_cell, Table};
use super::{Client, Global, Outcome};
use anyhow::Result;
use serde_json::Value;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  parley deadlines            # everything open on your lines and talks\n  parley deadlines --mine     # only what your party owes; exit 1 when any is overdue\n\nA deadline is met by its answer: `parley ack`, `parley reply`, or `parley talks\nclose-follow-up`. Past its due time it escalates: a reminder to the owing\nparty's officers, then overdue to every party, then the owing party's admins."
)]
pub struct Args {
    #[command(flatten)]
    g: Global,
    /// Only what your party owes.
    #[arg(long)]
    mine: bool,
}

/// What is owed, in words: "ack act-2f7d90c1e84ab356 v2", "reply to message 7", "follow-up 1 of t-8e61c3a09f27b4d5".
fn owed(o: &Value) -> String {
    match o["kind"].as_str() {
        Some("acknowledgment") => format!(
            "acknowledge {} v{}",
            output::s(o, "activity"),
            output::text(&o["version"])
        ),
        Some("reply") => format!("reply to message {}", output::text(&o["message"])),
        Some("follow_up") => format!(
            "follow-up {} of {}",
            output::text(&o["follow_up"]),
            output::s(o, "talk")
        ),
        _ => output::text(o),
    }
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let mut list = c.get("/v1/deadlines")?["deadlines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if a.mine {
        let me = c.my_party()?;
        list.retain(|d| d["party"] == me.as_str());
    }
    let overdue = list.iter().any(|d| d["overdue"] == true);
    if a.g.json {
        output::print_json(&serde_json::json!({ "deadlines": list }));
    } else if list.is_empty() {
        outln!("nothing owed");
    } else {
        print(&list);
    }
    // Exit 1 only for what the operator's own party is late with.
    Ok(if a.mine && overdue {
        Outcome::Found
    } else {
        Outcome::Ok
    })
}

/// Deadlines as a table: who owes what, by when (24-hour UTC), escalation.
pub fn print(list: &[Value]) {
    let mut t = Table::new(&["owed by", "what", "line", "due", "state", "escalated"]);
    for d in list {
        let state = if d["overdue"] == true {
            "overdue"
        } else {
            "open"
        };
        let due = output::s(d, "due");
        t.row(vec![
            cell(output::s(d, "party")),
            cell(owed(&d["owed"])),
            cell(output::s(d, "line")),
            cell(format!("{} ({})", output::relative(due), output::utc(due))),
            state_cell(state),
            cell(output::text(&d["escalation"])),
        ]);
    }
    t.print();
}
