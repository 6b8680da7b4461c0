//! Operating the built server: no secret in its logs even at trace level, JSON logs that carry
//! the request id, and `/metrics` behind tokens with the database pool measured.

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use valence_podm_sim::{Credentials, SimConfig, SimPodm};

use crate::harness::{Server, agent, create_token, valence_bin, wait_for};

/// The PODM password; it must never reach a log line.
const PASSWORD: &str = "pw-Logs-4vR9-never-logged";

fn generate_key() -> String {
    let out = Command::new(valence_bin())
        .args(["secrets", "generate-key"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A simulated PODM served by a runtime of its own while the test blocks on HTTP calls.
fn start_sim() -> (tokio::runtime::Runtime, SimPodm) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(valence_podm_sim::start(SimConfig {
            name: "rack".into(),
            systems: 4,
            seed: 21,
            credentials: Some(Credentials::new("admin", PASSWORD)),
            ..SimConfig::default()
        }))
        .unwrap();
    (runtime, sim)
}

/// Sends `method path` with `token` and an optional JSON body; status and JSON answer.
fn call(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let http = agent();
    let url = server.url(path);
    let auth = format!("Bearer {token}");
    let mut response = match (method, body) {
        ("GET", _) => http.get(&url).header("Authorization", &auth).call(),
        ("DELETE", _) => http.delete(&url).header("Authorization", &auth).call(),
        ("POST", Some(b)) => http.post(&url).header("Authorization", &auth).send_json(&b),
        ("PATCH", Some(b)) => http
            .patch(&url)
            .header("Authorization", &auth)
            .send_json(&b),
        other => panic!("unsupported call {other:?}"),
    }
    .unwrap();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_json()
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

fn authentication(password: &str) -> Value {
    json!([{"type": "basic", "auth_items": {"username": "admin", "password": password}}])
}

#[test]
fn no_secret_reaches_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let admin = create_token(dir.path(), "ops", "admin");
    let key = generate_key();
    let tokens = dir.path().join("tokens.toml");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (_runtime, sim) = start_sim();
    let server = Server::start_with(
        dir,
        &["--token-file", tokens.to_str().unwrap()],
        &[("RUST_LOG", "trace"), ("VALENCE_SECRET_KEY", &key)],
        Some(Stdio::from(log)),
    );

    let (status, podm) = call(
        &server,
        &admin,
        "POST",
        "/v1/pod_managers",
        Some(
            json!({"name": "rack", "url": sim.base_url(), "authentication": authentication(PASSWORD)}),
        ),
    );
    assert_eq!(status, 201, "{podm}");
    let podm_id = podm["uuid"].as_str().unwrap().to_owned();
    let (status, node) = call(
        &server,
        &admin,
        "POST",
        "/v1/nodes",
        Some(json!({"name": "web-1"})),
    );
    assert_eq!(status, 202, "{node}");
    let node_id = node["uuid"].as_str().unwrap().to_owned();
    wait_for("the node to be ready", Duration::from_secs(30), || {
        let (_, node) = call(
            &server,
            &admin,
            "GET",
            &format!("/v1/nodes/{node_id}"),
            None,
        );
        (node["state"] == "ready").then_some(())
    });
    // Credentials sent again (re-sealed, the PODM probed with them), a refused token, a scrape.
    let (status, _) = call(
        &server,
        &admin,
        "PATCH",
        &format!("/v1/pod_managers/{podm_id}"),
        Some(json!({"authentication": authentication(PASSWORD)})),
    );
    assert_eq!(status, 200);
    let wrong_token = "vlc_0000wrongtoken0000";
    let (status, _) = call(&server, wrong_token, "GET", "/v1/nodes", None);
    assert_eq!(status, 401);
    let (status, _) = call(&server, &admin, "GET", "/v1/systems?refresh=true", None);
    assert_eq!(status, 200);
    let (status, _) = call(
        &server,
        &admin,
        "DELETE",
        &format!("/v1/nodes/{node_id}"),
        None,
    );
    assert_eq!(status, 204);

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        text.contains("TRACE") && text.contains(&node_id),
        "the server logged at trace level and about the compose"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    for (what, secret) in [
        ("the PODM password", PASSWORD),
        ("the Basic credentials", basic.as_str()),
        ("the admin token", admin.as_str()),
        ("a refused token", wrong_token),
        ("the secret key", key.as_str()),
    ] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{what} appears in the log: {leaks:#?}");
    }
}

#[test]
fn json_logs_are_one_object_per_line_and_request_lines_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (_runtime, sim) = start_sim();
    let server = Server::start_with(
        dir,
        &["--log-format", "json"],
        &[("RUST_LOG", "debug")],
        Some(Stdio::from(log)),
    );
    let http = agent();
    let body =
        json!({"name": "rack", "url": sim.base_url(), "authentication": authentication(PASSWORD)});
    let registered = http
        .post(&server.url("/v1/pod_managers"))
        .header("X-Request-Id", "ops-register-1")
        .send_json(&body)
        .unwrap();
    assert_eq!(registered.status().as_u16(), 201);
    let missing = http.get(&server.url("/v1/nowhere")).call().unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let healthz = http.get(&server.url("/healthz")).call().unwrap();
    assert_eq!(healthz.status().as_u16(), 200);

    // The last request's line is written after its answer: wait for it.
    let lines: Vec<Value> = wait_for("the log of /healthz", Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&log_path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<Value>(l)
                    .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {l}"))
            })
            .collect();
        let answered = lines
            .iter()
            .filter(|l| l["message"] == "request answered")
            .count();
        (answered >= 3).then_some(lines)
    });
    for line in &lines {
        assert!(line.is_object(), "{line}");
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    // The span list of a line inside a request holds the request span, with its id.
    let request_span = |line: &Value| -> Option<Value> {
        line["spans"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == "request")
            .cloned()
    };
    let in_request: Vec<(&Value, Value)> = lines
        .iter()
        .filter_map(|l| request_span(l).map(|span| (l, span)))
        .collect();
    assert!(in_request.len() >= 4, "{lines:#?}");
    for (line, span) in &in_request {
        assert!(
            span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
    }
    let registration: Vec<&Value> = in_request
        .iter()
        .filter(|(_, span)| span["request_id"] == "ops-register-1")
        .map(|(line, _)| *line)
        .collect();
    assert!(
        registration
            .iter()
            .any(|l| l["message"] == "pod manager registered"),
        "the registration's own log lines carry the caller's request id: {registration:#?}"
    );
    let (not_found, span) = in_request
        .iter()
        .find(|(l, _)| l["message"] == "request answered" && l["status"] == 404)
        .unwrap();
    assert_eq!(span["path"], "/v1/nowhere");
    assert!(not_found["elapsed_ms"].is_number(), "{not_found}");
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(!text.contains(PASSWORD));
}

#[test]
fn metrics_need_a_token_and_measure_the_database_pool() {
    let dir = tempfile::tempdir().unwrap();
    let reader = create_token(dir.path(), "prometheus", "reader");
    let tokens = dir.path().join("tokens.toml");
    let server = Server::start_in(dir, &["--token-file", tokens.to_str().unwrap()]);
    let http = agent();

    let anonymous = http.get(&server.url("/metrics")).call().unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let flavors = http
        .get(&server.url("/v1/flavors"))
        .header("Authorization", &format!("Bearer {reader}"))
        .call()
        .unwrap();
    assert_eq!(flavors.status().as_u16(), 200);
    let mut scraped = http
        .get(&server.url("/metrics"))
        .header("Authorization", &format!("Bearer {reader}"))
        .call()
        .unwrap();
    assert_eq!(scraped.status().as_u16(), 200);
    let text = scraped.body_mut().read_to_string().unwrap();
    let value = |series: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    };
    assert_eq!(
        value(r#"valence_http_requests_total{route="/metrics",method="GET",status="401"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(r#"valence_http_requests_total{route="/v1/flavors",method="GET",status="200"}"#),
        Some(1.0)
    );
    // The server's pool reports to the metrics: the flavor list held a connection.
    assert!(
        value("valence_db_query_duration_seconds_count").unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    assert!(value("valence_db_pool_wait_seconds_count").unwrap_or(0.0) >= 1.0);
    assert_eq!(value("valence_db_pool_timeouts_total"), Some(0.0));
    assert_eq!(value("valence_db_pool_max_connections"), Some(10.0));
    assert!(text.contains("valence_build_info{version="), "{text}");
}
