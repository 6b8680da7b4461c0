//! Route handlers, one module per resource: thin wrappers over `service`.

pub mod devices;
pub mod flavors;
pub mod metrics;
pub mod nodes;
pub mod pod_managers;
pub mod root;
pub mod systems;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use valence_redfish::PodmFailure;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// Runs a request's work on one PODM within one PODM call budget (`podm.request_timeout`), however
/// many calls it makes: a PODM answering each call just in time must not hold the request for
/// a multiple of the budget.
pub async fn within_podm_budget<T>(
    state: &AppState,
    what: &str,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let budget = state.settings.podm_request_timeout;
    tokio::time::timeout(budget, work)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                ErrorCode::PodmTimeout,
                format!(
                    "the pod manager did not finish {what} within {} ms",
                    budget.as_millis()
                ),
            ))
        })
}

/// Names the PODMs missing from an aggregated answer.
pub const FAILED_PODMS: HeaderName = HeaderName::from_static("valence-failed-podms");

/// `Valence-Failed-Podms: <uuid> (<kind>: <reason>), ...`; empty map when all answered.
pub fn failed_podms_header(failed: &[PodmFailure]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if failed.is_empty() {
        return headers;
    }
    let text = failed
        .iter()
        .map(|f| {
            let reason: String = f
                .reason
                .chars()
                .map(|c| if c == ',' { ';' } else { c })
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .take(200)
                .collect();
            format!("{} ({:?}: {reason})", f.uuid, f.kind)
        })
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&text) {
        headers.insert(FAILED_PODMS, value);
    }
    headers
}
