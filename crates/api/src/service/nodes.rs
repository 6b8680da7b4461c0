//! Composed nodes: placement, compose (recorded step by step, trying the next candidate when a
//! PODM refuses), decompose, actions and adoption.

use async_trait::async_trait;
use uuid::Uuid;
use valence_client::types;
use valence_db::{ManagedBy, NodeState, PodmState, PodmStatus};
use valence_pod_manager_api::{
    ComposeObserver, ComposeRequest, ComposedNodeSummary, PodmError, Requirements,
};
use valence_scheduler::{Placement, PlacementRequest, PodmSnapshot};

use crate::AppState;
use crate::convert;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::ComposeResult;
use crate::service::podms;

/// Steps recorded in `nodes.compose_step`, so a restart knows which PODM call was under way.
pub mod step {
    pub const SCHEDULED: &str = "scheduled";
    pub const ALLOCATE: &str = "allocate";
    pub const ASSEMBLE: &str = "assemble";
    pub const DELETE: &str = "delete";
}

/// What `POST /v1/nodes` did.
#[derive(Debug)]
pub enum ComposeOutcome {
    /// `dry_run`: the scheduler's decision, nothing recorded.
    Planned(Placement),
    /// The node is recorded and being composed in the background.
    Started(types::Node),
    /// A request with this idempotency key was already accepted: its node.
    Existing(types::Node),
}

/// Validated compose input.
struct ComposePlan {
    name: String,
    description: Option<String>,
    podm: Option<Uuid>,
    flavor: Option<Uuid>,
    requirements: Requirements,
}

async fn plan(state: &AppState, body: types::NodeCompose) -> Result<ComposePlan, ApiError> {
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if name.len() > 255 {
        return Err(ApiError::invalid_field(
            "name",
            "must be at most 255 characters",
        ));
    }
    let podm = body
        .podm_id
        .as_deref()
        .map(|id| {
            Uuid::parse_str(id.trim()).map_err(|_| {
                ApiError::invalid_field("podm_id", format!("{id:?} is not a pod manager id"))
            })
        })
        .transpose()?;
    let (flavor, requirements) = match (body.flavor_id, body.properties) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "flavor_id",
                "give either flavor_id or properties, not both",
            ));
        }
        (Some(flavor_id), None) => {
            let flavor = crate::routes::flavors::find_flavor(state, &flavor_id)
                .await
                .map_err(|err| {
                    if err.code == ErrorCode::NotFound {
                        ApiError::invalid_field("flavor_id", format!("no flavor {flavor_id:?}"))
                    } else {
                        err
                    }
                })?;
            let requirements = convert::stored_requirements(
                &flavor.properties,
                &format!("flavor {}", flavor.uuid),
            )?;
            (Some(flavor.uuid), requirements)
        }
        (None, Some(properties)) => (None, properties),
        (None, None) => (None, Requirements::default()),
    };
    requirements
        .validate()
        .map_err(|e| ApiError::invalid_field(&format!("properties.{}", e.field), e.reason))?;
    Ok(ComposePlan {
        name,
        description: body.description,
        podm,
        flavor,
        requirements,
    })
}

fn scheduler_state(state: PodmState) -> valence_scheduler::PodmState {
    match state {
        PodmState::Active => valence_scheduler::PodmState::Active,
        PodmState::Cordoned => valence_scheduler::PodmState::Cordoned,
        PodmState::Deleting => valence_scheduler::PodmState::Deleting,
    }
}

fn can_compose(row: &valence_db::PodManager) -> bool {
    // Capabilities are unknown until the first successful probe; the PODM decides then.
    row.capabilities
        .get("compose")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true)
}

