//! Property tests over random sequences of appends: every proof at every
//! earlier size verifies, and a proof with one flipped bit does not.

use parley_record::{
    leaf_hash, verify_consistency, verify_inclusion, Hash, MerkleLog, CHUNK_HASHES, DENSE_LEVEL,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Append this many entries.
    Append(u16),
    /// Prove and verify around the current size, picking sizes and indices
    /// from these fractions.
    Prove(u32, u32, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u16..300).prop_map(Op::Append),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c)| Op::Prove(a, b, c)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn proofs_verify_and_flipped_proofs_do_not(ops in prop::collection::vec(op(), 1..30)) {
        let mut log = MerkleLog::new();
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for op in ops {
            match op {
                Op::Append(n) => {
                    for _ in 0..n {
                        let e = (entries.len() as u64).to_le_bytes().to_vec();
                        prop_assert_eq!(log.append(&e), entries.len() as u64);
                        entries.push(e);
                    }
                }
                Op::Prove(a, b, c) => {
                    let size = log.size();
                    if size == 0 {
                        continue;
                    }
                    let new = 1 + a as u64 % size;
                    let old = b as u64 % (new + 1);
                    let index = c as u64 % new;
                    let (old_root, new_root) = (log.root_at(old).unwrap(), log.root_at(new).unwrap());
                    let leaf = leaf_hash(&entries[index as usize]);
                    let proof = log.inclusion_proof(index, new).unwrap();
                    prop_assert!(verify_inclusion(&leaf, index, new, &proof, &new_root).is_ok());
                    for i in 0..proof.len() {
                        let mut bad = proof.clone();
                        bad[i].0[c as usize % 32] ^= 1 << (a % 8);
                        prop_assert!(verify_inclusion(&leaf, index, new, &bad, &new_root).is_err());
                    }
                    let proof = log.consistency_proof(old, new).unwrap();
                    prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());
                    for i in 0..proof.len() {
                        let mut bad = proof.clone();
                        bad[i].0[b as usize % 32] ^= 1 << (c % 8);
                        prop_assert!(verify_consistency(old, new, &old_root, &new_root, &bad).is_err());
                    }
                    // Every index at this size and every older size (a stride
                    // of them in large trees, to keep the test quick).
                    let stride = (new / 256).max(1) as usize;
                    for index in (0..new).step_by(stride) {
                        let leaf = leaf_hash(&entries[index as usize]);
                        let proof = log.inclusion_proof(index, new).unwrap();
                        prop_assert!(verify_inclusion(&leaf, index, new, &proof, &new_root).is_ok());
                    }
                    for old in (0..=new).step_by(stride) {
                        let proof = log.consistency_proof(old, new).unwrap();
                        let old_root = log.root_at(old).unwrap();
                        prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());
                    }
                }
            }
        }
        prop_assert_eq!(log.root(), log.root_at(log.size()).unwrap());
    }
}

/// A clone shares the log's chunks (a snapshot's copy): appending to either
/// afterwards must leave the other as it was, across chunk boundaries.
#[test]
fn a_clone_and_its_log_grow_apart() {
    let mut log = MerkleLog::new();
    for i in 0..70_000u32 {
        log.append(&i.to_be_bytes());
    }
    let copy = log.clone();
    let root = copy.root();
    for i in 70_000..140_000u32 {
        log.append(&i.to_be_bytes());
    }
    assert_eq!(copy.size(), 70_000);
    assert_eq!(copy.root(), root);
    assert_eq!(log.root_at(70_000).unwrap(), root);
    let mut fresh = MerkleLog::new();
    for i in 0..140_000u32 {
        fresh.append(&i.to_be_bytes());
    }
    assert_eq!(log.root(), fresh.root());
    let mut grown = copy.clone();
    grown.append(b"other");
    assert_eq!(copy.root(), root);
    assert_ne!(grown.root(), log.root_at(70_001).unwrap());
}

/// A log built from all its leaves at once (the perfect subtrees hashed on
/// several threads), or from its leaves and the subtrees' hashes it saved,
/// answers every root and proof as the log appended leaf by leaf, and grows
/// on alike.
#[test]
fn a_log_built_from_its_leaves_at_once_is_the_log_appended() {
    let cases = [
        (0, 2),
        (1, 2),
        (15, 2),
        (16, 1),
        (17, 2),
        (33, 3),
        (1_000, 2),
        (70_001, 2),
    ];
    for (n, threads) in cases {
        let leaves: Vec<Hash> = (0..n as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut one_by_one = MerkleLog::new();
        for &leaf in &leaves {
            one_by_one.append_leaf_hash(leaf);
        }
        let leaf_bytes: Vec<u8> = leaves.iter().flat_map(|h| h.0).collect();
        assert_eq!(one_by_one.level_bytes(0), leaf_bytes, "n {n}");
        let subtree_bytes = one_by_one.level_bytes(DENSE_LEVEL);
        let subtrees = Hash::slice_of(&subtree_bytes).expect("whole hashes");
        assert_eq!(subtrees.len(), n >> DENSE_LEVEL, "n {n}");
        let chunks =
            || -> Vec<Vec<Hash>> { leaves.chunks(CHUNK_HASHES).map(<[Hash]>::to_vec).collect() };
        if let Some((_, short)) = subtrees.split_last() {
            let built = MerkleLog::from_leaf_chunks(chunks(), short);
            assert!(built.is_none(), "a subtree short is refused (n {n})");
        }
        if n > CHUNK_HASHES {
            let mut uneven = chunks();
            let moved = uneven[0].pop().unwrap();
            uneven[1].insert(0, moved);
            let built = MerkleLog::from_leaf_chunks(uneven, subtrees);
            assert!(built.is_none(), "a chunk short is refused (n {n})");
        }
        let built = [
            MerkleLog::from_leaf_hashes(&leaves, threads),
            MerkleLog::from_leaf_chunks(chunks(), subtrees).expect("one a group"),
        ];
        for mut at_once in built {
            assert_eq!(at_once.size(), n as u64);
            assert_eq!(at_once.level_bytes(DENSE_LEVEL), subtree_bytes, "n {n}");
            for size in (1..=n as u64).step_by((n / 40).max(1)) {
                assert_eq!(at_once.root_at(size), one_by_one.root_at(size), "n {n}");
                let index = size / 3;
                assert_eq!(
                    at_once.inclusion_proof(index, size),
                    one_by_one.inclusion_proof(index, size)
                );
                assert_eq!(
                    at_once.consistency_proof(size / 2 + 1, size),
                    one_by_one.consistency_proof(size / 2 + 1, size)
                );
            }
            let mut grown = one_by_one.clone();
            for i in 0..40u64 {
                let leaf = leaf_hash(&(1_000_000 + i).to_be_bytes());
                assert_eq!(at_once.append_leaf_hash(leaf), grown.append_leaf_hash(leaf));
                assert_eq!(at_once.root(), grown.root(), "n {n} + {i}");
            }
        }
    }
}
