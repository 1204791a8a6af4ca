//! What `parley verify export` checks of each entry beyond the tree: entry
//! times never go backwards; a party an entry is attributed to is in its
//! audience; every party's keys form a chain it extended itself (its first
//! key, or the one pinned with `--party-key`, then links signed by keys it
//! held); and every signed entry carries a `parley-statement/v2` that names
//! this record, the entry's line or talk, operator, action and the canonical
//! hash of its content, verifies with a key of the party's chain, and is
//! not used twice. Entries signed with keys outside the chain are counted as
//! unsigned, never as the party's; `parley-request/v1` signatures (journals
//! older than v2) are counted apart, as weaker.

use super::verify::Refuted;
use anyhow::{bail, Context, Result};
use parley_record::VerifierKey;
use parley_service::{
    acting_party, sha256_hex, Claim, Statement, MAX_SIGNATURE_SKEW_S, STATEMENT_V1, STATEMENT_V2,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Keys pinned from outside the server, by party (a key named `blue` or
/// `blue/desk` is blue's).
pub(super) fn pins(files: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
    let mut pins: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
        let line = text.trim();
        let key = VerifierKey::parse(line).map_err(|e| {
            anyhow::anyhow!(
                "--party-key {file}: {e}; give a key line as `parley keys list` prints it"
            )
        })?;
        let party = key.name().split('/').next().unwrap_or_default().to_string();
        pins.entry(party).or_default().push(line.to_string());
    }
    Ok(pins)
}

/// How a key change is signed (see [`Entries::link`]).
enum Link {
    Chain,
    Outside,
    Forged,
    Unsigned,
}

/// The checks, fed one full entry at a time in record order.
pub(super) struct Entries {
    origin: String,
    pins: BTreeMap<String, Vec<String>>,
    /// Each party's keys in its verified chain, now.
    chain: BTreeMap<String, Vec<String>>,
    /// Whether a party's chain has begun.
    rooted: BTreeMap<String, bool>,
    /// Each activity's line (an acknowledgment names none).
    lines: HashMap<String, String>,
    /// Every key registered for a party, in its chain or not.
    registered: BTreeMap<String, Vec<String>>,
    /// Signatures seen, by hash → the entry that carried it.
    used: HashMap<String, u64>,
    last_at: Option<(i64, u64)>,
    pub(super) signed: u64,
    pub(super) signed_v1: u64,
    pub(super) outside: u64,
    pub(super) unsigned: u64,
}

impl Entries {
    pub(super) fn new(origin: &str, pins: BTreeMap<String, Vec<String>>) -> Entries {
        Entries {
            origin: origin.to_string(),
            pins,
            chain: BTreeMap::new(),
            rooted: BTreeMap::new(),
            lines: HashMap::new(),
            registered: BTreeMap::new(),
            used: HashMap::new(),
            last_at: None,
            signed: 0,
            signed_v1: 0,
            outside: 0,
            unsigned: 0,
        }
    }

    /// Checks `leaf` (`{seq, at_us, audience, entry}`), entry `position`
    /// named `what`; `content` is a notice's content when the export has it.
    pub(super) fn check(
        &mut self,
        position: u64,
        what: &str,
        leaf: &Value,
        content: Option<&Value>,
    ) -> Result<()> {
        let at = leaf["at_us"].as_i64().unwrap_or_default();
        if let Some((before, n)) = self.last_at.filter(|(b, _)| at < *b) {
            bail!(Refuted(format!(
                "{what}: logged at {} ({at} µs), before entry {n} ({}): entry times never go backwards",
                super::output::utc_us(at),
                super::output::utc_us(before)
            )));
        }
        self.last_at = Some((at, position));
        let e = &leaf["entry"];
        if let Some(party) = acting_party(e) {
            let seen = leaf["audience"]
                .as_array()
                .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(&party)));
            if !seen {
                bail!(Refuted(format!(
                    "{what}: attributed to {party}, but {party} is not in its audience {}: the party could not see what was logged in its name",
                    leaf["audience"]
                )));
            }
        }
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        match e["kind"].as_str() {
            Some("notice") => {
                self.lines.insert(s("activity"), s("line"));
                self.signed_entry(what, e, content)
            }
            Some("acknowledged" | "talk_confirmed") => self.signed_entry(what, e, None),
            Some("party_key_registered") => self.key_registered(what, e, &s("party"), &s("key")),
            Some("party_key_revoked") => {
                let party = s("party");
                match self.link(what, e, &party)? {
                    Link::Forged => bail!(Refuted(format!(
                        "{what}: a revocation of {party}'s key signed by no key registered for {party}: a forged key-chain link"
                    ))),
                    Link::Chain => {
                        if let Some(keys) = self.chain.get_mut(&party) {
                            keys.retain(|k| *k != s("key"));
                        }
                    }
                    Link::Outside | Link::Unsigned => {}
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn key_registered(&mut self, what: &str, e: &Value, party: &str, key: &str) -> Result<()> {
        let link = self.key_link(what, e, party, key);
        self.registered
            .entry(party.to_string())
            .or_default()
            .push(key.to_string());
        link
    }

    /// [`Entries::key_registered`] before the key counts as registered: a
    /// link must be signed by a key registered before it.
    fn key_link(&mut self, what: &str, e: &Value, party: &str, key: &str) -> Result<()> {
        let may_root = match self.pins.get(party) {
            Some(p) => p.iter().any(|k| k == key),
            None => !self.rooted.get(party).copied().unwrap_or(false),
        };
        if may_root && self.chain.get(party).is_none_or(|c| c.is_empty()) {
            // The chain begins: the party admin's first key (or the pinned
            // one); if signed, by itself.
            self.chain.insert(party.to_string(), vec![key.to_string()]);
            self.rooted.insert(party.to_string(), true);
            if let Link::Forged = self.link(what, e, party)? {
                bail!(Refuted(format!(
                    "{what}: {party}'s first key {key} does not verify its own signature: a forged key-chain link"
                )));
            }
            return Ok(());
        }
        match self.link(what, e, party)? {
            Link::Chain => self
                .chain
                .entry(party.to_string())
                .or_default()
                .push(key.to_string()),
            Link::Forged => bail!(Refuted(format!(
                "{what}: {party}'s key {key} is signed by no key registered for {party}: a forged key-chain link"
            ))),
            // Not the party's: what it signs counts as unsigned.
            Link::Outside | Link::Unsigned => {}
        }
        Ok(())
    }

    /// How a key change is signed: by a key of the party's chain (its
    /// statement bound to the entry), by another key registered for it, by
    /// none (forged), or not at all.
    fn link(&mut self, what: &str, e: &Value, party: &str) -> Result<Link> {
        if !e["signed"].is_object() {
            return Ok(Link::Unsigned);
        }
        let note = e["signed"]["note"].as_str().unwrap_or_default().to_string();
        let verifies = |keys: Option<&Vec<String>>| {
            keys.into_iter()
                .flatten()
                .any(|k| VerifierKey::parse(k).is_ok_and(|k| k.open_note(&note).is_ok()))
        };
        if verifies(self.chain.get(party)) {
            self.bound(what, e, None, &note)?;
            Ok(Link::Chain)
        } else if verifies(self.registered.get(party)) {
            Ok(Link::Outside)
        } else {
            Ok(Link::Forged)
        }
    }

    /// A notice, acknowledgment or confirmation: signed by its party's chain
    /// and bound to the entry, or counted as unsigned.
    fn signed_entry(&mut self, what: &str, e: &Value, content: Option<&Value>) -> Result<()> {
        if !e["signed"].is_object() {
            self.unsigned += 1;
            return Ok(());
        }
        let party = e["party"].as_str().unwrap_or_default();
        let key = e["signed"]["key"].as_str().unwrap_or_default();
        if !self
            .chain
            .get(party)
            .is_some_and(|c| c.iter().any(|k| k == key))
        {
            self.outside += 1;
            return Ok(());
        }
        let k = VerifierKey::parse(key)
            .map_err(|err| Refuted(format!("{what}: the signing key: {err}")))?;
        let note = e["signed"]["note"].as_str().unwrap_or_default();
        k.open_note(note).map_err(|err| {
            Refuted(format!(
                "{what}: {party}'s signature does not verify: {err}"
            ))
        })?;
        if note.starts_with(STATEMENT_V1) {
            self.signed_v1 += 1;
            return Ok(());
        }
        self.bound(what, e, content, note)?;
        self.signed += 1;
        Ok(())
    }

    /// The statement of `note` is the one of entry `e`: this record, its
    /// scope, operator, action and content; recent to its logging; unused.
    fn bound(&mut self, what: &str, e: &Value, content: Option<&Value>, note: &str) -> Result<()> {
        let (statement, signature) = note
            .rsplit_once("\n\n\u{2014} ")
            .map(|(s, sig)| (format!("{s}\n"), sig.trim()))
            .unwrap_or_default();
        let given = Statement::parse(&statement).map_err(|err| {
            Refuted(format!(
                "{what}: the signed statement is not a {STATEMENT_V2}: {err}"
            ))
        })?;
        let lines = &self.lines;
        let claim = Claim::of_entry(e, content, |a| lines.get(a).cloned()).ok_or_else(|| {
            Refuted(format!(
                "{what}: what was signed cannot be rebuilt (a notice without its content, or an acknowledgment of a notice not in the export)"
            ))
        })?;
        let expected = claim.statement(
            &self.origin,
            e["operator"].as_str().unwrap_or_default(),
            given.time_us,
        );
        if let Some((label, want, got)) = given.differs_from(&expected) {
            bail!(Refuted(format!(
                "{what}: the signature is not of this entry: its statement's {label} is {got:?}, the entry's is {want:?}"
            )));
        }
        let (at, position) = self.last_at.unwrap_or_default();
        if (at - given.time_us).abs() > MAX_SIGNATURE_SKEW_S * 1_000_000 {
            bail!(Refuted(format!(
                "{what}: signed at {} µs but logged at {at} µs: further apart than any server accepts",
                given.time_us
            )));
        }
        let hash = sha256_hex(signature.as_bytes());
        if let Some(first) = self.used.insert(hash, position) {
            bail!(Refuted(format!(
                "{what}: the same signature as entry {first}: a party's signature is accepted once"
            )));
        }
        Ok(())
    }

    /// The summary's words on signatures and key chains.
    pub(super) fn summary(&self) -> String {
        let chains: Vec<String> = self
            .chain
            .iter()
            .map(|(p, k)| {
                let pinned = if self.pins.contains_key(p) {
                    ", pinned"
                } else {
                    ""
                };
                format!("{p} {} key(s){pinned}", k.len())
            })
            .collect();
        format!(
            "{} signed by their parties (each statement bound to its entry), {} signed under {STATEMENT_V1} (weaker: not bound to the entry), {} signed with keys outside the party's chain (shown as unsigned), {} unsigned; key chains: {}",
            self.signed,
            self.signed_v1,
            self.outside,
            self.unsigned,
            if chains.is_empty() { "none".into() } else { chains.join(", ") }
        )
    }
}
