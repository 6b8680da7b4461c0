//! `valence node ...`: compose (and wait until ready), list, show, decompose, reset, boot,
//! adopt and attach devices.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use valence_client::types::{
    BootAction, DeviceAction, Node, NodeAction, NodeCompose, NodeDetail, NodeManage, ResetAction,
};
use valence_client::{ClientError, NodeFilters};
use valence_scheduler::Placement;

use super::output::{self, fields, gib, or_dash, table, time};
use super::requirements::RequirementArgs;
use super::{CliError, Context, PageArgs};

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Compose a node and wait until it is ready.
    #[command(
        after_help = "Examples:\n  valence node compose web-1 --flavor small\n  valence node compose db-1 --cores 16 --memory-mib 65536 --disk 500:SSD --podm rack1\n  valence node compose web-2 --flavor small --dry-run"
    )]
    Compose(ComposeArgs),
    /// List nodes.
    #[command(after_help = "Example:\n  valence node list --podm rack1 --state ready")]
    List(ListArgs),
    /// Show a node with what its pod manager reports now.
    #[command(after_help = "Example:\n  valence node show web-1")]
    Show(IdArg),
    /// Decompose a node (its system goes back to the pool).
    #[command(after_help = "Example:\n  valence node delete web-1")]
    Delete(IdArg),
    /// Reset (power) a node.
    #[command(after_help = "Example:\n  valence node reset web-1 --type ForceRestart")]
    Reset(ResetArgs),
    /// Set a node's boot source override.
    #[command(after_help = "Example:\n  valence node boot web-1 --target Pxe --enabled Once")]
    Boot(BootArgs),
    /// Adopt a node composed outside Valence.
    #[command(after_help = "Example:\n  valence node manage 3 --podm rack1")]
    Manage(ManageArgs),
    /// Attach a pooled device to a node.
    #[command(
        after_help = "Example:\n  valence node attach web-1 5d5e9b1c-3a8f-4c1e-9a57-0a5f3c2b7d11"
    )]
    Attach(DeviceArgs),
    /// Detach a pooled device from a node.
    #[command(
        after_help = "Example:\n  valence node detach web-1 5d5e9b1c-3a8f-4c1e-9a57-0a5f3c2b7d11"
    )]
    Detach(DeviceArgs),
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Node uuid or name.
    pub node: String,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").args(["flavor", "cores", "memory_mib"]).required(true).multiple(true)))]
pub struct ComposeArgs {
    /// Name of the new node.
    pub name: String,
    /// Flavor (uuid or name) giving the requirements.
    #[arg(long, conflicts_with_all = ["cores", "memory_mib", "model", "disk"])]
    pub flavor: Option<String>,
    #[command(flatten)]
    pub requirements: RequirementArgs,
    /// Pod manager (uuid or name) to compose on; the scheduler picks one when absent.
    #[arg(long)]
    pub podm: Option<String>,
    /// Free text stored with the node.
    #[arg(long)]
    pub description: Option<String>,
    /// Print the placement decision (candidates, and why each other pod manager was
    /// rejected); compose nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A retry with the same key returns the node of the first request instead of composing
    /// another one.
    #[arg(long, value_name = "KEY", value_parser = parse_idempotency_key)]
    pub idempotency_key: Option<String>,
    /// Return as soon as the request is accepted instead of waiting for the node to be ready.
    #[arg(long, conflicts_with = "dry_run")]
    pub no_wait: bool,
    /// How long to wait for the node to be ready, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only nodes of this pod manager (uuid or name).
    #[arg(long)]
    pub podm: Option<String>,
    /// Only nodes in this state.
    #[arg(long, value_parser = ["allocating", "assembling", "ready", "failed", "deleting"])]
    pub state: Option<String>,
    /// Only nodes of this name.
    #[arg(long)]
    pub name: Option<String>,
    /// `valence` (composed by Valence) or `user` (adopted).
    #[arg(long, value_parser = ["valence", "user"])]
    pub managed_by: Option<String>,
    /// Only nodes of this flavor (uuid or name).
    #[arg(long)]
    pub flavor: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Node uuid or name.
    pub node: String,
    /// Redfish ResetType: On, ForceOff, GracefulShutdown, GracefulRestart, ForceRestart, Nmi,
    /// ForceOn, PushPowerButton (as the node allows).
    #[arg(long = "type", default_value = "GracefulRestart")]
    pub reset_type: String,
}

