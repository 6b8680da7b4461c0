//! `valence podm ...`: register, list with usage, show, update, cordon and safely delete pod
//! managers.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use valence_client::PodManagerFilters;
use valence_client::types::{
    PodManager, PodManagerCreate, PodManagerDeletePlan, PodManagerUpdate, PodManagerUsage,
};

use super::output::{self, fields, gib, or_dash, table, time};
use super::secret::CredentialArgs;
use super::{CliError, Context, PageArgs};

#[derive(Debug, Subcommand)]
pub enum PodmCommand {
    /// Register a pod manager.
    #[command(
        after_help = "Example:\n  printf '%s\\n' \"$PODM_PASSWORD\" | \\\n    valence podm add rack1 https://10.0.0.5:8443 --username admin --password-stdin --verify"
    )]
    Add(AddArgs),
    /// List pod managers with their usage.
    #[command(
        after_help = "Example:\n  valence podm list --refresh\n  valence podm list --state cordoned --json"
    )]
    List(ListArgs),
    /// Show one pod manager with its usage.
    #[command(after_help = "Example:\n  valence podm show rack1 --refresh")]
    Show(ShowArgs),
    /// Change a pod manager's name, URL, credentials or TLS settings.
    #[command(
        after_help = "Example:\n  valence podm update rack1 --username admin --password-file /run/secrets/rack1"
    )]
    Update(UpdateArgs),
    /// Stop placing new nodes on a pod manager (its nodes stay).
    #[command(after_help = "Example:\n  valence podm cordon rack1")]
    Cordon(IdArg),
    /// Let the scheduler place nodes on a cordoned pod manager again.
    #[command(after_help = "Example:\n  valence podm uncordon rack1")]
    Uncordon(IdArg),
    /// Forget a pod manager; refused while nodes made by Valence remain unless --release.
    #[command(
        after_help = "Examples:\n  valence podm delete rack1 --dry-run\n  valence podm delete rack1 --release --yes"
    )]
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Pod manager uuid or name.
    pub podm: String,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A unique name for the pod manager.
    pub name: String,
    /// Its base URL (`https://host:port`); `/redfish/v1` is appended when missing.
    #[arg(id = "podm_url", value_name = "URL")]
    pub url: String,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// rsd or redfish; detected from the service root when absent.
    #[arg(long, value_parser = ["rsd", "redfish"])]
    pub driver: Option<String>,
    /// Do not verify the pod manager's TLS certificate (lab set-ups only).
    #[arg(long, conflicts_with = "ca_cert")]
    pub no_tls_verify: bool,
    /// PEM file of the CA (or the certificate itself) the pod manager's certificate is checked against.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Refuse to register the pod manager unless it answers now.
    #[arg(long)]
    pub verify: bool,
    /// Free text shown with the pod manager.
    #[arg(long)]
    pub description: Option<String>,
    /// Where the pod manager is (site, room, rack).
    #[arg(long)]
    pub location: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Read usage from the pod managers now instead of the cache.
    #[arg(long)]
    pub refresh: bool,
    /// Only pod managers in this state.
    #[arg(long, value_parser = ["active", "cordoned", "deleting"])]
    pub state: Option<String>,
    /// Only pod managers with this health status.
    #[arg(long, value_parser = ["Online", "Offline", "Unknown"])]
    pub status: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Pod manager uuid or name.
    pub podm: String,
    /// Read usage from the pod manager now instead of the cache.
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Pod manager uuid or name.
    pub podm: String,
    /// New name.
    #[arg(long)]
    pub name: Option<String>,
    /// New base URL of the pod manager (`--url` is the Valence API's).
    #[arg(long = "podm-url", id = "podm_url", value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Verify the pod manager's TLS certificate (true or false).
    #[arg(long, value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// PEM file of the CA the pod manager's certificate is checked against.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// New description.
    #[arg(long)]
    pub description: Option<String>,
    /// New location.
    #[arg(long)]
    pub location: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Pod manager uuid or name.
    pub podm: String,
    /// Decompose the nodes Valence made on it first (asks for confirmation unless --yes).
    #[arg(long)]
    pub release: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Say what would happen; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(ctx: &Context, command: PodmCommand) -> Result<(), CliError> {
    match command {
        PodmCommand::Add(args) => add(ctx, args).await,
        PodmCommand::List(args) => list(ctx, args).await,
        PodmCommand::Show(args) => {
            let uuid = ctx.podm_uuid(&args.podm).await?;
            let shown = ctx.client.show_pod_manager(&uuid, args.refresh).await?;
            warn_failed(&shown.failed_podms, &[&shown.items]);
            ctx.out.emit(&shown.items, |p| detail(p).to_string())
        }
        PodmCommand::Update(args) => update(ctx, args).await,
        PodmCommand::Cordon(arg) => set_state(ctx, &arg.podm, "cordoned").await,
        PodmCommand::Uncordon(arg) => set_state(ctx, &arg.podm, "active").await,
        PodmCommand::Delete(args) => delete(ctx, args).await,
    }
}

