//! Trust policies (C2SP tlog-policy): which logs a verifier accepts, which
//! witnesses it knows, and the quorum of them that must have cosigned a
//! checkpoint before it believes it.
//!
//! ```text
//! log parley.local/record+1a2b3c4d+AbC...=
//! witness blue witness.blue.example+5e6f7a8b+BNe...=
//! witness red  witness.red.example+9c0d1e2f+BKq...= https://witness.red.example
//! group parties 2 blue red
//! quorum parties
//! ```

use crate::checkpoint::{parse_decimal, NoteError, VerifierKey};
use crate::witness::CosignerKey;

/// What is wrong with a policy file, or why a note does not meet a policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A line of the policy file is malformed.
    #[error("policy line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// The file has no `quorum` line.
    #[error("the policy has no `quorum` line")]
    NoQuorum,
    /// The checkpoint is signed by none of the policy's logs.
    #[error("the checkpoint is signed by none of the policy's logs: {0}")]
    NoLog(String),
    /// A cosignature by a witness of the policy does not verify.
    #[error("witness {witness}: {source}")]
    BadCosignature {
        /// The witness's name in the policy.
        witness: String,
        /// Why.
        source: NoteError,
    },
    /// Too few witnesses cosigned.
    #[error("the quorum `{quorum}` is not met: cosigned by {}", if cosigned.is_empty() { "none of the policy's witnesses".to_string() } else { cosigned.join(", ") })]
    QuorumNotMet {
        /// The quorum's name.
        quorum: String,
        /// The witnesses (names in the policy) whose cosignatures verified.
        cosigned: Vec<String>,
    },
}

/// A name of the policy: a witness or a group.
#[derive(Clone, Debug)]
enum Member {
    Witness(usize),
    Group { k: usize, members: Vec<usize> },
}

/// A parsed trust policy.
#[derive(Clone, Debug)]
pub struct Policy {
    logs: Vec<VerifierKey>,
    witnesses: Vec<(String, CosignerKey)>,
    /// Witnesses and groups by name; `members` index into this.
    names: Vec<(String, Member)>,
    /// The quorum: `None` for `quorum none`, else an index into `names`.
    quorum: Option<usize>,
}

/// A checkpoint that meets a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The log key that signed it.
    pub log: VerifierKey,
    /// The witnesses (names in the policy) whose cosignatures verified, with
    /// their timestamps (seconds since the Unix epoch), in policy order.
    pub cosigned: Vec<(String, u64)>,
}

