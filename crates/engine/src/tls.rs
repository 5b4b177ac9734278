//! How the database server's certificate is checked: the one place that decides whether a
//! TLS channel to MySQL/MariaDB may carry the password and the dump.
//!
//! The stock clients' modes (`required`: encrypted, unverified; `verify-ca`; `verify-identity`:
//! CA and host name, with the system's roots or a CA file) plus **pinned**: trust on first use,
//! like SSH. The first successful connection records the server certificate's SHA-256; later a
//! different certificate is refused ([`ErrorCode::CertificateChanged`], both fingerprints) until
//! the user accepts the new one. Every mode records the certificate it saw
//! ([`SeenCertificate`]), so a connection test can show the fingerprint and whether the
//! system's roots would have accepted the server.
//!
//! The verifiers are rustls `ServerCertVerifier`s handed to the vendored `mysql` driver
//! (`vendor/mysql-billora-security.patch`); the handshake signature is always checked with the
//! certificate's key, so a pinned certificate also proves its private key.

use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, ErrorCode, Result};

/// The certificate a server presented on the last handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCertificate {
    /// SHA-256 of the certificate (DER), as `AA:BB:…` (what `openssl x509 -fingerprint
    /// -sha256` prints).
    pub sha256: String,
    /// Whether the system's roots accept it for the host name the connection used.
    pub trusted_by_system: bool,
    /// Why the connection's policy refused it, in words ("it does not name this host").
    pub refused_because: Option<String>,
}

/// The fingerprint of a DER certificate.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A fingerprint as typed or pasted (`sha256:aa bb…`, with or without colons) in the stored
/// form, or an error naming `field`.
pub fn normalize_fingerprint(field: &str, text: &str) -> Result<String> {
    let trimmed = text.trim();
    let trimmed = trimmed
        .strip_prefix("SHA256:")
        .or_else(|| trimmed.strip_prefix("sha256:"))
        .unwrap_or(trimmed);
    let hex: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            field,
            "a certificate fingerprint is 64 hexadecimal digits (SHA-256), for example AB:CD:…",
        ));
    }
    let upper = hex.to_ascii_uppercase();
    Ok(upper
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect::<Vec<_>>()
        .join(":"))
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system's verifier (the OS certificate store), built once.
fn system_verifier() -> Option<Arc<dyn ServerCertVerifier>> {
    static SYSTEM: OnceLock<Option<Arc<dyn ServerCertVerifier>>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            rustls_platform_verifier::Verifier::new(provider())
                .ok()
                .map(|v| Arc::new(v) as Arc<dyn ServerCertVerifier>)
        })
        .clone()
}

/// A verifier trusting only the certificates of a CA file (PEM, or one DER certificate).
fn ca_file_verifier(path: &std::path::Path) -> Result<Arc<dyn ServerCertVerifier>> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|e| {
        crate::error::io_error(e, &format!("reading the CA file {}", path.display()))
    })?;
    let mut roots = RootCertStore::empty();
    let pem: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(std::result::Result::ok)
        .collect();
    let certs = if pem.is_empty() {
        vec![CertificateDer::from(bytes)]
    } else {
        pem
    };
    for cert in certs {
        roots.add(cert).map_err(|e| {
            Error::invalid(
                "tls_ca_file",
                format!("{} is not a CA certificate ({e})", path.display()),
            )
        })?;
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| {
            Error::invalid(
                "tls_ca_file",
                format!("{} holds no usable CA certificate ({e})", path.display()),
            )
        })?;
    Ok(verifier)
}

/// What a handshake must prove.
#[derive(Debug, Clone)]
pub enum Policy {
    /// Anything (TLS mode `required`, or the first use of a pinned connection): the
    /// certificate is recorded, with whether the system would have trusted it.
    Record,
    /// Exactly this certificate (its fingerprint).
    Pinned(String),
    /// A chain to the CA file or, without one, the system's roots; the host name too when
    /// `check_name` (verify-identity), not for verify-ca.
    Roots {
        ca_file: Option<std::path::PathBuf>,
        check_name: bool,
    },
}

/// The rustls verifier of one connection attempt.
#[derive(Debug)]
pub struct CertificateCheck {
    policy: Policy,
    roots: Option<Arc<dyn ServerCertVerifier>>,
    seen: Arc<Mutex<Option<SeenCertificate>>>,
    /// The name to check the certificate against instead of the one the driver dialled (an
    /// SSH tunnel's near end is 127.0.0.1; the certificate names the database's host).
    name: Option<ServerName<'static>>,
}

impl CertificateCheck {
    /// Checks names against `host` (the database's host behind a tunnel).
    pub fn for_host(mut self, host: &str) -> Self {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.name = ServerName::try_from(host.to_owned()).ok();
        self
    }

