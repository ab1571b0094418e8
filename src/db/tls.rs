//! TLS to PostgreSQL with rustls (no OpenSSL), as libpq's settings in `DATABASE_URL` ask:
//! `sslmode=disable | prefer | require | verify-ca | verify-full` and `sslrootcert=<file>`.
//! - `disable`, `prefer` (and no `sslmode`): plain TCP, as before.
//! - `require`: encrypted, the server's certificate not checked (as libpq without a root file).
//! - `verify-ca`: the certificate must chain to `sslrootcert`; the host name is not checked.
//! - `verify-full`: the chain and the host name (the default for a cautious operator).
//!
//! `tokio-postgres` knows neither `verify-ca` nor `verify-full` nor `sslrootcert`, so they are
//! taken out of the URL here and the rest goes to it.

use diesel::ConnectionResult;
use diesel::result::ConnectionError;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// How to connect, from the URL's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A database URL with its TLS settings taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL without `sslmode` and `sslrootcert`.
    pub url: String,
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
}

/// Reads `sslmode` and `sslrootcert` out of a `postgres://` URL.
pub fn parse(url: &str) -> Result<Target, String> {
    // The query starts at the first `?` after the credentials: a password may hold a `?`.
    let after_credentials = url.rfind('@').map_or(0, |at| at + 1);
    let (base, query) = match url[after_credentials..].find('?') {
        Some(i) => (&url[..after_credentials + i], &url[after_credentials + i + 1..]),
        None => (url, ""),
    };
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut rest = vec![];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "sslmode" => {
                mode = match value.as_str() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
                        ));
                    }
                }
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(value)),
            _ => rest.push(pair),
        }
    }
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
        return Err("sslmode verify-ca and verify-full need sslrootcert=<file of the CA's certificate>".into());
    }
    let given: Vec<&str> = rest.iter().map(|p| p.split_once('=').map_or(*p, |(k, _)| k)).collect();
    let defaults: Vec<String> = DEAD_PEER_DEFAULTS
        .iter()
        .filter(|(key, _)| !given.contains(key))
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let rest: Vec<&str> = rest.into_iter().chain(defaults.iter().map(String::as_str)).collect();
    let url = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
    Ok(Target { url, mode, root_cert })
}

/// TCP settings added to the URL unless it sets them itself (seconds). A database host that
/// vanishes (powered off, cut off by the network) then fails the request that was waiting on it
/// within half a minute, and the pool replaces the connection: without them a query sent to it
/// waits for the kernel's retransmissions, some fifteen minutes on Linux, holding its pooled
/// connection and its request. Idle pooled connections are probed too, so one whose host went
/// away is found dead in about a minute rather than when next used. A live database that is merely
/// slow is not affected: it acknowledges what is sent and answers the probes.
const DEAD_PEER_DEFAULTS: [(&str, u32); 4] =
    [("tcp_user_timeout", 30), ("keepalives_idle", 30), ("keepalives_interval", 10), ("keepalives_retries", 3)];

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn bad(e: impl std::fmt::Display) -> ConnectionError {
    ConnectionError::BadConnection(e.to_string())
}

/// Connects as the URL asks (see the module's text).
pub async fn connect(url: &str) -> ConnectionResult<AsyncPgConnection> {
    let target = parse(url).map_err(bad)?;
    if matches!(target.mode, SslMode::Disable | SslMode::Prefer) {
        return AsyncPgConnection::establish(&target.url).await;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match (&target.root_cert, target.mode) {
        (Some(path), mode) => {
            let mut roots = RootCertStore::empty();
            let certs =
                CertificateDer::pem_file_iter(path).map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?;
            for cert in certs {
                roots.add(cert.map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?).map_err(bad)?;
            }
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(bad)?;
            if mode == SslMode::VerifyCa { Arc::new(ChainOnly(webpki)) } else { webpki }
        }
        (None, _) => Arc::new(AnyCertificate(provider.clone())),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(bad)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let mut pg = tokio_postgres::Config::from_str(&target.url).map_err(bad)?;
    pg.ssl_mode(tokio_postgres::config::SslMode::Require);
    let (client, connection) = pg.connect(tokio_postgres_rustls::MakeRustlsConnect::new(config)).await.map_err(bad)?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
}

/// `verify-ca`: the chain must lead to the root; a certificate for another name is accepted.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(TlsError::InvalidCertificate(CertificateError::NotValidForName))
            | Err(TlsError::InvalidCertificate(CertificateError::NotValidForNameContext { .. })) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require`: encrypted, any certificate (the handshake's signatures are still checked).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_come_out_of_the_url() {
        let t = parse(
            "postgres://u:p@db.example:5432/hds?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(t.url, format!("postgres://u:p@db.example:5432/hds?application_name=x&{DEFAULTS}"));
        assert_eq!(parse("postgres://h/d").unwrap().mode, SslMode::Prefer);
        assert_eq!(
            parse("postgres://h/d?sslmode=require").unwrap(),
            Target { url: format!("postgres://h/d?{DEFAULTS}"), mode: SslMode::Require, root_cert: None }
        );
        assert!(parse("postgres://h/d?sslmode=verify-ca").is_err(), "verify-ca needs a root");
        assert!(parse("postgres://h/d?sslmode=maybe").is_err());
    }

    const DEFAULTS: &str = "tcp_user_timeout=30&keepalives_idle=30&keepalives_interval=10&keepalives_retries=3";

    /// A vanished database host fails a request within half a minute; the URL's own settings win,
    /// and what tokio-postgres reads is what was meant.
    #[test]
    fn a_vanished_database_host_is_given_up_on_unless_the_url_says_otherwise() {
        let url = parse("postgres://h/d?keepalives_idle=120&tcp_user_timeout=0").unwrap().url;
        assert_eq!(
            url,
            "postgres://h/d?keepalives_idle=120&tcp_user_timeout=0&keepalives_interval=10&keepalives_retries=3"
        );
        let config = tokio_postgres::Config::from_str(&parse("postgres://u@h:5/d").unwrap().url).unwrap();
        assert_eq!(config.get_tcp_user_timeout(), Some(&std::time::Duration::from_secs(30)));
        assert_eq!(config.get_keepalives_idle(), std::time::Duration::from_secs(30));
        assert_eq!(config.get_keepalives_interval(), Some(std::time::Duration::from_secs(10)));
        assert_eq!(config.get_keepalives_retries(), Some(3));
        assert!(config.get_keepalives());
        // A `?` in the password is not the start of the query.
        let url = parse("postgres://u:pa?ss@h:5/d").unwrap().url;
        assert_eq!(url, format!("postgres://u:pa?ss@h:5/d?{DEFAULTS}"));
        let config = tokio_postgres::Config::from_str(&url).unwrap();
        assert_eq!(config.get_dbname(), Some("d"));
        assert_eq!(config.get_password(), Some(&b"pa?ss"[..]));
    }
}
