//! The client's TLS: rustls on the `ring` provider, the system's roots (or a
//! private CA from `--ca`), an optional pin of the server's public key
//! (`--pin-sha256`, stored by `parley login` on first use), and a client
//! certificate for mutual TLS.
//!
//! A pin is checked on top of the chain, never instead of it: the certificate
//! must chain to a trusted root, name the server, be in date, *and* carry the
//! pinned key. So a pin protects a private deployment from a rogue or
//! compromised CA, and a changed key is refused loudly until the user pins
//! the new one on purpose.

use anyhow::{Context, Result};
use parley_server::{provider, read_certificates, read_private_key, read_roots, spki_sha256};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How the client reaches an `https://` server; all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Trust only this CA (PEM) instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// The SHA-256 of the server certificate's public key (SPKI), hex.
    pub pin_sha256: Option<String>,
    /// A client certificate chain (PEM), for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key: Option<PathBuf>,
}

/// What the handshake saw of the server: its key's SPKI hash, and whether it
/// was refused for not matching the pin.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// SPKI SHA-256 (hex) of the last certificate the server showed.
    pub spki_sha256: Option<String>,
    /// Set when the certificate was otherwise valid but its key is not the pinned one.
    pub pin_mismatch: bool,
}

/// A pin as 64 lowercase hex digits (colons and case forgiven).
pub fn normalise_pin(pin: &str) -> Result<String> {
    parley_service::normalise_spki(pin).context(
        "--pin-sha256: give the SHA-256 of the server's public key as 64 hex digits (as `parley login` shows it)",
    )
}

/// A reqwest client for `options`, and where the handshake tells what it saw.
pub fn http_client(options: &TlsOptions) -> Result<(reqwest::Client, Arc<Mutex<Seen>>)> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let inner: Arc<dyn ServerCertVerifier> = match &options.ca {
        Some(ca) => WebPkiServerVerifier::builder_with_provider(
            Arc::new(read_roots(ca).context("--ca")?),
            provider(),
        )
        .build()
        .with_context(|| format!("--ca {}: cannot verify servers with it", ca.display()))?,
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(provider())
                .context("reading the system's root certificates")?,
        ),
    };
    let verifier = Pinned {
        inner,
        pin: options
            .pin_sha256
            .as_deref()
            .map(normalise_pin)
            .transpose()?,
        seen: Arc::clone(&seen),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(parley_server::VERSIONS)
        .context("TLS versions")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match (&options.client_cert, &options.client_key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(read_certificates(cert)?, read_private_key(key)?)
            .with_context(|| {
                format!(
                    "--client-cert {} and --client-key {}: give the key that belongs to the certificate",
                    cert.display(),
                    key.display()
                )
            })?,
        (None, None) => builder.with_no_client_auth(),
        _ => anyhow::bail!("give both --client-cert and --client-key, or neither"),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .context("building the HTTP client")?;
    Ok((http, seen))
}

/// The chain check, then the pin.
#[derive(Debug)]
struct Pinned {
    inner: Arc<dyn ServerCertVerifier>,
    pin: Option<String>,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let spki = spki_sha256(end_entity).map_err(rustls::Error::General)?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.spki_sha256 = Some(spki.clone());
        seen.pin_mismatch = false;
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        match &self.pin {
            Some(pin) if *pin != spki => {
                seen.pin_mismatch = true;
                Err(rustls::Error::General(format!(
                    "the server's key is not the pinned one (SPKI SHA-256 {spki}, pinned {pin})"
                )))
            }
            _ => Ok(verified),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
