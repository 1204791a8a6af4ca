//! `parley watch`: a live view of the operator's events (Server-Sent Events),
//! resuming after the last cursor saved in the profile.
//!
//! Each event kind has a one-line view in [`handle`]. Line checks sent to the
//! operator's party are answered automatically while it watches
//! ([`line_check_answerer`]).

use super::output::{self, Colour};
use super::{profile, Client, Global, Outcome};
use anyhow::Result;
use serde_json::Value;
use std::time::Duration;

#[derive(clap::Args)]
#[command(after_help = "\
Shows each event as it arrives: messages, notices, amendments, acknowledgments,
conflicts, sites. The cursor (the last event's id) is saved in the profile after
each batch, so the next `parley watch` starts right after it: nothing is missed
or shown twice. A dropped connection is retried, resuming from the cursor.

Examples:
  parley watch
  parley watch --from-start --json | jq 'select(.kind == \"conflict_found\")'
  parley watch --count 1     # wait for the next event, show it, exit
  parley watch --until-caught-up   # what was logged since last time, then exit

Exit status: 0 stopped after --count events or once caught up; 2 bad input or token; 3 server or
network error that did not clear after retries.")]
pub struct Args {
    #[command(flatten)]
    g: Global,
    /// Start after this cursor instead of the profile's.
    #[arg(long, conflicts_with = "from_start")]
    after: Option<u64>,
    /// Start from the first event.
    #[arg(long)]
    from_start: bool,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Show what was logged so far, then exit (also with --count: whichever comes first).
    #[arg(long)]
    until_caught_up: bool,
}

/// The kind of the marker the server sends once everything logged so far is
/// sent (the comment `: caught-up`); never shown.
pub const CAUGHT_UP: &str = ":caught-up";

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Option<u64>,
    pub kind: String,
    pub data: Value,
}

/// Splits a byte stream into events (`id:`, `event:`, `data:`; comments ignored).
#[derive(Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Feeds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.buffer.extend(chunk.iter().filter(|b| **b != b'\r'));
        let mut out = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block);
            let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
            for line in text.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => id = value.parse().ok(),
                    "event" => kind = value.to_string(),
                    "data" => {
                        if !data.is_empty() {
                            data.push('\n');
                        }
                        data.push_str(value);
                    }
                    _ => {}
                }
            }
            if id.is_none() && data.is_empty() {
                if text.lines().any(|l| l.trim() == ": caught-up") {
                    out.push(Event {
                        id: None,
                        kind: CAUGHT_UP.into(),
                        data: Value::Null,
                    });
                }
                continue; // a keep-alive comment
            }
            let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
            out.push(Event { id, kind, data });
        }
        out
    }
}

/// The one-line human view of an event.
fn handle(e: &Event) -> String {
    let d = &e.data;
    let s = |k: &str| output::s(d, k).to_string();
    let (summary, colour) = match e.kind.as_str() {
        "message_sent" => {
            let mut t = format!(
                "{} #{} {} [{}] {}",
                s("line"),
                output::text(&d["seq"]),
                s("party"),
                s("priority"),
                s("text")
            );
            if let Some(dl) = d["deadline"].as_str() {
                t.push_str(&format!(" (reply due {})", output::relative(dl)));
            }
            let c = output::state_colour(d["priority"].as_str().unwrap_or(""));
            (t, c)
        }
        "notice" | "amendment" | "amended" | "cancellation" | "cancelled" => (
            format!(
                "{} v{} by {} on {} ({})",
                s("activity"),
                output::text(&d["version"]),
                s("party"),
                s("line"),
                s("state")
            ),
            Colour::Plain,
        ),
        "acknowledged" => (
            format!(
                "{} v{} acknowledged by {}",
                s("activity"),
                output::text(&d["version"]),
                s("party")
            ),
            Colour::Green,
        ),
        "conflict_found" => (
            format!(
                "{}: {} ({}) meets {} ({})",
                s("conflict"),
                output::s(&d["a"], "id"),
                output::s(&d["a"], "party"),
                output::s(&d["b"], "id"),
                output::s(&d["b"], "party")
            ),
            Colour::Red,
        ),
        "site_registered" => (
            format!(
                "{} {} by {}: {}",
                s("site"),
                s("site_kind"),
                s("party"),
                s("name")
            ),
            Colour::Plain,
        ),
        "site_withdrawn" => (
            format!("{} withdrawn by {}", s("site"), s("party")),
            Colour::Plain,
        ),
        "deadline_escalated" => (
            format!(
                "{} on {}: {} owed by {}, due {}",
                s("step"),
                s("line"),
                s("deadline"),
                s("party"),
                output::relative(&s("due"))
            ),
            Colour::Red,
        ),
        _ => {
            let keys = [
                "activity", "conflict", "check", "line", "site", "talk", "party", "operator",
                "state",
            ];
            let parts: Vec<String> = keys
                .iter()
                .filter_map(|k| d[*k].as_str().map(|v| format!("{k}={v}")))
                .collect();
            (parts.join(" "), Colour::Plain)
        }
    };
    let at = d["logged_at"]
        .as_str()
        .and_then(|t| t.get(11..19))
        .unwrap_or("--:--:--");
    format!(
        "{}  {:>6}  {:<16} {}",
        output::paint(&format!("{at}Z"), Colour::Dim),
        e.id.map(|i| i.to_string()).unwrap_or_default(),
        output::paint(&e.kind, Colour::Bold),
        output::paint(&summary, colour)
    )
}

