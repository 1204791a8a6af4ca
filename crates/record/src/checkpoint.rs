//! Checkpoints (C2SP tlog-checkpoint) signed as notes (C2SP signed-note,
//! golang.org/x/mod/sumdb/note) with Ed25519: what the log publishes and a
//! party keeps to hold it to its history.
//!
//! A checkpoint's body:
//!
//! ```text
//! parley.example/line/syria-air      origin: which log
//! 1234                               tree size, decimal
//! 3q2+7w...=                         root hash, standard base64 with padding
//! time 1763779200000000              extension line: when it was signed, µs since the Unix epoch
//! ```
//!
//! The tlog-checkpoint format leaves extension lines to the log; Parley writes
//! exactly one, `time <µs since the Unix epoch>` in canonical decimal, the unit
//! the engine and the journal use, so a checkpoint says when the log stood at
//! that size. The signed note is the body, a blank line, and one line per
//! signature: `— <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>`.
//!
//! Parsing is strict: every byte of a note this crate did not write the same
//! way is an error that says which line and what is wrong.

use crate::tree::Hash;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// The signature-type byte of Ed25519 in key ids and verifier keys.
pub(crate) const ED25519: u8 = 0x01;
/// What opens a signature line: the em dash U+2014 and a space.
pub(crate) const SIG_PREFIX: &str = "\u{2014} ";
/// The most signature lines a note may carry (as golang.org/x/mod/sumdb/note).
const MAX_SIGNATURES: usize = 100;

/// What is wrong with a key, a note or a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// A key name must be non-empty, without spaces and without `+`.
    #[error("key name {0:?} is not valid: it must be non-empty and contain no space, no control character and no '+'")]
    KeyName(String),
    /// An origin must be non-empty, printable, without leading or trailing space.
    #[error("origin {0:?} is not valid: it must be non-empty, on one line, with no control character and no leading or trailing space")]
    Origin(String),
    /// A verifier key string is not `<name>+<8 hex digits>+<base64(0x01 || key)>`.
    #[error("verifier key is malformed: {0}")]
    VerifierKey(&'static str),
    /// The note as a whole is malformed.
    #[error("note is malformed: {0}")]
    Note(&'static str),
    /// One line is malformed.
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based line number in the note.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// No signature line is by the expected key.
    #[error("the note carries no signature by {expected}; it is signed by: {found}")]
    UnknownKey {
        /// The key name and id expected, `name+id`.
        expected: String,
        /// The keys that did sign it, `name+id`, comma-separated.
        found: String,
    },
    /// The signature by the expected key does not verify.
    #[error("line {line}: the signature by {key} does not verify: the note was changed after it was signed, or signed by another key")]
    BadSignature {
        /// 1-based line number of the signature line.
        line: usize,
        /// The key, `name+id`.
        key: String,
    },
}

pub(crate) fn line_error(line: usize, problem: impl Into<String>) -> NoteError {
    NoteError::Line {
        line,
        problem: problem.into(),
    }
}

pub(crate) fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name.contains(char::is_whitespace)
        || name.contains(char::is_control)
        || name.contains('+')
    {
        return Err(NoteError::KeyName(name.to_owned()));
    }
    Ok(())
}

/// The key id: the first 4 bytes of SHA-256(name || "\n" || type || public
/// key), `type` being 0x01 for a note signer (a log) and 0x04 for an Ed25519
/// cosigner (a witness, C2SP tlog-cosignature).
pub(crate) fn key_id(name: &str, alg: u8, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A log's signing key: an Ed25519 key and the name it signs under.
pub struct Signer {
    name: String,
    key: SigningKey,
    id: u32,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}+{:08x})", self.name, self.id)
    }
}

