//! Bad input gets the error body with the right 4xx: unknown paths and methods, unknown and
//! malformed query parameters, malformed JSON, unknown and missing fields, wrong media type,
//! oversized bodies; each naming what is at fault.

use serde_json::json;

use crate::harness::{Ctx, on_both_backends};

on_both_backends!(bad_requests_get_the_error_body_naming_the_fault);

fn bad_requests_get_the_error_body_naming_the_fault(ctx: &Ctx) {
    let valence = ctx.server(&[]);
    let json_type = [("content-type", "application/json")];

    // Paths and methods.
    let unknown = valence.get("/v1/no_such_thing");
    unknown.expect_error(404, "NotFound");
    let node = uuid::Uuid::new_v4().to_string();
    let missing = valence.get(&format!("/v1/nodes/{node}"));
    missing.expect_error(404, "NotFound");
    assert!(missing.detail().contains(&node), "{}", missing.text);
    let podm = valence.get("/v1/pod_managers/not-a-uuid");
    podm.expect_error(404, "NotFound");
    assert!(podm.detail().contains("not-a-uuid"), "{}", podm.text);
    valence
        .delete("/v1/systems")
        .expect_error(405, "MethodNotAllowed");
    valence
        .request("PUT", "/v1/nodes", &json_type, Some("{}"))
        .expect_error(405, "MethodNotAllowed");

    // Query parameters: unknown filters and bad values are named.
    for (path, parameter) in [
        ("/v1/nodes?colour=red", "colour"),
        ("/v1/pod_managers?sort=name", "sort"),
        ("/v1/flavors?size=big", "size"),
        ("/v1/nodes?state=sleeping", "state"),
        ("/v1/nodes?podm_id=nope", "podm_id"),
        ("/v1/nodes?limit=-1", "limit"),
        ("/v1/nodes?limit=0", "limit"),
        ("/v1/nodes?marker=nope", "marker"),
        ("/v1/pod_managers?status=Sleeping", "status"),
        ("/v1/nodes?dry_run=maybe", "dry_run"),
    ] {
        let method = if path.contains("dry_run") {
            "POST"
        } else {
            "GET"
        };
        let reply = valence.request(method, path, &json_type, Some(r#"{"name":"q"}"#));
        reply.expect_error(400, "InvalidQuery");
        assert!(reply.detail().contains(parameter), "{path}: {}", reply.text);
    }

    // Bodies: malformed JSON, unknown fields, missing fields, wrong types, wrong media type.
    for raw in [r#"{"name":"#, "not json", r#"{"name": "x",}"#, ""] {
        let reply = valence.request("POST", "/v1/nodes", &json_type, Some(raw));
        reply.expect_error(400, "MalformedJson");
    }
    let unknown_field = valence.post("/v1/nodes", &json!({"name": "x", "colour": "red"}));
    let body = unknown_field.expect_error(400, "InvalidField");
    assert!(unknown_field.detail().contains("colour"), "{body}");
    let nested = valence.post(
        "/v1/nodes",
        &json!({"name": "x", "properties": {"processor": {"cores": 4}}}),
    );
    nested.expect_error(400, "InvalidField");
    assert!(nested.detail().contains("cores"), "{}", nested.text);
    let wrong_type = valence.post(
        "/v1/nodes",
        &json!({"name": "x", "properties": {"memory": {"capacity_mib": "lots"}}}),
    );
    let body = wrong_type.expect_error(400, "InvalidField");
    assert_eq!(body["field"], "properties.memory.capacity_mib", "{body}");
    let no_name = valence.post("/v1/nodes", &json!({}));
    no_name.expect_error(400, "InvalidField");
    assert!(no_name.detail().contains("name"), "{}", no_name.text);
    let empty_name = valence.post("/v1/nodes", &json!({"name": "  "}));
    empty_name.expect_error(400, "InvalidField");
    assert!(empty_name.detail().contains("name"), "{}", empty_name.text);
    let text = valence.request(
        "POST",
        "/v1/nodes",
        &[("content-type", "text/plain")],
        Some(r#"{"name":"x"}"#),
    );
    text.expect_error(415, "UnsupportedMediaType");
    // One byte over the limit: the server reads the whole body before refusing it, so the
    // client is not cut off while still sending.
    let limit = 256 * 1024;
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(limit + 1 - 11));
    assert_eq!(huge.len(), limit + 1);
    valence
        .request("POST", "/v1/flavors", &json_type, Some(&huge))
        .expect_error(413, "PayloadTooLarge");

    // Flavors: bad requirements named by their path; names unique.
    let tape = valence.post(
        "/v1/flavors",
        &json!({"name": "tape", "properties": {"storage": [{"type": "tape"}]}}),
    );
    tape.expect_error(400, "InvalidField");
    assert!(
        tape.detail().contains("properties.storage[0].type"),
        "{}",
        tape.text
    );
    valence
        .post("/v1/flavors", &json!({"name": "small", "properties": {}}))
        .expect(201);
    let twice = valence.post("/v1/flavors", &json!({"name": "small", "properties": {}}));
    assert_eq!(twice.expect_error(409, "Conflict")["field"], "name");

    // Registration: each bad field named, nothing stored.
    let good_auth = json!([{"type": "basic", "auth_items": {"username": "u", "password": "p"}}]);
    for (body, field) in [
        (json!({"name": "a", "authentication": good_auth}), "url"),
        (
            json!({"name": "a", "url": "ftp://podm.example", "authentication": good_auth}),
            "url",
        ),
        (
            json!({"name": "a", "url": "http://127.0.0.1:1", "authentication": [{"type": "basic", "auth_items": {"username": "u"}}]}),
            "authentication[0].auth_items",
        ),
        (
            json!({"name": "a", "url": "http://127.0.0.1:1", "authentication": [{"type": "digest", "auth_items": {"username": "u", "password": "p"}}]}),
            "authentication[0].type",
        ),
        (
            json!({"name": "a", "url": "http://127.0.0.1:1", "driver": "acme"}),
            "driver",
        ),
        (json!({"name": "", "url": "http://127.0.0.1:1"}), "name"),
        (
            json!({"name": "a", "url": "http://127.0.0.1:1", "password": "p"}),
            "password",
        ),
    ] {
        let reply = valence.post("/v1/pod_managers", &body);
        reply.expect_error(400, "InvalidField");
        assert!(reply.detail().contains(field), "{body}: {}", reply.text);
    }
    assert!(valence.list("/v1/pod_managers").is_empty());

    // The caller's request id is kept when it is plain, replaced when it is not.
    let traced = valence.request("GET", "/v1/nope", &[("x-request-id", "trace-42")], None);
    assert_eq!(
        traced.expect_error(404, "NotFound")["request_id"],
        "trace-42"
    );
    let odd = valence.request("GET", "/v1/nope", &[("x-request-id", "a b<c>")], None);
    assert_ne!(odd.expect_error(404, "NotFound")["request_id"], "a b<c>");
}
