//! `valence token create`: makes an API token, stores only its hash in the token file, and
//! prints the token once.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use valence_api::auth::{Role, TokenEntry, TokenFile, generate_token, hash_token};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// May read (GET) everything.
    Reader,
    /// May do everything.
    Admin,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  valence token create --name ci --role admin --file /etc/valence/tokens.toml\n\nThe token is printed once; the file keeps only its SHA-256 hash. Point server.token_file\n(or --token-file) at the file and restart the server."
)]
pub struct CreateArgs {
    /// Who or what the token is for (shown in logs).
    #[arg(long)]
    pub name: String,
    /// What the token may do.
    #[arg(long, value_enum, default_value = "reader")]
    pub role: RoleArg,
    /// The token file to add it to (created if missing).
    #[arg(long, env = "VALENCE_TOKEN_FILE")]
    pub file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    File(#[from] valence_api::auth::TokenFileError),
    #[error("a token named {0:?} already exists in the file")]
    Duplicate(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn create(args: &CreateArgs) -> Result<(), TokenError> {
    let mut file = if args.file.exists() {
        TokenFile::read(&args.file)?
    } else {
        TokenFile::default()
    };
    if file.tokens.iter().any(|t| t.name == args.name) {
        return Err(TokenError::Duplicate(args.name.clone()));
    }
    let token = generate_token();
    let role = match args.role {
        RoleArg::Reader => Role::Reader,
        RoleArg::Admin => Role::Admin,
    };
    file.tokens.push(TokenEntry {
        name: args.name.clone(),
        role,
        sha256: hash_token(&token),
    });
    write_private(&args.file, &file.to_toml()?).map_err(|source| TokenError::Write {
        path: args.file.clone(),
        source,
    })?;
    println!("{token}");
    eprintln!(
        "token {:?} ({:?}) added to {}; it is shown only now",
        args.name,
        role,
        args.file.display()
    );
    Ok(())
}

/// Writes a file only its owner can read: it names who may use the API.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
