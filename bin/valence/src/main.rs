//! The `valence` command: the server (`serve`, `migrate`), simulated pod managers (`sim`), the
//! CLI client of the REST API (`podm`, `node`, `system`, `flavor`, `device`) and shell
//! completions.
//!
//! Exit codes: 0 done; 1 failed (API or network error, refused operation, bad configuration,
//! server error); 2 usage error (bad arguments).

mod cli;
mod config;
mod serve;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cli::{
    ClientCommand, DeviceCommand, FlavorCommand, Group, NodeCommand, PodmCommand, SystemCommand,
};

/// Valence: one controller for many Redfish pod managers.
#[derive(Debug, Parser)]
#[command(
    name = "valence",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  valence serve --listen 0.0.0.0:8181\n  valence podm list --url http://valence.example:8181\n  valence node compose web-1 --flavor small\n\nExit codes: 0 done, 1 failed (API or network error, refused or failed operation, bad\nconfiguration), 2 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    #[command(
        after_help = "Example:\n  valence serve --listen 0.0.0.0:8181 --database-url postgres://valence:secret@db/valence"
    )]
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit (`serve` also applies them at start).
    #[command(
        after_help = "Example:\n  valence migrate --database-url sqlite:///var/lib/valence/valence.db"
    )]
    Migrate(serve::MigrateArgs),
    /// Keys that seal PODM passwords at rest.
    #[command(
        subcommand,
        after_help = "Example:\n  valence secrets generate-key > /etc/valence/secret.key"
    )]
    Secrets(SecretsCommand),
    /// Manage API tokens.
    #[command(
        subcommand,
        after_help = "Example:\n  valence token create --name ci --role admin --file tokens.toml"
    )]
    Token(TokenCommand),
    /// Work with the server's configuration file.
    #[command(
        subcommand,
        after_help = "Example:\n  valence config check --config /etc/valence/valence.toml"
    )]
    Config(ConfigCommand),
    /// Start simulated RSD pod managers (for demos and tests); serves until Ctrl-C.
    #[command(
        after_help = "Example:\n  VALENCE_SIM_PASSWORD=secret valence sim --pods 3 --systems 32 --port 8443 --username admin"
    )]
    Sim(valence_podm_sim::SimArgs),
    /// Pod managers: register, list with usage, cordon, delete.
    #[command(after_help = "Example:\n  valence podm list")]
    Podm(Group<PodmCommand>),
    /// Composed nodes: compose, list, show, reset, boot, delete.
    #[command(after_help = "Example:\n  valence node compose web-1 --flavor small")]
    Node(Group<NodeCommand>),
    /// Computer systems of all pod managers.
    #[command(after_help = "Example:\n  valence system list --free")]
    System(Group<SystemCommand>),
    /// Flavors: named node requirements.
    #[command(after_help = "Example:\n  valence flavor create small --cores 4 --memory-mib 8192")]
    Flavor(Group<FlavorCommand>),
    /// Pooled devices of the pod managers.
    #[command(after_help = "Example:\n  valence device list")]
    Device(Group<DeviceCommand>),
    /// Print the shell completion script of `valence` for bash, zsh, fish, elvish or PowerShell.
    #[command(
        after_help = "Examples:\n  valence completions bash > /etc/bash_completion.d/valence\n  valence completions zsh > \"${fpath[1]}/_valence\"\n  valence completions fish > ~/.config/fish/completions/valence.fish"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Print a new random key (base64); store it in a file readable only by Valence.
    #[command(
        after_help = "Example:\n  valence secrets generate-key > /etc/valence/secret.key && chmod 600 /etc/valence/secret.key"
    )]
    GenerateKey,
    /// Reseal every stored PODM password under the current key (after a key change).
    #[command(after_help = "Example:\n  valence secrets rotate --config /etc/valence/valence.toml")]
    Rotate(serve::MigrateArgs),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token, add its hash to the token file, print the token once.
    Create(token::CreateArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration (file, environment, flags) and print the effective one, secrets masked.
    #[command(after_help = "Example:\n  valence config check --config /etc/valence/valence.toml")]
    Check(serve::ServeArgs),
}

/// Logs go to stderr; `RUST_LOG` overrides the default level.
fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        // The server sets up logging from its configuration (format, level).
        Command::Serve(args) => run_async(serve::run(args), None),
        Command::Migrate(args) => run_service(serve::migrate(args)),
        Command::Secrets(SecretsCommand::GenerateKey) => {
            println!("{}", valence_api::secrets::SecretKey::generate_base64());
            ExitCode::SUCCESS
        }
        Command::Secrets(SecretsCommand::Rotate(args)) => run_service(serve::rotate_secrets(args)),
        Command::Token(TokenCommand::Create(args)) => report(token::create(&args)),
        Command::Config(ConfigCommand::Check(args)) => report(serve::check_config(&args)),
        Command::Sim(args) => run_service(valence_podm_sim::run_cli(args)),
        Command::Podm(g) => run_client(ClientCommand::Podm(g)),
        Command::Node(g) => run_client(ClientCommand::Node(g)),
        Command::System(g) => run_client(ClientCommand::System(g)),
        Command::Flavor(g) => run_client(ClientCommand::Flavor(g)),
        Command::Device(g) => run_client(ClientCommand::Device(g)),
        Command::Completions { shell } => print_completions(shell),
    }
}

/// Writes the completion script through a buffer: clap_complete panics on a failed write. A
/// reader that stopped early (`| head`) is not an error.
fn print_completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    use std::io::Write;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "valence", &mut script);
    match std::io::stdout().write_all(&script) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => report(Err(err)),
        _ => ExitCode::SUCCESS,
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => Some(rt),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            None
        }
    }
}

