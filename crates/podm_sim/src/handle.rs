//! The handle of a running simulated PODM ([`SimPodm`]): its address and certificates, run-time
//! behavior switches, observability for tests, and stop / restart on the same port.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::Method;
use tokio::sync::watch;

use crate::config::{Behavior, Credentials, RsdVersion, SimConfig};
use crate::error::SimError;
use crate::inventory::{Inventory, inventory, pooled_drive, pooled_drives};
use crate::pool;
use crate::server::{self, Running};
use crate::state::{Health, NodeState, PodState};
use crate::tls::TlsMaterial;

/// Event counters of one PODM.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) logins: AtomicU64,
    pub(crate) logouts: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    pub(crate) sessions_expired: AtomicU64,
    pub(crate) allocations: AtomicU64,
    pub(crate) allocation_conflicts: AtomicU64,
    pub(crate) node_deletions: AtomicU64,
    pub(crate) attachments: AtomicU64,
    pub(crate) detachments: AtomicU64,
    /// Requests by method and route template; the templates bound the size.
    routes: Mutex<HashMap<(Method, &'static str), u64>>,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_request(&self, method: &Method, route: &'static str) {
        Self::bump(&self.requests);
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        *routes.entry((method.clone(), route)).or_insert(0) += 1;
    }
}

/// The shared part of a PODM: what request handling reads and changes.
pub(crate) struct Pod {
    pub(crate) name: String,
    pub(crate) version: RsdVersion,
    pub(crate) inventory: Inventory,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) session_timeout: Duration,
    pub(crate) session_service: bool,
    pub(crate) tls: bool,
    pub(crate) port: u16,
    behavior: watch::Sender<Arc<Behavior>>,
    state: Mutex<PodState>,
    pub(crate) counters: Counters,
}

impl Pod {
    pub(crate) fn behavior(&self) -> Arc<Behavior> {
        self.behavior.borrow().clone()
    }

    /// A receiver that wakes on the next behavior change (hung requests wait on it).
    pub(crate) fn behavior_changes(&self) -> watch::Receiver<Arc<Behavior>> {
        self.behavior.subscribe()
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, PodState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state with idle sessions already dropped.
    pub(crate) fn state_now(&self, now: Instant) -> MutexGuard<'_, PodState> {
        let mut st = self.state();
        let expired = st.expire_sessions(self.session_timeout, now);
        if expired > 0 {
            self.counters
                .sessions_expired
                .fetch_add(expired as u64, Ordering::Relaxed);
        }
        st
    }
}

/// What tests read about a PODM in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Requests received (including those answered with a fault).
    pub requests: u64,
    /// Session logins (successful `POST SessionService/Sessions`).
    pub logins: u64,
    /// Session logouts (successful `DELETE` of a session).
    pub logouts: u64,
    /// Requests refused with `401`.
    pub auth_failures: u64,
    pub sessions_expired: u64,
    pub sessions_open: usize,
    /// Successful Allocate requests.
    pub allocations: u64,
    /// Allocate requests answered `409`.
    pub allocation_conflicts: u64,
    /// Nodes deleted.
    pub node_deletions: u64,
    /// Successful attach actions (`AttachResource` / `AttachEndpoint`).
    pub attachments: u64,
    /// Successful detach actions (`DetachResource` / `DetachEndpoint`).
    pub detachments: u64,
    /// Composed nodes that exist now, in any state.
    pub nodes: usize,
    /// Of those, the ones `Assembled`.
    pub nodes_assembled: usize,
    /// Systems not used by a node.
    pub free_systems: usize,
    /// Drives in the pool now.
    pub pooled_drives: usize,
    /// Of those, the ones attached to a node.
    pub pooled_drives_attached: usize,
}

