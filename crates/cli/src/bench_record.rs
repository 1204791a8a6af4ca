//! `parley bench record`: the tamper-evident record's Merkle log, measured.
//!
//! Appends `--entries` synthetic entries of 200 pseudo-random bytes each
//! (making and hashing each entry counts in the append rate), then times
//! 10,000 inclusion proofs and 10,000 consistency proofs at the final size, at
//! random indices and old sizes, one by one (medians; `proof_us` is the slower
//! of the two). Last, it plays an offline verifier of a whole line's record:
//! given the first `--verify-entries` entries' bytes and a signed checkpoint at
//! that size, it checks the signature and recomputes every leaf hash and the
//! root from scratch.

use crate::bench::{percentile, Rng};
use anyhow::{ensure, Context, Result};
use parley_record::{verify_entries, Checkpoint, MerkleLog, Origin, SignedCheckpoint, Signer};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Entries appended to the log.
    #[arg(long, default_value_t = 10_000_000)]
    entries: u64,
    /// Entries of the export the offline verifier checks (at most `--entries`).
    #[arg(long, default_value_t = 1_000_000)]
    verify_entries: u64,
}

/// Bytes an entry.
const ENTRY_BYTES: usize = 200;
/// Proofs of each kind timed.
const PROOFS: usize = 10_000;

/// Entry `i`: 200 bytes that depend only on `i`.
fn entry(i: u64, out: &mut [u8; ENTRY_BYTES]) {
    let mut rng = Rng::new(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0DEC_0DED);
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes()[..chunk.len()]);
    }
}

fn median_us(mut micros: Vec<f64>) -> f64 {
    micros.sort_by(f64::total_cmp);
    percentile(&micros, 0.5)
}

pub fn run(args: Args) -> Result<()> {
    let n = args.entries;
    ensure!(n >= 2, "--entries must be at least 2");
    let verify_n = args.verify_entries.min(n);

    let mut log = MerkleLog::new();
    let mut buf = [0u8; ENTRY_BYTES];
    let t = Instant::now();
    for i in 0..n {
        entry(i, &mut buf);
        log.append(&buf);
        if (i + 1) % 1_000_000 == 0 {
            eprintln!(
                "appended {} entries ({:.0}/s)",
                i + 1,
                (i + 1) as f64 / t.elapsed().as_secs_f64()
            );
        }
    }
    let append_per_s = n as f64 / t.elapsed().as_secs_f64();
    let bytes_per_entry = log.heap_bytes() as f64 / n as f64;
    eprintln!("append: {append_per_s:.0}/s, {bytes_per_entry:.1} bytes an entry");

    let mut rng = Rng::new(7);
    let mut inclusion = Vec::with_capacity(PROOFS);
    let mut hashes = 0usize;
    for _ in 0..PROOFS {
        let index = rng.next_u64() % n;
        let t = Instant::now();
        let proof = log.inclusion_proof(index, n)?;
        inclusion.push(t.elapsed().as_secs_f64() * 1e6);
        hashes += std::hint::black_box(proof).len();
    }
    let mut consistency = Vec::with_capacity(PROOFS);
    for _ in 0..PROOFS {
        let old = 1 + rng.next_u64() % (n - 1);
        let t = Instant::now();
        let proof = log.consistency_proof(old, n)?;
        consistency.push(t.elapsed().as_secs_f64() * 1e6);
        hashes += std::hint::black_box(proof).len();
    }
    let (inclusion_us, consistency_us) = (median_us(inclusion), median_us(consistency));
    let proof_us = inclusion_us.max(consistency_us);
    eprintln!(
        "proofs at {n} entries: inclusion median {inclusion_us:.2} µs, consistency median {consistency_us:.2} µs ({:.1} hashes a proof)",
        hashes as f64 / (2 * PROOFS) as f64
    );

    // The offline verifier's input: the export's bytes and a signed checkpoint.
    let signer = Signer::from_seed("parley.example/bench", &[9; 32])?;
    let checkpoint = Checkpoint {
        origin: Origin::new("parley.example/line/bench")?,
        size: verify_n,
        root: log.root_at(verify_n)?,
        time_us: 1_763_779_200_000_000,
    };
    let note = checkpoint.sign(&signer);
    let key = signer.verifier_key();
    drop(log);
    let mut export = vec![0u8; verify_n as usize * ENTRY_BYTES];
    for (i, chunk) in export.chunks_exact_mut(ENTRY_BYTES).enumerate() {
        entry(i as u64, chunk.try_into().expect("200 bytes"));
    }
    let t = Instant::now();
    let seen = SignedCheckpoint::parse_and_verify(&note, &key).context("the signed checkpoint")?;
    verify_entries(export.chunks_exact(ENTRY_BYTES), &seen).context("the export")?;
    let verify_s = t.elapsed().as_secs_f64();
    eprintln!(
        "offline verification of {verify_n} entries against a signed checkpoint: {verify_s:.3} s"
    );

    println!(
        "bench record append_per_s={append_per_s:.0} proof_us={proof_us:.2} verify_1m_s={verify_s:.3} inclusion_us={inclusion_us:.2} consistency_us={consistency_us:.2} bytes_per_entry={bytes_per_entry:.1} entries={n} verify_entries={verify_n}"
    );
    Ok(())
}