/// Runs the scheduler over every PODM's cached inventory.
pub async fn place(
    state: &AppState,
    requirements: &Requirements,
    podm: Option<Uuid>,
) -> Result<Placement, ApiError> {
    let rows = podms::all_rows(state).await?;
    // Only the PODMs the scheduler could pick need an inventory.
    let eligible: Vec<valence_db::PodManager> = rows
        .iter()
        .filter(|r| r.state == PodmState::Active && podm.is_none_or(|p| p == r.uuid))
        .cloned()
        .collect();
    let (inventories, failed) = podms::inventories(state, &eligible, false).await;
    let failed: std::collections::HashSet<&str> = failed.iter().map(|f| f.uuid.as_str()).collect();
    let uuids: Vec<String> = rows.iter().map(|r| r.uuid.to_string()).collect();
    let empty: Vec<valence_pod_manager_api::SystemSummary> = Vec::new();
    let reserved = reserve_pending(state, &inventories).await?;
    let snapshot: Vec<PodmSnapshot<'_>> = rows
        .iter()
        .zip(&uuids)
        .map(|(row, uuid)| {
            let (status, _, _) = podms::live_status(state, row);
            let status = if failed.contains(uuid.as_str()) {
                PodmStatus::Offline
            } else {
                status
            };
            PodmSnapshot {
                uuid,
                name: &row.name,
                state: scheduler_state(row.state),
                status: match status {
                    PodmStatus::Online => valence_scheduler::PodmStatus::Online,
                    PodmStatus::Offline => valence_scheduler::PodmStatus::Offline,
                    PodmStatus::Unknown => valence_scheduler::PodmStatus::Unknown,
                },
                can_compose: can_compose(row),
                systems: reserved
                    .get(uuid)
                    .map(Vec::as_slice)
                    .or_else(|| inventories.get(uuid).map(|inv| inv.systems.as_slice()))
                    .unwrap_or(empty.as_slice()),
            }
        })
        .collect();
    let request = PlacementRequest {
        requirements: requirements.clone(),
        podm_uuid: podm.map(|p| p.to_string()),
        policy: state.settings.policy,
    };
    Ok(valence_scheduler::schedule(&snapshot, &request))
}

/// Inventories with the systems that composes still waiting for their PODM's answer will take
/// marked as used. Those composes are rows in the database (any instance's), so racing requests
/// are spread over the free systems before any PODM is called; a PODM's own 409 stays the last
/// word. A compose the PODM has accepted is marked in the cached inventory (see `StepRecorder`).
async fn reserve_pending(
    state: &AppState,
    inventories: &std::collections::HashMap<String, std::sync::Arc<valence_redfish::Inventory>>,
) -> Result<std::collections::HashMap<String, Vec<valence_pod_manager_api::SystemSummary>>, ApiError>
{
    let pending = state.db.run(valence_db::nodes::in_progress).await?;
    let mut reserved: std::collections::HashMap<
        String,
        Vec<valence_pod_manager_api::SystemSummary>,
    > = Default::default();
    for node in pending
        .iter()
        .filter(|n| n.state == NodeState::Allocating && n.resource_uri.is_none())
    {
        let key = node.podm_uuid.to_string();
        let Some(inventory) = inventories.get(&key) else {
            continue;
        };
        let systems = reserved
            .entry(key)
            .or_insert_with(|| inventory.systems.clone());
        let requirements: Requirements =
            serde_json::from_value(node.requirements.clone()).unwrap_or_default();
        // The PODM takes the smallest system that fits; so does the reservation.
        let taken = systems
            .iter_mut()
            .filter(|s| s.is_free() && s.satisfies(&requirements).is_ok())
            .min_by_key(|s| (s.total_cores, s.memory_mib));
        if let Some(system) = taken {
            system.composed_node = Some(format!("pending:{}", node.uuid));
        }
    }
    Ok(reserved)
}

