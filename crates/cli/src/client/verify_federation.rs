//! `parley verify federation`: a federated line checked offline from its
//! nodes' own exports (`parley lines logs LINE` on each node), with the
//! nodes' keys as their admins exchanged them.
//!
//! Each export is one node's word: its log on the line (every entry it
//! authored, as the leaf text it signed), what it holds of each other node's
//! log, and each other node's receipt and cosignature of its own. The check:
//! - every log matches the checkpoint its node signed of it;
//! - every receipt is the other node's signed statement (its record's
//!   checkpoint, the inclusion of its `received` entry) and names the entry
//!   of the log it says it took in;
//! - every cosignature verifies with the cosigning node's key, and the log
//!   it cosigned is a prefix of the log its author exports now;
//! - across exports, each node's log and the other's copy of it agree entry
//!   by entry, and no node holds less of another's log than it receipted:
//!   any entry one side says was sent and the other never logged is named
//!   (an entry the other holds but refused for good is held: its receipt's
//!   `refused` reason is noted).

use super::verify::Refuted;
use anyhow::{bail, Context, Result};
use parley_record::{leaf_hash, CosignerKey, Hash, MerkleLog, SignedCheckpoint, VerifierKey};
use parley_service::federation::{line_log_origin, received_in};
use serde_json::Value;
use std::collections::BTreeMap;

/// One node's export, read and checked against its own signature.
struct Export {
    file: String,
    node: String,
    /// Its own log's leaf texts and their hashes.
    texts: Vec<String>,
    own: Vec<Hash>,
    /// Per other node: the leaf hashes of its log held here, and how far
    /// that node receipted this node's log.
    held: BTreeMap<String, Vec<Hash>>,
    receipted: BTreeMap<String, u64>,
}

/// Checks the exports of one federated line; the summary, or every problem
/// found (exit 1). `node_keys` and `cosigner_keys` are key lines.
pub(super) fn verify_federation(
    files: &[String],
    node_keys: &[String],
    cosigner_keys: &[String],
) -> Result<String> {
    let keys: BTreeMap<String, VerifierKey> = node_keys
        .iter()
        .map(|k| {
            let key = VerifierKey::parse(k.trim()).with_context(|| format!("--node-key {k}"))?;
            Ok((key.name().to_string(), key))
        })
        .collect::<Result<_>>()?;
    let cosigners: BTreeMap<String, CosignerKey> = cosigner_keys
        .iter()
        .map(|k| {
            let key =
                CosignerKey::parse(k.trim()).with_context(|| format!("--cosigner-key {k}"))?;
            Ok((key.name().to_string(), key))
        })
        .collect::<Result<_>>()?;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut line = None;
    let mut exports = Vec::new();
    for file in files {
        let v = super::verify::read(file)?;
        if v["format"] != "parley-line-logs/v1" {
            bail!("{file}: not a federated line's logs (parley lines logs LINE)");
        }
        let this_line = v["line"].as_str().context("no line")?.to_string();
        if line.get_or_insert_with(|| this_line.clone()) != &this_line {
            bail!("{file}: another line ({this_line}); give the exports of one line");
        }
        exports.push(read_export(
            file,
            &v,
            &this_line,
            &keys,
            &cosigners,
            &mut problems,
            &mut notes,
        )?);
    }
    let line = line.context("give at least one export")?;
    // Across exports: each node's log against another's copy of it.
    for author in &exports {
        for holder in exports.iter().filter(|h| h.node != author.node) {
            let copy = holder.held.get(&author.node).map_or(&[][..], Vec::as_slice);
            compare_copy(author, holder, copy, &mut problems, &mut notes);
        }
    }
    if !problems.is_empty() {
        bail!(Refuted(format!(
            "federated line {line}:\n  {}",
            problems.join("\n  ")
        )));
    }
    let sizes: Vec<String> = exports
        .iter()
        .map(|e| format!("{} {} entries", e.node, e.own.len()))
        .collect();
    let mut summary = format!(
        "federated line {line}: {} export(s), logs and receipts agree ({})",
        exports.len(),
        sizes.join(", ")
    );
    for n in notes {
        summary.push_str(&format!("\n  note: {n}"));
    }
    Ok(summary)
}

