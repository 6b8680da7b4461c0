//! The changing part of a simulated PODM: composed nodes and their life cycle, which system each
//! node uses, power and health of systems, the pooled drives and the node each is attached to,
//! and Redfish sessions.
//!
//! Node states that depend on time (`Allocating`, `Assembling`) are computed from deadlines when
//! read, so no timer task runs per node.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::inventory::PooledDriveSpec;

/// Redfish `Status.Health` of a system; a `Critical` system is never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    Ok,
    Warning,
    Critical,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warning => "Warning",
            Self::Critical => "Critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Power {
    On,
    Off,
}

impl Power {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::On => "On",
            Self::Off => "Off",
        }
    }
}

/// `ComposedNodeState` as RSD 2.x names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeState {
    Allocating,
    Allocated,
    Assembling,
    Assembled,
    Failed,
}

impl NodeState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Allocating => "Allocating",
            Self::Allocated => "Allocated",
            Self::Assembling => "Assembling",
            Self::Assembled => "Assembled",
            Self::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Phase {
    /// `Allocating` until `ready_at`, then `Allocated`.
    Allocated { ready_at: Instant },
    /// `Assembling` until `done_at`, then `Assembled` or `Failed`.
    Assembling { done_at: Instant, fails: bool },
}

#[derive(Debug, Clone)]
pub(crate) struct BootOverride {
    pub(crate) enabled: String,
    pub(crate) target: String,
    pub(crate) mode: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) id: u64,
    pub(crate) uuid: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    /// Index of the system in the inventory.
    pub(crate) system: usize,
    pub(crate) phase: Phase,
    pub(crate) boot: BootOverride,
    pub(crate) clear_tpm_on_delete: bool,
}

impl Node {
    pub(crate) fn state(&self, now: Instant) -> NodeState {
        match self.phase {
            Phase::Allocated { ready_at } if now < ready_at => NodeState::Allocating,
            Phase::Allocated { .. } => NodeState::Allocated,
            Phase::Assembling { done_at, .. } if now < done_at => NodeState::Assembling,
            Phase::Assembling { fails: true, .. } => NodeState::Failed,
            Phase::Assembling { fails: false, .. } => NodeState::Assembled,
        }
    }

    pub(crate) fn odata_id(&self) -> String {
        format!("/redfish/v1/Nodes/{}", self.id)
    }
}

/// A drive of the pool and the node it is attached to.
#[derive(Debug, Clone)]
pub(crate) struct PooledDrive {
    pub(crate) spec: PooledDriveSpec,
    pub(crate) node: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) user: String,
    pub(crate) last_used: Instant,
}

/// Everything that changes while a PODM runs. Guarded by one mutex, never held across `.await`.
pub(crate) struct PodState {
    pub(crate) nodes: BTreeMap<u64, Node>,
    /// Node using each system (by inventory index).
    pub(crate) system_node: Vec<Option<u64>>,
    pub(crate) system_power: Vec<Power>,
    pub(crate) system_health: Vec<Health>,
    next_node: u64,
    /// The pooled drives present now, by number.
    pub(crate) pool: BTreeMap<u32, PooledDrive>,
    next_pooled: u32,
    /// Sessions by token.
    pub(crate) sessions: HashMap<String, Session>,
    next_session: u64,
    /// Drives node UUIDs and assembly outcomes, so a run is reproducible for a seed.
    rng: ChaCha8Rng,
}

