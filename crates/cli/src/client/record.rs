//! The tamper-evident record from the client's side: `parley record ...` fetches
//! signed checkpoints, receipts and consistency proofs, and `record audit`
//! checks today's record against the checkpoints a party saved, with the
//! offline checks of `verify.rs`.

use super::receipts;
use super::verify::{checkpoint, extends, hashes, key, read, with_file, Given, Refuted};
use super::{Client, Global, Outcome};
use anyhow::{bail, Context, Result};
use parley_record::Checkpoint;
use serde_json::{json, Value};
use std::collections::HashMap;

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
  parley record receipts                           # the receipts of your writes, kept as answered
  parley record audit --key \"$(cat server.key)\"     # every kept receipt still in today's record

Every write the server answers carries a signed receipt, which the client
keeps (`parley record receipts` lists them). `record audit` asks the server
for proofs that its record today extends every checkpoint you saved and the
checkpoint of every receipt kept (each receipt's entry checked to be in its
own checkpoint first), and checks them: exit 1 when it does not (entries
changed, removed or reordered since, a split view or a rollback), naming the
checkpoint file or the receipt.

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
    /// Checks that the record today extends every checkpoint saved before,
    /// and holds every receipt this profile kept: fetches the latest
    /// checkpoint and a consistency proof from each; names what fails.
    Audit {
        /// Checkpoints from `parley record checkpoint -o`, oldest or newest
        /// first (none: the kept receipts only).
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
    /// The receipts of this profile's writes, kept as the server answered
    /// them (`receipts-<profile>.jsonl` in the config directory).
    Receipts {
        #[command(flatten)]
        g: Global,
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
        Fetch::Receipts { g } => return receipts::list(g),
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

/// `parley record audit`: the record today against every saved checkpoint
/// and every receipt this profile kept (of this server).
fn audit(files: &[String], given: &Given, p: &Plain) -> Result<Outcome> {
    let saved: Vec<(String, Value)> = files
        .iter()
        .map(|f| read(f).map(|v| (f.clone(), v)))
        .collect::<Result<_>>()?;
    let c = Client::new(&p.g)?;
    let now = c.get("/v1/record/checkpoint")?;
    // The receipts of this server's log (by the origin line its checkpoints
    // start with), wherever it is reached now.
    let origin = |v: &Value| {
        v["checkpoint"]
            .as_str()
            .and_then(|t| t.lines().next())
            .map(str::to_string)
    };
    let (kept, elsewhere): (Vec<Value>, Vec<Value>) = receipts::load(&p.g.profile)?
        .into_iter()
        .partition(|k| origin(&k["receipt"]) == origin(&now));
    if !elsewhere.is_empty() {
        eprintln!(
            "parley: {} kept receipts are of other logs than {}'s; not audited here",
            elsewhere.len(),
            c.server
        );
    }
    let key = match (saved.first(), kept.first()) {
        (Some((file, v)), _) => key(given, v, file)?,
        (None, Some(k)) => key(given, &k["receipt"], &receipts::name(k))?,
        (None, None) => bail!(
            "nothing to audit: give checkpoints saved with `parley record checkpoint -o FILE`, \
             or write with profile {:?} so that the receipts of its writes are kept",
            p.g.profile
        ),
    };
    let server = "the server's latest checkpoint";
    let current = checkpoint(&now, server, &key);
    // Each saved checkpoint, and each receipt's (once its entry is checked to
    // be in it), must be extended by the record today; a proof a size.
    let mut proven: HashMap<u64, Result<String, String>> = HashMap::new();
    let mut check = |name: &str, cp: Result<Checkpoint>| -> Result<Result<String, String>> {
        let outcome = current
            .as_ref()
            .map_err(clone_refuted)
            .and_then(|(cur, witnessed)| {
                let cp = cp?;
                if cp.origin != cur.origin {
                    bail!(
                        "{name} is of the log {}, the server keeps {}",
                        cp.origin,
                        cur.origin
                    );
                }
                if cp.size > cur.size {
                    bail!(Refuted(format!(
                        "rollback: {name} signs {} entries, the server now shows {}",
                        cp.size, cur.size
                    )));
                }
                if let Some(Ok(summary)) = proven.get(&cp.size) {
                    return Ok(summary.clone());
                }
                extends(&cp, cur, name, server, || {
                    let proof = c.get(&format!(
                        "/v1/record/consistency?from={}&to={}",
                        cp.size, cur.size
                    ))?;
                    hashes(&proof, "the server's consistency proof")
                })
                .map(|summary| {
                    let summary = format!("{summary}{}", with_file(witnessed, server));
                    proven.insert(cp.size, Ok(summary.clone()));
                    summary
                })
            });
        match outcome {
            Ok(summary) => Ok(Ok(summary)),
            Err(e) => match e.downcast_ref::<Refuted>() {
                Some(r) => Ok(Err(r.0.clone())),
                None => Err(e),
            },
        }
    };
    let mut checkpoints = Vec::new();
    for (file, v) in &saved {
        let outcome = check(file, checkpoint(v, file, &key).map(|(cp, _)| cp))?;
        checkpoints.push(match outcome {
            Ok(summary) => json!({"file": file, "verified": true, "summary": summary}),
            Err(problem) => json!({"file": file, "verified": false, "problem": problem}),
        });
    }
    let mut kept_results = Vec::new();
    for k in &kept {
        let name = receipts::name(k);
        let outcome = check(&name, receipts::included(k, &key))?;
        kept_results.push(match outcome {
            Ok(summary) => json!({"receipt": name, "seq": k["receipt"]["seq"], "verified": true, "summary": summary}),
            Err(problem) => json!({"receipt": name, "seq": k["receipt"]["seq"], "verified": false, "problem": problem}),
        });
    }
    let refuted = checkpoints
        .iter()
        .chain(&kept_results)
        .any(|r| r["verified"] != true);
    if let (Some(out), Ok(_)) = (&p.output, &current) {
        std::fs::write(out, format!("{}\n", serde_json::to_string_pretty(&now)?))
            .with_context(|| format!("writing {out}"))?;
        eprintln!("saved {out}: keep it for the next audit");
    }
    if p.g.json {
        outln!(
            "{}",
            json!({"verified": !refuted, "checkpoints": checkpoints, "receipts": kept_results})
        );
        return Ok(if refuted { Outcome::Found } else { Outcome::Ok });
    }
    for r in checkpoints.iter().chain(&kept_results) {
        let name = r["file"].as_str().or(r["receipt"].as_str()).unwrap_or("?");
        match r["verified"].as_bool() {
            Some(true) if r["file"].is_string() => {
                outln!("verified {name}: {}", r["summary"].as_str().unwrap_or(""))
            }
            Some(true) => {}
            _ => eprintln!(
                "parley: {name}: does not verify: {}",
                r["problem"].as_str().unwrap_or("")
            ),
        }
    }
    let good = kept_results
        .iter()
        .filter(|r| r["verified"] == true)
        .count();
    if good > 0 {
        outln!(
            "kept receipts: {good} of {} still in the record (each entry in its signed checkpoint, which the record today extends)",
            kept_results.len()
        );
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
