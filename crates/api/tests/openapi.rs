//! The served OpenAPI document is usable by generators and fuzzers: every operation has its own
//! `operationId` (clients and link resolution go by it), and the statuses a route can answer
//! because of a PODM are documented.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

fn document() -> serde_json::Value {
    serde_json::to_value(valence_api::openapi()).unwrap()
}

#[test]
fn every_operation_has_a_unique_operation_id() {
    let doc = document();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let here = format!("{} {path}", method.to_uppercase());
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{here} has no operationId"))
                .to_owned();
            if let Some(other) = seen.insert(id.clone(), here.clone()) {
                panic!("operationId {id:?} is used by {other} and {here}");
            }
        }
    }
}

#[test]
fn routes_that_call_one_podm_document_its_failures() {
    let doc = document();
    for (path, method) in [
        ("/v1/nodes/{uuid}/action", "post"),
        ("/v1/nodes/manage", "post"),
        ("/v1/nodes/{uuid}", "delete"),
        ("/v1/systems/{id}", "get"),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(
            responses.get("502").is_some(),
            "{method} {path} does not document 502"
        );
    }
    for (path, method) in [
        ("/v1/nodes/{uuid}/action", "post"),
        ("/v1/nodes/manage", "post"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"].get("504").is_some(),
            "{method} {path} does not document 504"
        );
    }
}
