//! [`PodmClient`]: one PODM's connections, with deadlines, bounded retries, auth and a concurrency cap.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use crate::config::{Auth, ClientConfig, RetryPolicy, TlsPolicy};
use crate::connector::{ConnectTimedOut, TimedConnector};
use crate::error::Error;
use crate::redfish_error::{RedfishError, excerpt};
use crate::retry::{backoff, is_idempotent, parse_retry_after};
use crate::session::AuthState;
use crate::tls;

pub(crate) type HyperClient = Client<TimedConnector, Full<Bytes>>;

/// A client for one PODM. Cheap to clone (all clones share connections, the session and the
/// concurrency cap). When the last clone is dropped inside a tokio runtime, an open session
/// is deleted in the background; call [`PodmClient::logout`] to do it and see the outcome.
#[derive(Clone)]
pub struct PodmClient {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base_url: Url,
    pub(crate) http: HyperClient,
    pub(crate) auth: AuthState,
    tls: &'static str,
    pub(crate) request_timeout: Duration,
    max_response_bytes: usize,
    pub(crate) max_pages: usize,
    max_concurrent: usize,
    retry: RetryPolicy,
    pub(crate) user_agent: HeaderValue,
    slots: Semaphore,
}

/// A successful (2xx) answer, or an error answer on its way to becoming an [`Error::Status`].
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL requested.
    pub url: String,
    pub status: u16,
    /// The `Location` header as sent (absolute or relative); see [`Response::location_path`].
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Bytes,
    /// All response headers but `X-Auth-Token` (kept apart as a secret).
    pub headers: http::HeaderMap,
    pub(crate) header_x_auth_token: Option<SecretString>,
    retry_after: Option<Duration>,
}

impl Response {
    /// Decodes the body; a failure names the path of the bad field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode(&self.url, &self.body)
    }

    /// The path (and query) of `Location`, resolved against the request URL: the form in which
    /// Redfish resources are named (`/redfish/v1/Nodes/3`), whatever host the PODM put in it.
    pub fn location_path(&self) -> Option<String> {
        let location = self.location.as_deref()?;
        let resolved = Url::parse(&self.url).ok()?.join(location).ok()?;
        Some(match resolved.query() {
            Some(query) => format!("{}?{query}", resolved.path()),
            None => resolved.path().to_owned(),
        })
    }

    /// A header's value as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(crate) fn into_status_error(self) -> Error {
        let redfish = RedfishError::from_body(&self.body).map(Box::new);
        Error::Status {
            excerpt: if redfish.is_some() {
                String::new()
            } else {
                excerpt(&self.body)
            },
            url: self.url,
            status: self.status,
            redfish,
        }
    }
}

impl std::fmt::Debug for PodmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodmClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("auth", &self.inner.auth.describe())
            .field("tls", &self.inner.tls)
            .field("request_timeout", &self.inner.request_timeout)
            .field("max_concurrent", &self.inner.max_concurrent)
            .finish_non_exhaustive()
    }
}

impl PodmClient {
    /// Checks the configuration and prepares TLS; connects nothing yet.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        config.validate()?;
        let tls_config = tls::client_config(&config.tls)?;
        let tls = match config.tls {
            TlsPolicy::SystemRoots => "system roots",
            TlsPolicy::PinnedCa { .. } => "pinned CA",
            TlsPolicy::InsecureNoVerify => "not verified",
        };
        if config.tls == TlsPolicy::InsecureNoVerify && config.base_url.scheme() == "https" {
            tracing::warn!(url = %config.base_url, "TLS certificate verification is off for this PODM");
        }
        if config.base_url.scheme() == "http" && !matches!(config.auth, Auth::None) {
            tracing::warn!(url = %config.base_url, "PODM credentials will be sent without TLS");
        }
        let connector = TimedConnector::new(tls_config, config.connect_timeout);
        let http = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(config.max_concurrent)
            .build(connector);
        let user_agent =
            HeaderValue::from_str(&config.user_agent).map_err(|_| Error::InvalidConfig {
                field: "user_agent",
                detail: "is not a valid header value".into(),
            })?;
        let auth = AuthState::from_config(&config.auth, &config.base_url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                auth,
                tls,
                http,
                request_timeout: config.request_timeout,
                max_response_bytes: config.max_response_bytes,
                max_pages: config.max_pages,
                max_concurrent: config.max_concurrent,
                retry: config.retry,
                user_agent,
                slots: Semaphore::new(config.max_concurrent),
                base_url: config.base_url,
            }),
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The absolute URL for a path or link of this PODM; other origins are refused.
    pub fn url_for(&self, path: &str) -> Result<Url, Error> {
        resolve_on_origin(&self.inner.base_url, path)
    }

    /// GET, any 2xx answer; error statuses become [`Error::Status`].
    pub async fn get(&self, path: &str) -> Result<Response, Error> {
        let url = self.url_for(path)?;
        self.inner.execute(Method::GET, &url, None).await
    }

    /// GET and decode the JSON body into `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.get(path).await?.json()
    }

    pub async fn get_value(&self, path: &str) -> Result<serde_json::Value, Error> {
        self.get_json(path).await
    }

    /// POST a JSON body. Never retried: the PODM may have acted on the first one.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<Response, Error> {
        self.send_json(Method::POST, path, body).await
    }

    /// PATCH a JSON body. Never retried.
    pub async fn patch_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Response, Error> {
        self.send_json(Method::PATCH, path, body).await
    }

    /// DELETE (retried like GET: deleting twice leaves the same state).
    pub async fn delete(&self, path: &str) -> Result<Response, Error> {
        let url = self.url_for(path)?;
        self.inner.execute(Method::DELETE, &url, None).await
    }

    /// Any method, answering every status but 401 as `Ok` (the caller reads error bodies of its
    /// own format). Retried like the other calls when the method is idempotent.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, Error> {
        self.request_with_headers(method, path, body, &HeaderMap::new())
            .await
    }

    /// [`PodmClient::request`] with extra request headers (such as `Idempotency-Key`).
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        headers: &HeaderMap,
    ) -> Result<Response, Error> {
        let url = self.url_for(path)?;
        let body = body.map(|b| Bytes::from(b.to_string()));
        self.inner
            .execute_with(method, &url, body, StatusPolicy::AnyStatus, headers)
            .await
    }

    /// Deletes the Redfish session, if one is open. The next request logs in again.
    pub async fn logout(&self) -> Result<(), Error> {
        self.inner.logout().await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Response, Error> {
        let url = self.url_for(path)?;
        let body = Bytes::from(body.to_string());
        self.inner.execute(method, &url, Some(body)).await
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// Which answers a call returns as `Ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusPolicy {
    SuccessOnly,
    AnyStatus,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.logout_in_background();
    }
}

