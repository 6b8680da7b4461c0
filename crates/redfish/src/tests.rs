//! Unit tests of fan-out, cache and breaker with an in-process `PodManager` and tokio's paused
//! clock (virtual time: durations are exact and the tests do not wait). Real HTTP against the
//! simulator is covered by the end-to-end suite.

use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use valence_pod_manager_api::{ComposeObserver, ComposeRequest};

use super::*;

#[derive(Default)]
struct FakePodm {
    delay: Duration,
    hang: bool,
    fail: Option<PodmError>,
    systems: Vec<SystemSummary>,
    list_calls: AtomicU32,
}

fn system(id: &str, cores: u32, used: bool) -> SystemSummary {
    SystemSummary {
        system_id: id.into(),
        resource_uri: format!("/redfish/v1/Systems/{id}"),
        name: None,
        uuid: None,
        description: None,
        health: Some("OK".into()),
        power_state: None,
        processor_count: 1,
        total_cores: cores,
        processor_model: None,
        instruction_set: None,
        memory_mib: 1024 * u64::from(cores),
        memory_type: None,
        drives: vec![],
        mac_addresses: vec![],
        location: None,
        composed_node: used.then(|| format!("/redfish/v1/Nodes/{id}")),
    }
}

#[async_trait]
impl PodManager for FakePodm {
    async fn probe(&self) -> Result<ProbeInfo, PodmError> {
        self.answer().await?;
        Ok(ProbeInfo {
            driver: valence_pod_manager_api::Driver::Rsd,
            service_uuid: None,
            redfish_version: None,
            rsd_api_version: Some("2.3.0".into()),
            capabilities: Default::default(),
        })
    }
    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError> {
        self.list_calls.fetch_add(1, Ordering::SeqCst);
        self.answer().await?;
        Ok(self.systems.clone())
    }
    async fn get_system(&self, _: &str) -> Result<SystemSummary, PodmError> {
        Err(PodmError::Unsupported {
            operation: "get_system".into(),
        })
    }
    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError> {
        self.answer().await?;
        Ok(vec![])
    }
    async fn get_node(&self, uri: &str) -> Result<ComposedNodeSummary, PodmError> {
        Err(PodmError::NotFound { uri: uri.into() })
    }
    async fn compose(
        &self,
        _: &ComposeRequest,
        _: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, PodmError> {
        Err(PodmError::Unsupported {
            operation: "compose".into(),
        })
    }
    async fn delete_node(&self, _: &str) -> Result<(), PodmError> {
        Ok(())
    }
    async fn reset_node(&self, _: &str, _: &str) -> Result<(), PodmError> {
        Ok(())
    }
    async fn set_boot_source(&self, _: &str, _: &str, _: &str) -> Result<(), PodmError> {
        Ok(())
    }
}

impl FakePodm {
    async fn answer(&self) -> Result<(), PodmError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.delay).await;
        match &self.fail {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }
}

fn target(uuid: &str, podm: FakePodm) -> (Target, Arc<FakePodm>) {
    let podm = Arc::new(podm);
    (
        Target {
            uuid: uuid.into(),
            name: format!("name-{uuid}"),
            conn: podm.clone(),
        },
        podm,
    )
}

fn aggregator() -> Aggregator {
    Aggregator::new(AggregatorConfig {
        concurrency: 64,
        call_timeout: Duration::from_secs(2),
        cache_ttl: Duration::from_secs(60),
        health: HealthPolicy {
            failures_to_open: 2,
            ..HealthPolicy::default()
        },
    })
}