fn read_pem(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        what: format!("the CA certificate {}", path.display()),
        source,
    })
}

async fn add(ctx: &Context, args: AddArgs) -> Result<(), CliError> {
    let body = PodManagerCreate {
        name: args.name,
        url: args.url,
        driver: args.driver,
        authentication: args.credentials.authentication()?.unwrap_or_default(),
        description: args.description,
        location: args.location,
        tls_verify: args.no_tls_verify.then_some(false),
        ca_cert: args.ca_cert.as_deref().map(read_pem).transpose()?,
    };
    let created = ctx.client.create_pod_manager(&body, args.verify).await?;
    ctx.out.emit(&created, |p| detail(p).to_string())
}

async fn list(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let filters = PodManagerFilters {
        refresh: args.refresh,
        state: args.state,
        status: args.status,
        name: None,
    };
    let listed = ctx
        .client
        .list_pod_managers_page(&filters, &args.page.page())
        .await?;
    warn_failed(
        &listed.failed_podms,
        &listed.items.iter().collect::<Vec<_>>(),
    );
    ctx.out.emit(&listed.items, |podms| {
        let mut t = table([
            "NAME",
            "UUID",
            "URL",
            "DRIVER",
            "STATUS",
            "STATE",
            "SYSTEMS FREE",
            "NODES",
            "CORES FREE",
            "MEM FREE GiB",
            "USED",
        ]);
        for p in podms {
            let u = &p.usage;
            let known = |figure| usage_figure(u, figure, "-");
            t.add_row([
                p.name.clone(),
                p.uuid.clone(),
                p.url.clone(),
                p.driver.clone(),
                p.status.clone(),
                p.state.clone(),
                known(format!("{}/{}", u.systems_free, u.systems_total)),
                format!(
                    "{} ({} by Valence)",
                    known(u.nodes_total.to_string()),
                    u.nodes_valence
                ),
                known(u.cores_free.to_string()),
                known(gib(u.memory_free_mib)),
                known(format!("{:.0}%", u.ratio * 100.0)),
            ]);
        }
        t.to_string()
    })
}

/// Names the PODMs that did not answer a refresh (the `Valence-Failed-Podms` header).
fn warn_failed(failed: &[String], podms: &[&PodManager]) {
    let names = podms
        .iter()
        .map(|p| (p.uuid.clone(), p.name.clone()))
        .collect();
    output::warn_failed_podms(failed, &names, "their usage could not be refreshed");
}

/// A usage figure, or `unknown` when the inventory could not be read: the API sends zeros
/// then, which are not facts.
fn usage_figure(usage: &PodManagerUsage, figure: String, unknown: &str) -> String {
    if usage.available {
        figure
    } else {
        unknown.to_owned()
    }
}

