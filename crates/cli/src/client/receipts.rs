//! The receipts of what this client sent: every write the server answered
//! with a signed receipt (its entry's position, leaf and inclusion proof, and
//! a checkpoint signed by the server's record key) is kept, one JSON line a
//! write, in `receipts-<profile>.jsonl` next to `profiles.json` (mode 0600).
//! `parley record receipts` lists them; `parley record audit` checks that
//! each is still in the record as the server shows it today.

use super::output::{self, cell, Table};
use super::verify::{checkpoint, hashes, Refuted, Trust};
use super::{profile, Global, Outcome};
use anyhow::{bail, Context, Result};
use parley_record::{leaf_hash, verify_inclusion, Checkpoint};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

/// Where profile `name` keeps its receipts.
fn file(name: &str) -> Result<PathBuf> {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(profile::dir()?.join(format!("receipts-{safe}.jsonl")))
}

/// Keeps the receipt of `answer`, the server's answer to `request` (`POST
/// /v1/...`), if it carries one. A receipt that cannot be kept is said on
/// stderr; the write itself was made.
pub(super) fn keep(profile: &str, server: &str, request: &str, answer: &Value) {
    let Some(receipt) = answer.get("receipt").filter(|r| r.is_object()) else {
        return;
    };
    let line = json!({"server": server, "request": request, "receipt": receipt});
    if let Err(e) = append(profile, &line) {
        eprintln!("parley: the write was made, but its receipt could not be kept: {e:#}");
    }
}

fn append(profile: &str, line: &Value) -> Result<()> {
    let path = file(profile)?;
    let dir = profile::dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    // One write of the whole line, so that concurrent clients never interleave.
    f.write_all(format!("{line}\n").as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// The receipts profile `name` kept, oldest first (none when it kept none).
pub(super) fn load(name: &str) -> Result<Vec<Value>> {
    let path = file(name)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a kept receipt", path.display(), i + 1))
        })
        .collect()
}

/// How a kept receipt is named in what `parley` says: its entry, its kind
/// and the request that made it.
pub(super) fn name(kept: &Value) -> String {
    let r = &kept["receipt"];
    let kind = leaf(r).map_or("?".into(), |l| output::s(&l["entry"], "kind").to_string());
    format!(
        "the receipt of entry {} ({kind}, {})",
        r["seq"],
        output::s(kept, "request")
    )
}

fn leaf(r: &Value) -> Option<Value> {
    r["leaf"]
        .as_str()
        .and_then(|t| serde_json::from_str(t).ok())
}

/// `parley record receipts`: what this profile kept.
pub(super) fn list(g: &Global) -> Result<Outcome> {
    let kept = load(&g.profile)?;
    if g.json {
        output::print_json(&Value::from(kept));
        return Ok(Outcome::Ok);
    }
    if kept.is_empty() {
        outln!("no receipts kept for profile {:?}", g.profile);
        return Ok(Outcome::Ok);
    }
    let mut t = Table::new(&["entry", "kind", "logged", "in tree of", "request"]);
    for k in &kept {
        let r = &k["receipt"];
        let l = leaf(r).unwrap_or_default();
        t.row(vec![
            cell(r["seq"].to_string()),
            cell(output::s(&l["entry"], "kind")),
            cell(l["at_us"].as_i64().map_or("?".into(), output::utc_us)),
            cell(r["tree_size"].to_string()),
            cell(output::s(k, "request")),
        ]);
    }
    t.print();
    outln!("{} receipts in {}", kept.len(), file(&g.profile)?.display());
    Ok(Outcome::Ok)
}

/// The signed checkpoint of kept receipt `kept`, once its leaf is checked
/// to be in it (the inclusion proof, offline, with `trust`'s key).
pub(super) fn included(kept: &Value, trust: &Trust) -> Result<Checkpoint> {
    let what = name(kept);
    let r = &kept["receipt"];
    // A receipt's checkpoint is signed by the server alone, at the write;
    // under a policy it is checked with the policy's log key, and the
    // checkpoint it is audited against (which extends it) meets the quorum.
    let cp = match trust {
        Trust::Key(_) => checkpoint(r, &what, trust)?.0,
        Trust::Policy(_, policy) => {
            policy
                .logs()
                .iter()
                .find_map(|k| checkpoint(r, &what, &Trust::Key(k.clone())).ok())
                .ok_or_else(|| {
                    Refuted(format!(
                        "{what}: its checkpoint is not signed by a log of the policy"
                    ))
                })?
                .0
        }
    };
    let (Some(text), Some(seq)) = (r["leaf"].as_str(), r["seq"].as_u64()) else {
        bail!(Refuted(format!("{what}: no leaf or seq")));
    };
    if r["tree_size"].as_u64() != Some(cp.size) || seq == 0 {
        bail!(Refuted(format!(
            "{what}: the proof is for {} entries but the checkpoint has {}",
            r["tree_size"], cp.size
        )));
    }
    verify_inclusion(
        &leaf_hash(text.as_bytes()),
        seq - 1,
        cp.size,
        &hashes(r, &what)?,
        &cp.root,
    )
    .map_err(|e| Refuted(format!("{what}: not in its own signed checkpoint: {e}")))?;
    Ok(cp)
}
