//! The client commands of `valence` (`podm`, `node`, `system`, `flavor`, `device`): argument
//! definitions, the shared connection options, name resolution, errors and exit codes.
//!
//! Every command talks to the REST API through `valence_client::Client`; with `--json` it
//! prints the API's JSON body, otherwise a table. Errors go to stderr with the API's code,
//! detail and request id. Exit codes: 0 done, 1 API or network failure (or a refused or
//! failed operation), 2 usage error (clap's own code for bad arguments).

mod device;
mod flavor;
mod node;
mod output;
mod podm;
mod requirements;
mod secret;
mod system;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use valence_client::{Client, ClientError, ClientOptions, NodeFilters, Page, PodManagerFilters};

pub use device::DeviceCommand;
pub use flavor::FlavorCommand;
pub use node::NodeCommand;
pub use podm::PodmCommand;
pub use system::SystemCommand;

/// Where the Valence API is and how to print its answers; accepted before or after the
/// subcommand (`valence podm --json list` or `valence podm list --json`).
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Base URL of the Valence API.
    #[arg(
        long,
        global = true,
        env = "VALENCE_URL",
        default_value = "http://127.0.0.1:8181",
        help_heading = "API options"
    )]
    pub url: String,
    /// Print the API's JSON body instead of a table (for scripts).
    #[arg(long, global = true, help_heading = "API options")]
    pub json: bool,
    /// Budget of one API request in seconds.
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        default_value_t = 60.0,
        value_parser = positive_seconds,
        help_heading = "API options"
    )]
    pub request_timeout: f64,
    /// API token (see `valence token create`); prefer the environment variable to the flag,
    /// which other users can see in the process list.
    #[arg(
        long,
        global = true,
        env = "VALENCE_TOKEN",
        hide_env_values = true,
        help_heading = "API options"
    )]
    pub token: Option<String>,
    /// PEM of the CA that signed an `https://` Valence server's certificate.
    #[arg(
        long = "api-ca-cert",
        global = true,
        env = "VALENCE_CA_CERT",
        value_name = "FILE",
        help_heading = "API options"
    )]
    pub api_ca_cert: Option<std::path::PathBuf>,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 86_400.0 => Ok(secs),
        _ => Err(format!("{text:?} is not a number of seconds in (0, 86400]")),
    }
}

/// `limit`/`marker` of the list commands.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Return at most this many items.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Start after the item with this id (the last id of the previous page).
    #[arg(long)]
    pub marker: Option<String>,
}

impl PageArgs {
    fn page(&self) -> Page {
        Page {
            limit: self.limit,
            marker: self.marker.clone(),
        }
    }
}

/// One resource group of the client: its connection options and its subcommand.
#[derive(Debug, Args)]
pub struct Group<C: Subcommand> {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(subcommand)]
    pub command: C,
}

/// The client's commands, as `main` dispatches them.
#[derive(Debug)]
pub enum ClientCommand {
    Podm(Group<PodmCommand>),
    Node(Group<NodeCommand>),
    System(Group<SystemCommand>),
    Flavor(Group<FlavorCommand>),
    Device(Group<DeviceCommand>),
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The arguments cannot work together (exit code 2, as clap's own usage errors).
    #[error("{0}")]
    Usage(String),
    /// A name or id the user gave matches nothing (or several things).
    #[error("{0}")]
    Lookup(String),
    /// The API answered, but the operation did not succeed (node failed, wait timed out,
    /// confirmation refused).
    #[error("{0}")]
    Failed(String),
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    #[error("cannot encode the output as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Client(
                ClientError::InvalidUrl { .. } | ClientError::InvalidHeader { .. },
            ) => 2,
            _ => 1,
        }
    }
}

