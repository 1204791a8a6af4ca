//! Snapshots: the state saved in the store at intervals, so that a start
//! (or a recovery after a failed commit) replays only the journal's tail and
//! never validates a volume again.
//!
//! A snapshot is the state's image (`state/image.rs`: its fields as JSON,
//! volumes as they were given) compressed in zstd frames, with the record's
//! hashes a start needs (its leaves and its subtrees of 16 leaves, see
//! [`encode`]) and a checksum that catches a damaged one. It is of one
//! journal position and carries the record's root there. At a start the latest snapshot is read and
//! checked: it must decompress and parse, be of this build's format, be of a
//! position the journal holds, and the journal's own leaves up to that
//! position must give its root (so a snapshot of another journal, or of a
//! journal changed since, is refused); only then is the state taken from it
//! and the entries after it evolved. Otherwise the service says why on
//! stderr and replays the whole journal, as it did before snapshots.
//!
//! Snapshots are taken by a thread of their own, at the lowest CPU priority,
//! with a store connection of its own (`Journal::snapshot_store`): the writer
//! only nudges it after a commit once one is due. Under the state's read lock
//! the thread takes a copy of the state that shares its parts with it (the
//! large maps are persistent `imbl` maps, the index's volumes and the
//! record's leaf chunks are shared: a copy costs a count a volume and the
//! small maps, and the writer copies a shared node only when it next changes
//! it); it writes the JSON,
//! compresses and saves with no lock held. A snapshot is due after
//! `--snapshot-entries` entries, or as many entries as the last image held
//! items if that is more (so the work per entry stays bounded as the state
//! grows), or `--snapshot-seconds` after the last.

use crate::entry::IdempotencyRecord;
use crate::journal::EntryReader;
use crate::journal::{Journal, SnapshotStore, StorageError, StoredSnapshot};
use crate::record::leaf_text;
use crate::state::{on_every_core, Entries, Image, ImageError, State};
use parley_record::{leaf_hash, Hash, MerkleLog, CHUNK_HASHES};
use parley_wire::WireLimits;
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// A snapshot is taken after this many entries by default.
pub const SNAPSHOT_EVERY_ENTRIES: u64 = 10_000;
/// ... or this many seconds after the last one, if anything was logged since.
pub const SNAPSHOT_EVERY_S: u64 = 600;

/// Largest image read back, bytes: a snapshot that claims more is refused
/// rather than allowed to take the memory.
const MAX_IMAGE_BYTES: usize = 16 << 30;

/// How the state was built at the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restored {
    /// From the snapshot of entry `seq`, then `tail` entries evolved.
    Snapshot {
        /// The snapshot's journal position.
        seq: u64,
        /// Entries evolved after it.
        tail: u64,
    },
    /// By replaying the whole journal: there was no snapshot, or the one
    /// there was refused (`refused`: why).
    Replay {
        /// Why the latest snapshot was not used, when there was one.
        refused: Option<String>,
    },
}

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

/// How an image's pieces are compressed.
#[derive(Clone, Copy)]
enum Pieces {
    /// zlib streams (earlier builds).
    Zlib,
    /// zstd frames.
    Zstd,
}

