//! `parley bench ...`: measurements on synthetic traffic, printed as one
//! `bench NAME key=value ...` line at the end so scripts can read it.
//!
//! Traffic: volumes spread over a 1,000 km × 1,000 km region around 35N 38E and
//! seven days; half polygons of 4 to 12 vertices, half circles; radii 0.5 to 10 km;
//! durations 15 minutes to 3 hours; altitude bands within 0 to 10 km.

use anyhow::{Context, Result};
use parley_engine::{
    AltitudeBand, Index, LatLng, Limits, Minima, Outline, TimeWindow, Timestamp, Volume,
    VolumeInput,
};
use parley_wire::format_timestamp;
use std::io::Write;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Bench {
    /// The spatio-temporal index: bulk load, insert, remove and conflict checks.
    Index {
        /// Stored volumes.
        #[arg(long, default_value_t = 1_000_000)]
        volumes: usize,
        /// Conflict checks to time.
        #[arg(long, default_value_t = 20_000)]
        queries: usize,
        #[command(flatten)]
        minima: MinimaArgs,
    },
    /// `parley check` end to end on generated activities (parse, validate, index, report).
    Check {
        /// Activities to generate.
        #[arg(long, default_value_t = 100_000)]
        activities: usize,
        /// Also keep the generated JSON lines in this file, to time `parley check FILE` itself.
        #[arg(long)]
        write: Option<std::path::PathBuf>,
        #[command(flatten)]
        minima: MinimaArgs,
    },
    /// The HTTP server end to end: notices posted over HTTP to an in-process
    /// server on a fresh store already holding many activities.
    Serve(crate::bench_serve::Args),
    /// The tamper-evident record: appends, inclusion and consistency proofs,
    /// and an offline verifier checking a whole export against a signed checkpoint.
    Record(crate::bench_record::Args),
    /// Witnessing: a witness's cosignatures a second with its store durable,
    /// and the latency a write gains when a party asks for a cosigned receipt.
    Witness(crate::bench_witness::Args),
    /// Hostile geometry against a real server: the CPU a worst-case request
    /// costs, and `/v1/health`'s latency while two clients send them.
    Abuse(crate::bench_abuse::Args),
    /// History against a real server: load notices over HTTP, SIGKILL,
    /// restart on the same store; RSS, store size and restart time.
    History(crate::bench_history::Args),
    /// Faults: SIGKILLs of a real server under load; nothing acknowledged
    /// may be lost or doubled, and the record must verify.
    Faults(crate::bench_faults::Args),
    /// Fail-over: two nodes on a PostgreSQL primary with a synchronous
    /// standby; the primary killed under load and the standby promoted.
    Failover(crate::bench_failover::Args),
    /// Federation: two nodes peered on this machine, one federated line;
    /// a notice's round trip with the peer's check (loopback and delayed),
    /// federated notices a second, catch-up after a cut.
    Federation(crate::bench_federation::Args),
}

#[derive(clap::Args, Clone, Copy)]
pub struct MinimaArgs {
    /// Horizontal separation minimum for the checks, metres.
    #[arg(long, default_value_t = 1_000.0)]
    horizontal_m: f64,
    /// Vertical separation minimum for the checks, metres.
    #[arg(long, default_value_t = 300.0)]
    vertical_m: f64,
    /// Separation minimum in time for the checks, seconds.
    #[arg(long, default_value_t = 300.0)]
    time_s: f64,
}

impl MinimaArgs {
    fn minima(self) -> Minima {
        Minima {
            horizontal_m: self.horizontal_m,
            vertical_m: self.vertical_m,
            time_s: self.time_s,
        }
    }
}

pub fn run(bench: Bench) -> Result<()> {
    match bench {
        Bench::Index {
            volumes,
            queries,
            minima,
        } => index(volumes, queries, minima.minima()),
        Bench::Check {
            activities,
            write,
            minima,
        } => check(activities, write, minima.minima()),
        Bench::Serve(args) => crate::bench_serve::run(args),
        Bench::Record(args) => crate::bench_record::run(args),
        Bench::Abuse(args) => crate::bench_abuse::run(args),
        Bench::Faults(args) => crate::bench_faults::run(args),
        Bench::Failover(args) => crate::bench_failover::run(args),
        Bench::Federation(args) => crate::bench_federation::run(args),
        Bench::Witness(args) => crate::bench_witness::run(args),
        Bench::History(args) => crate::bench_history::run_bench(args),
    }
}

