//! Independent implementations as oracles: Cloudflare's `signed_note` and
//! `tlog_tiles` (ports of Go's sumdb/note and tlog) read and verify the
//! checkpoints, cosignatures and proofs Parley writes, and write notes that
//! Parley's verifier and witness must accept.

use base64::Engine as _;
use parley_record::*;
use signed_note::{Note, StandardSigner, StandardVerifier, Verifier, VerifierList};

const ORIGIN: &str = "parley.local/record";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn tree(n: u64) -> MerkleLog {
    let mut log = MerkleLog::new();
    for i in 0..n {
        log.append(format!("entry {i}").as_bytes());
    }
    log
}

fn oracle_hash(h: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

/// A `cosignature/v1` verifier for `signed_note`, written here from the
/// C2SP text with the other Ed25519 implementation (ed25519-dalek 2): the
/// key id over 0x04, the 8-byte timestamp, the signed message.
struct CosignatureV1 {
    name: String,
    id: u32,
    key: ed25519_dalek_2::VerifyingKey,
}

impl CosignatureV1 {
    fn new(name: &str, key: [u8; 32]) -> Self {
        let mut typed = vec![0x04];
        typed.extend_from_slice(&key);
        CosignatureV1 {
            name: name.into(),
            id: signed_note::key_id(name, &typed),
            key: ed25519_dalek_2::VerifyingKey::from_bytes(&key).unwrap(),
        }
    }
}

impl Verifier for CosignatureV1 {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        if sig.len() != 72 {
            return false;
        }
        let time = u64::from_be_bytes(sig[..8].try_into().unwrap());
        let mut signed = format!("cosignature/v1\ntime {time}\n").into_bytes();
        signed.extend_from_slice(msg);
        let s = ed25519_dalek_2::Signature::from_slice(&sig[8..]).unwrap();
        use ed25519_dalek_2::Verifier as _;
        self.key.verify(&signed, &s).is_ok()
    }
}

#[test]
fn the_oracles_read_and_verify_a_cosigned_parley_checkpoint() {
    let log = tree(37);
    let signer = Signer::from_seed(ORIGIN, &[5; 32]).unwrap();
    let note = Checkpoint {
        origin: Origin::new(ORIGIN).unwrap(),
        size: 37,
        root: log.root(),
        time_us: 1_700_000_000_000_000,
    }
    .sign(&signer);
    let witness = Cosigner::from_seed("witness.blue.example", &[6; 32]).unwrap();
    let body = &note[..note.find("\n\n").unwrap() + 1];
    let cosigned = format!("{note}{}", witness.cosign(body, 1_700_000_123));

    let parsed = Note::from_bytes(cosigned.as_bytes()).expect("signed_note reads the note");
    let log_verifier = StandardVerifier::new(&signer.verifier_key().to_string())
        .expect("signed_note reads Parley's verifier key");
    let key = witness.cosigner_key();
    let cosigner = CosignatureV1::new("witness.blue.example", *key.key_bytes());
    assert_eq!(
        format!("{:08x}", cosigner.key_id()),
        key.to_string().split('+').nth(1).unwrap(),
        "the same key id for the cosigner key"
    );
    let (verified, unverified) = parsed
        .verify(&VerifierList::new(vec![
            Box::new(log_verifier.clone()),
            Box::new(cosigner),
        ]))
        .expect("both signatures verify");
    assert_eq!(verified.len(), 2);
    assert!(unverified.is_empty());
    // Only the log known: the cosignature is an unknown key, ignored.
    let (verified, unverified) = parsed
        .verify(&VerifierList::new(vec![Box::new(log_verifier)]))
        .unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 1));

    let cp = tlog_tiles::Checkpoint::from_bytes(parsed.text()).expect("tlog_tiles reads it");
    assert_eq!(cp.origin(), ORIGIN);
    assert_eq!(cp.size(), 37);
    assert_eq!(cp.hash(), &oracle_hash(&log.root()));
    assert_eq!(cp.extension(), "time 1700000000000000\n");
}

