//! TLS to PostgreSQL through rustls: libpq's `sslmode` and `sslrootcert` in
//! the connection string, honoured as libpq does, for the `postgres` crate
//! (which knows only `disable`, `prefer` and `require`, and verifies nothing
//! by itself).
//!
//! | `sslmode` | TLS | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | never | - |
//! | `allow`, `prefer` (the default) | if the server offers it | not checked |
//! | `require` | always | not checked; chained to `sslrootcert` when given |
//! | `verify-ca` | always | chained to `sslrootcert` |
//! | `verify-full` | always | chained to `sslrootcert`, and names the host |
//!
//! `verify-ca` and `verify-full` need `sslrootcert` (a PEM file): libpq's
//! default of `~/.postgresql/root.crt` is not guessed. Unix sockets never
//! carry TLS; give `host=` a name or address for these modes.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Nothing (TLS against passive eavesdropping only).
    Nothing,
    /// The chain to `sslrootcert`.
    Chain,
    /// The chain, and that the certificate names the host.
    ChainAndName,
}

/// The connection string for the `postgres` crate, and the connector that
/// does what its `sslmode` and `sslrootcert` asked.
pub(crate) fn connector(conninfo: &str) -> Result<(String, MakeRustlsConnect), String> {
    let (rest, options) = take_options(conninfo, &["sslmode", "sslrootcert"])?;
    let mode = options[0].as_deref().unwrap_or("prefer");
    let root = options[1].as_deref().map(PathBuf::from);
    let (passed, check) = match (mode, &root) {
        ("disable", _) => ("disable", Check::Nothing),
        ("allow" | "prefer", _) => ("prefer", Check::Nothing),
        ("require", None) => ("require", Check::Nothing),
        ("require" | "verify-ca", Some(_)) => ("require", Check::Chain),
        ("verify-full", Some(_)) => ("require", Check::ChainAndName),
        ("verify-ca" | "verify-full", None) => {
            return Err(format!(
                "sslmode={mode} needs sslrootcert=FILE (the CA certificate, PEM, that signed the server's)"
            ))
        }
        (other, _) => {
            return Err(format!(
                "sslmode={other}: give disable, allow, prefer, require, verify-ca or verify-full"
            ))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = match (&root, check) {
        (Some(root), Check::Chain | Check::ChainAndName) => Some(
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(read_roots(root)?),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| format!("sslrootcert={}: {e}", root.display()))?,
        ),
        _ => None,
    };
    let verifier = Arc::new(Policy {
        provider: Arc::clone(&provider),
        chain,
        name: check == Check::ChainAndName,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let rest = if rest.contains("://") {
        let sep = if rest.contains('?') { '&' } else { '?' };
        format!("{rest}{sep}sslmode={passed}")
    } else {
        format!("{rest} sslmode={passed}")
    };
    Ok((rest, MakeRustlsConnect::new(config)))
}

fn read_roots(path: &Path) -> Result<RootCertStore, String> {
    let what = |e: &dyn std::fmt::Display| format!("sslrootcert={}: {e}", path.display());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| what(&e))? {
        roots
            .add(cert.map_err(|e| what(&e))?)
            .map_err(|e| what(&e))?;
    }
    if roots.is_empty() {
        return Err(what(
            &"no certificate in it; give the CA's certificate, PEM",
        ));
    }
    Ok(roots)
}

/// `conninfo` without the options `names`, and their values (in order). A
/// URL's query parameters, or a key/value string's pairs (values quoted or not).
fn take_options(conninfo: &str, names: &[&str]) -> Result<(String, Vec<Option<String>>), String> {
    let mut found = vec![None; names.len()];
    let mut take = |key: &str, value: String| match names.iter().position(|n| *n == key) {
        Some(i) => {
            found[i] = Some(value);
            true
        }
        None => false,
    };
    if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        let Some((base, query)) = conninfo.split_once('?') else {
            return Ok((conninfo.to_string(), found));
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(k, percent_decode(v))
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, found));
    }
    let mut kept = Vec::new();
    let mut chars = conninfo.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut key = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if chars.next().map(|(_, c)| c) != Some('=') {
            return Err(format!(
                "{key}: expected key=value in the connection string"
            ));
        }
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|&(_, c)| c == '\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some((_, '\\')) => value.extend(chars.next().map(|(_, c)| c)),
                    Some((_, '\'')) => break,
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("{key}: unterminated quoted value")),
                }
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        let end = chars.peek().map_or(conninfo.len(), |&(i, _)| i);
        if !take(&key, value) {
            kept.push(&conninfo[start..end]);
        }
    }
    Ok((kept.join(" "), found))
}

/// `%XX` escapes decoded (paths in URLs).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What libpq's mode asks of the server's certificate: the chain to the
/// roots in `chain` (its name too when `name`), or nothing but the
/// handshake's signatures (`require` without a root: encryption against
/// eavesdroppers only).
#[derive(Debug)]
struct Policy {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
    name: bool,
}

impl ServerCertVerifier for Policy {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::take_options;

    const NAMES: &[&str] = &["sslmode", "sslrootcert"];

    #[test]
    fn key_value_strings_lose_the_tls_options_and_keep_the_rest() {
        let (rest, found) = take_options(
            "host=db.example.org sslmode=verify-full  sslrootcert='/etc/my ca.pem' dbname=parley",
            NAMES,
        )
        .unwrap();
        assert_eq!(rest, "host=db.example.org dbname=parley");
        assert_eq!(
            found,
            [Some("verify-full".into()), Some("/etc/my ca.pem".into())]
        );
        let (rest, found) = take_options("host=/run/postgresql password='a b\\'c'", NAMES).unwrap();
        assert_eq!(rest, "host=/run/postgresql password='a b\\'c'");
        assert_eq!(found, [None, None]);
        assert!(take_options("host", NAMES).is_err());
        assert!(take_options("password='open", NAMES).is_err());
    }

    #[test]
    fn urls_lose_the_tls_parameters_and_keep_the_rest() {
        let (rest, found) = take_options(
            "postgresql://u@db:5432/parley?sslmode=require&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
            NAMES,
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u@db:5432/parley?application_name=x");
        assert_eq!(found, [Some("require".into()), Some("/etc/ca.pem".into())]);
        let (rest, _) = take_options("postgres://db/parley?sslmode=disable", NAMES).unwrap();
        assert_eq!(rest, "postgres://db/parley");
    }
}
