//! rustls configuration for each [`TlsPolicy`], and TLS failures explained for operators.

use std::error::Error as StdError;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::config::TlsPolicy;
use crate::error::Error;

/// The provider is always passed explicitly: with two providers in the dependency graph,
/// rustls' implicit default panics (NOTES-deps).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls client configuration for a policy.
pub(crate) fn client_config(policy: &TlsPolicy) -> Result<rustls::ClientConfig, Error> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidConfig {
            field: "tls",
            detail: format!("no usable TLS protocol version: {e}"),
        })?;
    let config = match policy {
        TlsPolicy::SystemRoots => builder
            .with_root_certificates(system_roots()?)
            .with_no_client_auth(),
        TlsPolicy::PinnedCa { pem } => builder
            .with_root_certificates(pinned_roots(pem)?)
            .with_no_client_auth(),
        TlsPolicy::InsecureNoVerify => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// Loaded once per process: there is one client per PODM and the system store does not change
/// under a running server often enough to justify re-reading hundreds of certificates each time.
fn system_roots() -> Result<Arc<RootCertStore>, Error> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    let loaded = ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let reasons: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
            return Err(format!(
                "no trusted root certificates found on this system{}; install the CA bundle, \
                 or register the PODM with its CA certificate",
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", reasons.join("; "))
                }
            ));
        }
        Ok(Arc::new(roots))
    });
    loaded.clone().map_err(|detail| Error::InvalidConfig {
        field: "tls",
        detail,
    })
}

fn pinned_roots(pem: &str) -> Result<RootCertStore, Error> {
    let invalid = |detail: String| Error::InvalidConfig {
        field: "tls.pem",
        detail,
    };
    let mut roots = RootCertStore::empty();
    for (index, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let cert =
            cert.map_err(|e| invalid(format!("certificate {index} is not valid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| invalid(format!("certificate {index} cannot be a trust anchor: {e}")))?;
    }
    if roots.is_empty() {
        return Err(invalid("contains no CERTIFICATE block".into()));
    }
    Ok(roots)
}

/// Accepts any certificate, for PODMs registered with verification off. Handshake signatures
/// are still checked, so the peer at least holds the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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

/// Finds a rustls error in an error chain and explains it; `None` when the failure is not TLS.
pub(crate) fn explain_tls_failure(error: &(dyn StdError + 'static)) -> Option<String> {
    find_in_chain::<rustls::Error>(error).map(explain)
}

/// Walks `source()` links, looking inside `io::Error` wrappers too: `io::Error::source` skips
/// the error it wraps, and hyper-rustls wraps rustls errors in two of them.
pub(crate) fn find_in_chain<'a, T: StdError + 'static>(
    error: &'a (dyn StdError + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            let inner: &(dyn StdError + 'static) = inner;
            if let Some(found) = find_in_chain::<T>(inner) {
                return Some(found);
            }
        }
        current = e.source();
    }
    None
}

fn explain(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(cert_error) => match cert_error {
            CertificateError::UnknownIssuer => "certificate rejected: unknown issuer (it is \
                self-signed or signed by a CA that is not trusted); register the PODM with its \
                CA certificate, or with TLS verification off"
                .to_owned(),
            CertificateError::NotValidForName => {
                "certificate rejected: name mismatch (not valid for the PODM's host name)"
                    .to_owned()
            }
            CertificateError::NotValidForNameContext { .. } => {
                format!("certificate rejected: name mismatch: {cert_error}")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate rejected: expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate rejected: not valid yet (check the clocks)".to_owned()
            }
            CertificateError::BadSignature => {
                "certificate rejected: bad signature (not signed by the issuer it names)".to_owned()
            }
            CertificateError::Revoked => "certificate rejected: revoked".to_owned(),
            other => format!("certificate rejected: {other:?}"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "the server does not speak TLS as expected ({error}); is the PODM serving plain \
             HTTP on this port?"
        ),
        rustls::Error::PeerIncompatible(_) => {
            format!("no TLS version or cipher suite in common: {error}")
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the server aborted the handshake with alert {alert:?}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificate_is_rejected() {
        let err = client_config(&TlsPolicy::PinnedCa {
            pem: "not a certificate".into(),
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidConfig {
                    field: "tls.pem",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn rustls_error_is_found_inside_nested_io_errors() {
        let rustls_error = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls_error,
        ));
        let explained = explain_tls_failure(&wrapped).unwrap();
        assert!(explained.contains("unknown issuer"), "{explained}");
    }
}
