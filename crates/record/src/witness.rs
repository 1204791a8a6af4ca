//! Witnessing, the pure part: cosignatures (C2SP tlog-cosignature,
//! `cosignature/v1` over Ed25519), the body of a tlog-witness `add-checkpoint`
//! request, and the checks a witness makes before it cosigns.
//!
//! A witness keeps, for each log it knows, the latest checkpoint it cosigned,
//! and cosigns a new one only if a consistency proof shows that it extends
//! that one. [`check_add_checkpoint`] is that decision, with the witness's
//! stored state passed in and its answer returned: storing the new state and
//! the answer atomically is the caller's job (`parley witness` does it in one
//! SQLite transaction per batch).
//!
//! A cosignature line is `— <witness name> base64(key id || timestamp || signature)`
//! where the key id is `SHA-256(name || "\n" || 0x04 || public key)[:4]`, the
//! timestamp is 8 bytes big-endian (seconds since the Unix epoch) and the
//! Ed25519 signature is over `cosignature/v1\ntime <timestamp>\n` followed by
//! the checkpoint's body.

use crate::checkpoint::{
    check_key_name, check_text, key_id, line_error, parse_decimal, parse_vkey, read_note,
    NoteError, VerifierKey, SIG_PREFIX,
};
use crate::tree::{verify_consistency, Hash, ProofError};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use std::fmt;

/// The signature-type byte of an Ed25519 `cosignature/v1` key.
const COSIGNATURE_V1: u8 = 0x04;
/// At most this many proof lines in an add-checkpoint request (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// The message an Ed25519 cosigner signs: the header, the time line, the body.
fn cosigned_message(body: &str, time_s: u64) -> String {
    format!("cosignature/v1\ntime {time_s}\n{body}")
}

/// A witness's signing key: an Ed25519 key and the name it cosigns under.
pub struct Cosigner {
    name: String,
    key: SigningKey,
    id: u32,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cosigner({}+{:08x})", self.name, self.id)
    }
}

impl Cosigner {
    /// The cosigner named `name` (a schema-less URL, e.g.
    /// `witness.blue.example/w1`) whose Ed25519 key is made from `seed`.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Cosigner, NoteError> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, COSIGNATURE_V1, &key.verifying_key());
        Ok(Cosigner {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, for verifiers and policies.
    pub fn cosigner_key(&self) -> CosignerKey {
        CosignerKey {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The cosignature line (ending in a newline) over a checkpoint's `body`
    /// (its text, ending in a newline, without signatures) at `time_s`,
    /// seconds since the Unix epoch.
    pub fn cosign(&self, body: &str, time_s: u64) -> String {
        let signature = self.key.sign(cosigned_message(body, time_s).as_bytes());
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&self.id.to_be_bytes());
        blob.extend_from_slice(&time_s.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A witness's public key, `<name>+<key id>+<base64(0x04 || key)>` (a vkey
/// of signature type 0x04, as tlog-cosignature and tlog-policy write it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignerKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignerKey {
    /// Reads the one-line form; checks that the key id is the key's.
    pub fn parse(text: &str) -> Result<CosignerKey, NoteError> {
        let (name, id, key) = parse_vkey(text, COSIGNATURE_V1)?;
        Ok(CosignerKey { name, id, key })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw Ed25519 key (to tell duplicate keys under other names apart).
    pub fn key_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// Finds this cosigner's cosignature in `note` and checks it: `Ok(None)`
    /// when the note carries none, `Ok(Some(timestamp))` when it verifies, an
    /// error when a line under this name and key id does not verify (or there
    /// are two).
    pub fn verify_in(&self, note: &str) -> Result<Option<u64>, NoteError> {
        let (text, lines) = read_note(note)?;
        let mut found = None;
        for line in lines
            .iter()
            .filter(|l| l.name == self.name && l.id == self.id)
        {
            if found.is_some() {
                return Err(line_error(
                    line.number,
                    format!("a second cosignature by {self}"),
                ));
            }
            let bad = || NoteError::BadSignature {
                line: line.number,
                key: format!("{}+{:08x}", self.name, self.id),
            };
            if line.signature.len() != 8 + 64 {
                return Err(bad());
            }
            let time_s = u64::from_be_bytes(line.signature[..8].try_into().expect("8 bytes"));
            if time_s > i64::MAX as u64 {
                return Err(bad());
            }
            let signature = Signature::from_slice(&line.signature[8..]).map_err(|_| bad())?;
            self.key
                .verify_strict(cosigned_message(text, time_s).as_bytes(), &signature)
                .map_err(|_| bad())?;
            found = Some(time_s);
        }
        Ok(found)
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = Vec::with_capacity(33);
        key.push(COSIGNATURE_V1);
        key.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(key))
    }
}

impl std::str::FromStr for CosignerKey {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CosignerKey::parse(s)
    }
}

/// The first three lines of any checkpoint (C2SP tlog-checkpoint): a witness
/// reads these and passes extension lines (Parley's `time`) through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
}

impl TreeHead {
    /// Reads the origin, size and root lines of a checkpoint body; extension
    /// lines may follow.
    pub fn parse(text: &str) -> Result<TreeHead, NoteError> {
        check_text(text)?;
        let mut lines = text.split_terminator('\n');
        let origin = lines
            .next()
            .ok_or_else(|| line_error(1, "missing: the origin"))?;
        let size = lines
            .next()
            .and_then(parse_decimal)
            .ok_or_else(|| line_error(2, "the tree size is not a canonical decimal number"))?;
        let root: [u8; 32] = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                line_error(3, "the root hash is not 32 bytes in standard padded base64")
            })?;
        Ok(TreeHead {
            origin: origin.to_owned(),
            size,
            root: Hash(root),
        })
    }

    /// The origin of a note's checkpoint, read before any key is known (its
    /// first line), to find the key to verify it with.
    pub fn origin_of(note: &str) -> Option<&str> {
        note.split_once('\n').map(|(first, _)| first)
    }
}

/// What is wrong with an add-checkpoint request body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct RequestError {
    /// 1-based line number in the body.
    pub line: usize,
    /// What is wrong with it.
    pub problem: String,
}

