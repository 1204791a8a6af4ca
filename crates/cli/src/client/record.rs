//! The tamper-evident record from the client's side: `parley record ...` fetches
//! signed checkpoints, receipts and consistency proofs; `parley verify ...` checks
//! them offline, with nothing but this binary and the server's key.

use super::{output, Client, Global, Outcome};
use anyhow::{bail, Context, Result};
use parley_record::{
    leaf_hash, split_view, verify_consistency, verify_inclusion, Checkpoint, Hash, Policy,
    SignedCheckpoint, VerifierKey,
};
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

const VERIFY_HELP: &str = "\
Offline: no server is asked. Give the server's key (from `parley record key`,
saved when you trusted it) with --key; without it the key inside the file is
used, which proves consistency but not who signed.

With --policy FILE (C2SP tlog-policy: `log KEY`, `witness NAME KEY`,
`group NAME k|any|all NAME...`, `quorum NAME`) the key comes from the policy and
every checkpoint must also carry cosignatures of witnesses that meet its
quorum; the answer says which witnesses signed. --compare FILE checks the
checkpoint against another one seen (another party's receipt or checkpoint):
two of the same size with different roots are a split view.

Examples:
  parley verify receipt notice-42.json --key \"$(cat server.key)\"
  parley verify receipt notice-42.json --policy parley.policy --compare their-receipt.json
  parley verify export record.jsonl --key \"$(cat server.key)\"
  parley verify checkpoints cp-old.json cp-new.json --proof proof.json --key \"$(cat server.key)\"

Exit status: 0 verified; 1 it does not verify (changed, removed, reordered or
inserted entries, a bad signature, a split view); 2 bad input.";

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

#[derive(clap::Args)]
#[command(after_help = VERIFY_HELP)]
pub struct VerifyArgs {
    #[command(subcommand)]
    what: Verify,
    /// The server's verifier key (`name+id+key`), as saved from `parley record key`.
    #[arg(long, global = true)]
    key: Option<String>,
    /// A trust policy file (C2SP tlog-policy): the log's key and the witnesses'
    /// quorum every checkpoint must meet.
    #[arg(long, global = true, conflicts_with = "key")]
    policy: Option<String>,
    /// Another checkpoint seen (a file from `parley record checkpoint` or
    /// `receipt`, e.g. another party's): refuted if it and this one are two
    /// views of the record. Repeat for several.
    #[arg(long, global = true)]
    compare: Vec<String>,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Verify {
    /// A receipt: the entry is in the record signed by the server's key.
    Receipt {
        /// A file from `parley record receipt`.
        file: String,
    },
    /// An export: every entry in order, every notice's content, the root the
    /// server signed.
    Export {
        /// A file from `parley record export`.
        file: String,
    },
    /// Two saved checkpoints: the newer extends the older (with --proof), or
    /// they are one view (same size, same root).
    Checkpoints {
        /// The older checkpoint (a file from `parley record checkpoint`).
        old: String,
        /// The newer checkpoint.
        new: String,
        /// A file from `parley record consistency --from OLD --to NEW`.
        #[arg(long)]
        proof: Option<String>,
    },
}

/// What went wrong in a verification: the record does not verify (exit 1).
#[derive(Debug)]
pub struct Refuted(pub String);

impl std::fmt::Display for Refuted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "does not verify: {}", self.0)
    }
}

impl std::error::Error for Refuted {}

fn read(file: &str) -> Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    serde_json::from_str(&text).with_context(|| format!("{file}: not JSON"))
}

fn field<'a>(v: &'a Value, file: &str, name: &str) -> Result<&'a Value> {
    v.get(name)
        .filter(|x| !x.is_null())
        .with_context(|| format!("{file}: no \"{name}\""))
}

fn hashes(v: &Value, file: &str) -> Result<Vec<Hash>> {
    field(v, file, "proof")?
        .as_array()
        .with_context(|| format!("{file}: \"proof\" is not a list"))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            h.as_str()
                .and_then(Hash::from_hex)
                .with_context(|| format!("{file}: /proof/{i} is not a 64-digit hex hash"))
        })
        .collect()
}

