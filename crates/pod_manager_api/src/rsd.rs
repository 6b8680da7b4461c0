//! The RSD 2.x driver (2.1, 2.2, 2.3; RSD 1.x spellings tolerated): composed nodes through the
//! `Nodes` collection the service root names, Allocate and Assemble through the targets the
//! PODM's documents give (never hard-coded paths).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::time::Instant;

use crate::allocate::allocate_body;
use crate::connection::Service;
use crate::doc::{self, normalize_link};
use crate::model::{
    ComposedNodeState, ComposedNodeSummary, DeviceSummary, RackSummary, SystemSummary,
};
use crate::ops;
use crate::parse;
use crate::{
    Capabilities, ComposeObserver, ComposeRequest, Driver, PodManager, PodmError, ProbeInfo,
};

const ALLOCATE: &str = "#ComposedNodeCollection.Allocate";
const ASSEMBLE: &str = "#ComposedNode.Assemble";
const RESET: &str = "#ComposedNode.Reset";
/// RSD 2.3 names them `...Resource` (with an ActionInfo), 2.1 and 2.2 `...Endpoint`.
const ATTACH: [&str; 2] = [
    "#ComposedNode.AttachResource",
    "#ComposedNode.AttachEndpoint",
];
const DETACH: [&str; 2] = [
    "#ComposedNode.DetachResource",
    "#ComposedNode.DetachEndpoint",
];

const FIRST_POLL: Duration = Duration::from_millis(200);
const LONGEST_POLL: Duration = Duration::from_secs(2);

pub(crate) struct RsdPodm {
    pub svc: Service,
}

impl RsdPodm {
    fn nodes_path(&self) -> Result<&str, PodmError> {
        self.svc.root.nodes.as_deref().ok_or_else(|| {
            PodmError::unsupported("composed nodes: the service root links no Nodes collection")
        })
    }

    /// A node path of this PODM: anything else is refused so that a stray URI can never make
    /// Valence delete or reset a resource that is not a composed node.
    fn node_uri(&self, resource_uri: &str) -> Result<String, PodmError> {
        let nodes = self.nodes_path()?;
        let uri = normalize_link(resource_uri);
        let inside = uri.strip_prefix(nodes).is_some_and(|rest| {
            rest.starts_with('/') && rest.len() > 1 && !rest.contains("/Actions")
        });
        if inside {
            Ok(uri)
        } else {
            Err(PodmError::NotFound { uri })
        }
    }

    /// System path -> path of the composed node using it.
    async fn nodes_by_system(&self) -> Result<HashMap<String, String>, PodmError> {
        if self.svc.root.nodes.is_none() {
            return Ok(HashMap::new());
        }
        Ok(self
            .list_nodes()
            .await?
            .into_iter()
            .filter_map(|n| n.system_uri.map(|s| (s, n.resource_uri)))
            .collect())
    }

    async fn allocate_target(&self) -> Result<String, PodmError> {
        let nodes = self.nodes_path()?;
        let collection = self.svc.reader.get(nodes).await?;
        doc::action(&collection, ALLOCATE)
            .map(|(target, _)| target)
            .ok_or_else(|| {
                PodmError::unsupported(format!(
                    "composition: the Nodes collection {nodes} offers no {ALLOCATE} action"
                ))
            })
    }

    /// The node an Allocate created, when the PODM answered without `Location`: found by tag.
    async fn find_by_tag(&self, tag: Option<&str>) -> Result<Option<String>, PodmError> {
        let Some(tag) = tag else { return Ok(None) };
        Ok(self
            .list_nodes()
            .await?
            .into_iter()
            .find(|n| n.has_tag(tag))
            .map(|n| n.resource_uri))
    }

    /// The Allocate POST got no answer: the PODM may still have allocated. A node carrying our
    /// tag is deleted again; the original error is returned either way.
    async fn allocation_unanswered(&self, error: PodmError, request: &ComposeRequest) -> PodmError {
        if !matches!(error, PodmError::Unreachable { .. }) {
            return error;
        }
        match self.find_by_tag(request.tag.as_deref()).await {
            Ok(Some(uri)) => {
                tracing::warn!(node = %uri, "allocation unanswered but done; deleting the node");
                let leaked_node =
                    ops::delete_with_retries(&self.svc.reader, &uri, self.svc.cleanup_timeout)
                        .await
                        .err()
                        .map(|_| uri);
                PodmError::ComposeFailed {
                    detail: format!("the allocation was not answered: {error}"),
                    leaked_node,
                }
            }
            _ => error,
        }
    }

