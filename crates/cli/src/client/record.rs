//! The tamper-evident record from the client's side: `parley record ...` fetches
//! signed checkpoints, receipts and consistency proofs, and `record audit`
//! checks today's record against the checkpoints a party saved, with the
//! offline checks of `verify.rs`.

use super::verify::{checkpoint, extends, hashes, key, read, with_file, Given, Refuted};
use super::{Client, Global, Outcome};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

const RECORD_HELP: &str = "\
Examples:
  parley record key                                # the server's key: save it once, trust it after
  parley record checkpoint -o cp-$(date +%s).json   # keep checkpoints: they prove the history
  parley record receipt 42 -o notice-42.json        # proof of notice for journal entry 42
  parley record receipt 42 --witnessed -o notice-42.json   # cosigned by the server's witnesses at once
  parley record export --line air -o record.jsonl   # your copy of the record
  parley record consistency --from 100 --to 250 -o proof.json
  parley record audit cp-*.json --key \"$(cat server.key)\" -o cp-$(date +%s).json
  parley record audit cp-*.json --policy parley.policy   # and each checkpoint cosigned as the policy asks

`record audit` asks the server for proofs that its record today extends every
checkpoint you saved, and checks them: exit 1 when it does not (entries
changed, removed or reordered since, a split view or a rollback).

Exit status: 0 done (audit: every checkpoint extended); 1 the audit failed;
2 bad input; 3 server or network error.";

#[derive(clap::Args)]
#[command(after_help = RECORD_HELP)]
pub struct Args {
    #[command(subcommand)]
    what: Fetch,
}

#[derive(clap::Subcommand)]
enum Fetch {
    /// The server's verifier key, as one line.
    Key(Plain),
    /// The latest signed checkpoint (cosigned, when the server has witnesses).
    Checkpoint {
        /// Have the server's witnesses cosign the record as it is now first
        /// (POST /v1/record/checkpoint/witnessed).
        #[arg(long)]
        witnessed: bool,
        #[command(flatten)]
        p: Plain,
    },
    /// A receipt ("proof of notice") for a journal entry you may see (an event's id).
    Receipt {
        /// The entry's journal position.
        seq: u64,
        /// Have the server's witnesses cosign the record as it is now first,
        /// so that the receipt carries their cosignatures at once.
        #[arg(long)]
        witnessed: bool,
        #[command(flatten)]
        p: Plain,
    },
    /// Your copy of the whole record (JSON lines): entries you may see in full,
    /// the others as hashes; `parley verify export` checks it offline.
    Export {
        /// Only this line's entries in full.
        #[arg(long)]
        line: Option<String>,
        #[command(flatten)]
        p: Plain,
    },
    /// Checks that the record today extends every checkpoint saved before:
    /// fetches the latest checkpoint and a consistency proof from each.
    Audit {
        /// Checkpoints from `parley record checkpoint -o`, oldest or newest first.
        #[arg(required = true)]
        files: Vec<String>,
        /// The server's verifier key (`name+id+key`), as saved from `parley
        /// record key`; without it, the key in the first file is trusted.
        #[arg(long)]
        key: Option<String>,
        /// A trust policy (C2SP tlog-policy): the log's key and the quorum
        /// of witnesses whose cosignatures every checkpoint must carry.
        #[arg(long, conflicts_with = "key")]
        policy: Option<String>,
        #[command(flatten)]
        p: Plain,
    },
    /// A consistency proof between two tree sizes.
    Consistency {
        /// The older size.
        #[arg(long)]
        from: u64,
        /// The newer size.
        #[arg(long)]
        to: u64,
        #[command(flatten)]
        p: Plain,
    },
}

#[derive(clap::Args)]
struct Plain {
    #[command(flatten)]
    g: Global,
    /// Write the answer to this file.
    #[arg(long, short = 'o')]
    output: Option<String>,
}