#[tokio::test(start_paused = true)]
async fn fan_out_takes_as_long_as_the_slowest_podm_not_the_sum() {
    let agg = aggregator();
    let targets: Vec<Target> = (0..20u64)
        .map(|i| {
            target(
                &format!("p{i:02}"),
                FakePodm {
                    delay: Duration::from_millis(100 + i * 10),
                    systems: vec![system("s", 4, false)],
                    ..Default::default()
                },
            )
            .0
        })
        .collect();
    let start = tokio::time::Instant::now();
    let out = agg.inventories(&targets, true).await;
    assert_eq!(out.ok.len(), 20);
    assert!(out.failed.is_empty());
    // virtual time: exactly the slowest PODM's delay, not the 3.9 s sum
    assert_eq!(start.elapsed(), Duration::from_millis(290));
    let uuids: Vec<&str> = out.ok.iter().map(|(t, _)| t.uuid.as_str()).collect();
    assert!(
        uuids.windows(2).all(|w| w[0] < w[1]),
        "results are sorted by uuid"
    );
}

#[tokio::test(start_paused = true)]
async fn failed_and_hanging_podms_are_named_and_do_not_fail_the_rest() {
    let agg = aggregator();
    let (good, _) = target(
        "a-good",
        FakePodm {
            systems: vec![system("1", 8, false)],
            ..Default::default()
        },
    );
    let (down, _) = target(
        "b-down",
        FakePodm {
            fail: Some(PodmError::Unreachable {
                detail: "refused".into(),
            }),
            ..Default::default()
        },
    );
    let (hung, _) = target(
        "c-hung",
        FakePodm {
            hang: true,
            ..Default::default()
        },
    );
    let start = tokio::time::Instant::now();
    let out = agg.inventories(&[good, down, hung], false).await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "the hanging PODM is cut at the call timeout"
    );
    assert_eq!(out.ok.len(), 1);
    assert_eq!(out.ok[0].1.usage.systems_total, 1);
    let kinds: Vec<(&str, FailureKind)> = out
        .failed
        .iter()
        .map(|f| (f.uuid.as_str(), f.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("b-down", FailureKind::Unreachable),
            ("c-hung", FailureKind::Timeout)
        ]
    );
    assert!(
        out.failed[1].reason.contains("2000 ms"),
        "{}",
        out.failed[1].reason
    );
    assert_eq!(agg.health().view("b-down").status, HealthStatus::Offline);
}

#[tokio::test(start_paused = true)]
async fn cache_serves_repeats_and_refresh_bypasses_it() {
    let agg = aggregator();
    let (t, podm) = target(
        "p",
        FakePodm {
            systems: vec![system("1", 8, false)],
            ..Default::default()
        },
    );
    let targets = [t];
    agg.inventories(&targets, false).await;
    agg.inventories(&targets, false).await;
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 1);
    agg.inventories(&targets, true).await;
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 2);
    agg.invalidate("p").await;
    agg.inventories(&targets, false).await;
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 3);
    // Two reads went to the PODM for want of a cached inventory, one was served from cache;
    // the refresh bypassed the cache and is not a lookup.
    assert_eq!(agg.cache_stats(), CacheStats { hits: 1, misses: 2 });
    assert!(agg.cached("p").await.is_some());
    assert!(agg.cached("other").await.is_none());
    assert_eq!(agg.cache_stats(), CacheStats { hits: 2, misses: 3 });
}

