//! Property tests of request parsing: arbitrary JSON bodies and query strings sent through the
//! whole router (in process, on a temporary SQLite file). Whatever arrives, the server must not
//! panic nor answer 5xx, and every rejection must be a 4xx error body whose `detail` names the
//! field (or query parameter) at fault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use tower::ServiceExt;
use valence_api::{AppState, Settings};

/// Cases per property: enough to reach every field with several kinds of values, fast enough
/// for the workspace test run (each case is one in-process request).
const CASES: u32 = 300;

struct App {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    body: Value,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("valence.db").display());
        let db = valence_db::Db::connect(&url, &valence_db::DbOptions::default()).unwrap();
        // Registrations that get past validation probe their URL: keep that short.
        let settings = Settings {
            probe_timeout: Duration::from_millis(300),
            podm_connect_timeout: Duration::from_millis(300),
            podm_request_timeout: Duration::from_millis(500),
            ..Settings::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let router = runtime.block_on(async { valence_api::router(AppState::new(db, settings)) });
        App {
            runtime,
            router,
            _dir: dir,
        }
    }

    fn send(&self, method: Method, uri: &str, body: Vec<u8>) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            Reply {
                status,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            }
        })
    }
}

// ------------------------------------------------------------------ generators

/// Keys that reach the fields of every request type, and some that reach none.
const KEYS: &[&str] = &[
    "name",
    "url",
    "driver",
    "authentication",
    "type",
    "auth_items",
    "username",
    "password",
    "description",
    "location",
    "tls_verify",
    "ca_cert",
    "state",
    "podm_id",
    "flavor_id",
    "properties",
    "processor",
    "total_cores",
    "model",
    "instruction_set",
    "memory",
    "capacity_mib",
    "storage",
    "capacity_gib",
    "Reset",
    "Type",
    "Boot",
    "Enabled",
    "Target",
    "Attach",
    "Detach",
    "device_id",
    "node_index",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{1,10}",
        1 => any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_owned()),
        Just("8".to_owned()),
        Just("-1".to_owned()),
        Just("http://127.0.0.1:9".to_owned()),
        Just("6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11".to_owned()),
        Just("-----BEGIN CERTIFICATE-----".to_owned()),
        Just("basic".to_owned()),
        Just("SSD".to_owned()),
        "[a-z0-9:/._-]{0,20}",
        any::<String>(),
        "x{256,300}",
    ]
}

/// Any JSON value, leaning towards the keys and shapes the API reads.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(json!(0)),
        Just(json!(u64::MAX)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One change to a valid body: a field (at any depth) replaced, removed, or given an unknown
/// sibling.
#[derive(Debug, Clone)]
enum Change {
    Replace(Index, Value),
    Remove(Index),
    AddSibling(Index, String, Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (any::<Index>(), json_value()).prop_map(|(i, v)| Change::Replace(i, v)),
        1 => any::<Index>().prop_map(Change::Remove),
        1 => (any::<Index>(), key(), json_value()).prop_map(|(i, k, v)| Change::AddSibling(i, k, v)),
    ]
}

/// A step of a path inside a JSON document.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Item(usize),
}

/// Every path of `value` below the root.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(Step::Item(i));
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The path as the API writes it: `authentication[0].auth_items.password`.
fn render(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(k) if text.is_empty() => text.push_str(k),
            Step::Key(k) => {
                text.push('.');
                text.push_str(k);
            }
            Step::Item(i) => text.push_str(&format!("[{i}]")),
        }
    }
    text
}

fn parent_mut<'v>(root: &'v mut Value, path: &[Step]) -> &'v mut Value {
    path[..path.len() - 1]
        .iter()
        .fold(root, |v, step| match step {
            Step::Key(k) => &mut v[k.as_str()],
            Step::Item(i) => &mut v[*i],
        })
}

/// Applies `change` to `valid`; returns the body and the path of the field it touched.
fn apply(valid: &Value, change: &Change) -> (Value, Vec<Step>) {
    let mut all = Vec::new();
    paths(valid, &mut Vec::new(), &mut all);
    let mut body = valid.clone();
    let pick = |i: &Index| all[i.index(all.len())].clone();
    match change {
        Change::Replace(i, value) => {
            let path = pick(i);
            let parent = parent_mut(&mut body, &path);
            match path.last().unwrap() {
                Step::Key(k) => parent[k.as_str()] = value.clone(),
                Step::Item(n) => parent[*n] = value.clone(),
            }
            (body, path)
        }
        Change::Remove(i) => {
            let path = pick(i);
            let parent = parent_mut(&mut body, &path);
            match (path.last().unwrap(), parent) {
                (Step::Key(k), Value::Object(map)) => {
                    map.remove(k);
                }
                (Step::Item(n), Value::Array(items)) => {
                    items.remove(*n);
                }
                _ => unreachable!("paths follow the document"),
            }
            (body, path)
        }
        Change::AddSibling(i, key, value) => {
            let mut path = pick(i);
            // The new member goes into the object holding the picked field (the root when the
            // field's parent is an array, whose items cannot have siblings by name).
            path.pop();
            let target = path.iter().fold(&mut body, |v, step| match step {
                Step::Key(k) => &mut v[k.as_str()],
                Step::Item(n) => &mut v[*n],
            });
            let Value::Object(map) = target else {
                return (body, path);
            };
            if map.contains_key(key) {
                return (body, path);
            }
            map.insert(key.clone(), value.clone());
            path.push(Step::Key(key.clone()));
            (body, path)
        }
    }
}