fn no_valid_podm(placement: &Placement, requested: bool) -> ApiError {
    let rejected: Vec<&valence_scheduler::Rejection> = placement
        .rejected()
        .iter()
        .filter(|r| !(requested && r.filter == valence_scheduler::Filter::RequestedPodm))
        .collect();
    let summary = if rejected.is_empty() {
        "no pod manager is registered".to_owned()
    } else {
        rejected
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    ApiError::new(
        ErrorCode::NoValidPodm,
        format!("no pod manager can compose this node: {summary}"),
    )
    .with(
        "rejected",
        serde_json::to_value(&rejected).unwrap_or_default(),
    )
}

/// `POST /v1/nodes`.
pub async fn compose(
    state: &AppState,
    body: types::NodeCompose,
    dry_run: bool,
    idempotency_key: Option<String>,
) -> Result<ComposeOutcome, ApiError> {
    let plan = plan(state, body).await?;
    if let Some(key) = idempotency_key.clone() {
        let existing = state
            .db
            .run(move |conn| valence_db::nodes::find_by_idempotency_key(conn, &key))
            .await?;
        if let Some(node) = existing {
            return Ok(ComposeOutcome::Existing(convert::node(node)));
        }
    }
    let placement = place(state, &plan.requirements, plan.podm).await?;
    let candidates: Vec<Uuid> = match &placement {
        Placement::UnknownPodm { podm_uuid } => {
            return Err(ApiError::invalid_field(
                "podm_id",
                format!("no pod manager {podm_uuid}"),
            ));
        }
        Placement::NoValidPodm { .. } if !dry_run => {
            state
                .metrics
                .compose_finished(ComposeResult::NoValidPodm, None);
            return Err(no_valid_podm(&placement, plan.podm.is_some()));
        }
        Placement::NoValidPodm { .. } => Vec::new(),
        Placement::Ranked { candidates, .. } => candidates
            .iter()
            .filter_map(|c| Uuid::parse_str(&c.podm_uuid).ok())
            .collect(),
    };
    if dry_run {
        return Ok(ComposeOutcome::Planned(placement));
    }
    let Some(first) = candidates.first().copied() else {
        state
            .metrics
            .compose_finished(ComposeResult::NoValidPodm, None);
        return Err(no_valid_podm(&placement, plan.podm.is_some()));
    };
    let requirements_json = serde_json::to_value(&plan.requirements)
        .map_err(|e| ApiError::internal(format!("cannot store requirements: {e}")))?;
    let new = valence_db::NewNode {
        name: plan.name.clone(),
        description: plan.description.clone(),
        podm_uuid: first,
        node_index: None,
        resource_uri: None,
        system_uri: None,
        state: NodeState::Allocating,
        compose_step: Some(step::SCHEDULED.to_owned()),
        flavor_uuid: plan.flavor,
        requirements: requirements_json,
        managed_by: ManagedBy::Valence,
        idempotency_key: idempotency_key.clone(),
        owner_instance: Some(state.instance_id.clone()),
    };
    let created = state
        .db
        .run(move |conn| valence_db::nodes::create(conn, &new))
        .await;
    let node = match (created, idempotency_key) {
        (Ok(node), _) => node,
        // Two requests with one key raced: the other one won; answer with its node.
        (Err(err), Some(key)) if err.is_conflict(valence_db::ConflictKind::Unique) => {
            let existing = state
                .db
                .run(move |conn| valence_db::nodes::find_by_idempotency_key(conn, &key))
                .await?;
            return existing
                .map(|n| ComposeOutcome::Existing(convert::node(n)))
                .ok_or_else(|| err.into());
        }
        (Err(err), _) => return Err(err.into()),
    };
    tracing::info!(node = %node.uuid, name = %node.name, podm = %first, candidates = candidates.len(), "compose accepted");
    let request = ComposeRequest {
        name: plan.name,
        description: plan.description,
        requirements: plan.requirements,
        tag: Some(node.uuid.to_string()),
    };
    let task_state = state.clone();
    let node_uuid = node.uuid;
    let span = tracing::Span::current();
    state.tasks.spawn(tracing::Instrument::instrument(
        async move { run_compose(&task_state, node_uuid, candidates, request).await },
        span,
    ));
    Ok(ComposeOutcome::Started(convert::node(node)))
}

/// Records each PODM step of a compose before the next call.
struct StepRecorder<'a> {
    state: &'a AppState,
    node: Uuid,
    podm: Uuid,
}