/// splitmix64: small, fast and good enough for synthetic traffic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const EPOCH_US: i64 = 1_795_000_000_000_000; // 2026-11-18
const HOUR_US: f64 = 3.6e9;

/// One synthetic volume as engine input.
pub fn traffic(rng: &mut Rng) -> VolumeInput {
    let (lat0, lng0) = (35.0, 38.0);
    let dlat = 500_000.0 / 111_132.0;
    let lat = rng.range(lat0 - dlat, lat0 + dlat);
    let dlng = 500_000.0 / (111_320.0 * lat0.to_radians().cos());
    let lng = rng.range(lng0 - dlng, lng0 + dlng);
    let radius = rng.range(500.0, 10_000.0);
    let outline = if rng.range(0.0, 1.0) < 0.5 {
        Outline::Circle {
            center: LatLng::new(lat, lng),
            radius_m: radius,
        }
    } else {
        // A star-shaped polygon: increasing angles, varying radii, so never self-crossing.
        let n = 4 + (rng.range(0.0, 9.0) as usize).min(8);
        let turn = rng.range(0.0, std::f64::consts::TAU);
        let vertices = (0..n)
            .map(|k| {
                let a = turn + (k as f64 + rng.range(0.1, 0.9)) * std::f64::consts::TAU / n as f64;
                let r = radius * rng.range(0.5, 1.0);
                LatLng::new(
                    lat + r * a.cos() / 111_132.0,
                    lng + r * a.sin() / (111_320.0 * lat.to_radians().cos()),
                )
            })
            .collect();
        Outline::Polygon(vertices)
    };
    let start = EPOCH_US + rng.range(0.0, 7.0 * 24.0 * HOUR_US) as i64;
    let duration = rng.range(0.25 * HOUR_US, 3.0 * HOUR_US) as i64;
    let lower = rng.range(0.0, 9_000.0);
    let upper = (lower + rng.range(300.0, 3_000.0)).min(10_000.0);
    VolumeInput {
        outline,
        altitude: AltitudeBand {
            lower_m: lower,
            upper_m: upper,
        },
        window: TimeWindow {
            start: Timestamp(start),
            end: Timestamp(start + duration),
        },
    }
}

