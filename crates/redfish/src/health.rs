//! Per-PODM health and circuit breaker: consecutive failures open the breaker, calls are then
//! refused at once instead of waiting for a timeout, and probes retry with exponential backoff
//! until one succeeds.
//!
//! Time is passed in (`now`) so the state machine is tested without a clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

/// When a PODM counts as down and how often it is probed then.
#[derive(Debug, Clone)]
pub struct HealthPolicy {
    /// Consecutive failures after which the PODM is `Offline` and the breaker opens. A PODM never
    /// seen `Online` goes `Offline` on its first failure.
    pub failures_to_open: u32,
    /// Wait before the first probe of an open breaker; doubles per failed probe.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            failures_to_open: 3,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HealthStatus {
    Online,
    Offline,
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "Online",
            Self::Offline => "Offline",
            Self::Unknown => "Unknown",
        }
    }
}

/// Whether a call to a PODM may go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// The breaker is open; `last_error` is why, `retry_in` when the next probe is due.
    Refused {
        last_error: String,
        retry_in: Duration,
    },
}

/// What is known of one PODM's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthView {
    pub status: HealthStatus,
    pub consecutive_failures: u32,
    pub last_seen: Option<SystemTime>,
    pub last_error: Option<String>,
    pub breaker_open: bool,
}

/// A change of status worth persisting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub uuid: String,
    pub from: HealthStatus,
    pub to: HealthStatus,
}

#[derive(Debug, Clone)]
struct Entry {
    status: HealthStatus,
    consecutive_failures: u32,
    last_seen: Option<SystemTime>,
    last_error: Option<String>,
    /// Set while the breaker is open: no call before this instant except a probe.
    open_until: Option<Instant>,
    backoff: Duration,
}

impl Entry {
    fn new(policy: &HealthPolicy) -> Self {
        Self {
            status: HealthStatus::Unknown,
            consecutive_failures: 0,
            last_seen: None,
            last_error: None,
            open_until: None,
            backoff: policy.base_backoff,
        }
    }
}

/// Health of all PODMs, shared by the fan-out and the health-check loop.
#[derive(Debug)]
pub struct HealthBoard {
    policy: HealthPolicy,
    state: Mutex<BoardState>,
}

#[derive(Debug, Default)]
struct BoardState {
    entries: HashMap<String, Entry>,
    /// Status changes not yet taken by [`HealthBoard::drain_transitions`].
    pending: Vec<Transition>,
}

