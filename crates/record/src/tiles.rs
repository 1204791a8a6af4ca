//! The record as C2SP tlog-tiles: tiles of height 8, their paths, and the
//! bytes of a hash tile, so that standard tlog clients can follow the log.
//!
//! A tile at level `L`, index `N` and width `W` (1 to 256) is the
//! concatenation of the `W` hashes of tree level `8L` (perfect subtrees of
//! 2^(8L) leaves) whose indices are `256N ..= 256N + W - 1`. Its path is
//! `tile/<L>/<N>` for a full tile and `tile/<L>/<N>.p/<W>` for a partial
//! one, `N` written in groups of three digits, each but the last prefixed
//! with `x` (`1234067` is `x001/x234/067`). Entry bundles use the level
//! `entries`.

use crate::tree::{MerkleLog, TreeError};

/// Hashes a full tile holds (tiles of height 8).
pub const TILE_WIDTH: u64 = 256;

/// A tile as its path names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilePath {
    /// The tile's level, `None` for an entry bundle.
    pub level: Option<u8>,
    /// Its index within its level.
    pub index: u64,
    /// How many hashes (or entries) it holds: 256 for a full tile.
    pub width: u64,
}

/// What is wrong with a tile path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("tile path {path:?}: {problem}")]
pub struct TilePathError {
    /// The path.
    pub path: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl TilePath {
    /// Reads a path below `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`.
    pub fn parse(path: &str) -> Result<TilePath, TilePathError> {
        let bad = |problem| TilePathError {
            path: path.to_owned(),
            problem,
        };
        let (path_part, width) = match path.split_once(".p/") {
            Some((p, w)) => {
                let w: u64 = canonical(w).ok_or(bad("the width is not a decimal number"))?;
                if !(1..TILE_WIDTH).contains(&w) {
                    return Err(bad("a partial tile's width is 1 to 255"));
                }
                (p, w)
            }
            None => (path, TILE_WIDTH),
        };
        let (level, index) = path_part
            .split_once('/')
            .ok_or(bad("expected <level>/<index>"))?;
        let level = match level {
            "entries" => None,
            l => Some(
                canonical(l)
                    .filter(|&l| l <= 63)
                    .ok_or(bad("the level is 0 to 63 or `entries`"))? as u8,
            ),
        };
        let groups: Vec<&str> = index.split('/').collect();
        let mut n: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let digits = if last {
                *g
            } else {
                g.strip_prefix('x')
                    .ok_or(bad("every index group but the last starts with x"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index groups are three digits"));
            }
            n = n
                .checked_mul(1000)
                .and_then(|n| n.checked_add(digits.parse::<u64>().expect("three digits")))
                .ok_or(bad("the index is too large"))?;
        }
        let tile = TilePath {
            level,
            index: n,
            width,
        };
        if tile.path() != path {
            return Err(bad("not the canonical path of a tile"));
        }
        Ok(tile)
    }

    /// The path below `tile/`.
    pub fn path(&self) -> String {
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(format!("{:03}", n % 1000));
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        groups.reverse();
        let last = groups.len() - 1;
        let index: Vec<String> = groups
            .into_iter()
            .enumerate()
            .map(|(i, g)| if i < last { format!("x{g}") } else { g })
            .collect();
        let level = self.level.map_or("entries".to_string(), |l| l.to_string());
        let mut path = format!("{level}/{}", index.join("/"));
        if self.width < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// The leaves an entry bundle covers, `start..end`.
    pub fn leaves(&self) -> std::ops::Range<u64> {
        let start = self.index.saturating_mul(TILE_WIDTH);
        start..start.saturating_add(self.width)
    }

    /// The hash tile's bytes from `log`: `width` hashes of 32 bytes; an
    /// error when the log does not hold them all yet.
    pub fn hashes(&self, log: &MerkleLog) -> Result<Vec<u8>, TreeError> {
        let level = u32::from(self.level.unwrap_or(0)) * 8;
        let mut out = Vec::with_capacity(self.width as usize * 32);
        for i in self.leaves() {
            out.extend_from_slice(&log.subtree_hash(level, i)?.0);
        }
        Ok(out)
    }
}

fn canonical(s: &str) -> Option<u64> {
    crate::checkpoint::parse_decimal(s)
}