#[derive(Debug, Args)]
pub struct BootArgs {
    /// Node uuid or name.
    pub node: String,
    /// Boot source: Pxe, Hdd, RemoteDrive, None, ... (as the node allows).
    #[arg(long)]
    pub target: String,
    /// Once, Continuous or Disabled.
    #[arg(long, default_value = "Once")]
    pub enabled: String,
}

#[derive(Debug, Args)]
pub struct ManageArgs {
    /// The pod manager's node id (`Id`) or its `@odata.id`.
    pub index: String,
    /// Pod manager (uuid or name) the node is on.
    #[arg(long)]
    pub podm: String,
}

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// Node uuid or name.
    pub node: String,
    /// Device uuid (valence device list).
    pub device: String,
}

/// What the API accepts as an `Idempotency-Key`: 1 to 255 visible ASCII characters.
fn parse_idempotency_key(text: &str) -> Result<String, String> {
    let key = text.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err("must be 1 to 255 visible ASCII characters".to_owned());
    }
    Ok(key.to_owned())
}

pub async fn run(ctx: &Context, command: NodeCommand) -> Result<(), CliError> {
    match command {
        NodeCommand::Compose(args) => compose(ctx, args).await,
        NodeCommand::List(args) => list(ctx, args).await,
        NodeCommand::Show(arg) => {
            let uuid = ctx.node_uuid(&arg.node).await?;
            let node = ctx.client.get_node(&uuid).await?;
            ctx.out.emit(&node, detail)
        }
        NodeCommand::Delete(arg) => {
            let uuid = ctx.node_uuid(&arg.node).await?;
            ctx.client.delete_node(&uuid).await?;
            done(ctx, &uuid, format!("node {} ({uuid}) decomposed", arg.node))
        }
        NodeCommand::Reset(args) => {
            let action = NodeAction::Reset(ResetAction {
                reset_type: args.reset_type.clone(),
            });
            act(
                ctx,
                &args.node,
                &action,
                &format!("reset ({})", args.reset_type),
            )
            .await
        }
        NodeCommand::Boot(args) => {
            let action = NodeAction::Boot(BootAction {
                enabled: args.enabled.clone(),
                target: args.target.clone(),
            });
            let what = format!("set to boot from {} ({})", args.target, args.enabled);
            act(ctx, &args.node, &action, &what).await
        }
        NodeCommand::Manage(args) => {
            let body = NodeManage {
                node_index: args.index,
                podm_id: ctx.podm_uuid(&args.podm).await?,
            };
            let node = ctx.client.manage_node(&body).await?;
            ctx.out.emit(&node, |n| summary(n).to_string())
        }
        NodeCommand::Attach(args) => {
            let action = NodeAction::Attach(DeviceAction {
                device_id: args.device.clone(),
            });
            act(
                ctx,
                &args.node,
                &action,
                &format!("attached to device {}", args.device),
            )
            .await
        }
        NodeCommand::Detach(args) => {
            let action = NodeAction::Detach(DeviceAction {
                device_id: args.device.clone(),
            });
            act(
                ctx,
                &args.node,
                &action,
                &format!("detached from device {}", args.device),
            )
            .await
        }
    }
}

/// What an action without an answer body prints: a sentence, or `{"uuid": ..., "done": true}`.
fn done(ctx: &Context, uuid: &str, sentence: String) -> Result<(), CliError> {
    let body = serde_json::json!({"uuid": uuid, "done": true});
    ctx.out.emit(&body, |_| sentence)
}

async fn act(ctx: &Context, node: &str, action: &NodeAction, what: &str) -> Result<(), CliError> {
    let uuid = ctx.node_uuid(node).await?;
    ctx.client.node_action(&uuid, action).await?;
    done(ctx, &uuid, format!("node {node} ({uuid}) {what}"))
}

async fn list(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let podm_id = match &args.podm {
        Some(p) => Some(ctx.podm_uuid(p).await?),
        None => None,
    };
    let filters = NodeFilters {
        podm_id,
        state: args.state,
        name: args.name,
        managed_by: args.managed_by,
        flavor_id: match &args.flavor {
            Some(f) if uuid::Uuid::parse_str(f).is_err() => {
                Some(ctx.client.get_flavor(f).await?.uuid)
            }
            other => other.clone(),
        },
    };
    let nodes = ctx
        .client
        .list_nodes_page(&filters, &args.page.page())
        .await?;
    let names = if ctx.out.json {
        Default::default()
    } else {
        ctx.podm_names().await
    };
    ctx.out.emit(&nodes, |nodes| {
        let mut t = table([
            "UUID",
            "NAME",
            "STATE",
            "PODM",
            "INDEX",
            "MANAGED BY",
            "CREATED",
        ]);
        for n in nodes {
            t.add_row([
                n.uuid.clone(),
                n.name.clone(),
                n.state.clone(),
                names.get(&n.podm_id).unwrap_or(&n.podm_id).clone(),
                or_dash(n.index.as_deref()),
                n.managed_by.clone(),
                time(Some(&n.created_at)),
            ]);
        }
        t.to_string()
    })
}

