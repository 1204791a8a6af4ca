//! Hex, SHA-256 and random ids: the small helpers every other module uses.
//! Depends on nothing else in the crate.

use sha2::{Digest, Sha256};

/// Hex-encoded SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A new leaf salt: 128 random bits, hex. Enough that an entry's leaf hash
/// cannot be matched against guesses of its text by anyone without the salt.
pub(crate) fn new_salt() -> String {
    let mut bits = [0u8; 16];
    getrandom::fill(&mut bits).expect("the system's randomness");
    hex(&bits)
}

/// A new id: `prefix`, a dash and 64 random bits in hex. Ids say nothing of
/// where their entry sits in the journal, so a party cannot count the others'
/// traffic by the gaps between the ids it sees.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bits = [0u8; 8];
    getrandom::fill(&mut bits).expect("the system's randomness");
    format!("{prefix}-{}", hex(&bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }

    #[test]
    fn ids_are_random_and_say_their_kind() {
        let (a, b) = (new_id("act"), new_id("act"));
        assert_ne!(a, b);
        assert!(a.starts_with("act-") && a.len() == 4 + 16, "{a}");
    }
}
