//! Serving the router: plain HTTP on loopback, HTTPS (rustls) anywhere, each connection told
//! its client's address (for the limiter and the log).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use billora_engine::{Error, ErrorCode, Result};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::auth::ClientAddr;

/// How to listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Plain,
    Tls,
}

/// Loopback may be plain HTTP; any other address needs TLS, unless the admin says
/// `--insecure-http` on a network they trust.
pub fn check_address(addr: SocketAddr, listen: Listen, insecure_http: bool) -> Result<()> {
    if addr.ip().is_loopback() || listen == Listen::Tls || insecure_http {
        return Ok(());
    }
    Err(Error::invalid(
        "listen",
        format!("{addr} is reachable from the network, so the API there needs TLS (tokens would cross it in clear)"),
    )
    .with_hint("give --tls-cert and --tls-key, listen on 127.0.0.1, or add --insecure-http on a network you trust"))
}

/// The TLS settings from a PEM certificate chain and its private key.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .map_err(|e| {
            Error::invalid(
                "tls_cert",
                format!("cannot read the certificate {}: {e}", cert.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(Error::invalid(
            "tls_cert",
            format!("{} holds no certificate", cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::invalid(
            "tls_key",
            format!("cannot read the private key {}: {e}", key.display()),
        )
    })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::new(ErrorCode::TlsFailed, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| {
        Error::invalid(
            "tls_key",
            format!("the key does not fit the certificate: {e}"),
        )
    })?;
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let app = router.clone().layer(Extension(ClientAddr(peer.ip())));
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper_util::service::TowerToHyperService::new(app);
            let http = hyper::server::conn::http1::Builder::new();
            let served = match acceptor {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => http.serve_connection(TokioIo::new(tls), service).await,
                        _ => return,
                    }
                }
                None => http.serve_connection(TokioIo::new(stream), service).await,
            };
            if let Err(e) = served {
                tracing::debug!(client = %peer, error = %e, "a connection ended with an error");
            }
        });
    }
}
