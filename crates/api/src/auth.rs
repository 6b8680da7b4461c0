//! API authentication: bearer tokens from a token file, stored as SHA-256 hashes, each with a
//! role. `reader` may read (GET, HEAD); `admin` may do everything.
//!
//! Tokens are random 256-bit strings made by `valence token create`, so a fast hash is enough:
//! guessing is infeasible and the file never holds a usable secret. The liveness and readiness
//! probes, the versions document and the OpenAPI document stay open. `/metrics` does not: its
//! labels name every PODM and its state, so Prometheus scrapes it with a `reader` token.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reader,
    Admin,
}

/// One entry of the token file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who or what the token is for (shown in logs).
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the token.
    pub sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read the token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("token file {path}: {detail}")]
    Invalid { path: String, detail: String },
}

/// Prefix that makes Valence tokens recognisable (in secret scanners, in logs).
pub const TOKEN_PREFIX: &str = "vlc_";

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random token: 32 bytes from the OS generator, hex, with the prefix.
pub fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{TOKEN_PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

impl TokenFile {
    pub fn read(path: &Path) -> Result<TokenFile, TokenFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: TokenFile = toml::from_str(&text).map_err(|e| TokenFileError::Invalid {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        for (i, entry) in file.tokens.iter().enumerate() {
            let valid =
                entry.sha256.len() == 64 && entry.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return Err(TokenFileError::Invalid {
                    path: shown,
                    detail: format!("token[{i}] ({}): sha256 must be 64 hex digits", entry.name),
                });
            }
        }
        Ok(file)
    }

    pub fn to_toml(&self) -> Result<String, TokenFileError> {
        toml::to_string_pretty(self).map_err(|e| TokenFileError::Invalid {
            path: String::new(),
            detail: e.to_string(),
        })
    }
}

/// Who may call the API. Without tokens the API is open (and must listen on loopback only).
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    by_hash: Arc<HashMap<String, (String, Role)>>,
}

/// The caller, as authenticated; handlers and the web console can read it from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Authenticator {
    pub fn from_file(file: &TokenFile) -> Self {
        let by_hash = file
            .tokens
            .iter()
            .map(|t| (t.sha256.to_ascii_lowercase(), (t.name.clone(), t.role)))
            .collect::<HashMap<_, _>>();
        Self {
            by_hash: Arc::new(by_hash),
        }
    }

    pub fn is_enabled(&self) -> bool {
        !self.by_hash.is_empty()
    }

    /// The caller a presented token belongs to.
    pub fn identify(&self, token: &str) -> Option<Caller> {
        self.by_hash
            .get(&hash_token(token))
            .map(|(name, role)| Caller {
                name: name.clone(),
                role: *role,
            })
    }
}

fn is_open_path(path: &str) -> bool {
    matches!(
        path,
        "/" | "/v1" | "/v1/" | "/healthz" | "/readyz" | "/v1/openapi.json" | CONSOLE_LOGIN
    ) || path.starts_with("/ui/assets/")
}

/// The web console's login page: where a browser without a valid session is sent.
pub const CONSOLE_LOGIN: &str = "/ui/login";

fn is_console(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

fn may(role: Role, method: &Method) -> bool {
    role == Role::Admin || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The token of a request: `Authorization: Bearer ...`, or, for console pages only, the
/// console's session cookie (so a cookie never authorizes a cross-site API call).
fn presented_token(request: &Request) -> Option<String> {
    let from_header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    if !is_console(request.uri().path()) {
        return from_header;
    }
    from_header.or_else(|| {
        request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                pair.trim()
                    .strip_prefix(&format!("{SESSION_COOKIE}="))
                    .map(str::to_owned)
            })
    })
}

/// Cookie in which the web console keeps the token it was given at login.
pub const SESSION_COOKIE: &str = "valence_token";

