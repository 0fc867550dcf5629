//! TLS to PostgreSQL, as the URL's `sslmode` asks, with libpq's meanings
//! (rustls, so nothing links OpenSSL):
//!
//! - none, or `disable`: no TLS (libpq's default, `prefer`, would try it
//!   first; pricequeue encrypts only when asked);
//! - `allow`, `prefer`: TLS if the server offers it, its certificate not
//!   checked;
//! - `require`: TLS or no connection, the certificate not checked (as
//!   libpq: encryption against eavesdroppers, not against a server that
//!   pretends), unless `sslrootcert` is given, which makes it `verify-ca`;
//! - `verify-ca`: the certificate must be signed by a trusted root;
//! - `verify-full`: and name the host in the URL.
//!
//! Trusted roots: the PEM file `sslrootcert` names, or without it the
//! Mozilla roots built in; `sslrootcert=system` asks for those and, as in
//! libpq, for `verify-full`. Client certificates are refused with a line
//! that says so. The driver knows
//! neither the verify modes nor `sslrootcert`, so both are taken off the
//! URL here and the rest goes to the driver.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use r2d2_postgres::postgres::config::SslMode;
use r2d2_postgres::postgres::Config;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Usage;

/// The connector every connection of a database is made with.
pub type Tls = MakeRustlsConnect;

/// How far the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// The URL without its TLS options, and the connector they ask for; the
/// driver's own mode is set on `config` once it is parsed, by [`apply`].
pub struct Options {
    pub url: String,
    mode: SslMode,
    check: Check,
    roots: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` off `url`'s query.
pub fn split(url: &str) -> Result<Options> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut roots) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => mode = Some(decode(v)),
            Some(("sslrootcert", v)) => roots = Some(decode(v)),
            Some((key @ ("sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir"), _)) => bail!(Usage(format!(
                "{key} in --db: pricequeue does not present client certificates to PostgreSQL (nor read CRLs); \
                 sign in with a password in the URL instead"
            ))),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    // As libpq: the system's roots mean checking the host name too, and
    // are what `verify-full` is for (without a mode, it is that mode).
    let system = roots.as_deref() == Some("system");
    if system {
        match mode.as_deref() {
            None => mode = Some("verify-full".into()),
            Some("verify-full") => {}
            Some(other) => bail!(Usage(format!(
                "sslrootcert=system in --db goes with sslmode=verify-full (as in libpq), not sslmode={other}"
            ))),
        }
    }
    let roots = roots.filter(|_| !system);
    let (mode, check) = match mode.as_deref() {
        None | Some("disable") => (SslMode::Disable, Check::Nothing),
        Some("allow" | "prefer") => (SslMode::Prefer, Check::Nothing),
        Some("require") if roots.is_some() => (SslMode::Require, Check::Chain),
        Some("require") => (SslMode::Require, Check::Nothing),
        Some("verify-ca") => (SslMode::Require, Check::Chain),
        Some("verify-full") => (SslMode::Require, Check::ChainAndName),
        Some(other) => bail!(Usage(format!(
            "sslmode={other} in --db is not a TLS mode: use disable, prefer, require, verify-ca or verify-full"
        ))),
    };
    Ok(Options { url, mode, check, roots })
}

impl Options {
    /// Sets the driver's TLS mode on `config`, and makes the connector.
    pub fn apply(&self, config: &mut Config) -> Result<Tls> {
        config.ssl_mode(self.mode);
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("setting up TLS")?;
        let config = match self.check {
            Check::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
            Check::Chain | Check::ChainAndName => {
                let roots = Arc::new(self.roots()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .context("setting up TLS certificate checks")?;
                let verifier: Arc<dyn ServerCertVerifier> =
                    if self.check == Check::Chain { Arc::new(AnyName(webpki)) } else { webpki };
                builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
            }
        };
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore> {
        let Some(path) = &self.roots else {
            return Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect())
            .map_err(|e| Usage(format!("sslrootcert={path} in --db: cannot read certificates from it ({e})")))?;
        let mut store = RootCertStore::empty();
        let (added, _) = store.add_parsable_certificates(certs);
        if added == 0 {
            bail!(Usage(format!("sslrootcert={path} in --db holds no certificate this can use (it wants PEM)")));
        }
        Ok(store)
    }
}

/// One query value, percent-decoded (a path in `sslrootcert` may be
/// written with `%2F`).
fn decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()
}

/// `require` and `prefer`: any certificate, as long as the server holds its
/// key (the handshake's signatures are still checked).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: a certificate signed by a trusted root, whatever host it names.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_are_taken_off_the_url_and_the_rest_kept() {
        let o = split("postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem")
            .unwrap();
        assert_eq!(o.url, "postgres://u:p@h:5432/db?application_name=x");
        assert_eq!((o.mode, o.check, o.roots.as_deref()), (SslMode::Require, Check::ChainAndName, Some("/etc/ca.pem")));
        let o = split("postgres://h/db").unwrap();
        assert_eq!((o.url.as_str(), o.mode, o.check), ("postgres://h/db", SslMode::Disable, Check::Nothing));
        let o = split("postgres://h/db?sslmode=require").unwrap();
        assert_eq!((o.url.as_str(), o.mode, o.check), ("postgres://h/db", SslMode::Require, Check::Nothing));
        // As libpq: a root file makes `require` check the chain.
        let o = split("postgres://h/db?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(o.check, Check::Chain);
        // `system`: the built-in roots, and the host name checked (libpq 16).
        let o = split("postgres://h/db?sslrootcert=system").unwrap();
        assert_eq!((o.mode, o.check, o.roots), (SslMode::Require, Check::ChainAndName, None));
        let e = split("postgres://h/db?sslmode=require&sslrootcert=system").err().unwrap().to_string();
        assert!(e.contains("goes with sslmode=verify-full"), "{e}");
        let e = split("postgres://h/db?sslmode=require&sslcert=me.crt").err().unwrap().to_string();
        assert!(e.contains("sslcert in --db: pricequeue does not present client certificates"), "{e}");
        let e = split("postgres://h/db?sslmode=verify").err().unwrap().to_string();
        assert!(e.contains("sslmode=verify in --db is not a TLS mode"), "{e}");
    }
}