pub fn run(a: Args) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let saved = profile::load(&a.g.profile)?.filter(|p| p.server.trim_end_matches('/') == c.server);
    let mut cursor = match (a.after, a.from_start) {
        (Some(n), _) => n,
        (None, true) => 0,
        (None, false) => saved.as_ref().map_or(0, |p| p.cursor),
    };
    let can_save = saved.is_some();
    eprintln!(
        "watching {} after event {cursor}{} (Ctrl-C to stop)",
        c.server,
        if can_save {
            ""
        } else {
            "; no profile for this server, so the cursor is not saved"
        }
    );
    let party = c.my_party()?;
    let answerer = line_check_answerer(Client::new(&a.g)?);
    let mut seen = 0u64;
    let mut failures = 0u32;
    loop {
        let mut caught_up = false;
        let result = c.events(cursor, |batch| {
            for e in &batch {
                if e.kind == CAUGHT_UP {
                    caught_up = a.until_caught_up;
                    if caught_up {
                        break;
                    }
                    continue;
                }
                if e.kind == "line_check_sent" && e.data["party"] == party.as_str() {
                    let _ = answerer.send(output::s(&e.data, "check").to_string());
                }
                if a.g.json {
                    outln!("{}", e.data);
                } else {
                    outln!("{}", handle(e));
                }
                if let Some(id) = e.id {
                    cursor = id;
                }
                seen += 1;
                if a.count.is_some_and(|n| seen >= n) {
                    break;
                }
            }
            if can_save {
                let mut p = profile::load(&a.g.profile)?.unwrap_or_default();
                p.cursor = cursor;
                profile::save(&a.g.profile, &p)?;
            }
            failures = 0;
            Ok(!caught_up && a.count.is_none_or(|n| seen < n))
        });
        match result {
            Ok(()) if caught_up || a.count.is_some_and(|n| seen >= n) => return Ok(Outcome::Ok),
            Ok(()) => {}
            Err(e) if super::exit_status(&e) == 3 && failures < 5 => {
                failures += 1;
                eprintln!("parley: {e:#}; retrying from event {cursor}");
            }
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(500 * u64::from(failures.max(1))));
    }
}

/// Answers the line checks sent to this operator's party while it watches, on a
/// thread of its own (the event stream holds the client's runtime). A check
/// already answered by a colleague or missed is refused by the server: said on
/// stderr, not fatal.
fn line_check_answerer(client: Client) -> std::sync::mpsc::Sender<String> {
    let (checks, received) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for check in received {
            let path = format!("/v1/line-checks/{check}/answer");
            match client.post(&path, &serde_json::json!({})) {
                Ok(v) => eprintln!(
                    "answered line check {check} ({} ms round trip)",
                    output::text(&v["round_trip_ms"])
                ),
                Err(e) => eprintln!("line check {check} not answered: {e}"),
            }
        }
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_across_chunks() {
        let mut p = SseParser::default();
        assert!(p
            .push(b": keep-alive\n\nid: 7\nevent: message_sent\nda")
            .is_empty());
        let events =
            p.push(b"ta: {\"seq\":1}\n\nid: 8\r\nevent: x\r\ndata: 2\r\n\r\n: caught-up\n\n");
        assert_eq!(events.len(), 3);
        assert_eq!(events[2].kind, CAUGHT_UP);
        assert_eq!(
            (events[0].id, events[0].kind.as_str()),
            (Some(7), "message_sent")
        );
        assert_eq!(events[0].data["seq"], 1);
        assert_eq!(
            (events[1].id, events[1].data.clone()),
            (Some(8), serde_json::json!(2))
        );
    }
}
