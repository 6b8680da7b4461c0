//! Aggregator across all registered PODMs: concurrent fan-out, inventory cache, usage figures and health checks.
//!
//! Every call to a PODM runs under its own deadline and through the PODM's circuit breaker, so a
//! request over many PODMs takes about as long as the slowest healthy one. A PODM that fails is
//! named in the result and never fails the whole request.

pub mod health;
pub mod usage;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use serde::Serialize;
use valence_pod_manager_api::{
    ComposedNodeSummary, PodManager, PodmError, ProbeInfo, SystemSummary,
};

pub use health::{Admission, HealthBoard, HealthPolicy, HealthStatus, HealthView, Transition};
pub use usage::Usage;

/// One PODM to ask: its uuid and name (for reports) and its live connection.
#[derive(Clone)]
pub struct Target {
    pub uuid: String,
    pub name: String,
    pub conn: Arc<dyn PodManager>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("uuid", &self.uuid)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a PODM holds, as last read. [`Inventory::new`] keeps the systems sorted by system id, so
/// lists over many PODMs are in id order without sorting them for every request.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub systems: Vec<SystemSummary>,
    pub nodes: Vec<ComposedNodeSummary>,
    pub usage: Usage,
    #[serde(skip)]
    pub fetched_at: SystemTime,
    /// The PODM's invalidation count when the read began (see [`Aggregator::invalidate`]).
    #[serde(skip)]
    pub generation: u64,
}

impl Inventory {
    pub fn new(
        mut systems: Vec<SystemSummary>,
        nodes: Vec<ComposedNodeSummary>,
        fetched_at: SystemTime,
    ) -> Self {
        systems.sort_by(|a, b| a.system_id.cmp(&b.system_id));
        let usage = Usage::of(&systems, &nodes);
        Self {
            systems,
            nodes,
            usage,
            fetched_at,
            generation: 0,
        }
    }
}

/// Why a PODM is missing from an aggregated answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailureKind {
    Timeout,
    Unreachable,
    /// Not called: the breaker is open after repeated failures.
    CircuitOpen,
    Rejected,
    BadResponse,
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodmFailure {
    pub uuid: String,
    pub name: String,
    pub kind: FailureKind,
    pub reason: String,
}

/// Results of the PODMs that answered, and the ones that did not.
#[derive(Debug)]
pub struct Fanout<T> {
    pub ok: Vec<(Target, T)>,
    pub failed: Vec<PodmFailure>,
}

#[derive(Debug, Clone)]
pub struct AggregatorConfig {
    /// PODMs asked at the same time.
    pub concurrency: usize,
    /// Deadline of one PODM's part of a request (all its HTTP calls together).
    pub call_timeout: Duration,
    /// How long an inventory is served from cache. The background refresh runs more often so
    /// readers rarely wait for a PODM.
    pub cache_ttl: Duration,
    pub health: HealthPolicy,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            call_timeout: Duration::from_secs(5),
            cache_ttl: Duration::from_secs(60),
            health: HealthPolicy::default(),
        }
    }
}

/// Lookups of the inventory cache since start, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answered from the cache (including readers that waited for another reader's fetch).
    pub hits: u64,
    /// Found nothing cached: the PODM was read, or (for [`Aggregator::cached`]) nothing shown.
    pub misses: u64,
}