/// A tlog-witness `add-checkpoint` request: the size of the checkpoint the
/// log believes the witness holds, a consistency proof from it, and the new
/// checkpoint as a signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The `old` line: the size of the witness's latest cosigned checkpoint
    /// as the client believes it (0 when it knows of none).
    pub old_size: u64,
    /// RFC 6962 consistency proof from `old_size` to the new size.
    pub proof: Vec<Hash>,
    /// The checkpoint, a signed note (with one or more signatures).
    pub note: String,
}

impl AddCheckpoint {
    /// Reads a request body: `old N`, up to 63 base64 proof lines, a blank
    /// line, the checkpoint.
    pub fn parse(body: &str) -> Result<AddCheckpoint, RequestError> {
        let bad = |line: usize, problem: &str| RequestError {
            line,
            problem: problem.to_owned(),
        };
        let (first, mut rest) = body
            .split_once('\n')
            .ok_or_else(|| bad(1, "expected `old <size>` and a newline"))?;
        let old_size = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or_else(|| bad(1, "expected `old <size>`, the size in canonical decimal"))?;
        let mut proof = Vec::new();
        let mut line = 1;
        loop {
            line += 1;
            let (l, after) = rest.split_once('\n').ok_or_else(|| {
                bad(
                    line,
                    "expected a proof line or the blank line before the checkpoint",
                )
            })?;
            rest = after;
            if l.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(line, "more than 63 consistency proof lines"));
            }
            let hash: [u8; 32] = BASE64
                .decode(l)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    bad(
                        line,
                        "a proof line is one 32-byte hash in standard padded base64",
                    )
                })?;
            proof.push(Hash(hash));
        }
        if rest.is_empty() {
            return Err(bad(line + 1, "no checkpoint after the blank line"));
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            note: rest.to_owned(),
        })
    }

    /// The request body.
    pub fn body(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&BASE64.encode(h.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note);
        out
    }
}

/// Why a witness refuses to cosign; [`Refusal::status`] is the HTTP status
/// tlog-witness prescribes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The request is malformed (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The checkpoint's origin is not a log this witness knows (404).
    #[error("unknown log: the origin {0:?} is not one this witness witnesses")]
    UnknownLog(String),
    /// No signature on the checkpoint verifies with the log's key (403).
    #[error("the checkpoint is not signed by the log's key: {0}")]
    NotSigned(String),
    /// The `old` size is not the size the witness last cosigned (409): the
    /// client must retry from `witness_size`.
    #[error("the old size {old_size} is not the size of the latest checkpoint this witness cosigned, {witness_size}")]
    OldSize {
        /// The request's `old` size.
        old_size: u64,
        /// The size of the witness's latest cosigned checkpoint.
        witness_size: u64,
    },
    /// The checkpoint has the size the witness last cosigned but another
    /// root (409): a split view.
    #[error("split view: the witness cosigned size {size} with root {witness_root}, this checkpoint has root {root}")]
    SplitView {
        /// The size of both.
        size: u64,
        /// The root the witness cosigned.
        witness_root: Hash,
        /// The root submitted.
        root: Hash,
    },
    /// The consistency proof does not verify (422).
    #[error("the consistency proof from size {old_size} to {size} does not verify: {source}")]
    BadProof {
        /// The old size.
        old_size: u64,
        /// The new size.
        size: u64,
        /// Which check failed.
        source: ProofError,
    },
}