/// A drive of the pool as the PODM sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PooledDriveInfo {
    /// Number of the drive in the pool (from 1, never reused).
    pub number: u32,
    /// The endpoint's and the drive's `Name`.
    pub name: String,
    pub capacity_gib: u64,
    /// `@odata.id` of its target endpoint in the fabric.
    pub endpoint_odata_id: String,
    /// `@odata.id` of what a node attaches: the volume in RSD 2.3, the drive before (the
    /// endpoint's `ConnectedEntities[].EntityLink`, Valence's device `resource_uri`).
    pub resource_odata_id: String,
    /// `@odata.id` of the drive itself.
    pub drive_odata_id: String,
    /// Id of the node it is attached to.
    pub attached_to: Option<String>,
}

/// A composed node as the PODM sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The PODM's node id (`Id`).
    pub id: String,
    /// `@odata.id` of the node.
    pub odata_id: String,
    pub name: String,
    /// `Id` of the system the node uses.
    pub system_id: String,
    /// `ComposedNodeState` (`Allocating`, `Allocated`, `Assembling`, `Assembled`, `Failed`).
    pub state: String,
    /// `PowerState` (`On`, `Off`).
    pub power_state: String,
}

/// A running (or stopped) simulated PODM. Dropping the handle stops it.
pub struct SimPodm {
    pod: Arc<Pod>,
    addr: SocketAddr,
    tls: Option<Arc<TlsMaterial>>,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for SimPodm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPodm")
            .field("name", &self.pod.name)
            .field("url", &self.base_url())
            .field("version", &self.pod.version)
            .field("systems", &self.pod.inventory.systems.len())
            .finish()
    }
}

