//! The compose form: requirements from a flavor or given explicitly, the PODM drop-down with
//! each PODM's free capacity (or why it cannot take a node), the scheduler's preview, and the
//! submit that leads to the node's progress.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use valence_api::service::{nodes, podms};
use valence_api::{AppState, ErrorCode};
use valence_client::types::{self, Flavor};
use valence_pod_manager_api::{
    MemoryRequirement, ProcessorRequirement, Requirements, StorageRequirement,
};
use valence_scheduler::{Filter, Placement, Rejection};

use crate::error::WebError;
use crate::form::{self, FormErrors, HtmlForm};
use crate::layout::{Page, Section};
use crate::pages::{html, html_with};
use crate::render::{self, InputOpts};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ComposeForm {
    name: Option<String>,
    description: Option<String>,
    flavor_id: Option<String>,
    cores: Option<String>,
    memory_gib: Option<String>,
    storage_gib: Option<String>,
    drive_type: Option<String>,
    podm_id: Option<String>,
    /// Makes a double submit compose one node, not two.
    idempotency_key: Option<String>,
}

/// Request fields of the API named in errors, and the form field each belongs to.
const COMPOSE_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("flavor_id", "flavor_id"),
    ("podm_id", "podm_id"),
    ("properties.processor", "cores"),
    ("properties.memory", "memory_gib"),
    ("properties.storage", "storage_gib"),
];

/// What the form needs besides its values: flavors and the PODMs with their availability.
struct Choices {
    flavors: Vec<Flavor>,
    /// `(uuid, text, disabled)`, "Automatic" first.
    podms: Vec<(String, String, bool)>,
}

async fn choices(state: &AppState) -> Result<Choices, WebError> {
    let flavor_rows = state
        .db
        .run(|conn| {
            valence_db::flavors::list(conn, &Default::default(), valence_db::Page::default())
        })
        .await
        .map_err(valence_api::ApiError::from)?;
    let flavors = flavor_rows
        .into_iter()
        .map(valence_api::convert::flavor)
        .collect::<Result<Vec<_>, _>>()?;
    let rows = podms::all_rows(state).await?;
    let (mut bodies, _) = podms::list(state, rows, false).await?;
    bodies.sort_by(|a, b| a.name.cmp(&b.name));
    // The scheduler's own filters say which PODMs can take a node at all.
    let placement = nodes::place(state, &Requirements::default(), None).await?;
    let mut options = vec![(String::new(), "Automatic (scheduler)".to_owned(), false)];
    for p in &bodies {
        let refusal = placement.rejected().iter().find(|r| {
            r.podm_uuid == p.uuid
                && matches!(
                    r.filter,
                    Filter::State | Filter::Health | Filter::Capability
                )
        });
        let text = match refusal {
            Some(r) if r.filter == Filter::Health => match &p.last_error {
                Some(e) => format!("{}: unavailable, offline ({e})", p.name),
                None => format!("{}: unavailable, offline", p.name),
            },
            Some(r) => format!("{}: unavailable, {}", p.name, r.reason),
            None if p.usage.available => format!(
                "{}: {} of {} systems free, {} cores, {} GiB free",
                p.name,
                p.usage.systems_free,
                p.usage.systems_total,
                p.usage.cores_free,
                render::gib(p.usage.memory_free_mib)
            ),
            None => format!("{}: capacity not known yet", p.name),
        };
        options.push((p.uuid.clone(), text, refusal.is_some()));
    }
    Ok(Choices {
        flavors,
        podms: options,
    })
}

/// What the preview area shows.
enum Preview {
    None,
    Placement(Placement),
    /// A compose refused because nothing fits: the per-PODM explanation of the 409.
    Refused(Vec<Rejection>),
    /// A preview of a form with errors: the error summary goes in the preview area, which is
    /// the part htmx swaps in.
    Invalid,
}

