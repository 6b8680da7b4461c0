//! A small HTTP/1.1 client over loopback for driving the Valence API and the simulated PODMs
//! directly: every call is timed by the caller, bodies are kept as bytes.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::de::DeserializeOwned;

use crate::BenchError;

/// An answer of any status.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Keep-alive client; cheap to clone (clones share the pool).
#[derive(Clone, Debug)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Http {
    /// `connections`: idle connections kept per host; `timeout`: budget of one call.
    pub fn new(connections: usize, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(connections)
            .build(connector);
        Self { client, timeout }
    }

    /// The same pool with another per-call budget.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            client: self.client.clone(),
            timeout,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<Reply, BenchError> {
        let fail = |detail: String| BenchError::Http {
            method: method.to_string(),
            url: url.to_owned(),
            detail,
        };
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(header::ACCEPT, "application/json");
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| fail(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| fail(format!("{e:?}")))?;
            let (parts, incoming) = response.into_parts();
            let body = incoming
                .collect()
                .await
                .map_err(|e| fail(e.to_string()))?
                .to_bytes();
            Ok(Reply {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| fail(format!("no answer within {:?}", self.timeout)))?
    }

    pub async fn get(&self, url: &str) -> Result<Reply, BenchError> {
        self.send(Method::GET, url, None).await
    }

    /// A 2xx answer, else [`BenchError::Status`].
    pub async fn expect(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, BenchError> {
        let bytes = body
            .map(|b| serde_json::to_vec(b).map(Bytes::from))
            .transpose()
            .map_err(|e| BenchError::Http {
                method: method.to_string(),
                url: url.to_owned(),
                detail: e.to_string(),
            })?;
        let reply = self.send(method.clone(), url, bytes).await?;
        if (200..300).contains(&reply.status) {
            Ok(reply)
        } else {
            Err(BenchError::Status {
                method: method.to_string(),
                url: url.to_owned(),
                status: reply.status,
                body: String::from_utf8_lossy(&reply.body[..reply.body.len().min(500)])
                    .into_owned(),
            })
        }
    }

    /// GET a 2xx JSON answer decoded into `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, BenchError> {
        let reply = self.expect(Method::GET, url, None).await?;
        decode(url, &reply.body)
    }
}

/// Decodes a JSON body; the error names the URL.
pub fn decode<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, BenchError> {
    serde_json::from_slice(body).map_err(|e| BenchError::Body {
        url: url.to_owned(),
        detail: e.to_string(),
    })
}

/// Number of elements of a JSON array body, without building them.
pub fn array_len(url: &str, body: &[u8]) -> Result<usize, BenchError> {
    decode::<Vec<serde::de::IgnoredAny>>(url, body).map(|v| v.len())
}
