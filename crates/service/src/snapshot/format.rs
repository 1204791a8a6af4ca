//! How a snapshot is kept as bytes: [`encode`] writes this build's format,
//! [`decode`] reads it as a stream (and the formats of earlier builds
//! whole). What a snapshot is for, and when one is taken or used: the
//! parent module.

use super::lap;
use crate::journal::StoredSnapshot;
use crate::state::{on_every_core, Image};
use parley_record::{Hash, MerkleLog, CHUNK_HASHES};
use std::io::Read;

/// Largest image read back, bytes: a snapshot that claims more is refused
/// rather than allowed to take the memory.
const MAX_IMAGE_BYTES: usize = 16 << 30;

/// How a snapshot of an earlier build that carries the record's leaves
/// begins (its retired activities in its JSON); one without (as still
/// earlier builds saved them) is the compressed image alone.
const WITH_LEAVES: &[u8] = b"parley-snapshot+leaves\n";

/// How a snapshot of an earlier build begins that carries its retired
/// activities in a section of their own, then the record's leaves (its
/// image deflated).
const WITH_RETIRED: &[u8] = b"parley-snapshot+retired+leaves\n";

/// How a snapshot begins that also carries the record's subtree hashes,
/// its image in zstd frames, and a checksum over it all.
const WITH_SUBTREES: &[u8] = b"parley-snapshot+zstd+retired+leaves+subtrees+crc32\n";

