//! The private CA and the server certificates (right, wrong CA, wrong name, expired), all
//! generated at start with rcgen (ECDSA P-256), and the rustls server configs that serve them.

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use std::sync::Arc;

/// The names the right server certificate is valid for.
pub const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];
/// The only name the wrong-hostname certificate is valid for.
pub const WRONG_NAME: &str = "wrong-host.invalid";

pub struct Certs {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub other_ca_pem: String,
    pub good: Arc<ServerConfig>,
    pub wrong_ca: Arc<ServerConfig>,
    pub wrong_host: Arc<ServerConfig>,
    pub expired: Arc<ServerConfig>,
}

fn ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).expect("CA cert");
    (cert, Issuer::new(params, key))
}

fn leaf(
    names: &[&str],
    issuer: &Issuer<'_, KeyPair>,
    expired: bool,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().expect("leaf key");
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("leaf params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names[0]);
    params.distinguished_name = dn;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let cert = params.signed_by(&key, issuer).expect("leaf cert");
    (cert.der().clone(), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config((cert, key): (CertificateDer<'static>, PrivateKeyDer<'static>)) -> Arc<ServerConfig> {
    let cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server cert");
    Arc::new(cfg)
}

impl Certs {
    pub fn generate() -> Certs {
        let (ca_cert, ca_issuer) = ca("escapes-testidp CA");
        let (other_cert, other_issuer) = ca("escapes-testidp other CA");
        Certs {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            other_ca_pem: other_cert.pem(),
            good: server_config(leaf(SERVER_NAMES, &ca_issuer, false)),
            wrong_ca: server_config(leaf(SERVER_NAMES, &other_issuer, false)),
            wrong_host: server_config(leaf(&[WRONG_NAME], &ca_issuer, false)),
            expired: server_config(leaf(SERVER_NAMES, &ca_issuer, true)),
        }
    }
}