#[async_trait]
impl ComposeObserver for StepRecorder<'_> {
    async fn allocated(&self, node: &ComposedNodeSummary) -> Result<(), PodmError> {
        // The PODM holds the system from now on: the next placement must see it used (marked in
        // the cached inventory when the node names its system, else the PODM is read again).
        let podm = self.podm.to_string();
        if node.system_uri.is_some() {
            self.state.aggregator.record_composed(&podm, node).await;
        } else {
            self.state.aggregator.invalidate(&podm).await;
        }
        let changes = valence_db::NodeUpdate {
            resource_uri: Some(Some(node.resource_uri.clone())),
            node_index: Some(Some(node.index.clone())),
            compose_step: Some(Some(step::ASSEMBLE.to_owned())),
            ..Default::default()
        };
        self.record(changes).await
    }

    async fn assembling(&self, _node: &ComposedNodeSummary) -> Result<(), PodmError> {
        let changes = valence_db::NodeUpdate {
            state: Some(NodeState::Assembling),
            ..Default::default()
        };
        self.record(changes).await
    }
}

impl StepRecorder<'_> {
    async fn record(&self, changes: valence_db::NodeUpdate) -> Result<(), PodmError> {
        let uuid = self.node;
        self.state
            .db
            .run(move |conn| valence_db::nodes::update(conn, uuid, &changes))
            .await
            .map(drop)
            .map_err(|err| PodmError::Aborted {
                detail: format!("cannot record the compose step: {err}"),
                leaked_node: None,
            })
    }
}

pub(crate) async fn update_node(state: &AppState, uuid: Uuid, changes: valence_db::NodeUpdate) {
    if let Err(err) = state
        .db
        .run(move |conn| valence_db::nodes::update(conn, uuid, &changes))
        .await
    {
        tracing::error!(node = %uuid, %err, "cannot record the node's state");
    }
}

/// Composes on the candidates in order until one succeeds; a 409 from a PODM (resources taken
/// meanwhile) moves on to the next one.
async fn run_compose(state: &AppState, node: Uuid, candidates: Vec<Uuid>, request: ComposeRequest) {
    let started = std::time::Instant::now();
    let finished = |result| {
        state
            .metrics
            .compose_finished(result, Some(started.elapsed()));
    };
    let mut refusals = Vec::new();
    for podm in candidates {
        let row = match podms::get_row(state, podm).await {
            Ok(row) if row.state == PodmState::Active => row,
            Ok(row) => {
                refusals.push(format!("{}: {}", row.name, row.state.as_str()));
                continue;
            }
            Err(_) => continue,
        };
        update_node(
            state,
            node,
            valence_db::NodeUpdate {
                podm_uuid: Some(podm),
                compose_step: Some(Some(step::ALLOCATE.to_owned())),
                ..Default::default()
            },
        )
        .await;
        let conn = match podms::connection(state, &row).await {
            Ok(conn) => conn,
            Err(err) => {
                refusals.push(format!("{}: {}", row.name, err.detail));
                continue;
            }
        };
        let recorder = StepRecorder { state, node, podm };
        let outcome = conn.compose(&request, &recorder).await;
        match &outcome {
            // The cached inventory is brought up to date rather than read again by the next
            // placement.
            Ok(composed) => {
                state
                    .aggregator
                    .record_composed(&podm.to_string(), composed)
                    .await;
            }
            Err(_) => state.aggregator.invalidate(&podm.to_string()).await,
        }
        match outcome {
            Ok(composed) => {
                update_node(
                    state,
                    node,
                    valence_db::NodeUpdate {
                        state: Some(NodeState::Ready),
                        compose_step: Some(None),
                        resource_uri: Some(Some(composed.resource_uri)),
                        node_index: Some(Some(composed.index)),
                        system_uri: Some(composed.system_uri),
                        last_error: Some(None),
                        owner_instance: Some(None),
                        ..Default::default()
                    },
                )
                .await;
                tracing::info!(%node, %podm, "node ready");
                finished(ComposeResult::Ready);
                return;
            }
            Err(PodmError::Conflict { messages }) => {
                tracing::info!(%node, %podm, ?messages, "pod manager refused the allocation; trying the next candidate");
                refusals.push(format!("{}: {}", row.name, messages.join("; ")));
            }
            Err(err) => {
                tracing::warn!(%node, %podm, error = %err, "compose failed");
                fail(state, node, err.to_string()).await;
                finished(ComposeResult::Failed);
                return;
            }
        }
    }
    let detail = if refusals.is_empty() {
        "no candidate pod manager was left".to_owned()
    } else {
        format!(
            "every candidate pod manager refused: {}",
            refusals.join(" | ")
        )
    };
    fail(state, node, detail).await;
    finished(ComposeResult::Failed);
}