#[test]
fn tlog_tiles_checks_parleys_inclusion_and_consistency_proofs() {
    let log = tree(70);
    for size in 1..=70u64 {
        let root = oracle_hash(&log.root_at(size).unwrap());
        for index in (0..size).step_by(3) {
            let proof: Vec<_> = log
                .inclusion_proof(index, size)
                .unwrap()
                .iter()
                .map(oracle_hash)
                .collect();
            let leaf = oracle_hash(&log.leaf(index).unwrap());
            tlog_tiles::check_record(&proof, size, root, index, leaf)
                .unwrap_or_else(|e| panic!("inclusion of {index} in {size}: {e:?}"));
        }
        for old in 1..size {
            let proof: Vec<_> = log
                .consistency_proof(old, size)
                .unwrap()
                .iter()
                .map(oracle_hash)
                .collect();
            let old_root = oracle_hash(&log.root_at(old).unwrap());
            tlog_tiles::check_tree(&proof, size, root, old, old_root)
                .unwrap_or_else(|e| panic!("consistency {old} -> {size}: {e:?}"));
            // A proof for another old size fails with the oracle too.
            if old > 1 {
                let wrong = oracle_hash(&log.root_at(old - 1).unwrap());
                assert!(tlog_tiles::check_tree(&proof, size, root, old, wrong).is_err());
            }
        }
    }
}

/// A checkpoint written by tlog_tiles and signed by signed_note, with the
/// log's key made by ed25519-dalek 2 from `seed`: the note and the key.
fn oracle_note(seed: [u8; 32], size: u64, root: &Hash) -> (String, String) {
    let sk = ed25519_dalek_2::SigningKey::from_bytes(&seed);
    let vkey = signed_note::new_ed25519_verifier_key(ORIGIN, &sk.verifying_key());
    let mut public = vec![0x01];
    public.extend_from_slice(sk.verifying_key().as_bytes());
    let mut private = vec![0x01];
    private.extend_from_slice(&seed);
    let skey = format!(
        "PRIVATE+KEY+{ORIGIN}+{:08x}+{}",
        signed_note::key_id(ORIGIN, &public),
        B64.encode(private)
    );
    let text = tlog_tiles::Checkpoint::new(ORIGIN, size, oracle_hash(root), "time 42\n")
        .unwrap()
        .to_bytes();
    let mut note = Note::new(&text, &[]).unwrap();
    note.add_sigs(&[&StandardSigner::new(&skey).unwrap()])
        .unwrap();
    (String::from_utf8(note.to_bytes()).unwrap(), vkey)
}

#[test]
fn parley_accepts_notes_the_oracles_write() {
    let log = tree(12);
    let (note, vkey) = oracle_note([9; 32], 12, &log.root());
    let key = VerifierKey::parse(&vkey).expect("Parley reads signed_note's verifier key");
    let cp = SignedCheckpoint::parse_and_verify(&note, &key).expect("Parley verifies it");
    assert_eq!((cp.size, cp.root, cp.time_us), (12, log.root(), 42));

    // The witness cosigns it from a checkpoint of 7 with Parley's proof, and
    // refuses another history signed by the same oracle key.
    let held = Witnessed {
        size: 7,
        root: log.root_at(7).unwrap(),
    };
    let request = AddCheckpoint {
        old_size: 7,
        proof: log.consistency_proof(7, 12).unwrap(),
        note: note.clone(),
    };
    let decision = check_add_checkpoint(&request, |_| Some(&key), Some(&held)).unwrap();
    assert_eq!(decision.verdict, Ok(()));
    // The same first 7 entries, then another history.
    let mut other = tree(7);
    for i in 7..12 {
        other.append(format!("rewritten {i}").as_bytes());
    }
    let (forked, _) = oracle_note([9; 32], 12, &other.root());
    let mut fork = request;
    fork.note = forked;
    let decision = check_add_checkpoint(&fork, |_| Some(&key), Some(&held)).unwrap();
    assert_eq!(decision.verdict.unwrap_err().status(), 422);
    assert!(decision.evidence);
}

/// A `cosignature/v1` signer for `signed_note`, written here from the C2SP
/// text with ed25519-dalek 2, signing at a fixed time.
struct OracleCosigner {
    name: String,
    id: u32,
    key: ed25519_dalek_2::SigningKey,
    time: u64,
}