// ------------------------------------------------------------------ properties

fn detail(reply: &Reply) -> &str {
    reply.body["detail"].as_str().unwrap_or_default()
}

/// The answer of the server to input it may reject: no 5xx, and a rejection is the error body.
fn check_not_a_server_error(what: &str, reply: &Reply) -> Result<(), TestCaseError> {
    prop_assert!(
        reply.status < 500,
        "{what}: answered {}: {}",
        reply.status,
        reply.body
    );
    if reply.status >= 400 {
        for member in ["request_id", "code", "status", "title", "detail"] {
            prop_assert!(
                !reply.body[member].is_null(),
                "{what}: error body without {member}: {}",
                reply.body
            );
        }
        prop_assert_eq!(reply.body["status"].as_u64(), Some(u64::from(reply.status)));
    }
    Ok(())
}

/// A 400 after changing the field at `path` of a valid body names that field: its full path, or
/// its parent's path together with its own name (a missing member is reported at its parent).
///
/// Removing or adding a member at the top level may make the body as a whole wrong (an action
/// is one member exactly): then naming the body is naming the field's parent.
fn check_names_the_field(
    what: &str,
    reply: &Reply,
    change: &Change,
    path: &[Step],
) -> Result<(), TestCaseError> {
    check_not_a_server_error(what, reply)?;
    if reply.status != 400 {
        return Ok(());
    }
    let detail = detail(reply);
    let full = render(path);
    let leaf = path.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(k.as_str()),
        Step::Item(_) => None,
    });
    let parent = render(&path[..path.len().saturating_sub(1)]);
    let body_at_fault =
        path.len() == 1 && !matches!(change, Change::Replace(..)) && detail.starts_with("body:");
    let named = body_at_fault
        || detail.contains(&full)
        || leaf.is_some_and(|leaf| {
            detail.contains(leaf) && (parent.is_empty() || detail.contains(&parent))
        });
    prop_assert!(
        named,
        "{what}: the rejection of a change at {full} does not name it: {detail}"
    );
    Ok(())
}

/// A 400 for an arbitrary body says the body as a whole is wrong, or names one of its members.
fn check_names_a_member(what: &str, reply: &Reply, sent: &Value) -> Result<(), TestCaseError> {
    check_not_a_server_error(what, reply)?;
    if reply.status != 400 {
        return Ok(());
    }
    let detail = detail(reply);
    let whole = ["body:", "malformed JSON", "the request body is empty"]
        .iter()
        .any(|p| detail.starts_with(p));
    let member = sent.as_object().is_some_and(|map| {
        map.keys()
            .any(|k| !k.is_empty() && detail.contains(k.as_str()))
    });
    prop_assert!(
        whole || member,
        "{what}: the rejection of {sent} names no member: {detail}"
    );
    Ok(())
}

fn requirements() -> Value {
    json!({
        "processor": {"total_cores": 2, "model": "Xeon", "instruction_set": "x86-64"},
        "memory": {"capacity_mib": 1024, "type": "DDR4"},
        "storage": [{"capacity_gib": 10, "type": "SSD"}]
    })
}