pub(crate) async fn fail(state: &AppState, node: Uuid, detail: String) {
    update_node(
        state,
        node,
        valence_db::NodeUpdate {
            state: Some(NodeState::Failed),
            compose_step: Some(None),
            last_error: Some(Some(detail)),
            owner_instance: Some(None),
            ..Default::default()
        },
    )
    .await;
}

pub async fn get_row(state: &AppState, uuid: Uuid) -> Result<valence_db::Node, ApiError> {
    Ok(state
        .db
        .run(move |conn| valence_db::nodes::get(conn, uuid))
        .await?)
}

/// Releases a node on its PODM and forgets it. A node the PODM no longer has is simply
/// forgotten; a PODM that fails the deletion leaves the node `deleting`, owned by nobody, so
/// the recovery round of any instance retries it (or the client does).
pub async fn decompose(state: &AppState, node: valence_db::Node) -> Result<(), ApiError> {
    if matches!(node.state, NodeState::Allocating | NodeState::Assembling)
        && node.compose_step.is_some()
    {
        return Err(ApiError::conflict(format!(
            "node {} is being composed; delete it when it is ready or failed",
            node.uuid
        )));
    }
    let uuid = node.uuid;
    if let Some(uri) = node.resource_uri.clone() {
        let row = podms::get_row(state, node.podm_uuid).await?;
        let progress = valence_db::NodeUpdate {
            state: Some(NodeState::Deleting),
            compose_step: Some(Some(step::DELETE.to_owned())),
            owner_instance: Some(Some(state.instance_id.clone())),
            ..Default::default()
        };
        state
            .db
            .run(move |conn| valence_db::nodes::update(conn, uuid, &progress))
            .await?;
        let conn = podms::connection(state, &row).await?;
        match conn.delete_node(&uri).await {
            Ok(()) | Err(PodmError::NotFound { .. }) => {}
            Err(err) => {
                let detail = err.to_string();
                update_node(
                    state,
                    uuid,
                    valence_db::NodeUpdate {
                        last_error: Some(Some(detail)),
                        owner_instance: Some(None),
                        ..Default::default()
                    },
                )
                .await;
                return Err(err.into());
            }
        }
        state
            .aggregator
            .record_released(&node.podm_uuid.to_string(), &uri)
            .await;
    }
    state
        .db
        .run(move |conn| valence_db::nodes::delete(conn, uuid))
        .await?;
    tracing::info!(node = %uuid, podm = %node.podm_uuid, "node released");
    Ok(())
}

/// `GET /v1/nodes/{uuid}`: the record plus what the PODM says now. A PODM that does not answer
/// leaves the live fields empty and names the failure.
pub async fn detail(state: &AppState, uuid: Uuid) -> Result<types::NodeDetail, ApiError> {
    let row = get_row(state, uuid).await?;
    let podm_uuid = row.podm_uuid;
    let resource_uri = row.resource_uri.clone();
    let node = convert::node(row);
    let mut detail = types::NodeDetail {
        node,
        power_state: None,
        composed_node_state: None,
        system: None,
        podm_error: None,
    };
    let Some(uri) = resource_uri else {
        return Ok(detail);
    };
    let podm = podms::get_row(state, podm_uuid).await?;
    let conn = podms::connection(state, &podm).await?;
    // One deadline for everything asked of the PODM here, not one per call.
    let deadline = tokio::time::Instant::now() + state.settings.aggregator.call_timeout;
    match tokio::time::timeout_at(deadline, conn.get_node(&uri)).await {
        Ok(Ok(live)) => {
            detail.power_state = live.power_state.clone();
            detail.composed_node_state = Some(live.state.as_str().to_owned());
            if let Some(system_uri) = &live.system_uri {
                let inventory = match podms::target(state, &podm).await {
                    Ok(target) => tokio::time::timeout_at(
                        deadline,
                        state.aggregator.inventory(&target, false),
                    )
                    .await
                    .ok()
                    .and_then(Result::ok),
                    Err(_) => None,
                };
                detail.system = inventory
                    .and_then(|inv| {
                        inv.systems
                            .iter()
                            .find(|s| &s.resource_uri == system_uri)
                            .cloned()
                    })
                    .map(|s| crate::service::systems::system_body(&podm_uuid.to_string(), s));
            }
        }
        Ok(Err(err)) => detail.podm_error = Some(err.to_string()),
        Err(_) => detail.podm_error = Some("the pod manager did not answer in time".into()),
    }
    Ok(detail)
}

