//! `parley witness`: a C2SP tlog-witness for the Parley servers a party (or a
//! relief office, or anyone) wants held to one history: its own SQLite store
//! and Ed25519 key, the logs it witnesses given by their keys.

use anyhow::{Context, Result};
use parley_record::{Cosigner, VerifierKey};
use parley_witness::{system_clock, Witness};
use std::io::Write;
use std::path::PathBuf;

const WITNESS_HELP: &str = "\
Example: a party witnesses the server it uses
  parley witness --name witness.blue.example --log \"$(parley record key)\" --listen 0.0.0.0:8090

It prints its key (`witness key: name+id+key`) on start. Give the server its URL
and key (`parley serve --witness http://HOST:8090=KEY`); give parties who
verify it the same key in their policy file (`witness blue KEY`).

API (C2SP tlog-witness): POST /add-checkpoint; GET /evidence lists every
signed checkpoint refused because it did not extend what was cosigned (a
split view, a rollback, a rewritten history), with the checkpoint cosigned
then; GET /key.";

#[derive(clap::Args)]
#[command(after_help = WITNESS_HELP)]
pub struct WitnessArgs {
    /// The witness's store: one SQLite file (mode 0600), created if missing.
    #[arg(long, default_value = "witness.db")]
    db: PathBuf,
    /// The file with the witness's signing key, made on the first start
    /// (mode 0600). Default: `<db>.key`.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The witness's name, a schema-less URL naming it (e.g.
    /// witness.blue.example): its cosignatures carry it.
    #[arg(long)]
    name: String,
    /// A log to witness: its verifier key (`parley record key`), whose name
    /// is the log's origin. Repeat for several logs.
    #[arg(long = "log", required = true)]
    logs: Vec<String>,
    /// Address to listen on (port 0 picks a free port; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
}

pub fn run(args: WitnessArgs) -> Result<()> {
    let logs = args
        .logs
        .iter()
        .enumerate()
        .map(|(i, k)| {
            VerifierKey::parse(k.trim()).with_context(|| format!("--log (number {}) {k:?}", i + 1))
        })
        .collect::<Result<Vec<_>>>()?;
    for (i, k) in logs.iter().enumerate() {
        if logs[..i].iter().any(|other| other.name() == k.name()) {
            anyhow::bail!(
                "--log: two logs named {}: a witness tells logs apart by their origin (the key's name); give each server its own (parley serve --origin)",
                k.name()
            );
        }
    }
    // The name is checked before a key file is made for it.
    Cosigner::from_seed(&args.name, &[0; 32]).context("--name")?;
    let key_file = args.key.clone().unwrap_or_else(|| {
        let mut p = args.db.as_os_str().to_owned();
        p.push(".key");
        PathBuf::from(p)
    });
    let cosigner = Cosigner::from_seed(&args.name, &crate::secret::seed(&key_file, "witness key")?)
        .context("--name")?;
    let witness = Witness::open(&args.db, cosigner, logs, system_clock())
        .with_context(|| format!("opening the witness store {}", args.db.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        println!("witness key: {}", witness.cosigner_key());
        println!(
            "parley witness listening on http://{}",
            listener.local_addr()?
        );
        let _ = std::io::stdout().flush();
        parley_server::serve_router(
            listener,
            parley_witness::router(witness),
            parley_server::Connections::default(),
        )
        .await
        .context("serving")
    })
}
