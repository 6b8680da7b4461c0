//! PODM credentials on the command line: where the password comes from, kept as a secret until
//! it goes into the request body.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{ArgGroup, Args};
use secrecy::{ExposeSecret, SecretString};
use valence_client::types::{AuthItems, Authentication};

use super::CliError;

/// `--username` with exactly one password source.
#[derive(Debug, Clone, Args)]
#[command(group(
    ArgGroup::new("password_source")
        .args(["password_stdin", "password_file", "password"])
        .multiple(false)
        .requires("username")
))]
pub struct CredentialArgs {
    /// User name Valence logs in to the PODM with.
    #[arg(long, requires = "password_source")]
    pub username: Option<String>,
    /// Read the password from the first line of standard input (a pipe, not a terminal).
    #[arg(long)]
    pub password_stdin: bool,
    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The password itself. Discouraged: other users can read it in the process list and it
    /// stays in the shell history; prefer --password-stdin or --password-file.
    #[arg(long, value_name = "PASSWORD", value_parser = parse_secret, hide_default_value = true)]
    pub password: Option<SecretString>,
    /// How Valence authenticates: basic (HTTP Basic on every request) or session (a Redfish
    /// session token).
    #[arg(long = "auth", value_parser = ["basic", "session"], default_value = "basic")]
    pub auth_type: String,
}

fn parse_secret(text: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(text.to_owned()))
}

impl CredentialArgs {
    /// The `authentication` member of a request, `None` without `--username`.
    pub fn authentication(&self) -> Result<Option<Vec<Authentication>>, CliError> {
        let Some(username) = &self.username else {
            return Ok(None);
        };
        let password = self.password()?;
        if password.expose_secret().is_empty() {
            return Err(CliError::Usage("the password is empty".to_owned()));
        }
        Ok(Some(vec![Authentication {
            auth_type: self.auth_type.clone(),
            auth_items: AuthItems {
                username: username.clone(),
                password: password.expose_secret().to_owned(),
            },
        }]))
    }

    fn password(&self) -> Result<SecretString, CliError> {
        if let Some(password) = &self.password {
            return Ok(password.clone());
        }
        if let Some(path) = &self.password_file {
            let file = std::fs::File::open(path).map_err(|source| CliError::Read {
                what: format!("the password file {}", path.display()),
                source,
            })?;
            return first_line(std::io::BufReader::new(file), || {
                format!("the password file {}", path.display())
            });
        }
        if self.password_stdin {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                // Typed passwords would be echoed on the screen.
                return Err(CliError::Usage(
                    "--password-stdin reads a pipe, but standard input is a terminal; \
                     use --password-file or pipe the password in"
                        .to_owned(),
                ));
            }
            return first_line(stdin.lock(), || {
                "the password from standard input".to_owned()
            });
        }
        Err(CliError::Usage(
            "--username needs --password-stdin, --password-file or --password".to_owned(),
        ))
    }
}

/// The first line without its line ending, never echoed in errors.
fn first_line(
    mut reader: impl BufRead,
    what: impl Fn() -> String,
) -> Result<SecretString, CliError> {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|source| CliError::Read {
            what: what(),
            source,
        })?;
    let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
    Ok(SecretString::from(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(password: Option<&str>, file: Option<PathBuf>) -> CredentialArgs {
        CredentialArgs {
            username: Some("admin".into()),
            password_stdin: false,
            password_file: file,
            password: password.map(|p| SecretString::from(p.to_owned())),
            auth_type: "session".into(),
        }
    }

    #[test]
    fn the_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\r\nsecond line\n").unwrap();
        let auth = args(None, Some(path)).authentication().unwrap().unwrap();
        assert_eq!(auth[0].auth_items.password, "s3cret");
        assert_eq!(auth[0].auth_type, "session");
    }

    #[test]
    fn a_missing_file_is_named_without_any_password() {
        let err = args(None, Some("/nonexistent/pw".into()))
            .authentication()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pw"), "{err}");
    }

    #[test]
    fn an_empty_password_is_a_usage_error() {
        let err = args(Some(""), None).authentication().unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", args(Some("hunter2"), None));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