/// `migrate`, `sim` and the like: log at info, run to the end.
fn run_service<E: std::fmt::Display>(
    work: impl std::future::Future<Output = Result<(), E>>,
) -> ExitCode {
    run_async(work, Some("info"))
}

/// Runs `work` on a runtime, setting up logging at `log_level` first (None: `work` does it).
fn run_async<E: std::fmt::Display>(
    work: impl std::future::Future<Output = Result<(), E>>,
    log_level: Option<&str>,
) -> ExitCode {
    if let Some(level) = log_level {
        init_logging(level);
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    report(runtime.block_on(work))
}

fn report<E: std::fmt::Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_client(command: ClientCommand) -> ExitCode {
    // The client reports its own failures; the layers below log retries and such as warnings,
    // which would only repeat them.
    init_logging("error");
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    cli::run(&runtime, command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn without_example(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let path = format!("{path} {}", command.get_name());
        if command
            .get_after_help()
            .is_none_or(|h| !h.to_string().contains("valence "))
        {
            missing.push(path.clone());
        }
        for sub in command.get_subcommands() {
            if sub.get_name() != "help" {
                without_example(sub, &path, missing);
            }
        }
    }

    #[test]
    fn every_command_shows_an_example() {
        let mut missing = Vec::new();
        without_example(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }

    fn undocumented_args(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let path = format!("{path} {}", command.get_name());
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() {
                missing.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            undocumented_args(sub, &path, missing);
        }
    }

    #[test]
    fn every_option_is_documented() {
        let mut missing = Vec::new();
        undocumented_args(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn completion_scripts_name_the_commands_for_each_shell() {
        use clap_complete::Shell;
        for (shell, marker) in [
            (Shell::Bash, "complete -F"),
            (Shell::Zsh, "#compdef valence"),
            (Shell::Fish, "complete -c valence"),
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "valence", &mut script);
            let script = String::from_utf8(script).unwrap();
            assert!(script.contains(marker), "{shell}: no {marker:?}");
            for command in ["serve", "podm", "node", "completions"] {
                assert!(script.contains(command), "{shell}: {command} missing");
            }
        }
        let cli = Cli::try_parse_from(["valence", "completions", "zsh"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Completions { shell: Shell::Zsh }
        ));
        let unknown = Cli::try_parse_from(["valence", "completions", "tcsh"]);
        assert_eq!(unknown.unwrap_err().exit_code(), 2);
    }

    #[test]
    fn the_top_level_help_states_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes: 0 done, 1 failed"), "{help}");
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn connection_options_go_before_or_after_the_subcommand() {
        for argv in [
            &["valence", "podm", "--json", "--url", "http://h:1", "list"][..],
            &["valence", "podm", "list", "--json", "--url", "http://h:1"][..],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap();
            let Command::Podm(group) = cli.command else {
                panic!("{argv:?}")
            };
            assert!(group.api.json);
            assert_eq!(group.api.url, "http://h:1");
        }
    }

    #[test]
    fn the_podm_url_is_not_the_api_url() {
        let cli = Cli::try_parse_from([
            "valence",
            "podm",
            "--url",
            "http://api:8181",
            "add",
            "p",
            "https://podm:8443",
        ])
        .unwrap();
        let Command::Podm(group) = cli.command else {
            panic!("not podm")
        };
        assert_eq!(group.api.url, "http://api:8181");
        let PodmCommand::Add(add) = group.command else {
            panic!("not add")
        };
        assert_eq!(add.url, "https://podm:8443");
    }

    #[test]
    fn compose_takes_a_flavor_or_explicit_requirements_but_not_both() {
        assert!(
            Cli::try_parse_from(["valence", "node", "compose", "n", "--flavor", "small"]).is_ok()
        );
        assert!(
            Cli::try_parse_from([
                "valence",
                "node",
                "compose",
                "n",
                "--cores",
                "4",
                "--memory-mib",
                "4096",
                "--disk",
                "100:SSD",
                "--disk",
                "200"
            ])
            .is_ok()
        );
        let both = Cli::try_parse_from([
            "valence", "node", "compose", "n", "--flavor", "small", "--cores", "4",
        ]);
        assert_eq!(both.unwrap_err().exit_code(), 2);
        let neither = Cli::try_parse_from(["valence", "node", "compose", "n"]);
        assert_eq!(neither.unwrap_err().exit_code(), 2);
    }

    #[test]
    fn podm_add_takes_one_password_source_with_a_username() {
        let ok = [
            "valence",
            "podm",
            "add",
            "p",
            "https://h",
            "--username",
            "u",
            "--password-stdin",
        ];
        assert!(Cli::try_parse_from(ok).is_ok());
        let two = [
            "valence",
            "podm",
            "add",
            "p",
            "https://h",
            "--username",
            "u",
            "--password-stdin",
            "--password",
            "x",
        ];
        assert!(Cli::try_parse_from(two).is_err());
        let no_user = [
            "valence",
            "podm",
            "add",
            "p",
            "https://h",
            "--password",
            "x",
        ];
        assert!(Cli::try_parse_from(no_user).is_err());
        let no_password = [
            "valence",
            "podm",
            "add",
            "p",
            "https://h",
            "--username",
            "u",
        ];
        assert!(Cli::try_parse_from(no_password).is_err());
    }

    #[test]
    fn sim_takes_the_simulator_options() {
        let cli = Cli::try_parse_from([
            "valence",
            "sim",
            "--pods",
            "3",
            "--systems",
            "32",
            "--port",
            "8443",
            "--username",
            "admin",
            "--password",
            "secret",
        ])
        .unwrap();
        let Command::Sim(args) = cli.command else {
            panic!("not sim")
        };
        assert_eq!((args.pods, args.systems, args.port), (3, 32, 8443));
        assert!(!format!("{args:?}").contains("secret"));
    }
}
