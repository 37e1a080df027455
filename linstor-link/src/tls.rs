//! Optional TLS under the link (rustls with the ring provider): the satellite serves a
//! certificate, the controller verifies it against a CA. The HMAC handshake runs inside TLS
//! as well, so the cluster key still decides who may talk; TLS adds confidentiality and the
//! integrity of every frame after the handshake.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{client, server};

pub use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::error::LinkError;

/// The satellite's TLS acceptor from its certificate chain and private key (PEM files).
pub fn tls_acceptor(cert_pem: &Path, key_pem: &Path) -> Result<TlsAcceptor, LinkError> {
    let certs = load_certs(cert_pem)?;
    let key =
        PrivateKeyDer::from_pem_file(key_pem).map_err(|e| pem_error(key_pem, "private key", &e))?;
    let config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| LinkError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            LinkError::Tls(format!(
                "{} and {} are not usable together: {e}",
                cert_pem.display(),
                key_pem.display()
            ))
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The controller's TLS connector, trusting the CA certificates in `ca_pem`.
pub fn tls_connector(ca_pem: &Path) -> Result<TlsConnector, LinkError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(ca_pem)? {
        roots
            .add(cert)
            .map_err(|e| LinkError::Tls(format!("{}: not a usable CA: {e}", ca_pem.display())))?;
    }
    let config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| LinkError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The satellite's side of the TLS handshake on `stream`, bounded by `limit`.
pub async fn accept_tls<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    limit: Duration,
) -> Result<server::TlsStream<S>, LinkError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let run = acceptor.accept(stream);
    let tls = tokio::time::timeout(limit, run)
        .await
        .map_err(|_| tls_timeout(limit))?;
    tls.map_err(|e| LinkError::Tls(format!("handshake with the controller failed: {e}")))
}

/// The controller's side of the TLS handshake on `stream`; `host` (a DNS name or IP address)
/// must be in the satellite certificate's subject alternative names.
pub async fn connect_tls<S>(
    connector: &TlsConnector,
    host: &str,
    stream: S,
    limit: Duration,
) -> Result<client::TlsStream<S>, LinkError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| LinkError::Tls(format!("{host:?} is not a DNS name or IP address: {e}")))?;
    let run = connector.connect(name, stream);
    let tls = tokio::time::timeout(limit, run)
        .await
        .map_err(|_| tls_timeout(limit))?;
    tls.map_err(|e| LinkError::Tls(format!("handshake with satellite {host} failed: {e}")))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, LinkError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, "certificate", &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, "certificate", &e))?;
    if certs.is_empty() {
        return Err(LinkError::Tls(format!(
            "{}: no certificate in the file; give a PEM certificate (chain)",
            path.display()
        )));
    }
    Ok(certs)
}

fn pem_error(path: &Path, what: &str, e: &dyn std::fmt::Display) -> LinkError {
    LinkError::Tls(format!(
        "{}: no usable PEM {what}: {e}; give a PEM file (certificate chain, or \
         PKCS#8/PKCS#1/SEC1 private key)",
        path.display()
    ))
}

fn tls_timeout(after: Duration) -> LinkError {
    LinkError::Timeout {
        what: "TLS handshake",
        after,
    }
}