/// One PODM as a two-column table. The password is never shown (the API masks it anyway).
fn detail(p: &PodManager) -> comfy_table::Table {
    let u = &p.usage;
    let auth = p
        .authentication
        .iter()
        .map(|a| format!("{} as {}", a.auth_type, a.auth_items.username))
        .collect::<Vec<_>>()
        .join(", ");
    let tls = match (p.tls_verify, p.ca_cert_pinned) {
        (false, _) => "not verified",
        (true, true) => "verified (pinned CA)",
        (true, false) => "verified (system roots)",
    };
    let known = |figure| usage_figure(u, figure, "unknown");
    fields(vec![
        ("uuid", p.uuid.clone()),
        ("name", p.name.clone()),
        ("url", p.url.clone()),
        ("driver", p.driver.clone()),
        ("status", p.status.clone()),
        ("state", p.state.clone()),
        ("description", or_dash(p.description.as_deref())),
        ("location", or_dash(p.location.as_deref())),
        (
            "authentication",
            if auth.is_empty() { "-".into() } else { auth },
        ),
        ("tls", tls.to_owned()),
        ("last seen", time(p.last_seen_at.as_ref())),
        ("last error", or_dash(p.last_error.as_deref())),
        (
            "systems",
            known(format!("{} free of {}", u.systems_free, u.systems_total)),
        ),
        (
            "nodes",
            format!(
                "{} ({} made by Valence)",
                known(u.nodes_total.to_string()),
                u.nodes_valence
            ),
        ),
        (
            "cores",
            known(format!("{} free of {}", u.cores_free, u.cores_total)),
        ),
        (
            "memory GiB",
            known(format!(
                "{} free of {}",
                gib(u.memory_free_mib),
                gib(u.memory_total_mib)
            )),
        ),
        (
            "usage",
            if u.available {
                format!("{:.0}% of systems in use", u.ratio * 100.0)
            } else {
                "unknown (pod manager not readable)".to_owned()
            },
        ),
        ("capabilities", capabilities(&p.capabilities)),
        ("created", time(Some(&p.created_at))),
        ("updated", time(Some(&p.updated_at))),
    ])
}

/// `{"compose": true, "expand": false, "rsd_api_version": "2.3.0"}` as
/// `compose; rsd_api_version 2.3.0`: the features it has, then the facts.
fn capabilities(value: &serde_json::Value) -> String {
    let Some(map) = value.as_object() else {
        return or_dash(Some(&value.to_string()));
    };
    let features = map
        .iter()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(k, _)| k.clone());
    let facts = map.iter().filter_map(|(k, v)| match v {
        serde_json::Value::Bool(_) | serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(format!("{k} {text}")),
        other => Some(format!("{k} {other}")),
    });
    let parts: Vec<String> = features.chain(facts).collect();
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

async fn update(ctx: &Context, args: UpdateArgs) -> Result<(), CliError> {
    let body = PodManagerUpdate {
        name: args.name,
        url: args.url,
        authentication: args.credentials.authentication()?,
        description: args.description,
        location: args.location,
        state: None,
        tls_verify: args.tls_verify,
        ca_cert: args.ca_cert.as_deref().map(read_pem).transpose()?,
    };
    if body == PodManagerUpdate::default() {
        return Err(CliError::Usage(
            "nothing to change: give at least one of --name, --podm-url, --username, --tls-verify, \
             --ca-cert, --description, --location"
                .to_owned(),
        ));
    }
    let uuid = ctx.podm_uuid(&args.podm).await?;
    let updated = ctx.client.update_pod_manager(&uuid, &body).await?;
    ctx.out.emit(&updated, |p| detail(p).to_string())
}

async fn set_state(ctx: &Context, id: &str, state: &str) -> Result<(), CliError> {
    let uuid = ctx.podm_uuid(id).await?;
    let body = PodManagerUpdate {
        state: Some(state.to_owned()),
        ..Default::default()
    };
    let updated = ctx.client.update_pod_manager(&uuid, &body).await?;
    ctx.out.emit(&updated, |p| {
        format!("pod manager {} ({}) is {}", p.name, p.uuid, p.state)
    })
}

