//! `valence system ...`: the computer systems of every pod manager.

use clap::{Args, Subcommand};
use valence_client::SystemFilters;
use valence_client::types::System;

use super::output::{self, fields, gib, or_dash, table};
use super::{CliError, Context, PageArgs};

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// List the systems of all pod managers (or of one).
    #[command(
        after_help = "Example:\n  valence system list --free --min-cores 16 --min-memory-mib 65536"
    )]
    List(ListArgs),
    /// Show one system.
    #[command(
        after_help = "Example:\n  valence system show 0b9e2c4e-6a0e-4f8e-9d0c-2a3b4c5d6e7f:1"
    )]
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the systems of this pod manager (uuid or name).
    #[arg(long)]
    pub podm: Option<String>,
    /// Only systems with at least this many cores.
    #[arg(long, value_name = "N")]
    pub min_cores: Option<u32>,
    /// Only systems with at least this much memory, MiB.
    #[arg(long, value_name = "MIB")]
    pub min_memory_mib: Option<u64>,
    /// Only systems not part of a composed node.
    #[arg(long)]
    pub free: bool,
    /// Read the pod managers now instead of the cache.
    #[arg(long)]
    pub refresh: bool,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// `<podm uuid>:<system id>`, or a pod manager's system id when only one has it.
    pub id: String,
}

pub async fn run(ctx: &Context, command: SystemCommand) -> Result<(), CliError> {
    match command {
        SystemCommand::List(args) => list(ctx, args).await,
        SystemCommand::Show(args) => {
            let system = ctx.client.get_system(&args.id).await?;
            ctx.out.emit(&system, |s| detail(s).to_string())
        }
    }
}

async fn list(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let podm_id = match &args.podm {
        Some(p) => Some(ctx.podm_uuid(p).await?),
        None => None,
    };
    let filters = SystemFilters {
        podm_id,
        min_cores: args.min_cores,
        min_memory_mib: args.min_memory_mib,
        free: args.free,
        refresh: args.refresh,
    };
    let listed = ctx
        .client
        .list_systems_page(&filters, &args.page.page())
        .await?;
    let names = if ctx.out.json && listed.failed_podms.is_empty() {
        Default::default()
    } else {
        ctx.podm_names().await
    };
    output::warn_failed_podms(&listed.failed_podms, &names, "their systems are missing");
    ctx.out.emit(&listed.items, |systems| {
        let mut t = table([
            "ID", "PODM", "NAME", "CORES", "CPU", "MEM GiB", "DRIVES", "POWER", "HEALTH", "FREE",
        ]);
        for s in systems {
            t.add_row([
                s.id.clone(),
                names.get(&s.podm_id).unwrap_or(&s.podm_id).clone(),
                or_dash(s.name.as_deref()),
                s.cpu.cores.to_string(),
                or_dash(s.cpu.model.as_deref()),
                gib(s.ram_mib),
                drives(s),
                or_dash(s.power_state.as_deref()),
                or_dash(s.health.as_deref()),
                if s.free { "yes" } else { "no" }.to_owned(),
            ]);
        }
        t.to_string()
    })
}

fn drives(s: &System) -> String {
    if s.storage.is_empty() {
        return "-".to_owned();
    }
    s.storage
        .iter()
        .map(|d| match &d.drive_type {
            Some(kind) => format!("{}G {kind}", d.capacity_gib),
            None => format!("{}G", d.capacity_gib),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn detail(s: &System) -> comfy_table::Table {
    fields(vec![
        ("id", s.id.clone()),
        ("system id", s.system_id.clone()),
        ("podm", s.podm_id.clone()),
        ("name", or_dash(s.name.as_deref())),
        ("uuid", or_dash(s.uuid.as_deref())),
        ("description", or_dash(s.description.as_deref())),
        ("health", or_dash(s.health.as_deref())),
        ("power", or_dash(s.power_state.as_deref())),
        (
            "processors",
            format!(
                "{} x {} ({} cores, {})",
                s.cpu.count,
                or_dash(s.cpu.model.as_deref()),
                s.cpu.cores,
                or_dash(s.cpu.arch.as_deref())
            ),
        ),
        ("memory GiB", gib(s.ram_mib)),
        ("drives", drives(s)),
        ("network", or_dash(Some(&s.network.join(", ")))),
        ("location", or_dash(s.location.as_deref())),
        ("resource uri", s.resource_uri.clone()),
        ("free", if s.free { "yes" } else { "no" }.to_owned()),
    ])
}
