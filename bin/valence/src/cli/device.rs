//! `valence device ...`: pooled devices the pod managers offer, and their sync.

use clap::{Args, Subcommand};
use valence_client::DeviceFilters;
use valence_client::types::Device;

use super::output::{fields, or_dash, table, time};
use super::{CliError, Context, PageArgs};

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List pooled devices.
    #[command(after_help = "Example:\n  valence device list --podm rack1 --state free")]
    List(ListArgs),
    /// Show one device.
    #[command(after_help = "Example:\n  valence device show 5d5e9b1c-3a8f-4c1e-9a57-0a5f3c2b7d11")]
    Show(ShowArgs),
    /// Re-read the pooled devices from the pod managers.
    #[command(after_help = "Example:\n  valence device sync --podm rack1")]
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only devices of this pod manager (uuid or name).
    #[arg(long)]
    pub podm: Option<String>,
    /// Only devices attached to this node (uuid or name).
    #[arg(long)]
    pub node: Option<String>,
    /// Only devices of this type.
    #[arg(long = "type")]
    pub device_type: Option<String>,
    /// Only devices in this state.
    #[arg(long)]
    pub state: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Device uuid.
    pub device: String,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this pod manager (uuid or name).
    #[arg(long)]
    pub podm: Option<String>,
}

pub async fn run(ctx: &Context, command: DeviceCommand) -> Result<(), CliError> {
    match command {
        DeviceCommand::List(args) => {
            let filters = DeviceFilters {
                podm_id: match &args.podm {
                    Some(p) => Some(ctx.podm_uuid(p).await?),
                    None => None,
                },
                node_id: match &args.node {
                    Some(n) => Some(ctx.node_uuid(n).await?),
                    None => None,
                },
                device_type: args.device_type,
                state: args.state,
            };
            let devices = ctx
                .client
                .list_devices_page(&filters, &args.page.page())
                .await?;
            ctx.out.emit(&devices, |devices| {
                let mut t = table(["UUID", "TYPE", "STATE", "PODM", "NODE", "RESOURCE URI"]);
                for d in devices {
                    t.add_row([
                        d.uuid.clone(),
                        d.device_type.clone(),
                        d.state.clone(),
                        d.podm_id.clone(),
                        or_dash(d.node_id.as_deref()),
                        d.resource_uri.clone(),
                    ]);
                }
                t.to_string()
            })
        }
        DeviceCommand::Show(args) => {
            let device = ctx.client.get_device(&args.device).await?;
            ctx.out.emit(&device, |d| detail(d).to_string())
        }
        DeviceCommand::Sync(args) => {
            let podm = match &args.podm {
                Some(p) => Some(ctx.podm_uuid(p).await?),
                None => None,
            };
            let reports = ctx.client.sync_devices_of(podm.as_deref()).await?;
            ctx.out.emit(&reports, |reports| {
                let mut t = table(["PODM", "ADDED", "UPDATED", "REMOVED", "ERROR"]);
                for r in reports {
                    t.add_row([
                        r.podm_id.clone(),
                        r.added.to_string(),
                        r.updated.to_string(),
                        r.removed.to_string(),
                        or_dash(r.error.as_deref()),
                    ]);
                }
                t.to_string()
            })
        }
    }
}

fn detail(d: &Device) -> comfy_table::Table {
    fields(vec![
        ("uuid", d.uuid.clone()),
        ("type", d.device_type.clone()),
        ("state", d.state.clone()),
        ("podm", d.podm_id.clone()),
        ("node", or_dash(d.node_id.as_deref())),
        ("resource uri", d.resource_uri.clone()),
        ("properties", d.properties.to_string()),
        ("created", time(Some(&d.created_at))),
        ("updated", time(Some(&d.updated_at))),
    ])
}