/// Fan-out, cache and health board over all PODMs. Cheap to share behind an `Arc`.
pub struct Aggregator {
    config: AggregatorConfig,
    inventories: moka::future::Cache<String, Arc<Inventory>>,
    health: HealthBoard,
    /// Per PODM, how many times its inventory was invalidated: a read that began before an
    /// invalidation (a compose) is not cached.
    generations: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl std::fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Aggregator {
    pub fn new(config: AggregatorConfig) -> Self {
        let inventories = moka::future::Cache::builder()
            .time_to_live(config.cache_ttl)
            .build();
        let health = HealthBoard::new(config.health.clone());
        Self {
            config,
            inventories,
            health,
            generations: Default::default(),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
        }
    }

    /// Inventory cache lookups since start.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.cache_hits.load(Ordering::Relaxed),
            misses: self.cache_misses.load(Ordering::Relaxed),
        }
    }

    fn count_lookup(&self, hit: bool) {
        let counter = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn config(&self) -> &AggregatorConfig {
        &self.config
    }

    pub fn health(&self) -> &HealthBoard {
        &self.health
    }

    /// Inventories of all `targets`: from cache unless `refresh`, else read from the PODMs.
    pub async fn inventories(&self, targets: &[Target], refresh: bool) -> Fanout<Arc<Inventory>> {
        self.fan_out(targets, |target| async move {
            self.inventory(&target, refresh)
                .await
                .map(|inv| (target, inv))
        })
        .await
    }

    /// One PODM's inventory, from cache unless `refresh`. Concurrent misses share one read.
    pub async fn inventory(
        &self,
        target: &Target,
        refresh: bool,
    ) -> Result<Arc<Inventory>, PodmFailure> {
        if refresh {
            let generation = self.generation(&target.uuid);
            let fresh = Arc::new(self.read_inventory(target, true, generation).await?);
            self.store_if_current(&target.uuid, &fresh).await;
            return Ok(fresh);
        }
        // An offline PODM's cached figures would be stale; it is reported as failed instead.
        if let Some(failure) = self.refused(target) {
            return Err(failure);
        }
        // Concurrent misses share one read (moka's single flight). A read that began before an
        // invalidation must not be served: it may predate a compose.
        for _ in 0..2 {
            let generation = self.generation(&target.uuid);
            let fetched = AtomicBool::new(false);
            let inventory = self
                .inventories
                .try_get_with_by_ref(&target.uuid, async {
                    fetched.store(true, Ordering::Relaxed);
                    self.read_inventory(target, false, generation)
                        .await
                        .map(Arc::new)
                })
                .await
                .map_err(|shared| (*shared).clone())?;
            self.count_lookup(!fetched.load(Ordering::Relaxed));
            if inventory.generation == self.generation(&target.uuid) {
                return Ok(inventory);
            }
            self.inventories.invalidate(&target.uuid).await;
        }
        let fresh = Arc::new(
            self.read_inventory(target, false, self.generation(&target.uuid))
                .await?,
        );
        self.store_if_current(&target.uuid, &fresh).await;
        Ok(fresh)
    }

    /// The cached inventory, if any, without calling the PODM.
    pub async fn cached(&self, uuid: &str) -> Option<Arc<Inventory>> {
        let found = self.inventories.get(uuid).await;
        self.count_lookup(found.is_some());
        let inventory = found?;
        let current = inventory.generation == self.generation(uuid);
        let online = self
            .health
            .admit(uuid, tokio::time::Instant::now().into_std())
            == Admission::Allowed;
        (current && online).then_some(inventory)
    }

    /// The cached inventory, if any, without counting a lookup (for metrics and diagnostics).
    pub async fn peek(&self, uuid: &str) -> Option<Arc<Inventory>> {
        self.inventories.get(uuid).await
    }

    /// Re-reads every PODM whose breaker admits a call and replaces its cached inventory;
    /// readers keep the old one until the new one is in. For the background refresh loop.
    pub async fn refresh_all(&self, targets: &[Target]) -> Fanout<Arc<Inventory>> {
        self.fan_out(targets, |target| async move {
            let generation = self.generation(&target.uuid);
            let inv = Arc::new(self.read_inventory(&target, false, generation).await?);
            self.store_if_current(&target.uuid, &inv).await;
            Ok((target, inv))
        })
        .await
    }

    /// Probes the PODMs whose check is due (breaker closed, or open with its backoff elapsed).
    /// Status changes are queued on the health board ([`HealthBoard::drain_transitions`]).
    pub async fn check_health(&self, targets: &[Target]) -> Fanout<ProbeInfo> {
        let now = tokio::time::Instant::now().into_std();
        let due: Vec<Target> = targets
            .iter()
            .filter(|t| self.health.probe_due(&t.uuid, now))
            .cloned()
            .collect();
        self.fan_out(&due, |target| async move {
            let probe = self
                .guarded(&target, true, "probe", target.conn.probe())
                .await?;
            self.health.record_success(&target.uuid, SystemTime::now());
            Ok((target, probe))
        })
        .await
    }

    /// Records a node just composed on PODM `uuid` in its cached inventory (its system in use,
    /// the node listed), so that the next placement needs no new read of the PODM. Without a
    /// cached inventory nothing is done; when the node names no system of it, the inventory is
    /// dropped instead. Concurrent updates of one PODM are applied one after the other.
    pub async fn record_composed(&self, uuid: &str, node: &ComposedNodeSummary) {
        self.update_cached(uuid, |inventory| with_composed(inventory, node))
            .await;
    }

    /// A node was released: its system is free again and it is no longer listed, in the
    /// cached inventory of the PODM, without reading the PODM again.
    pub async fn record_released(&self, uuid: &str, node_uri: &str) {
        self.update_cached(uuid, |inventory| Some(without_node(inventory, node_uri)))
            .await;
    }

    /// Applies a change Valence made on a PODM to its cached inventory; `change` answers
    /// `None` when it cannot tell the result, and the inventory is dropped instead.
    async fn update_cached(
        &self,
        uuid: &str,
        change: impl FnOnce(&Inventory) -> Option<Inventory>,
    ) {
        use moka::ops::compute::Op;
        // A read under way began before this change: its result must not replace this one.
        self.bump_generation(uuid);
        let generation = self.generation(uuid);
        self.inventories
            .entry_by_ref(uuid)
            .and_compute_with(|cached| {
                let op = match cached {
                    None => Op::Nop,
                    Some(entry) => match change(entry.value()) {
                        Some(mut updated) => {
                            updated.generation = generation;
                            Op::Put(Arc::new(updated))
                        }
                        None => Op::Remove,
                    },
                };
                std::future::ready(op)
            })
            .await;
    }

    /// Drops what is known of a PODM (after it is updated or deleted, or after a compose or
    /// decompose changed its inventory).
    pub async fn invalidate(&self, uuid: &str) {
        self.bump_generation(uuid);
        self.inventories.invalidate(uuid).await;
    }

    pub async fn forget(&self, uuid: &str) {
        self.invalidate(uuid).await;
        self.health.forget(uuid);
    }

    async fn read_inventory(
        &self,
        target: &Target,
        bypass_breaker: bool,
        generation: u64,
    ) -> Result<Inventory, PodmFailure> {
        let conn = &target.conn;
        let (systems, nodes) = self
            .guarded(target, bypass_breaker, "inventory", conn.inventory())
            .await?;
        self.health.record_success(&target.uuid, SystemTime::now());
        let mut inventory = Inventory::new(systems, nodes, SystemTime::now());
        inventory.generation = generation;
        Ok(inventory)
    }

    fn generation(&self, uuid: &str) -> u64 {
        self.generations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(uuid)
            .copied()
            .unwrap_or(0)
    }

    fn bump_generation(&self, uuid: &str) {
        *self
            .generations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(uuid.to_owned())
            .or_insert(0) += 1;
    }

    /// Caches `inventory` unless the PODM was invalidated since its read began.
    async fn store_if_current(&self, uuid: &str, inventory: &Arc<Inventory>) {
        if inventory.generation == self.generation(uuid) {
            self.inventories
                .insert(uuid.to_owned(), inventory.clone())
                .await;
        }
    }

    /// The failure to report without calling a PODM whose breaker is open.
    fn refused(&self, target: &Target) -> Option<PodmFailure> {
        match self
            .health
            .admit(&target.uuid, tokio::time::Instant::now().into_std())
        {
            Admission::Allowed => None,
            Admission::Refused {
                last_error,
                retry_in,
            } => Some(PodmFailure {
                uuid: target.uuid.clone(),
                name: target.name.clone(),
                kind: FailureKind::CircuitOpen,
                reason: format!(
                    "offline ({last_error}); next probe in {}s",
                    retry_in.as_secs().max(1)
                ),
            }),
        }
    }

    /// Runs one PODM call under the breaker and the call deadline, recording failures.
    async fn guarded<T>(
        &self,
        target: &Target,
        bypass_breaker: bool,
        what: &str,
        call: impl std::future::Future<Output = Result<T, PodmError>>,
    ) -> Result<T, PodmFailure> {
        if !bypass_breaker
            && let Admission::Refused {
                last_error,
                retry_in,
            } = self
                .health
                .admit(&target.uuid, tokio::time::Instant::now().into_std())
        {
            return Err(PodmFailure {
                uuid: target.uuid.clone(),
                name: target.name.clone(),
                kind: FailureKind::CircuitOpen,
                reason: format!(
                    "offline ({last_error}); next probe in {}s",
                    retry_in.as_secs().max(1)
                ),
            });
        }
        let (failure, counts_against_health) =
            match tokio::time::timeout(self.config.call_timeout, call).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(err)) => (classify(target, &err), is_outage(&err)),
                Err(_) => (
                    PodmFailure {
                        uuid: target.uuid.clone(),
                        name: target.name.clone(),
                        kind: FailureKind::Timeout,
                        reason: format!(
                            "{what} did not finish within {} ms",
                            self.config.call_timeout.as_millis()
                        ),
                    },
                    true,
                ),
            };
        if counts_against_health
            && let Some(change) = self.health.record_failure(
                &target.uuid,
                &failure.reason,
                tokio::time::Instant::now().into_std(),
            )
        {
            tracing::warn!(podm = %target.uuid, from = ?change.from, to = ?change.to, reason = %failure.reason, "PODM health changed");
        }
        tracing::debug!(podm = %target.uuid, kind = ?failure.kind, reason = %failure.reason, "PODM call failed");
        Err(failure)
    }

    async fn fan_out<'a, T, F, Fut>(&'a self, targets: &[Target], call: F) -> Fanout<T>
    where
        F: Fn(Target) -> Fut,
        Fut: std::future::Future<Output = Result<(Target, T), PodmFailure>> + 'a,
    {
        let mut results = futures::stream::iter(targets.iter().cloned().map(call))
            .buffer_unordered(self.config.concurrency.max(1));
        let mut ok = Vec::with_capacity(targets.len());
        let mut failed = Vec::new();
        while let Some(result) = results.next().await {
            match result {
                Ok(pair) => ok.push(pair),
                Err(failure) => failed.push(failure),
            }
        }
        // Stable output order whatever order the PODMs answered in.
        ok.sort_by(|a, b| a.0.uuid.cmp(&b.0.uuid));
        failed.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        Fanout { ok, failed }
    }
}