pub fn run(a: Args) -> Result<Outcome> {
    let (p, path) = match &a.what {
        Fetch::Audit {
            files,
            key,
            policy,
            p,
        } => return audit(files, &Given::new(key, policy)?, p),
        Fetch::Key(p) | Fetch::Checkpoint { p, .. } => (p, "/v1/record/checkpoint".to_string()),
        Fetch::Receipt { seq, p, .. } => (p, format!("/v1/record/entries/{seq}/receipt")),
        Fetch::Export { line: None, p } => (p, "/v1/record/export".to_string()),
        Fetch::Export { line: Some(l), p } => (p, format!("/v1/record/export?line={l}")),
        Fetch::Consistency { from, to, p } => {
            (p, format!("/v1/record/consistency?from={from}&to={to}"))
        }
    };
    let c = Client::new(&p.g)?;
    if let Fetch::Checkpoint {
        witnessed: true, ..
    }
    | Fetch::Receipt {
        witnessed: true, ..
    } = a.what
    {
        let cp = c.send(
            reqwest::Method::POST,
            "/v1/record/checkpoint/witnessed",
            None,
            None,
        )?;
        eprintln!(
            "cosigned by {} of the witnesses asked ({})",
            cp["cosigned_by"].as_array().map_or(0, Vec::len),
            cp["witnesses_asked"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Fetch::Export { .. } = a.what {
        // JSON lines, as the server wrote them, streamed to the file or stdout.
        let lines = match &p.output {
            Some(file) => {
                let f = std::fs::File::create(file).with_context(|| format!("writing {file}"))?;
                c.get_lines_into(&path, &mut std::io::BufWriter::new(f))
                    .with_context(|| format!("writing {file}"))?
            }
            None => c.get_lines_into(&path, &mut std::io::stdout().lock())?,
        };
        if let Some(file) = &p.output {
            // After the head line, one line an entry.
            eprintln!("saved {file} ({} entries)", lines.saturating_sub(1));
        }
        return Ok(Outcome::Ok);
    }
    let text = match &a.what {
        Fetch::Key(_) if !p.g.json => format!("{}\n", super::output::s(&c.get(&path)?, "key")),
        _ => format!("{}\n", serde_json::to_string_pretty(&c.get(&path)?)?),
    };
    match &p.output {
        Some(file) => {
            std::fs::write(file, &text).with_context(|| format!("writing {file}"))?;
            eprintln!("saved {file}");
        }
        None => outln!("{}", text.trim_end()),
    }
    Ok(Outcome::Ok)
}

/// `parley record audit`: the record today against every saved checkpoint.
fn audit(files: &[String], given: &Given, p: &Plain) -> Result<Outcome> {
    let saved: Vec<(&String, Value)> = files
        .iter()
        .map(|f| read(f).map(|v| (f, v)))
        .collect::<Result<_>>()?;
    let key = key(given, &saved[0].1, saved[0].0)?;
    let c = Client::new(&p.g)?;
    let now = c.get("/v1/record/checkpoint")?;
    let server = "the server's latest checkpoint";
    let mut results = Vec::new();
    let mut refuted = false;
    let current = checkpoint(&now, server, &key);
    for (file, v) in &saved {
        let outcome = current
            .as_ref()
            .map_err(clone_refuted)
            .and_then(|(cur, witnessed)| {
                let (cp, _) = checkpoint(v, file, &key)?;
                if cp.origin != cur.origin {
                    bail!(
                        "{file} is of the log {}, the server keeps {}",
                        cp.origin,
                        cur.origin
                    );
                }
                if cp.size > cur.size {
                    bail!(Refuted(format!(
                        "rollback: {file} signs {} entries, the server now shows {}",
                        cp.size, cur.size
                    )));
                }
                extends(&cp, cur, file, server, || {
                    let proof = c.get(&format!(
                        "/v1/record/consistency?from={}&to={}",
                        cp.size, cur.size
                    ))?;
                    hashes(&proof, "the server's consistency proof")
                })
                .map(|summary| format!("{summary}{}", with_file(witnessed, server)))
            });
        match outcome {
            Ok(summary) => {
                results.push(json!({"file": file, "verified": true, "summary": summary}))
            }
            Err(e) => match e.downcast_ref::<Refuted>() {
                Some(r) => {
                    refuted = true;
                    results.push(json!({"file": file, "verified": false, "problem": r.0}));
                }
                None => return Err(e),
            },
        }
    }
    if let (Some(out), Ok(_)) = (&p.output, &current) {
        std::fs::write(out, format!("{}\n", serde_json::to_string_pretty(&now)?))
            .with_context(|| format!("writing {out}"))?;
        eprintln!("saved {out}: keep it for the next audit");
    }
    if p.g.json {
        outln!("{}", json!({"verified": !refuted, "checkpoints": results}));
    } else {
        for r in &results {
            match r["verified"].as_bool() {
                Some(true) => outln!(
                    "verified {}: {}",
                    r["file"].as_str().unwrap_or("?"),
                    r["summary"].as_str().unwrap_or("")
                ),
                _ => eprintln!(
                    "parley: {}: does not verify: {}",
                    r["file"].as_str().unwrap_or("?"),
                    r["problem"].as_str().unwrap_or("")
                ),
            }
        }
    }
    Ok(if refuted { Outcome::Found } else { Outcome::Ok })
}

/// A refutation of the server's checkpoint counts against every saved one.
fn clone_refuted(e: &anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<Refuted>() {
        Some(r) => Refuted(r.0.clone()).into(),
        None => anyhow::anyhow!("{e:#}"),
    }
}