impl signed_note::Signer for OracleCosigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek_2::SignatureError> {
        use ed25519_dalek_2::Signer as _;
        let mut signed = format!("cosignature/v1\ntime {}\n", self.time).into_bytes();
        signed.extend_from_slice(msg);
        let mut out = self.time.to_be_bytes().to_vec();
        out.extend_from_slice(&self.key.sign(&signed).to_bytes());
        Ok(out)
    }
}

#[test]
fn parley_accepts_cosignatures_the_oracle_adds() {
    let log = tree(5);
    let (note, vkey) = oracle_note([3; 32], 5, &log.root());
    let key = ed25519_dalek_2::SigningKey::from_bytes(&[4; 32]);
    let name = "witness.oracle.example";
    let mut typed = vec![0x04];
    typed.extend_from_slice(key.verifying_key().as_bytes());
    let id = signed_note::key_id(name, &typed);
    let wkey = format!("{name}+{id:08x}+{}", B64.encode(&typed));
    let cosigner = OracleCosigner {
        name: name.into(),
        id,
        key,
        time: 1_800_000_000,
    };
    let mut cosigned = Note::from_bytes(note.as_bytes()).unwrap();
    cosigned.add_sigs(&[&cosigner]).unwrap();
    let cosigned = String::from_utf8(cosigned.to_bytes()).unwrap();

    let parley_key = CosignerKey::parse(&wkey).expect("Parley reads the cosigner's vkey");
    assert_eq!(parley_key.verify_in(&cosigned), Ok(Some(1_800_000_000)));
    let policy = Policy::parse(&format!("log {vkey}\nwitness o {wkey}\nquorum o\n")).unwrap();
    let accepted = policy.check(&cosigned).expect("the policy is met");
    assert_eq!(accepted.cosigned, vec![("o".to_string(), 1_800_000_000)]);
    // Without the cosignature the quorum is not met.
    assert!(matches!(
        policy.check(&note),
        Err(PolicyError::QuorumNotMet { .. })
    ));
}

#[test]
fn a_nodes_own_cosigner_witnesses_a_peers_log_as_the_oracle_reads_it() {
    // Blue's log on a line, cosigned by Red's node with the cosigner its
    // record key derives (a key of its own: never the note key's).
    let blue = Signer::from_seed("blue.node", &[8; 32]).unwrap();
    let red = Signer::from_seed("red.node", &[9; 32]).unwrap();
    let note = Checkpoint {
        origin: Origin::new("blue.node/lines/air").unwrap(),
        size: 37,
        root: tree(37).root(),
        time_us: 1_700_000_000_000_000,
    }
    .sign(&blue);
    let cosigner = red.cosigner();
    assert_eq!(cosigner.name(), "red.node");
    let key = cosigner.cosigner_key();
    assert_eq!(
        red.cosigner().cosigner_key(),
        key,
        "derived the same each time"
    );
    let body = &note[..note.find("\n\n").unwrap() + 1];
    let cosigned = format!("{note}{}", cosigner.cosign(body, 1_700_000_123));

    let parsed = Note::from_bytes(cosigned.as_bytes()).unwrap();
    let log = StandardVerifier::new(&blue.verifier_key().to_string()).unwrap();
    let witness = CosignatureV1::new("red.node", *key.key_bytes());
    let (verified, unverified) = parsed
        .verify(&VerifierList::new(vec![Box::new(log), Box::new(witness)]))
        .expect("both verify");
    assert_eq!((verified.len(), unverified.len()), (2, 0));
    // Red's note key does not verify the cosignature.
    let red_bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(red.verifier_key().to_string().rsplit('+').next().unwrap())
        .unwrap()[1..]
        .try_into()
        .unwrap();
    assert_ne!(&red_bytes, key.key_bytes());
    let wrong = CosignatureV1::new("red.node", red_bytes);
    let (verified, _) = parsed
        .verify(&VerifierList::new(vec![
            Box::new(StandardVerifier::new(&blue.verifier_key().to_string()).unwrap()),
            Box::new(wrong),
        ]))
        .unwrap();
    assert_eq!(verified.len(), 1, "only Blue's own signature");
}
