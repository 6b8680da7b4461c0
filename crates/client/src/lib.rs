//! Typed client of the Valence REST API, shared by the CLI and other Rust programs.
//!
//! Built on `valence-http-client` (timeouts, TLS policy, retries of idempotent calls); API error
//! bodies come back as [`ClientError::Api`] with the server's code, detail and request id.

pub mod types;

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use valence_http_client::{
    Auth, ClientConfig, HeaderMap, HeaderName, HeaderValue, Method, PodmClient, SecretString,
    TlsPolicy, Url,
};

use crate::types::*;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid Valence URL {url:?}: {detail}")]
    InvalidUrl { url: String, detail: String },
    /// The server could not be reached or answered something unreadable.
    #[error(transparent)]
    Http(#[from] valence_http_client::Error),
    /// The server answered with an error body.
    #[error("{}", .0)]
    Api(Box<ApiFailure>),
    #[error("unexpected answer from {url}: {detail}")]
    Decode { url: String, detail: String },
    /// A request header cannot carry the value given.
    #[error("invalid {name} header: {detail}")]
    InvalidHeader { name: &'static str, detail: String },
}

/// An error answer of the API: its status and the upstream-Valence error body.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: u16,
    pub code: String,
    pub title: String,
    pub detail: String,
    pub request_id: Option<String>,
    pub body: serde_json::Value,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(failure) => Some(failure.status),
            Self::Http(err) => err.status(),
            _ => None,
        }
    }
}

/// How to reach a Valence server.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub url: String,
    pub token: Option<SecretString>,
    pub timeout: Duration,
    /// PEM of a CA to trust for an `https://` server with its own certificate.
    pub ca_cert: Option<String>,
    pub insecure: bool,
}

impl ClientOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            token: None,
            timeout: Duration::from_secs(60),
            ca_cert: None,
            insecure: false,
        }
    }
}

/// Filters of `GET /v1/nodes`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub podm_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<String>,
}

/// Filters of `GET /v1/systems`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SystemFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub podm_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_cores: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_memory_mib: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub free: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
}

/// Filters of `GET /v1/pod_managers`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PodManagerFilters {
    /// Read usage from the PODMs now instead of the cache.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
    /// `active`, `cordoned` or `deleting`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `Online`, `Offline` or `Unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Filters of `GET /v1/devices`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub podm_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// OpenStack-style paging of the list calls: at most `limit` items after the one whose id is
/// `marker`. Neither set means the whole list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Page {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

/// The query of a filtered, paged list.
#[derive(Serialize)]
struct Paged<'a, F> {
    #[serde(flatten)]
    filters: &'a F,
    #[serde(flatten)]
    page: &'a Page,
}

/// Header that makes a compose request safe to retry: the server answers a repeated key with
/// the node of the first request.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// A list together with the PODMs that did not answer (`Valence-Failed-Podms`).
#[derive(Debug, Clone)]
pub struct Partial<T> {
    pub items: T,
    pub failed_podms: Vec<String>,
}

/// Header naming the PODMs missing from an aggregated answer.
pub const FAILED_PODMS_HEADER: &str = "valence-failed-podms";

#[derive(Debug, Clone)]
pub struct Client {
    http: PodmClient,
}

