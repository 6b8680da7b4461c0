//! Loopback servers (axum, raw TCP, TLS with rcgen certificates) and helpers shared by the tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tower_service::Service;
use valence_http_client::{Auth, ClientConfig, RetryPolicy, Url};

/// A server on 127.0.0.1 that stops when dropped; `accepted` counts TCP connections.
pub struct TestServer {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl TestServer {
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).unwrap()
    }

    pub fn https_url(&self) -> Url {
        Url::parse(&format!("https://{}", self.addr)).unwrap()
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// Serves an axum router over plain HTTP/1.1.
pub async fn serve(router: Router) -> TestServer {
    serve_connections(router, None).await
}

/// Serves an axum router over TLS with the given certificate.
pub async fn serve_tls(router: Router, cert: &TestCert) -> TestServer {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.cert_der.clone()],
        PrivateKeyDer::Pkcs8(cert.key_der.clone_key()),
    )
    .unwrap();
    serve_connections(
        router,
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
    )
    .await
}

async fn serve_connections(router: Router, tls: Option<tokio_rustls::TlsAcceptor>) -> TestServer {
    let listener = listener().await;
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let router = router.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let mut router = router.clone();
                    router.call(request)
                });
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    TestServer {
        addr,
        accepted,
        task,
    }
}

/// A raw TCP server: `handle` gets each accepted connection and its number (from 1).
pub async fn serve_raw<F, Fut>(handle: F) -> TestServer
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = listener().await;
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::spawn(handle(tcp, number));
        }
    });
    TestServer {
        addr,
        accepted,
        task,
    }
}

/// Reads one HTTP request head (enough for GETs and small bodies the tests send).
pub async fn read_request_head(tcp: &mut TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0_u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Test defaults: short timeouts and backoffs so failures come back quickly.
pub fn config(base_url: Url, auth: Auth) -> ClientConfig {
    let mut config = ClientConfig::new(base_url, auth);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
    };
    config
}

/// Polls `condition` until it holds or `within` passes; returns whether it held.
pub async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn fixture(relative: &str) -> String {
    valence_fixtures::read(relative)
}

pub struct TestCert {
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

/// A self-signed end-entity certificate for these names.
pub fn self_signed(names: &[&str]) -> TestCert {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let certified = rcgen::generate_simple_self_signed(names).unwrap();
    TestCert {
        cert_pem: certified.cert.pem(),
        cert_der: certified.cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()),
    }
}

/// A CA named `ca_name` (its PEM) and a server certificate it issued for these names.
pub fn ca_and_leaf(ca_name: &str, names: &[&str]) -> (String, TestCert) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let leaf_params = rcgen::CertificateParams::new(names).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    (
        ca_cert.pem(),
        TestCert {
            cert_pem: leaf.pem(),
            cert_der: leaf.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        },
    )
}
