//! TLS for the server: the certificate and key from PEM files, reloaded on
//! demand (SIGHUP in `parley serve`) without dropping the service, and, with a
//! client CA, mutual TLS whose client certificates are named by the SHA-256 of
//! their public key (SPKI), which a party can bind its operators to.
//!
//! # Defaults
//! rustls on the `ring` provider: TLS 1.3, and TLS 1.2 with ECDHE and AEAD
//! suites only (AES-GCM, ChaCha20-Poly1305; rustls has no CBC or RSA key
//! exchange at all). ALPN offers `http/1.1` only, as the server speaks no more.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Why the TLS files could not be used; each names the file and what to give.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM.
    #[error("{}: {detail}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to give instead.
        detail: String,
    },
    /// The files were read but do not make a configuration (the key does not
    /// match the certificate, say).
    #[error("{0}")]
    Config(String),
}

/// The files a TLS server is configured from.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The server's certificate chain, PEM, the server's own first.
    pub cert: PathBuf,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// With this, mutual TLS: client certificates are required and must chain
    /// to one of these CA certificates (PEM).
    pub client_ca: Option<PathBuf>,
}

/// The TLS keys (SPKI SHA-256, hex) of this node's peer nodes, which reach
/// it as clients with their own certificates (mutual TLS between nodes).
pub trait NodeKeys: Send + Sync + std::fmt::Debug {
    /// Whether there are any (only then are client certificates asked for,
    /// when no client CA is configured).
    fn any(&self) -> bool;
    /// Whether `spki` is the pinned key of a peer node.
    fn is_node(&self, spki: &str) -> bool;
}

/// The server's TLS configuration, replaceable while connections are served:
/// each new connection takes the configuration current when it is accepted.
pub struct Tls {
    files: TlsFiles,
    nodes: Option<Arc<dyn NodeKeys>>,
    current: RwLock<Arc<ServerConfig>>,
}

impl Tls {
    /// Reads the files and builds the configuration.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let config = Arc::new(server_config(&files, None)?);
        Ok(Tls {
            files,
            nodes: None,
            current: RwLock::new(config),
        })
    }

    /// The same, also taking client certificates whose key is a peer node's
    /// (whatever CA issued them): how nodes reach each other.
    pub fn with_nodes(self, nodes: Arc<dyn NodeKeys>) -> Result<Tls, TlsError> {
        let config = Arc::new(server_config(&self.files, Some(&nodes))?);
        Ok(Tls {
            files: self.files,
            nodes: Some(nodes),
            current: RwLock::new(config),
        })
    }

    /// Reads the files again and uses them for new connections; on error the
    /// configuration in use stays (connections open keep theirs in any case).
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = Arc::new(server_config(&self.files, self.nodes.as_ref())?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        Ok(())
    }

    /// The certificate chain and key this server is served with, which it
    /// also presents as a client to peer nodes.
    pub fn identity(&self) -> Result<Identity, TlsError> {
        Ok(Identity {
            chain: read_certificates(&self.files.cert)?,
            key: Arc::new(read_private_key(&self.files.key)?),
        })
    }

    /// Whether client certificates are required.
    pub fn is_mutual(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// The configuration for a connection accepted now.
    pub(crate) fn config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The certificates in a PEM file, at least one.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file = |detail: String| TlsError::File {
        path: path.to_path_buf(),
        detail,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file(format!("cannot read: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(file(
            "no certificate in it; give a PEM file with '-----BEGIN CERTIFICATE-----' blocks"
                .into(),
        ));
    }
    Ok(certs)
}

/// The private key in a PEM file.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::File {
        path: path.to_path_buf(),
        detail: format!(
            "no private key read ({e}); give a PEM file with a '-----BEGIN PRIVATE KEY-----' (or RSA/EC) block"
        ),
    })
}

/// A store of the CA certificates in a PEM file.
pub fn read_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certificates(path)? {
        roots.add(cert).map_err(|e| TlsError::File {
            path: path.to_path_buf(),
            detail: format!("not a usable CA certificate: {e}"),
        })?;
    }
    Ok(roots)
}