    /// A verifier for `policy` that records what it saw in `seen`.
    pub fn new(policy: Policy, seen: Arc<Mutex<Option<SeenCertificate>>>) -> Result<Self> {
        let roots = match &policy {
            Policy::Roots {
                ca_file: Some(path),
                ..
            } => Some(ca_file_verifier(path)?),
            _ => system_verifier(),
        };
        Ok(CertificateCheck {
            policy,
            roots,
            seen,
            name: None,
        })
    }
}

fn name_error(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

impl ServerCertVerifier for CertificateCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let sha256 = fingerprint(end_entity);
        let server_name = self.name.as_ref().unwrap_or(server_name);
        let by_roots = self.roots.as_ref().map(|roots| {
            roots.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        });
        let trusted_by_system = matches!(&by_roots, Some(Ok(_)))
            && !matches!(
                self.policy,
                Policy::Roots {
                    ca_file: Some(_),
                    ..
                }
            );
        let verdict = match &self.policy {
            Policy::Record => Ok(ServerCertVerified::assertion()),
            Policy::Pinned(pin) if *pin == sha256 => Ok(ServerCertVerified::assertion()),
            Policy::Pinned(_) => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
            Policy::Roots { check_name, .. } => match by_roots {
                Some(Ok(verified)) => Ok(verified),
                Some(Err(e)) if !check_name && name_error(&e) => {
                    Ok(ServerCertVerified::assertion())
                }
                Some(Err(e)) => Err(e),
                None => Err(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer,
                )),
            },
        };
        let refused_because = verdict.as_ref().err().map(|e| match e {
            e if name_error(e) => "it does not name this host".to_owned(),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                "it is not signed by a trusted authority".to_owned()
            }
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            ) => "it has expired".to_owned(),
            rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure) => {
                "it is not the pinned certificate".to_owned()
            }
            other => format!("it does not verify ({other})"),
        });
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(SeenCertificate {
                sha256,
                trusted_by_system,
                refused_because,
            });
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether `host` is this machine's loopback (where plain text crosses no network).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The error of a pinned connection that met another certificate.
pub fn certificate_changed(what: &str, pinned: &str, seen: &str, profile: Option<&str>) -> Error {
    let accept = match profile {
        Some(name) => format!(
            "`billora-backup connection trust {} --fingerprint {seen}` (or Connections → Trust the new certificate in the app)",
            crate::sql::text::comment_name(name).trim_matches('`')
        ),
        None => "the connection's Trust the new certificate action".to_owned(),
    };
    Error::new(
        ErrorCode::CertificateChanged,
        format!(
            "{what}: the server presented a different certificate than the one pinned for it \
             (pinned {pinned}, now {seen}); nothing was sent"
        ),
    )
    .with_hint(format!(
        "if the server's certificate was replaced on purpose (ask whoever runs it to confirm the \
         new fingerprint), accept it with {accept}; otherwise someone may be intercepting the \
         connection"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalized_to_colon_separated_upper_case() {
        let pin = normalize_fingerprint(
            "fingerprint",
            "sha256:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45abcd",
        )
        .expect("64 hex digits are a fingerprint");
        assert_eq!(
            pin,
            "AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:CD",
            "upper case, colon-separated"
        );
        assert_eq!(
            normalize_fingerprint("fingerprint", &pin).as_deref(),
            Ok(pin.as_str()),
            "the stored form reads back as itself"
        );
        assert!(
            normalize_fingerprint("fingerprint", "AB:CD").is_err(),
            "a short value is refused"
        );
        assert_eq!(
            fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD",
            "SHA-256 of the DER bytes (FIPS 180-2 vector)"
        );
    }

    #[test]
    fn a_ca_file_that_holds_no_certificate_is_refused_on_its_field() {
        let path =
            std::env::temp_dir().join(format!("billora-not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&path, b"-----BEGIN NOTHING-----\nhello\n").expect("write");
        let err = ca_file_verifier(&path).expect_err("not a certificate: refused");
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            (err.code, err.field.as_deref()),
            (ErrorCode::InvalidInput, Some("tls_ca_file")),
            "the error points at the CA file field: {err:?}"
        );
        let missing = ca_file_verifier(std::path::Path::new("/nonexistent/ca.pem"))
            .expect_err("a missing file is refused");
        assert!(
            missing.message.contains("/nonexistent/ca.pem"),
            "the message names the file: {missing:?}"
        );
    }

    #[test]
    fn only_loopback_hosts_count_as_local() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host} is loopback");
        }
        for host in [
            "db.example.com",
            "192.168.1.10",
            "10.0.0.1",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback(host), "{host} is not loopback");
        }
    }
}
