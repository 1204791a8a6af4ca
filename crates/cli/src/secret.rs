//! Files that hold a secret (a signing key's seed): created once, readable by
//! their owner alone, and on disk before anyone relies on them.

use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Creates `path` with mode 0600 holding `text`, synced; refuses to overwrite.
/// A file that could not be written whole (a full disk) is removed again, so
/// that no empty or cut secret is left to be read at the next start.
pub fn create(path: &Path, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
    if written.is_err() {
        drop(f);
        let _ = std::fs::remove_file(path);
    }
    written.with_context(|| format!("writing {}", path.display()))
}

/// A signing key's 32-byte seed, as hex in `path`: read (refused when others
/// may read the file) or, on the first start, drawn at random and written
/// with mode 0600. `what` names the key in errors ("record key").
pub fn seed(path: &Path, what: &str) -> Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            // Whoever reads the key can sign in its owner's name.
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "the {what} {} can be read by others (mode {mode:o}); make it the owner's alone (chmod 600 {}) and consider it exposed",
                    path.display(),
                    path.display()
                );
            }
            Ok(parley_record::Hash::from_hex(text.trim())
                .with_context(|| format!("{}: not a 64-digit hex key", path.display()))?
                .0)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            create(path, &format!("{}\n", parley_record::Hash(seed)))
                .with_context(|| format!("making the {what}"))?;
            Ok(seed)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
