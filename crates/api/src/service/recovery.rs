//! Finishing work a stopped instance left half done: composes and decomposes interrupted at any
//! PODM step, and PODM deletions with `release`. Each step is recorded before its PODM call
//! (`nodes.compose_step`, the node's tag on the PODM), so the outcome is always one of: the node
//! ready and recorded, or released on the PODM and marked failed; never a node on a PODM that
//! Valence does not know, never a record of a node that does not exist.
//!
//! Every instance writes a heartbeat; work owned by an instance that stopped beating is claimed
//! by exactly one other (a conditional update), including by the same server after a restart
//! (it starts under a new instance id).

use std::time::Duration;

use uuid::Uuid;
use valence_db::{NodeState, PodmState};
use valence_pod_manager_api::{PodManager, PodmError};

use crate::AppState;
use crate::service::nodes::{fail, step, update_node};
use crate::service::podms;

/// An instance silent this long is considered stopped and its work is taken over.
pub fn silence_limit(heartbeat_interval: Duration) -> Duration {
    (heartbeat_interval * 3).max(Duration::from_secs(1))
}

fn hostname() -> Option<String> {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty())
}

/// Records that this instance is alive.
pub async fn heartbeat(state: &AppState) {
    let id = state.instance_id.clone();
    let now = valence_db::utc_now();
    if let Err(err) = state
        .db
        .run(move |conn| valence_db::instances::heartbeat(conn, &id, hostname().as_deref(), now))
        .await
    {
        tracing::warn!(%err, "cannot write the instance heartbeat");
    }
}

/// Removes this instance's heartbeat at a clean shutdown (its work is then free at once).
pub async fn sign_off(state: &AppState) {
    let id = state.instance_id.clone();
    if let Err(err) = state
        .db
        .run(move |conn| valence_db::instances::remove(conn, &id))
        .await
    {
        tracing::warn!(%err, "cannot remove the instance heartbeat");
    }
}

/// One round: heartbeat, then take over and finish the work of stopped instances.
pub async fn run_once(state: &AppState, heartbeat_interval: Duration) {
    heartbeat(state).await;
    let since = valence_db::utc_now()
        - chrono::Duration::from_std(silence_limit(heartbeat_interval))
            .unwrap_or_else(|_| chrono::Duration::seconds(30));
    let loaded = state
        .db
        .run(move |conn| {
            let alive = valence_db::instances::alive_since(conn, since)?;
            let nodes = valence_db::nodes::in_progress(conn)?;
            let deleting = valence_db::pod_managers::list(
                conn,
                &valence_db::PodManagerFilter {
                    state: Some(PodmState::Deleting),
                    ..Default::default()
                },
                valence_db::Page::default(),
            )?;
            Ok((alive, nodes, deleting))
        })
        .await;
    let (alive, nodes, deleting) = match loaded {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(%err, "recovery: cannot read the work under way");
            return;
        }
    };
    let orphaned = |owner: &Option<String>| owner.as_ref().is_none_or(|o| !alive.contains(o));
    for node in nodes.into_iter().filter(|n| orphaned(&n.owner_instance)) {
        let (uuid, previous) = (node.uuid, node.owner_instance.clone());
        let me = state.instance_id.clone();
        let claimed = state
            .db
            .run(move |conn| valence_db::nodes::claim(conn, uuid, previous.as_deref(), &me))
            .await;
        if matches!(claimed, Ok(true)) {
            recover_node(state, node).await;
        }
    }
    for podm in deleting.into_iter().filter(|p| orphaned(&p.owner_instance)) {
        let (uuid, previous) = (podm.uuid, podm.owner_instance.clone());
        let me = state.instance_id.clone();
        let claimed = state
            .db
            .run(move |conn| valence_db::pod_managers::claim(conn, uuid, previous.as_deref(), &me))
            .await;
        if matches!(claimed, Ok(true)) {
            tracing::info!(podm = %uuid, name = %podm.name, "resuming the deletion of a pod manager");
            if let Err(err) = podms::delete(state, uuid, true).await {
                tracing::warn!(podm = %uuid, detail = %err.detail, "resumed deletion did not finish; it will be retried");
                release_podm(state, uuid).await;
            }
        }
    }
}

async fn release_podm(state: &AppState, uuid: Uuid) {
    // Back to nobody, so the next round (of any instance) retries.
    if let Err(err) = state
        .db
        .run(move |conn| valence_db::pod_managers::set_owner(conn, uuid, None))
        .await
    {
        tracing::warn!(podm = %uuid, %err, "cannot release the pod manager deletion");
    }
}

