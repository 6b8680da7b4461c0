//! The command-line face of the simulator: `podm-sim` and `valence sim` start a fleet of PODMs
//! on consecutive ports, print their URLs and serve until Ctrl-C.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::config::{Behavior, Credentials, RsdVersion, SimConfig};
use crate::error::SimError;
use crate::handle::SimPodm;

/// Options of `podm-sim` (and of `valence sim`, which flattens them into its own command).
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Number of pod managers to start.
    #[arg(long, default_value_t = 1)]
    pub pods: usize,
    /// Computer systems per pod manager.
    #[arg(long, default_value_t = 32)]
    pub systems: usize,
    /// Pooled NVMe drives per pod manager (fabric endpoints attachable to composed nodes).
    #[arg(long, default_value_t = 4)]
    pub pooled_drives: usize,
    /// Port of the first pod manager, the next ones count up from it; 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Inventory seed of the first pod manager; pod N uses seed + N.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// RSD API version to speak: 2.1, 2.2 or 2.3.
    #[arg(long, default_value = "2.3", value_parser = parse_version)]
    pub rsd_version: RsdVersion,
    /// User name required by the pod managers (no authentication without it).
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    /// Password required by the pod managers.
    #[arg(
        long,
        env = "VALENCE_SIM_PASSWORD",
        hide_env_values = true,
        requires = "username",
        value_parser = parse_secret
    )]
    pub password: Option<SecretString>,
    /// Serve HTTPS with a generated certificate.
    #[arg(long)]
    pub tls: bool,
    /// With --tls, write the CA certificate (PEM) to this file so clients can trust it.
    #[arg(long, requires = "tls")]
    pub ca_out: Option<PathBuf>,
    /// Milliseconds a new node stays Allocating.
    #[arg(long, default_value_t = 0)]
    pub allocation_delay_ms: u64,
    /// Milliseconds an assembling node stays Assembling.
    #[arg(long, default_value_t = 0)]
    pub assembly_delay_ms: u64,
    /// Fraction of assemblies that fail (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub assembly_failure_rate: f64,
    /// Milliseconds added to every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction of requests answered 500 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Members per page of every collection (with Members@odata.nextLink).
    #[arg(long)]
    pub page_size: Option<usize>,
    /// Speak RSD 1.x spellings (@DMTF.AllowableValues, Oem."Intel:RackScale").
    #[arg(long)]
    pub rsd1_spellings: bool,
    /// Idle seconds before a Redfish session expires.
    #[arg(long, default_value_t = 1800)]
    pub session_timeout_secs: u64,
}

fn parse_secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s.to_owned()))
}

fn parse_version(s: &str) -> Result<RsdVersion, String> {
    s.parse().map_err(|e: SimError| e.to_string())
}

impl SimArgs {
    /// The configuration of the fleet: pod N gets port + N (unless 0), seed + N and name `podm-N`.
    pub fn config(&self) -> SimConfig {
        SimConfig {
            name: "podm".to_owned(),
            version: self.rsd_version,
            systems: self.systems,
            seed: self.seed,
            pooled_drives: self.pooled_drives,
            bind: self.bind,
            port: self.port,
            credentials: self.username.as_ref().zip(self.password.as_ref()).map(
                |(username, password)| Credentials {
                    username: username.clone(),
                    password: password.clone(),
                },
            ),
            session_timeout: Duration::from_secs(self.session_timeout_secs),
            session_service: true,
            tls: self.tls,
            behavior: Behavior {
                latency: Duration::from_millis(self.latency_ms),
                error_rate: self.error_rate,
                page_size: self.page_size,
                rsd1_spellings: self.rsd1_spellings,
                allocation_delay: Duration::from_millis(self.allocation_delay_ms),
                assembly_delay: Duration::from_millis(self.assembly_delay_ms),
                assembly_failure_rate: self.assembly_failure_rate,
                ..Behavior::default()
            },
        }
    }
}

/// Starts the fleet `args` describe and writes the CA file when asked.
pub async fn start_fleet(args: &SimArgs) -> Result<Vec<SimPodm>, SimError> {
    let pods = crate::start_many(args.pods, args.config()).await?;
    if let (Some(path), Some(ca)) = (&args.ca_out, pods.first().and_then(SimPodm::ca_pem)) {
        std::fs::write(path, ca).map_err(|source| SimError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(pods)
}

/// One line per pod manager: name, URL, version and size.
pub fn describe(podm: &SimPodm) -> String {
    format!(
        "{} {} (RSD {}, {} systems, {} pooled drives, seed {})",
        podm.name(),
        podm.base_url(),
        podm.version(),
        podm.inventory().systems.len(),
        podm.stats().pooled_drives,
        podm.inventory().seed,
    )
}

/// Starts the fleet, prints one line per pod manager, serves until Ctrl-C, then stops them.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let pods = start_fleet(&args).await?;
    for podm in &pods {
        println!("{}", describe(podm));
    }
    if let Some(path) = &args.ca_out {
        println!("CA certificate written to {}", path.display());
    }
    tokio::signal::ctrl_c().await.map_err(SimError::Signal)?;
    for podm in &pods {
        podm.stop().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn parses_the_documented_invocation() {
        let cli = Cli::try_parse_from([
            "sim",
            "--pods",
            "3",
            "--systems",
            "32",
            "--port",
            "8443",
            "--rsd-version",
            "2.1",
        ])
        .unwrap();
        assert_eq!(cli.sim.pods, 3);
        assert_eq!(cli.sim.port, 8443);
        let config = cli.sim.config();
        assert_eq!(config.version, RsdVersion::V2_1);
        assert_eq!(config.systems, 32);
        assert!(config.credentials.is_none());
    }

    #[test]
    fn the_password_never_prints() {
        let cli =
            Cli::try_parse_from(["sim", "--username", "admin", "--password", "hunter2"]).unwrap();
        assert!(!format!("{cli:?}").contains("hunter2"));
        assert!(!format!("{:?}", cli.sim.config()).contains("hunter2"));
        assert!(
            cli.sim
                .config()
                .credentials
                .unwrap()
                .matches("admin", "hunter2")
        );
    }

    #[test]
    fn refuses_bad_versions_and_lone_usernames() {
        assert!(Cli::try_parse_from(["sim", "--rsd-version", "3.0"]).is_err());
        assert!(Cli::try_parse_from(["sim", "--username", "admin"]).is_err());
    }
}
