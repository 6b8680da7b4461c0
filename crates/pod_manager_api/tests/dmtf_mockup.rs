//! The generic Redfish driver against the DMTF `public-composability` mockup served over
//! loopback the way DMTF's mockup server does (GET of `<path>/index.json`, `$expand` honoured on
//! collections), plus POST/DELETE of composed systems, as a third-party composition service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use valence_pod_manager_api::{
    ComposeObserver, ComposeRequest, ComposedNodeState, ComposedNodeSummary, Driver, PodManager,
    PodmConfig, PodmError, connect,
};

fn mockup_dir() -> PathBuf {
    valence_fixtures::path("dmtf/public-composability")
}

#[derive(Default)]
struct Mockup {
    honour_expand: bool,
    /// Every request as `METHOD /path?query`.
    log: Mutex<Vec<String>>,
    /// Bodies of POSTs and PATCHes by path.
    writes: Mutex<Vec<(String, String, Value)>>,
    /// Systems composed through POST, by path.
    composed: Mutex<BTreeMap<String, Value>>,
}

impl Mockup {
    fn file(&self, path: &str) -> Option<Value> {
        if let Some(v) = self.composed.lock().unwrap().get(path) {
            return Some(v.clone());
        }
        let rel = path.trim_start_matches("/redfish/v1").trim_matches('/');
        let file = mockup_dir().join(rel).join("index.json");
        let mut doc: Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
        if path == "/redfish/v1/Systems" {
            let members = doc["Members"].as_array_mut().unwrap();
            for uri in self.composed.lock().unwrap().keys() {
                members.push(json!({ "@odata.id": uri }));
            }
        }
        Some(doc)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn not_found(path: &str) -> Response {
    let body = json!({"error": {"code": "Base.1.8.ResourceMissingAtURI", "message": format!("{path} not found")}});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn handle(State(m): State<Arc<Mockup>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    m.log.lock().unwrap().push(format!(
        "{method} {path}{}",
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    ));
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match method {
        Method::GET => {
            let Some(mut doc) = m.file(&path) else {
                return not_found(&path);
            };
            if m.honour_expand
                && query.contains("$expand")
                && let Some(members) = doc.get_mut("Members").and_then(Value::as_array_mut)
            {
                for member in members.iter_mut() {
                    let uri = member["@odata.id"].as_str().unwrap().to_owned();
                    if let Some(full) = m.file(&uri) {
                        *member = full;
                    }
                }
            }
            axum::Json(doc).into_response()
        }
        Method::POST if path == "/redfish/v1/Systems" => {
            let n = m.composed.lock().unwrap().len() + 1;
            let uri = format!("/redfish/v1/Systems/Valence{n}");
            let system = json!({
                "@odata.id": uri, "Id": format!("Valence{n}"), "Name": body["Name"],
                "Description": body["Description"], "SystemType": "Composed", "PowerState": "Off",
                "Links": body["Links"],
            });
            m.composed.lock().unwrap().insert(uri.clone(), system);
            m.writes.lock().unwrap().push(("POST".into(), path, body));
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, uri.parse().unwrap());
            (StatusCode::CREATED, headers).into_response()
        }
        Method::POST | Method::PATCH => {
            if m.file(&path).is_none() && !path.contains("/Actions/") {
                return not_found(&path);
            }
            m.writes
                .lock()
                .unwrap()
                .push((method.to_string(), path, body));
            StatusCode::NO_CONTENT.into_response()
        }
        Method::DELETE => match m.composed.lock().unwrap().remove(&path) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        },
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

async fn serve(honour_expand: bool) -> (Arc<Mockup>, Arc<dyn PodManager>) {
    serve_with(
        honour_expand,
        PodmConfig::new("dmtf-1", "http://unused").details_ttl,
    )
    .await
}

/// As [`serve`], reusing hardware details for `details_ttl` (zero: never).
async fn serve_with(
    honour_expand: bool,
    details_ttl: std::time::Duration,
) -> (Arc<Mockup>, Arc<dyn PodManager>) {
    let mockup = Arc::new(Mockup {
        honour_expand,
        ..Mockup::default()
    });
    let app = Router::new().fallback(handle).with_state(mockup.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = PodmConfig::new("dmtf-1", format!("http://{addr}/redfish/v1"));
    config.cleanup_timeout = std::time::Duration::from_secs(2);
    config.details_ttl = details_ttl;
    (mockup, connect(&config).unwrap())
}

#[derive(Default)]
struct Recorder {
    fail_on_allocated: bool,
    steps: Mutex<Vec<String>>,
}

#[async_trait]
impl ComposeObserver for Recorder {
    async fn allocated(&self, node: &ComposedNodeSummary) -> Result<(), PodmError> {
        self.steps
            .lock()
            .unwrap()
            .push(format!("allocated {}", node.resource_uri));
        if self.fail_on_allocated {
            return Err(PodmError::Rejected {
                url: "db".into(),
                status: 500,
                message_id: None,
                messages: vec!["database gone".into()],
            });
        }
        Ok(())
    }
    async fn assembling(&self, node: &ComposedNodeSummary) -> Result<(), PodmError> {
        self.steps
            .lock()
            .unwrap()
            .push(format!("assembling {}", node.resource_uri));
        Ok(())
    }
}

#[tokio::test]
async fn probe_detects_a_redfish_service_that_can_compose() {
    let (_, podm) = serve(true).await;
    let probe = podm.probe().await.unwrap();
    assert_eq!(probe.driver, Driver::Redfish);
    assert!(probe.capabilities.compose);
    assert!(probe.capabilities.sessions);
    assert!(probe.capabilities.expand);
    assert!(!probe.capabilities.attach_detach);
    assert_eq!(probe.redfish_version.as_deref(), Some("1.15.0"));
}

#[tokio::test]
async fn systems_are_summarised_with_a_known_number_of_requests() {
    let (mockup, podm) = serve(true).await;
    let systems = podm.list_systems().await.unwrap();
    assert_eq!(
        systems.len(),
        5,
        "all listed members, whatever Members@odata.count says"
    );
    let composed = systems
        .iter()
        .find(|s| s.system_id == "ComposedSystem")
        .unwrap();
    assert_eq!(composed.total_cores, 16);
    assert_eq!(composed.processor_count, 2);
    assert_eq!(
        composed.memory_mib,
        4 * 8192,
        "no MemorySummary: modules summed"
    );
    assert_eq!(composed.memory_type.as_deref(), Some("DDR4"));
    assert_eq!(composed.instruction_set.as_deref(), Some("x86-64"));
    assert_eq!(composed.drives.len(), 2);
    assert_eq!(composed.drives[0].capacity_gib, 256);
    assert_eq!(composed.mac_addresses.len(), 1);
    assert_eq!(
        composed.composed_node.as_deref(),
        Some("/redfish/v1/Systems/ComposedSystem")
    );
    let physical = systems
        .iter()
        .find(|s| s.system_id == "SystemPreResourceBlock")
        .unwrap();
    assert!(physical.is_free());
    assert!(physical.total_cores > 0);

    // Read again: the hardware details are reused, only the system document is read.
    let before = mockup.requests().len();
    let again = podm.get_system("ComposedSystem").await.unwrap();
    assert_eq!(&again, composed);
    let requests = &mockup.requests()[before..];
    let systems_read = requests.iter().filter(|r| r.contains("/Systems/")).count();
    assert_eq!(systems_read, 1, "{requests:#?}");

    // Without reuse, one system alone: 1 system + 4 expanded collections + one per drive.
    let (mockup, podm) = serve_with(true, std::time::Duration::ZERO).await;
    podm.list_systems().await.unwrap();
    let before = mockup.requests().len();
    let one = podm.get_system("ComposedSystem").await.unwrap();
    assert_eq!(&one, composed);
    let requests = &mockup.requests()[before..];
    assert_eq!(requests.len(), 1 + 4 + 2, "{requests:#?}");
    assert!(
        requests.iter().filter(|r| r.contains("$expand=.")).count() == 4,
        "{requests:#?}"
    );
}

#[tokio::test]
async fn a_service_that_ignores_expand_is_read_member_by_member() {
    let (_, expanded) = serve(true).await;
    let (mockup, plain) = serve(false).await;
    let a = expanded.get_system("ComposedSystem").await.unwrap();
    let b = plain.get_system("ComposedSystem").await.unwrap();
    assert_eq!(a, b);
    assert!(
        mockup
            .requests()
            .iter()
            .any(|r| r.ends_with("/Processors/Block1CPU0"))
    );
}

#[tokio::test]
async fn nodes_are_the_composed_systems_and_physical_ones_are_never_deleted() {
    let (mockup, podm) = serve(true).await;
    let nodes = podm.list_nodes().await.unwrap();
    let uris: Vec<&str> = nodes.iter().map(|n| n.resource_uri.as_str()).collect();
    assert_eq!(
        uris,
        vec![
            "/redfish/v1/Systems/ComposedSystem",
            "/redfish/v1/Systems/ComposedSystem2"
        ]
    );
    assert!(
        nodes
            .iter()
            .all(|n| n.state == ComposedNodeState::Assembled)
    );
    let err = podm
        .delete_node("/redfish/v1/Systems/SystemPreResourceBlock")
        .await
        .unwrap_err();
    assert!(matches!(err, PodmError::NotFound { .. }), "{err}");
    let err = podm
        .delete_node("/redfish/v1/Chassis/ComposableModule1")
        .await
        .unwrap_err();
    assert!(matches!(err, PodmError::NotFound { .. }), "{err}");
    assert!(!mockup.requests().iter().any(|r| r.starts_with("DELETE")));
}

#[tokio::test]
async fn reset_and_boot_are_checked_against_allowable_values() {
    let (mockup, podm) = serve(true).await;
    let node = "/redfish/v1/Systems/ComposedSystem";
    let err = podm.reset_node(node, "Hibernate").await.unwrap_err();
    assert!(matches!(err, PodmError::Unsupported { .. }));
    assert!(
        err.to_string().contains("GracefulRestart"),
        "names the allowed values: {err}"
    );
    podm.reset_node(node, "forcerestart").await.unwrap();

    let err = podm.set_boot_source(node, "Once", "Cd").await.unwrap_err();
    assert!(err.to_string().contains("None, Pxe, Usb, Hdd"), "{err}");
    let err = podm
        .set_boot_source(node, "Sometimes", "Pxe")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Continuous"), "{err}");
    podm.set_boot_source(node, "Continuous", "hdd")
        .await
        .unwrap();

    let writes = mockup.writes.lock().unwrap().clone();
    assert_eq!(
        writes,
        vec![
            (
                "POST".to_owned(),
                "/redfish/v1/Systems/ComposedSystem/Actions/ComputerSystem.Reset".to_owned(),
                json!({"ResetType": "ForceRestart"})
            ),
            (
                "PATCH".to_owned(),
                node.to_owned(),
                json!({"Boot": {"BootSourceOverrideEnabled": "Continuous", "BootSourceOverrideTarget": "Hdd"}})
            ),
        ]
    );
}

fn request(requirements: Value) -> ComposeRequest {
    ComposeRequest {
        name: "web-1".into(),
        description: None,
        requirements: serde_json::from_value(requirements).unwrap(),
        tag: Some("b0b0".into()),
    }
}

#[tokio::test]
async fn compose_posts_unused_blocks_that_fit_to_the_systems_collection() {
    let (mockup, podm) = serve(true).await;
    let observer = Recorder::default();
    let node = podm
        .compose(
            &request(json!({"processor": {"total_cores": 8}, "storage": [{"capacity_gib": 200, "type": "SSD"}, {"capacity_gib": 1000}]})),
            &observer,
        )
        .await
        .unwrap();
    assert_eq!(node.resource_uri, "/redfish/v1/Systems/Valence1");
    assert!(node.has_tag("b0b0"));
    assert_eq!(
        *observer.steps.lock().unwrap(),
        vec![
            "allocated /redfish/v1/Systems/Valence1",
            "assembling /redfish/v1/Systems/Valence1"
        ]
    );
    let writes = mockup.writes.lock().unwrap().clone();
    assert_eq!(
        writes[0].2["Links"]["ResourceBlocks"],
        json!([
            {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/SystemBlock11"},
            {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/DriveBlock7"},
            {"@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/DriveBlock5"},
        ]),
        "the 1 TiB SAS tray for 1000 GiB, then the smallest SSD block that fits"
    );
    assert!(
        podm.list_nodes()
            .await
            .unwrap()
            .iter()
            .any(|n| n.resource_uri == node.resource_uri)
    );
    podm.delete_node(&node.resource_uri).await.unwrap();
    assert!(mockup.composed.lock().unwrap().is_empty());
}

#[tokio::test]
async fn compose_that_cannot_fit_is_a_conflict_and_a_failed_observer_leaves_nothing() {
    let (mockup, podm) = serve(true).await;
    let err = podm
        .compose(
            &request(json!({"processor": {"total_cores": 1000}})),
            &Recorder::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PodmError::Conflict { .. }), "{err}");
    assert!(
        err.to_string().contains("SystemBlock11"),
        "names the blocks looked at: {err}"
    );

    let observer = Recorder {
        fail_on_allocated: true,
        ..Recorder::default()
    };
    let err = podm
        .compose(
            &request(json!({"processor": {"total_cores": 1}})),
            &observer,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PodmError::Aborted {
                leaked_node: None,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("database gone"));
    assert!(
        mockup.composed.lock().unwrap().is_empty(),
        "the composed system was deleted"
    );
    assert!(
        mockup
            .requests()
            .iter()
            .any(|r| r == "DELETE /redfish/v1/Systems/Valence1")
    );
}