impl Signer {
    /// The signer named `name` whose Ed25519 key is made from `seed` (RFC 8032's
    /// 32-byte secret key). The caller draws the seed from a secure random
    /// source and keeps it secret; this crate has no randomness of its own.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Signer, NoteError> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, ED25519, &key.verifying_key());
        Ok(Signer {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The same node's cosigner (tlog-cosignature), under the same name with
    /// a key of its own derived from this one's secret (domain-separated), so
    /// a note signature and a cosignature never share a key and the node
    /// keeps one secret.
    pub fn cosigner(&self) -> crate::witness::Cosigner {
        let mut h = Sha256::new();
        h.update(b"parley node cosigner v1\n");
        h.update(self.key.to_bytes());
        let seed: [u8; 32] = h.finalize().into();
        crate::witness::Cosigner::from_seed(&self.name, &seed).expect("the name was checked")
    }

    /// The public half, for parties to verify with.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` as a note: the text, a blank line, one signature line.
    /// The text must be non-empty, end in a newline, hold no blank line and no
    /// control character but newlines, and no line may end in a space.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        Ok(self.sign_checked(text))
    }

    pub(crate) fn sign_checked(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.id.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        )
    }
}

/// A log's public key as a party keeps it: the name, the key id and the Ed25519
/// key. Its string form (`Display`, [`VerifierKey::parse`]) is the one line
/// `<name>+<8 hex digits of the key id>+<base64(0x01 || public key)>` of
/// golang.org/x/mod/sumdb/note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Reads the one-line form; checks that the key id is the key's.
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let (name, id, key) = parse_vkey(text, ED25519)?;
        Ok(VerifierKey { name, id, key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The raw Ed25519 key (two vkeys of one key under other names are the
    /// same key).
    pub fn key_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// Whether `signature` (64 bytes) is this key's over `text`.
    pub(crate) fn verifies(&self, text: &str, signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .is_ok_and(|s| self.key.verify_strict(text.as_bytes(), &s).is_ok())
    }

    /// The note's text if a signature line by this key (name and key id)
    /// verifies, ignoring every other line as C2SP signed-note asks of a
    /// verifier (a witness), even one under the same name with another id.
    pub fn open_note_lenient<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (text, lines) = read_note(note)?;
        let ours = lines
            .iter()
            .find(|l| l.name == self.name && l.id == self.id)
            .ok_or_else(|| NoteError::UnknownKey {
                expected: self.label(),
                found: lines
                    .iter()
                    .map(|l| format!("{}+{:08x}", l.name, l.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !self.verifies(text, &ours.signature) {
            return Err(NoteError::BadSignature {
                line: ours.number,
                key: self.label(),
            });
        }
        Ok(text)
    }

    pub(crate) fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// Checks the note's signature by this key and returns its text (ending in
    /// a newline, without the blank line and the signatures). Signature lines
    /// by other keys (cosigners, witnesses) are parsed and otherwise ignored,
    /// as the signed-note spec asks; a second signature by this key, a
    /// signature line under this name with another key id, or any malformed
    /// line is an error.
    pub fn open_note<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (text, lines) = read_note(note)?;
        let mut found = Vec::new();
        let mut ours = None;
        for line in lines {
            let (number, name, id) = (line.number, line.name, line.id);
            found.push(format!("{name}+{id:08x}"));
            if name != self.name {
                continue;
            }
            if id != self.id {
                return Err(line_error(
                    number,
                    format!(
                        "signed by {name}+{id:08x}, not by the key {} under the same name",
                        self.label()
                    ),
                ));
            }
            if ours.is_some() {
                return Err(line_error(
                    number,
                    format!("a second signature by {}", self.label()),
                ));
            }
            ours = Some((number, line.signature));
        }
        let Some((number, blob)) = ours else {
            return Err(NoteError::UnknownKey {
                expected: self.label(),
                found: found.join(", "),
            });
        };
        let bad = || NoteError::BadSignature {
            line: number,
            key: self.label(),
        };
        let signature = Signature::from_slice(&blob).map_err(|_| bad())?;
        self.key
            .verify_strict(text.as_bytes(), &signature)
            .map_err(|_| bad())?;
        Ok(text)
    }
}

/// Reads a verifier key `<name>+<8 hex digits>+<base64(type || key)>` whose
/// type byte is `alg` (0x01 a note signer, 0x04 a cosigner) and whose key id is
/// the key's.
pub(crate) fn parse_vkey(text: &str, alg: u8) -> Result<(String, u32, VerifyingKey), NoteError> {
    let (name, rest) = text
        .split_once('+')
        .ok_or(NoteError::VerifierKey("no '+' after the name"))?;
    let (id_hex, key_b64) = rest
        .split_once('+')
        .ok_or(NoteError::VerifierKey("no '+' after the key id"))?;
    check_key_name(name)?;
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::VerifierKey("the key id is not 8 hex digits"));
    }
    let id = u32::from_str_radix(id_hex, 16).expect("8 hex digits");
    let bytes = BASE64
        .decode(key_b64)
        .map_err(|_| NoteError::VerifierKey("the key is not standard padded base64"))?;
    let [found, key @ ..] = bytes.as_slice() else {
        return Err(NoteError::VerifierKey("the key is empty"));
    };
    if *found != alg {
        return Err(NoteError::VerifierKey(if alg == ED25519 {
            "the key is not an Ed25519 key (type byte 0x01)"
        } else {
            "the key is not an Ed25519 cosigner key (type byte 0x04)"
        }));
    }
    let key: &[u8; 32] = key
        .try_into()
        .map_err(|_| NoteError::VerifierKey("an Ed25519 key has 32 bytes"))?;
    let key = VerifyingKey::from_bytes(key)
        .map_err(|_| NoteError::VerifierKey("the key is not a valid Ed25519 point"))?;
    if key_id(name, alg, &key) != id {
        return Err(NoteError::VerifierKey(
            "the key id does not match the name and key",
        ));
    }
    Ok((name.to_owned(), id, key))
}

/// One signature line of a note: `— <name> <base64(key id || signature)>`,
/// read for its form, not verified.
pub(crate) struct SignatureLine<'a> {
    /// 1-based line number in the note.
    pub number: usize,
    /// The key name.
    pub name: &'a str,
    /// The key id.
    pub id: u32,
    /// What follows the key id.
    pub signature: Vec<u8>,
}

/// Splits a note into its text (with its final newline) and its signature
/// lines, each checked for form.
pub(crate) fn read_note(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), NoteError> {
    let (text, signatures, first_sig_line) = split_note(note)?;
    let mut lines = Vec::new();
    for (i, line) in signatures.split_terminator('\n').enumerate() {
        let number = first_sig_line + i;
        if i == MAX_SIGNATURES {
            return Err(line_error(
                number,
                format!("more than {MAX_SIGNATURES} signature lines"),
            ));
        }
        check_line(number, line)?;
        let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
            line_error(
                number,
                "a signature line must start with an em dash (U+2014) and a space",
            )
        })?;
        let (name, blob) = rest
            .split_once(' ')
            .ok_or_else(|| line_error(number, "a signature line is `— <key name> <base64>`"))?;
        check_key_name(name).map_err(|e| line_error(number, e.to_string()))?;
        let blob = BASE64
            .decode(blob)
            .map_err(|_| line_error(number, "the signature is not standard padded base64"))?;
        if blob.len() < 5 {
            return Err(line_error(
                number,
                "the signature is shorter than a key id and one byte",
            ));
        }
        lines.push(SignatureLine {
            number,
            name,
            id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
            signature: blob[4..].to_vec(),
        });
    }
    Ok((text, lines))
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = Vec::with_capacity(33);
        key.push(ED25519);
        key.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(key))
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerifierKey::parse(s)
    }
}

