//! The Merkle log against two independent references: the `ct-merkle` crate
//! (another author's RFC 6962 tree) and the recursive definitions of RFC 9162
//! §2.1 written out plainly below; plus the Certificate Transparency test
//! vectors and tampering cases.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use parley_record::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleLog, ProofError,
    EMPTY_ROOT,
};
use sha2::Sha256;

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i} {}", "x".repeat((i % 7) as usize)).into_bytes()
}

fn log_of(entries: &[Vec<u8>]) -> MerkleLog {
    let mut log = MerkleLog::new();
    for e in entries {
        log.append(e);
    }
    log
}

/// RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 word for word, on leaf hashes.
mod rfc {
    use super::*;

    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => EMPTY_ROOT,
            1 => d[0],
            n => node_hash(&mth(&d[..k(n)]), &mth(&d[k(n)..])),
        }
    }

    pub fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
        let n = d.len();
        if n == 1 {
            return vec![];
        }
        let k = k(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    pub fn proof(m: usize, d: &[Hash]) -> Vec<Hash> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = k(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }
}

fn ct_hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| Hash(c.try_into().unwrap()))
        .collect()
}

#[test]
fn agrees_with_ct_merkle_for_every_index_and_size_pair_up_to_64() {
    let entries: Vec<Vec<u8>> = (0..64).map(entry).collect();
    let log = log_of(&entries);
    let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let (mut roots, mut inclusions, mut consistencies) = (0, 0, 0);
    for (n, e) in entries.iter().enumerate() {
        ct.push(e.clone());
        let size = n as u64 + 1;
        let root: [u8; 32] = ct.root().as_bytes().as_slice().try_into().unwrap();
        assert_eq!(log.root_at(size).unwrap(), Hash(root), "root at {size}");
        roots += 1;
        for index in 0..size {
            let ours = log.inclusion_proof(index, size).unwrap();
            let theirs = ct_hashes(ct.prove_inclusion(index as usize).as_bytes());
            assert_eq!(ours, theirs, "inclusion of {index} at {size}");
            inclusions += 1;
        }
        for old in 1..=size {
            let ours = log.consistency_proof(old, size).unwrap();
            let theirs = ct_hashes(ct.prove_consistency((size - old) as usize).as_bytes());
            assert_eq!(ours, theirs, "consistency {old} -> {size}");
            consistencies += 1;
        }
    }
    assert_eq!((roots, inclusions, consistencies), (64, 2080, 2080));
}

#[test]
fn agrees_with_ct_merkle_at_larger_sizes() {
    let n = 5_000u64;
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    let log = log_of(&entries);
    let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound
    };
    let sizes: Vec<u64> = vec![
        65, 127, 128, 129, 1000, 1023, 1024, 1025, 4095, 4096, 4097, n,
    ];
    let mut pushed = 0;
    for size in sizes {
        while pushed < size {
            ct.push(entries[pushed as usize].clone());
            pushed += 1;
        }
        let root: [u8; 32] = ct.root().as_bytes().as_slice().try_into().unwrap();
        assert_eq!(log.root_at(size).unwrap(), Hash(root), "root at {size}");
        for _ in 0..200 {
            let index = next(size);
            let theirs = ct_hashes(ct.prove_inclusion(index as usize).as_bytes());
            assert_eq!(log.inclusion_proof(index, size).unwrap(), theirs);
            let old = 1 + next(size);
            let theirs = ct_hashes(ct.prove_consistency((size - old) as usize).as_bytes());
            assert_eq!(log.consistency_proof(old, size).unwrap(), theirs);
        }
    }
}

#[test]
fn agrees_with_the_rfc_definitions_and_verifies_everything_up_to_70() {
    let entries: Vec<Vec<u8>> = (0..70).map(entry).collect();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let log = log_of(&entries);
    assert_eq!(log.root_at(0).unwrap(), EMPTY_ROOT);
    for size in 1..=70usize {
        let d = &leaves[..size];
        let root = rfc::mth(d);
        assert_eq!(log.root_at(size as u64).unwrap(), root);
        for (m, leaf) in d.iter().enumerate() {
            let proof = log.inclusion_proof(m as u64, size as u64).unwrap();
            assert_eq!(proof, rfc::path(m, d), "PATH({m}, D[{size}])");
            verify_inclusion(leaf, m as u64, size as u64, &proof, &root).unwrap();
        }
        for old in 1..size {
            let proof = log.consistency_proof(old as u64, size as u64).unwrap();
            assert_eq!(proof, rfc::proof(old, d), "PROOF({old}, D[{size}])");
            let old_root = rfc::mth(&leaves[..old]);
            verify_consistency(old as u64, size as u64, &old_root, &root, &proof).unwrap();
        }
    }
    assert_eq!(log.root(), rfc::mth(&leaves));
}

