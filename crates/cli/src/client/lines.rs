//! `parley lines`: the lines your party is on, and one line's rules and status.

use super::output::{self, cell, state_cell, Table};
use super::{seg, Client, Global, Outcome};
use anyhow::Result;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  parley lines\n  parley lines show syria-air\n  parley lines --json | jq '.lines[].id'"
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
            let mut t = Table::new(&["field", "value"]);
            t.row(vec![cell("line"), cell(output::s(&l, "id"))]);
            t.row(vec![cell("name"), cell(output::s(&l, "name"))]);
            t.row(vec![cell("status"), state_cell(output::s(&l, "status"))]);
            t.row(vec![cell("parties"), cell(output::text(&l["parties"]))]);
            t.row(vec![cell("messages"), cell(output::text(&l["messages"]))]);
            if let Some(rules) = l["rules"].as_object() {
                for (k, v) in rules {
                    t.row(vec![cell(k.clone()), cell(output::text(v))]);
                }
            }
            // Anything else the server tells about the line (line checks and
            // their evidence, when the API has them), as it comes.
            if let Some(o) = l.as_object() {
                for (k, v) in o {
                    if !["id", "name", "status", "parties", "messages", "rules"]
                        .contains(&k.as_str())
                    {
                        t.row(vec![cell(k.clone()), cell(output::text(v))]);
                    }
                }
            }
            t.print();
        }
    }
    Ok(Outcome::Ok)
}