/// A snapshot as the store keeps it: [`WITH_SUBTREES`]; the compressed
/// image's length (8 bytes, big-endian) and the image; the retired
/// activities' length and pairs ([`crate::state::Image::retired_pair_bytes`],
/// as they are: a start reads them without parsing); the leaves' length and
/// the record's leaf hashes (32 bytes each: a hash does not compress); the
/// hashes of the record's perfect subtrees of 2^[`DENSE_LEVEL`](parley_record::DENSE_LEVEL) leaves (a
/// start hashes only the few levels above them, not ten million leaves);
/// then the CRC-32 (big-endian) of everything after the header, which
/// catches a damaged snapshot: its leaves and subtrees are not hashed
/// against each other again. The image is compressed in pieces of
/// [`PIECE`] bytes, each a zstd frame after its length (8 bytes,
/// big-endian), so that a start decompresses them on every core.
pub(crate) fn encode(json: &[u8], retired: &[u8], leaves: &[u8], subtrees: &[u8]) -> Vec<u8> {
    let pieces = on_every_core(json.chunks(PIECE).collect(), |piece| {
        zstd::bulk::compress(piece, 1).expect("zstd compresses into a buffer of its own bound")
    });
    let image_len: usize = pieces.iter().map(|p| 8 + p.len()).sum();
    let mut out = Vec::with_capacity(
        WITH_SUBTREES.len() + 24 + image_len + retired.len() + leaves.len() + subtrees.len() + 4,
    );
    out.extend_from_slice(WITH_SUBTREES);
    out.extend_from_slice(&(image_len as u64).to_be_bytes());
    for p in pieces {
        out.extend_from_slice(&(p.len() as u64).to_be_bytes());
        out.extend_from_slice(&p);
    }
    for section in [retired, leaves] {
        out.extend_from_slice(&(section.len() as u64).to_be_bytes());
        out.extend_from_slice(section);
    }
    out.extend_from_slice(subtrees);
    let crc = crc32fast::hash(&out[WITH_SUBTREES.len()..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The first `len` bytes of `rest` after its 8-byte big-endian length, and
/// what follows them.
fn section<'a>(rest: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    let len = rest
        .get(..8)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(|| format!("it is cut short (before its {what})"))?;
    let rest = &rest[8..];
    if len > rest.len() as u64 {
        return Err(format!("it is cut short (its {what} is {len} bytes)"));
    }
    Ok(rest.split_at(len as usize))
}

/// Bytes of an image compressed apart (see [`encode`]).
const PIECE: usize = 4 << 20;

/// The pieces an image is compressed in, each after its length (8 bytes,
/// big-endian).
fn pieces_of(mut image: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut pieces = Vec::new();
    while !image.is_empty() {
        let len = image
            .get(..8)
            .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
            .filter(|&len| len <= image.len() as u64 - 8)
            .ok_or("it is cut short (a piece of its image)")?;
        pieces.push(&image[8..8 + len as usize]);
        image = &image[8 + len as usize..];
    }
    Ok(pieces)
}

/// Zlib streams (as earlier builds compressed an image), each inflated on
/// every core, joined.
fn inflate_joined(pieces: Vec<&[u8]>) -> Result<Vec<u8>, String> {
    let inflated = on_every_core(pieces, |p| {
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(p, PIECE)
            .map_err(|e| format!("it does not decompress ({:?})", e.status))
    });
    let mut json = Vec::new();
    for piece in inflated {
        json.extend_from_slice(&piece?);
    }
    Ok(json)
}

/// Zstd frames that say their size, decompressed on every core straight
/// into their places in one buffer (no piece is copied again).
fn unzstd_into_one(pieces: &[&[u8]]) -> Result<Vec<u8>, String> {
    let sizes = pieces
        .iter()
        .map(|p| match zstd::zstd_safe::get_frame_content_size(p) {
            Ok(Some(n)) if n <= PIECE as u64 => Ok(n as usize),
            _ => Err("it does not decompress (a piece of its image has no size)".to_string()),
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let mut json = vec![0; sizes.iter().sum()];
    let mut places = Vec::with_capacity(pieces.len());
    let mut rest = json.as_mut_slice();
    for (&piece, &size) in pieces.iter().zip(&sizes) {
        let (place, after) = rest.split_at_mut(size);
        places.push((piece, place));
        rest = after;
    }
    let done = on_every_core(places, |(piece, place)| {
        let wants = place.len();
        zstd::bulk::Decompressor::new()
            .and_then(|mut d| d.decompress_to_buffer(piece, place))
            .map_err(|e| e.to_string())
            .and_then(|n| {
                (n == wants)
                    .then_some(())
                    .ok_or(format!("{n} bytes, not {wants}"))
            })
            .map_err(|e| format!("it does not decompress ({e})"))
    });
    done.into_iter().collect::<Result<(), String>>()?;
    Ok(json)
}

/// A snapshot as a start reads it: its image, and the record's tree rebuilt
/// from the hashes it carries (`None` for one of an earlier build that
/// carried none).
pub(super) type Decoded = (Image, Option<MerkleLog>);

/// Bytes read from a snapshot at a time (whole pairs and hashes): what a
/// start puts where it stays passes through one buffer of this size.
const STAGING: usize = 1 << 20;

/// The body of a snapshot in this build's format (after [`WITH_SUBTREES`],
/// before its checksum) as it is read, its CRC-32 kept up to date.
struct Body<'a> {
    bytes: Box<dyn std::io::Read + 'a>,
    /// Bytes of it not read yet.
    left: u64,
    crc: crc32fast::Hasher,
}

impl Body<'_> {
    /// Fills `out` with the next bytes (of its `what`).
    fn read(&mut self, out: &mut [u8], what: &str) -> Result<(), String> {
        if out.len() as u64 > self.left {
            return Err(format!("it is cut short (in its {what})"));
        }
        self.bytes
            .read_exact(out)
            .map_err(|e| format!("its {what} cannot be read ({e})"))?;
        self.left -= out.len() as u64;
        self.crc.update(out);
        Ok(())
    }

    /// The length of the next section (8 bytes, big-endian), at most what
    /// is left and a whole number of `unit`s.
    fn section(&mut self, what: &str, unit: u64) -> Result<u64, String> {
        let mut len = [0; 8];
        self.read(&mut len, what)?;
        let len = u64::from_be_bytes(len);
        if len > self.left {
            return Err(format!("it is cut short (its {what} is {len} bytes)"));
        }
        if !len.is_multiple_of(unit) {
            return Err(format!("its {what} is {len} bytes, not a whole number"));
        }
        Ok(len)
    }

    /// The next `len` bytes, given to `take` a piece at a time (each a
    /// multiple of [`STAGING`]'s units).
    fn pieces(
        &mut self,
        len: u64,
        what: &str,
        mut take: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut buf = vec![0; STAGING.min(len as usize)];
        let mut left = len as usize;
        while left > 0 {
            let n = left.min(buf.len());
            self.read(&mut buf[..n], what)?;
            take(&buf[..n])?;
            left -= n;
        }
        Ok(())
    }

    /// The next `len` bytes as hashes.
    fn hashes(&mut self, len: u64, what: &str, mut take: impl FnMut(Hash)) -> Result<(), String> {
        self.pieces(len, what, |bytes| {
            let hashes = Hash::slice_of(bytes).expect("whole hashes (a section of 32-byte units)");
            hashes.iter().for_each(|&h| take(h));
            Ok(())
        })
    }
}

/// A snapshot in this build's format, read from `bytes` (its `len` bytes
/// after the header) straight into what the state keeps: the retired
/// activities' pairs and the record's leaves go from one buffer of
/// [`STAGING`] bytes into their own memory, and nothing is used unless the
/// checksum at its end holds.
fn decode_stream(
    bytes: Box<dyn std::io::Read + '_>,
    len: u64,
    t: &mut std::time::Instant,
) -> Result<Decoded, String> {
    let mut body = Body {
        bytes,
        left: len
            .checked_sub(4)
            .ok_or("it is cut short (before its checksum)")?,
        crc: crc32fast::Hasher::new(),
    };
    let image_len = body.section("image", 1)?;
    let mut image = vec![0; image_len as usize];
    body.read(&mut image, "image")?;
    let pairs_len = body.section("retired activities", 16)?;
    let mut pairs = Vec::with_capacity(pairs_len as usize / 16);
    body.pieces(pairs_len, "retired activities", |b| {
        crate::state::decode_pairs(b, &mut pairs)
    })?;
    let leaves_len = body.section("leaves", 32)?;
    let mut leaves: Vec<Vec<Hash>> = Vec::new();
    body.hashes(leaves_len, "leaves", |h| match leaves.last_mut() {
        Some(chunk) if chunk.len() < CHUNK_HASHES => chunk.push(h),
        _ => {
            let mut chunk = Vec::with_capacity(CHUNK_HASHES);
            chunk.push(h);
            leaves.push(chunk);
        }
    })?;
    let subtrees_len = body.left;
    if !subtrees_len.is_multiple_of(32) {
        return Err(format!("its subtrees are {subtrees_len} bytes"));
    }
    let mut subtrees = Vec::with_capacity(subtrees_len as usize / 32);
    body.hashes(subtrees_len, "subtrees", |h| subtrees.push(h))?;
    let mut crc = [0; 4];
    body.bytes
        .read_exact(&mut crc)
        .map_err(|e| format!("its checksum cannot be read ({e})"))?;
    if body.crc.finalize() != u32::from_be_bytes(crc) {
        return Err("its checksum does not match: it is damaged or cut short".into());
    }
    lap(t, "snapshot read and its checksum checked");
    let json = unzstd_into_one(&pieces_of(&image)?)?;
    drop(image);
    lap(t, "image decompressed (on every core)");
    let mut image = parse(json)?;
    image.load_retired(pairs)?;
    lap(t, "image parsed");
    let n: u64 = leaves.iter().map(|c| c.len() as u64).sum();
    if n != image.seq {
        return Err(format!("it carries {n} leaves for {} entries", image.seq));
    }
    let record = MerkleLog::from_leaf_chunks(leaves, &subtrees)
        .ok_or_else(|| format!("it carries {} subtrees for {n} leaves", subtrees.len()))?;
    lap(t, "record's tree rebuilt from its saved hashes");
    Ok((image, Some(record)))
}

/// The image a snapshot's JSON holds.
fn parse(json: Vec<u8>) -> Result<Image, String> {
    serde_json::from_slice(&json).map_err(|e| format!("it does not parse ({e})"))
}

/// A snapshot of an earlier build, read whole (once, at the first start of
/// this build): its image, and the record's tree hashed from the leaves it
/// carries (on every core), if any.
fn decode_earlier(bytes: &[u8]) -> Result<Decoded, String> {
    let (image, leaves) = if let Some(rest) = bytes.strip_prefix(WITH_RETIRED) {
        let (image, rest) = section(rest, "image")?;
        let (retired, leaves) = section(rest, "retired activities")?;
        let mut image = parse(inflate_joined(pieces_of(image)?)?)?;
        image.load_retired_pairs(retired)?;
        (image, Some(leaves))
    } else if let Some(rest) = bytes.strip_prefix(WITH_LEAVES) {
        let (image, leaves) = section(rest, "image")?;
        (parse(inflate_joined(pieces_of(image)?)?)?, Some(leaves))
    } else {
        // One stream, no leaves.
        let json = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, MAX_IMAGE_BYTES)
            .map_err(|e| format!("it does not decompress ({:?})", e.status))?;
        (parse(json)?, None)
    };
    let Some(leaves) = leaves else {
        return Ok((image, None));
    };
    let hashes = Hash::slice_of(leaves)
        .filter(|h| h.len() as u64 == image.seq)
        .ok_or_else(|| {
            let n = leaves.len();
            format!("it carries {n} bytes of leaves for {} entries", image.seq)
        })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let record = MerkleLog::from_leaf_hashes(hashes, cores);
    Ok((image, Some(record)))
}

/// The snapshot `stored`, read in this build's format or an earlier one.
pub(super) fn decode(
    stored: StoredSnapshot<'_>,
    t: &mut std::time::Instant,
) -> Result<Decoded, String> {
    let StoredSnapshot { len, mut bytes, .. } = stored;
    let mut head = vec![0; WITH_SUBTREES.len().min(len as usize)];
    bytes
        .read_exact(&mut head)
        .map_err(|e| format!("it cannot be read ({e})"))?;
    if head == WITH_SUBTREES {
        return decode_stream(bytes, len - head.len() as u64, t);
    }
    let mut whole = head;
    bytes
        .read_to_end(&mut whole)
        .map_err(|e| format!("it cannot be read ({e})"))?;
    lap(t, "snapshot of an earlier build read");
    decode_earlier(&whole)
}
