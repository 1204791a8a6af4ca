//! `parley keys`: a party's signing key. `generate` makes an Ed25519 key for the
//! profile (kept in the config directory, mode 0600) and prints its public
//! half; `register` gives the public half to the server (a party admin: the
//! party's first key as it is, every later one signed with this profile's
//! key, which the party must hold); `revoke` takes one back (signed too).
//! From then on the client signs every notice, amendment, cancellation,
//! acknowledgment and confirmation it sends, so the host cannot forge the
//! party's word.

use super::{profile, Client, Global, Outcome};
use anyhow::{bail, Context, Result};
use parley_record::{Hash, Signer};
use parley_service::Claim;
use serde_json::json;
use std::path::PathBuf;

const KEYS_HELP: &str = "\
Examples:
  parley keys generate                 # once per operator seat; prints the public key
  parley keys register                 # a party admin: the server accepts it as your party's
  parley keys register KEY             # a later key: signed with this profile's key
  parley keys revoke KEY               # a party admin, signed with a key the party holds
  parley keys list red                 # another party's keys, to check its signatures

Exit status: 0 done; 2 bad input; 3 server or network error.";

#[derive(clap::Args)]
#[command(after_help = KEYS_HELP)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Make a signing key for this profile and print its public key line.
    Generate {
        /// A label, so the key is named `<party>/<label>`.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        g: Global,
    },
    /// Register a public key for your party (a party admin): this profile's,
    /// or a key line an operator of your party generated.
    Register {
        /// A verifier key line (`name+id+base64`); default: this profile's key.
        key: Option<String>,
        #[command(flatten)]
        g: Global,
    },
    /// Revoke a key of your party (a party admin, signed with this profile's
    /// key, which the party must hold): it signs nothing for the party after.
    Revoke {
        /// The verifier key line, as registered.
        key: String,
        #[command(flatten)]
        g: Global,
    },
    /// A party's registered keys (yours by default).
    List {
        /// The party.
        party: Option<String>,
        #[command(flatten)]
        g: Global,
    },
}

/// Where the profile's signing key is kept: `<name>\n<hex seed>\n`.
fn path(profile: &str) -> Result<PathBuf> {
    Ok(profile::dir()?.join(format!("{profile}.signing-key")))
}

/// The profile's signer, if it has a key.
pub fn signer(profile: &str) -> Result<Option<Signer>> {
    let p = path(profile)?;
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Ok(None);
    };
    let mut lines = text.lines();
    let (Some(name), Some(seed)) = (lines.next(), lines.next().and_then(Hash::from_hex)) else {
        bail!(
            "{}: not a signing key (name, then a 64-digit hex seed)",
            p.display()
        );
    };
    Ok(Some(Signer::from_seed(name, &seed.0)?))
}

pub fn run(a: Args) -> Result<Outcome> {
    match a.what {
        What::Generate { label, g } => {
            let c = Client::new(&g)?;
            let party = c.my_party()?;
            let name = label.map_or(party.clone(), |l| format!("{party}/{l}"));
            let p = path(&g.profile)?;
            if p.exists() {
                bail!("{} exists already: this profile has a key", p.display());
            }
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let signer = Signer::from_seed(&name, &seed)?;
            std::fs::create_dir_all(profile::dir()?)?;
            crate::secret::create(&p, &format!("{name}\n{}\n", Hash(seed)))?;
            if g.json {
                outln!(
                    "{}",
                    json!({"key": signer.verifier_key().to_string(), "file": p})
                );
            } else {
                outln!("{}", signer.verifier_key());
                eprintln!(
                    "kept in {}; a party admin registers it with `parley keys register`",
                    p.display()
                );
            }
            Ok(Outcome::Ok)
        }
        What::Register { key, g } => {
            let key = match key {
                Some(k) => k,
                None => signer(&g.profile)?
                    .context(
                        "this profile has no key; run `parley keys generate` or give a key line",
                    )?
                    .verifier_key()
                    .to_string(),
            };
            let c = Client::new(&g)?;
            let party = c.my_party()?;
            let path = format!("/v1/parties/{party}/keys");
            let held = c.get(&path)?["keys"].as_array().map_or(0, Vec::len);
            // The first key is the party admin's word alone; every later one
            // is signed with a key the party holds, so the chain is its own.
            let v = if held == 0 {
                c.post(&path, &json!({"key": key}))?
            } else {
                c.post_signed(&path, &json!({"key": key}), |me| {
                    Ok(Claim::add_key(&me.party, &key))
                })?
            };
            if g.json {
                outln!("{v}");
            } else {
                outln!("registered for {party}: {key}");
            }
            Ok(Outcome::Ok)
        }
        What::Revoke { key, g } => {
            let c = Client::new(&g)?;
            let party = c.my_party()?;
            let v = c.post_signed(
                &format!("/v1/parties/{party}/keys/revocations"),
                &json!({"key": key}),
                |me| Ok(Claim::revoke_key(&me.party, &key)),
            )?;
            if g.json {
                outln!("{v}");
            } else {
                outln!("revoked for {party}: {key}");
            }
            Ok(Outcome::Ok)
        }
        What::List { party, g } => super::certificates::list_for_party(&g, party, "keys"),
    }
}