impl Refusal {
    /// The HTTP status tlog-witness gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::NotSigned(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::OldSize { .. } | Refusal::SplitView { .. } => 409,
            Refusal::BadProof { .. } => 422,
        }
    }

    /// A short name for the kind of refusal: `bad-request`, `unknown-log`,
    /// `not-signed`, `old-size`, `split-view`, `bad-proof`.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::BadRequest(_) => "bad-request",
            Refusal::UnknownLog(_) => "unknown-log",
            Refusal::NotSigned(_) => "not-signed",
            Refusal::OldSize { .. } => "old-size",
            Refusal::SplitView { .. } => "split-view",
            Refusal::BadProof { .. } => "bad-proof",
        }
    }
}

/// What a witness holds for one log: its latest cosigned tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witnessed {
    /// Its size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// What a witness decided about a request whose log's signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The checkpoint's head as submitted.
    pub head: TreeHead,
    /// The checkpoint's body (what is cosigned).
    pub body: String,
    /// `Ok` to cosign (and store `head` as the latest); else the refusal.
    pub verdict: Result<(), Refusal>,
    /// True when the refusal proves the log misbehaved, a checkpoint signed
    /// by its key that does not extend what the witness cosigned: same size
    /// and another root, a smaller size (a rollback) or a proof that fails.
    pub evidence: bool,
}

/// The checks of tlog-witness `add-checkpoint`, in its order: the log known
/// by the checkpoint's origin (404), its signature (403), `old` no larger than
/// the size (400), `old` equal to the witness's latest size (409), the same
/// root at the same size (409), the consistency proof (422). `log_key` finds
/// the key of a known origin; `latest` is what the witness holds for that
/// origin, if anything. `Err` is returned when the checkpoint could not be
/// read as its log's word (unknown origin, no valid signature by the log's
/// key, a body that is not a checkpoint): such a refusal is no evidence.
pub fn check_add_checkpoint<'k>(
    request: &AddCheckpoint,
    log_key: impl FnOnce(&str) -> Option<&'k VerifierKey>,
    latest: Option<&Witnessed>,
) -> Result<Decision, Refusal> {
    let origin = TreeHead::origin_of(&request.note)
        .ok_or_else(|| Refusal::BadRequest("the checkpoint has no origin line".into()))?;
    let key = log_key(origin).ok_or_else(|| Refusal::UnknownLog(origin.to_owned()))?;
    let text = key.open_note_lenient(&request.note).map_err(|e| match e {
        NoteError::UnknownKey { .. } | NoteError::BadSignature { .. } => {
            Refusal::NotSigned(e.to_string())
        }
        e => Refusal::BadRequest(format!("the checkpoint: {e}")),
    })?;
    let head =
        TreeHead::parse(text).map_err(|e| Refusal::BadRequest(format!("the checkpoint: {e}")))?;
    let witness_size = latest.map_or(0, |w| w.size);
    let verdict = if request.old_size > head.size {
        Err(Refusal::BadRequest(format!(
            "the old size {} is larger than the checkpoint's size {}",
            request.old_size, head.size
        )))
    } else if request.old_size != witness_size {
        Err(Refusal::OldSize {
            old_size: request.old_size,
            witness_size,
        })
    } else {
        match latest {
            Some(w) if w.size == head.size && w.root != head.root => Err(Refusal::SplitView {
                size: w.size,
                witness_root: w.root,
                root: head.root,
            }),
            Some(w) => verify_consistency(w.size, head.size, &w.root, &head.root, &request.proof)
                .map_err(|source| Refusal::BadProof {
                    old_size: w.size,
                    size: head.size,
                    source,
                }),
            None if request.proof.is_empty() => Ok(()),
            None => Err(Refusal::BadProof {
                old_size: 0,
                size: head.size,
                source: ProofError::ProofNotEmpty {
                    old_size: 0,
                    new_size: head.size,
                    hashes: request.proof.len(),
                },
            }),
        }
    };
    let evidence = match &verdict {
        Err(Refusal::SplitView { .. } | Refusal::BadProof { .. }) => latest.is_some(),
        // Whatever `old` said, a signed checkpoint smaller than one the
        // witness cosigned is a rollback.
        Err(_) => head.size < witness_size,
        Ok(()) => false,
    };
    Ok(Decision {
        head,
        body: text.to_owned(),
        verdict,
        evidence,
    })
}