impl Inner {
    /// One call within one deadline: credentials, attempts, waits between them, body reads.
    pub(crate) async fn execute(
        &self,
        method: Method,
        url: &Url,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        self.execute_with(
            method,
            url,
            body,
            StatusPolicy::SuccessOnly,
            &HeaderMap::new(),
        )
        .await
    }

    pub(crate) async fn execute_with(
        &self,
        method: Method,
        url: &Url,
        body: Option<Bytes>,
        statuses: StatusPolicy,
        extra_headers: &HeaderMap,
    ) -> Result<Response, Error> {
        let deadline = Instant::now() + self.request_timeout;
        let attempts =
            self.attempt_until_done(&method, url, body, deadline, statuses, extra_headers);
        match tokio::time::timeout_at(deadline, attempts).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                url: url.to_string(),
                after: self.request_timeout,
            }),
        }
    }

    async fn attempt_until_done(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
        deadline: Instant,
        statuses: StatusPolicy,
        extra_headers: &HeaderMap,
    ) -> Result<Response, Error> {
        let mut attempt: u32 = 1;
        let mut logged_in_again = false;
        loop {
            let outcome = match self.credential().await {
                Ok(credential) => {
                    let generation = credential.session_generation;
                    self.send_once_with(method, url, body.clone(), credential.header, extra_headers)
                        .await
                        .map(|response| (response, generation))
                }
                Err(e) => Err(e),
            };
            let (failure, retry_after) = match outcome {
                Ok((response, generation)) if response.status == 401 => {
                    if let Some(generation) = generation
                        && !logged_in_again
                    {
                        tracing::info!(%url, "PODM answered 401; logging in again");
                        logged_in_again = true;
                        self.session_rejected(generation).await;
                        continue;
                    }
                    return Err(self.unauthorized(response, logged_in_again));
                }
                Ok((response, _)) if response.is_success() => return Ok(response),
                Ok((response, _))
                    if statuses == StatusPolicy::AnyStatus && response.status != 503 =>
                {
                    return Ok(response);
                }
                Ok((response, _)) => {
                    let retry_after = response.retry_after;
                    (response.into_status_error(), retry_after)
                }
                Err(e) => (e, None),
            };
            if !(is_idempotent(method)
                && failure.is_retryable()
                && attempt < self.retry.max_attempts)
            {
                return Err(failure);
            }
            let wait = match retry_after {
                // Retrying sooner than the PODM asked would only earn another 503.
                Some(asked) if asked > self.retry.max_backoff => return Err(failure),
                Some(asked) => asked,
                None => backoff(&self.retry, attempt),
            };
            if Instant::now() + wait >= deadline {
                return Err(failure);
            }
            tracing::warn!(%method, %url, attempt, ?wait, error = %failure, "retrying PODM request");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn unauthorized(&self, response: Response, logged_in_again: bool) -> Error {
        let reason = RedfishError::from_body(&response.body)
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let detail = match &self.auth {
            AuthState::None => format!("the PODM requires credentials (401){reason}"),
            AuthState::Basic { username, .. } => {
                format!("credentials of {username} refused (401){reason}")
            }
            AuthState::Bearer { .. } => format!("the bearer token was refused (401){reason}"),
            AuthState::Session(s) if logged_in_again => {
                format!("401 even with a new session of {}{reason}", s.username)
            }
            AuthState::Session(s) => format!("session of {} refused (401){reason}", s.username),
        };
        Error::Auth {
            url: response.url,
            detail,
        }
    }

    /// One exchange under one concurrency slot, body read included. Any status is `Ok`.
    pub(crate) async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
        credential: Option<(HeaderName, HeaderValue)>,
    ) -> Result<Response, Error> {
        self.send_once_with(method, url, body, credential, &HeaderMap::new())
            .await
    }

    async fn send_once_with(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
        credential: Option<(HeaderName, HeaderValue)>,
        extra_headers: &HeaderMap,
    ) -> Result<Response, Error> {
        let mut request = build_request(method, url, &self.user_agent, credential, body)?;
        request.headers_mut().extend(extra_headers.clone());
        let _slot = self.slots.acquire().await.map_err(|_| Error::Transport {
            url: url.to_string(),
            detail: "the client is shut down".to_owned(),
        })?;
        let started = Instant::now();
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| request_error(url, &e))?;
        let (parts, incoming) = response.into_parts();
        let limit = self.max_response_bytes;
        let declared_length = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared_length.is_some_and(|length| length > limit as u64) {
            return Err(Error::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let body = Limited::new(incoming, limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    Error::TooLarge {
                        url: url.to_string(),
                        limit,
                    }
                } else {
                    Error::Transport {
                        url: url.to_string(),
                        detail: format!("reading the body: {}", describe_chain(e.as_ref())),
                    }
                }
            })?
            .to_bytes();
        let status = parts.status.as_u16();
        tracing::debug!(%method, %url, status, bytes = body.len(), elapsed = ?started.elapsed(), "PODM request");
        let text_header = |name: HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Response {
            url: url.to_string(),
            status,
            location: text_header(header::LOCATION),
            etag: text_header(header::ETAG),
            header_x_auth_token: text_header(HeaderName::from_static("x-auth-token"))
                .map(SecretString::from),
            retry_after: parts
                .headers
                .get(header::RETRY_AFTER)
                .and_then(|v| parse_retry_after(v, SystemTime::now())),
            body,
            headers: {
                let mut headers = parts.headers;
                headers.remove(HeaderName::from_static("x-auth-token"));
                headers
            },
        })
    }
}

