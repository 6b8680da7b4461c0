//! The pages, one module per resource; each handler calls `valence_api::service` (or the API's
//! own handlers) and renders the answer.

pub mod compose;
pub mod flavors;
pub mod login;
pub mod nodes;
pub mod podms;
pub mod systems;

use std::collections::HashMap;

use axum::http::Uri;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::Markup;
use serde::Deserialize;
use uuid::Uuid;
use valence_api::AppState;

use crate::error::WebError;
use crate::layout::Notice;

/// `GET /ui`: the pod managers are the console's front page.
pub async fn home() -> Redirect {
    Redirect::to("/ui/pod_managers")
}

/// Any other path under `/ui`.
pub async fn not_found(uri: Uri) -> WebError {
    WebError::NotFound(uri.path().to_owned())
}

pub async fn method_not_allowed() -> WebError {
    WebError::MethodNotAllowed
}

/// The `?notice=` of a page reached by a redirect.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

impl NoticeQuery {
    pub fn notice(&self) -> Option<Notice> {
        Notice::parse(self.notice.as_deref())
    }
}

/// An id from the path; anything else names a page that cannot exist.
pub fn path_uuid(kind: &str, raw: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(raw).map_err(|_| WebError::NotFound(format!("/ui/{kind}/{raw}")))
}

/// `303 See Other` to `path` with a notice: the browser loads the result page with GET, so a
/// reload does not post the form again.
pub fn see_other(path: &str, notice: Notice) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}notice={}", notice.key())).into_response()
}

/// A page answered with `status` (a form shown again with its errors).
pub fn html_with(status: axum::http::StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

pub fn html(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// Names of every PODM by uuid, for tables that show which PODM a thing belongs to.
pub async fn podm_names(state: &AppState) -> Result<HashMap<String, String>, WebError> {
    Ok(valence_api::service::podms::all_rows(state)
        .await?
        .into_iter()
        .map(|row| (row.uuid.to_string(), row.name))
        .collect())
}