/// Rules every line of a note obeys: no control character, no trailing space.
fn check_line(number: usize, line: &str) -> Result<(), NoteError> {
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(line_error(
            number,
            format!("control character U+{:04X}", c as u32),
        ));
    }
    if line.ends_with(char::is_whitespace) {
        return Err(line_error(number, "ends with a space"));
    }
    Ok(())
}

/// The rules for a note's text: non-empty, ends in a newline, no blank line,
/// every line as [`check_line`].
pub(crate) fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::Note("the text is empty"));
    }
    if !text.ends_with('\n') {
        return Err(NoteError::Note("the text does not end with a newline"));
    }
    for (i, line) in text.split_terminator('\n').enumerate() {
        if line.is_empty() {
            return Err(line_error(i + 1, "blank line inside the text"));
        }
        check_line(i + 1, line)?;
    }
    Ok(())
}

/// Splits a note into its text (with its final newline), its signature block
/// and the line number of the first signature line.
fn split_note(note: &str) -> Result<(&str, &str, usize), NoteError> {
    if !note.ends_with('\n') {
        return Err(NoteError::Note("the note does not end with a newline"));
    }
    let blank = note.find("\n\n").ok_or(NoteError::Note(
        "no blank line between the text and the signatures",
    ))?;
    let (text, signatures) = (&note[..=blank], &note[blank + 2..]);
    check_text(text)?;
    let first_sig_line = text.matches('\n').count() + 2;
    if signatures.is_empty() {
        return Err(NoteError::Note("no signature line after the blank line"));
    }
    Ok((text, signatures, first_sig_line))
}

