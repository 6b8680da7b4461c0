//! Work that runs beside the requests: inventory refresh (keeps the cache warm so reads do not
//! wait for PODMs) and health checks (probes with backoff, persisted status).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::service::podms;

/// How often the loops run.
#[derive(Debug, Clone)]
pub struct Intervals {
    pub refresh: Duration,
    pub health: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(30),
            health: Duration::from_secs(10),
        }
    }
}

/// The running loops; [`Background::shutdown`] stops them.
#[derive(Debug)]
pub struct Background {
    token: CancellationToken,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    pub fn spawn(state: AppState, intervals: Intervals) -> Self {
        let token = CancellationToken::new();
        let refresh = tokio::spawn(every(
            intervals.refresh,
            token.clone(),
            state.clone(),
            refresh_inventories,
        ));
        let health = tokio::spawn(every(
            intervals.health,
            token.clone(),
            state.clone(),
            check_health,
        ));
        let heartbeat = intervals.health;
        let recovery = tokio::spawn(every(
            intervals.health,
            token.clone(),
            state,
            move |state| async move {
                crate::service::recovery::run_once(&state, heartbeat).await;
            },
        ));
        Self {
            token,
            handles: vec![refresh, health, recovery],
        }
    }

    pub async fn shutdown(self) {
        self.token.cancel();
        for handle in self.handles {
            if let Err(err) = handle.await {
                tracing::warn!(%err, "background task ended abnormally");
            }
        }
    }
}

async fn every<F, Fut>(interval: Duration, token: CancellationToken, state: AppState, work: F)
where
    F: Fn(AppState) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            _ = ticker.tick() => {}
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = work(state.clone()) => {}
        }
    }
}

/// PODMs worth talking to in the background: all but those being deleted.
async fn live_rows(state: &AppState) -> Vec<valence_db::PodManager> {
    match podms::all_rows(state).await {
        Ok(rows) => rows
            .into_iter()
            .filter(|r| r.state != valence_db::PodmState::Deleting)
            .collect(),
        Err(err) => {
            tracing::warn!(detail = %err.detail, "background: cannot list pod managers");
            Vec::new()
        }
    }
}

/// Re-reads the inventories the breaker admits, replacing the cached ones.
pub async fn refresh_inventories(state: AppState) {
    let rows = live_rows(&state).await;
    let (targets, _) = podms::targets(&state, &rows).await;
    let outcome = state.aggregator.refresh_all(&targets).await;
    if !outcome.failed.is_empty() {
        tracing::debug!(
            failed = outcome.failed.len(),
            ok = outcome.ok.len(),
            "inventory refresh"
        );
    }
    podms::persist_health(&state).await;
}

/// Probes the PODMs whose check is due and records what changed.
pub async fn check_health(state: AppState) {
    let rows = live_rows(&state).await;
    let (targets, _) = podms::targets(&state, &rows).await;
    let outcome = state.aggregator.check_health(&targets).await;
    // By uuid: a search per probe would cost O(PODMs²) string conversions every interval.
    let by_uuid: std::collections::HashMap<String, &valence_db::PodManager> =
        rows.iter().map(|r| (r.uuid.to_string(), r)).collect();
    for (target, probe) in &outcome.ok {
        if let Some(row) = by_uuid.get(&target.uuid)
            && let Err(err) = podms::record_probe(&state, row, probe).await
        {
            tracing::warn!(podm = %target.uuid, detail = %err.detail, "cannot record the probe");
        }
    }
    podms::persist_health(&state).await;
}
