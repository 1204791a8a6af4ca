//! `parley certificates`: bind client certificates to your party (a party
//! admin), so your operators are served only over mutual TLS with one of them
//! and a stolen token alone is not enough; list a party's bound certificates.

use super::{Client, Global, Outcome};
use anyhow::{Context, Result};
use serde_json::json;
use std::path::PathBuf;

const CERTIFICATES_HELP: &str = "\
Examples:
  parley certificates bind --cert blue-ops.pem   # a party admin, over mutual TLS
  parley certificates list                        # your party's bound certificates

Bind first the certificate you are connected with (the profile's client_cert):
once a certificate is bound, a request of your party's operators over a
connection without a bound certificate is refused (403 certificate-required).

Exit status: 0 done; 2 bad input; 3 server or network error.";

#[derive(clap::Args)]
#[command(after_help = CERTIFICATES_HELP)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Bind a client certificate to your party (a party admin).
    Bind {
        /// The certificate (PEM); its public key's SHA-256 is what is bound.
        #[arg(long, conflicts_with = "spki", required_unless_present = "spki")]
        cert: Option<PathBuf>,
        /// The SHA-256 of the certificate's public key (SPKI), 64 hex digits.
        #[arg(long)]
        spki: Option<String>,
        #[command(flatten)]
        g: Global,
    },
    /// A party's bound certificates (yours by default).
    List {
        /// The party.
        party: Option<String>,
        #[command(flatten)]
        g: Global,
    },
}

pub fn run(a: Args) -> Result<Outcome> {
    match a.what {
        What::Bind { cert, spki, g } => {
            let spki = match (cert, spki) {
                (Some(path), _) => {
                    let chain = parley_server::read_certificates(&path).context("--cert")?;
                    parley_server::spki_sha256(&chain[0])
                        .map_err(|e| anyhow::anyhow!("--cert {}: {e}", path.display()))?
                }
                (None, Some(spki)) => spki,
                (None, None) => anyhow::bail!("give --cert FILE or --spki HEX"),
            };
            let c = Client::new(&g)?;
            let party = c.my_party()?;
            let v = c.post(
                &format!("/v1/parties/{party}/certificates"),
                &json!({"spki_sha256": spki}),
            )?;
            if g.json {
                outln!("{v}");
            } else {
                outln!(
                    "bound to {party}: certificate key {}",
                    v["spki_sha256"].as_str().unwrap_or_default()
                );
            }
            Ok(Outcome::Ok)
        }
        What::List { party, g } => list_for_party(&g, party, "certificates"),
    }
}

/// `GET /v1/parties/<party>/<what>` (the profile's party by default): the
/// JSON, or the array `what` one item a line.
pub(super) fn list_for_party(g: &Global, party: Option<String>, what: &str) -> Result<Outcome> {
    let c = Client::new(g)?;
    let party = match party {
        Some(p) => p,
        None => c.my_party()?,
    };
    let v = c.get(&format!("/v1/parties/{party}/{what}"))?;
    if g.json {
        outln!("{v}");
    } else {
        for item in v[what].as_array().into_iter().flatten() {
            outln!("{}", item.as_str().unwrap_or_default());
        }
    }
    Ok(Outcome::Ok)
}