/// `count` validated synthetic volumes, made on every core.
fn volumes(count: usize, seed: u64) -> Vec<Volume> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limits = Limits::default();
    std::thread::scope(|s| {
        let chunk = count.div_ceil(threads);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let limits = &limits;
                s.spawn(move || {
                    let mut rng = Rng::new(seed ^ ((t as u64 + 1) * 0x1234_5678));
                    let n = chunk.min(count.saturating_sub(t * chunk));
                    (0..n)
                        .map(|_| {
                            Volume::new(traffic(&mut rng), limits)
                                .expect("synthetic volumes are valid")
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("generator thread"))
            .collect()
    })
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn index(count: usize, queries: usize, minima: Minima) -> Result<()> {
    eprintln!("generating {count} volumes ...");
    let stored = volumes(count, 1);
    let extra = volumes(10_000.min(count.max(1)), 2);
    let probes = volumes(queries, 3);
    let vertices: usize = stored
        .iter()
        .map(|v| match v.outline() {
            Outline::Polygon(p) => p.len(),
            Outline::Circle { .. } => 1,
        })
        .sum();

    let t = Instant::now();
    let mut index = Index::bulk_load(stored.into_iter().enumerate().map(|(i, v)| (i as u64, v)));
    let load_s = t.elapsed().as_secs_f64();
    eprintln!("bulk load: {load_s:.2} s");

    let t = Instant::now();
    for (i, v) in extra.iter().enumerate() {
        index.insert((count + i) as u64, v.clone());
    }
    let insert_per_s = extra.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..extra.len() {
        index.remove(&((count + i) as u64));
    }
    let remove_per_s = extra.len() as f64 / t.elapsed().as_secs_f64();
    eprintln!("insert: {insert_per_s:.0}/s, remove: {remove_per_s:.0}/s");

    let mut micros = Vec::with_capacity(probes.len());
    let mut found = 0usize;
    for q in &probes {
        let t = Instant::now();
        found += index.conflicts(q, &minima).len();
        micros.push(t.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&micros, 0.5), percentile(&micros, 0.99));
    // The same queries with every candidate refused before its exact test: what
    // the grid scan alone costs.
    let mut scan = Vec::with_capacity(probes.len());
    for q in &probes {
        let t = Instant::now();
        std::hint::black_box(index.conflicts_where(q, &minima, |_| false));
        scan.push(t.elapsed().as_secs_f64() * 1e6);
    }
    scan.sort_by(f64::total_cmp);
    eprintln!(
        "grid scan alone: p50 {:.1} µs, p99 {:.1} µs",
        percentile(&scan, 0.5),
        percentile(&scan, 0.99)
    );
    let index_bytes = index.memory_bytes() as f64 / count.max(1) as f64;
    eprintln!(
        "{} checks under H={} m V={} m T={} s: p50 {p50:.1} µs, p99 {p99:.1} µs, {:.2} conflicts a check",
        probes.len(),
        minima.horizontal_m,
        minima.vertical_m,
        minima.time_s,
        found as f64 / probes.len().max(1) as f64
    );
    eprintln!(
        "index: {index_bytes:.0} bytes a volume beyond its outline ({:.1} vertices a volume)",
        vertices as f64 / count.max(1) as f64
    );
    println!(
        "bench index volumes={count} load_s={load_s:.3} insert_per_s={insert_per_s:.0} check_p50_us={p50:.2} check_p99_us={p99:.2} rss_mb={:.0} remove_per_s={remove_per_s:.0} index_bytes_per_volume={index_bytes:.0}",
        peak_rss_mb()
    );
    Ok(())
}

/// One volume in the F3548 Volume4D JSON shape, as notices and activity files carry it.
pub fn volume_json(v: &VolumeInput) -> serde_json::Value {
    let mut volume = match &v.outline {
        Outline::Circle { center, radius_m } => serde_json::json!({"outline_circle": {
            "center": {"lat": center.lat, "lng": center.lng},
            "radius": {"value": radius_m, "units": "M"}}}),
        Outline::Polygon(ps) => serde_json::json!({"outline_polygon": {
            "vertices": ps.iter().map(|p| serde_json::json!({"lat": p.lat, "lng": p.lng})).collect::<Vec<_>>()}}),
    };
    volume["altitude_lower"] =
        serde_json::json!({"value": v.altitude.lower_m, "reference": "W84", "units": "M"});
    volume["altitude_upper"] =
        serde_json::json!({"value": v.altitude.upper_m, "reference": "W84", "units": "M"});
    serde_json::json!({
        "volume": volume,
        "time_start": {"value": format_timestamp(v.window.start), "format": "RFC3339"},
        "time_end": {"value": format_timestamp(v.window.end), "format": "RFC3339"},
    })
}

/// The volumes of one synthetic activity (one to three), as F3548 JSON.
pub fn activity_volumes(rng: &mut Rng) -> Vec<serde_json::Value> {
    (0..1 + (rng.range(0.0, 3.0) as usize))
        .map(|_| volume_json(&traffic(rng)))
        .collect()
}

/// One synthetic activity as a JSON line, in the F3548 shape.
fn activity_line(i: usize, rng: &mut Rng) -> String {
    let parties = ["north", "south", "east", "west", "relief"];
    let volumes = activity_volumes(rng);
    let party = parties[i % parties.len()];
    serde_json::json!({"id": format!("{party}-{i}"), "party": party, "volumes": volumes})
        .to_string()
}

fn check(count: usize, write: Option<std::path::PathBuf>, minima: Minima) -> Result<()> {
    let mut rng = Rng::new(7);
    let lines: Vec<String> = (0..count).map(|i| activity_line(i, &mut rng)).collect();
    if let Some(path) = &write {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}", path.display()))?,
        );
        for l in &lines {
            writeln!(f, "{l}")?;
        }
    }
    let limits = parley_wire::WireLimits::default();
    let numbered: Vec<(usize, String)> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    let t = Instant::now();
    let activities =
        crate::check::parse_lines("generated", &numbered, &limits, &mut Default::default())?;
    let parse_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let conflicts = parley_engine::find_conflicts(&activities, &minima, threads);
    let find_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut sink = std::io::sink();
    for c in &conflicts {
        serde_json::to_writer(&mut sink, &parley_wire::conflict_json(c, &activities))?;
    }
    let report_s = t.elapsed().as_secs_f64();
    let volumes: usize = activities.iter().map(|a| a.volumes.len()).sum();
    println!(
        "bench check activities={count} volumes={volumes} parse_s={parse_s:.2} find_s={find_s:.2} report_s={report_s:.2} total_s={:.2} conflicts={}",
        parse_s + find_s + report_s,
        conflicts.len()
    );
    Ok(())
}
