//! A Redfish RSD 2.x pod-manager simulator: inventory from a seed, composition, sessions, TLS and fault injection.
//!
//! Start one PODM with [`start`] or a fleet with [`start_many`]; each runs on the caller's tokio
//! runtime with one listener and is controlled through its [`SimPodm`] handle (URL,
//! certificates, run-time [`Behavior`], counters, stop and restart). [`inventory`] computes what
//! a PODM of a given seed and size holds, so tests can derive their expectations. The
//! `podm-sim` binary and `valence sim` use [`run_cli`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), valence_podm_sim::SimError> {
//! use valence_podm_sim::{RsdVersion, SimConfig, start};
//! let podm = start(SimConfig { version: RsdVersion::V2_2, systems: 16, ..SimConfig::default() }).await?;
//! println!("{}", podm.service_root_url());
//! podm.update_behavior(|b| b.error_rate = 0.5)?;
//! # Ok(()) }
//! ```

mod cli;
mod compose;
mod config;
mod error;
mod handle;
mod inventory;
mod render;
mod reply;
mod routes;
mod schema;
mod server;
mod state;
mod tls;

use std::sync::Arc;

pub use cli::{SimArgs, describe, run_cli, start_fleet};
pub use config::{Behavior, Credentials, RsdVersion, SimConfig};
pub use error::SimError;
pub use handle::{NodeInfo, SimPodm, SimStats};
pub use inventory::{
    CpuModel, DRAWERS_PER_RACK, DriveSpec, Inventory, MAX_SYSTEMS, MediaType, POD_CHASSIS,
    SYSTEMS_PER_DRAWER, SystemSpec, inventory,
};
pub use state::Health;

use tls::TlsMaterial;

/// Starts one simulated PODM (listening when this returns).
pub async fn start(config: SimConfig) -> Result<SimPodm, SimError> {
    let tls = if config.tls {
        Some(Arc::new(TlsMaterial::generate(config.bind)?))
    } else {
        None
    };
    SimPodm::launch(config, tls).await
}

/// Starts `count` PODMs from `base`: PODM `n` (from 0) listens on `base.port + n` (every one on
/// an ephemeral port when `base.port` is 0), uses seed `base.seed + n` and is named
/// `{base.name}-{n}`. With TLS they share one CA and certificate.
pub async fn start_many(count: usize, base: SimConfig) -> Result<Vec<SimPodm>, SimError> {
    base.validate()?;
    if base.port != 0 && usize::from(base.port) + count.saturating_sub(1) > usize::from(u16::MAX) {
        return Err(SimError::config(
            "port",
            format!("{count} PODMs from port {} go past 65535", base.port),
        ));
    }
    let tls = if base.tls {
        Some(Arc::new(TlsMaterial::generate(base.bind)?))
    } else {
        None
    };
    let mut pods = Vec::with_capacity(count);
    for n in 0..count {
        let offset = u16::try_from(n).unwrap_or(u16::MAX);
        let config = SimConfig {
            name: format!("{}-{n}", base.name),
            seed: base.seed.wrapping_add(n as u64),
            port: if base.port == 0 {
                0
            } else {
                base.port + offset
            },
            ..base.clone()
        };
        pods.push(SimPodm::launch(config, tls.clone()).await?);
    }
    Ok(pods)
}
