//! Pod managers: the table with usage, registration, detail and edit, cordon, and the safe
//! delete with its preview.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use valence_api::service::podms;
use valence_api::{AppState, ErrorCode};
use valence_client::types::{self, PodManager};

use crate::error::WebError;
use crate::form::{self, FormErrors, HtmlForm, HtmlQuery};
use crate::layout::{Notice, Page, Section};
use crate::pages::{NoticeQuery, html, html_with, path_uuid, see_other};
use crate::render::{self, InputOpts};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    notice: Option<String>,
    /// Read every PODM now instead of the cached inventories.
    refresh: Option<String>,
}

/// `GET /ui/pod_managers`.
pub async fn list(
    State(state): State<AppState>,
    HtmlQuery(q): HtmlQuery<ListQuery>,
) -> Result<Response, WebError> {
    let refresh = form::checked(&q.refresh);
    let rows = podms::all_rows(&state).await?;
    let (mut bodies, failed) = podms::list(&state, rows, refresh).await?;
    bodies.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.uuid.cmp(&b.uuid)));
    let notice = NoticeQuery { notice: q.notice }.notice();
    let body = html! {
        div.title-row {
            h1 { "Pod managers" }
            div.actions {
                a.button href="/ui/pod_managers/new" { "Register a pod manager" }
                a.button.secondary href="/ui/pod_managers?refresh=1" { "Read them all now" }
            }
        }
        @if !failed.is_empty() {
            div.banner.warning role="alert" {
                p { "These pod managers did not answer:" }
                ul { @for f in &failed { li { strong { (f.name) } ": " (f.reason) } } }
            }
        }
        @if bodies.is_empty() {
            p.empty { "No pod manager is registered yet. " a href="/ui/pod_managers/new" { "Register one" } " to see its systems and compose nodes." }
        } @else {
            (podm_table(&bodies))
            p.hint { "Usage comes from the inventories Valence keeps in cache (refreshed in the background); “Read them all now” asks every pod manager." }
        }
    };
    Ok(html(
        Page::new("Pod managers", Section::PodManagers, body)
            .notice(notice)
            .render(),
    ))
}

pub fn status_badge(status: &str) -> Markup {
    let class = match status {
        "Online" => "badge ok",
        "Offline" => "badge bad",
        _ => "badge unknown",
    };
    html! { span class=(class) { (status) } }
}

pub fn state_badge(state: &str) -> Markup {
    let class = match state {
        "active" => "badge ok",
        "cordoned" => "badge warn",
        _ => "badge bad",
    };
    html! { span class=(class) { (state) } }
}

fn usage_cells(usage: &types::PodManagerUsage) -> Markup {
    html! {
        @if usage.available {
            td { (render::usage_meter("Systems", u64::from(usage.systems_free), u64::from(usage.systems_total), "")) }
            td { (render::usage_meter("Cores", usage.cores_free, usage.cores_total, "")) }
            td { (render::usage_meter("Memory", mib_to_gib_whole(usage.memory_free_mib), mib_to_gib_whole(usage.memory_total_mib), "GiB")) }
        } @else {
            td colspan="3" { span.muted { "No figures: the inventory could not be read." } }
        }
    }
}

fn mib_to_gib_whole(mib: u64) -> u64 {
    mib / 1024
}

/// The cordon / uncordon button of a PODM; `back` is where to return.
fn state_button(podm: &PodManager, back: &str) -> Markup {
    let (target, label) = match podm.state.as_str() {
        "active" => ("cordoned", "Cordon"),
        "cordoned" => ("active", "Uncordon"),
        _ => return html! {},
    };
    html! {
        form.inline method="post" action=(format!("/ui/pod_managers/{}/state", podm.uuid)) {
            input type="hidden" name="state" value=(target);
            input type="hidden" name="back" value=(back);
            button type="submit" aria-label=(format!("{label} {}", podm.name)) { (label) }
        }
    }
}