/// Each endpoint that reads a JSON body, with a valid body for it.
fn endpoints() -> Vec<(Method, String, Value)> {
    let nowhere = "6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11";
    vec![
        (
            Method::POST,
            "/v1/pod_managers".into(),
            json!({
                "name": "podm",
                // Nothing listens on the discard port: the probe fails at once.
                "url": "http://127.0.0.1:9",
                "driver": "rsd",
                "authentication": [{"type": "basic", "auth_items": {"username": "u", "password": "p"}}],
                "description": "d",
                "location": "l",
                "tls_verify": true,
                "ca_cert": ""
            }),
        ),
        (
            Method::PATCH,
            format!("/v1/pod_managers/{nowhere}"),
            json!({
                "name": "podm",
                "url": "http://127.0.0.1:9",
                "authentication": [{"type": "session", "auth_items": {"username": "u", "password": "p"}}],
                "description": "d",
                "location": "l",
                "state": "cordoned",
                "tls_verify": false
            }),
        ),
        (
            Method::POST,
            "/v1/nodes?dry_run=true".into(),
            json!({"name": "n", "description": "d", "properties": requirements()}),
        ),
        (
            Method::POST,
            "/v1/flavors".into(),
            json!({"name": "f", "description": "d", "properties": requirements()}),
        ),
        (
            Method::PATCH,
            format!("/v1/flavors/{nowhere}"),
            json!({"name": "f", "description": "d", "properties": requirements()}),
        ),
        (
            Method::POST,
            format!("/v1/nodes/{nowhere}/action"),
            json!({"Reset": {"Type": "ForceRestart"}}),
        ),
        (
            Method::POST,
            format!("/v1/nodes/{nowhere}/action"),
            json!({"Boot": {"Enabled": "Once", "Target": "Pxe"}}),
        ),
        (
            Method::POST,
            format!("/v1/nodes/{nowhere}/action"),
            json!({"Attach": {"device_id": nowhere}}),
        ),
    ]
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn a_changed_field_of_a_valid_body_is_accepted_or_named() {
    let app = App::new();
    let endpoints = endpoints();
    let strategy = (any::<Index>(), change());
    runner()
        .run(&strategy, |(which, change)| {
            let (method, uri, valid) = &endpoints[which.index(endpoints.len())];
            let (body, path) = apply(valid, &change);
            let reply = app.send(method.clone(), uri, serde_json::to_vec(&body).unwrap());
            check_names_the_field(&format!("{method} {uri} {body}"), &reply, &change, &path)
        })
        .unwrap();
}

#[test]
fn arbitrary_bodies_are_rejected_with_a_4xx_naming_the_body_or_a_member() {
    let app = App::new();
    let endpoints = endpoints();
    let strategy = (any::<Index>(), json_value());
    runner()
        .run(&strategy, |(which, body)| {
            let (method, uri, _) = &endpoints[which.index(endpoints.len())];
            let reply = app.send(method.clone(), uri, serde_json::to_vec(&body).unwrap());
            check_names_a_member(&format!("{method} {uri} {body}"), &reply, &body)
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_as_a_body_are_a_4xx() {
    let app = App::new();
    let endpoints = endpoints();
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        // Valid JSON cut short, or with a stray byte in it.
        (json_value(), any::<Index>(), any::<u8>()).prop_map(|(v, cut, byte)| {
            let mut text = serde_json::to_vec(&v).unwrap();
            let at = cut.index(text.len() + 1);
            if at % 2 == 0 {
                text.truncate(at);
            } else {
                text.insert(at.min(text.len()), byte);
            }
            text
        }),
    ];
    runner()
        .run(&(any::<Index>(), bytes), |(which, bytes)| {
            let (method, uri, _) = &endpoints[which.index(endpoints.len())];
            let reply = app.send(method.clone(), uri, bytes.clone());
            let what = format!("{method} {uri} {:?}", String::from_utf8_lossy(&bytes));
            check_not_a_server_error(&what, &reply)?;
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                check_names_a_member(&what, &reply, &value)?;
            } else {
                prop_assert_eq!(reply.status, 400, "{}: {}", what, reply.body);
                prop_assert_eq!(reply.body["code"].as_str(), Some("MalformedJson"));
            }
            Ok(())
        })
        .unwrap();
}

/// Query parameters of each list (and the query-taking actions), with the values they take.
const QUERY_KEYS: &[&str] = &[
    "podm_id",
    "state",
    "status",
    "name",
    "managed_by",
    "flavor_id",
    "limit",
    "marker",
    "refresh",
    "free",
    "min_cores",
    "min_memory_mib",
    "node_id",
    "type",
    "dry_run",
    "release",
    "verify",
];

fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        4 => proptest::sample::select(QUERY_KEYS).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
        1 => any::<String>(),
    ];
    let value = prop_oneof![
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("0".to_owned()),
        Just("5".to_owned()),
        Just("-3".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("ready".to_owned()),
        Just("Online".to_owned()),
        Just("6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11".to_owned()),
        any::<String>(),
    ];
    proptest::collection::vec((name, value), 0..4)
}

#[test]
fn arbitrary_query_strings_are_accepted_or_name_the_parameter() {
    let app = App::new();
    let routes: &[(Method, &str)] = &[
        (Method::GET, "/v1/nodes"),
        (Method::GET, "/v1/systems"),
        (Method::GET, "/v1/pod_managers"),
        (Method::GET, "/v1/podmanagers"),
        (Method::GET, "/v1/flavors"),
        (Method::GET, "/v1/devices"),
        (
            Method::GET,
            "/v1/pod_managers/6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11",
        ),
        (
            Method::DELETE,
            "/v1/pod_managers/6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11",
        ),
        (Method::POST, "/v1/devices/sync"),
    ];
    runner()
        .run(&(any::<Index>(), query()), |(which, pairs)| {
            let (method, path) = &routes[which.index(routes.len())];
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            let uri = format!("{path}?{encoded}");
            let reply = app.send(method.clone(), &uri, Vec::new());
            let what = format!("{method} {uri}");
            check_not_a_server_error(&what, &reply)?;
            if reply.status == 400 {
                prop_assert_eq!(reply.body["code"].as_str(), Some("InvalidQuery"));
                let detail = detail(&reply);
                // An empty name is named as such: "unknown field ``".
                prop_assert!(
                    pairs.iter().any(|(k, _)| {
                        detail.contains(&format!("`{k}`"))
                            || (!k.is_empty() && detail.contains(k.as_str()))
                    }),
                    "{}: the rejection names no parameter given: {}",
                    what,
                    detail
                );
            }
            Ok(())
        })
        .unwrap();
}