/// Every request carries the same negotiation headers: JSON, no compression (some PODMs
/// send broken gzip), OData 4.0.
pub(crate) fn build_request(
    method: &Method,
    url: &Url,
    user_agent: &HeaderValue,
    credential: Option<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
) -> Result<Request<Full<Bytes>>, Error> {
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(url.as_str())
        .header(header::ACCEPT, "application/json")
        .header(header::ACCEPT_ENCODING, "identity")
        .header("OData-Version", "4.0")
        .header(header::USER_AGENT, user_agent.clone());
    if let Some((name, value)) = credential {
        builder = builder.header(name, value);
    }
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| Error::InvalidUrl {
            url: url.to_string(),
            detail: e.to_string(),
        })
}

/// Joins a path or link onto `base`, refusing other origins so that credentials and the
/// PODM's TLS policy never apply to a host nobody registered.
pub(crate) fn resolve_on_origin(base: &Url, path: &str) -> Result<Url, Error> {
    let mut url = base.join(path).map_err(|e| Error::InvalidUrl {
        url: path.to_owned(),
        detail: e.to_string(),
    })?;
    if url.origin() != base.origin() {
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            detail: format!(
                "not on the PODM's origin {}",
                base.origin().ascii_serialization()
            ),
        });
    }
    url.set_fragment(None);
    Ok(url)
}

/// Decodes JSON; the error names the path of the bad field (`Members[3].@odata.id`).
pub(crate) fn decode<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| Error::Decode {
        url: url.to_owned(),
        path: e.path().to_string(),
        detail: e.inner().to_string(),
    })?;
    deserializer.end().map_err(|e| Error::Decode {
        url: url.to_owned(),
        path: ".".to_owned(),
        detail: e.to_string(),
    })?;
    Ok(value)
}

fn request_error(url: &Url, error: &hyper_util::client::legacy::Error) -> Error {
    let url_text = url.to_string();
    if let Some(detail) = tls::explain_tls_failure(error) {
        return Error::Tls {
            url: url_text,
            detail,
        };
    }
    if error.is_connect() {
        let detail = match tls::find_in_chain::<ConnectTimedOut>(error) {
            Some(timed_out) => timed_out.to_string(),
            None => describe_chain(error),
        };
        return Error::Connect {
            url: url_text,
            detail,
        };
    }
    Error::Transport {
        url: url_text,
        detail: describe_chain(error),
    }
}

/// The messages of an error and its sources, without the generic outer wrapper of
/// hyper-util ("client error (Connect)") when there is something more specific.
fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    if parts.len() > 1 && parts[0].starts_with("client error") {
        parts.remove(0);
    }
    parts.join(": ")
}