impl HealthBoard {
    pub fn new(policy: HealthPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(BoardState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BoardState> {
        // A poisoned lock only means another thread panicked mid-update of plain data; the
        // data is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_entry<R>(&self, uuid: &str, f: impl FnOnce(&mut Entry, &HealthPolicy) -> R) -> R {
        let mut state = self.lock();
        let entry = state
            .entries
            .entry(uuid.to_owned())
            .or_insert_with(|| Entry::new(&self.policy));
        f(entry, &self.policy)
    }

    /// Applies `f` and queues the status change it reports, if any.
    fn update(
        &self,
        uuid: &str,
        f: impl FnOnce(&mut Entry, &HealthPolicy) -> Option<Transition>,
    ) -> Option<Transition> {
        let mut state = self.lock();
        let entry = state
            .entries
            .entry(uuid.to_owned())
            .or_insert_with(|| Entry::new(&self.policy));
        let change = f(entry, &self.policy);
        if let Some(change) = &change {
            state.pending.push(change.clone());
        }
        change
    }

    /// Status changes since the last call, oldest first, for the caller to persist.
    pub fn drain_transitions(&self) -> Vec<Transition> {
        std::mem::take(&mut self.lock().pending)
    }

    /// Seeds the status read from the database at start-up, so a restart does not forget that
    /// a PODM was offline.
    pub fn seed(&self, uuid: &str, status: HealthStatus, last_error: Option<String>) {
        self.with_entry(uuid, |e, _| {
            if e.status == HealthStatus::Unknown {
                e.status = status;
                e.last_error = last_error;
            }
        });
    }

    pub fn admit(&self, uuid: &str, now: Instant) -> Admission {
        self.with_entry(uuid, |e, _| match e.open_until {
            Some(until) if until > now => Admission::Refused {
                last_error: e.last_error.clone().unwrap_or_else(|| "unreachable".into()),
                retry_in: until - now,
            },
            _ => Admission::Allowed,
        })
    }

    /// Whether a probe of this PODM is due (breaker closed, or open and its backoff elapsed).
    pub fn probe_due(&self, uuid: &str, now: Instant) -> bool {
        self.admit(uuid, now) == Admission::Allowed
    }

    pub fn record_success(&self, uuid: &str, seen_at: SystemTime) -> Option<Transition> {
        self.update(uuid, |e, policy| {
            let from = e.status;
            e.status = HealthStatus::Online;
            e.consecutive_failures = 0;
            e.last_seen = Some(seen_at);
            e.last_error = None;
            e.open_until = None;
            e.backoff = policy.base_backoff;
            (from != HealthStatus::Online).then(|| Transition {
                uuid: uuid.to_owned(),
                from,
                to: HealthStatus::Online,
            })
        })
    }

    pub fn record_failure(&self, uuid: &str, reason: &str, now: Instant) -> Option<Transition> {
        self.update(uuid, |e, policy| {
            let from = e.status;
            e.consecutive_failures = e.consecutive_failures.saturating_add(1);
            e.last_error = Some(reason.to_owned());
            let down =
                from != HealthStatus::Online || e.consecutive_failures >= policy.failures_to_open;
            if down {
                e.status = HealthStatus::Offline;
                e.open_until = Some(now + e.backoff);
                e.backoff = (e.backoff * 2).min(policy.max_backoff);
            }
            (from != e.status).then(|| Transition {
                uuid: uuid.to_owned(),
                from,
                to: e.status,
            })
        })
    }

    pub fn view(&self, uuid: &str) -> HealthView {
        self.with_entry(uuid, |e, _| HealthView {
            status: e.status,
            consecutive_failures: e.consecutive_failures,
            last_seen: e.last_seen,
            last_error: e.last_error.clone(),
            breaker_open: e.open_until.is_some(),
        })
    }

    pub fn forget(&self, uuid: &str) {
        self.lock().entries.remove(uuid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> HealthBoard {
        HealthBoard::new(HealthPolicy {
            failures_to_open: 3,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(20),
        })
    }

    #[test]
    fn online_podm_goes_offline_after_repeated_failures_only() {
        let b = board();
        let t0 = Instant::now();
        assert!(b.record_success("p", SystemTime::now()).is_some());
        assert_eq!(b.record_failure("p", "timeout", t0), None);
        assert_eq!(b.record_failure("p", "timeout", t0), None);
        assert_eq!(b.admit("p", t0), Admission::Allowed);
        let t = b.record_failure("p", "timeout", t0).unwrap();
        assert_eq!(
            (t.from, t.to),
            (HealthStatus::Online, HealthStatus::Offline)
        );
        assert!(matches!(b.admit("p", t0), Admission::Refused { .. }));
        assert!(b.view("p").breaker_open);
    }

    #[test]
    fn never_seen_podm_is_offline_on_first_failure() {
        let b = board();
        let t = b
            .record_failure("p", "connection refused", Instant::now())
            .unwrap();
        assert_eq!(t.to, HealthStatus::Offline);
        assert_eq!(
            b.view("p").last_error.as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn probes_back_off_exponentially_up_to_the_cap_and_recover() {
        let b = board();
        let t0 = Instant::now();
        b.record_failure("p", "down", t0);
        assert!(!b.probe_due("p", t0 + Duration::from_secs(4)));
        assert!(b.probe_due("p", t0 + Duration::from_secs(5)));
        let t1 = t0 + Duration::from_secs(5);
        b.record_failure("p", "down", t1);
        assert!(!b.probe_due("p", t1 + Duration::from_secs(9)));
        assert!(b.probe_due("p", t1 + Duration::from_secs(10)));
        let t2 = t1 + Duration::from_secs(10);
        b.record_failure("p", "down", t2);
        let t3 = t2 + Duration::from_secs(20);
        assert!(b.probe_due("p", t3));
        b.record_failure("p", "down", t3);
        assert!(
            b.probe_due("p", t3 + Duration::from_secs(20)),
            "backoff is capped at max_backoff"
        );

        let t = b.record_success("p", SystemTime::now()).unwrap();
        assert_eq!(t.to, HealthStatus::Online);
        assert_eq!(b.admit("p", t3), Admission::Allowed);
        assert_eq!(b.view("p").consecutive_failures, 0);
    }

    #[test]
    fn seed_keeps_a_known_offline_status_after_restart() {
        let b = board();
        b.seed("p", HealthStatus::Offline, Some("was down".into()));
        assert_eq!(b.view("p").status, HealthStatus::Offline);
        assert!(b.record_success("p", SystemTime::now()).is_some());
    }

    #[test]
    fn transitions_are_queued_once_until_drained() {
        let b = board();
        b.record_failure("p", "down", Instant::now());
        b.record_failure("p", "down", Instant::now());
        b.record_success("p", SystemTime::now());
        b.record_success("p", SystemTime::now());
        let changes: Vec<_> = b
            .drain_transitions()
            .into_iter()
            .map(|t| (t.from, t.to))
            .collect();
        assert_eq!(
            changes,
            vec![
                (HealthStatus::Unknown, HealthStatus::Offline),
                (HealthStatus::Offline, HealthStatus::Online)
            ]
        );
        assert!(b.drain_transitions().is_empty());
    }
}
