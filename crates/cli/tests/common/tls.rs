//! Certificates for the tests, made here with `rcgen` (no OpenSSL, nothing
//! shipped): a CA, server certificates for 127.0.0.1 valid around the test's
//! own clock (or expired by it), and client certificates. Each is written as
//! PEM files into the test's directory.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PublicKeyData,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// SHA-256 of the certificate's SubjectPublicKeyInfo, hex, computed from
    /// the key pair (not from the certificate, as Parley does).
    pub spki: String,
}

impl Pair {
    pub fn cert(&self) -> &str {
        self.cert.to_str().unwrap()
    }
    pub fn key(&self) -> &str {
        self.key.to_str().unwrap()
    }
}

/// A certificate authority whose certificate is in `pem`.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pub pem: PathBuf,
    dir: PathBuf,
}

/// When a certificate is valid: from `days.0` to `days.1` days from now.
pub const CURRENT: (i64, i64) = (-1, 30);
/// A certificate that expired yesterday.
pub const EXPIRED: (i64, i64) = (-30, -1);

impl Ca {
    /// A new CA named `name`, its certificate in `dir/<name>.pem`.
    pub fn new(dir: &Path, name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        valid(&mut params, CURRENT);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pem = dir.join(format!("{name}.pem"));
        std::fs::write(&pem, issuer.pem()).unwrap();
        Ca {
            issuer,
            pem,
            dir: dir.to_path_buf(),
        }
    }

    pub fn pem(&self) -> &str {
        self.pem.to_str().unwrap()
    }

    /// A server certificate for 127.0.0.1 and localhost, valid over `days`.
    pub fn server(&self, name: &str, days: (i64, i64)) -> Pair {
        self.issue(name, vec!["127.0.0.1".into(), "localhost".into()], days)
    }

    /// A client certificate with common name `name`.
    pub fn client(&self, name: &str) -> Pair {
        self.issue(name, Vec::new(), CURRENT)
    }

    fn issue(&self, name: &str, names: Vec<String>, days: (i64, i64)) -> Pair {
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        valid(&mut params, days);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let pair = Pair {
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}.key")),
            spki: hex(&Sha256::digest(key.subject_public_key_info())),
        };
        std::fs::write(&pair.cert, cert.pem()).unwrap();
        std::fs::write(&pair.key, key.serialize_pem()).unwrap();
        pair
    }
}

fn valid(params: &mut CertificateParams, (from, to): (i64, i64)) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now + Duration::days(from);
    params.not_after = now + Duration::days(to);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
