//! Flavors: named requirement sets; list, create, delete. Creation and deletion go through the
//! API's own handlers, so the console validates exactly as the API does.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use valence_api::AppState;
use valence_api::extract::ValidJson;
use valence_client::types::{self, Flavor};
use valence_pod_manager_api::{
    MemoryRequirement, ProcessorRequirement, Requirements, StorageRequirement,
};

use crate::error::WebError;
use crate::form::{self, FormErrors, HtmlForm, HtmlQuery};
use crate::layout::{Notice, Page, Section};
use crate::pages::{NoticeQuery, html, html_with, path_uuid, see_other};
use crate::render::{self, InputOpts};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct FlavorForm {
    name: Option<String>,
    description: Option<String>,
    cores: Option<String>,
    memory_gib: Option<String>,
    storage_gib: Option<String>,
    drive_type: Option<String>,
}

const FLAVOR_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("properties.processor", "cores"),
    ("properties.memory", "memory_gib"),
    ("properties.storage", "storage_gib"),
];

async fn all_flavors(state: &AppState) -> Result<Vec<Flavor>, WebError> {
    let rows = state
        .db
        .run(|conn| {
            valence_db::flavors::list(conn, &Default::default(), valence_db::Page::default())
        })
        .await
        .map_err(valence_api::ApiError::from)?;
    Ok(rows
        .into_iter()
        .map(valence_api::convert::flavor)
        .collect::<Result<Vec<_>, _>>()?)
}

fn flavors_page(
    flavors: &[Flavor],
    values: &FlavorForm,
    errors: &FormErrors,
    notice: Option<Notice>,
) -> Markup {
    let drive_types = vec![
        (String::new(), "Any".to_owned(), false),
        ("SSD".to_owned(), "SSD".to_owned(), false),
        ("HDD".to_owned(), "HDD".to_owned(), false),
    ];
    let number = InputOpts {
        input_type: "number",
        min: Some("1"),
        inputmode: Some("numeric"),
        ..Default::default()
    };
    let body = html! {
        h1 { "Flavors" }
        p { "A flavor names what a node needs; the compose form offers them." }
        @if flavors.is_empty() {
            p.empty { "No flavor yet." }
        } @else {
            div.table-wrap {
                table id="flavors-table" {
                    caption.visually-hidden { "Flavors" }
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Requirements" }
                            th scope="col" { "Description" }
                            th scope="col" { "Actions" }
                        }
                    }
                    tbody {
                        @for f in flavors {
                            tr {
                                th scope="row" { (f.name) }
                                td { (render::requirements(&f.properties)) }
                                td { (f.description.as_deref().unwrap_or("")) }
                                td {
                                    form.inline method="post" action=(format!("/ui/flavors/{}/delete", f.uuid)) {
                                        button.danger type="submit" aria-label=(format!("Delete flavor {}", f.name)) { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="create-title" {
            h2 id="create-title" { "Create a flavor" }
            (render::error_summary(errors))
            form.card method="post" action="/ui/flavors" novalidate {
                (render::input("name", "Name", values.name.as_deref(), errors, InputOpts { required: true, autocomplete: Some("off"), ..Default::default() }))
                (render::input("description", "Description", values.description.as_deref(), errors, InputOpts::default()))
                div.field-row {
                    (render::input("cores", "Cores", values.cores.as_deref(), errors, number))
                    (render::input("memory_gib", "Memory (GiB)", values.memory_gib.as_deref(), errors, number))
                    (render::input("storage_gib", "Local drive (GiB)", values.storage_gib.as_deref(), errors, number))
                    (render::select("drive_type", "Drive type", &drive_types, values.drive_type.as_deref(), errors, None))
                }
                div.buttons { button type="submit" { "Create flavor" } }
            }
        }
    };
    Page::new("Flavors", Section::Flavors, body)
        .notice(notice)
        .render()
}

/// `GET /ui/flavors`.
pub async fn list(
    State(state): State<AppState>,
    HtmlQuery(q): HtmlQuery<NoticeQuery>,
) -> Result<Response, WebError> {
    let flavors = all_flavors(&state).await?;
    Ok(html(flavors_page(
        &flavors,
        &FlavorForm::default(),
        &FormErrors::default(),
        q.notice(),
    )))
}

fn flavor_body(values: &FlavorForm) -> Result<types::FlavorCreate, FormErrors> {
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
    if form::text(&values.name).is_none() {
        errors.add("name", "give the flavor a name");
    }
    if !errors.is_empty() {
        return Err(errors.with_summary());
    }
    Ok(types::FlavorCreate {
        name: values.name.clone().unwrap_or_default(),
        description: form::text(&values.description),
        properties: Requirements {
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
                    drive_type,
                }]
            } else {
                Vec::new()
            },
        },
    })
}

/// `POST /ui/flavors`.
pub async fn create(
    State(state): State<AppState>,
    HtmlForm(values): HtmlForm<FlavorForm>,
) -> Result<Response, WebError> {
    let outcome = match flavor_body(&values) {
        Ok(body) => valence_api::routes::flavors::create(State(state.clone()), ValidJson(body))
            .await
            .map(drop)
            .map_err(|err| (err.status(), FormErrors::from_api(&err, FLAVOR_FIELDS))),
        Err(errors) => Err((StatusCode::BAD_REQUEST, errors)),
    };
    match outcome {
        Ok(()) => Ok(see_other("/ui/flavors", Notice::FlavorCreated)),
        Err((status, errors)) => {
            let flavors = all_flavors(&state).await?;
            Ok(html_with(
                status,
                flavors_page(&flavors, &values, &errors, None),
            ))
        }
    }
}

/// `POST /ui/flavors/{uuid}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let uuid = path_uuid("flavors", &raw)?;
    valence_api::routes::flavors::delete(State(state), axum::extract::Path(uuid.to_string()))
        .await?;
    Ok(see_other("/ui/flavors", Notice::FlavorDeleted))
}
