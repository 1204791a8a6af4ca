//! `parley`: the command-line face of Parley.
//!
//! - `parley check FILE...` finds every conflicting pair among activities given
//!   as JSON lines (see `check.rs`).
//! - `parley bench index` measures the spatio-temporal index (see `bench.rs`).

mod bench;
mod check;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Parley: deconfliction between parties who must stay out of each other's way.
#[derive(Parser)]
#[command(name = "parley", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find every pair of activities of different parties that come closer than
    /// the separation minima. Exit status: 0 no conflict, 1 conflicts, 2 bad input.
    Check(check::Args),
    /// Measure Parley's parts on synthetic data.
    #[command(subcommand)]
    Bench(bench::Bench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Bench(b) => bench::run(b).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parley: {e:#}");
            ExitCode::from(2)
        }
    }
}
