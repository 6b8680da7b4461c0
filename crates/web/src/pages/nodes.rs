//! Nodes: the list, the detail with its live progress while composing, reset and boot
//! actions, and decompose with its confirmation.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use valence_api::AppState;
use valence_api::service::nodes;
use valence_client::types::{self, Node, NodeDetail};

use crate::error::WebError;
use crate::form::{self, FormErrors, HtmlForm, HtmlQuery};
use crate::layout::{Notice, Page, Section};
use crate::pages::{html, html_with, path_uuid, podm_names, see_other};
use crate::render;

/// States in which the node changes by itself, so the page follows it.
fn in_progress(state: &str) -> bool {
    matches!(state, "allocating" | "assembling" | "deleting")
}

pub fn node_state_badge(state: &str) -> Markup {
    let class = match state {
        "ready" => "badge ok",
        "failed" => "badge bad",
        _ => "badge warn",
    };
    html! { span class=(class) { (state) } }
}

/// Nodes as a table; the PODM column when `names` is given.
pub fn node_table(list: &[Node], names: Option<&HashMap<String, String>>) -> Markup {
    html! {
        div.table-wrap {
            table id="nodes-table" {
                caption.visually-hidden { "Nodes" }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "State" }
                        @if names.is_some() { th scope="col" { "Pod manager" } }
                        th scope="col" { "PODM node id" }
                        th scope="col" { "Managed by" }
                        th scope="col" { "Created" }
                        th scope="col" { "Last error" }
                    }
                }
                tbody {
                    @for n in list {
                        tr data-node=(n.uuid) {
                            th scope="row" { a href=(format!("/ui/nodes/{}", n.uuid)) { (n.name) } }
                            td { (node_state_badge(&n.state)) }
                            @if let Some(names) = names {
                                td { a href=(format!("/ui/pod_managers/{}", n.podm_id)) { (names.get(&n.podm_id).map_or(n.podm_id.as_str(), String::as_str)) } }
                            }
                            td { (n.index.as_deref().unwrap_or("")) }
                            td { (n.managed_by) }
                            td { (render::time(n.created_at)) }
                            td.error-text { (n.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    podm_id: Option<String>,
    state: Option<String>,
    notice: Option<String>,
}

const STATES: [&str; 5] = ["allocating", "assembling", "ready", "failed", "deleting"];

/// `GET /ui/nodes`.
pub async fn list(
    State(state): State<AppState>,
    HtmlQuery(q): HtmlQuery<ListQuery>,
) -> Result<Response, WebError> {
    let names = podm_names(&state).await?;
    let podm = form::text(&q.podm_id).and_then(|id| uuid::Uuid::parse_str(&id).ok());
    let node_state = form::text(&q.state).and_then(|s| s.parse::<valence_db::NodeState>().ok());
    let filter = valence_db::NodeFilter {
        podm_uuid: podm,
        state: node_state,
        ..Default::default()
    };
    let rows = state
        .db
        .run(move |conn| valence_db::nodes::list(conn, &filter, valence_db::Page::default()))
        .await
        .map_err(valence_api::ApiError::from)?;
    let list: Vec<Node> = rows.into_iter().map(valence_api::convert::node).collect();
    let mut podm_options: Vec<(String, String, bool)> = names
        .iter()
        .map(|(uuid, name)| (uuid.clone(), name.clone(), false))
        .collect();
    podm_options.sort_by(|a, b| a.1.cmp(&b.1));
    podm_options.insert(0, (String::new(), "All pod managers".into(), false));
    let mut state_options: Vec<(String, String, bool)> = STATES
        .iter()
        .map(|s| ((*s).to_owned(), (*s).to_owned(), false))
        .collect();
    state_options.insert(0, (String::new(), "Any state".into(), false));
    let no_errors = FormErrors::default();
    let body = html! {
        div.title-row {
            h1 { "Nodes" }
            div.actions { a.button href="/ui/nodes/new" { "Compose a node" } }
        }
        form.filters method="get" action="/ui/nodes" role="search" aria-label="Filter nodes" {
            (render::select("podm_id", "Pod manager", &podm_options, podm.map(|u| u.to_string()).as_deref(), &no_errors, None))
            (render::select("state", "State", &state_options, node_state.map(|s| s.as_str()), &no_errors, None))
            div.buttons { button type="submit" { "Filter" } a href="/ui/nodes" { "Clear" } }
        }
        @if list.is_empty() {
            p.empty { "No node. " a href="/ui/nodes/new" { "Compose one." } }
        } @else {
            (node_table(&list, Some(&names)))
        }
    };
    Ok(html(
        Page::new("Nodes", Section::Nodes, body)
            .notice(crate::layout::Notice::parse(q.notice.as_deref()))
            .render(),
    ))
}

/// Everything on the detail page that changes while the node is composed. While the node is
/// in progress this region reloads itself every second (htmx), or the whole page every two
/// seconds without JavaScript; the state is also announced in `#node-announce`, which stays
/// in place so screen readers hear each change.
fn live_region(detail: &NodeDetail, podm_name: &str, errors: &FormErrors) -> Markup {
    let node = &detail.node;
    let polling = in_progress(&node.state);
    let steps = ["Allocating", "Assembling", "Ready"];
    let reached = match node.state.as_str() {
        "allocating" => Some(0),
        "assembling" => Some(1),
        "ready" => Some(2),
        _ => None,
    };
    html! {
        div #node-live
            hx-get=[polling.then(|| format!("/ui/nodes/{}", node.uuid))]
            hx-trigger=[polling.then_some("every 1s")]
            hx-select=[polling.then_some("#node-live")]
            hx-select-oob=[polling.then_some("#node-announce:innerHTML")]
            hx-swap=[polling.then_some("outerHTML")]
            data-state=(node.state)
        {
            dl.facts {
                dt { "Pod manager" } dd { a href=(format!("/ui/pod_managers/{}", node.podm_id)) { (podm_name) } }
                dt { "Requirements" } dd { (node.requirements.as_ref().map_or_else(|| "unknown".to_owned(), render::requirements)) }
                @if let Some(d) = &node.description { dt { "Description" } dd { (d) } }
                dt { "PODM node id" } dd { (node.index.as_deref().unwrap_or("not allocated yet")) }
                @if let Some(uri) = &node.resource_uri { dt { "Resource" } dd { code { (uri) } } }
                dt { "Managed by" } dd { (node.managed_by) }
                dt { "Created" } dd { (render::time(node.created_at)) }
                dt { "Id" } dd { code { (node.uuid) } }
            }
            p.node-state { "State: " (node_state_badge(&node.state)) }
            @if let Some(reached) = reached {
                ol.steps aria-label="Progress" {
                    @for (i, label) in steps.iter().enumerate() {
                        li class=(if i < reached { "done" } else if i == reached { "current" } else { "todo" })
                            aria-current=[(i == reached).then_some("step")] { (label) }
                    }
                }
            }
            @if node.state == "failed" {
                div.banner.error role="alert" {
                    p { strong { "The compose failed." } }
                    @if let Some(e) = &node.last_error { p.error-text { (e) } }
                }
            } @else if let Some(e) = &node.last_error {
                p.error-text { "Last error: " (e) }
            }
            @if node.state == "deleting" {
                p { "The node is being decomposed." }
            }
            @if let Some(e) = &detail.podm_error {
                div.banner.warning role="alert" { p { "The pod manager did not give the node's live state: " (e) } }
            }
            @if node.state == "ready" { (live_facts(detail)) }
            (actions(node, errors))
        }
    }
}

fn live_facts(detail: &NodeDetail) -> Markup {
    html! {
        section aria-labelledby="power-title" {
            h2 id="power-title" { "Power" }
            dl.facts {
                dt { "Power state" } dd { (detail.power_state.as_deref().unwrap_or("unknown")) }
                dt { "Composed node state" } dd { (detail.composed_node_state.as_deref().unwrap_or("unknown")) }
            }
        }
        @if let Some(s) = &detail.system {
            section aria-labelledby="proc-title" {
                h2 id="proc-title" { "Processors" }
                dl.facts {
                    dt { "Processors" } dd { (s.cpu.count) }
                    dt { "Cores" } dd { (s.cpu.cores) }
                    dt { "Model" } dd { (s.cpu.model.as_deref().unwrap_or("unknown")) }
                    dt { "Instruction set" } dd { (s.cpu.arch.as_deref().unwrap_or("unknown")) }
                }
            }
            section aria-labelledby="mem-title" {
                h2 id="mem-title" { "Memory and storage" }
                dl.facts {
                    dt { "Memory" } dd { (render::gib(s.ram_mib)) " GiB" }
                    dt { "Drives" } dd {
                        @if s.storage.is_empty() { "none" }
                        @for d in &s.storage { (d.capacity_gib) " GiB " (d.drive_type.as_deref().unwrap_or("")) br; }
                    }
                }
            }
            section aria-labelledby="net-title" {
                h2 id="net-title" { "Network" }
                @if s.network.is_empty() { p.muted { "No network interface reported." } }
                @else { ul { @for mac in &s.network { li { code { (mac) } } } } }
            }
            section aria-labelledby="sys-title" {
                h2 id="sys-title" { "System" }
                dl.facts {
                    dt { "Name" } dd { (s.name.as_deref().unwrap_or(&s.system_id)) }
                    dt { "PODM system id" } dd { code { (s.system_id) } }
                    @if let Some(u) = &s.uuid { dt { "UUID" } dd { code { (u) } } }
                    dt { "Health" } dd { (s.health.as_deref().unwrap_or("unknown")) }
                    dt { "Resource" } dd { code { (s.resource_uri) } }
                }
            }
        }
    }
}

fn actions(node: &Node, errors: &FormErrors) -> Markup {
    let no_errors = FormErrors::default();
    let opts = |values: &[&str]| -> Vec<(String, String, bool)> {
        values
            .iter()
            .map(|v| ((*v).to_owned(), (*v).to_owned(), false))
            .collect()
    };
    html! {
        section #actions aria-labelledby="actions-title" {
            h2 id="actions-title" { "Actions" }
            (render::error_summary(errors))
            @if node.state == "ready" {
                div.action-forms {
                    form.card method="post" action=(format!("/ui/nodes/{}/reset", node.uuid)) {
                        h3 { "Reset" }
                        (render::select("reset_type", "Reset type", &opts(&["GracefulRestart", "ForceRestart", "On", "ForceOn", "GracefulShutdown", "ForceOff", "PushPowerButton", "Nmi"]), None, &no_errors, Some("The pod manager accepts only the types the node allows.")))
                        button type="submit" { "Reset" }
                    }
                    form.card method="post" action=(format!("/ui/nodes/{}/boot", node.uuid)) {
                        h3 { "Boot override" }
                        (render::select("enabled", "Override", &opts(&["Once", "Continuous", "Disabled"]), None, &no_errors, None))
                        (render::select("target", "Boot from", &opts(&["Pxe", "Hdd", "RemoteDrive", "Cd", "Usb", "None"]), None, &no_errors, None))
                        button type="submit" { "Set boot override" }
                    }
                }
            }
            @if !matches!(node.state.as_str(), "allocating" | "assembling") {
                p { a.button.danger href=(format!("/ui/nodes/{}/decompose", node.uuid)) { "Decompose…" } }
            } @else {
                p.muted { "Actions are available once the node is ready or has failed." }
            }
        }
    }
}

fn detail_page(
    detail: &NodeDetail,
    podm_name: &str,
    errors: &FormErrors,
    notice: Option<Notice>,
) -> Markup {
    let node = &detail.node;
    let body = html! {
        h1 { "Node " (node.name) }
        p #node-announce.visually-hidden role="status" { "Node " (node.name) " is " (node.state) "." }
        (live_region(detail, podm_name, errors))
    };
    let title = format!("Node {}", node.name);
    Page::new(&title, Section::Nodes, body)
        .notice(notice)
        .refresh_without_js(in_progress(&node.state).then_some(2))
        .render()
}

async fn podm_name(state: &AppState, podm_id: &str) -> String {
    podm_names(state)
        .await
        .ok()
        .and_then(|names| names.get(podm_id).cloned())
        .unwrap_or_else(|| podm_id.to_owned())
}

/// `GET /ui/nodes/{uuid}`.
pub async fn show(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlQuery(q): HtmlQuery<crate::pages::NoticeQuery>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("nodes", &raw)?;
    let detail = nodes::detail(&state, uuid).await?;
    let name = podm_name(&state, &detail.node.podm_id).await;
    Ok(html(detail_page(
        &detail,
        &name,
        &FormErrors::default(),
        q.notice(),
    )))
}

/// Runs a node action, then back to the node with `notice`, or the page with the error.
async fn run_action(
    state: &AppState,
    raw: &str,
    action: types::NodeAction,
    notice: Notice,
) -> Result<Response, WebError> {
    let uuid = path_uuid("nodes", raw)?;
    match nodes::action(state, uuid, action).await {
        Ok(()) => Ok(see_other(&format!("/ui/nodes/{uuid}"), notice)),
        Err(err) => {
            let detail = nodes::detail(state, uuid).await?;
            let name = podm_name(state, &detail.node.podm_id).await;
            let errors = FormErrors::from_api(&err, &[]);
            Ok(html_with(
                err.status(),
                detail_page(&detail, &name, &errors, None),
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    reset_type: String,
}

/// `POST /ui/nodes/{uuid}/reset`.
pub async fn reset(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlForm(values): HtmlForm<ResetForm>,
) -> Result<Response, WebError> {
    let action = types::NodeAction::Reset(types::ResetAction {
        reset_type: values.reset_type,
    });
    run_action(&state, &raw, action, Notice::ResetSent).await
}

#[derive(Debug, Deserialize)]
pub struct BootForm {
    enabled: String,
    target: String,
}

/// `POST /ui/nodes/{uuid}/boot`.
pub async fn boot(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlForm(values): HtmlForm<BootForm>,
) -> Result<Response, WebError> {
    let action = types::NodeAction::Boot(types::BootAction {
        enabled: values.enabled,
        target: values.target,
    });
    run_action(&state, &raw, action, Notice::BootSet).await
}

fn decompose_page(node: &Node, podm_name: &str, errors: &FormErrors) -> Markup {
    let body = html! {
        h1 { "Decompose node " (node.name) }
        (render::error_summary(errors))
        p {
            "Node " strong { (node.name) } " (" (node.state) ") on pod manager " strong { (podm_name) }
            " will be released: the pod manager takes it apart and its resources go back to the pool. Whatever runs on it is lost."
        }
        form.card method="post" action=(format!("/ui/nodes/{}/decompose", node.uuid)) {
            div.buttons {
                button.danger type="submit" { "Decompose the node" }
                a href=(format!("/ui/nodes/{}", node.uuid)) { "Cancel" }
            }
        }
    };
    let title = format!("Decompose {}", node.name);
    Page::new(&title, Section::Nodes, body).render()
}

/// `GET /ui/nodes/{uuid}/decompose`: the confirmation.
pub async fn decompose_form(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("nodes", &raw)?;
    let node = valence_api::convert::node(nodes::get_row(&state, uuid).await?);
    let name = podm_name(&state, &node.podm_id).await;
    Ok(html(decompose_page(&node, &name, &FormErrors::default())))
}

/// `POST /ui/nodes/{uuid}/decompose`.
pub async fn decompose(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("nodes", &raw)?;
    let row = nodes::get_row(&state, uuid).await?;
    match nodes::decompose(&state, row).await {
        Ok(()) => Ok(see_other("/ui/nodes", Notice::Decomposed)),
        Err(err) => {
            let node = valence_api::convert::node(nodes::get_row(&state, uuid).await?);
            let name = podm_name(&state, &node.podm_id).await;
            Ok(html_with(
                err.status(),
                decompose_page(&node, &name, &FormErrors::from_api(&err, &[])),
            ))
        }
    }
}
