//! A minimal Redfish client for these tests: one HTTP/1.1 connection per request (plain or TLS
//! with a pinned CA), Basic or session auth, a timeout on every request.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use valence_podm_sim::SimPodm;

pub const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Basic(String, String),
    Token(String),
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
pub struct Client {
    addr: std::net::SocketAddr,
    tls: Option<TlsConnector>,
    pub auth: Auth,
}

/// Trusts exactly the certificates in `pem`.
pub fn tls_connector(pem: Option<&str>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

impl Client {
    /// A client for `podm`, trusting its CA when it serves TLS.
    pub fn new(podm: &SimPodm) -> Self {
        Self {
            addr: podm.addr(),
            tls: podm.ca_pem().map(|ca| tls_connector(Some(ca))),
            auth: Auth::None,
        }
    }

    pub fn with_tls(mut self, connector: Option<TlsConnector>) -> Self {
        self.tls = connector;
        self
    }

    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sends a request and waits at most `timeout` for the whole answer.
    pub async fn try_send_within(
        &self,
        timeout: Duration,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, String> {
        tokio::time::timeout(timeout, self.exchange(method, path, body))
            .await
            .map_err(|_| format!("no answer within {timeout:?}"))?
    }

    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, String> {
        self.try_send_within(TIMEOUT, method, path, body).await
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        match &self.tls {
            None => self.over(TokioIo::new(tcp), method, path, body).await,
            Some(connector) => {
                let name = ServerName::try_from("localhost").unwrap();
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("TLS: {e}"))?;
                self.over(TokioIo::new(tls), method, path, body).await
            }
        }
    }

    async fn over<I>(
        &self,
        io: TokioIo<I>,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, String>
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(connection);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string())
            .header(header::ACCEPT, "application/json");
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        match &self.auth {
            Auth::None => {}
            Auth::Basic(user, password) => {
                use base64::Engine;
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                req = req.header(header::AUTHORIZATION, format!("Basic {encoded}"));
            }
            Auth::Token(token) => req = req.header("X-Auth-Token", token),
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.try_send(Method::GET, path, None)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(
            resp.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&resp.body)
        );
        resp.json()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send_json(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send_json(Method::PATCH, path, body).await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Resp {
        self.try_send(
            method.clone(),
            path,
            Some(serde_json::to_vec(body).unwrap()),
        )
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.try_send(Method::DELETE, path, None)
            .await
            .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
    }
}

/// The path of a URL or path (`Location` headers of nodes are absolute).
pub fn path_of(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map(|i| rest[i..].to_owned())
            .unwrap_or_else(|| "/".to_owned()),
        None => location.to_owned(),
    }
}
