//! `parley verify ...`: receipts, exports and checkpoints checked offline,
//! with nothing but this binary and the server's key (or a witness policy);
//! and the checks `record audit` shares.

use super::{output, Outcome};
use anyhow::{bail, Context, Result};
use parley_record::{
    leaf_hash, split_view, verify_consistency, verify_inclusion, Checkpoint, Hash, Policy,
    SignedCheckpoint, VerifierKey,
};
use serde_json::{json, Value};

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
  parley verify federation blue-air.json red-air.json --node-key \"$BLUE_KEY\" --node-key \"$RED_KEY\"

Exit status: 0 verified; 1 it does not verify (changed, removed, reordered or
inserted entries, a bad signature, a split view); 2 bad input.";

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
    /// A party's key pinned from outside the server (a file holding its
    /// verifier key line, as `parley keys list` prints it): `verify export`
    /// starts that party's key chain there. Repeat for several.
    #[arg(long, global = true)]
    party_key: Vec<String>,
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
    /// A federated line from its nodes' exports (`parley lines logs LINE` on
    /// each node): every log against its node's signature, receipts and
    /// cosignatures, and each node's log against the others' copies of it,
    /// naming any entry one side says was sent and the other never logged.
    Federation {
        /// Exports of the line, one per node (one alone checks that node's word).
        #[arg(required = true)]
        files: Vec<String>,
        /// Each node's record key line, as its admins gave it (repeat).
        #[arg(long = "node-key", required = true)]
        node_keys: Vec<String>,
        /// A node's cosigner key line (repeat), to check its cosignatures.
        #[arg(long = "cosigner-key")]
        cosigner_keys: Vec<String>,
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

pub(super) fn read(file: &str) -> Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    serde_json::from_str(&text).with_context(|| format!("{file}: not JSON"))
}

fn field<'a>(v: &'a Value, file: &str, name: &str) -> Result<&'a Value> {
    v.get(name)
        .filter(|x| !x.is_null())
        .with_context(|| format!("{file}: no \"{name}\""))
}

pub(super) fn hashes(v: &Value, file: &str) -> Result<Vec<Hash>> {
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
pub(super) struct Given {
    key: Option<String>,
    policy: Option<(String, Policy)>,
}

impl Given {
    pub(super) fn new(key: &Option<String>, policy: &Option<String>) -> Result<Given> {
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
pub(super) enum Trust<'a> {
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
pub(super) fn key<'a>(given: &'a Given, v: &Value, file: &str) -> Result<Trust<'a>> {
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
pub(super) fn checkpoint(v: &Value, file: &str, trust: &Trust) -> Result<(Checkpoint, String)> {
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
        Verify::Export { file } => verify_export(&given, file, &a.party_key),
        Verify::Checkpoints { old, new, proof } => verify_checkpoints(&given, old, new, proof),
        Verify::Federation {
            files,
            node_keys,
            cosigner_keys,
        } => super::verify_federation::verify_federation(files, node_keys, cosigner_keys),
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
pub(super) fn extends(
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
pub(super) fn with_file(witnessed: &str, file: &str) -> String {
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

fn verify_export(given: &Given, file: &str, party_keys: &[String]) -> Result<String> {
    let pins = super::attest::pins(party_keys)?;
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
    let mut entries = super::attest::Entries::new(cp.origin.as_str(), pins);
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
            let checked = check_content(&v, &entry, &what)?;
            contents += u64::from(checked);
            let content = v
                .get("content")
                .and_then(Value::as_str)
                .filter(|_| checked)
                .and_then(|c| serde_json::from_str::<Value>(c).ok());
            entries.check(position, &what, &entry, content.as_ref())?;
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
        "{} entries ({full} in full, {contents} notices with their content, {} as hashes) rebuild the root {} signed by {} at {}; times never go backwards, each party's entries are in its audience; notices, acknowledgments and confirmations: {}{witnessed}",
        cp.size,
        cp.size - full,
        cp.root,
        key.name(),
        output::utc_us(cp.time_us as i64),
        entries.summary()
    ))
}
