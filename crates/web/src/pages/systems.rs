//! Systems: the inventory of every PODM in one table, with filters, paging, and a banner
//! naming the PODMs that did not answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use valence_api::AppState;
use valence_api::service::systems::{self, SystemFilter};
use valence_client::types::System;

use crate::error::WebError;
use crate::form::{self, FormErrors, HtmlQuery};
use crate::layout::{Page, Section};
use crate::pages::{html_with, podm_names};
use crate::render::{self, InputOpts};

/// Rows per page unless the query says otherwise.
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SystemsQuery {
    podm_id: Option<String>,
    min_cores: Option<String>,
    min_memory_gib: Option<String>,
    free: Option<String>,
    limit: Option<String>,
    marker: Option<String>,
}

impl SystemsQuery {
    /// The query string of the same filters, for the paging links.
    fn filters(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("podm_id", &self.podm_id),
            ("min_cores", &self.min_cores),
            ("min_memory_gib", &self.min_memory_gib),
            ("free", &self.free),
            ("limit", &self.limit),
        ] {
            if let Some(v) = form::text(value) {
                pairs.push((key, v));
            }
        }
        pairs
    }
}

fn query_string(pairs: &[(&str, String)]) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        url.append_pair(key, value);
    }
    url.finish()
}

/// `GET /ui/systems`.
pub async fn list(
    State(state): State<AppState>,
    HtmlQuery(q): HtmlQuery<SystemsQuery>,
) -> Result<Response, WebError> {
    let names = podm_names(&state).await?;
    let mut errors = FormErrors::default();
    let podm = match form::text(&q.podm_id) {
        None => None,
        Some(id) => match uuid::Uuid::parse_str(&id) {
            Ok(uuid) if names.contains_key(&uuid.to_string()) => Some(uuid),
            _ => {
                errors.add("podm_id", "no such pod manager");
                None
            }
        },
    };
    let min_cores = form::number(
        &mut errors,
        ("min_cores", "At least cores"),
        &q.min_cores,
        0,
    )
    .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let min_memory_mib = form::number(
        &mut errors,
        ("min_memory_gib", "At least memory"),
        &q.min_memory_gib,
        0,
    )
    .map(|gib| gib.saturating_mul(1024));
    let limit = form::number(&mut errors, ("limit", "Per page"), &q.limit, 1)
        .map_or(PAGE_SIZE, |n| u32::try_from(n).unwrap_or(u32::MAX))
        .min(valence_api::paging::MAX_LIMIT);
    if !errors.is_empty() {
        let body = page_body(&q, &names, &errors, &[], &[], None);
        return Ok(html_with(
            StatusCode::BAD_REQUEST,
            Page::new("Systems", Section::Systems, body).render(),
        ));
    }
    let filter = SystemFilter {
        podm,
        min_cores,
        min_memory_mib,
        free_only: form::checked(&q.free),
    };
    let marker = form::text(&q.marker);
    // One more row than shown tells whether a next page exists.
    let listed = systems::list(
        &state,
        &filter,
        false,
        Some(limit.saturating_add(1)),
        marker.as_deref(),
    )
    .await;
    let (mut page, failed) = match listed {
        Ok(found) => found,
        Err(err) if err.code == valence_api::ErrorCode::InvalidQuery => {
            let errors = FormErrors {
                summary: Some(format!(
                    "{} (the list changed since the previous page; start again from the first page)",
                    err.detail
                )),
                fields: Vec::new(),
            };
            let body = page_body(&q, &names, &errors, &[], &[], None);
            return Ok(html_with(
                err.status(),
                Page::new("Systems", Section::Systems, body).render(),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let next = if page.len() > limit as usize {
        page.truncate(limit as usize);
        page.last().map(|s| {
            let mut pairs = q.filters();
            pairs.push(("marker", s.id.clone()));
            format!("/ui/systems?{}", query_string(&pairs))
        })
    } else {
        None
    };
    let failed: Vec<(String, String)> = failed.into_iter().map(|f| (f.name, f.reason)).collect();
    let body = page_body(&q, &names, &errors, &page, &failed, next.as_deref());
    Ok(crate::pages::html(
        Page::new("Systems", Section::Systems, body).render(),
    ))
}

fn filter_form(
    q: &SystemsQuery,
    names: &std::collections::HashMap<String, String>,
    errors: &FormErrors,
) -> Markup {
    let mut podms: Vec<(String, String, bool)> = names
        .iter()
        .map(|(uuid, name)| (uuid.clone(), name.clone(), false))
        .collect();
    podms.sort_by(|a, b| a.1.cmp(&b.1));
    podms.insert(0, (String::new(), "All pod managers".into(), false));
    html! {
        form.filters method="get" action="/ui/systems" role="search" aria-label="Filter systems" {
            (render::select("podm_id", "Pod manager", &podms, q.podm_id.as_deref(), errors, None))
            (render::input("min_cores", "At least cores", q.min_cores.as_deref(), errors, InputOpts { input_type: "number", min: Some("0"), inputmode: Some("numeric"), ..Default::default() }))
            (render::input("min_memory_gib", "At least memory (GiB)", q.min_memory_gib.as_deref(), errors, InputOpts { input_type: "number", min: Some("0"), inputmode: Some("numeric"), ..Default::default() }))
            (render::input("limit", "Per page", q.limit.as_deref(), errors, InputOpts { input_type: "number", min: Some("1"), inputmode: Some("numeric"), placeholder: Some("50"), ..Default::default() }))
            (render::checkbox("free", "Free only", form::checked(&q.free), None))
            div.buttons {
                button type="submit" { "Filter" }
                a href="/ui/systems" { "Clear" }
            }
        }
    }
}

fn page_body(
    q: &SystemsQuery,
    names: &std::collections::HashMap<String, String>,
    errors: &FormErrors,
    systems: &[System],
    failed: &[(String, String)],
    next: Option<&str>,
) -> Markup {
    html! {
        h1 { "Systems" }
        p { "The computer systems of every pod manager, as last read." }
        @if !failed.is_empty() {
            div.banner.warning role="alert" id="failed-podms" {
                p { "Not shown: these pod managers did not answer." }
                ul { @for (name, reason) in failed { li { strong { (name) } ": " (reason) } } }
            }
        }
        (render::error_summary(&errors.clone().with_summary()))
        (filter_form(q, names, errors))
        @if systems.is_empty() {
            p.empty { "No system matches." }
        } @else {
            div.table-wrap {
                table id="systems-table" {
                    caption.visually-hidden { "Systems of all pod managers" }
                    thead {
                        tr {
                            th scope="col" { "System" }
                            th scope="col" { "Pod manager" }
                            th scope="col" { "Cores" }
                            th scope="col" { "Processor" }
                            th scope="col" { "Memory (GiB)" }
                            th scope="col" { "Storage" }
                            th scope="col" { "Power" }
                            th scope="col" { "Health" }
                            th scope="col" { "Free" }
                        }
                    }
                    tbody {
                        @for s in systems {
                            tr data-system=(s.id) {
                                th scope="row" {
                                    (s.name.as_deref().unwrap_or(&s.system_id))
                                    br; small.muted { (s.system_id) }
                                }
                                td { a href=(format!("/ui/pod_managers/{}", s.podm_id)) { (names.get(&s.podm_id).map_or(s.podm_id.as_str(), String::as_str)) } }
                                td.num { (s.cpu.cores) }
                                td { (s.cpu.model.as_deref().unwrap_or("")) }
                                td.num { (render::gib(s.ram_mib)) }
                                td { (storage(s)) }
                                td { (s.power_state.as_deref().unwrap_or("")) }
                                td { (s.health.as_deref().unwrap_or("")) }
                                td { @if s.free { span.badge.ok { "free" } } @else { span.badge.unknown { "in use" } } }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if form::text(&q.marker).is_some() {
                a href=(format!("/ui/systems?{}", query_string(&q.filters()))) { "First page" }
            }
            @if let Some(next) = next { a rel="next" href=(next) { "Next page" } }
        }
    }
}

fn storage(s: &System) -> String {
    if s.storage.is_empty() {
        return String::new();
    }
    s.storage
        .iter()
        .map(|d| match &d.drive_type {
            Some(t) => format!("{} GiB {t}", d.capacity_gib),
            None => format!("{} GiB", d.capacity_gib),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
