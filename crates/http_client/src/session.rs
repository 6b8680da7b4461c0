//! Credentials on requests: Basic headers, and Redfish sessions (login, one re-login, logout).

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, header};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::client::{Inner, Response, resolve_on_origin};
use crate::config::Auth;
use crate::error::Error;
use crate::redfish_error::RedfishError;

const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");

pub(crate) enum AuthState {
    None,
    Basic {
        username: String,
        /// The whole `Basic …` header value: it encodes the password.
        header_value: SecretString,
    },
    Bearer {
        header_value: SecretString,
    },
    Session(Box<SessionAuth>),
}

pub(crate) struct SessionAuth {
    pub(crate) username: String,
    password: SecretString,
    pub(crate) sessions_url: Url,
    pub(crate) slot: tokio::sync::Mutex<SessionSlot>,
}

#[derive(Default)]
pub(crate) struct SessionSlot {
    pub(crate) current: Option<Session>,
    logins: u64,
}

pub(crate) struct Session {
    pub(crate) token: SecretString,
    /// Where to DELETE the session; `None` when the PODM named no location.
    pub(crate) location: Option<Url>,
    /// Tells a stale 401 (for a session already replaced) from one for the current session.
    generation: u64,
}

/// What one attempt sends: the auth header, and which session it belongs to.
pub(crate) struct Credential {
    pub(crate) header: Option<(HeaderName, HeaderValue)>,
    pub(crate) session_generation: Option<u64>,
}

impl AuthState {
    pub(crate) fn from_config(auth: &Auth, base_url: &Url) -> Result<Self, Error> {
        Ok(match auth {
            Auth::None => AuthState::None,
            Auth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose_secret()));
                AuthState::Basic {
                    username: username.clone(),
                    header_value: SecretString::from(format!("Basic {encoded}")),
                }
            }
            Auth::Bearer { token } => AuthState::Bearer {
                header_value: SecretString::from(format!("Bearer {}", token.expose_secret())),
            },
            Auth::Session {
                username,
                password,
                sessions_path,
            } => AuthState::Session(Box::new(SessionAuth {
                username: username.clone(),
                password: password.clone(),
                sessions_url: resolve_on_origin(base_url, sessions_path)?,
                slot: tokio::sync::Mutex::new(SessionSlot::default()),
            })),
        })
    }

    /// For `Debug`: the kind of authentication and the user, never the secret.
    pub(crate) fn describe(&self) -> String {
        match self {
            AuthState::None => "none".to_owned(),
            AuthState::Basic { username, .. } => format!("basic as {username}"),
            AuthState::Bearer { .. } => "bearer token".to_owned(),
            AuthState::Session(s) => format!("session as {username}", username = s.username),
        }
    }
}

/// A header value that `Debug` prints as `Sensitive`; built per request from the secret.
pub(crate) fn sensitive_header(value: &SecretString) -> Option<HeaderValue> {
    let mut header = HeaderValue::from_str(value.expose_secret()).ok()?;
    header.set_sensitive(true);
    Some(header)
}

impl Inner {
    /// The credential for the next attempt; logs in when there is no session yet. Concurrent
    /// callers wait for one login rather than each opening a session.
    pub(crate) async fn credential(&self) -> Result<Credential, Error> {
        match &self.auth {
            AuthState::None => Ok(Credential {
                header: None,
                session_generation: None,
            }),
            AuthState::Basic { header_value, .. } | AuthState::Bearer { header_value } => {
                Ok(Credential {
                    header: sensitive_header(header_value).map(|v| (header::AUTHORIZATION, v)),
                    session_generation: None,
                })
            }
            AuthState::Session(session_auth) => {
                let mut slot = session_auth.slot.lock().await;
                if slot.current.is_none() {
                    slot.logins += 1;
                    let generation = slot.logins;
                    slot.current = Some(self.login(session_auth, generation).await?);
                }
                let Some(session) = slot.current.as_ref() else {
                    return Err(Error::Auth {
                        url: session_auth.sessions_url.to_string(),
                        detail: "no session after login".to_owned(),
                    });
                };
                let header = sensitive_header(&session.token).ok_or_else(|| Error::Auth {
                    url: session_auth.sessions_url.to_string(),
                    detail: "the session token is not a valid header value".to_owned(),
                })?;
                Ok(Credential {
                    header: Some((X_AUTH_TOKEN, header)),
                    session_generation: Some(session.generation),
                })
            }
        }
    }

    /// Forgets the session a 401 was answered for, unless another request replaced it already.
    pub(crate) async fn session_rejected(&self, generation: u64) {
        if let AuthState::Session(session_auth) = &self.auth {
            let mut slot = session_auth.slot.lock().await;
            if slot
                .current
                .as_ref()
                .is_some_and(|s| s.generation == generation)
            {
                slot.current = None;
            }
        }
    }