/// The image's pieces, each decompressed on every core, joined.
fn decompress_pieces(mut image: &[u8], how: Pieces) -> Result<Vec<u8>, String> {
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
    if let Pieces::Zstd = how {
        return unzstd_into_one(&pieces);
    }
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
type Decoded = (Image, Option<MerkleLog>);

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
    let json = decompress_pieces(&image, Pieces::Zstd)?;
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
        let mut image = parse(decompress_pieces(image, Pieces::Zlib)?)?;
        image.load_retired_pairs(retired)?;
        (image, Some(leaves))
    } else if let Some(rest) = bytes.strip_prefix(WITH_LEAVES) {
        let (image, leaves) = section(rest, "image")?;
        (
            parse(decompress_pieces(image, Pieces::Zlib)?)?,
            Some(leaves),
        )
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
fn decode(stored: StoredSnapshot<'_>, t: &mut std::time::Instant) -> Result<Decoded, String> {
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

/// The state the journal holds: from its latest snapshot and the entries
/// after it when the snapshot fits, else by replaying every entry.
pub(crate) fn restore(
    journal: &mut impl Journal,
    limits: WireLimits,
) -> Result<(State, Restored), StorageError> {
    let reader = journal.entry_reader()?;
    let mut t = std::time::Instant::now();
    let stored = journal.latest_snapshot()?;
    let refused = match stored.map(|s| (s.seq, decode(s, &mut t))) {
        None => None,
        Some((seq, decoded)) => {
            let fitted = match decoded {
                Err(why) => Err(why),
                Ok((image, _)) if image.seq != seq => Err(format!(
                    "it says entry {} in the row of entry {seq}",
                    image.seq
                )),
                Ok((image, Some(record))) => {
                    from_leaves(journal, image, record, reader.clone(), limits.clone())?
                        .map_err(|e| e.to_string())
                }
                Ok((image, None)) => from_image(journal, image, reader.clone(), limits.clone())?
                    .map_err(|e| e.to_string()),
            };
            lap(&mut t, "state rebuilt and checked against the journal");
            match fitted {
                Ok(mut state) => {
                    let tail = replay_after(journal, &mut state)?;
                    lap(&mut t, "tail evolved");
                    return Ok((state, Restored::Snapshot { seq, tail }));
                }
                Err(why) => {
                    eprintln!(
                        "parley: the snapshot of journal entry {seq} is refused: {why}; replaying the whole journal"
                    );
                    Some(format!("snapshot of entry {seq}: {why}"))
                }
            }
        }
    };
    let mut state = State::new(limits);
    state.set_entry_reader(reader);
    replay_after(journal, &mut state)?;
    Ok((state, Restored::Replay { refused }))
}

/// Says on stderr how long a step of a start took since `t`, when
/// `PARLEY_START_TIMES` is set (`bench history` sets it).
fn lap(t: &mut std::time::Instant, step: &str) {
    static SAY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *SAY.get_or_init(|| std::env::var_os("PARLEY_START_TIMES").is_some()) {
        eprintln!(
            "parley: start: {step} in {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
    *t = std::time::Instant::now();
}

/// Entries read from the store at a time at a start: memory holds one
/// slice (and the recent entries), never the whole journal.
const SLICE: usize = 8_192;

/// Evolves `state` with every entry after its last; how many.
fn replay_after(journal: &mut impl Journal, state: &mut State) -> Result<u64, StorageError> {
    let mut n = 0;
    loop {
        let slice = journal.load_after(state.last_seq(), SLICE)?;
        if slice.is_empty() {
            return Ok(n);
        }
        n += slice.len() as u64;
        for l in slice {
            state.evolve(l);
        }
        // What the store holds may leave memory.
        state.forget_durable(state.last_seq());
    }
}

/// The state of `image`, once the journal's leaves up to its position give
/// its root (the outer error is the store's, the inner why it does not fit).
fn from_image(
    journal: &mut impl Journal,
    image: Image,
    reader: Option<Arc<dyn EntryReader>>,
    limits: WireLimits,
) -> Result<Result<State, ImageError>, StorageError> {
    let mut log = Entries::default();
    log.set_reader(reader);
    let mut record = MerkleLog::new();
    while log.len() < image.seq {
        let want = (image.seq - log.len()).min(SLICE as u64) as usize;
        let slice = journal.load_after(log.len(), want)?;
        if slice.is_empty() {
            break;
        }
        for l in slice {
            record.append(leaf_text(&l).as_bytes());
            log.push(l);
        }
        log.forget_durable(log.len());
    }
    Ok(State::from_image(image, log, record, limits))
}

/// Older journal positions a start from a snapshot with leaves checks
/// against the journal, besides the recent entries it reads anyway.
const SAMPLED: u64 = 64;

/// The state of `image` and its `record` (rebuilt from the hashes the
/// snapshot carries), once the journal agrees with them: it holds the
/// image's position, and its own leaves give the same hashes for the
/// recent entries (read anyway: they stay in memory) and for [`SAMPLED`]
/// older positions spread over it. A snapshot of another journal differs
/// at its last entry already (every leaf has a salt of its own); a journal
/// cut short is shorter than the image. Only these entries are read.
fn from_leaves(
    journal: &mut impl Journal,
    image: Image,
    record: MerkleLog,
    reader: Option<Arc<dyn EntryReader>>,
    limits: WireLimits,
) -> Result<Result<State, ImageError>, StorageError> {
    let seq = image.seq;
    let base = seq.saturating_sub(crate::state::RECENT_ENTRIES as u64);
    let mut log = Entries::after(base, reader);
    while log.len() < seq {
        let slice = journal.load_after(log.len(), (seq - log.len()) as usize)?;
        if slice.is_empty() {
            return Ok(Err(ImageError::Beyond {
                seq,
                len: log.len(),
            }));
        }
        slice.into_iter().for_each(|l| log.push(l));
    }
    let mut t = std::time::Instant::now();
    let differs =
        |l: &crate::Logged| Some(leaf_hash(leaf_text(l).as_bytes())) != record.leaf(l.seq - 1);
    if let Some(l) = log.range(base, seq).iter().find(|l| differs(l)) {
        return Ok(Err(ImageError::Leaf(l.seq)));
    }
    let n = SAMPLED.min(base);
    for k in 1..=n {
        let at = k * base / n;
        if journal.load_after(at - 1, 1)?.first().is_none_or(differs) {
            return Ok(Err(ImageError::Leaf(at)));
        }
    }
    lap(&mut t, "leaves checked against the journal");
    Ok(State::from_image(image, log, record, limits))
}

/// A snapshot's content, written out of the state.
pub(crate) struct Taken {
    /// The journal position it is the state after.
    pub(crate) seq: u64,
    /// The image ([`Image::to_json`]).
    pub(crate) json: Vec<u8>,
    /// The retired activities' pairs ([`Image::retired_pair_bytes`]).
    pub(crate) retired: Vec<u8>,
    /// The record's leaf hashes.
    pub(crate) leaves: Vec<u8>,
    /// The record's perfect subtrees of 2^[`DENSE_LEVEL`](parley_record::DENSE_LEVEL) leaves.
    pub(crate) subtrees: Vec<u8>,
    /// Items in the image ([`State::image_items`]).
    pub(crate) items: u64,
}

/// Makes the calling thread (and the threads it starts after) the last to
/// get the CPU: nice 19 (Linux; elsewhere nothing changes).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority with this thread's own id changes only its nice
    // value; it reads no memory of ours.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

pub(crate) struct Snapshots {
    every_entries: AtomicU64,
    every_s: AtomicU64,
    /// The position of the last snapshot taken (or restored from).
    last_seq: AtomicU64,
    /// Items (activities, sites, conflicts) in the last snapshot's image.
    last_items: AtomicU64,
    /// When it was taken, µs.
    last_at_us: AtomicI64,
    /// A snapshot is being taken.
    busy: AtomicBool,
    /// Snapshots saved since the start.
    saved: AtomicU64,
    nudge: Mutex<Option<mpsc::SyncSender<Nudge>>>,
}

/// A nudge to the snapshot thread, with where to say when it is done (for
/// [`Snapshots::take_now`]).
type Nudge = Option<mpsc::Sender<Result<u64, StorageError>>>;

impl Snapshots {
    /// The default policy, counting from a state of position `seq` and
    /// `items` image items ([`State::image_items`]) at `now_us`.
    pub(crate) fn new(seq: u64, items: u64, now_us: i64) -> Self {
        Snapshots {
            every_entries: AtomicU64::new(SNAPSHOT_EVERY_ENTRIES),
            every_s: AtomicU64::new(SNAPSHOT_EVERY_S),
            last_seq: AtomicU64::new(seq),
            last_items: AtomicU64::new(items),
            last_at_us: AtomicI64::new(now_us),
            busy: AtomicBool::new(false),
            saved: AtomicU64::new(0),
            nudge: Mutex::new(None),
        }
    }

    /// Takes a snapshot after `entries` entries or `seconds` seconds
    /// (whichever comes first; 0 turns that trigger off).
    pub(crate) fn set_policy(&self, entries: u64, seconds: u64) {
        self.every_entries.store(entries, Ordering::SeqCst);
        self.every_s.store(seconds, Ordering::SeqCst);
    }

    /// Called by the writer after a commit: nudges the snapshot thread if a
    /// snapshot is due at position `last` and none is being taken. Never waits.
    pub(crate) fn after_commit(&self, last: u64, now_us: i64) {
        let since = last.saturating_sub(self.last_seq.load(Ordering::SeqCst));
        if since == 0 || self.busy.load(Ordering::SeqCst) {
            return;
        }
        let (entries, seconds) = (
            self.every_entries.load(Ordering::SeqCst),
            self.every_s.load(Ordering::SeqCst),
        );
        // A snapshot's work grows with the state, so one is taken at most
        // once per as many entries as its image held items: the work per
        // entry stays bounded however large the state, and a start evolves
        // no more entries after it than it loads items from it.
        let items = self.last_items.load(Ordering::SeqCst);
        let by_entries = entries > 0 && since >= entries.max(items);
        let by_time = seconds > 0
            && now_us - self.last_at_us.load(Ordering::SeqCst) >= seconds as i64 * 1_000_000;
        if !(by_entries || by_time) {
            return;
        }
        let nudge = self.nudge.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = nudge.as_ref() {
            self.busy.store(true, Ordering::SeqCst);
            if tx.try_send(None).is_err() {
                self.busy.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Snapshots saved since the start.
    pub(crate) fn saved(&self) -> u64 {
        self.saved.load(Ordering::SeqCst)
    }

    /// Takes a snapshot now and waits until it is saved; its position.
    pub(crate) fn take_now(&self) -> Result<u64, StorageError> {
        let (done, saved) = mpsc::channel();
        let sent = {
            let nudge = self.nudge.lock().unwrap_or_else(|e| e.into_inner());
            let tx = nudge
                .as_ref()
                .ok_or_else(|| StorageError("this store keeps no snapshots".into()))?;
            self.busy.store(true, Ordering::SeqCst);
            tx.clone()
        };
        sent.send(Some(done))
            .map_err(|_| StorageError("the snapshot thread has stopped".into()))?;
        saved
            .recv()
            .map_err(|_| StorageError("the snapshot thread has stopped".into()))?
    }

    /// Starts the thread that takes snapshots into `store`. `image` copies the
    /// state under its read lock and writes it out after ([`Taken`]), or `None`
    /// once the service is gone (the thread then ends); `clock` tells the time.
    /// The thread ends when `this` is dropped (with the service).
    pub(crate) fn spawn(
        this: &Arc<Snapshots>,
        mut store: Box<dyn SnapshotStore>,
        image: impl Fn() -> Option<Taken> + Send + 'static,
        clock: crate::Clock,
    ) -> std::io::Result<()> {
        let (tx, rx) = mpsc::sync_channel::<Nudge>(1);
        *this.nudge.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        let this = Arc::downgrade(this);
        std::thread::Builder::new()
            .name("parley-snapshot".into())
            .spawn(move || {
                // Saving a snapshot can wait; the writer and the requests
                // cannot: this thread (and those it starts) yields the CPU.
                lower_priority();
                while let Ok(done) = rx.recv() {
                    let Some(Taken {
                        seq,
                        json,
                        retired,
                        leaves,
                        subtrees,
                        items,
                    }) = image()
                    else {
                        return;
                    };
                    let bytes = encode(&json, &retired, &leaves, &subtrees);
                    drop((json, retired, leaves, subtrees));
                    let saved = store.save(seq, &bytes);
                    let Some(s) = this.upgrade() else { return };
                    // A snapshot not saved loses nothing (the journal is
                    // whole): the next is tried at the next trigger.
                    match &saved {
                        Ok(()) => {
                            s.saved.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => eprintln!(
                            "parley: the snapshot of journal entry {seq} was not saved: {e}"
                        ),
                    }
                    s.last_seq.store(seq, Ordering::SeqCst);
                    s.last_items.store(items, Ordering::SeqCst);
                    s.last_at_us.store(clock(), Ordering::SeqCst);
                    s.busy.store(false, Ordering::SeqCst);
                    if let Some(done) = done {
                        let _ = done.send(saved.map(|()| seq));
                    }
                }
            })
            .map(|_| ())
    }
}

/// Idempotency records by operator and key.
pub(crate) type Records = HashMap<(String, String), IdempotencyRecord>;

/// The state and the idempotency records as the journal holds them (the
/// state from the latest snapshot and the journal's tail where it fits).
pub(crate) fn replay(
    journal: &mut impl Journal,
    limits: WireLimits,
) -> Result<(State, Records, Restored), StorageError> {
    let (state, restored) = restore(journal, limits)?;
    let records = journal
        .load_idempotency()?
        .into_iter()
        .map(|r| ((r.operator.clone(), r.key.clone()), r))
        .collect();
    Ok((state, records, restored))
}

/// After a failed commit the state may hold entries that are not durable (or,
/// when the commit's answer was lost, that are): it is rebuilt from the
/// journal, which is the truth, before the service takes writes again.
pub(crate) fn recover(
    state: &mut State,
    records: &mut Records,
    journal: &mut impl Journal,
) -> bool {
    match replay(journal, state.limits().clone()) {
        Ok((mut fresh, fresh_records, _)) => {
            fresh.set_talk_gap_days(state.talk_gap_days());
            fresh.set_site_rules(state.site_rules());
            fresh.set_recent_entries(state.recent_entries());
            let (origin, skew_s) = state.signing();
            fresh.set_signing(&origin, skew_s);
            *state = fresh;
            *records = fresh_records;
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::Snapshots;
    use std::sync::mpsc;

    /// Whether `after_commit(last)` nudges the snapshot thread, for a state
    /// whose last snapshot (of position 0) held `items` items.
    fn nudged(items: u64, last: u64) -> bool {
        let s = Snapshots::new(0, items, 0);
        s.set_policy(10_000, 0);
        let (tx, rx) = mpsc::sync_channel(1);
        *s.nudge.lock().unwrap() = Some(tx);
        s.after_commit(last, 1);
        rx.try_recv().is_ok()
    }

    #[test]
    fn a_large_state_is_snapshotted_after_as_many_entries_as_it_holds_items() {
        assert!(!nudged(0, 9_999));
        assert!(nudged(0, 10_000));
        assert!(nudged(4_000, 10_000));
        assert!(!nudged(50_000, 10_000));
        assert!(!nudged(50_000, 49_999));
        assert!(nudged(50_000, 50_000));
    }
}
