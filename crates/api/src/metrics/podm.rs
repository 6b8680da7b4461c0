//! A [`PodManager`] wrapper that times every call to a PODM and counts its failures by kind.
//!
//! It sits where the API takes a connection from the cache (`service::podms::connection`), so
//! every call is measured (inventory reads of the aggregator, probes, composes, actions) without
//! `pod_manager_api` or `http_client` knowing of metrics.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use valence_pod_manager_api::{
    ComposeObserver, ComposeRequest, ComposedNodeSummary, DeviceSummary, PodManager, PodmError,
    ProbeInfo, RackSummary, SystemSummary,
};

use super::{Metrics, PodmCallLabels, PodmErrorLabels};

/// Every `operation` label value (one per [`PodManager`] method).
pub const OPERATIONS: &[&str] = &[
    "probe",
    "list_systems",
    "get_system",
    "list_nodes",
    "get_node",
    "compose",
    "delete_node",
    "reset_node",
    "set_boot_source",
    "list_racks",
    "list_devices",
    "attach_device",
    "detach_device",
];

/// Every `kind` label value of `valence_podm_request_errors_total`.
pub const ERROR_KINDS: &[&str] = &[
    "unreachable",
    "conflict",
    "not_found",
    "rejected",
    "bad_response",
    "unsupported",
    "compose_failed",
    "aborted",
    ABANDONED,
];

/// The caller stopped waiting before the PODM answered: Valence's per-PODM deadline
/// (`podm.fanout_timeout`) passed, or the client that asked went away.
pub const ABANDONED: &str = "abandoned";

pub fn error_kind(err: &PodmError) -> &'static str {
    match err {
        PodmError::Unreachable { .. } => "unreachable",
        PodmError::Conflict { .. } => "conflict",
        PodmError::NotFound { .. } => "not_found",
        PodmError::Rejected { .. } => "rejected",
        PodmError::BadResponse { .. } => "bad_response",
        PodmError::Unsupported { .. } => "unsupported",
        PodmError::ComposeFailed { .. } => "compose_failed",
        PodmError::Aborted { .. } => "aborted",
    }
}

/// A PODM connection whose calls are measured.
pub struct MeteredPodManager {
    inner: Arc<dyn PodManager>,
    metrics: Arc<Metrics>,
    podm: String,
    name: String,
}

impl std::fmt::Debug for MeteredPodManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredPodManager")
            .field("podm", &self.podm)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// `conn` with every call measured under the labels `podm` (uuid) and `name`.
    pub fn metered(
        self: &Arc<Self>,
        conn: Arc<dyn PodManager>,
        podm: &str,
        name: &str,
    ) -> Arc<dyn PodManager> {
        self.remember_podm_name(podm, name);
        Arc::new(MeteredPodManager {
            inner: conn,
            metrics: self.clone(),
            podm: podm.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// One call under way; records it when finished, or as abandoned when dropped before.
struct Call<'a> {
    owner: &'a MeteredPodManager,
    operation: &'static str,
    started: Instant,
    finished: bool,
}

impl Call<'_> {
    fn record(&mut self, failure: Option<&'static str>) {
        self.finished = true;
        let owner = self.owner;
        owner
            .metrics
            .podm_duration
            .get_or_create(&PodmCallLabels {
                podm: owner.podm.clone(),
                name: owner.name.clone(),
                operation: self.operation,
            })
            .observe(self.started.elapsed().as_secs_f64());
        if let Some(kind) = failure {
            owner
                .metrics
                .podm_errors
                .get_or_create(&PodmErrorLabels {
                    podm: owner.podm.clone(),
                    name: owner.name.clone(),
                    operation: self.operation,
                    kind,
                })
                .inc();
        }
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.record(Some(ABANDONED));
        }
    }
}

impl MeteredPodManager {
    async fn measure<T>(
        &self,
        operation: &'static str,
        call: impl std::future::Future<Output = Result<T, PodmError>>,
    ) -> Result<T, PodmError> {
        let mut guard = Call {
            owner: self,
            operation,
            started: Instant::now(),
            finished: false,
        };
        let result = call.await;
        guard.record(result.as_ref().err().map(error_kind));
        result
    }
}

#[async_trait]
impl PodManager for MeteredPodManager {
    async fn probe(&self) -> Result<ProbeInfo, PodmError> {
        self.measure("probe", self.inner.probe()).await
    }

    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError> {
        self.measure("list_systems", self.inner.list_systems())
            .await
    }

    async fn get_system(&self, system_id: &str) -> Result<SystemSummary, PodmError> {
        self.measure("get_system", self.inner.get_system(system_id))
            .await
    }

    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError> {
        self.measure("list_nodes", self.inner.list_nodes()).await
    }

    async fn get_node(&self, resource_uri: &str) -> Result<ComposedNodeSummary, PodmError> {
        self.measure("get_node", self.inner.get_node(resource_uri))
            .await
    }