/// What the user gave to trust: a key, a policy, or neither.
struct Given {
    key: Option<String>,
    policy: Option<(String, Policy)>,
}

impl Given {
    fn new(key: &Option<String>, policy: &Option<String>) -> Result<Given> {
        let policy = match policy {
            Some(file) => {
                let text =
                    std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
                Some((
                    file.clone(),
                    Policy::parse(&text).map_err(|e| anyhow::anyhow!("--policy {file}: {e}"))?,
                ))
            }
            None => None,
        };
        Ok(Given {
            key: key.clone(),
            policy,
        })
    }
}

/// What a checkpoint is checked with: the log's key, or a policy.
enum Trust<'a> {
    Key(VerifierKey),
    Policy(&'a str, &'a Policy),
}

impl Trust<'_> {
    /// Who signs the record: the key's name, or the policy's log(s).
    fn name(&self) -> String {
        match self {
            Trust::Key(k) => k.name().to_owned(),
            Trust::Policy(_, p) => p
                .logs()
                .iter()
                .map(|k| k.name().to_owned())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// The trust to check with: --policy, else --key, else the key in the file
/// (said on stderr).
fn key<'a>(given: &'a Given, v: &Value, file: &str) -> Result<Trust<'a>> {
    if let Some((name, policy)) = &given.policy {
        return Ok(Trust::Policy(name, policy));
    }
    let text = match &given.key {
        Some(k) => k.clone(),
        None => {
            let k = field(v, file, "key")?
                .as_str()
                .unwrap_or_default()
                .to_string();
            eprintln!("parley: no --key given: trusting the key in {file} ({k})");
            k
        }
    };
    VerifierKey::parse(text.trim())
        .map(Trust::Key)
        .map_err(|e| anyhow::anyhow!("--key: {e}"))
}

/// The checkpoint in `v` (from `file`), its signature checked, and with a
/// policy its cosignatures: the checkpoint and what the witnesses did (empty
/// without a policy).
fn checkpoint(v: &Value, file: &str, trust: &Trust) -> Result<(Checkpoint, String)> {
    let note = field(v, file, "checkpoint")?
        .as_str()
        .with_context(|| format!("{file}: \"checkpoint\" is not text"))?;
    let (key, witnessed) = match trust {
        Trust::Key(k) => (k.clone(), String::new()),
        Trust::Policy(policy_file, policy) => {
            let accepted = policy.check(note).map_err(|e| {
                Refuted(format!(
                    "{file}: the checkpoint does not meet the policy {policy_file}: {e}"
                ))
            })?;
            let names: Vec<String> = accepted
                .cosigned
                .iter()
                .map(|(name, t)| format!("{name} (at {})", seconds(*t)))
                .collect();
            let said = if names.is_empty() {
                format!("; no witness cosigned, as the policy {policy_file} allows (quorum none)")
            } else {
                format!(
                    "; cosigned by {}, meeting the quorum `{}` of {policy_file}",
                    names.join(", "),
                    policy.quorum_name()
                )
            };
            (accepted.log, said)
        }
    };
    let cp = SignedCheckpoint::parse_and_verify(note, &key)
        .map_err(|e| Refuted(format!("{file}: the checkpoint: {e}")))?;
    Ok((cp, witnessed))
}

/// A cosignature's time (seconds since the Unix epoch), RFC 3339.
fn seconds(t: u64) -> String {
    parley_wire::format_timestamp(parley_engine::Timestamp(
        i64::try_from(t).unwrap_or(i64::MAX / 1_000_000) * 1_000_000,
    ))
}

/// `--compare`: the checkpoint of `file` against each other one seen. Two
/// of the same size with different roots are a split view; a consistency
/// proof is needed for other sizes and is not asked here.
fn compare(a: &VerifyArgs, cp: &Checkpoint, file: &str, trust: &Trust) -> Result<String> {
    for other in &a.compare {
        let v = read(other)?;
        let (seen, _) = checkpoint(&v, other, &Trust::Key(log_key(trust, &v, other)?))?;
        if split_view(cp, &seen) {
            bail!(Refuted(format!(
                "split view: the checkpoint in {file} (size {}, root {}) and the one in {other} (size {}, root {}) are both signed by the log: it showed two histories",
                cp.size, cp.root, seen.size, seen.root
            )));
        }
    }
    Ok(if a.compare.is_empty() {
        String::new()
    } else {
        format!("; no split view with {}", a.compare.join(", "))
    })
}