impl PodState {
    pub(crate) fn new(systems: usize, seed: u64) -> Self {
        Self {
            nodes: BTreeMap::new(),
            system_node: vec![None; systems],
            system_power: vec![Power::Off; systems],
            system_health: vec![Health::Ok; systems],
            next_node: 1,
            pool: BTreeMap::new(),
            next_pooled: 1,
            sessions: HashMap::new(),
            next_session: 1,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_a55e_b1e5),
        }
    }

    /// Puts `drives` in the pool (numbers are theirs; later drives are numbered after them).
    pub(crate) fn with_pool(mut self, drives: Vec<PooledDriveSpec>) -> Self {
        for spec in drives {
            self.next_pooled = self.next_pooled.max(spec.number + 1);
            self.pool
                .insert(spec.number, PooledDrive { spec, node: None });
        }
        self
    }

    /// The number the next drive added to the pool gets.
    pub(crate) fn next_pooled_number(&self) -> u32 {
        self.next_pooled
    }

    /// Adds a drive to the pool (its number must be [`next_pooled_number`](Self::next_pooled_number)).
    pub(crate) fn add_pooled(&mut self, spec: PooledDriveSpec) {
        self.next_pooled = self.next_pooled.max(spec.number + 1);
        self.pool
            .insert(spec.number, PooledDrive { spec, node: None });
    }

    /// Takes a drive out of the pool (which ends its attachment, if any).
    pub(crate) fn remove_pooled(&mut self, number: u32) -> Option<PooledDrive> {
        self.pool.remove(&number)
    }

    /// Numbers of the pooled drives attached to node `id`.
    pub(crate) fn attached_to(&self, id: u64) -> Vec<u32> {
        self.pool
            .values()
            .filter(|d| d.node == Some(id))
            .map(|d| d.spec.number)
            .collect()
    }

    /// Numbers of the pooled drives attached to no node.
    pub(crate) fn unattached(&self) -> Vec<u32> {
        self.pool
            .values()
            .filter(|d| d.node.is_none())
            .map(|d| d.spec.number)
            .collect()
    }

    /// Nodes with at least one pooled drive attached (each has a fabric zone and an initiator
    /// endpoint while it does).
    pub(crate) fn nodes_with_devices(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.pool.values().filter_map(|d| d.node).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Attaches (`Some(node)`) or detaches (`None`) pooled drive `number`.
    pub(crate) fn set_attachment(&mut self, number: u32, node: Option<u64>) {
        if let Some(drive) = self.pool.get_mut(&number) {
            drive.node = node;
        }
    }

    pub(crate) fn free_systems(&self) -> usize {
        self.system_node.iter().filter(|n| n.is_none()).count()
    }

    pub(crate) fn add_node(
        &mut self,
        system: usize,
        name: String,
        description: String,
        allocation_delay: Duration,
        now: Instant,
    ) -> &Node {
        let id = self.next_node;
        self.next_node += 1;
        let uuid = uuid::Builder::from_random_bytes(self.rng.random()).into_uuid();
        self.system_node[system] = Some(id);
        self.system_power[system] = Power::Off;
        self.nodes.entry(id).or_insert(Node {
            id,
            uuid,
            name,
            description,
            system,
            phase: Phase::Allocated {
                ready_at: now + allocation_delay,
            },
            boot: BootOverride {
                enabled: "Disabled".to_owned(),
                target: "None".to_owned(),
                mode: "Legacy".to_owned(),
            },
            clear_tpm_on_delete: true,
        })
    }

    /// Starts assembly; the caller has checked the node is `Allocated`.
    pub(crate) fn assemble(&mut self, id: u64, delay: Duration, failure_rate: f64, now: Instant) {
        let fails = failure_rate > 0.0 && self.rng.random_bool(failure_rate.min(1.0));
        if let Some(node) = self.nodes.get_mut(&id) {
            node.phase = Phase::Assembling {
                done_at: now + delay,
                fails,
            };
        }
    }

    /// Removes a node, detaches its pooled drives and frees its system (powered off, as a PODM
    /// leaves it).
    pub(crate) fn remove_node(&mut self, id: u64) -> Option<Node> {
        let node = self.nodes.remove(&id)?;
        for drive in self.pool.values_mut().filter(|d| d.node == Some(id)) {
            drive.node = None;
        }
        self.system_node[node.system] = None;
        self.system_power[node.system] = Power::Off;
        Some(node)
    }

    pub(crate) fn roll(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random_bool(rate.min(1.0))
    }

    /// Opens a session; returns `(id, token)`.
    pub(crate) fn open_session(&mut self, user: &str, now: Instant) -> (String, String) {
        let id = self.next_session.to_string();
        self.next_session += 1;
        let token = Uuid::new_v4().simple().to_string();
        self.sessions.insert(
            token.clone(),
            Session {
                id: id.clone(),
                user: user.to_owned(),
                last_used: now,
            },
        );
        (id, token)
    }

    /// Drops sessions idle longer than `timeout`; returns how many.
    pub(crate) fn expire_sessions(&mut self, timeout: Duration, now: Instant) -> usize {
        let before = self.sessions.len();
        self.sessions
            .retain(|_, s| now.saturating_duration_since(s.last_used) < timeout);
        before - self.sessions.len()
    }

    /// Removes the session with URL id `id`; whether it existed.
    pub(crate) fn close_session(&mut self, id: &str) -> bool {
        let before = self.sessions.len();
        self.sessions.retain(|_, s| s.id != id);
        before != self.sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_states_follow_their_deadlines() {
        let mut st = PodState::new(2, 1);
        let t0 = Instant::now();
        let id = st
            .add_node(1, "n".into(), String::new(), Duration::from_secs(5), t0)
            .id;
        assert_eq!(st.free_systems(), 1);
        let node = &st.nodes[&id];
        assert_eq!(node.state(t0), NodeState::Allocating);
        assert_eq!(
            node.state(t0 + Duration::from_secs(5)),
            NodeState::Allocated
        );
        st.assemble(id, Duration::from_secs(3), 0.0, t0);
        let node = &st.nodes[&id];
        assert_eq!(
            node.state(t0 + Duration::from_secs(2)),
            NodeState::Assembling
        );
        assert_eq!(
            node.state(t0 + Duration::from_secs(3)),
            NodeState::Assembled
        );
        st.assemble(id, Duration::ZERO, 1.0, t0);
        assert_eq!(st.nodes[&id].state(t0), NodeState::Failed);
        assert!(st.remove_node(id).is_some());
        assert_eq!(st.free_systems(), 2);
        assert!(st.remove_node(id).is_none());
    }

    #[test]
    fn node_ids_are_never_reused() {
        let mut st = PodState::new(1, 1);
        let now = Instant::now();
        let first = st
            .add_node(0, "a".into(), String::new(), Duration::ZERO, now)
            .id;
        st.remove_node(first);
        let second = st
            .add_node(0, "b".into(), String::new(), Duration::ZERO, now)
            .id;
        assert_ne!(first, second);
    }

    #[test]
    fn pooled_drives_attach_detach_and_leave_with_their_node() {
        let mut st = PodState::new(2, 1).with_pool(crate::inventory::pooled_drives(1, 3));
        assert_eq!(st.next_pooled_number(), 4);
        let now = Instant::now();
        let a = st
            .add_node(0, "a".into(), String::new(), Duration::ZERO, now)
            .id;
        let b = st
            .add_node(1, "b".into(), String::new(), Duration::ZERO, now)
            .id;
        st.set_attachment(1, Some(a));
        st.set_attachment(3, Some(a));
        st.set_attachment(2, Some(b));
        assert_eq!(st.attached_to(a), [1, 3]);
        assert!(st.unattached().is_empty());
        assert_eq!(st.nodes_with_devices(), [a, b]);
        st.set_attachment(3, None);
        assert_eq!(st.unattached(), [3]);
        st.remove_node(a);
        assert_eq!(st.unattached(), [1, 3]);
        assert_eq!(st.nodes_with_devices(), [b]);
        assert!(st.remove_pooled(2).is_some_and(|d| d.node == Some(b)));
        assert!(st.nodes_with_devices().is_empty());
        st.add_pooled(crate::inventory::pooled_drive(1, 4));
        assert_eq!(st.next_pooled_number(), 5);
        assert_eq!(st.unattached(), [1, 3, 4]);
    }

    #[test]
    fn sessions_expire_when_idle() {
        let mut st = PodState::new(0, 1);
        let t0 = Instant::now();
        let (id, _token) = st.open_session("admin", t0);
        st.open_session("admin", t0 + Duration::from_secs(8));
        assert_eq!(
            st.expire_sessions(Duration::from_secs(10), t0 + Duration::from_secs(10)),
            1
        );
        assert!(!st.close_session(&id));
        assert_eq!(st.sessions.len(), 1);
    }
}
