//! TLS for simulated PODMs: a throw-away CA and a server certificate it signs for the loopback
//! names, generated at start (rcgen, ring) and never written to disk unless asked.
//!
//! Clients pin the CA (`SimPodm::ca_pem`); a fleet shares one CA and certificate, so a
//! benchmark trusts a thousand PODMs with one root.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::SimError;

/// The certificates of a TLS-serving PODM (or fleet) and the server configuration built on them.
pub(crate) struct TlsMaterial {
    pub(crate) ca_pem: String,
    pub(crate) cert_pem: String,
    pub(crate) server_config: Arc<ServerConfig>,
}

impl TlsMaterial {
    /// A new CA and a server certificate for `localhost`, `127.0.0.1`, `::1` and `bind`.
    pub(crate) fn generate(bind: IpAddr) -> Result<Self, SimError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name = name("Valence PODM simulator CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let bind_name = bind.to_string();
        if !bind.is_unspecified() && !names.contains(&bind_name) {
            names.push(bind_name);
        }
        let mut leaf_params = CertificateParams::new(names)?;
        leaf_params.distinguished_name = name("localhost");
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem: ca.pem(),
            cert_pem: leaf.pem(),
            server_config: Arc::new(config),
        })
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "Valence");
    dn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_distinct_pem_certificates() {
        let a = TlsMaterial::generate(IpAddr::from([127, 0, 0, 1])).unwrap();
        let b = TlsMaterial::generate(IpAddr::from([127, 0, 0, 1])).unwrap();
        assert!(a.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(a.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(a.ca_pem, a.cert_pem);
        assert_ne!(a.ca_pem, b.ca_pem);
    }
}
