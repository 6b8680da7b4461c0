//! A Redfish RSD 2.x pod-manager simulator: inventory from a seed, composition, sessions, TLS and fault injection.
//!
//! Start one PODM with [`start`] or a fleet with [`start_many`]; each runs on the caller's tokio
//! runtime with one listener and is controlled through its [`SimPodm`] handle (URL,
//! certificates, run-time [`Behavior`], counters, stop and restart). [`inventory`] computes what
//! a PODM of a given seed and size holds, so tests can derive their expectations. The
//! `podm-sim` binary and `valence sim` use [`run_cli`].
//!
//! What a client meets on the wire (RSD 2.x as the rsd-lib samples show it):
//! - `GET /redfish/v1` (no auth): `Oem.Intel_RackScale.ApiVersion`; `Systems`, `Chassis`,
//!   `Managers`; `Nodes` at the top level in 2.1 and under `Oem.Intel_RackScale` from 2.2 on;
//!   `SessionService` and `Links.Sessions` unless [`SimConfig::session_service`] is off.
//! - Systems `1..=N`; chassis `Pod1`, `Rack<n>`, `Drawer<n>` (8 systems per drawer, 4 drawers
//!   per rack); managers `PODM` and `PSME<drawer>`; local drives under
//!   `/redfish/v1/Chassis/Drawer<n>/Drives/<system>-<k>`. A system used by a node links it in
//!   `Links.Oem.Intel_RackScale.ComposedNode`; the node links the system in
//!   `Links.ComputerSystem`.
//! - `POST /redfish/v1/Nodes/Actions/Allocate` (the target the Nodes collection advertises):
//!   body checked against the RSD request schema of the version (`400`, code
//!   `Base.1.0.InvalidPayload`, one `@Message.ExtendedInfo` entry per bad property with
//!   `MessageId`, `Message` and `RelatedProperties` such as `#/Memory/0/CapacityMiB`); `201` with
//!   an absolute `Location` and no body; `409` (`Base.1.0.ResourcesStateMismatch`, the PODM's
//!   "Available assets count after applying filters: [...]" message) when no free system fits.
//!   The smallest fitting system is taken.
//! - Node: `ComposedNodeState` `Allocating -> Allocated`, `#ComposedNode.Assemble` (`204`; `400`
//!   unless `Allocated`) `-> Assembling -> Assembled | Failed`; `#ComposedNode.Reset` (`204`;
//!   `400` for a `ResetType` outside `ResetType@Redfish.AllowableValues`; `409` unless
//!   `Assembled`); `PATCH` of `Boot` (`200` with the node); `DELETE` (`204`, frees the system).
//! - Pooled NVMe drives ([`SimConfig::pooled_drives`], drawn from the seed by [`pooled_drives`]):
//!   RSD 2.1 and 2.2 serve them behind `/redfish/v1/Fabrics/PCIe` (target endpoints
//!   `Endpoints/NVMeDrivePF<n>` naming drives `/redfish/v1/Chassis/PCIeSwitch1/Drives/Disk.Bay.<n-1>`)
//!   and nodes offer `#ComposedNode.AttachEndpoint` / `DetachEndpoint` with inline
//!   `Resource@Redfish.AllowableValues`; an attached drive is listed in the node's
//!   `Links.LocalDrives`. RSD 2.3 serves them behind `/redfish/v1/Fabrics/NVMeoE` (endpoints
//!   `Endpoints/<n>` naming volumes `/redfish/v1/StorageServices/1/Volumes/<n>`, each spanning
//!   drive `/redfish/v1/Chassis/StorageEnclosure1/Drives/<n>`) and nodes offer
//!   `#ComposedNode.AttachResource` / `DetachResource` whose `@Redfish.ActionInfo` lists the
//!   allowed `Resource`s; an attached volume is in `Links.RemoteDrives`. Attach allows only
//!   unattached targets, detach only the node's own (`204`; `400` naming `Resource` or
//!   `Protocol` otherwise; `409` unless the node is `Allocated` or `Assembled`). A node with
//!   attached drives has a zone `Zones/<node>` of its initiator endpoint and the targets.
//!   Deleting a node detaches its drives; the handle adds and removes drives at run time.
//! - `POST /redfish/v1/SessionService/Sessions` with `UserName`/`Password`: `201`,
//!   `X-Auth-Token`, path-only `Location`; `DELETE` of that location logs out. With credentials
//!   configured everything but the service root needs Basic auth or a token (`401` otherwise).
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
mod pool;
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
pub use handle::{NodeInfo, PooledDriveInfo, SimPodm, SimStats};
pub use inventory::{
    CpuModel, DRAWERS_PER_RACK, DriveSpec, Inventory, MAX_POOLED_DRIVES, MAX_SYSTEMS, MediaType,
    POD_CHASSIS, PooledDriveSpec, SYSTEMS_PER_DRAWER, SystemSpec, inventory, pooled_drive,
    pooled_drives,
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