/// Refuses requests without a valid token (401) or with too small a role (403).
pub async fn require_token(
    State(auth): State<Authenticator>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !auth.is_enabled() || is_open_path(request.uri().path()) {
        return Ok(next.run(request).await);
    }
    let caller = presented_token(&request).and_then(|token| auth.identify(&token));
    let Some(caller) = caller else {
        if is_console(request.uri().path()) {
            // A browser: to the login page rather than a JSON 401.
            return Ok(axum::response::Redirect::to(CONSOLE_LOGIN).into_response());
        }
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "send a valid token: Authorization: Bearer <token>",
        ));
    };
    if !may(caller.role, request.method()) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "token {:?} has role reader, which may only read; this needs admin",
                caller.name
            ),
        ));
    }
    tracing::debug!(caller = %caller.name, "authenticated");
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authenticator() -> (Authenticator, String, String) {
        let admin = generate_token();
        let reader = generate_token();
        let file = TokenFile {
            tokens: vec![
                TokenEntry {
                    name: "ops".into(),
                    role: Role::Admin,
                    sha256: hash_token(&admin),
                },
                TokenEntry {
                    name: "dash".into(),
                    role: Role::Reader,
                    sha256: hash_token(&reader),
                },
            ],
        };
        (Authenticator::from_file(&file), admin, reader)
    }

    #[test]
    fn tokens_are_random_and_identified_by_their_hash() {
        let (auth, admin, reader) = authenticator();
        assert_ne!(admin, reader);
        assert!(admin.starts_with(TOKEN_PREFIX) && admin.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(auth.identify(&admin).unwrap().role, Role::Admin);
        assert_eq!(auth.identify(&reader).unwrap().name, "dash");
        assert!(auth.identify("vlc_guess").is_none());
    }

    #[test]
    fn the_login_page_and_assets_are_open_and_cookies_only_count_for_the_console() {
        assert!(is_open_path(CONSOLE_LOGIN) && is_open_path("/ui/assets/htmx.min.js"));
        assert!(!is_open_path("/ui/pod_managers") && !is_open_path("/v1/nodes"));
        let cookie = |path: &str| {
            let request = Request::builder()
                .uri(path)
                .header(header::COOKIE, format!("a=b; {SESSION_COOKIE}=vlc_x"))
                .body(axum::body::Body::empty())
                .unwrap();
            presented_token(&request)
        };
        assert_eq!(cookie("/ui/nodes").as_deref(), Some("vlc_x"));
        assert_eq!(cookie("/v1/nodes"), None);
    }

    #[test]
    fn probes_are_open_and_metrics_need_a_token() {
        assert!(is_open_path("/healthz") && is_open_path("/readyz"));
        assert!(!is_open_path("/metrics"));
        assert!(may(Role::Reader, &Method::GET), "a reader token may scrape");
    }

    #[test]
    fn readers_only_read() {
        assert!(may(Role::Reader, &Method::GET));
        assert!(!may(Role::Reader, &Method::POST));
        assert!(!may(Role::Reader, &Method::DELETE));
        assert!(may(Role::Admin, &Method::PATCH));
    }

    #[test]
    fn the_token_file_round_trips_and_bad_hashes_are_refused() {
        let (_, admin, _) = authenticator();
        let file = TokenFile {
            tokens: vec![TokenEntry {
                name: "a".into(),
                role: Role::Admin,
                sha256: hash_token(&admin),
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(&path, file.to_toml().unwrap()).unwrap();
        assert_eq!(TokenFile::read(&path).unwrap().tokens, file.tokens);
        assert!(
            !std::fs::read_to_string(&path).unwrap().contains(&admin),
            "the file holds only the hash"
        );
        std::fs::write(
            &path,
            "[[token]]\nname = \"x\"\nrole = \"admin\"\nsha256 = \"abc\"\n",
        )
        .unwrap();
        assert!(
            TokenFile::read(&path)
                .unwrap_err()
                .to_string()
                .contains("64 hex")
        );
        std::fs::write(
            &path,
            "[[token]]\nname = \"x\"\nrole = \"root\"\nsha256 = \"abc\"\n",
        )
        .unwrap();
        assert!(TokenFile::read(&path).is_err());
    }
}