    async fn login(&self, session_auth: &SessionAuth, generation: u64) -> Result<Session, Error> {
        let url = &session_auth.sessions_url;
        let body = serde_json::json!({
            "UserName": session_auth.username,
            "Password": session_auth.password.expose_secret(),
        });
        let body = Bytes::from(serde_json::to_vec(&body).map_err(|e| Error::Auth {
            url: url.to_string(),
            detail: format!("cannot encode the login request: {e}"),
        })?);
        let response = self.send_once(&Method::POST, url, Some(body), None).await?;
        if matches!(response.status, 401 | 403) {
            return Err(Error::Auth {
                url: url.to_string(),
                detail: format!(
                    "session login as {} refused with {}{}",
                    session_auth.username,
                    response.status,
                    RedfishError::from_body(&response.body)
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            });
        }
        if !response.is_success() {
            return Err(response.into_status_error());
        }
        let token = response
            .header_x_auth_token
            .clone()
            .ok_or_else(|| Error::Auth {
                url: url.to_string(),
                detail: format!(
                    "session login answered {} without an X-Auth-Token header",
                    response.status
                ),
            })?;
        let location = session_location(url, &response);
        if location.is_none() {
            tracing::warn!(%url, "PODM named no session location; the session cannot be logged out");
        }
        tracing::info!(%url, username = %session_auth.username, "opened a PODM session");
        Ok(Session {
            token,
            location,
            generation,
        })
    }

    /// Deletes the current session, if any. A session the PODM no longer knows (404, 401)
    /// counts as logged out.
    pub(crate) async fn logout(&self) -> Result<(), Error> {
        let AuthState::Session(session_auth) = &self.auth else {
            return Ok(());
        };
        let Some(session) = session_auth.slot.lock().await.current.take() else {
            return Ok(());
        };
        let Some(location) = session.location else {
            return Ok(());
        };
        let header = sensitive_header(&session.token).map(|v| (X_AUTH_TOKEN, v));
        let deadline = tokio::time::Instant::now() + self.request_timeout;
        let sending = self.send_once(&Method::DELETE, &location, None, header);
        let response = match tokio::time::timeout_at(deadline, sending).await {
            Ok(response) => response?,
            Err(_) => {
                return Err(Error::Timeout {
                    url: location.to_string(),
                    after: self.request_timeout,
                });
            }
        };
        if response.is_success() || matches!(response.status, 401 | 404) {
            tracing::info!(url = %location, "closed the PODM session");
            Ok(())
        } else {
            Err(response.into_status_error())
        }
    }

    /// Best effort from `Drop`: the session is deleted by a task on the current runtime, if
    /// there is one; otherwise the PODM expires it.
    pub(crate) fn logout_in_background(&mut self) {
        let AuthState::Session(session_auth) = &mut self.auth else {
            return;
        };
        let Some(Session {
            token,
            location: Some(location),
            ..
        }) = session_auth.slot.get_mut().current.take()
        else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(url = %location, "no runtime at drop; the PODM session will expire");
            return;
        };
        let header = sensitive_header(&token).map(|v| (X_AUTH_TOKEN, v));
        let request = match crate::client::build_request(
            &Method::DELETE,
            &location,
            &self.user_agent,
            header,
            None,
        ) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(error = %e, "cannot log out of the PODM session");
                return;
            }
        };
        let http = self.http.clone();
        let timeout = self.request_timeout;
        runtime.spawn(async move {
            match tokio::time::timeout(timeout, http.request(request)).await {
                Ok(Ok(response)) => {
                    tracing::info!(url = %location, status = response.status().as_u16(), "closed the PODM session on drop");
                }
                Ok(Err(e)) => {
                    tracing::warn!(url = %location, error = %e, "cannot log out of the PODM session");
                }
                Err(_) => {
                    tracing::warn!(url = %location, "no answer to the session logout");
                }
            }
        });
    }
}

/// The session's URL from `Location`, else from the body's `@odata.id`. Kept on the PODM's
/// origin: the token is never sent to another host, even if the PODM names one.
fn session_location(sessions_url: &Url, response: &Response) -> Option<Url> {
    let named = response.location.clone().or_else(|| {
        serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()?
            .get("@odata.id")?
            .as_str()
            .map(str::to_owned)
    })?;
    let joined = sessions_url.join(&named).ok()?;
    if joined.origin() == sessions_url.origin() {
        Some(joined)
    } else {
        let mut on_origin = sessions_url.clone();
        on_origin.set_path(joined.path());
        on_origin.set_query(joined.query());
        Some(on_origin)
    }
}