/// Which log a checkpoint is of, e.g. `parley.example/line/syria-air`: non-empty,
/// printable, without leading or trailing space.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    /// Checks and wraps an origin.
    pub fn new(origin: &str) -> Result<Origin, NoteError> {
        if origin.is_empty()
            || origin.chars().any(char::is_control)
            || origin.starts_with(char::is_whitespace)
            || origin.ends_with(char::is_whitespace)
        {
            return Err(NoteError::Origin(origin.to_owned()));
        }
        Ok(Origin(origin.to_owned()))
    }

    /// The origin line.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A log's state at one moment: which log, how many entries, their root, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Which log.
    pub origin: Origin,
    /// The number of entries.
    pub size: u64,
    /// The root of the tree of those entries.
    pub root: Hash,
    /// When the checkpoint was made, µs since the Unix epoch.
    pub time_us: u64,
}

impl Checkpoint {
    /// The checkpoint's body: origin, size, base64 root, `time` line, each
    /// ending in a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\ntime {}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.0),
            self.time_us
        )
    }

    /// The signed note of this checkpoint.
    pub fn sign(&self, signer: &Signer) -> String {
        // An `Origin` is a valid first line and the others are made here.
        signer.sign_checked(&self.body())
    }

    /// Reads a checkpoint body as [`Checkpoint::body`] writes it, strictly.
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        check_text(text)?;
        let mut lines = text.split_terminator('\n');
        let mut next = |number: usize, what: &str| {
            lines
                .next()
                .ok_or_else(|| line_error(number, format!("missing: the {what}")))
        };
        let origin = next(1, "origin")?;
        let origin = Origin::new(origin).map_err(|e| line_error(1, e.to_string()))?;
        let size = parse_decimal(next(2, "tree size")?)
            .ok_or_else(|| line_error(2, "the tree size is not a canonical decimal number"))?;
        let root = next(3, "root hash")?;
        let root: [u8; 32] = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                line_error(3, "the root hash is not 32 bytes in standard padded base64")
            })?;
        let time = next(4, "`time <µs since the Unix epoch>` line")?;
        let time_us = time
            .strip_prefix("time ")
            .and_then(parse_decimal)
            .ok_or_else(|| {
                line_error(
                    4,
                    "expected `time <µs since the Unix epoch>` in canonical decimal",
                )
            })?;
        if lines.next().is_some() {
            return Err(line_error(
                5,
                "unexpected extension line: a Parley checkpoint ends with its `time` line",
            ));
        }
        Ok(Checkpoint {
            origin,
            size,
            root: Hash(root),
            time_us,
        })
    }
}

/// Decimal digits without a leading zero (but "0"), fitting in a u64.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// A checkpoint in its signed-note form, as the log publishes it.
pub struct SignedCheckpoint;

impl SignedCheckpoint {
    /// Checks the note's signature by `key` and reads the checkpoint in it.
    pub fn parse_and_verify(text: &str, key: &VerifierKey) -> Result<Checkpoint, NoteError> {
        let body = key.open_note(text)?;
        Checkpoint::parse_body(body)
    }
}