/// Whether a failed call says the PODM is down rather than that it refused one request: no
/// answer at all, or a server error (a PODM answering every call with 5xx is as unusable as one
/// that does not answer). A 4xx, or an answer Valence cannot read, leaves it up.
fn is_outage(err: &PodmError) -> bool {
    match err {
        PodmError::Unreachable { .. } => true,
        PodmError::Rejected { status, .. } => *status >= 500,
        _ => false,
    }
}

/// `inventory` with `node` composed: its system used by it and the node listed; `None` when the
/// inventory has no such system.
fn with_composed(inventory: &Inventory, node: &ComposedNodeSummary) -> Option<Inventory> {
    let system_uri = node.system_uri.as_deref()?;
    let mut systems = inventory.systems.clone();
    let system = systems.iter_mut().find(|s| s.resource_uri == system_uri)?;
    system.composed_node = Some(node.resource_uri.clone());
    let mut nodes: Vec<ComposedNodeSummary> = inventory
        .nodes
        .iter()
        .filter(|n| n.resource_uri != node.resource_uri)
        .cloned()
        .collect();
    nodes.push(node.clone());
    Some(Inventory::new(systems, nodes, inventory.fetched_at))
}

/// `inventory` without the composed node at `node_uri`: the system it used is free.
fn without_node(inventory: &Inventory, node_uri: &str) -> Inventory {
    let mut systems = inventory.systems.clone();
    for system in systems
        .iter_mut()
        .filter(|s| s.composed_node.as_deref() == Some(node_uri))
    {
        system.composed_node = None;
    }
    let nodes = inventory
        .nodes
        .iter()
        .filter(|n| n.resource_uri != node_uri)
        .cloned()
        .collect();
    Inventory::new(systems, nodes, inventory.fetched_at)
}

fn classify(target: &Target, err: &PodmError) -> PodmFailure {
    let kind = match err {
        PodmError::Unreachable { .. } => FailureKind::Unreachable,
        PodmError::BadResponse { .. } => FailureKind::BadResponse,
        PodmError::Unsupported { .. } => FailureKind::Unsupported,
        PodmError::Conflict { .. }
        | PodmError::NotFound { .. }
        | PodmError::Rejected { .. }
        | PodmError::ComposeFailed { .. }
        | PodmError::Aborted { .. } => FailureKind::Rejected,
    };
    PodmFailure {
        uuid: target.uuid.clone(),
        name: target.name.clone(),
        kind,
        reason: err.to_string(),
    }
}

#[cfg(test)]
mod tests;