/// The crypto provider used throughout: `ring`.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The protocol versions offered: TLS 1.3 and 1.2.
pub const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A certificate chain and its key, as a client presents them.
#[derive(Clone)]
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

fn server_config(
    files: &TlsFiles,
    nodes: Option<&Arc<dyn NodeKeys>>,
) -> Result<ServerConfig, TlsError> {
    let chain = read_certificates(&files.cert)?;
    let key = read_private_key(&files.key)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let ca = match &files.client_ca {
        Some(ca) => Some(
            WebPkiClientVerifier::builder_with_provider(Arc::new(read_roots(ca)?), provider())
                .build()
                .map_err(|e| TlsError::File {
                    path: ca.clone(),
                    detail: format!("cannot verify clients with it: {e}"),
                })?,
        ),
        None => None,
    };
    let builder = match (ca, nodes) {
        (ca, Some(nodes)) => builder.with_client_cert_verifier(Arc::new(NodeOrCa {
            ca,
            nodes: Arc::clone(nodes),
            provider: provider(),
        })),
        (Some(ca), None) => builder.with_client_cert_verifier(ca),
        (None, None) => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        TlsError::Config(format!(
            "{} and {}: {e}; give the key that belongs to the certificate",
            files.cert.display(),
            files.key.display()
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The SHA-256 of a certificate's SubjectPublicKeyInfo (DER), lowercase hex:
/// what a pin (`--pin-sha256`) and a party's certificate binding name. It is
/// the same as `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der
/// | sha256sum` and stays the same when a certificate is renewed on the same key.
pub fn spki_sha256(cert: &CertificateDer<'_>) -> Result<String, String> {
    let parsed = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| format!("not a readable X.509 certificate: {e}"))?;
    Ok(parley_service::sha256_hex(
        parsed.subject_public_key_info().as_ref(),
    ))
}

/// The handshake-signature part of a certificate verifier, as rustls does
/// it with the provider's algorithms (only whom to trust differs between
/// this file's verifiers).
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            let algorithms = &self.provider.signature_verification_algorithms;
            rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            let algorithms = &self.provider.signature_verification_algorithms;
            rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

/// Client certificates of peer nodes (by their pinned key) and, with a
/// client CA, those it issued; when there is no CA, a client without a
/// certificate is served as before (its requests need a token, or, for a
/// delivery, come from a node over plain HTTP on loopback).
#[derive(Debug)]
struct NodeOrCa {
    ca: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    nodes: Arc<dyn NodeKeys>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::server::danger::ClientCertVerifier for NodeOrCa {
    fn offer_client_auth(&self) -> bool {
        self.ca.is_some() || self.nodes.any()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.ca.is_some()
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.ca.as_ref().map_or(&[], |ca| ca.root_hint_subjects())
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        let spki = spki_sha256(end_entity).map_err(rustls::Error::General)?;
        if self.nodes.is_node(&spki) {
            return Ok(rustls::server::danger::ClientCertVerified::assertion());
        }
        match &self.ca {
            Some(ca) => ca.verify_client_cert(end_entity, intermediates, now),
            None => Err(rustls::Error::General(format!(
                "a client certificate of no peer node (SPKI SHA-256 {spki})"
            ))),
        }
    }

    handshake_signatures!();
}

/// An HTTP client that trusts exactly one server key, by its SPKI SHA-256
/// (`pin`, hex), whatever certificate carries it: how one node reaches
/// another, whose key both admins exchanged out of band. The handshake's
/// signatures are verified as usual. With `identity`, the client presents
/// it (mutual TLS: the peer checks it against the key it pinned for us).
pub(crate) fn pinned_client(
    pin: &str,
    identity: Option<&Identity>,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, String> {
    let verifier = PinOnly {
        pin: pin.to_string(),
        provider: provider(),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| format!("this node's certificate and key as a client: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// Accepts a server certificate only for its pinned key.
#[derive(Debug)]
struct PinOnly {
    pin: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let spki = spki_sha256(end_entity).map_err(rustls::Error::General)?;
        if spki == self.pin {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the peer's key is not the pinned one (SPKI SHA-256 {spki}, pinned {})",
                self.pin
            )))
        }
    }

    handshake_signatures!();
}