/// `POST /v1/nodes/{uuid}/action`.
pub async fn action(
    state: &AppState,
    uuid: Uuid,
    action: types::NodeAction,
) -> Result<(), ApiError> {
    let row = get_row(state, uuid).await?;
    let Some(uri) = row.resource_uri.clone() else {
        return Err(ApiError::conflict(format!(
            "node {uuid} is not composed yet ({})",
            row.state.as_str()
        )));
    };
    if row.state != NodeState::Ready {
        return Err(ApiError::conflict(format!(
            "node {uuid} is {}; actions need a ready node",
            row.state.as_str()
        )));
    }
    let connect = || async {
        let podm = podms::get_row(state, row.podm_uuid).await?;
        podms::connection(state, &podm).await
    };
    // A value the node does not allow is the client's to fix: name the field.
    let (result, field) = match action {
        types::NodeAction::Attach(d) => {
            return crate::service::devices::attach(state, &row, &d.device_id, true).await;
        }
        types::NodeAction::Detach(d) => {
            return crate::service::devices::attach(state, &row, &d.device_id, false).await;
        }
        types::NodeAction::Reset(reset) => (
            connect().await?.reset_node(&uri, &reset.reset_type).await,
            "Reset.Type",
        ),
        types::NodeAction::Boot(boot) => (
            connect()
                .await?
                .set_boot_source(&uri, &boot.enabled, &boot.target)
                .await,
            "Boot",
        ),
    };
    match result {
        Err(PodmError::Unsupported { operation }) => Err(ApiError::invalid_field(
            field,
            format!("not allowed by the node: {operation}"),
        )),
        other => Ok(other?),
    }
}

/// `POST /v1/nodes/manage`: adopts a node composed outside Valence (`managed_by = user`).
pub async fn manage(state: &AppState, body: types::NodeManage) -> Result<types::Node, ApiError> {
    let podm_uuid = Uuid::parse_str(body.podm_id.trim()).map_err(|_| {
        ApiError::invalid_field(
            "podm_id",
            format!("{:?} is not a pod manager id", body.podm_id),
        )
    })?;
    let podm = match podms::get_row(state, podm_uuid).await {
        Err(err) if err.code == ErrorCode::NotFound => {
            return Err(ApiError::invalid_field(
                "podm_id",
                format!("no pod manager {podm_uuid}"),
            ));
        }
        other => other?,
    };
    let index = body.node_index.trim();
    if index.is_empty() {
        return Err(ApiError::invalid_field("node_index", "must not be empty"));
    }
    let conn = podms::connection(state, &podm).await?;
    let nodes = conn.list_nodes().await?;
    let found = nodes
        .into_iter()
        .find(|n| {
            n.index == index
                || n.resource_uri == index
                || n.resource_uri.trim_end_matches('/') == index.trim_end_matches('/')
        })
        .ok_or_else(|| {
            ApiError::invalid_field(
                "node_index",
                format!("pod manager {} has no node {index:?}", podm.name),
            )
        })?;
    let new = valence_db::NewNode {
        name: found
            .name
            .clone()
            .unwrap_or_else(|| format!("node-{}", found.index)),
        description: None,
        podm_uuid,
        node_index: Some(found.index.clone()),
        resource_uri: Some(found.resource_uri.clone()),
        system_uri: found.system_uri.clone(),
        state: NodeState::Ready,
        compose_step: None,
        flavor_uuid: None,
        requirements: serde_json::json!({}),
        managed_by: ManagedBy::User,
        idempotency_key: None,
        owner_instance: None,
    };
    let row = state
        .db
        .run(move |conn| valence_db::nodes::create(conn, &new))
        .await?;
    Ok(convert::node(row))
}
