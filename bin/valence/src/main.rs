//! The `valence` command: the server (`serve`, `migrate`) and the CLI client of its REST API.

mod config;
mod serve;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Valence: one controller for many Redfish pod managers.
#[derive(Debug, Parser)]
#[command(name = "valence", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit (`serve` also applies them at start).
    Migrate(serve::MigrateArgs),
    /// Keys that seal PODM passwords at rest.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work with the server's configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server sets up logging from its configuration (format, level).
    if !matches!(cli.command, Command::Serve(_)) {
        init_logging();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Migrate(args) => serve::migrate(args).await,
            Command::Config(ConfigCommand::Check(args)) => serve::check_config(&args),
            Command::Secrets(SecretsCommand::GenerateKey) => {
                println!("{}", valence_api::secrets::SecretKey::generate_base64());
                Ok(())
            }
            Command::Secrets(SecretsCommand::Rotate(args)) => serve::rotate_secrets(args).await,
            Command::Token(TokenCommand::Create(args)) => {
                token::create(&args).map_err(|e| e.into())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