fn podm_table(bodies: &[PodManager]) -> Markup {
    let now = Utc::now();
    html! {
        div.table-wrap {
            table id="podm-table" {
                caption.visually-hidden { "Registered pod managers with their usage" }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Status" }
                        th scope="col" { "State" }
                        th scope="col" { "Driver" }
                        th scope="col" { "Systems" }
                        th scope="col" { "Cores" }
                        th scope="col" { "Memory" }
                        th scope="col" { "Nodes" br; small { "Valence / all" } }
                        th scope="col" { "Last seen" }
                        th scope="col" { "Last error" }
                        th scope="col" { "Actions" }
                    }
                }
                tbody {
                    @for p in bodies {
                        tr data-podm=(p.uuid) {
                            th scope="row" { a href=(format!("/ui/pod_managers/{}", p.uuid)) { (p.name) } }
                            td { (status_badge(&p.status)) }
                            td { (state_badge(&p.state)) }
                            td { (p.driver) }
                            (usage_cells(&p.usage))
                            td { (p.usage.nodes_valence) " / " (p.usage.nodes_total) }
                            td { @if let Some(t) = p.last_seen_at { (render::time_ago(t, now)) } @else { span.muted { "never" } } }
                            td.error-text { @if let Some(e) = &p.last_error { (e) } }
                            td.row-actions {
                                (state_button(p, "list"))
                                @if p.state != "deleting" {
                                    a href=(format!("/ui/pod_managers/{}#edit", p.uuid)) aria-label=(format!("Edit {}", p.name)) { "Edit" }
                                }
                                a href=(format!("/ui/pod_managers/{}/delete", p.uuid)) aria-label=(format!("Delete {}", p.name)) { "Delete…" }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- registration

#[derive(Debug, Default, Clone, Deserialize)]
pub struct RegisterForm {
    name: Option<String>,
    url: Option<String>,
    driver: Option<String>,
    auth_type: Option<String>,
    username: Option<String>,
    /// Write-only: never rendered back.
    password: Option<String>,
    tls_verify: Option<String>,
    ca_cert: Option<String>,
    description: Option<String>,
    location: Option<String>,
    /// Register even when the PODM does not answer now (it is stored `Offline`).
    allow_offline: Option<String>,
}

/// Request fields of the API named in errors, and the form field each belongs to.
const REGISTER_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("url", "url"),
    ("driver", "driver"),
    ("authentication[0].type", "auth_type"),
    ("authentication[0].auth_items.username", "username"),
    ("authentication[0].auth_items.password", "password"),
    ("authentication", "username"),
    ("ca_cert", "ca_cert"),
    ("tls", "ca_cert"),
];

fn driver_options() -> Vec<(String, String, bool)> {
    vec![
        ("".into(), "Detect from the service root".into(), false),
        ("rsd".into(), "Intel RSD (rsd)".into(), false),
        (
            "redfish".into(),
            "DMTF Redfish composition (redfish)".into(),
            false,
        ),
    ]
}

fn auth_options() -> Vec<(String, String, bool)> {
    vec![
        ("basic".into(), "HTTP Basic".into(), false),
        ("session".into(), "Redfish session".into(), false),
    ]
}

/// The credential fields: the password input never carries a value.
fn credential_fields(
    auth_type: Option<&str>,
    username: Option<&str>,
    errors: &FormErrors,
    password_hint: &str,
) -> Markup {
    html! {
        fieldset {
            legend { "Credentials" }
            (render::select("auth_type", "Authentication", &auth_options(), auth_type, errors, None))
            (render::input("username", "User name", username, errors, InputOpts { autocomplete: Some("off"), ..Default::default() }))
            (render::input("password", "Password", None, errors, InputOpts {
                input_type: "password",
                autocomplete: Some("new-password"),
                hint: Some(password_hint),
                ..Default::default()
            }))
        }
    }
}

fn register_page(values: &RegisterForm, errors: &FormErrors) -> Markup {
    let body = html! {
        h1 { "Register a pod manager" }
        p { "Valence probes the pod manager before storing it; if it cannot be reached, the error is shown here." }
        (render::error_summary(errors))
        form.card method="post" action="/ui/pod_managers/new" novalidate {
            (render::input("name", "Name", values.name.as_deref(), errors, InputOpts { required: true, ..Default::default() }))
            (render::input("url", "URL", values.url.as_deref(), errors, InputOpts {
                required: true,
                input_type: "url",
                placeholder: Some("https://podm.example:8443"),
                hint: Some("Base URL of the pod manager; /redfish/v1 is added when missing."),
                ..Default::default()
            }))
            (render::select("driver", "Driver", &driver_options(), values.driver.as_deref(), errors, None))
            (credential_fields(values.auth_type.as_deref(), values.username.as_deref(), errors, "Stored for Valence's calls to the pod manager; never shown again."))
            fieldset {
                legend { "TLS" }
                (render::checkbox("tls_verify", "Verify the pod manager's certificate", form::checked(&values.tls_verify), Some("Turn off only for a lab pod manager with a self-signed certificate, or pin its CA below.")))
                div.field {
                    label for="f-ca_cert" { "CA certificate (PEM, optional)" }
                    textarea id="f-ca_cert" name="ca_cert" rows="4" aria-invalid=[errors.field("ca_cert").map(|_| "true")] aria-describedby=[errors.field("ca_cert").map(|_| "ca_cert-error")] { (values.ca_cert.as_deref().unwrap_or("")) }
                    (render::field_error(errors, "ca_cert"))
                }
            }
            (render::input("description", "Description", values.description.as_deref(), errors, InputOpts::default()))
            (render::input("location", "Location", values.location.as_deref(), errors, InputOpts::default()))
            (render::checkbox("allow_offline", "Register it even if it does not answer now", form::checked(&values.allow_offline), Some("It is then stored as Offline and checked again in the background.")))
            div.buttons {
                button type="submit" { "Register" }
                a href="/ui/pod_managers" { "Cancel" }
            }
        }
    };
    Page::new("Register a pod manager", Section::PodManagers, body).render()
}

/// `GET /ui/pod_managers/new`.
pub async fn new_form() -> Response {
    let fresh = RegisterForm {
        tls_verify: Some("on".into()),
        ..Default::default()
    };
    html(register_page(&fresh, &FormErrors::default()))
}

fn authentication(
    errors: &mut FormErrors,
    auth_type: &Option<String>,
    username: &Option<String>,
    password: &Option<String>,
) -> Option<Vec<types::Authentication>> {
    let password = password.clone().filter(|p| !p.is_empty());
    match (form::text(username), password) {
        (None, None) => None,
        (Some(username), Some(password)) => Some(vec![types::Authentication {
            auth_type: form::text(auth_type).unwrap_or_else(|| "basic".into()),
            auth_items: types::AuthItems { username, password },
        }]),
        (None, Some(_)) => {
            errors.add("username", "give the user name that goes with the password");
            None
        }
        (Some(_), None) => {
            errors.add("password", "give the password of this user");
            None
        }
    }
}

/// `POST /ui/pod_managers/new`.
pub async fn register(
    State(state): State<AppState>,
    HtmlForm(values): HtmlForm<RegisterForm>,
) -> Response {
    let mut errors = FormErrors::default();
    let auth = authentication(
        &mut errors,
        &values.auth_type,
        &values.username,
        &values.password,
    );
    if !errors.is_empty() {
        return html_with(
            StatusCode::BAD_REQUEST,
            register_page(&values, &errors.with_summary()),
        );
    }
    let body = types::PodManagerCreate {
        name: values.name.clone().unwrap_or_default(),
        url: values.url.clone().unwrap_or_default(),
        driver: form::text(&values.driver),
        authentication: auth.unwrap_or_default(),
        description: form::text(&values.description),
        location: form::text(&values.location),
        tls_verify: Some(form::checked(&values.tls_verify)),
        ca_cert: form::text(&values.ca_cert),
    };
    let verify = !form::checked(&values.allow_offline);
    match podms::register(&state, body, verify).await {
        Ok(_) => see_other("/ui/pod_managers", Notice::Registered),
        Err(err) => {
            let mut errors = FormErrors::from_api(&err, REGISTER_FIELDS);
            if err.code == ErrorCode::PodmUnreachable && errors.fields.is_empty() {
                errors.add("url", err.detail.clone());
                errors.summary = Some(format!("{}.", err.code.title()));
            }
            html_with(err.status(), register_page(&values, &errors))
        }
    }
}

// ---------------------------------------------------------------- detail and edit

#[derive(Debug, Default, Clone, Deserialize)]
pub struct EditForm {
    name: Option<String>,
    url: Option<String>,
    description: Option<String>,
    location: Option<String>,
    tls_verify: Option<String>,
    auth_type: Option<String>,
    username: Option<String>,
    /// Write-only: never rendered back.
    password: Option<String>,
    ca_cert: Option<String>,
    clear_ca: Option<String>,
}

impl EditForm {
    fn from_podm(p: &PodManager) -> Self {
        let auth = p.authentication.first();
        EditForm {
            name: Some(p.name.clone()),
            url: Some(p.url.clone()),
            description: p.description.clone(),
            location: p.location.clone(),
            tls_verify: p.tls_verify.then(|| "on".to_owned()),
            auth_type: auth.map(|a| a.auth_type.clone()),
            username: auth.map(|a| a.auth_items.username.clone()),
            password: None,
            ca_cert: None,
            clear_ca: None,
        }
    }
}

fn edit_form(p: &PodManager, values: &EditForm, errors: &FormErrors) -> Markup {
    html! {
        section #edit aria-labelledby="edit-title" {
            h2 id="edit-title" { "Edit" }
            (render::error_summary(errors))
            form.card method="post" action=(format!("/ui/pod_managers/{}", p.uuid)) novalidate {
                (render::input("name", "Name", values.name.as_deref(), errors, InputOpts { required: true, ..Default::default() }))
                (render::input("url", "URL", values.url.as_deref(), errors, InputOpts { required: true, input_type: "url", ..Default::default() }))
                (render::input("description", "Description", values.description.as_deref(), errors, InputOpts::default()))
                (render::input("location", "Location", values.location.as_deref(), errors, InputOpts::default()))
                (credential_fields(values.auth_type.as_deref(), values.username.as_deref(), errors, "Leave blank to keep the stored credentials; to change them, give the user name and the new password."))
                fieldset {
                    legend { "TLS" }
                    (render::checkbox("tls_verify", "Verify the pod manager's certificate", form::checked(&values.tls_verify), None))
                    div.field {
                        label for="f-ca_cert" { "New CA certificate (PEM)" }
                        p.hint id="ca_cert-hint" { @if p.ca_cert_pinned { "A CA certificate is pinned. " } "Leave blank to keep the current setting." }
                        textarea id="f-ca_cert" name="ca_cert" rows="4" aria-describedby="ca_cert-hint" aria-invalid=[errors.field("ca_cert").map(|_| "true")] { (values.ca_cert.as_deref().unwrap_or("")) }
                        (render::field_error(errors, "ca_cert"))
                    }
                    @if p.ca_cert_pinned {
                        (render::checkbox("clear_ca", "Remove the pinned CA certificate", form::checked(&values.clear_ca), None))
                    }
                }
                p.hint { "A change of URL, credentials or TLS settings makes Valence reconnect and probe the pod manager again." }
                div.buttons { button type="submit" { "Save changes" } }
            }
        }
    }
}

fn detail_page(
    p: &PodManager,
    nodes: &[valence_client::types::Node],
    values: &EditForm,
    errors: &FormErrors,
    notice: Option<Notice>,
) -> Markup {
    let now = Utc::now();
    let auth = p.authentication.first();
    let body = html! {
        div.title-row {
            h1 { "Pod manager " (p.name) }
            div.actions {
                (state_button(p, "detail"))
                a.button.danger href=(format!("/ui/pod_managers/{}/delete", p.uuid)) { "Delete…" }
            }
        }
        dl.facts {
            dt { "URL" } dd { code { (p.url) } }
            dt { "Status" } dd { (status_badge(&p.status)) }
            dt { "State" } dd { (state_badge(&p.state)) }
            dt { "Driver" } dd { (p.driver) }
            dt { "Authentication" } dd {
                @if let Some(a) = auth { (a.auth_type) ", user " code { (a.auth_items.username) } " (password stored, not shown)" }
                @else { "none" }
            }
            dt { "TLS" } dd {
                @if p.tls_verify { "certificate verified" } @else { "certificate not verified" }
                @if p.ca_cert_pinned { ", pinned CA" }
            }
            @if let Some(d) = &p.description { dt { "Description" } dd { (d) } }
            @if let Some(l) = &p.location { dt { "Location" } dd { (l) } }
            dt { "Last seen" } dd { @if let Some(t) = p.last_seen_at { (render::time_ago(t, now)) " (" (render::time(t)) ")" } @else { "never" } }
            dt { "Last error" } dd.error-text { @if let Some(e) = &p.last_error { (e) } @else { "none" } }
            dt { "Registered" } dd { (render::time(p.created_at)) }
            dt { "Id" } dd { code { (p.uuid) } }
        }
        section aria-labelledby="usage-title" {
            h2 id="usage-title" { "Usage" }
            @if p.usage.available {
                dl.facts {
                    dt { "Systems" } dd { (render::usage_meter("Systems", u64::from(p.usage.systems_free), u64::from(p.usage.systems_total), "")) }
                    dt { "Cores" } dd { (render::usage_meter("Cores", p.usage.cores_free, p.usage.cores_total, "")) }
                    dt { "Memory" } dd { (render::usage_meter("Memory", mib_to_gib_whole(p.usage.memory_free_mib), mib_to_gib_whole(p.usage.memory_total_mib), "GiB")) }
                    dt { "Composed nodes" } dd { (p.usage.nodes_total) " on the pod manager, " (p.usage.nodes_valence) " recorded by Valence" }
                }
            } @else {
                p.muted { "No figures: the inventory could not be read." }
            }
        }
        section aria-labelledby="nodes-title" {
            h2 id="nodes-title" { "Nodes recorded by Valence" }
            @if nodes.is_empty() { p.muted { "None." } } @else { (super::nodes::node_table(nodes, None)) }
        }
        @if p.state != "deleting" { (edit_form(p, values, errors)) }
    };
    let title = format!("Pod manager {}", p.name);
    Page::new(&title, Section::PodManagers, body)
        .notice(notice)
        .render()
}

async fn podm_nodes(
    state: &AppState,
    uuid: uuid::Uuid,
) -> Result<Vec<valence_client::types::Node>, WebError> {
    let filter = valence_db::NodeFilter {
        podm_uuid: Some(uuid),
        ..Default::default()
    };
    let rows = state
        .db
        .run(move |conn| valence_db::nodes::list(conn, &filter, valence_db::Page::default()))
        .await
        .map_err(valence_api::ApiError::from)?;
    Ok(rows.into_iter().map(valence_api::convert::node).collect())
}

/// `GET /ui/pod_managers/{uuid}`.
pub async fn show(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlQuery(q): HtmlQuery<NoticeQuery>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("pod_managers", &raw)?;
    let (podm, _) = podms::show(&state, uuid, false).await?;
    let nodes = podm_nodes(&state, uuid).await?;
    Ok(html(detail_page(
        &podm,
        &nodes,
        &EditForm::from_podm(&podm),
        &FormErrors::default(),
        q.notice(),
    )))
}

const EDIT_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("url", "url"),
    ("authentication[0].type", "auth_type"),
    ("authentication[0].auth_items.username", "username"),
    ("authentication[0].auth_items.password", "password"),
    ("ca_cert", "ca_cert"),
];

/// The fields of `values` that differ from `current`, as an API update.
fn changes(
    current: &PodManager,
    values: &EditForm,
    errors: &mut FormErrors,
) -> types::PodManagerUpdate {
    let mut update = types::PodManagerUpdate::default();
    let name = values.name.as_deref().unwrap_or("").trim();
    if name != current.name {
        update.name = Some(name.to_owned());
    }
    let url = values.url.as_deref().unwrap_or("").trim();
    if url != current.url {
        update.url = Some(url.to_owned());
    }
    let description = form::text(&values.description);
    if description != current.description {
        update.description = Some(description.unwrap_or_default());
    }
    let location = form::text(&values.location);
    if location != current.location {
        update.location = Some(location.unwrap_or_default());
    }
    let verify = form::checked(&values.tls_verify);
    if verify != current.tls_verify {
        update.tls_verify = Some(verify);
    }
    // Credentials change only when a new password is given.
    if values.password.as_deref().is_some_and(|p| !p.is_empty()) {
        update.authentication = authentication(
            errors,
            &values.auth_type,
            &values.username,
            &values.password,
        );
    }
    if let Some(pem) = form::text(&values.ca_cert) {
        update.ca_cert = Some(pem);
    } else if form::checked(&values.clear_ca) {
        update.ca_cert = Some(String::new());
    }
    update
}

/// `POST /ui/pod_managers/{uuid}`: the edit form.
pub async fn edit(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlForm(values): HtmlForm<EditForm>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("pod_managers", &raw)?;
    let (current, _) = podms::show(&state, uuid, false).await?;
    let mut errors = FormErrors::default();
    let update = changes(&current, &values, &mut errors);
    let outcome = if errors.is_empty() {
        podms::update(&state, uuid, update)
            .await
            .map_err(|err| (err.status(), FormErrors::from_api(&err, EDIT_FIELDS)))
    } else {
        Err((StatusCode::BAD_REQUEST, errors.with_summary()))
    };
    match outcome {
        Ok(_) => Ok(see_other(
            &format!("/ui/pod_managers/{uuid}"),
            Notice::Updated,
        )),
        Err((status, errors)) => {
            let nodes = podm_nodes(&state, uuid).await?;
            Ok(html_with(
                status,
                detail_page(&current, &nodes, &values, &errors, None),
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StateForm {
    state: String,
    back: Option<String>,
}

/// `POST /ui/pod_managers/{uuid}/state`: cordon or uncordon.
pub async fn set_state(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlForm(values): HtmlForm<StateForm>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("pod_managers", &raw)?;
    let notice = match values.state.as_str() {
        "cordoned" => Notice::Cordoned,
        "active" => Notice::Uncordoned,
        other => {
            return Err(WebError::BadRequest(format!(
                "state: {other:?} is not cordoned or active"
            )));
        }
    };
    let update = types::PodManagerUpdate {
        state: Some(values.state.clone()),
        ..Default::default()
    };
    podms::update(&state, uuid, update).await?;
    let back = match values.back.as_deref() {
        Some("detail") => format!("/ui/pod_managers/{uuid}"),
        _ => "/ui/pod_managers".to_owned(),
    };
    Ok(see_other(&back, notice))
}

// ---------------------------------------------------------------- delete

#[derive(Debug, Default, Deserialize)]
pub struct DeleteForm {
    release: Option<String>,
    confirm_name: Option<String>,
}

fn delete_page(
    name: &str,
    plan: &types::PodManagerDeletePlan,
    values: &DeleteForm,
    errors: &FormErrors,
) -> Markup {
    let count = plan.nodes.len();
    let (nodes_phrase, them) = if count == 1 {
        ("this node".to_owned(), "it")
    } else {
        (format!("these {count} nodes"), "them")
    };
    let body = html! {
        h1 { "Delete pod manager " (name) }
        (render::error_summary(errors))
        section #delete-preview aria-labelledby="preview-title" {
            h2 id="preview-title" { "What the delete would do" }
            @if count == 0 {
                p { "No node made by Valence remains on " strong { (name) } ". Deleting it removes it from Valence; nodes adopted with " code { "nodes/manage" } " are forgotten, not decomposed." }
            } @else {
                p.preview-count { "With release, " (nodes_phrase) " would be released (decomposed on the pod manager):" }
                div.table-wrap {
                    table {
                        caption.visually-hidden { "Nodes that would be released" }
                        thead { tr { th scope="col" { "Node" } th scope="col" { "State" } th scope="col" { "Id" } } }
                        tbody {
                            @for n in &plan.nodes {
                                tr {
                                    th scope="row" { a href=(format!("/ui/nodes/{}", n.uuid)) { (n.name) } }
                                    td { (n.state) }
                                    td { code { (n.uuid) } }
                                }
                            }
                        }
                    }
                }
                p { "Without release, Valence refuses the delete while they remain." }
            }
        }
        form.card method="post" action=(format!("/ui/pod_managers/{}/delete", plan.podm_id)) {
            @if count > 0 {
                fieldset {
                    legend { "Release" }
                    (render::checkbox("release", &format!("Release {nodes_phrase} first (this destroys {them})"), form::checked(&values.release), None))
                    (render::input("confirm_name", "To confirm the release, type the pod manager's name", None, errors, InputOpts {
                        autocomplete: Some("off"),
                        hint: Some(name),
                        ..Default::default()
                    }))
                }
            }
            div.buttons {
                button.danger type="submit" { "Delete pod manager" }
                a href=(format!("/ui/pod_managers/{}", plan.podm_id)) { "Cancel" }
            }
        }
    };
    let title = format!("Delete {name}");
    Page::new(&title, Section::PodManagers, body).render()
}

/// `GET /ui/pod_managers/{uuid}/delete`: the dry run and the confirmation form.
pub async fn delete_form(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("pod_managers", &raw)?;
    let name = podms::get_row(&state, uuid).await?.name;
    let plan = podms::plan_delete(&state, uuid, false).await?;
    Ok(html(delete_page(
        &name,
        &plan,
        &DeleteForm::default(),
        &FormErrors::default(),
    )))
}

/// `POST /ui/pod_managers/{uuid}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    HtmlForm(values): HtmlForm<DeleteForm>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("pod_managers", &raw)?;
    let name = podms::get_row(&state, uuid).await?.name;
    let release = form::checked(&values.release);
    let mut errors = FormErrors::default();
    if release && form::text(&values.confirm_name).as_deref() != Some(name.as_str()) {
        errors.add(
            "confirm_name",
            format!("type {name} exactly to confirm releasing the nodes"),
        );
    }
    let (status, mut errors, refused) = if errors.is_empty() {
        match podms::delete(&state, uuid, release).await {
            Ok(()) => return Ok(see_other("/ui/pod_managers", Notice::PodmDeleted)),
            Err(err) => (
                err.status(),
                FormErrors::from_api(&err, &[]),
                err.code == ErrorCode::PodmHasNodes,
            ),
        }
    } else {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors.with_summary(),
            false,
        )
    };
    let plan = podms::plan_delete(&state, uuid, false).await?;
    if refused {
        // The service's words are for API clients ("release=true"); say what to do here.
        let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
        errors.summary = Some(format!(
            "Refused: {name} still holds {} node(s) made by Valence: {}. To delete it anyway, \
             tick “Release” and type its name to confirm.",
            plan.nodes.len(),
            names.join(", ")
        ));
    }
    Ok(html_with(
        status,
        delete_page(&name, &plan, &values, &errors),
    ))
}