fn compose_page(
    values: &ComposeForm,
    choices: &Choices,
    errors: &FormErrors,
    preview: &Preview,
) -> Markup {
    let mut flavor_options = vec![(
        String::new(),
        "None: use the figures below".to_owned(),
        false,
    )];
    flavor_options.extend(choices.flavors.iter().map(|f| {
        (
            f.uuid.clone(),
            format!("{}: {}", f.name, render::requirements(&f.properties)),
            false,
        )
    }));
    let drive_types = vec![
        (String::new(), "Any".to_owned(), false),
        ("SSD".to_owned(), "SSD".to_owned(), false),
        ("HDD".to_owned(), "HDD".to_owned(), false),
    ];
    let number = |min| InputOpts {
        input_type: "number",
        min: Some(min),
        inputmode: Some("numeric"),
        ..Default::default()
    };
    let body = html! {
        h1 { "Compose a node" }
        @if !matches!(preview, Preview::Invalid) { (render::error_summary(errors)) }
        form.card #compose-form method="post" action="/ui/nodes" novalidate {
            input type="hidden" name="idempotency_key" value=(values.idempotency_key.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()));
            (render::input("name", "Name", values.name.as_deref(), errors, InputOpts { required: true, autocomplete: Some("off"), ..Default::default() }))
            (render::input("description", "Description", values.description.as_deref(), errors, InputOpts::default()))
            fieldset {
                legend { "Requirements" }
                p.hint { "Choose a flavor, or give the figures the node needs at least (blank means any)." }
                (render::select("flavor_id", "Flavor", &flavor_options, values.flavor_id.as_deref(), errors, None))
                div.field-row {
                    (render::input("cores", "Cores", values.cores.as_deref(), errors, number("1")))
                    (render::input("memory_gib", "Memory (GiB)", values.memory_gib.as_deref(), errors, number("1")))
                    (render::input("storage_gib", "Local drive (GiB)", values.storage_gib.as_deref(), errors, number("1")))
                    (render::select("drive_type", "Drive type", &drive_types, values.drive_type.as_deref(), errors, None))
                }
            }
            fieldset {
                legend { "Placement" }
                (render::select("podm_id", "Pod manager", &choices.podms, values.podm_id.as_deref(), errors,
                    Some("Cordoned, offline and read-only pod managers cannot take a new node; they are listed but disabled.")))
            }
            div.buttons {
                button.secondary type="submit" formaction="/ui/nodes/preview"
                    hx-post="/ui/nodes/preview" hx-target="#preview" hx-select="#preview" hx-swap="outerHTML" {
                    "Preview"
                }
                button type="submit" { "Compose" }
            }
        }
        (preview_section(preview, errors))
    };
    Page::new("Compose a node", Section::Compose, body).render()
}

fn rejection_table(caption: &str, rejected: &[&Rejection]) -> Markup {
    html! {
        div.table-wrap {
            table.rejections {
                caption { (caption) }
                thead { tr { th scope="col" { "Pod manager" } th scope="col" { "Filter" } th scope="col" { "Why" } } }
                tbody {
                    @for r in rejected {
                        tr {
                            th scope="row" { (r.podm_name) }
                            td { (r.filter.as_str()) }
                            td { (r.reason) }
                        }
                    }
                }
            }
        }
    }
}

/// Rejections worth showing: "another PODM was requested" says nothing when the user chose one.
fn relevant(rejected: &[Rejection]) -> Vec<&Rejection> {
    rejected
        .iter()
        .filter(|r| r.filter != Filter::RequestedPodm)
        .collect()
}

fn preview_section(preview: &Preview, errors: &FormErrors) -> Markup {
    html! {
        section #preview aria-live="polite" aria-label="Placement preview" {
            @match preview {
                Preview::None => {}
                Preview::Invalid => { (render::error_summary(errors)) }
                Preview::Placement(Placement::Ranked { candidates, rejected }) => {
                    h2 { "Preview" }
                    @if let Some(first) = candidates.first() {
                        p.decision { "The scheduler would compose on " strong { (first.podm_name) } "." }
                    }
                    div.table-wrap {
                        table.candidates {
                            caption { "Candidates, best first" }
                            thead {
                                tr {
                                    th scope="col" { "Rank" }
                                    th scope="col" { "Pod manager" }
                                    th scope="col" { "Status" }
                                    th scope="col" { "Free systems" }
                                    th scope="col" { "Free cores" }
                                    th scope="col" { "Free memory (GiB)" }
                                    th scope="col" { "Best-fitting system" }
                                }
                            }
                            tbody {
                                @for c in candidates {
                                    tr {
                                        td.num { (c.rank) }
                                        th scope="row" { (c.podm_name) }
                                        td { (format!("{:?}", c.status)) }
                                        td { (c.systems.free) " of " (c.systems.total) }
                                        td.num { (c.cores_free) }
                                        td.num { (render::gib(c.memory_free_mib)) }
                                        td { code { (c.best_fit) } }
                                    }
                                }
                            }
                        }
                    }
                    @let others = relevant(rejected);
                    @if !others.is_empty() { (rejection_table("Not considered", &others)) }
                }
                Preview::Placement(Placement::NoValidPodm { rejected }) => {
                    h2 { "Preview" }
                    div.banner.error role="alert" { p { strong { "Nothing fits:" } " no pod manager can compose this node." } }
                    (rejection_table("Why each pod manager was ruled out", &relevant(rejected)))
                }
                Preview::Placement(Placement::UnknownPodm { podm_uuid }) => {
                    div.banner.error role="alert" { p { "No pod manager " code { (podm_uuid) } "." } }
                }
                Preview::Refused(rejected) => {
                    h2 { "Why nothing fits" }
                    (rejection_table("Why each pod manager was ruled out", &relevant(rejected)))
                }
            }
        }
    }
}

