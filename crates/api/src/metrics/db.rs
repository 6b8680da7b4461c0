//! The database pool's observer: connection waits, hold times (one unit of DB work) and
//! timeouts, as measured by the pool of `valence_db`.

use std::sync::Arc;
use std::time::Duration;

use super::Metrics;

/// Hands the pool's events to `metrics`; give it to [`valence_db::Db::connect_observed`].
#[derive(Debug, Clone)]
pub struct PoolMetrics(pub Arc<Metrics>);

impl valence_db::PoolObserver for PoolMetrics {
    fn checked_out(&self, waited: Duration) {
        self.0.db_wait.observe(waited.as_secs_f64());
    }

    fn checked_in(&self, held: Duration) {
        self.0.db_held.observe(held.as_secs_f64());
    }

    fn timed_out(&self, waited: Duration) {
        self.0.db_wait.observe(waited.as_secs_f64());
        self.0.db_timeouts.inc();
    }
}