impl SimPodm {
    pub(crate) async fn launch(
        config: SimConfig,
        tls: Option<Arc<TlsMaterial>>,
    ) -> Result<Self, SimError> {
        config.validate()?;
        let requested = SocketAddr::new(config.bind, config.port);
        let listener = server::bind(requested)?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: requested,
            source,
        })?;
        let systems = config.systems;
        let state = PodState::new(systems, config.seed)
            .with_pool(pooled_drives(config.seed, config.pooled_drives));
        let pod = Arc::new(Pod {
            name: config.name,
            version: config.version,
            inventory: inventory(config.seed, systems),
            credentials: config.credentials,
            session_timeout: config.session_timeout,
            session_service: config.session_service,
            tls: tls.is_some(),
            port: addr.port(),
            behavior: watch::Sender::new(Arc::new(config.behavior)),
            state: Mutex::new(state),
            counters: Counters::default(),
        });
        let running = server::run(listener, pod.clone(), tls.clone());
        tracing::debug!(name = %pod.name, %addr, version = %pod.version, "simulated PODM started");
        Ok(Self {
            pod,
            addr,
            tls,
            running: Mutex::new(Some(running)),
        })
    }

    /// The address it listens on (the same after a restart).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` or `https://...`: the URL a PODM is registered with.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let host = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("{scheme}://{}", SocketAddr::new(host, self.addr.port()))
    }

    /// `base_url()` + `/redfish/v1`.
    pub fn service_root_url(&self) -> String {
        format!("{}/redfish/v1", self.base_url())
    }

    pub fn name(&self) -> &str {
        &self.pod.name
    }

    pub fn version(&self) -> RsdVersion {
        self.pod.version
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.pod.credentials.as_ref()
    }

    /// PEM of the CA that signed the server certificate (pin this one); `None` without TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_deref().map(|t| t.ca_pem.as_str())
    }

    /// PEM of the server certificate itself; `None` without TLS.
    pub fn cert_pem(&self) -> Option<&str> {
        self.tls.as_deref().map(|t| t.cert_pem.as_str())
    }

    pub fn inventory(&self) -> &Inventory {
        &self.pod.inventory
    }

    pub fn behavior(&self) -> Behavior {
        (*self.pod.behavior()).clone()
    }

    /// Replaces the run-time behavior; hung requests end (their connections close).
    pub fn set_behavior(&self, behavior: Behavior) -> Result<(), SimError> {
        behavior.validate()?;
        self.pod.behavior.send_replace(Arc::new(behavior));
        Ok(())
    }

    /// Changes part of the run-time behavior: `podm.update_behavior(|b| b.hang_rate = 1.0)`.
    pub fn update_behavior(&self, change: impl FnOnce(&mut Behavior)) -> Result<(), SimError> {
        let mut behavior = self.behavior();
        change(&mut behavior);
        self.set_behavior(behavior)
    }

    pub fn stats(&self) -> SimStats {
        let now = Instant::now();
        let c = &self.pod.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let st = self.pod.state_now(now);
        SimStats {
            requests: load(&c.requests),
            logins: load(&c.logins),
            logouts: load(&c.logouts),
            auth_failures: load(&c.auth_failures),
            sessions_expired: load(&c.sessions_expired),
            sessions_open: st.sessions.len(),
            allocations: load(&c.allocations),
            allocation_conflicts: load(&c.allocation_conflicts),
            node_deletions: load(&c.node_deletions),
            attachments: load(&c.attachments),
            detachments: load(&c.detachments),
            nodes: st.nodes.len(),
            nodes_assembled: st
                .nodes
                .values()
                .filter(|n| n.state(now) == NodeState::Assembled)
                .count(),
            free_systems: st.free_systems(),
            pooled_drives: st.pool.len(),
            pooled_drives_attached: st.pool.values().filter(|d| d.node.is_some()).count(),
        }
    }

    /// Requests received for `method` and route template, e.g.
    /// `request_count("GET", "/redfish/v1/Systems/{id}")` (see [`request_counts`](Self::request_counts)).
    pub fn request_count(&self, method: &str, route: &str) -> u64 {
        let routes = self
            .pod
            .counters
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        routes
            .iter()
            .filter(|((m, r), _)| m.as_str() == method && *r == route)
            .map(|(_, n)| *n)
            .sum()
    }

    /// All request counts as `"METHOD /route/{template}" -> count`.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        let routes = self
            .pod
            .counters
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        routes
            .iter()
            .map(|((m, r), n)| (format!("{m} {r}"), *n))
            .collect()
    }

    /// Sets every counter of [`stats`](Self::stats) and the request counts back to zero.
    pub fn reset_counters(&self) {
        let c = &self.pod.counters;
        for counter in [
            &c.requests,
            &c.logins,
            &c.logouts,
            &c.auth_failures,
            &c.sessions_expired,
            &c.allocations,
            &c.allocation_conflicts,
            &c.node_deletions,
            &c.attachments,
            &c.detachments,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        c.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The composed nodes, by id.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        let now = Instant::now();
        let st = self.pod.state();
        st.nodes
            .values()
            .map(|n| NodeInfo {
                id: n.id.to_string(),
                odata_id: n.odata_id(),
                name: n.name.clone(),
                system_id: self.pod.inventory.systems[n.system].id.clone(),
                state: n.state(now).as_str().to_owned(),
                power_state: st.system_power[n.system].as_str().to_owned(),
            })
            .collect()
    }

    /// Ids of the systems no node uses.
    pub fn free_system_ids(&self) -> Vec<String> {
        let st = self.pod.state();
        self.pod
            .inventory
            .systems
            .iter()
            .filter(|s| st.system_node[s.index].is_none())
            .map(|s| s.id.clone())
            .collect()
    }

    /// The drives of the pool now, by number.
    pub fn pooled_drives(&self) -> Vec<PooledDriveInfo> {
        let st = self.pod.state();
        st.pool
            .values()
            .map(|d| self.pooled_drive_info(&d.spec, d.node))
            .collect()
    }

    fn pooled_drive_info(
        &self,
        spec: &crate::inventory::PooledDriveSpec,
        node: Option<u64>,
    ) -> PooledDriveInfo {
        let version = self.pod.version;
        let n = spec.number;
        PooledDriveInfo {
            number: n,
            name: spec.name(),
            capacity_gib: spec.capacity_gib,
            endpoint_odata_id: pool::endpoint_odata_id(
                version,
                &pool::target_endpoint_id(version, n),
            ),
            resource_odata_id: pool::target_odata_id(version, n),
            drive_odata_id: pool::drive_odata_id(version, n),
            attached_to: node.map(|id| id.to_string()),
        }
    }

    /// `@odata.id`s of the pooled targets (volumes or drives) attached to node `node`, given
    /// by its id (`"3"`) or `@odata.id` (`/redfish/v1/Nodes/3`); empty for an unknown node.
    pub fn attached_devices(&self, node: &str) -> Vec<String> {
        let id = node.trim_end_matches('/');
        let id = id.rsplit('/').next().unwrap_or(id);
        let Ok(id) = id.parse::<u64>() else {
            return Vec::new();
        };
        let version = self.pod.version;
        self.pod
            .state()
            .attached_to(id)
            .into_iter()
            .map(|n| pool::target_odata_id(version, n))
            .collect()
    }

    /// Adds a drive to the pool, as when one is plugged in: the next number, its size and
    /// serial drawn from the seed like the first ones ([`pooled_drive`](crate::pooled_drive)).
    pub fn add_pooled_drive(&self) -> PooledDriveInfo {
        let mut st = self.pod.state();
        let spec = pooled_drive(self.pod.inventory.seed, st.next_pooled_number());
        let info = self.pooled_drive_info(&spec, None);
        st.add_pooled(spec);
        info
    }

    /// Removes a drive from the pool, as when one is pulled out: named by the `@odata.id` of its
    /// target, drive or endpoint. An attached drive disappears from its node too. `false` when
    /// no pooled drive has that id.
    pub fn remove_pooled_drive(&self, odata_id: &str) -> bool {
        let odata_id = odata_id.trim_end_matches('/');
        let version = self.pod.version;
        let mut st = self.pod.state();
        let number = st.pool.keys().copied().find(|n| {
            pool::target_odata_id(version, *n) == odata_id
                || pool::drive_odata_id(version, *n) == odata_id
                || pool::endpoint_odata_id(version, &pool::target_endpoint_id(version, *n))
                    == odata_id
        });
        number.is_some_and(|n| st.remove_pooled(n).is_some())
    }

    pub fn sessions_open(&self) -> usize {
        self.pod.state_now(Instant::now()).sessions.len()
    }

    /// Sets a system's `Status.Health` (a `Critical` system is not allocated); `false` when no
    /// system has that id.
    pub fn set_system_health(&self, system_id: &str, health: Health) -> bool {
        let Some(s) = self.pod.inventory.system(system_id) else {
            return false;
        };
        self.pod.state().system_health[s.index] = health;
        true
    }

    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Stops answering, as a crashed PODM: the listener closes, open connections are dropped,
    /// hung requests end and sessions are forgotten. Nodes and systems keep their state, as a
    /// PODM's database does. Returns when the port is free.
    pub async fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            running.shut_down().await;
            self.pod.state().sessions.clear();
            tracing::debug!(name = %self.pod.name, addr = %self.addr, "simulated PODM stopped");
        }
    }

    /// Listens again on the same address after [`stop`](Self::stop); does nothing while running.
    pub async fn start(&self) -> Result<(), SimError> {
        if self.is_running() {
            return Ok(());
        }
        let listener = server::bind(self.addr)?;
        let running = server::run(listener, self.pod.clone(), self.tls.clone());
        let mut slot = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            // another caller started it meanwhile: keep theirs, drop ours
            Some(_) => running.abandon(),
            None => *slot = Some(running),
        }
        Ok(())
    }

    /// [`stop`](Self::stop) then [`start`](Self::start).
    pub async fn restart(&self) -> Result<(), SimError> {
        self.stop().await;
        self.start().await
    }
}

impl Drop for SimPodm {
    fn drop(&mut self) {
        if let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            running.abandon();
        }
    }
}
