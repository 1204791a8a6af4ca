//! `parley`: the command-line face of Parley.
//!
//! - `parley check FILE...` finds every conflicting pair among activities given
//!   as JSON lines (see `check.rs`).
//! - `parley serve`, `parley demo` run the server (see `serve.rs`).
//! - `parley witness` runs a witness (see `witness.rs`).
//! - `parley admin ...` manages parties, operators and lines (see `admin.rs`).
//! - `parley bench ...` measures (see `bench.rs`).
//! - `parley login`, `lines`, `notify`, `ack`, `watch`, ... are the HTTP client
//!   (see `client/`).

mod admin;
mod bench;
mod bench_abuse;
mod bench_failover;
mod bench_faults;
mod bench_federation;
mod bench_history;
mod bench_record;
mod bench_serve;
mod bench_witness;
mod check;
mod client;
mod demo;
mod demo_federated;
mod secret;
mod serve;
mod served;
mod witness;

use clap::{CommandFactory, Parser, Subcommand};

// JSON-heavy request handling allocates on one thread and frees on another;
// mimalloc measured about 1.5x the notices a second of glibc's malloc here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Parley: deconfliction between parties who must stay out of each other's way.
#[derive(Parser)]
#[command(
    name = "parley",
    version,
    about,
    long_about = "Parley: deconfliction between parties who must stay out of each other's way.\n\n\
        The same binary runs the server (`parley serve`) and is its client: `parley login` \
        saves a profile, then one command for each capability of the API. Every client \
        command takes --json (print the server's JSON), --profile, --server and --token.",
    after_long_help = client::EXIT_HELP,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find every pair of activities of different parties that come closer than
    /// the separation minima. Exit status: 0 no conflict, 1 conflicts, 2 bad input.
    Check(check::Args),
    /// Run the server: the HTTP/JSON API under /v1, on the embedded store or on PostgreSQL.
    Serve(serve::ServeArgs),
    /// Run the server with a realistic scenario already in it, and print the
    /// URL and ready-to-use operator tokens.
    Demo(demo::DemoArgs),
    /// Run a witness (C2SP tlog-witness): cosign the checkpoints of the
    /// servers given, only when they extend what it cosigned before.
    Witness(witness::WitnessArgs),
    /// Manage parties, operators and lines on a running server.
    Admin(admin::AdminArgs),
    /// Measure Parley's parts on synthetic data.
    #[command(subcommand)]
    Bench(bench::Bench),
    #[command(flatten)]
    Client(client::Command),
}

fn main() -> ExitCode {
    // TLS everywhere on the `ring` provider: reqwest's own default would be
    // aws-lc-rs, which this build leaves out.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Serve(args) => serve::serve(args).map(|()| ExitCode::SUCCESS),
        Command::Demo(args) => demo::demo(args).map(|()| ExitCode::SUCCESS),
        Command::Witness(args) => witness::run(args).map(|()| ExitCode::SUCCESS),
        Command::Admin(args) => admin::run(args).map(|()| ExitCode::SUCCESS),
        Command::Bench(b) => bench::run(b).map(|()| ExitCode::SUCCESS),
        Command::Client(c) => return client::run(c, &mut Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parley: {e:#}");
            ExitCode::from(client::exit_status(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap's own checks of the whole command line (unique names, flags that
    /// do not clash with --version or --help), which only run in debug builds.
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
