//! The OpenAPI document at `/v1/openapi.json` against the running server: every route and method
//! it answers is documented, and every documented one is answered.

use std::collections::BTreeSet;

use crate::harness::{Api, Ctx, on_both_backends};

on_both_backends!(openapi_document_lists_every_route_the_server_answers);

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Paths of DESIGN.md §3 (and the probes of a deployment): the server may answer any of them.
/// The web console under `/ui` serves HTML pages, not the API, and is not in the document.
const KNOWN_PATHS: &[&str] = &[
    "/",
    "/v1",
    "/v1/pod_managers",
    "/v1/podmanagers",
    "/v1/pod_managers/{uuid}",
    "/v1/podmanagers/{uuid}",
    "/v1/nodes",
    "/v1/nodes/{uuid}",
    "/v1/nodes/{uuid}/action",
    "/v1/nodes/manage",
    "/v1/systems",
    "/v1/systems/{id}",
    "/v1/flavors",
    "/v1/flavors/{id}",
    "/v1/devices",
    "/v1/devices/{uuid}",
    "/v1/devices/sync",
    "/v1/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// A concrete path for a template: parameters become ids that exist nowhere.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                uuid::Uuid::new_v4().to_string()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

/// Whether a route answers `method path` (rather than the not-found or wrong-method fallback).
/// Probes that take a body carry an empty JSON object, so nothing is created.
fn answered(api: &Api, method: &str, path: &str) -> bool {
    let reply = if matches!(method, "GET" | "DELETE") {
        api.request(method, path, &[], None)
    } else {
        api.request(
            method,
            path,
            &[("content-type", "application/json")],
            Some("{}"),
        )
    };
    let fallback_not_found = reply.status == 404 && reply.json["detail"] == "no such resource";
    let wrong_method = reply.status == 405;
    assert!(
        reply.status < 500,
        "{method} {path} answered {}: {}",
        reply.status,
        reply.text
    );
    !(fallback_not_found || wrong_method)
}

fn openapi_document_lists_every_route_the_server_answers(ctx: &Ctx) {
    let valence = ctx.server(&[]);
    let document = valence.get("/v1/openapi.json");
    let document = document.expect(200);
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().unwrap();
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(m.to_ascii_lowercase()).is_some())
                .map(|m| ((*m).to_owned(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let is_documented = |method: &str, path: &str| {
        documented
            .iter()
            .any(|(m, template)| m == method && template_matches(template, path))
    };

    // Documented routes are answered.
    for (method, template) in &documented {
        assert!(
            answered(&valence, method, &concrete(template)),
            "{method} {template} is documented but not answered"
        );
    }
    // Answered routes are documented.
    let templates: BTreeSet<&str> = KNOWN_PATHS
        .iter()
        .copied()
        .chain(paths.keys().map(String::as_str))
        .collect();
    let mut undocumented = Vec::new();
    for template in templates {
        let path = concrete(template);
        for method in METHODS {
            if answered(&valence, method, &path) && !is_documented(method, &path) {
                undocumented.push(format!("{method} {template}"));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "answered but missing from the OpenAPI document: {undocumented:?}"
    );

    // Every operation says what it answers, under an operation id of its own.
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method.to_ascii_lowercase()) {
                if let Some(id) = operation["operationId"].as_str() {
                    assert!(
                        operation_ids.insert(id.to_owned()),
                        "operationId {id} used twice ({method} {path})"
                    );
                }
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents no response"
                );
            }
        }
    }
    assert!(
        document["components"]["schemas"]["ErrorBody"].is_object(),
        "no ErrorBody schema"
    );
}