async fn delete(ctx: &Context, args: DeleteArgs) -> Result<(), CliError> {
    let uuid = ctx.podm_uuid(&args.podm).await?;
    if args.dry_run {
        let plan = ctx
            .client
            .plan_pod_manager_delete(&uuid, args.release)
            .await?;
        return ctx.out.emit(&plan, |plan| describe_plan(&args.podm, plan));
    }
    if args.release && !args.yes {
        let plan = ctx.client.plan_pod_manager_delete(&uuid, true).await?;
        if !plan.nodes.is_empty() {
            confirm_release(&args.podm, &plan)?;
        }
    }
    ctx.client.delete_pod_manager(&uuid, args.release).await?;
    #[derive(serde::Serialize)]
    struct Deleted<'a> {
        deleted: &'a str,
    }
    ctx.out.emit(&Deleted { deleted: &uuid }, |_| {
        format!("pod manager {} ({uuid}) deleted", args.podm)
    })
}

fn describe_plan(name: &str, plan: &PodManagerDeletePlan) -> String {
    let verdict = match (plan.would_delete, plan.nodes.is_empty()) {
        (true, true) => {
            format!("pod manager {name} would be deleted; it holds no node made by Valence")
        }
        (true, false) => format!(
            "pod manager {name} would be deleted after decomposing these {} node(s):",
            plan.nodes.len()
        ),
        (false, _) => format!(
            "pod manager {name} would NOT be deleted: it holds {} node(s) made by Valence \
             (pass --release to decompose them first):",
            plan.nodes.len()
        ),
    };
    if plan.nodes.is_empty() {
        verdict
    } else {
        format!("{verdict}\n{}", output::node_refs(&plan.nodes))
    }
}

/// Asks on the terminal before nodes are decomposed; without a terminal `--yes` is required.
fn confirm_release(name: &str, plan: &PodManagerDeletePlan) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(format!(
            "--release would decompose {} node(s) of {name}; standard input is not a terminal, \
             so confirm with --yes",
            plan.nodes.len()
        )));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "These {} node(s) will be decomposed:\n{}",
        plan.nodes.len(),
        output::node_refs(&plan.nodes)
    );
    let _ = write!(
        stderr,
        "Decompose them and delete pod manager {name}? [y/N] "
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|source| CliError::Read {
            what: "the confirmation".to_owned(),
            source,
        })?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CliError::Failed(
            "not confirmed; nothing was deleted".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_list_features_then_facts() {
        let caps =
            serde_json::json!({"compose": true, "expand": false, "rsd_api_version": "2.3.0"});
        assert_eq!(capabilities(&caps), "compose, rsd_api_version 2.3.0");
        assert_eq!(capabilities(&serde_json::json!({})), "-");
    }

    #[test]
    fn usage_that_could_not_be_read_is_shown_unknown_not_zero() {
        let mut podm = PodManager {
            uuid: "u".into(),
            name: "rack0".into(),
            url: "http://podm".into(),
            driver: "rsd".into(),
            status: "Online".into(),
            state: "active".into(),
            description: None,
            location: None,
            authentication: vec![],
            tls_verify: true,
            ca_cert_pinned: false,
            last_seen_at: None,
            last_error: None,
            capabilities: serde_json::json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            usage: valence_client::types::PodManagerUsage {
                nodes_valence: 2,
                available: false,
                ..Default::default()
            },
        };
        let shown = detail(&podm).to_string();
        assert!(shown.contains("unknown (2 made by Valence)"), "{shown}");
        assert!(!shown.contains("0 free of 0"), "{shown}");

        podm.usage.available = true;
        podm.usage.systems_total = 16;
        podm.usage.systems_free = 15;
        let shown = detail(&podm).to_string();
        assert!(shown.contains("15 free of 16"), "{shown}");
    }
}