/// Lets any instance retry later (this one included).
async fn release_node(state: &AppState, uuid: Uuid, reason: &str) {
    tracing::warn!(node = %uuid, %reason, "recovery postponed");
    update_node(
        state,
        uuid,
        valence_db::NodeUpdate {
            owner_instance: Some(None),
            last_error: Some(Some(format!("recovery postponed: {reason}"))),
            ..Default::default()
        },
    )
    .await;
}

async fn recover_node(state: &AppState, node: valence_db::Node) {
    let uuid = node.uuid;
    let row = match podms::get_row(state, node.podm_uuid).await {
        Ok(row) => row,
        Err(err) => return release_node(state, uuid, &err.detail).await,
    };
    let conn = match podms::connection(state, &row).await {
        Ok(conn) => conn,
        Err(err) => return release_node(state, uuid, &err.detail).await,
    };
    let step_name = node.compose_step.clone().unwrap_or_default();
    tracing::info!(node = %uuid, step = %step_name, podm = %row.name, "finishing interrupted work");
    let outcome = match (step_name.as_str(), node.resource_uri.as_deref()) {
        (step::DELETE, uri) => finish_delete(state, &*conn, uuid, uri).await,
        (_, None) => release_tagged(state, &*conn, uuid).await,
        (_, Some(uri)) => finish_or_release(state, &*conn, &node, uri).await,
    };
    state.aggregator.invalidate(&row.uuid.to_string()).await;
    if let Err(err) = outcome {
        release_node(state, uuid, &err.to_string()).await;
    }
}

/// A decompose was interrupted: make sure the PODM node is gone, then forget it.
async fn finish_delete(
    state: &AppState,
    conn: &dyn PodManager,
    uuid: Uuid,
    uri: Option<&str>,
) -> Result<(), PodmError> {
    if let Some(uri) = uri {
        match conn.delete_node(uri).await {
            Ok(()) | Err(PodmError::NotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    if let Err(err) = state
        .db
        .run(move |c| valence_db::nodes::delete(c, uuid))
        .await
    {
        tracing::warn!(node = %uuid, %err, "cannot forget the released node");
    }
    tracing::info!(node = %uuid, "interrupted decompose finished");
    Ok(())
}

/// Interrupted before the PODM's answer to Allocate was recorded: any node carrying this
/// node's tag is released, and the node is marked failed.
async fn release_tagged(
    state: &AppState,
    conn: &dyn PodManager,
    uuid: Uuid,
) -> Result<(), PodmError> {
    let tag = uuid.to_string();
    let mut released = 0;
    for found in conn
        .list_nodes()
        .await?
        .into_iter()
        .filter(|n| n.has_tag(&tag))
    {
        match conn.delete_node(&found.resource_uri).await {
            Ok(()) | Err(PodmError::NotFound { .. }) => released += 1,
            Err(err) => return Err(err),
        }
    }
    fail(
        state,
        uuid,
        format!("compose interrupted by a restart before the allocation was recorded; released {released} node(s) on the pod manager"),
    )
    .await;
    Ok(())
}

/// Interrupted after allocation: a node the PODM finished assembling is kept (ready); any
/// other is released and marked failed.
async fn finish_or_release(
    state: &AppState,
    conn: &dyn PodManager,
    node: &valence_db::Node,
    uri: &str,
) -> Result<(), PodmError> {
    let live = match conn.get_node(uri).await {
        Ok(live) => live,
        Err(PodmError::NotFound { .. }) => {
            fail(
                state,
                node.uuid,
                "compose interrupted by a restart; the pod manager no longer has the node".into(),
            )
            .await;
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    if live.state.is_assembled() {
        update_node(
            state,
            node.uuid,
            valence_db::NodeUpdate {
                state: Some(NodeState::Ready),
                compose_step: Some(None),
                node_index: Some(Some(live.index.clone())),
                system_uri: Some(live.system_uri.clone()),
                owner_instance: Some(None),
                last_error: Some(None),
                ..Default::default()
            },
        )
        .await;
        tracing::info!(node = %node.uuid, "interrupted compose found assembled: node ready");
        return Ok(());
    }
    match conn.delete_node(uri).await {
        Ok(()) | Err(PodmError::NotFound { .. }) => {}
        Err(err) => return Err(err),
    }
    fail(
        state,
        node.uuid,
        format!(
            "compose interrupted by a restart while the node was {}; released on the pod manager",
            live.state.as_str()
        ),
    )
    .await;
    Ok(())
}
