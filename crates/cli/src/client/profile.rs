//! Profiles: named servers and tokens in `profiles.json` in the user's config
//! directory (`$PARLEY_CONFIG_DIR`, else `$XDG_CONFIG_HOME/parley`, else
//! `$HOME/.config/parley`), the file mode 0600 and the directory 0700; with
//! each, how its server is reached over TLS (CA, pinned key, client
//! certificate).

use super::tls::TlsOptions;
use super::{Client, Global, Outcome};
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// One profile.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub server: String,
    pub token: String,
    /// The last event cursor `watch` has shown.
    pub cursor: u64,
    /// Default point of contact for notices.
    pub contact: Option<String>,
    /// How the server is reached over TLS.
    pub tls: TlsOptions,
}

#[derive(clap::Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub g: Global,
    /// Default point of contact for your notices (`notify --contact` overrides it).
    #[arg(long)]
    contact: Option<String>,
}

/// The config directory.
pub fn dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("PARLEY_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("parley"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".config").join("parley")),
        None => bail!("no config directory: set PARLEY_CONFIG_DIR or HOME"),
    }
}

fn file() -> Result<PathBuf> {
    Ok(dir()?.join("profiles.json"))
}

fn load_all() -> Result<Map<String, Value>> {
    let path = file()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => bail!(
                "{}: not a JSON object of profiles; fix or remove it",
                path.display()
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
    }
}

/// The profile `name`, if saved.
pub fn load(name: &str) -> Result<Option<Profile>> {
    let all = load_all()?;
    Ok(all.get(name).map(|p| Profile {
        server: p["server"].as_str().unwrap_or_default().to_string(),
        token: p["token"].as_str().unwrap_or_default().to_string(),
        cursor: p["cursor"].as_u64().unwrap_or(0),
        contact: p["contact"].as_str().map(str::to_string),
        tls: TlsOptions {
            ca: p["ca"].as_str().map(PathBuf::from),
            pin_sha256: p["pin_sha256"].as_str().map(str::to_string),
            client_cert: p["client_cert"].as_str().map(PathBuf::from),
            client_key: p["client_key"].as_str().map(PathBuf::from),
        },
    }))
}

/// Saves the profile `name`, replacing the file atomically with mode 0600.
pub fn save(name: &str, p: &Profile) -> Result<PathBuf> {
    let mut all = load_all()?;
    let mut v = json!({"server": p.server, "token": p.token, "cursor": p.cursor});
    if let Some(c) = &p.contact {
        v["contact"] = json!(c);
    }
    let TlsOptions {
        ca,
        pin_sha256,
        client_cert,
        client_key,
    } = &p.tls;
    for (name, value) in [
        ("ca", ca),
        ("client_cert", client_cert),
        ("client_key", client_key),
    ] {
        if let Some(path) = value {
            v[name] = json!(path);
        }
    }
    if let Some(pin) = pin_sha256 {
        v["pin_sha256"] = json!(pin);
    }
    all.insert(name.to_string(), v);
    let dir = dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let path = dir.join("profiles.json");
    let tmp = dir.join(format!(".profiles.json.{}", std::process::id()));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("{}: cannot set mode 0700", dir.display()))?;
        }
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        f.write_all(serde_json::to_string_pretty(&Value::Object(all))?.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(path)
}

/// `parley login`: checks the token with the server, then saves the profile.
pub fn login(a: LoginArgs) -> Result<Outcome> {
    let old = load(&a.g.profile)?;
    let Some(server) =
        a.g.server
            .clone()
            .or(old.as_ref().map(|p| p.server.clone()))
    else {
        bail!("give the server: parley login --server URL --token TOKEN");
    };
    let Some(token) = a.g.token.clone() else {
        bail!("give the token: parley login --server URL --token TOKEN");
    };
    let server = server.trim_end_matches('/').to_string();
    let mut tls = a.g.tls(old.as_ref(), &server)?;
    // Files are saved as absolute paths: later commands run from anywhere.
    for path in [&mut tls.ca, &mut tls.client_cert, &mut tls.client_key]
        .into_iter()
        .flatten()
    {
        *path = std::path::absolute(&*path)
            .with_context(|| format!("{}: cannot resolve", path.display()))?;
    }
    let client = Client::with(server.clone(), token.clone(), &tls)?;
    let me = client.get("/v1/me")?;
    // Trust on first use: the key seen now is the one to expect from now on.
    let seen = client.server_spki();
    let first_pin = tls.pin_sha256.is_none() && seen.is_some();
    if tls.pin_sha256.is_none() {
        tls.pin_sha256.clone_from(&seen);
    }
    // A new server or token starts watching from the beginning.
    let cursor = match &old {
        Some(o) if o.server == server && o.token == token => o.cursor,
        _ => 0,
    };
    let contact = a.contact.or(old.and_then(|o| o.contact));
    let path = save(
        &a.g.profile,
        &Profile {
            server: server.clone(),
            token,
            cursor,
            contact,
            tls,
        },
    )?;
    if a.g.json {
        super::output::print_json(
            &json!({"profile": a.g.profile, "path": path, "server": server,
                                          "me": me, "server_spki_sha256": seen}),
        );
    } else {
        if let Some(spki) = &seen {
            let what = if first_pin {
                "pinned now: compare it with the one your server's operators gave you"
            } else {
                "as pinned"
            };
            outln!("server certificate key (SPKI SHA-256): {spki} ({what})");
        }
        outln!(
            "logged in to {server} as {} ({}, {}); profile {:?} saved in {}",
            me["operator"].as_str().unwrap_or("?"),
            me["party"].as_str().unwrap_or("?"),
            me["role"].as_str().unwrap_or("?"),
            a.g.profile,
            path.display()
        );
    }
    Ok(Outcome::Ok)
}
