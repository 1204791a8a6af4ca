//! `parley check`: activities in, conflicting pairs out, one JSON object a line.

use anyhow::{bail, Context, Result};
use parley_engine::{find_conflicts, Activity, Minima};
use parley_wire::{conflict_json, parse_activity, WireLimits};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::ExitCode;

/// Longest accepted input line, bytes.
const MAX_LINE_BYTES: usize = 8 << 20;

#[derive(clap::Args)]
pub struct Args {
    /// Horizontal separation minimum, metres.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    horizontal_m: f64,
    /// Vertical separation minimum, metres.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    vertical_m: f64,
    /// Separation minimum in time, seconds.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    time_s: f64,
    /// Files of JSON lines, one activity a line:
    /// {"id": "...", "party": "...", "volumes": [Volume4D or GeoJSON Feature, ...]}.
    /// `-` reads standard input.
    #[arg(required = true)]
    files: Vec<String>,
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s:?} is not a non-negative number")),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let limits = WireLimits::default();
    let mut activities = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for name in &args.files {
        let reader: Box<dyn Read> = if name == "-" {
            Box::new(io::stdin().lock())
        } else {
            Box::new(File::open(name).with_context(|| format!("{name}: cannot open"))?)
        };
        read_activities(
            name,
            BufReader::new(reader),
            &limits,
            &mut activities,
            &mut seen,
        )?;
    }
    let minima = Minima {
        horizontal_m: args.horizontal_m,
        vertical_m: args.vertical_m,
        time_s: args.time_s,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let conflicts = find_conflicts(&activities, &minima, threads);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for c in &conflicts {
        serde_json::to_writer(&mut out, &conflict_json(c, &activities))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(if conflicts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_activities(
    name: &str,
    mut reader: impl BufRead,
    limits: &WireLimits,
    activities: &mut Vec<Activity>,
    seen: &mut HashMap<String, String>,
) -> Result<()> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for number in 1.. {
        let mut line = String::new();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_line(&mut line)
            .with_context(|| format!("{name}:{number}: cannot read (is it UTF-8 text?)"))?;
        if read == 0 {
            break;
        }
        if read > MAX_LINE_BYTES {
            bail!("{name}:{number}: line longer than {MAX_LINE_BYTES} bytes; give one activity a line");
        }
        if !line.trim().is_empty() {
            lines.push((number, line));
        }
    }
    activities.extend(parse_lines(name, &lines, limits, seen)?);
    Ok(())
}

/// Parses numbered lines of one input into activities. Validation is the
/// expensive part, so it is spread over the cores; the first error in file
/// order is the one reported. Ids must be unique across everything in `seen`.
pub fn parse_lines(
    name: &str,
    lines: &[(usize, String)],
    limits: &WireLimits,
    seen: &mut HashMap<String, String>,
) -> Result<Vec<Activity>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = lines.len().div_ceil(threads).max(1);
    let parsed: Vec<Vec<_>> = std::thread::scope(|s| {
        let workers: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(_, l)| parse_activity(l, limits))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a parsing thread panicked"))
            .collect()
    });
    let mut activities = Vec::with_capacity(lines.len());
    for ((number, _), result) in lines.iter().zip(parsed.into_iter().flatten()) {
        let activity = result.map_err(|e| anyhow::anyhow!("{name}:{number}: {e}"))?;
        if let Some(first) = seen.insert(activity.id.clone(), format!("{name}:{number}")) {
            bail!("{name}:{number}: /id: activity \"{}\" was already given at {first}; ids must be unique", activity.id);
        }
        activities.push(activity);
    }
    Ok(activities)
}