#[tokio::test(start_paused = true)]
async fn a_composed_node_updates_the_cached_inventory_without_a_read() {
    let agg = aggregator();
    let (t, podm) = target(
        "p",
        FakePodm {
            systems: vec![system("2", 8, false), system("1", 8, false)],
            ..Default::default()
        },
    );
    let targets = [t];
    let before = agg.inventories(&targets, false).await.ok[0].1.clone();
    assert_eq!(before.usage.systems_free, 2);
    let ids: Vec<&str> = before
        .systems
        .iter()
        .map(|s| s.system_id.as_str())
        .collect();
    assert_eq!(ids, ["1", "2"], "kept sorted by system id");

    let node = ComposedNodeSummary {
        index: "7".into(),
        resource_uri: "/redfish/v1/Nodes/7".into(),
        name: None,
        description: None,
        uuid: None,
        state: valence_pod_manager_api::ComposedNodeState::Assembled,
        power_state: None,
        system_uri: Some("/redfish/v1/Systems/2".into()),
        attached: Vec::new(),
    };
    agg.record_composed("p", &node).await;
    let after = agg.inventories(&targets, false).await.ok[0].1.clone();
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 1, "no new read");
    assert_eq!(after.usage.systems_free, 1);
    assert_eq!(after.nodes.len(), 1);
    assert_eq!(
        after.systems[1].composed_node.as_deref(),
        Some("/redfish/v1/Nodes/7")
    );

    // Released, its system is free again, still without a read.
    agg.record_released("p", "/redfish/v1/Nodes/7").await;
    let released = agg.inventories(&targets, false).await.ok[0].1.clone();
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 1, "no new read");
    assert_eq!(released.usage.systems_free, 2);
    assert!(released.nodes.is_empty());
    assert_eq!(released.systems[1].composed_node, None);

    // A node on a system the inventory does not know: the inventory is read again.
    let stray = ComposedNodeSummary {
        system_uri: Some("/redfish/v1/Systems/99".into()),
        ..node
    };
    agg.record_composed("p", &stray).await;
    agg.inventories(&targets, false).await;
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn concurrent_cache_misses_share_one_read() {
    let agg = Arc::new(aggregator());
    let (t, podm) = target(
        "p",
        FakePodm {
            delay: Duration::from_millis(50),
            ..Default::default()
        },
    );
    let reads = (0..10).map(|_| {
        let agg = agg.clone();
        let t = t.clone();
        tokio::spawn(async move { agg.inventory(&t, false).await.is_ok() })
    });
    for read in futures::future::join_all(reads).await {
        assert!(matches!(read, Ok(true)));
    }
    assert_eq!(podm.list_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn open_breaker_refuses_at_once_and_health_check_recovers_it() {
    let agg = aggregator();
    let (down, podm) = target(
        "p",
        FakePodm {
            fail: Some(PodmError::Unreachable {
                detail: "refused".into(),
            }),
            ..Default::default()
        },
    );
    let targets = [down];
    agg.inventories(&targets, false).await;
    assert_eq!(agg.health().view("p").status, HealthStatus::Offline);
    let calls = podm.list_calls.load(Ordering::SeqCst);

    let out = agg.inventories(&targets, false).await;
    assert_eq!(out.failed[0].kind, FailureKind::CircuitOpen);
    assert!(
        out.failed[0].reason.contains("refused"),
        "{}",
        out.failed[0].reason
    );
    assert_eq!(
        podm.list_calls.load(Ordering::SeqCst),
        calls,
        "an open breaker does not call the PODM"
    );

    // Not due yet: the probe is skipped.
    assert!(agg.check_health(&targets).await.ok.is_empty());
    assert!(agg.check_health(&targets).await.failed.is_empty());

    // The PODM recovers; after the backoff a probe brings it back Online.
    let (healthy, _) = target("p", FakePodm::default());
    tokio::time::advance(HealthPolicy::default().base_backoff).await;
    let probed = agg.check_health(&[healthy]).await;
    assert_eq!(probed.ok.len(), 1);
    assert_eq!(agg.health().view("p").status, HealthStatus::Online);
    let changes: Vec<_> = agg
        .health()
        .drain_transitions()
        .into_iter()
        .map(|t| t.to)
        .collect();
    assert_eq!(changes, vec![HealthStatus::Offline, HealthStatus::Online]);
}

#[tokio::test(start_paused = true)]
async fn a_podm_answering_errors_stays_online() {
    let agg = aggregator();
    let (t, _) = target(
        "p",
        FakePodm {
            fail: Some(PodmError::BadResponse {
                url: "/redfish/v1/Systems".into(),
                detail: "Members: expected array".into(),
            }),
            ..Default::default()
        },
    );
    agg.health().record_success("p", SystemTime::now());
    for _ in 0..5 {
        let out = agg.inventories(std::slice::from_ref(&t), false).await;
        assert_eq!(out.failed[0].kind, FailureKind::BadResponse);
    }
    assert_eq!(agg.health().view("p").status, HealthStatus::Online);
}

#[tokio::test(start_paused = true)]
async fn a_podm_answering_server_errors_goes_offline_but_client_errors_do_not_count() {
    let rejected = |status| PodmError::Rejected {
        url: "/redfish/v1/Systems".into(),
        status,
        message_id: None,
        messages: vec![],
    };
    for (status, expected) in [
        (500, HealthStatus::Offline),
        (503, HealthStatus::Offline),
        (400, HealthStatus::Online),
        (401, HealthStatus::Online),
    ] {
        let agg = aggregator();
        let (t, _) = target(
            "p",
            FakePodm {
                fail: Some(rejected(status)),
                ..Default::default()
            },
        );
        agg.health().record_success("p", SystemTime::now());
        for _ in 0..3 {
            agg.inventories(std::slice::from_ref(&t), true).await;
        }
        assert_eq!(agg.health().view("p").status, expected, "status {status}");
    }
}

#[test]
fn usage_of_absurd_figures_saturates_instead_of_wrapping() {
    let huge = SystemSummary {
        total_cores: u32::MAX,
        memory_mib: u64::MAX,
        ..system("1", 1, false)
    };
    let usage = Usage::of(&[huge.clone(), huge], &[]);
    assert_eq!(usage.memory_total_mib, u64::MAX);
    assert_eq!(usage.memory_free_mib, u64::MAX);
    assert_eq!(usage.cores_total, 2 * u64::from(u32::MAX));
}

#[test]
fn usage_counts_free_capacity() {
    let systems = vec![
        system("1", 8, false),
        system("2", 16, true),
        system("3", 4, false),
    ];
    let usage = Usage::of(&systems, &[]);
    assert_eq!((usage.systems_total, usage.systems_free), (3, 2));
    assert_eq!((usage.cores_total, usage.cores_free), (28, 12));
    assert_eq!(usage.memory_free_mib, 12 * 1024);
    assert!((usage.ratio - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(Usage::of(&[], &[]).ratio, 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_read_that_began_before_an_invalidation_is_not_cached() {
    let agg = Arc::new(aggregator());
    let (t, podm) = target(
        "p",
        FakePodm {
            delay: Duration::from_millis(100),
            systems: vec![system("1", 8, false)],
            ..Default::default()
        },
    );
    let refresh = {
        let agg = agg.clone();
        let targets = vec![t.clone()];
        tokio::spawn(async move { agg.refresh_all(&targets).await.ok.len() })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A compose changed the PODM while the refresh was reading it.
    agg.invalidate("p").await;
    assert_eq!(refresh.await.unwrap(), 1, "the refresh itself succeeded");
    assert!(
        agg.cached("p").await.is_none(),
        "its result predates the change and is not served"
    );
    agg.inventory(&t, false).await.unwrap();
    assert_eq!(
        podm.list_calls.load(Ordering::SeqCst),
        2,
        "the next reader reads again"
    );
    assert!(agg.cached("p").await.is_some());
}

#[tokio::test(start_paused = true)]
async fn an_offline_podm_is_not_served_from_cache() {
    let agg = aggregator();
    let (t, _) = target(
        "p",
        FakePodm {
            systems: vec![system("1", 8, false)],
            ..Default::default()
        },
    );
    agg.inventory(&t, false).await.unwrap();
    for _ in 0..2 {
        agg.health()
            .record_failure("p", "refused", tokio::time::Instant::now().into_std());
    }
    assert!(agg.cached("p").await.is_none());
    let failure = agg.inventory(&t, false).await.unwrap_err();
    assert_eq!(failure.kind, FailureKind::CircuitOpen);
}