fn summary(n: &Node) -> comfy_table::Table {
    fields(node_rows(n))
}

fn node_rows(n: &Node) -> Vec<(&'static str, String)> {
    let requirements = n
        .requirements
        .as_ref()
        .and_then(|r| serde_json::to_string(r).ok());
    vec![
        ("uuid", n.uuid.clone()),
        ("name", n.name.clone()),
        ("state", n.state.clone()),
        ("description", or_dash(n.description.as_deref())),
        ("podm", n.podm_id.clone()),
        ("index", or_dash(n.index.as_deref())),
        ("resource uri", or_dash(n.resource_uri.as_deref())),
        ("managed by", n.managed_by.clone()),
        ("flavor", or_dash(n.flavor_id.as_deref())),
        ("requirements", or_dash(requirements.as_deref())),
        ("last error", or_dash(n.last_error.as_deref())),
        ("created", time(Some(&n.created_at))),
        ("updated", time(Some(&n.updated_at))),
    ]
}

fn detail(d: &NodeDetail) -> String {
    let mut rows = node_rows(&d.node);
    rows.push(("power", or_dash(d.power_state.as_deref())));
    rows.push(("composed state", or_dash(d.composed_node_state.as_deref())));
    if let Some(s) = &d.system {
        rows.push(("system", s.id.clone()));
        rows.push((
            "processors",
            format!(
                "{} x {} ({} cores)",
                s.cpu.count,
                or_dash(s.cpu.model.as_deref()),
                s.cpu.cores
            ),
        ));
        rows.push(("memory GiB", gib(s.ram_mib)));
        rows.push((
            "drives",
            s.storage
                .iter()
                .map(|d| {
                    format!(
                        "{} GiB {}",
                        d.capacity_gib,
                        or_dash(d.drive_type.as_deref())
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        ));
        rows.push(("network", s.network.join(", ")));
    }
    if let Some(err) = &d.podm_error {
        rows.push(("podm error", err.clone()));
    }
    fields(rows).to_string()
}

async fn compose(ctx: &Context, args: ComposeArgs) -> Result<(), CliError> {
    let body = NodeCompose {
        name: args.name.clone(),
        description: args.description.clone(),
        podm_id: match &args.podm {
            Some(p) => Some(ctx.podm_uuid(p).await?),
            None => None,
        },
        flavor_id: args.flavor.clone(),
        properties: args.requirements.requirements(),
    };
    if args.dry_run {
        let placement = ctx.client.plan_compose(&body).await?;
        return ctx.out.emit(&placement, describe_placement);
    }
    let node = match &args.idempotency_key {
        Some(key) => ctx.client.compose_node_idempotent(&body, key).await?,
        None => ctx.client.compose_node(&body).await?,
    };
    if args.no_wait {
        return ctx.out.emit(&node, |n| {
            format!(
                "{}\nnode {} is {}; follow it with: valence node show {}",
                summary(n),
                n.name,
                n.state,
                n.uuid
            )
        });
    }
    let ready = wait_ready(ctx, &node, Duration::from_secs(args.timeout)).await?;
    ctx.out.emit(&ready, detail)
}

/// The compose dry run as tables; an answer of an unknown shape is printed as JSON.
fn describe_placement(value: &serde_json::Value) -> String {
    let Ok(placement) = serde_json::from_value::<Placement>(value.clone()) else {
        return serde_json::to_string_pretty(value).unwrap_or_default();
    };
    let mut text = Vec::new();
    match &placement {
        Placement::Ranked { candidates, .. } => {
            if let Some(first) = candidates.first() {
                text.push(format!(
                    "would compose on {} ({}), {} candidate(s) in order:",
                    first.podm_name,
                    first.podm_uuid,
                    candidates.len()
                ));
            }
            let mut t = table([
                "RANK",
                "PODM",
                "UUID",
                "STATUS",
                "SCORE",
                "SYSTEMS FREE",
                "CORES FREE",
                "MEM FREE GiB",
                "BEST FIT",
            ]);
            for c in candidates {
                t.add_row([
                    c.rank.to_string(),
                    c.podm_name.clone(),
                    c.podm_uuid.clone(),
                    format!("{:?}", c.status),
                    format!("{:.2}", c.score),
                    format!("{}/{}", c.systems.free, c.systems.total),
                    c.cores_free.to_string(),
                    gib(c.memory_free_mib),
                    c.best_fit.clone(),
                ]);
            }
            text.push(t.to_string());
        }
        Placement::NoValidPodm { .. } => {
            text.push("no pod manager can compose this node".to_owned());
        }
        Placement::UnknownPodm { podm_uuid } => {
            text.push(format!("no pod manager {podm_uuid}"));
        }
    }
    if !placement.rejected().is_empty() {
        text.push(output::rejections(placement.rejected()).to_string());
    }
    text.join("\n")
}

/// Shows where a compose is: a spinner on a terminal, one line per state change otherwise.
enum Progress {
    Spinner(ProgressBar),
    Lines,
}

impl Progress {
    fn start(node: &Node) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress::Lines;
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(format!("node {}: {}", node.name, node.state));
        Progress::Spinner(bar)
    }

    fn state(&self, node: &Node) {
        let step = match node.state.as_str() {
            "allocating" => "[1/3] ",
            "assembling" => "[2/3] ",
            _ => "",
        };
        let line = format!("{step}node {} ({}): {}", node.name, node.uuid, node.state);
        match self {
            Progress::Spinner(bar) => bar.set_message(line),
            Progress::Lines => eprintln!("{line}"),
        }
    }

    fn finish(&self, line: String) {
        match self {
            Progress::Spinner(bar) => bar.finish_with_message(line),
            Progress::Lines => eprintln!("{line}"),
        }
    }

    /// Ends the display before an error is reported (which says everything itself).
    fn stop(&self) {
        if let Progress::Spinner(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Polls the node until it is ready, failed, gone or the deadline passes.
async fn wait_ready(ctx: &Context, node: &Node, timeout: Duration) -> Result<NodeDetail, CliError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let progress = Progress::start(node);
    progress.state(node);
    let mut last_state = node.state.clone();
    let mut pause = Duration::from_millis(200);
    let timed_out = |state: &str| {
        CliError::Failed(format!(
            "node {} ({}) is still {state} after {}s; it keeps composing in the background \
             (valence node show {})",
            node.name,
            node.uuid,
            timeout.as_secs(),
            node.uuid
        ))
    };
    loop {
        // A slow PODM behind the node detail must not stretch the wait past --timeout.
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(answer) = tokio::time::timeout(left, ctx.client.get_node(&node.uuid)).await else {
            progress.stop();
            return Err(timed_out(&last_state));
        };
        let detail = match answer {
            Ok(detail) => detail,
            Err(ClientError::Api(failure)) if failure.status == 404 => {
                progress.stop();
                return Err(CliError::Failed(format!(
                    "node {} ({}) disappeared while composing (deleted meanwhile?)",
                    node.name, node.uuid
                )));
            }
            Err(err) => {
                progress.stop();
                return Err(err.into());
            }
        };
        if detail.node.state != last_state {
            last_state.clone_from(&detail.node.state);
            if !matches!(last_state.as_str(), "ready" | "failed" | "deleting") {
                progress.state(&detail.node);
            }
        }
        match detail.node.state.as_str() {
            "ready" => {
                progress.finish(format!(
                    "node {} ({}) is ready after {:.1}s",
                    node.name,
                    node.uuid,
                    started.elapsed().as_secs_f64()
                ));
                return Ok(detail);
            }
            "failed" | "deleting" => {
                let why = or_dash(detail.node.last_error.as_deref());
                progress.stop();
                return Err(CliError::Failed(format!(
                    "node {} ({}) {}: {why}",
                    node.name, node.uuid, detail.node.state
                )));
            }
            _ => {}
        }
        let now = Instant::now();
        if now >= deadline {
            progress.stop();
            return Err(timed_out(&detail.node.state));
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 3 / 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert_eq!(parse_idempotency_key(" key-1 ").unwrap(), "key-1");
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("tab\there").is_err());
        assert!(parse_idempotency_key("é").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
    }
}