    async fn compose(
        &self,
        request: &ComposeRequest,
        observer: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, PodmError> {
        self.measure("compose", self.inner.compose(request, observer))
            .await
    }

    async fn delete_node(&self, resource_uri: &str) -> Result<(), PodmError> {
        self.measure("delete_node", self.inner.delete_node(resource_uri))
            .await
    }

    async fn reset_node(&self, resource_uri: &str, reset_type: &str) -> Result<(), PodmError> {
        self.measure(
            "reset_node",
            self.inner.reset_node(resource_uri, reset_type),
        )
        .await
    }

    async fn set_boot_source(
        &self,
        resource_uri: &str,
        enabled: &str,
        target: &str,
    ) -> Result<(), PodmError> {
        self.measure(
            "set_boot_source",
            self.inner.set_boot_source(resource_uri, enabled, target),
        )
        .await
    }

    async fn list_racks(&self) -> Result<Vec<RackSummary>, PodmError> {
        self.measure("list_racks", self.inner.list_racks()).await
    }

    async fn list_devices(&self) -> Result<Vec<DeviceSummary>, PodmError> {
        self.measure("list_devices", self.inner.list_devices())
            .await
    }

    async fn attach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        self.measure(
            "attach_device",
            self.inner.attach_device(node_uri, device_uri),
        )
        .await
    }

    async fn detach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        self.measure(
            "detach_device",
            self.inner.detach_device(node_uri, device_uri),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::exposition::{encoded, value};
    use super::*;

    /// A PODM that is unreachable, or never answers.
    struct Down {
        hang: bool,
    }

    #[async_trait]
    impl PodManager for Down {
        async fn probe(&self) -> Result<ProbeInfo, PodmError> {
            if self.hang {
                std::future::pending::<()>().await;
            }
            Err(PodmError::Unreachable {
                detail: "connection refused".into(),
            })
        }
        async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError> {
            Ok(Vec::new())
        }
        async fn get_system(&self, id: &str) -> Result<SystemSummary, PodmError> {
            Err(PodmError::NotFound { uri: id.into() })
        }
        async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError> {
            Ok(Vec::new())
        }
        async fn get_node(&self, uri: &str) -> Result<ComposedNodeSummary, PodmError> {
            Err(PodmError::NotFound { uri: uri.into() })
        }
        async fn compose(
            &self,
            _: &ComposeRequest,
            _: &dyn ComposeObserver,
        ) -> Result<ComposedNodeSummary, PodmError> {
            Err(PodmError::unsupported("compose"))
        }
        async fn delete_node(&self, _: &str) -> Result<(), PodmError> {
            Ok(())
        }
        async fn reset_node(&self, _: &str, _: &str) -> Result<(), PodmError> {
            Ok(())
        }
        async fn set_boot_source(&self, _: &str, _: &str, _: &str) -> Result<(), PodmError> {
            Ok(())
        }
    }

    fn errors(metrics: &Metrics, operation: &str, kind: &str) -> f64 {
        let series = format!(
            r#"valence_podm_request_errors_total{{podm="p",name="rack",operation="{operation}",kind="{kind}"}}"#
        );
        value(&encoded(metrics), &series).unwrap_or(0.0)
    }

    fn calls(metrics: &Metrics, operation: &str) -> f64 {
        let series = format!(
            r#"valence_podm_request_duration_seconds_count{{podm="p",name="rack",operation="{operation}"}}"#
        );
        value(&encoded(metrics), &series).unwrap_or(0.0)
    }

    #[tokio::test]
    async fn calls_are_timed_and_failures_counted_by_kind() {
        let metrics = Arc::new(Metrics::new());
        let conn = metrics.metered(Arc::new(Down { hang: false }), "p", "rack");
        assert!(conn.probe().await.is_err());
        assert!(conn.list_systems().await.is_ok());
        assert!(conn.get_node("/n/1").await.is_err());
        assert_eq!(calls(&metrics, "probe"), 1.0);
        assert_eq!(calls(&metrics, "list_systems"), 1.0);
        assert_eq!(errors(&metrics, "probe", "unreachable"), 1.0);
        assert_eq!(errors(&metrics, "get_node", "not_found"), 1.0);
        assert_eq!(errors(&metrics, "list_systems", "unreachable"), 0.0);
    }

    #[tokio::test]
    async fn a_call_given_up_on_counts_as_abandoned() {
        let metrics = Arc::new(Metrics::new());
        let conn = metrics.metered(Arc::new(Down { hang: true }), "p", "rack");
        let waited = tokio::time::timeout(std::time::Duration::from_millis(10), conn.probe()).await;
        assert!(waited.is_err(), "the probe hangs");
        assert_eq!(errors(&metrics, "probe", ABANDONED), 1.0);
        assert_eq!(calls(&metrics, "probe"), 1.0);
    }
}