/// The API request of the form, or the form's errors.
fn compose_body(values: &ComposeForm) -> Result<types::NodeCompose, FormErrors> {
    let mut errors = FormErrors::default();
    let cores = form::number(&mut errors, ("cores", "Cores"), &values.cores, 1);
    let memory_gib = form::number(&mut errors, ("memory_gib", "Memory"), &values.memory_gib, 1);
    let storage_gib = form::number(
        &mut errors,
        ("storage_gib", "Local drive"),
        &values.storage_gib,
        1,
    );
    let drive_type = form::text(&values.drive_type);
    let flavor = form::text(&values.flavor_id);
    let explicit =
        cores.is_some() || memory_gib.is_some() || storage_gib.is_some() || drive_type.is_some();
    if flavor.is_some() && explicit {
        errors.add(
            "flavor_id",
            "choose a flavor or give figures, not both (set the flavor to None to use the figures)",
        );
    }
    if form::text(&values.name).is_none() {
        errors.add("name", "give the node a name");
    }
    if !errors.is_empty() {
        return Err(errors.with_summary());
    }
    let properties = explicit.then(|| Requirements {
        processor: cores.map(|c| ProcessorRequirement {
            total_cores: Some(u32::try_from(c).unwrap_or(u32::MAX)),
            ..Default::default()
        }),
        memory: memory_gib.map(|g| MemoryRequirement {
            capacity_mib: Some(g.saturating_mul(1024)),
            ..Default::default()
        }),
        storage: if storage_gib.is_some() || drive_type.is_some() {
            vec![StorageRequirement {
                capacity_gib: storage_gib,
                drive_type: drive_type.clone(),
            }]
        } else {
            Vec::new()
        },
    });
    Ok(types::NodeCompose {
        name: values.name.clone().unwrap_or_default(),
        description: form::text(&values.description),
        podm_id: form::text(&values.podm_id),
        flavor_id: flavor,
        properties,
    })
}

/// `GET /ui/nodes/new`.
pub async fn form(State(state): State<AppState>) -> Result<Response, WebError> {
    let choices = choices(&state).await?;
    Ok(html(compose_page(
        &ComposeForm::default(),
        &choices,
        &FormErrors::default(),
        &Preview::None,
    )))
}

/// `POST /ui/nodes/preview`: the scheduler's decision for the form, nothing composed.
pub async fn preview(
    State(state): State<AppState>,
    HtmlForm(values): HtmlForm<ComposeForm>,
) -> Result<Response, WebError> {
    let choices = choices(&state).await?;
    // A preview needs no name yet.
    let mut named = values.clone();
    if form::text(&named.name).is_none() {
        named.name = Some("preview".into());
    }
    let outcome = match compose_body(&named) {
        Ok(body) => nodes::compose(&state, body, true, None)
            .await
            .map_err(|err| (err.status(), FormErrors::from_api(&err, COMPOSE_FIELDS))),
        Err(errors) => Err((StatusCode::BAD_REQUEST, errors)),
    };
    Ok(match outcome {
        Ok(nodes::ComposeOutcome::Planned(placement)) => html(compose_page(
            &values,
            &choices,
            &FormErrors::default(),
            &Preview::Placement(placement),
        )),
        Ok(_) => html(compose_page(
            &values,
            &choices,
            &FormErrors::default(),
            &Preview::None,
        )),
        Err((status, errors)) => html_with(
            status,
            compose_page(&values, &choices, &errors, &Preview::Invalid),
        ),
    })
}

/// `POST /ui/nodes`: composes, then follows the node on its page.
pub async fn compose(
    State(state): State<AppState>,
    HtmlForm(values): HtmlForm<ComposeForm>,
) -> Result<Response, WebError> {
    let (status, errors, preview) = match compose_body(&values) {
        Err(errors) => (StatusCode::BAD_REQUEST, errors, Preview::None),
        Ok(body) => {
            let key = form::text(&values.idempotency_key).filter(|k| k.len() <= 255);
            match nodes::compose(&state, body, false, key).await {
                Ok(
                    nodes::ComposeOutcome::Started(node) | nodes::ComposeOutcome::Existing(node),
                ) => {
                    return Ok(Redirect::to(&format!("/ui/nodes/{}", node.uuid)).into_response());
                }
                Ok(nodes::ComposeOutcome::Planned(placement)) => (
                    StatusCode::OK,
                    FormErrors::default(),
                    Preview::Placement(placement),
                ),
                Err(err) => {
                    let preview = if err.code == ErrorCode::NoValidPodm {
                        err.extra
                            .as_ref()
                            .and_then(|extra| extra.get("rejected"))
                            .and_then(|v| serde_json::from_value(v.clone()).ok())
                            .map_or(Preview::None, Preview::Refused)
                    } else {
                        Preview::None
                    };
                    (
                        err.status(),
                        FormErrors::from_api(&err, COMPOSE_FIELDS),
                        preview,
                    )
                }
            }
        }
    };
    let choices = choices(&state).await?;
    Ok(html_with(
        status,
        compose_page(&values, &choices, &errors, &preview),
    ))
}