/// The log key that signed the checkpoint in `v`: the key, or the policy's
/// log that did (its cosignatures need not meet the quorum to be compared).
fn log_key(trust: &Trust, v: &Value, file: &str) -> Result<VerifierKey> {
    match trust {
        Trust::Key(k) => Ok(k.clone()),
        Trust::Policy(_, policy) => {
            let note = field(v, file, "checkpoint")?.as_str().unwrap_or_default();
            policy
                .logs()
                .iter()
                .find(|k| k.open_note(note).is_ok())
                .cloned()
                .ok_or_else(|| {
                    Refuted(format!(
                        "{file}: the checkpoint is signed by none of the policy's logs"
                    ))
                    .into()
                })
        }
    }
}

pub fn verify(a: VerifyArgs) -> Result<Outcome> {
    let given = Given::new(&a.key, &a.policy)?;
    let result = match &a.what {
        Verify::Receipt { file } => verify_receipt(&a, &given, file),
        Verify::Export { file } => verify_export(&given, file),
        Verify::Checkpoints { old, new, proof } => verify_checkpoints(&given, old, new, proof),
    };
    match result {
        Ok(summary) => {
            if a.json {
                outln!("{}", json!({"verified": true, "summary": summary}));
            } else {
                outln!("verified: {summary}");
            }
            Ok(Outcome::Ok)
        }
        Err(e) => match e.downcast_ref::<Refuted>() {
            Some(r) => {
                if a.json {
                    outln!("{}", json!({"verified": false, "problem": r.0}));
                } else {
                    eprintln!("parley: {e:#}");
                }
                Ok(Outcome::Found)
            }
            None => Err(e),
        },
    }
}

fn verify_receipt(a: &VerifyArgs, given: &Given, file: &str) -> Result<String> {
    let r = read(file)?;
    let key = key(given, &r, file)?;
    let compared = compare(a, &log_checkpoint(&r, file, &key)?, file, &key)?;
    let (cp, witnessed) = checkpoint(&r, file, &key)?;
    let leaf = field(&r, file, "leaf")?
        .as_str()
        .with_context(|| format!("{file}: \"leaf\" is not text"))?;
    let index = field(&r, file, "leaf_index")?
        .as_u64()
        .with_context(|| format!("{file}: \"leaf_index\" is not a number"))?;
    if r["tree_size"].as_u64() != Some(cp.size) {
        bail!(Refuted(format!(
            "{file}: the proof is for {} entries but the checkpoint has {}",
            r["tree_size"], cp.size
        )));
    }
    let proof = hashes(&r, file)?;
    verify_inclusion(
        &leaf_hash(leaf.as_bytes()),
        index,
        cp.size,
        &proof,
        &cp.root,
    )
    .map_err(|e| {
        Refuted(format!(
            "{file}: entry {} is not in the signed record: {e}",
            index + 1
        ))
    })?;
    let entry: Value = serde_json::from_str(leaf)
        .map_err(|e| Refuted(format!("{file}: the leaf is not JSON: {e}")))?;
    if entry["seq"].as_u64() != Some(index + 1) {
        bail!(Refuted(format!(
            "{file}: the leaf says it is entry {} but sits at position {}",
            entry["seq"],
            index + 1
        )));
    }
    // A notice's leaf holds its content's hash; the receipt carries the text.
    let content_checked = if check_content(&r, &entry, file)? {
        ", with the notice's content as recorded"
    } else {
        ""
    };
    let at = entry["at_us"].as_i64().map_or("?".into(), output::utc_us);
    Ok(format!(
        "entry {} ({}) logged at {at} for {} is in the record of {} entries (root {}) signed by {} at {}{content_checked}{witnessed}{compared}",
        index + 1,
        entry["entry"]["kind"].as_str().unwrap_or("?"),
        entry["audience"],
        cp.size,
        cp.root,
        key.name(),
        output::utc_us(cp.time_us as i64)
    ))
}

