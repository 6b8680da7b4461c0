//! `GET /` and `GET /v1`: the versions document, as upstream Valence serves it.

use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
    pub rel: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub status: String,
    pub min_version: String,
    pub max_version: String,
    pub links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Root {
    pub name: String,
    pub description: String,
    pub versions: Vec<Version>,
    pub default_version: Version,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V1 {
    pub id: String,
    pub status: String,
    pub links: Vec<Link>,
}

/// The base URL links are built from: the `Host` the client used, else the bound address.
fn base_url(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| state.settings.public_host.clone());
    format!("{}://{host}", state.settings.public_scheme)
}

fn v1_version(base: &str) -> Version {
    Version {
        id: "v1".into(),
        status: "CURRENT".into(),
        min_version: "1.0".into(),
        max_version: "1.0".into(),
        links: vec![Link {
            href: format!("{base}/v1/"),
            rel: "self".into(),
        }],
    }
}

#[utoipa::path(get, path = "/", tag = "root", security(()), responses((status = 200, body = Root)))]
pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> axum::Json<Root> {
    let base = base_url(&headers, &state);
    axum::Json(Root {
        name: "OpenStack Valence API".into(),
        description:
            "Valence: a controller for composable infrastructure over many Redfish pod managers"
                .into(),
        versions: vec![v1_version(&base)],
        default_version: v1_version(&base),
    })
}

#[utoipa::path(get, path = "/v1", tag = "root", security(()), responses((status = 200, body = V1)))]
pub async fn v1(State(state): State<AppState>, headers: HeaderMap) -> axum::Json<V1> {
    let base = base_url(&headers, &state);
    let links = ["pod_managers", "nodes", "systems", "flavors", "devices"]
        .into_iter()
        .map(|name| Link {
            href: format!("{base}/v1/{name}"),
            rel: name.into(),
        })
        .chain(std::iter::once(Link {
            href: format!("{base}/v1/"),
            rel: "self".into(),
        }))
        .collect();
    axum::Json(V1 {
        id: "v1".into(),
        status: "CURRENT".into(),
        links,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// Liveness: the process answers. Cheap; touches nothing.
#[utoipa::path(get, path = "/healthz", tag = "root", security(()), responses((status = 200, body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers (migrations ran before the server started listening). PODM
/// health does not make Valence unready.
#[utoipa::path(get, path = "/readyz", tag = "root", security(()),
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Health>, crate::ApiError> {
    state.db.ping().await.map_err(|err| {
        tracing::warn!(%err, "readiness check: database unreachable");
        crate::ApiError::new(
            crate::ErrorCode::ServiceUnavailable,
            "the database does not answer",
        )
    })?;
    Ok(axum::Json(Health {
        status: "ready".into(),
    }))
}

/// Counters of the server's async runtime. When the server is idle `alive_tasks` returns to a
/// baseline (background loops, open client connections); a figure that keeps growing after load
/// is a task leak.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuntimeStats {
    /// Tasks alive now: connections being served, requests, background work.
    pub alive_tasks: usize,
    /// Worker threads of the runtime.
    pub workers: usize,
    /// Tasks waiting in the runtime's global queue.
    pub global_queue_depth: usize,
}

#[utoipa::path(get, path = "/debug/runtime", tag = "root", responses((status = 200, body = RuntimeStats)))]
pub async fn runtime() -> axum::Json<RuntimeStats> {
    let metrics = tokio::runtime::Handle::current().metrics();
    axum::Json(RuntimeStats {
        alive_tasks: metrics.num_alive_tasks(),
        workers: metrics.num_workers(),
        global_queue_depth: metrics.global_queue_depth(),
    })
}