/// Runs one client command on `runtime` and reports its failure on stderr.
pub fn run(runtime: &tokio::runtime::Runtime, command: ClientCommand) -> ExitCode {
    let api = match &command {
        ClientCommand::Podm(g) => g.api.clone(),
        ClientCommand::Node(g) => g.api.clone(),
        ClientCommand::System(g) => g.api.clone(),
        ClientCommand::Flavor(g) => g.api.clone(),
        ClientCommand::Device(g) => g.api.clone(),
    };
    let result = runtime.block_on(async {
        let ctx = Context::new(&api)?;
        match command {
            ClientCommand::Podm(g) => podm::run(&ctx, g.command).await,
            ClientCommand::Node(g) => node::run(&ctx, g.command).await,
            ClientCommand::System(g) => system::run(&ctx, g.command).await,
            ClientCommand::Flavor(g) => flavor::run(&ctx, g.command).await,
            ClientCommand::Device(g) => device::run(&ctx, g.command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::report_error(&err, &api.url);
            ExitCode::from(err.exit_code())
        }
    }
}

/// What every command needs: the API client and the output mode.
pub struct Context {
    pub client: Client,
    pub out: output::Out,
}

impl Context {
    fn new(api: &ApiArgs) -> Result<Self, CliError> {
        let ca_cert = match &api.api_ca_cert {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|err| {
                CliError::Usage(format!("--api-ca-cert {}: {err}", path.display()))
            })?),
            None => None,
        };
        let options = ClientOptions {
            timeout: Duration::from_secs_f64(api.request_timeout),
            token: api.token.clone().map(secrecy::SecretString::from),
            ca_cert,
            ..ClientOptions::new(api.url.trim_end_matches('/'))
        };
        Ok(Self {
            client: Client::new(&options)?,
            out: output::Out { json: api.json },
        })
    }

    /// The uuid of the PODM `id` names: a uuid as given, else the PODM of that name.
    pub async fn podm_uuid(&self, id: &str) -> Result<String, CliError> {
        if uuid::Uuid::parse_str(id).is_ok() {
            return Ok(id.to_owned());
        }
        let filters = PodManagerFilters {
            name: Some(id.to_owned()),
            ..Default::default()
        };
        let found = self
            .client
            .list_pod_managers_page(&filters, &Page::default())
            .await?
            .items;
        match found.as_slice() {
            [podm] => Ok(podm.uuid.clone()),
            [] => Err(CliError::Lookup(format!(
                "no pod manager is named {id:?} (valence podm list shows them)"
            ))),
            many => Err(CliError::Lookup(format!(
                "{} pod managers are named {id:?}; give the uuid",
                many.len()
            ))),
        }
    }

    /// The uuid of the node `id` names: a uuid as given, else the one node of that name.
    pub async fn node_uuid(&self, id: &str) -> Result<String, CliError> {
        if uuid::Uuid::parse_str(id).is_ok() {
            return Ok(id.to_owned());
        }
        let filters = NodeFilters {
            name: Some(id.to_owned()),
            ..Default::default()
        };
        let found = self
            .client
            .list_nodes_page(&filters, &Page::default())
            .await?;
        match found.as_slice() {
            [node] => Ok(node.uuid.clone()),
            [] => Err(CliError::Lookup(format!(
                "no node is named {id:?} (valence node list shows them)"
            ))),
            many => Err(CliError::Lookup(format!(
                "{} nodes are named {id:?}; give one of their uuids: {}",
                many.len(),
                many.iter()
                    .map(|n| n.uuid.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// PODM names by uuid, for tables that would otherwise show bare uuids. Best effort: a
    /// failure only costs the names.
    pub async fn podm_names(&self) -> std::collections::HashMap<String, String> {
        match self
            .client
            .list_pod_managers_page(&PodManagerFilters::default(), &Page::default())
            .await
        {
            Ok(list) => list.items.into_iter().map(|p| (p.uuid, p.name)).collect(),
            Err(err) => {
                tracing::debug!(%err, "cannot read PODM names");
                Default::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeouts_must_be_positive() {
        assert_eq!(positive_seconds("2.5"), Ok(2.5));
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("-1").is_err());
        assert!(positive_seconds("soon").is_err());
    }

    #[test]
    fn usage_errors_exit_with_2_and_the_rest_with_1() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Failed("x".into()).exit_code(), 1);
        assert_eq!(CliError::Lookup("x".into()).exit_code(), 1);
    }
}