/// Whether checkpoint `new` extends `old` (named `old_name`, `new_name`), given
/// the consistency proof between their sizes from `proof` (asked only when the
/// sizes differ); a summary, or [`Refuted`].
fn extends(
    old: &Checkpoint,
    new: &Checkpoint,
    old_name: &str,
    new_name: &str,
    proof: impl FnOnce() -> Result<Vec<Hash>>,
) -> Result<String> {
    if split_view(old, new) {
        bail!(Refuted(format!(
            "split view: {old_name} and {new_name} both sign {} entries, with roots {} and {}",
            old.size, old.root, new.root
        )));
    }
    if old.size == new.size {
        return Ok(format!(
            "one view: both sign {} entries with root {}",
            old.size, old.root
        ));
    }
    verify_consistency(old.size, new.size, &old.root, &new.root, &proof()?).map_err(|e| {
        Refuted(format!(
            "the record of {} entries does not extend the record of {} ({old_name}): {e}",
            new.size, old.size
        ))
    })?;
    Ok(format!(
        "the record of {} entries (root {}) extends the record of {} (root {}): nothing before was changed, removed or reordered",
        new.size, new.root, old.size, old.root
    ))
}

fn verify_checkpoints(
    given: &Given,
    old: &str,
    new: &str,
    proof: &Option<String>,
) -> Result<String> {
    let (o, n) = (read(old)?, read(new)?);
    let key = key(given, &o, old)?;
    let (co, cn) = (
        log_checkpoint(&o, old, &key)?,
        log_checkpoint(&n, new, &key)?,
    );
    if co.size > cn.size && co.origin == cn.origin {
        bail!(
            "{old} has more entries ({}) than {new} ({}): give the older first",
            co.size,
            cn.size
        );
    }
    let summary = extends(&co, &cn, old, new, || {
        let Some(pf) = proof else {
            bail!("the sizes differ ({} and {}): give --proof from `parley record consistency --from {} --to {}`", co.size, cn.size, co.size, cn.size);
        };
        hashes(&read(pf)?, pf)
    })?;
    // One history: now each must meet the policy, if any.
    let (_, wo) = checkpoint(&o, old, &key)?;
    let (_, wn) = checkpoint(&n, new, &key)?;
    Ok(format!(
        "{summary}{}{}",
        with_file(&wo, old),
        with_file(&wn, new)
    ))
}

/// What the witnesses did for `file`'s checkpoint, said of it.
fn with_file(witnessed: &str, file: &str) -> String {
    match witnessed.strip_prefix("; ") {
        Some(w) => format!("; {file}: {w}"),
        None => String::new(),
    }
}