fn read_export(
    file: &str,
    v: &Value,
    line: &str,
    keys: &BTreeMap<String, VerifierKey>,
    cosigners: &BTreeMap<String, CosignerKey>,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Export> {
    let node = v["node"].as_str().context("no node")?.to_string();
    let key = node_key(keys, &node, file)?;
    let texts: Vec<String> = v["entries"]
        .as_array()
        .with_context(|| format!("{file}: no entries"))?
        .iter()
        .map(|t| {
            t.as_str()
                .map(str::to_string)
                .context("an entry that is not text")
        })
        .collect::<Result<_>>()?;
    let own: Vec<Hash> = texts.iter().map(|t| leaf_hash(t.as_bytes())).collect();
    let tree = tree_of(&own);
    let mut said = |p: String| problems.push(format!("{file}: {p}"));
    match signed(v["checkpoint"].as_str(), key, &node, line) {
        Ok(cp) if cp.size == own.len() as u64 && tree.root_at(cp.size).ok() == Some(cp.root) => {}
        Ok(cp) => said(format!(
            "{node}'s {} entries do not hash to the checkpoint it signed ({} entries)",
            own.len(),
            cp.size
        )),
        Err(why) => said(format!("{node}'s checkpoint {why}")),
    }
    let mut held = BTreeMap::new();
    let mut receipted = BTreeMap::new();
    for (peer, h) in v["nodes"].as_object().into_iter().flatten() {
        let peer_key = node_key(keys, peer, file)?;
        let leaves: Vec<Hash> = h["leaves"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().and_then(Hash::from_hex))
            .collect();
        if let Some(note) = h["checkpoint"].as_str() {
            match signed(Some(note), peer_key, peer, line) {
                Ok(cp) if tree_of(&leaves).root_at(cp.size).ok() == Some(cp.root) => {}
                Ok(cp) => said(format!(
                    "what {node} holds of {peer}'s log does not match {peer}'s checkpoint of {} entries",
                    cp.size
                )),
                Err(why) => said(format!("{peer}'s checkpoint held by {node} {why}")),
            }
        }
        if !h["receipt"].is_null() {
            match received_in(&h["receipt"], peer_key) {
                Ok(e) => {
                    let through = e["through"].as_u64().unwrap_or(0);
                    let names = e["node"] == node.as_str()
                        && e["line"] == line
                        && through >= 1
                        && e["leaves"][0].as_str()
                            == own
                                .get(through as usize - 1)
                                .map(|h| h.to_string())
                                .as_deref();
                    if names {
                        receipted.insert(peer.clone(), through);
                        // Held (so counted as held), but not applied there.
                        if let Some(why) = e["refused"].as_str() {
                            notes.push(format!(
                                "{peer} holds {} but refused it: {why}",
                                describe_texts(&texts, through as usize - 1)
                            ));
                        }
                    } else {
                        said(format!(
                            "{peer}'s receipt names no entry of {node}'s log as exported (through {through})"
                        ));
                    }
                }
                Err(why) => said(format!("{peer}'s receipt held by {node} {why}")),
            }
        }
        if let Some(note) = h["cosigned"].as_str() {
            match cosigners.get(peer) {
                None => notes.push(format!(
                    "{peer}'s cosignature of {node}'s log not checked (give --cosigner-key)"
                )),
                Some(c) => match (c.verify_in(note), signed(Some(note), key, &node, line)) {
                    (Ok(Some(_)), Ok(cp)) if tree.root_at(cp.size).ok() == Some(cp.root) => {}
                    (Ok(Some(_)), Ok(cp)) => said(format!(
                        "{node}'s log is not what {peer} cosigned at {} entries: {node} rewrote it since",
                        cp.size
                    )),
                    _ => said(format!(
                        "{peer}'s cosignature of {node}'s log does not verify with its cosigner key"
                    )),
                },
            }
        }
        held.insert(peer.clone(), leaves);
    }
    Ok(Export {
        file: file.to_string(),
        node,
        texts,
        own,
        held,
        receipted,
    })
}

/// `author`'s own log against `holder`'s copy of it.
fn compare_copy(
    author: &Export,
    holder: &Export,
    copy: &[Hash],
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let (a, h) = (&author.node, &holder.node);
    if let Some(i) = (0..copy.len().min(author.own.len())).find(|&i| copy[i] != author.own[i]) {
        problems.push(format!(
            "{} ({a}) and {} ({h}) disagree on {a}'s {}: {a} exports one entry, {h} holds another",
            author.file,
            holder.file,
            describe(author, i)
        ));
        return;
    }
    if copy.len() > author.own.len() {
        problems.push(format!(
            "{h} holds {} entries of {a}'s log, {a}'s export only {}: {a} dropped entries it had sent",
            copy.len(),
            author.own.len()
        ));
    }
    let through = author.receipted.get(h).copied().unwrap_or(0) as usize;
    if copy.len() < through {
        let missing: Vec<String> = (copy.len()..through.min(author.own.len()))
            .map(|i| describe(author, i))
            .collect();
        problems.push(format!(
            "{h} signed that it took in {a}'s log through entry {through}, but its export holds {}: never logged there: {}",
            copy.len(),
            missing.join(", ")
        ));
    }
    if author.own.len() > copy.len().max(through) {
        let n = author.own.len() - copy.len().max(through);
        notes.push(format!(
            "{n} entr{} of {a}'s log not yet delivered to {h}",
            if n == 1 { "y" } else { "ies" }
        ));
    }
}

/// Entry `i` of an export's own log, in words: its index, kind and what it is about.
fn describe(e: &Export, i: usize) -> String {
    describe_texts(&e.texts, i)
}

/// Entry `i` of a log of leaf texts, in words (see [`describe`]).
fn describe_texts(texts: &[String], i: usize) -> String {
    let v: Value = serde_json::from_str(&texts[i]).unwrap_or(Value::Null);
    let entry = &v["entry"];
    let about = ["activity", "conflict", "check"]
        .iter()
        .find_map(|k| entry[*k].as_str())
        .map(|a| format!(" {a}"))
        .unwrap_or_default();
    format!(
        "entry {i} ({}{about})",
        entry["kind"].as_str().unwrap_or("unreadable")
    )
}

fn node_key<'a>(
    keys: &'a BTreeMap<String, VerifierKey>,
    node: &str,
    file: &str,
) -> Result<&'a VerifierKey> {
    keys.get(node).with_context(|| {
        format!(
            "{file} names node {node}: give its record key with --node-key (as its admins gave it)"
        )
    })
}

/// A checkpoint of `node`'s log on `line`, signed by `key`.
fn signed(
    note: Option<&str>,
    key: &VerifierKey,
    node: &str,
    line: &str,
) -> std::result::Result<parley_record::Checkpoint, String> {
    let note = note.ok_or("is missing")?;
    let cp = SignedCheckpoint::parse_and_verify(note, key)
        .map_err(|e| format!("is not signed by {node}'s key: {e}"))?;
    if cp.origin.as_str() != line_log_origin(node, line) {
        return Err(format!(
            "is of {}, not of {node}'s log on {line}",
            cp.origin.as_str()
        ));
    }
    Ok(cp)
}

fn tree_of(leaves: &[Hash]) -> MerkleLog {
    let mut t = MerkleLog::new();
    for l in leaves {
        t.append_leaf_hash(*l);
    }
    t
}
