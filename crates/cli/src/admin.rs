//! `parley admin ...`: the host's and parties' admins manage parties, operators
//! and lines through the API.

use crate::client::{Client, Global};
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
    },
    /// Mark a line suspended or active (its political status; it keeps working).
    LineStatus {
        /// The line.
        line: String,
        /// suspended or active.
        status: String,
    },
}

pub fn run(args: AdminArgs) -> Result<()> {
    let (path, body) = match &args.action {
        Action::PartyCreate { id, name } => {
            ("/v1/parties".to_string(), json!({"id": id, "name": name}))
        }
        Action::OperatorCreate { party, name, role } => (
            format!("/v1/parties/{party}/operators"),
            json!({"name": name, "role": role}),
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
        } => (
            "/v1/lines".to_string(),
            json!({"id": id, "name": name, "parties": parties, "rules": {
                "horizontal_m": horizontal_m, "vertical_m": vertical_m, "time_s": time_s,
                "notice_lead_time_s": notice_lead_time_s, "ack_deadline_s": ack_deadline_s,
                "line_check_interval_s": line_check_interval_s,
                "signatures_required": signatures_required, "min_reply_s": min_reply_s,
                "max_requests_per_hour": max_requests_per_hour,
                "max_flash_per_hour": max_flash_per_hour}}),
        ),
        Action::LineStatus { line, status } => (
            format!("/v1/lines/{line}/status"),
            json!({"status": status}),
        ),
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
        println!("{}", serde_json::to_string_pretty(&answer)?);
    }
    Ok(())
}
