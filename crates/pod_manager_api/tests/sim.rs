//! The RSD driver over loopback against the pod-manager simulator: every method on every RSD
//! version it speaks, and the failure paths of compose (conflict, assembly failure, deadline,
//! observer failure, PODM down mid-compose), sessions, auth failures, RSD 1.x spellings, paging
//! and TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::{Value, json};
use valence_pod_manager_api::{
    AuthType, ComposeObserver, ComposeRequest, ComposedNodeState, ComposedNodeSummary,
    ConnectionCache, Driver, PodmConfig, PodmError, connect,
};
use valence_podm_sim::{
    Behavior, Credentials, RsdVersion as SimVersion, SimConfig, SimPodm, start,
};

const USER: &str = "admin";
const PASSWORD: &str = "sim-secret";

async fn sim(version: SimVersion, behavior: Behavior) -> Arc<SimPodm> {
    Arc::new(
        start(SimConfig {
            version,
            systems: 8,
            credentials: Some(Credentials::new(USER, PASSWORD)),
            behavior,
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    )
}

fn config(sim: &SimPodm, auth: AuthType) -> PodmConfig {
    let mut config = PodmConfig::new(format!("uuid-{}", sim.addr().port()), sim.base_url())
        .with_credentials(auth, USER, SecretString::from(PASSWORD));
    config.request_timeout = Duration::from_secs(5);
    config.compose_timeout = Duration::from_secs(20);
    config.cleanup_timeout = Duration::from_secs(10);
    config
}

fn request(requirements: Value, tag: &str) -> ComposeRequest {
    ComposeRequest {
        name: format!("node-{tag}"),
        description: Some("made by the sim tests".into()),
        requirements: serde_json::from_value(requirements).unwrap(),
        tag: Some(tag.to_owned()),
    }
}

/// Requirements the first system of the simulator satisfies exactly.
fn fitting(sim: &SimPodm) -> Value {
    let s = &sim.inventory().systems[0];
    let mut req = json!({
        "processor": {"total_cores": s.total_cores(), "instruction_set": s.cpu.instruction_set},
        "memory": {"capacity_mib": s.memory_mib(), "type": s.cpu.memory_device_type},
    });
    if let Some(d) = s.drives.first() {
        req["storage"] = json!([{"capacity_gib": d.capacity_gib, "type": d.media.as_str()}]);
    }
    req
}

/// Records the steps; can fail one of them, or stop the PODM while it assembles.
#[derive(Default)]
struct Observer {
    steps: Mutex<Vec<String>>,
    fail_allocated: bool,
    stop_while_assembling: Option<(Arc<SimPodm>, Option<Duration>)>,
}

#[async_trait]
impl ComposeObserver for Observer {
    async fn allocated(&self, node: &ComposedNodeSummary) -> Result<(), PodmError> {
        self.steps
            .lock()
            .unwrap()
            .push(format!("allocated {}", node.resource_uri));
        if self.fail_allocated {
            return Err(PodmError::Unreachable {
                detail: "database unreachable".into(),
            });
        }
        Ok(())
    }
    async fn assembling(&self, node: &ComposedNodeSummary) -> Result<(), PodmError> {
        self.steps
            .lock()
            .unwrap()
            .push(format!("assembling {}", node.resource_uri));
        if let Some((sim, down_for)) = &self.stop_while_assembling {
            sim.stop().await;
            if let Some(down_for) = *down_for {
                // The outage itself: how long the PODM stays down, not a wait for a state.
                let sim = sim.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(down_for).await;
                    sim.start().await.unwrap();
                });
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn every_method_on_every_rsd_version() {
    for version in SimVersion::ALL {
        let sim = sim(version, Behavior::default()).await;
        let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
        let context = format!("RSD {version}");

        let probe = podm.probe().await.unwrap();
        assert_eq!(probe.driver, Driver::Rsd, "{context}");
        assert_eq!(
            probe.rsd_api_version.as_deref(),
            Some(version.api_version()),
            "{context}"
        );
        assert!(probe.capabilities.compose, "{context}");
        assert!(!probe.capabilities.rsd1_spellings, "{context}");

        let systems = podm.list_systems().await.unwrap();
        assert_eq!(systems.len(), 8, "{context}");
        for (summary, spec) in systems.iter().zip(&sim.inventory().systems) {
            assert_eq!(summary.system_id, spec.id, "{context}");
            assert_eq!(
                summary.total_cores,
                spec.total_cores(),
                "{context} {}",
                spec.id
            );
            assert_eq!(summary.processor_count, spec.sockets, "{context}");
            assert_eq!(summary.memory_mib, spec.memory_mib(), "{context}");
            assert_eq!(
                summary.memory_type.as_deref(),
                Some(spec.cpu.memory_device_type)
            );
            assert_eq!(
                summary.instruction_set.as_deref(),
                Some(spec.cpu.instruction_set)
            );
            assert_eq!(summary.mac_addresses.len(), spec.nics as usize, "{context}");
            let drives: Vec<u64> = summary.drives.iter().map(|d| d.capacity_gib).collect();
            let expected: Vec<u64> = spec.drives.iter().map(|d| d.capacity_gib).collect();
            assert_eq!(drives, expected, "{context} {}", spec.id);
            assert!(summary.is_free(), "{context}");
            assert!(summary.location.is_some(), "{context}");
        }
        let racks = podm.list_racks().await.unwrap();
        assert_eq!(racks.len(), sim.inventory().racks, "{context}");
        podm.list_devices().await.unwrap();

        let observer = Observer::default();
        let node = podm
            .compose(&request(fitting(&sim), "t1"), &observer)
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert!(node.state.is_assembled(), "{context}: {:?}", node.state);
        assert!(node.has_tag("t1"), "{context}: {:?}", node.description);
        assert_eq!(
            *observer.steps.lock().unwrap(),
            vec![
                format!("allocated {}", node.resource_uri),
                format!("assembling {}", node.resource_uri)
            ]
        );
        let system_uri = node.system_uri.clone().unwrap();
        assert_eq!(
            podm.get_node(&node.resource_uri)
                .await
                .unwrap()
                .resource_uri,
            node.resource_uri
        );
        assert_eq!(podm.list_nodes().await.unwrap().len(), 1);
        let used = podm.get_system(&system_uri).await.unwrap();
        assert_eq!(
            used.composed_node.as_deref(),
            Some(node.resource_uri.as_str()),
            "{context}"
        );
        let by_id = podm.get_system(&used.system_id).await.unwrap();
        assert_eq!(by_id, used);

        podm.reset_node(&node.resource_uri, "ForceOff")
            .await
            .unwrap();
        let err = podm
            .reset_node(&node.resource_uri, "Explode")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("GracefulRestart"),
            "{context}: {err}"
        );
        podm.set_boot_source(&node.resource_uri, "Once", "Pxe")
            .await
            .unwrap();
        let err = podm
            .set_boot_source(&node.resource_uri, "Once", "Floppy")
            .await
            .unwrap_err();
        assert!(
            matches!(err, PodmError::Unsupported { .. }),
            "{context}: {err}"
        );
        let err = podm
            .attach_device(&node.resource_uri, "/redfish/v1/Chassis/1/Drives/1")
            .await
            .unwrap_err();
        assert!(
            matches!(err, PodmError::Unsupported { .. }),
            "{context}: {err}"
        );

        // Only composed nodes of this PODM can be deleted through delete_node.
        let err = podm.delete_node(&system_uri).await.unwrap_err();
        assert!(
            matches!(err, PodmError::NotFound { .. }),
            "{context}: {err}"
        );
        podm.delete_node(&node.resource_uri).await.unwrap();
        assert!(sim.nodes().is_empty(), "{context}");
        let err = podm.get_node(&node.resource_uri).await.unwrap_err();
        assert!(
            matches!(err, PodmError::NotFound { .. }),
            "{context}: {err}"
        );
    }
}

#[tokio::test]
async fn requests_per_system_are_as_documented() {
    let sim = sim(SimVersion::V2_3, Behavior::default()).await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    podm.probe().await.unwrap();
    let spec = &sim.inventory().systems[0];
    let before = sim.stats().requests;
    podm.get_system(&spec.id).await.unwrap();
    let spent = sim.stats().requests - before;
    // Nodes collection (empty), system, processors (1 + sockets), memory (collection and the
    // first module), NICs (1 + n), storage (collection, one storage, each drive).
    let expected = 1
        + 1
        + (1 + u64::from(spec.sockets))
        + 2
        + (1 + u64::from(spec.nics))
        + (2 + spec.drives.len() as u64);
    assert_eq!(spent, expected, "{:#?}", sim.request_counts());
}

#[tokio::test]
async fn a_second_inventory_reads_only_the_system_documents_and_the_nodes_once() {
    let sim = sim(SimVersion::V2_3, Behavior::default()).await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    podm.probe().await.unwrap();
    let (first, nodes) = podm.inventory().await.unwrap();
    assert_eq!(first.len(), 8);
    assert!(nodes.is_empty());

    let before = sim.stats().requests;
    let (second, _) = podm.inventory().await.unwrap();
    let spent = sim.stats().requests - before;
    assert_eq!(
        second, first,
        "reused hardware details give the same summaries"
    );
    // Nodes collection (empty, read once), Systems collection, each system document.
    assert_eq!(spent, 1 + 1 + 8, "{:#?}", sim.request_counts());

    // Without reuse every system costs its sub-collections again.
    let mut fresh = config(&sim, AuthType::Basic);
    fresh.details_ttl = Duration::ZERO;
    let podm = connect(&fresh).unwrap();
    podm.inventory().await.unwrap();
    let before = sim.stats().requests;
    podm.inventory().await.unwrap();
    assert!(sim.stats().requests - before > 8 * 5);
}

#[tokio::test]
async fn an_allocation_nobody_can_satisfy_is_a_conflict_with_the_podms_reasons() {
    let sim = sim(SimVersion::V2_2, Behavior::default()).await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    let err = podm
        .compose(
            &request(json!({"processor": {"total_cores": 100_000}}), "big"),
            &Observer::default(),
        )
        .await
        .unwrap_err();
    let PodmError::Conflict { messages } = &err else {
        panic!("{err}")
    };
    assert!(
        messages
            .iter()
            .any(|m| m.contains("no computer systems available")),
        "{messages:?}"
    );
    assert_eq!(sim.stats().allocation_conflicts, 1);
    assert!(sim.nodes().is_empty());
}

#[tokio::test]
async fn a_failed_assembly_deletes_the_node_and_reports_why() {
    let sim = sim(
        SimVersion::V2_1,
        Behavior {
            assembly_failure_rate: 1.0,
            ..Behavior::default()
        },
    )
    .await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    let err = podm
        .compose(&request(fitting(&sim), "f"), &Observer::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PodmError::ComposeFailed {
                leaked_node: None,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Failed"), "{err}");
    assert!(sim.nodes().is_empty(), "no leaked node");
    assert_eq!(sim.stats().node_deletions, 1);
}

#[tokio::test]
async fn slow_allocation_is_waited_for_and_a_missed_deadline_deletes_the_node() {
    let sim = sim(
        SimVersion::V2_3,
        Behavior {
            allocation_delay: Duration::from_millis(300),
            assembly_delay: Duration::from_millis(300),
            ..Behavior::default()
        },
    )
    .await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    let node = podm
        .compose(&request(fitting(&sim), "slow"), &Observer::default())
        .await
        .unwrap();
    assert_eq!(node.state, ComposedNodeState::Assembled);
    podm.delete_node(&node.resource_uri).await.unwrap();

    sim.update_behavior(|b| b.assembly_delay = Duration::from_secs(600))
        .unwrap();
    let mut short = config(&sim, AuthType::Basic);
    short.compose_timeout = Duration::from_millis(1500);
    let podm = connect(&short).unwrap();
    let err = podm
        .compose(&request(fitting(&sim), "late"), &Observer::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("did not become Assembled"),
        "{err}"
    );
    assert!(err.leaked_node().is_none(), "{err}");
    assert!(sim.nodes().is_empty());
}

#[tokio::test]
async fn an_observer_failure_aborts_and_deletes_the_node() {
    let sim = sim(SimVersion::V2_3, Behavior::default()).await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    let observer = Observer {
        fail_allocated: true,
        ..Observer::default()
    };
    let err = podm
        .compose(&request(fitting(&sim), "obs"), &observer)
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
    assert!(err.to_string().contains("database unreachable"));
    assert_eq!(
        observer.steps.lock().unwrap().len(),
        1,
        "stopped before assembling"
    );
    assert!(sim.nodes().is_empty());
}

#[tokio::test]
async fn podm_down_mid_compose_leaves_no_node_once_it_is_back() {
    // Back within the cleanup budget: the retried delete succeeds. The outage (2 s) outlasts the
    // HTTP client's own retries of the poll (about 0.6 s), so the poll fails first.
    let sim = sim(
        SimVersion::V2_3,
        Behavior {
            assembly_delay: Duration::from_millis(500),
            ..Behavior::default()
        },
    )
    .await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    let observer = Observer {
        stop_while_assembling: Some((sim.clone(), Some(Duration::from_secs(2)))),
        ..Observer::default()
    };
    let err = podm
        .compose(&request(fitting(&sim), "down1"), &observer)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PodmError::ComposeFailed {
                leaked_node: None,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert!(sim.is_running());
    assert!(sim.nodes().is_empty(), "{:?}", sim.nodes());

    // Down for longer than the cleanup budget: the node is named as leaked, and deleting it
    // once the PODM is back leaves nothing.
    let mut brief = config(&sim, AuthType::Basic);
    brief.cleanup_timeout = Duration::from_millis(600);
    let podm = connect(&brief).unwrap();
    let observer = Observer {
        stop_while_assembling: Some((sim.clone(), None)),
        ..Observer::default()
    };
    let err = podm
        .compose(&request(fitting(&sim), "down2"), &observer)
        .await
        .unwrap_err();
    let leaked = err
        .leaked_node()
        .unwrap_or_else(|| panic!("{err}"))
        .to_owned();
    assert!(err.to_string().contains("may have leaked"), "{err}");
    sim.start().await.unwrap();
    assert_eq!(sim.nodes().len(), 1);
    let found = podm.list_nodes().await.unwrap();
    assert!(
        found
            .iter()
            .any(|n| n.resource_uri == leaked && n.has_tag("down2")),
        "findable by tag"
    );
    podm.delete_node(&leaked).await.unwrap();
    assert!(sim.nodes().is_empty());
}

#[tokio::test]
async fn sessions_are_used_when_offered_and_logged_out_on_eviction() {
    let sim = sim(SimVersion::V2_1, Behavior::default()).await;
    let cache = ConnectionCache::default();
    let cfg = config(&sim, AuthType::Session);
    let podm = cache.get_or_connect(&cfg).await.unwrap();
    assert!(podm.probe().await.unwrap().capabilities.sessions);
    podm.list_nodes().await.unwrap();
    podm.list_systems().await.unwrap();
    assert_eq!(sim.stats().logins, 1, "one session for all requests");
    assert_eq!(sim.stats().sessions_open, 1);
    drop(podm);
    cache.invalidate(&cfg.uuid).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.stats().sessions_open > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "session not logged out: {:?}",
            sim.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.stats().logouts, 1);

    // A PODM whose root offers no SessionService is spoken to with Basic instead.
    let basic_only = Arc::new(
        start(SimConfig {
            version: SimVersion::V2_3,
            credentials: Some(Credentials::new(USER, PASSWORD)),
            session_service: false,
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    );
    let podm = connect(&config(&basic_only, AuthType::Session)).unwrap();
    assert_eq!(podm.list_systems().await.unwrap().len(), 8);
    assert_eq!(basic_only.stats().logins, 0);
}

#[tokio::test]
async fn wrong_credentials_are_named_an_authentication_failure() {
    let sim = sim(SimVersion::V2_2, Behavior::default()).await;
    for auth in [AuthType::Basic, AuthType::Session] {
        let mut cfg = config(&sim, auth);
        cfg.password = Some(SecretString::from("wrong"));
        let podm = connect(&cfg).unwrap();
        let err = podm.list_systems().await.unwrap_err();
        assert!(err.is_auth_failure(), "{auth:?}: {err}");
        assert!(err.to_string().contains("authentication failed"), "{err}");
        assert!(
            !err.to_string().contains("wrong"),
            "no password in errors: {err}"
        );
    }
}

#[tokio::test]
async fn rsd1_spellings_and_paged_collections_are_read() {
    let sim = sim(
        SimVersion::V2_1,
        Behavior {
            rsd1_spellings: true,
            page_size: Some(3),
            ..Behavior::default()
        },
    )
    .await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    let probe = podm.probe().await.unwrap();
    assert!(probe.capabilities.rsd1_spellings);
    assert_eq!(probe.driver, Driver::Rsd);
    assert_eq!(podm.list_systems().await.unwrap().len(), 8, "all pages");
    let node = podm
        .compose(&request(fitting(&sim), "old"), &Observer::default())
        .await
        .unwrap();
    let err = podm
        .reset_node(&node.resource_uri, "Explode")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ForceOff"),
        "@DMTF.AllowableValues read: {err}"
    );
    podm.reset_node(&node.resource_uri, "On").await.unwrap();
    podm.delete_node(&node.resource_uri).await.unwrap();
}

#[tokio::test]
async fn a_down_podm_is_unreachable_and_the_same_connection_recovers() {
    let sim = sim(SimVersion::V2_3, Behavior::default()).await;
    let podm = connect(&config(&sim, AuthType::Basic)).unwrap();
    podm.probe().await.unwrap();
    sim.stop().await;
    let err = podm.probe().await.unwrap_err();
    assert!(matches!(err, PodmError::Unreachable { .. }), "{err}");
    let err = podm.list_systems().await.unwrap_err();
    assert!(matches!(err, PodmError::Unreachable { .. }), "{err}");
    sim.start().await.unwrap();
    podm.probe().await.unwrap();
    assert_eq!(podm.list_systems().await.unwrap().len(), 8);
}

#[tokio::test]
async fn tls_is_verified_against_the_podms_own_ca() {
    let sim = Arc::new(
        start(SimConfig {
            tls: true,
            credentials: Some(Credentials::new(USER, PASSWORD)),
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    );
    let mut pinned = config(&sim, AuthType::Basic);
    pinned.ca_cert = Some(sim.ca_pem().unwrap().to_owned());
    connect(&pinned).unwrap().probe().await.unwrap();

    let system_roots = config(&sim, AuthType::Basic);
    let err = connect(&system_roots).unwrap().probe().await.unwrap_err();
    assert!(matches!(err, PodmError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("TLS"), "{err}");

    let mut unverified = config(&sim, AuthType::Basic);
    unverified.tls_verify = false;
    connect(&unverified).unwrap().probe().await.unwrap();
}