fn h(hex: &str) -> Hash {
    Hash::from_hex(hex).unwrap()
}

/// The Certificate Transparency reference leaves, roots and proofs, as in
/// transparency-dev/merkle's `testonly/constants.go` (from the C++ and Go CT
/// implementations' merkle tree tests).
mod ct_vectors {
    pub const LEAVES: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    /// The root after 1, 2, ..., 8 leaves.
    pub const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
}

#[test]
fn certificate_transparency_vectors() {
    let log = log_of(&ct_vectors::LEAVES.map(<[u8]>::to_vec));
    assert_eq!(
        EMPTY_ROOT,
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    for (n, root) in ct_vectors::ROOTS.iter().enumerate() {
        assert_eq!(
            log.root_at(n as u64 + 1).unwrap(),
            h(root),
            "root at {}",
            n + 1
        );
    }
    // The 8-leaf root is also the RFC's tree of these leaves, built by hand.
    let l: Vec<Hash> = ct_vectors::LEAVES.iter().map(|e| leaf_hash(e)).collect();
    let n = |a, b| node_hash(&a, &b);
    let by_hand = n(
        n(n(l[0], l[1]), n(l[2], l[3])),
        n(n(l[4], l[5]), n(l[6], l[7])),
    );
    assert_eq!(by_hand, h(ct_vectors::ROOTS[7]));

    let inclusion = [
        (
            0,
            8,
            vec![
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            vec![
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (index, size, proof) in inclusion {
        let proof: Vec<Hash> = proof.into_iter().map(h).collect();
        assert_eq!(log.inclusion_proof(index, size).unwrap(), proof);
        let root = h(ct_vectors::ROOTS[size as usize - 1]);
        verify_inclusion(&l[index as usize], index, size, &proof, &root).unwrap();
    }
    let consistency = [
        (
            2,
            8,
            vec![
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            vec![
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            vec![
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, new, proof) in consistency {
        let proof: Vec<Hash> = proof.into_iter().map(h).collect();
        assert_eq!(log.consistency_proof(old, new).unwrap(), proof);
        let (r1, r2) = (
            h(ct_vectors::ROOTS[old as usize - 1]),
            h(ct_vectors::ROOTS[new as usize - 1]),
        );
        verify_consistency(old, new, &r1, &r2, &proof).unwrap();
    }
}

#[test]
fn edge_cases_of_the_verifiers_say_what_failed() {
    let entries: Vec<Vec<u8>> = (0..8).map(entry).collect();
    let log = log_of(&entries);
    let (r4, r8) = (log.root_at(4).unwrap(), log.root());
    let leaf = leaf_hash(&entries[3]);
    let proof = log.inclusion_proof(3, 8).unwrap();
    assert_eq!(
        verify_inclusion(&leaf, 8, 8, &proof, &r8),
        Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        verify_inclusion(&leaf, 3, 8, &proof[..2], &r8),
        Err(ProofError::TooShort { hashes: 2 })
    );
    let mut long = proof.clone();
    long.push(r4);
    assert_eq!(
        verify_inclusion(&leaf, 3, 8, &long, &r8),
        Err(ProofError::TooLong { hashes: 4 })
    );
    assert!(matches!(
        verify_inclusion(&leaf, 2, 8, &proof, &r8),
        Err(ProofError::RootMismatch { .. })
    ));
    assert_eq!(
        verify_consistency(4, 8, &r4, &r8, &[]),
        Err(ProofError::EmptyProof {
            old_size: 4,
            new_size: 8
        })
    );
    assert_eq!(verify_consistency(4, 4, &r4, &r4, &[]), Ok(()));
    assert!(matches!(
        verify_consistency(4, 4, &r4, &r8, &[]),
        Err(ProofError::SameSizeDifferentRoots { size: 4, .. })
    ));
    assert!(matches!(
        verify_consistency(4, 4, &r4, &r4, &[r4]),
        Err(ProofError::ProofNotEmpty { hashes: 1, .. })
    ));
    assert_eq!(verify_consistency(0, 8, &EMPTY_ROOT, &r8, &[]), Ok(()));
    assert!(matches!(
        verify_consistency(0, 8, &r4, &r8, &[]),
        Err(ProofError::NotEmptyRoot { .. })
    ));
    assert!(matches!(
        verify_consistency(8, 4, &r8, &r4, &[]),
        Err(ProofError::OldLargerThanNew { .. })
    ));
    let proof = log.consistency_proof(3, 8).unwrap();
    let r3 = log.root_at(3).unwrap();
    assert!(matches!(
        verify_consistency(3, 8, &r4, &r8, &proof),
        Err(ProofError::OldRootMismatch { .. })
    ));
    assert!(matches!(
        verify_consistency(3, 8, &r3, &r4, &proof),
        Err(ProofError::NewRootMismatch { .. })
    ));
    assert!(log.inclusion_proof(8, 8).is_err());
    assert!(log.root_at(9).is_err());
    assert!(log.consistency_proof(5, 4).is_err());
}

/// The tree sizes and the indices the tampering tests look at.
const N: u64 = 37;

fn tampered(change: impl Fn(&mut Vec<Vec<u8>>)) -> (MerkleLog, MerkleLog) {
    let entries: Vec<Vec<u8>> = (0..N).map(entry).collect();
    let mut changed = entries.clone();
    change(&mut changed);
    (log_of(&entries), log_of(&changed))
}

/// No proof from the tampered log verifies against the honest log's roots.
fn assert_detected(honest: &MerkleLog, tampered: &MerkleLog, first_changed: u64) {
    let size = honest.size().min(tampered.size());
    // Consistency: from any honest size covering the change to the tampered log's end.
    for old in (first_changed + 1)..=honest.size() {
        if old > tampered.size() {
            break;
        }
        let proof = tampered.consistency_proof(old, tampered.size()).unwrap();
        assert!(
            verify_consistency(
                old,
                tampered.size(),
                &honest.root_at(old).unwrap(),
                &tampered.root(),
                &proof
            )
            .is_err(),
            "tampered log passed as an extension of the honest one at size {old}"
        );
    }
    // Inclusion: the tampered log's proofs against the honest root.
    let root = honest.root_at(size).unwrap();
    let mut failures = 0;
    for index in 0..size {
        let proof = tampered.inclusion_proof(index, size).unwrap();
        let leaf = tampered.leaf(index).unwrap();
        if verify_inclusion(&leaf, index, size, &proof, &root).is_err() {
            failures += 1;
        }
    }
    assert_eq!(failures, size, "every tampered inclusion proof fails");
}

#[test]
fn a_changed_leaf_is_detected() {
    let (honest, bad) = tampered(|e| e[10][0] ^= 1);
    assert_detected(&honest, &bad, 10);
}

#[test]
fn a_removed_leaf_is_detected() {
    let (honest, bad) = tampered(|e| {
        e.remove(20);
    });
    assert_detected(&honest, &bad, 20);
}

#[test]
fn reordered_leaves_are_detected() {
    let (honest, bad) = tampered(|e| e.swap(4, 5));
    assert_detected(&honest, &bad, 4);
}

#[test]
fn an_inserted_leaf_is_detected() {
    let (honest, bad) = tampered(|e| e.insert(30, b"forged".to_vec()));
    assert_detected(&honest, &bad, 30);
}

#[test]
fn an_honest_leaf_does_not_verify_at_another_index_or_with_a_flipped_proof() {
    let entries: Vec<Vec<u8>> = (0..N).map(entry).collect();
    let log = log_of(&entries);
    let root = log.root();
    for index in 0..N {
        let proof = log.inclusion_proof(index, N).unwrap();
        let leaf = leaf_hash(&entries[index as usize]);
        verify_inclusion(&leaf, index, N, &proof, &root).unwrap();
        let other = (index + 1) % N;
        assert!(verify_inclusion(&leaf, other, N, &proof, &root).is_err());
        for i in 0..proof.len() {
            let mut flipped = proof.clone();
            flipped[i].0[17] ^= 0x40;
            assert!(verify_inclusion(&leaf, index, N, &flipped, &root).is_err());
        }
    }
}

#[test]
fn logs_larger_than_one_storage_chunk_agree_with_streamed_roots() {
    // The log stores hashes in chunks of 65,536; cross a few chunk boundaries
    // at the leaf level and at level 4.
    let n: u64 = 3 * 65_536 + 1_000;
    let mut log = MerkleLog::new();
    let mut frontier = parley_record::Frontier::new();
    let mut roots = std::collections::BTreeMap::new();
    let checked = [65_535, 65_536, 65_537, 131_072, 131_073, 196_608, n];
    for i in 0..n {
        let e = i.to_le_bytes();
        log.append(&e);
        frontier.push(&e);
        if checked.contains(&(i + 1)) {
            roots.insert(i + 1, frontier.root());
        }
    }
    for (&size, root) in &roots {
        assert_eq!(log.root_at(size).unwrap(), *root, "root at {size}");
        for index in [0, 65_535, 65_536, size / 2, size - 1]
            .into_iter()
            .filter(|&i| i < size)
        {
            let proof = log.inclusion_proof(index, size).unwrap();
            let leaf = leaf_hash(&index.to_le_bytes());
            assert_eq!(log.leaf(index), Some(leaf));
            verify_inclusion(&leaf, index, size, &proof, root).unwrap();
        }
        for (&old, old_root) in roots.range(..=size) {
            let proof = log.consistency_proof(old, size).unwrap();
            verify_consistency(old, size, old_root, root, &proof).unwrap();
        }
    }
}
