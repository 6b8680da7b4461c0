//! Console sign-in when the server requires API tokens: the token is checked like an API
//! request's and kept in an HttpOnly, same-site cookie that only console pages accept.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use valence_api::AppState;
use valence_api::auth::SESSION_COOKIE;

use crate::error::WebError;
use crate::form::HtmlForm;
use crate::layout::{Page, Section};
use crate::pages::{html, html_with};

/// How long a console session lasts before signing in again.
const SESSION_SECONDS: u32 = 12 * 60 * 60;

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    token: Option<String>,
}

fn login_page(error: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Sign in" }
        p { "This Valence server requires an API token (made with " code { "valence token create" } ")." }
        form method="post" action="/ui/login" {
            @if let Some(error) = error {
                div.error-summary role="alert" { p { (error) } }
            }
            div.field {
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required
                    aria-invalid=[error.map(|_| "true")];
            }
            button.primary type="submit" { "Sign in" }
        }
    };
    Page::new("Sign in", Section::None, body).render()
}

pub async fn form(State(state): State<AppState>) -> Response {
    if !state.auth.is_enabled() {
        return Redirect::to("/ui/pod_managers").into_response();
    }
    html(login_page(None))
}

pub async fn sign_in(
    State(state): State<AppState>,
    HtmlForm(form): HtmlForm<LoginForm>,
) -> Result<Response, WebError> {
    let token = form.token.unwrap_or_default();
    let token = token.trim();
    if state.auth.identify(token).is_none() {
        return Ok(html_with(
            axum::http::StatusCode::UNAUTHORIZED,
            login_page(Some("That token is not valid.")),
        ));
    }
    let secure = if state.settings.public_scheme == "https" {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{secure}"
    );
    let mut response = Redirect::to("/ui/pod_managers").into_response();
    let value = HeaderValue::from_str(&cookie).map_err(|_| {
        WebError::BadRequest("the token has characters a cookie cannot hold".into())
    })?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

pub async fn sign_out() -> Response {
    let mut response = Redirect::to("/ui/login").into_response();
    let cookie = format!("{SESSION_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
