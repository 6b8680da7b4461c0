//! Turns a database URL into the backend to use. The scheme alone decides: diesel's derived
//! `establish` would try every backend in turn and silently turn anything PostgreSQL refuses
//! (a libpq keyword string, a typo) into a new SQLite file.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Backend, DbError};

/// Keywords of libpq's `key=value` connection strings: a bare "path" made of these is a
/// PostgreSQL connection string given without its URL form, never a file name.
const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "service",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "client_encoding",
];

/// Where the database is, as decided from a URL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite database file (created if missing; its directory must exist).
    Sqlite { path: PathBuf },
    /// A PostgreSQL server, reached with this `postgres://` / `postgresql://` URL.
    Postgres { url: String },
}

impl DatabaseTarget {
    /// Reads `sqlite://PATH`, `sqlite:PATH`, a bare file path, `postgres://...` or
    /// `postgresql://...`. Anything else is [`DbError::InvalidUrl`] naming the scheme.
    pub fn parse(url: &str) -> Result<DatabaseTarget, DbError> {
        let invalid = |reason: String| Err(DbError::InvalidUrl { reason });
        if url.trim().is_empty() {
            return invalid("the database URL is empty".to_owned());
        }
        match scheme_of(url) {
            Some(scheme) => match scheme.to_ascii_lowercase().as_str() {
                "sqlite" => {
                    let rest = &url[scheme.len() + 1..];
                    let path = rest.strip_prefix("//").unwrap_or(rest);
                    sqlite_target(path)
                }
                "postgres" | "postgresql" => {
                    if url[scheme.len() + 1..].starts_with("//") {
                        Ok(DatabaseTarget::Postgres {
                            url: url.to_owned(),
                        })
                    } else {
                        invalid(format!(
                            "a `{scheme}` URL must start with `{scheme}://` (e.g. postgres://user@host/db)"
                        ))
                    }
                }
                _ => invalid(format!(
                    "unsupported URL scheme `{scheme}`: use sqlite://PATH, sqlite:PATH, a file path, \
                     postgres://... or postgresql://..."
                )),
            },
            None => {
                if looks_like_libpq_keywords(url) {
                    return invalid(
                        "this looks like a libpq `key=value` connection string, which would become \
                         a SQLite file of that name: write it as a postgres://... URL"
                            .to_owned(),
                    );
                }
                sqlite_target(url)
            }
        }
    }

    /// The backend this target needs.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseTarget::Sqlite { .. } => Backend::Sqlite,
            DatabaseTarget::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// The PostgreSQL URL may carry a password, so it is not printed.
impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseTarget::Sqlite { path } => {
                f.debug_struct("Sqlite").field("path", path).finish()
            }
            DatabaseTarget::Postgres { .. } => f
                .debug_struct("Postgres")
                .field("url", &"[redacted]")
                .finish(),
        }
    }
}

fn sqlite_target(path: &str) -> Result<DatabaseTarget, DbError> {
    if path.is_empty() {
        return Err(DbError::InvalidUrl {
            reason: "the sqlite URL names no file".to_owned(),
        });
    }
    if path == ":memory:" {
        // Every pooled connection would open its own empty database.
        return Err(DbError::InvalidUrl {
            reason: "`:memory:` is not supported: each pooled connection would see a different \
                     empty database; use a file"
                .to_owned(),
        });
    }
    Ok(DatabaseTarget::Sqlite {
        path: Path::new(path).to_path_buf(),
    })
}

/// The URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`, then `:`), if any.
/// One letter followed by `:` is not taken as a scheme so that `C:\...`-style paths stay paths.
fn scheme_of(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (valid && scheme.len() > 1).then_some(scheme)
}

fn looks_like_libpq_keywords(text: &str) -> bool {
    text.split_whitespace().any(|token| {
        token
            .split_once('=')
            .is_some_and(|(key, _)| LIBPQ_KEYWORDS.contains(&key.to_ascii_lowercase().as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(path: &str) -> DatabaseTarget {
        DatabaseTarget::Sqlite {
            path: PathBuf::from(path),
        }
    }

    fn reason(url: &str) -> String {
        match DatabaseTarget::parse(url) {
            Err(DbError::InvalidUrl { reason }) => reason,
            other => panic!("`{url}` should be an invalid URL, got {other:?}"),
        }
    }

    #[test]
    fn sqlite_spellings() {
        assert_eq!(
            DatabaseTarget::parse("sqlite:///var/lib/v.db").unwrap(),
            sqlite("/var/lib/v.db")
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite://v.db").unwrap(),
            sqlite("v.db")
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:v.db").unwrap(),
            sqlite("v.db")
        );
        assert_eq!(
            DatabaseTarget::parse("SQLite:/tmp/v.db").unwrap(),
            sqlite("/tmp/v.db")
        );
        assert_eq!(
            DatabaseTarget::parse("/tmp/v.db").unwrap(),
            sqlite("/tmp/v.db")
        );
        assert_eq!(
            DatabaseTarget::parse("./data/v.db").unwrap(),
            sqlite("./data/v.db")
        );
    }

    #[test]
    fn postgres_spellings() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=disable",
        ] {
            let target = DatabaseTarget::parse(url).unwrap();
            assert_eq!(target.backend(), Backend::Postgres);
            assert_eq!(
                target,
                DatabaseTarget::Postgres {
                    url: url.to_owned()
                }
            );
        }
    }

    #[test]
    fn unsupported_schemes_are_named() {
        assert!(reason("mysql://x").contains("`mysql`"));
        assert!(reason("file:v.db").contains("`file`"));
        assert!(reason("postgres:db").contains("postgres://"));
    }

    #[test]
    fn empty_memory_and_libpq_strings_are_refused() {
        assert!(reason("").contains("empty"));
        assert!(reason("  ").contains("empty"));
        assert!(reason("sqlite://").contains("no file"));
        assert!(reason(":memory:").contains(":memory:"));
        assert!(reason("sqlite::memory:").contains(":memory:"));
        assert!(reason("host=localhost user=postgres dbname=valence").contains("libpq"));
        assert!(reason("dbname=valence").contains("libpq"));
    }

    #[test]
    fn debug_hides_postgres_password() {
        let target = DatabaseTarget::parse("postgres://u:hunter2@h/db").unwrap();
        assert!(!format!("{target:?}").contains("hunter2"));
    }
}