impl Client {
    pub fn new(options: &ClientOptions) -> Result<Self, ClientError> {
        let base = Url::parse(&options.url).map_err(|err| ClientError::InvalidUrl {
            url: options.url.clone(),
            detail: err.to_string(),
        })?;
        let auth = match &options.token {
            Some(token) => Auth::Bearer {
                token: token.clone(),
            },
            None => Auth::None,
        };
        let mut config = ClientConfig::new(base, auth);
        config.request_timeout = options.timeout;
        config.user_agent = format!("valence-client/{}", env!("CARGO_PKG_VERSION"));
        config.tls = match (&options.ca_cert, options.insecure) {
            (_, true) => TlsPolicy::InsecureNoVerify,
            (Some(pem), false) => TlsPolicy::PinnedCa { pem: pem.clone() },
            (None, false) => TlsPolicy::SystemRoots,
        };
        Ok(Self {
            http: PodmClient::new(config)?,
        })
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url().as_str()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Partial<T>, ClientError> {
        self.call_with_headers(method, path, body, &HeaderMap::new())
            .await
    }

    async fn call_with_headers<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        headers: &HeaderMap,
    ) -> Result<Partial<T>, ClientError> {
        let response = self
            .http
            .request_with_headers(method, path, body, headers)
            .await?;
        if !response.is_success() {
            return Err(api_error(response.status, &response.body));
        }
        let failed_podms = response
            .header(FAILED_PODMS_HEADER)
            .map(split_failed)
            .unwrap_or_default();
        let body: &[u8] = if response.body.is_empty() {
            b"null"
        } else {
            &response.body
        };
        let items = serde_json::from_slice(body).map_err(|err| ClientError::Decode {
            url: response.url.clone(),
            detail: err.to_string(),
        })?;
        Ok(Partial {
            items,
            failed_podms,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        Ok(self.call(Method::GET, path, None).await?.items)
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let body = to_json(body, path)?;
        Ok(self.call(method, path, Some(&body)).await?.items)
    }

    // ------------------------------------------------------------ pod managers

    pub async fn list_pod_managers(&self) -> Result<Vec<PodManager>, ClientError> {
        self.get("/v1/pod_managers").await
    }

    pub async fn get_pod_manager(&self, id: &str) -> Result<PodManager, ClientError> {
        self.get(&format!("/v1/pod_managers/{}", segment(id))).await
    }

    /// The PODMs matching `filters`, one page; `failed_podms` names those a refresh missed.
    pub async fn list_pod_managers_page(
        &self,
        filters: &PodManagerFilters,
        page: &Page,
    ) -> Result<Partial<Vec<PodManager>>, ClientError> {
        let query = Paged { filters, page };
        self.call(Method::GET, &with_query("/v1/pod_managers", &query), None)
            .await
    }

    /// One PODM; with `refresh` its usage is read from the PODM now instead of the cache.
    pub async fn show_pod_manager(
        &self,
        id: &str,
        refresh: bool,
    ) -> Result<Partial<PodManager>, ClientError> {
        let mut path = format!("/v1/pod_managers/{}", segment(id));
        if refresh {
            path.push_str("?refresh=true");
        }
        self.call(Method::GET, &path, None).await
    }

    /// Registers a PODM; with `verify` an unreachable PODM is refused instead of stored offline.
    pub async fn create_pod_manager(
        &self,
        body: &PodManagerCreate,
        verify: bool,
    ) -> Result<PodManager, ClientError> {
        let path = if verify {
            "/v1/pod_managers?verify=true"
        } else {
            "/v1/pod_managers"
        };
        self.send(Method::POST, path, body).await
    }

    pub async fn update_pod_manager(
        &self,
        id: &str,
        body: &PodManagerUpdate,
    ) -> Result<PodManager, ClientError> {
        self.send(
            Method::PATCH,
            &format!("/v1/pod_managers/{}", segment(id)),
            body,
        )
        .await
    }

    /// What deleting the PODM would do, without doing it.
    pub async fn plan_pod_manager_delete(
        &self,
        id: &str,
        release: bool,
    ) -> Result<PodManagerDeletePlan, ClientError> {
        let path = format!(
            "/v1/pod_managers/{}?dry_run=true&release={release}",
            segment(id)
        );
        Ok(self.call(Method::DELETE, &path, None).await?.items)
    }

    pub async fn delete_pod_manager(&self, id: &str, release: bool) -> Result<(), ClientError> {
        let path = format!("/v1/pod_managers/{}?release={release}", segment(id));
        self.call::<serde_json::Value>(Method::DELETE, &path, None)
            .await
            .map(drop)
    }

    // ------------------------------------------------------------ nodes

    pub async fn list_nodes(&self, filters: &NodeFilters) -> Result<Vec<Node>, ClientError> {
        self.get(&with_query("/v1/nodes", filters)).await
    }

    pub async fn list_nodes_page(
        &self,
        filters: &NodeFilters,
        page: &Page,
    ) -> Result<Vec<Node>, ClientError> {
        self.get(&with_query("/v1/nodes", &Paged { filters, page }))
            .await
    }

    pub async fn get_node(&self, id: &str) -> Result<NodeDetail, ClientError> {
        self.get(&format!("/v1/nodes/{}", segment(id))).await
    }

    /// Starts composing; the node comes back `allocating` and follows the PODM from there.
    pub async fn compose_node(&self, body: &NodeCompose) -> Result<Node, ClientError> {
        self.send(Method::POST, "/v1/nodes", body).await
    }

    /// [`Client::compose_node`] with an `Idempotency-Key`: a retry with the same key answers
    /// the node of the first request instead of composing a second one.
    pub async fn compose_node_idempotent(
        &self,
        body: &NodeCompose,
        key: &str,
    ) -> Result<Node, ClientError> {
        let value = HeaderValue::from_str(key).map_err(|_| ClientError::InvalidHeader {
            name: IDEMPOTENCY_KEY_HEADER,
            detail: "must be visible ASCII characters".to_owned(),
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static(IDEMPOTENCY_KEY_HEADER), value);
        let body = to_json(body, "/v1/nodes")?;
        Ok(self
            .call_with_headers(Method::POST, "/v1/nodes", Some(&body), &headers)
            .await?
            .items)
    }

    /// The scheduler's decision and explanation, nothing composed.
    pub async fn plan_compose(&self, body: &NodeCompose) -> Result<serde_json::Value, ClientError> {
        self.send(Method::POST, "/v1/nodes?dry_run=true", body)
            .await
    }

    pub async fn delete_node(&self, id: &str) -> Result<(), ClientError> {
        self.call::<serde_json::Value>(Method::DELETE, &format!("/v1/nodes/{}", segment(id)), None)
            .await
            .map(drop)
    }

    pub async fn node_action(&self, id: &str, action: &NodeAction) -> Result<(), ClientError> {
        self.send::<_, serde_json::Value>(
            Method::POST,
            &format!("/v1/nodes/{}/action", segment(id)),
            action,
        )
        .await
        .map(drop)
    }

    pub async fn manage_node(&self, body: &NodeManage) -> Result<Node, ClientError> {
        self.send(Method::POST, "/v1/nodes/manage", body).await
    }

    // ------------------------------------------------------------ systems

    pub async fn list_systems(
        &self,
        filters: &SystemFilters,
    ) -> Result<Partial<Vec<System>>, ClientError> {
        self.call(Method::GET, &with_query("/v1/systems", filters), None)
            .await
    }

    pub async fn list_systems_page(
        &self,
        filters: &SystemFilters,
        page: &Page,
    ) -> Result<Partial<Vec<System>>, ClientError> {
        let query = Paged { filters, page };
        self.call(Method::GET, &with_query("/v1/systems", &query), None)
            .await
    }

    pub async fn get_system(&self, id: &str) -> Result<System, ClientError> {
        self.get(&format!("/v1/systems/{}", segment(id))).await
    }

    // ------------------------------------------------------------ flavors

    pub async fn list_flavors(&self) -> Result<Vec<Flavor>, ClientError> {
        self.get("/v1/flavors").await
    }

    /// Flavors, one page; `name` keeps only the flavor of that name.
    pub async fn list_flavors_page(
        &self,
        name: Option<&str>,
        page: &Page,
    ) -> Result<Vec<Flavor>, ClientError> {
        #[derive(Serialize)]
        struct ByName<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
        }
        let filters = ByName { name };
        self.get(&with_query(
            "/v1/flavors",
            &Paged {
                filters: &filters,
                page,
            },
        ))
        .await
    }

    pub async fn get_flavor(&self, id: &str) -> Result<Flavor, ClientError> {
        self.get(&format!("/v1/flavors/{}", segment(id))).await
    }

    pub async fn create_flavor(&self, body: &FlavorCreate) -> Result<Flavor, ClientError> {
        self.send(Method::POST, "/v1/flavors", body).await
    }

    pub async fn delete_flavor(&self, id: &str) -> Result<(), ClientError> {
        self.call::<serde_json::Value>(
            Method::DELETE,
            &format!("/v1/flavors/{}", segment(id)),
            None,
        )
        .await
        .map(drop)
    }

    // ------------------------------------------------------------ devices

    pub async fn list_devices(&self, podm_id: Option<&str>) -> Result<Vec<Device>, ClientError> {
        let path = match podm_id {
            Some(id) => format!("/v1/devices?podm_id={}", segment(id)),
            None => "/v1/devices".to_owned(),
        };
        self.get(&path).await
    }

    pub async fn list_devices_page(
        &self,
        filters: &DeviceFilters,
        page: &Page,
    ) -> Result<Vec<Device>, ClientError> {
        self.get(&with_query("/v1/devices", &Paged { filters, page }))
            .await
    }

    /// Re-reads the pooled devices of one PODM (`Some`) or of all of them.
    pub async fn sync_devices_of(
        &self,
        podm_id: Option<&str>,
    ) -> Result<Vec<DeviceSyncReport>, ClientError> {
        let path = match podm_id {
            Some(id) => format!("/v1/devices/sync?podm_id={}", segment(id)),
            None => "/v1/devices/sync".to_owned(),
        };
        self.send(Method::POST, &path, &serde_json::json!({})).await
    }

    pub async fn get_device(&self, id: &str) -> Result<Device, ClientError> {
        self.get(&format!("/v1/devices/{}", segment(id))).await
    }

    pub async fn sync_devices(&self) -> Result<Vec<DeviceSyncReport>, ClientError> {
        self.send(Method::POST, "/v1/devices/sync", &serde_json::json!({}))
            .await
    }
}

fn to_json<B: Serialize>(body: &B, path: &str) -> Result<serde_json::Value, ClientError> {
    serde_json::to_value(body).map_err(|err| ClientError::Decode {
        url: path.to_owned(),
        detail: err.to_string(),
    })
}

/// Percent-encodes one path segment so ids with `/` or `?` stay one segment.
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn with_query<Q: Serialize>(path: &str, query: &Q) -> String {
    match serde_urlencoded::to_string(query) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

fn split_failed(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn api_error(status: u16, body: &[u8]) -> ClientError {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    ClientError::Api(Box::new(ApiFailure {
        status,
        code: text("code").unwrap_or_else(|| format!("HTTP{status}")),
        title: text("title").unwrap_or_default(),
        detail: text("detail")
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect()),
        request_id: text("request_id"),
        body: value,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_skip_unset_filters() {
        let q = with_query(
            "/v1/systems",
            &SystemFilters {
                podm_id: Some("a b".into()),
                free: true,
                ..Default::default()
            },
        );
        assert_eq!(q, "/v1/systems?podm_id=a+b&free=true");
        assert_eq!(
            with_query("/v1/nodes", &NodeFilters::default()),
            "/v1/nodes"
        );
    }

    #[test]
    fn paged_queries_carry_filters_and_page() {
        let page = Page {
            limit: Some(2),
            marker: Some("m 1".into()),
        };
        let filters = NodeFilters {
            state: Some("ready".into()),
            ..Default::default()
        };
        assert_eq!(
            with_query(
                "/v1/nodes",
                &Paged {
                    filters: &filters,
                    page: &page
                }
            ),
            "/v1/nodes?state=ready&limit=2&marker=m+1"
        );
        let filters = PodManagerFilters::default();
        assert_eq!(
            with_query(
                "/v1/pod_managers",
                &Paged {
                    filters: &filters,
                    page: &Page::default()
                }
            ),
            "/v1/pod_managers"
        );
    }

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(segment("p1:System 1"), "p1%3ASystem%201");
    }

    #[test]
    fn api_errors_keep_code_detail_and_request_id() {
        let err = api_error(409, br#"{"code":"PodmHasNodes","title":"t","detail":"2 nodes","request_id":"req-1","status":409}"#);
        match err {
            ClientError::Api(f) => {
                assert_eq!(
                    (f.status, f.code.as_str(), f.detail.as_str()),
                    (409, "PodmHasNodes", "2 nodes")
                );
                assert_eq!(f.request_id.as_deref(), Some("req-1"));
            }
            other => panic!("{other:?}"),
        }
        let err = api_error(502, b"<html>bad gateway</html>");
        assert!(
            matches!(err, ClientError::Api(ref f) if f.code == "HTTP502" && f.detail.contains("bad gateway"))
        );
    }
}
