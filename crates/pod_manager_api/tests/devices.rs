//! Pooled devices through the RSD driver, over loopback against the pod-manager simulator:
//! listing the pool (RSD 2.1 PCIe drives, 2.2 the same, 2.3 NVMe-oF volumes), attaching and
//! detaching through each version's action spelling, and the refusals a caller must be able to
//! tell apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use secrecy::SecretString;
use valence_pod_manager_api::{
    AuthType, ComposeObserver, ComposeRequest, ComposedNodeSummary, PodManager, PodmConfig,
    PodmError, connect,
};
use valence_podm_sim::{
    Behavior, Credentials, RsdVersion as SimVersion, SimConfig, SimPodm, start,
};

const USER: &str = "admin";
const PASSWORD: &str = "sim-secret";
const POOL: usize = 5;

async fn sim(version: SimVersion, behavior: Behavior) -> SimPodm {
    start(SimConfig {
        version,
        systems: 4,
        seed: 17,
        pooled_drives: POOL,
        credentials: Some(Credentials::new(USER, PASSWORD)),
        behavior,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn podm(sim: &SimPodm) -> std::sync::Arc<dyn PodManager> {
    let mut config = PodmConfig::new(format!("uuid-{}", sim.addr().port()), sim.base_url())
        .with_credentials(AuthType::Basic, USER, SecretString::from(PASSWORD));
    config.request_timeout = Duration::from_secs(5);
    config.compose_timeout = Duration::from_secs(20);
    connect(&config).unwrap()
}

struct NoObserver;

#[async_trait::async_trait]
impl ComposeObserver for NoObserver {
    async fn allocated(&self, _: &ComposedNodeSummary) -> Result<(), PodmError> {
        Ok(())
    }
    async fn assembling(&self, _: &ComposedNodeSummary) -> Result<(), PodmError> {
        Ok(())
    }
}

async fn compose(podm: &dyn PodManager, name: &str) -> String {
    let request = ComposeRequest {
        name: name.to_owned(),
        description: None,
        requirements: Default::default(),
        tag: None,
    };
    podm.compose(&request, &NoObserver)
        .await
        .unwrap()
        .resource_uri
}

/// Every version the simulator speaks, with what its devices look like.
const VERSIONS: [(SimVersion, &str, &str); 3] = [
    (SimVersion::V2_1, "Drive", "PCIe"),
    (SimVersion::V2_2, "Drive", "PCIe"),
    (SimVersion::V2_3, "Volume", "NVMeOverFabrics"),
];

#[tokio::test]
async fn list_devices_returns_the_pool_and_no_initiator() {
    for (version, kind, protocol) in VERSIONS {
        let sim = sim(version, Behavior::default()).await;
        let podm = podm(&sim);
        let probe = podm.probe().await.unwrap();
        assert!(probe.capabilities.pooled_devices, "RSD {version}");
        assert!(probe.capabilities.attach_detach, "RSD {version}");

        sim.reset_counters();
        let devices = podm.list_devices().await.unwrap();
        let pool = sim.pooled_drives();
        assert_eq!(devices.len(), POOL, "RSD {version}: {devices:#?}");
        for (device, drive) in devices.iter().zip(&pool) {
            assert_eq!(
                device.resource_uri, drive.resource_odata_id,
                "RSD {version}"
            );
            assert_eq!(device.endpoint_uri, drive.endpoint_odata_id);
            assert_eq!(device.name.as_deref(), Some(drive.name.as_str()));
            assert_eq!(device.device_type.as_deref(), Some(kind));
            assert_eq!(device.protocol.as_deref(), Some(protocol));
            assert_eq!(device.state.as_deref(), Some("Enabled"));
            assert_eq!(device.health.as_deref(), Some("OK"));
        }
        // Fabric collection, the fabric, its endpoint collection, each endpoint.
        assert_eq!(
            sim.stats().requests,
            3 + POOL as u64,
            "RSD {version}: {:#?}",
            sim.request_counts()
        );

        // Attaching adds the node's initiator endpoint to the fabric; it is not a device.
        let node = compose(podm.as_ref(), "with-initiator").await;
        podm.attach_device(&node, &devices[0].resource_uri)
            .await
            .unwrap();
        let again = podm.list_devices().await.unwrap();
        assert_eq!(again, devices, "RSD {version}");
    }
}

#[tokio::test]
async fn a_paged_endpoint_collection_is_read_whole() {
    let sim = sim(
        SimVersion::V2_3,
        Behavior {
            page_size: Some(2),
            ..Behavior::default()
        },
    )
    .await;
    let devices = podm(&sim).list_devices().await.unwrap();
    assert_eq!(devices.len(), POOL);
}

#[tokio::test]
async fn attach_then_detach_on_every_version() {
    for (version, _, _) in VERSIONS {
        let sim = sim(version, Behavior::default()).await;
        let podm = podm(&sim);
        let node = compose(podm.as_ref(), "n").await;
        let devices = podm.list_devices().await.unwrap();
        let device = &devices[2].resource_uri;

        podm.attach_device(&node, device)
            .await
            .unwrap_or_else(|e| panic!("RSD {version}: {e}"));
        assert_eq!(
            sim.attached_devices(&node),
            std::slice::from_ref(device),
            "RSD {version}"
        );
        assert_eq!(sim.stats().attachments, 1);

        podm.detach_device(&node, device)
            .await
            .unwrap_or_else(|e| panic!("RSD {version}: {e}"));
        assert!(sim.attached_devices(&node).is_empty(), "RSD {version}");
        assert_eq!(sim.stats().detachments, 1);

        // Attached again after a detach, and released with its node.
        podm.attach_device(&node, device).await.unwrap();
        podm.delete_node(&node).await.unwrap();
        assert!(sim.pooled_drives().iter().all(|d| d.attached_to.is_none()));
    }
}

#[tokio::test]
async fn attaching_what_the_node_does_not_allow_is_unsupported_naming_the_allowed() {
    for (version, _, _) in VERSIONS {
        let sim = sim(version, Behavior::default()).await;
        let podm = podm(&sim);
        let first = compose(podm.as_ref(), "first").await;
        let second = compose(podm.as_ref(), "second").await;
        let devices = podm.list_devices().await.unwrap();
        podm.attach_device(&first, &devices[0].resource_uri)
            .await
            .unwrap();

        // Taken by the other node: refused before any POST, naming what is allowed.
        let err = podm
            .attach_device(&second, &devices[0].resource_uri)
            .await
            .unwrap_err();
        let PodmError::Unsupported { operation } = &err else {
            panic!("RSD {version}: {err:?}");
        };
        assert!(operation.contains(&devices[0].resource_uri), "{err}");
        for free in &devices[1..] {
            assert!(
                operation.contains(&free.resource_uri),
                "RSD {version}: {err}"
            );
        }
        let attach_posts: u64 = sim
            .request_counts()
            .iter()
            .filter(|(route, _)| route.starts_with("POST") && route.contains("Attach"))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(attach_posts, 1, "only the first attach was posted");

        // Something that is no pooled device at all.
        let err = podm
            .attach_device(&second, "/redfish/v1/Chassis/1/Drives/1")
            .await
            .unwrap_err();
        assert!(matches!(err, PodmError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains(&devices[1].resource_uri), "{err}");
        assert!(sim.attached_devices(&second).is_empty());
    }
}

#[tokio::test]
async fn detaching_a_device_not_attached_fails_naming_it() {
    for (version, _, _) in VERSIONS {
        let sim = sim(version, Behavior::default()).await;
        let podm = podm(&sim);
        let node = compose(podm.as_ref(), "n").await;
        let devices = podm.list_devices().await.unwrap();
        let device = &devices[3].resource_uri;

        // Nothing attached: the node allows no detach at all, so nothing is posted.
        let posts = |sim: &valence_podm_sim::SimPodm| {
            sim.request_counts()
                .iter()
                .filter(|(route, _)| route.starts_with("POST") && route.contains("Detach"))
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        let before = posts(&sim);
        let err = podm.detach_device(&node, device).await.unwrap_err();
        let PodmError::Unsupported { operation } = &err else {
            panic!("RSD {version}: {err:?}");
        };
        assert!(
            operation.contains(device.as_str()) && operation.contains("allowed: none"),
            "RSD {version}: {err}"
        );
        assert_eq!(
            posts(&sim),
            before,
            "RSD {version}: refused before any POST"
        );

        // Another device attached: refused before any POST, naming the one allowed.
        podm.attach_device(&node, &devices[0].resource_uri)
            .await
            .unwrap();
        let err = podm.detach_device(&node, device).await.unwrap_err();
        let PodmError::Unsupported { operation } = &err else {
            panic!("RSD {version}: {err:?}");
        };
        assert!(operation.contains(device.as_str()), "{err}");
        assert!(operation.contains(&devices[0].resource_uri), "{err}");
        assert_eq!(
            sim.attached_devices(&node),
            [devices[0].resource_uri.clone()]
        );
        assert_eq!(sim.stats().detachments, 0);
    }
}

#[tokio::test]
async fn a_node_the_podm_does_not_have_is_not_found() {
    let sim = sim(SimVersion::V2_3, Behavior::default()).await;
    let podm = podm(&sim);
    let devices = podm.list_devices().await.unwrap();
    let err = podm
        .attach_device("/redfish/v1/Nodes/42", &devices[0].resource_uri)
        .await
        .unwrap_err();
    assert!(matches!(err, PodmError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn rsd1_spellings_of_the_allowable_values_are_honoured() {
    let sim = sim(
        SimVersion::V2_1,
        Behavior {
            rsd1_spellings: true,
            ..Behavior::default()
        },
    )
    .await;
    let podm = podm(&sim);
    let first = compose(podm.as_ref(), "first").await;
    let second = compose(podm.as_ref(), "second").await;
    let devices = podm.list_devices().await.unwrap();
    podm.attach_device(&first, &devices[0].resource_uri)
        .await
        .unwrap();
    let err = podm
        .attach_device(&second, &devices[0].resource_uri)
        .await
        .unwrap_err();
    assert!(matches!(err, PodmError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains(&devices[4].resource_uri), "{err}");
}