/// The checkpoint in `v` read with the log's key only (its cosignatures not
/// weighed): to compare two views before asking whether each was witnessed.
fn log_checkpoint(v: &Value, file: &str, trust: &Trust) -> Result<Checkpoint> {
    let key = log_key(trust, v, file)?;
    Ok(checkpoint(v, file, &Trust::Key(key))?.0)
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

/// Checks that a notice's `content` is the one its leaf records by hash.
fn check_content(v: &Value, leaf: &Value, what: &str) -> Result<bool> {
    let Some(content) = v.get("content").and_then(Value::as_str) else {
        return Ok(false);
    };
    let said = leaf["entry"]["content_sha256"].as_str().unwrap_or_default();
    if parley_service::sha256_hex(content.as_bytes()) != said {
        bail!(Refuted(format!(
            "{what}: the notice's content is not the one recorded (its hash is not {said})"
        )));
    }
    Ok(true)
}

fn verify_export(given: &Given, file: &str) -> Result<String> {
    use std::io::BufRead;
    // Read a line at a time: an export of a long record need not fit in memory.
    let reader = std::fs::File::open(file).with_context(|| format!("reading {file}"))?;
    let mut lines = std::io::BufReader::new(reader).lines();
    let first = lines
        .next()
        .transpose()
        .with_context(|| format!("reading {file}"))?;
    let head: Value = serde_json::from_str(first.as_deref().unwrap_or_default())
        .with_context(|| format!("{file}: the first line is not the export's JSON head"))?;
    let key = key(given, &head, file)?;
    let (cp, witnessed) = checkpoint(&head, file, &key)?;
    let bar = super::export::progress(cp.size, "entries");
    let (mut tree, mut full, mut contents) = (parley_record::Frontier::new(), 0u64, 0u64);
    let (mut keys, mut signed, mut unsigned) = (Vec::<(String, String)>::new(), 0u64, 0u64);
    for (i, line) in lines.enumerate() {
        let position = i as u64 + 1;
        let what = format!("{file}: entry {position}");
        let line = line.with_context(|| format!("reading {file}"))?;
        let v: Value =
            serde_json::from_str(&line).map_err(|e| Refuted(format!("{what}: not JSON ({e})")))?;
        if v["seq"].as_u64() != Some(position) {
            bail!(Refuted(format!(
                "{what}: the line says it is entry {}: an entry was removed, inserted or reordered here",
                v["seq"]
            )));
        }
        if let Some(leaf) = v.get("leaf").and_then(Value::as_str) {
            let entry: Value = serde_json::from_str(leaf)
                .map_err(|e| Refuted(format!("{what}: its text is not JSON ({e})")))?;
            if entry["seq"].as_u64() != Some(position) {
                bail!(Refuted(format!(
                    "{what}: its text says it is entry {}: entries were reordered",
                    entry["seq"]
                )));
            }
            contents += u64::from(check_content(&v, &entry, &what)?);
            let e = &entry["entry"];
            match e["kind"].as_str() {
                Some("party_key_registered") => keys.push((
                    e["party"].as_str().unwrap_or_default().to_string(),
                    e["key"].as_str().unwrap_or_default().to_string(),
                )),
                Some("notice" | "acknowledged" | "talk_confirmed") if e["signed"].is_object() => {
                    check_signature(e, &keys, &what)?;
                    signed += 1;
                }
                Some("notice" | "acknowledged" | "talk_confirmed") => unsigned += 1,
                _ => {}
            }
            tree.push(leaf.as_bytes());
            full += 1;
        } else if let Some(h) = v.get("leaf_hash").and_then(Value::as_str) {
            let h = Hash::from_hex(h)
                .ok_or_else(|| Refuted(format!("{what}: leaf_hash is not a 64-digit hex hash")))?;
            tree.push_leaf_hash(h);
        } else {
            bail!(Refuted(format!("{what}: neither the entry nor its hash")));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if tree.size() != cp.size {
        bail!(Refuted(format!(
            "{file} has {} entries but the checkpoint signs {}: entries were removed or added at the end",
            tree.size(),
            cp.size
        )));
    }
    if tree.root() != cp.root {
        bail!(Refuted(format!(
            "{file}: its {} entries do not rebuild the signed root {}: an entry's text or hash was changed",
            cp.size, cp.root
        )));
    }
    Ok(format!(
        "{} entries ({full} in full, {contents} notices with their content, {} as hashes) rebuild the root {} signed by {} at {}; {signed} notices, acknowledgments and confirmations signed by their parties, {unsigned} unsigned{witnessed}",
        cp.size,
        cp.size - full,
        cp.root,
        key.name(),
        output::utc_us(cp.time_us as i64)
    ))
}

/// A notice or acknowledgment signed by its party: the key was registered for
/// that party earlier in the record, and the signed note verifies with it.
fn check_signature(e: &Value, keys: &[(String, String)], what: &str) -> Result<()> {
    let party = e["party"].as_str().unwrap_or_default();
    let key = e["signed"]["key"].as_str().unwrap_or_default();
    if !keys.iter().any(|(p, k)| p == party && k == key) {
        bail!(Refuted(format!(
            "{what}: signed with a key not registered for {party} earlier in the record"
        )));
    }
    let k =
        VerifierKey::parse(key).map_err(|e| Refuted(format!("{what}: the signing key: {e}")))?;
    k.open_note(e["signed"]["note"].as_str().unwrap_or_default())
        .map_err(|err| {
            Refuted(format!(
                "{what}: {party}'s signature does not verify: {err}"
            ))
        })?;
    Ok(())
}