impl Policy {
    /// Reads a policy file.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            names: Vec::new(),
            quorum: None,
        };
        let mut quorum_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            let bad = |problem: String| PolicyError::Line {
                line: number,
                problem,
            };
            if let Some(b) = raw.bytes().find(|&b| b != b'\t' && (b < 0x20 || b == 0x7f)) {
                return Err(bad(format!("control character 0x{b:02x}")));
            }
            let words: Vec<&str> = raw.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            let Some((&keyword, args)) = words.split_first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            match (keyword, args) {
                ("log", [vkey] | [vkey, _]) => {
                    let key = VerifierKey::parse(vkey).map_err(|e| bad(format!("log key: {e}")))?;
                    if p.logs.iter().any(|k| k.key_bytes() == key.key_bytes()) {
                        return Err(bad("a second `log` line with the same key".into()));
                    }
                    p.logs.push(key);
                }
                ("log", _) => return Err(bad("expected `log <vkey> [<url>]`".into())),
                ("witness", [name, vkey] | [name, vkey, _]) => {
                    p.check_new_name(name).map_err(bad)?;
                    let key = CosignerKey::parse(vkey)
                        .map_err(|e| bad(format!("witness {name}'s key: {e}")))?;
                    if p.witnesses
                        .iter()
                        .any(|(_, k)| k.key_bytes() == key.key_bytes())
                    {
                        return Err(bad(format!(
                            "witness {name} has the key of a witness listed before"
                        )));
                    }
                    p.names
                        .push((name.to_string(), Member::Witness(p.witnesses.len())));
                    p.witnesses.push((name.to_string(), key));
                }
                ("witness", _) => {
                    return Err(bad("expected `witness <name> <vkey> [<url>]`".into()))
                }
                ("group", [name, k, members @ ..]) if !members.is_empty() => {
                    p.check_new_name(name).map_err(bad)?;
                    let mut indices = Vec::new();
                    for m in members {
                        let index = p.lookup(m).ok_or_else(|| {
                            bad(format!("group {name}: {m} is not defined on a line before"))
                        })?;
                        if indices.contains(&index) {
                            return Err(bad(format!("group {name}: {m} is listed twice")));
                        }
                        indices.push(index);
                    }
                    let n = indices.len();
                    let k = match *k {
                        "all" => n,
                        "any" => 1,
                        k => match parse_decimal(k).and_then(|k| usize::try_from(k).ok()) {
                            Some(k) if (1..=n).contains(&k) => k,
                            _ => return Err(bad(format!(
                                "group {name}: the threshold {k:?} is not `all`, `any` or a number from 1 to {n}"
                            ))),
                        },
                    };
                    p.names.push((
                        name.to_string(),
                        Member::Group {
                            k,
                            members: indices,
                        },
                    ));
                }
                ("group", _) => {
                    return Err(bad(
                        "expected `group <name> <all|any|k> <name>...` with at least one member"
                            .into(),
                    ))
                }
                ("quorum", [name]) => {
                    if quorum_seen {
                        return Err(bad("a second `quorum` line".into()));
                    }
                    quorum_seen = true;
                    p.quorum = match *name {
                        "none" => None,
                        name => Some(p.lookup(name).ok_or_else(|| {
                            bad(format!("quorum: {name} is not defined on a line before"))
                        })?),
                    };
                }
                ("quorum", _) => return Err(bad("expected `quorum <name>`".into())),
                (other, _) => {
                    return Err(bad(format!(
                        "unknown keyword {other:?}: expected log, witness, group or quorum"
                    )))
                }
            }
        }
        if !quorum_seen {
            return Err(PolicyError::NoQuorum);
        }
        Ok(p)
    }

    fn check_new_name(&self, name: &str) -> Result<(), String> {
        if name == "none" {
            return Err("`none` is predefined and cannot be a witness or group".into());
        }
        if self.lookup(name).is_some() {
            return Err(format!("{name} is already defined"));
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|(n, _)| n == name)
    }

    /// The logs the policy accepts.
    pub fn logs(&self) -> &[VerifierKey] {
        &self.logs
    }

    /// The quorum's name (`none` when no cosignature is needed).
    pub fn quorum_name(&self) -> &str {
        self.quorum.map_or("none", |q| &self.names[q].0)
    }

    /// Checks `note` against the policy: signed by one of its logs, cosigned
    /// by witnesses that meet the quorum. Returns the log key (to read the
    /// checkpoint with) and who cosigned.
    pub fn check(&self, note: &str) -> Result<Accepted, PolicyError> {
        let mut problems = Vec::new();
        let mut log = None;
        for key in &self.logs {
            match key.open_note(note) {
                // tlog-policy: a log's key name is its origin.
                Ok(text) if text.split('\n').next() != Some(key.name()) => problems.push(format!(
                    "signed by {}, but its origin line is not the key's name",
                    key.name()
                )),
                Ok(_) => {
                    log = Some(key.clone());
                    break;
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        let Some(log) = log else {
            return Err(PolicyError::NoLog(if problems.is_empty() {
                "the policy lists no log".into()
            } else {
                problems.join("; ")
            }));
        };
        let mut signed = vec![false; self.witnesses.len()];
        let mut cosigned = Vec::new();
        for (i, (name, key)) in self.witnesses.iter().enumerate() {
            if let Some(t) = key
                .verify_in(note)
                .map_err(|source| PolicyError::BadCosignature {
                    witness: name.clone(),
                    source,
                })?
            {
                signed[i] = true;
                cosigned.push((name.clone(), t));
            }
        }
        if let Some(q) = self.quorum {
            if !self.meets(q, &signed) {
                return Err(PolicyError::QuorumNotMet {
                    quorum: self.names[q].0.clone(),
                    cosigned: cosigned.into_iter().map(|(n, _)| n).collect(),
                });
            }
        }
        Ok(Accepted { log, cosigned })
    }

    fn meets(&self, name: usize, signed: &[bool]) -> bool {
        match &self.names[name].1 {
            Member::Witness(w) => signed[*w],
            Member::Group { k, members } => {
                members.iter().filter(|&&m| self.meets(m, signed)).count() >= *k
            }
        }
    }
}