    /// Everything after the allocation: the caller deletes the node when this fails. One
    /// deadline (`compose_timeout`) covers waiting for `Allocated`, assembling and waiting for
    /// `Assembled`.
    async fn assemble_and_wait(
        &self,
        node_uri: &str,
        observer: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, StepFailure> {
        let deadline = Instant::now() + self.svc.compose_timeout;
        let first = self
            .svc
            .reader
            .get(node_uri)
            .await
            .map_err(StepFailure::Podm)?;
        let allocated = parse::node(node_uri, &first).map_err(StepFailure::Podm)?;
        // Told at once, whatever the state, so the caller records the node before anything else.
        observer
            .allocated(&allocated)
            .await
            .map_err(StepFailure::Observer)?;
        let (node, document) = self.wait_for(node_uri, deadline, Phase::Allocated).await?;
        if node.state == ComposedNodeState::Allocated {
            let (assemble, _) = doc::action(&document, ASSEMBLE).ok_or_else(|| {
                StepFailure::Podm(PodmError::missing(
                    node_uri,
                    &format!("Actions.{ASSEMBLE}.target"),
                ))
            })?;
            self.svc
                .reader
                .client
                .post_json(&assemble, &json!({}))
                .await
                .map_err(|e| StepFailure::Podm(e.into()))?;
        }
        observer
            .assembling(&node)
            .await
            .map_err(StepFailure::Observer)?;
        Ok(self.wait_for(node_uri, deadline, Phase::Assembled).await?.0)
    }

    /// Polls `ComposedNodeState` (200 ms, growing to 2 s) until the node reaches `phase`, fails,
    /// or the deadline passes. A node already past `Allocated` counts as allocated.
    async fn wait_for(
        &self,
        node_uri: &str,
        deadline: Instant,
        phase: Phase,
    ) -> Result<(ComposedNodeSummary, serde_json::Value), StepFailure> {
        let mut pause = FIRST_POLL;
        loop {
            let document = self
                .svc
                .reader
                .get(node_uri)
                .await
                .map_err(StepFailure::Podm)?;
            let node = parse::node(node_uri, &document).map_err(StepFailure::Podm)?;
            let reached = match phase {
                Phase::Allocated => node.state != ComposedNodeState::Allocating,
                Phase::Assembled => node.state.is_assembled(),
            };
            if node.state == ComposedNodeState::Failed {
                return Err(StepFailure::Failed(format!(
                    "{node_uri} ended in state Failed{}",
                    ops::status_note(&document)
                )));
            }
            if reached {
                return Ok((node, document));
            }
            if Instant::now() + pause >= deadline {
                return Err(StepFailure::Failed(format!(
                    "{node_uri} did not become {} within {:?} (last state {})",
                    phase.name(),
                    self.svc.compose_timeout,
                    node.state.as_str()
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(LONGEST_POLL);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Allocated,
    Assembled,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Allocated => "Allocated",
            Phase::Assembled => "Assembled",
        }
    }
}

/// Why a compose stopped after the node was allocated.
enum StepFailure {
    Podm(PodmError),
    Observer(PodmError),
    Failed(String),
}

#[async_trait]
impl PodManager for RsdPodm {
    async fn probe(&self) -> Result<ProbeInfo, PodmError> {
        let root = &self.svc.root;
        let compose = match self.allocate_target().await {
            Ok(_) => true,
            Err(PodmError::Unsupported { .. } | PodmError::NotFound { .. }) => false,
            Err(e) => return Err(e),
        };
        Ok(ProbeInfo {
            driver: Driver::Rsd,
            service_uuid: root.uuid.clone(),
            redfish_version: root.redfish_version.clone(),
            rsd_api_version: root.rsd_api_version.clone(),
            capabilities: Capabilities {
                compose,
                sessions: root.offers_sessions(),
                rsd1_spellings: root.rsd1_spellings,
                pooled_devices: root.fabrics.is_some(),
                attach_detach: root.fabrics.is_some() && root.nodes.is_some(),
                expand: root.expand.query().is_some(),
            },
        })
    }

    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError> {
        let systems = self.svc.root.systems(&self.svc.root_url)?;
        let nodes = self.nodes_by_system().await?;
        self.svc.reader.list_systems(systems, &nodes).await
    }

    async fn inventory(&self) -> Result<(Vec<SystemSummary>, Vec<ComposedNodeSummary>), PodmError> {
        let systems = self.svc.root.systems(&self.svc.root_url)?;
        let nodes = self.list_nodes().await?;
        let by_system: HashMap<String, String> = nodes
            .iter()
            .filter_map(|n| Some((n.system_uri.clone()?, n.resource_uri.clone())))
            .collect();
        let systems = self.svc.reader.list_systems(systems, &by_system).await?;
        Ok((systems, nodes))
    }

    async fn get_system(&self, system_id: &str) -> Result<SystemSummary, PodmError> {
        let uri = self.svc.system_uri(system_id)?;
        let nodes = self.nodes_by_system().await?;
        self.svc.reader.system_summary(&uri, &nodes).await
    }

    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError> {
        let nodes = self.nodes_path()?;
        let documents = self.svc.reader.collection(nodes).await?;
        documents
            .iter()
            .map(|(uri, v)| parse::node(uri, v))
            .collect()
    }

    async fn get_node(&self, resource_uri: &str) -> Result<ComposedNodeSummary, PodmError> {
        let uri = self.node_uri(resource_uri)?;
        let document = self.svc.reader.get(&uri).await?;
        parse::node(&uri, &document)
    }

    async fn compose(
        &self,
        request: &ComposeRequest,
        observer: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, PodmError> {
        let target = self.allocate_target().await?;
        let body = allocate_body(request, self.svc.root.rsd_version())?;
        let response = match self.svc.reader.client.post_json(&target, &body).await {
            Ok(response) => response,
            Err(e) => return Err(self.allocation_unanswered(e.into(), request).await),
        };
        let node_uri = match response.location_path() {
            Some(location) => normalize_link(&location),
            None => match self.find_by_tag(request.tag.as_deref()).await {
                Ok(Some(uri)) => uri,
                _ => {
                    return Err(PodmError::ComposeFailed {
                        detail: format!(
                            "{target} answered {} without a Location header; the node it \
                             allocated cannot be followed",
                            response.status
                        ),
                        leaked_node: request
                            .tag
                            .as_deref()
                            .map(|tag| format!("(unknown node tagged {})", crate::tag_marker(tag))),
                    });
                }
            },
        };
        tracing::info!(node = %node_uri, "node allocated");
        let failure = match self.assemble_and_wait(&node_uri, observer).await {
            Ok(node) => return Ok(node),
            Err(failure) => failure,
        };
        let deleted =
            ops::delete_with_retries(&self.svc.reader, &node_uri, self.svc.cleanup_timeout).await;
        let leaked_node = match deleted {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(node = %node_uri, error = %e, "could not delete the node of a failed compose");
                Some(node_uri.clone())
            }
        };
        Err(match failure {
            StepFailure::Observer(e) => PodmError::Aborted {
                detail: e.to_string(),
                leaked_node,
            },
            StepFailure::Podm(e) => PodmError::ComposeFailed {
                detail: format!("{node_uri}: {e}"),
                leaked_node,
            },
            StepFailure::Failed(detail) => PodmError::ComposeFailed {
                detail,
                leaked_node,
            },
        })
    }

    async fn delete_node(&self, resource_uri: &str) -> Result<(), PodmError> {
        let uri = self.node_uri(resource_uri)?;
        self.svc.reader.client.delete(&uri).await?;
        Ok(())
    }

    async fn reset_node(&self, resource_uri: &str, reset_type: &str) -> Result<(), PodmError> {
        let uri = self.node_uri(resource_uri)?;
        ops::reset(&self.svc.reader, &uri, RESET, reset_type).await
    }

    async fn set_boot_source(
        &self,
        resource_uri: &str,
        enabled: &str,
        target: &str,
    ) -> Result<(), PodmError> {
        let uri = self.node_uri(resource_uri)?;
        ops::set_boot_source(&self.svc.reader, &uri, enabled, target).await
    }

    async fn list_racks(&self) -> Result<Vec<RackSummary>, PodmError> {
        ops::list_racks(&self.svc.reader, self.svc.root.chassis.as_deref()).await
    }

    async fn list_devices(&self) -> Result<Vec<DeviceSummary>, PodmError> {
        ops::list_devices(&self.svc.reader, self.svc.root.fabrics.as_deref()).await
    }

    async fn attach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        let uri = self.node_uri(node_uri)?;
        ops::node_device_action(&self.svc.reader, &uri, device_uri, &ATTACH, "attaching").await
    }

    async fn detach_device(&self, node_uri: &str, device_uri: &str) -> Result<(), PodmError> {
        let uri = self.node_uri(node_uri)?;
        ops::node_device_action(&self.svc.reader, &uri, device_uri, &DETACH, "detaching").await
    }
}
