//! Several PODMs at once, TLS with the exposed CA, and the command-line entry point.

use std::collections::BTreeSet;

use clap::Parser;
use http::{Method, StatusCode};
use valence_podm_sim::{SimArgs, SimConfig, SimError, describe, start, start_fleet, start_many};

use crate::client::{Client, tls_connector};

#[tokio::test]
async fn tls_is_served_with_a_pinnable_ca() {
    let podm = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    assert!(podm.base_url().starts_with("https://127.0.0.1:"));
    let ca = podm.ca_pem().unwrap();
    assert!(ca.contains("BEGIN CERTIFICATE"));
    assert_ne!(Some(ca), podm.cert_pem());

    let trusting = Client::new(&podm);
    assert_eq!(trusting.get("/redfish/v1").await.status, StatusCode::OK);

    let stranger = Client::new(&podm).with_tls(Some(tls_connector(None)));
    let err = stranger
        .try_send(Method::GET, "/redfish/v1", None)
        .await
        .unwrap_err();
    assert!(err.starts_with("TLS"), "{err}");

    let other = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let wrong_ca = Client::new(&podm).with_tls(Some(tls_connector(other.ca_pem())));
    assert!(
        wrong_ca
            .try_send(Method::GET, "/redfish/v1", None)
            .await
            .is_err()
    );

    let plain = Client::new(&podm).with_tls(None);
    let resp = plain.try_send(Method::GET, "/redfish/v1", None).await;
    assert!(resp.is_err() || resp.unwrap().status != StatusCode::OK);

    // the certificate survives a restart
    podm.restart().await.unwrap();
    assert_eq!(trusting.get("/redfish/v1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn http2_is_negotiated_over_tls() {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use rustls::pki_types::ServerName;

    let podm = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut config = crate::client::tls_config(podm.ca_pem());
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(podm.addr()).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    let req = http::Request::get(format!("{}/redfish/v1/Systems", podm.base_url()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let systems: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(systems["Members@odata.count"], 8);
}

#[tokio::test]
async fn a_fleet_gets_distinct_ports_seeds_and_one_ca() {
    let pods = start_many(
        3,
        SimConfig {
            name: "pod".into(),
            systems: 4,
            seed: 10,
            tls: true,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let ports: BTreeSet<u16> = pods.iter().map(|p| p.addr().port()).collect();
    assert_eq!(ports.len(), 3);
    let names: Vec<&str> = pods.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["pod-0", "pod-1", "pod-2"]);
    assert_eq!(pods[2].inventory().seed, 12);
    assert_eq!(pods[0].ca_pem(), pods[2].ca_pem());
    let client =
        Client::new(&pods[1]).with_tls(Some(crate::client::tls_connector(pods[0].ca_pem())));
    let root = client.get_json("/redfish/v1").await;
    assert_eq!(root["UUID"], pods[1].inventory().service_uuid.to_string());
    assert!(describe(&pods[1]).contains(&pods[1].base_url()));
}

#[tokio::test]
async fn a_fleet_from_a_base_port_uses_consecutive_ports() {
    // Bases below the kernel's ephemeral range (32768 and up on Linux), where the other tests'
    // own listeners and client sockets do not land; a free range is still not guaranteed, so
    // several bases are tried.
    for attempt in 0..50u16 {
        let base = 20_000 + (rand::random::<u16>() % 10_000);
        match start_many(
            3,
            SimConfig {
                port: base,
                systems: 1,
                ..SimConfig::default()
            },
        )
        .await
        {
            Ok(pods) => {
                let ports: Vec<u16> = pods.iter().map(|p| p.addr().port()).collect();
                assert_eq!(ports, [base, base + 1, base + 2]);
                return;
            }
            Err(SimError::Bind { .. }) => continue,
            Err(e) => panic!("attempt {attempt}: {e}"),
        }
    }
    panic!("no free range of 3 ports found");
}

#[tokio::test]
async fn hundreds_of_podms_share_one_runtime() {
    let pods = start_many(
        300,
        SimConfig {
            systems: 50,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    for podm in &pods {
        let client = Client::new(podm);
        let systems = client.get_json("/redfish/v1/Systems").await;
        assert_eq!(systems["Members@odata.count"], 50);
    }
    let requests: u64 = pods.iter().map(|p| p.stats().requests).sum();
    assert_eq!(requests, 300);
    for podm in &pods {
        podm.stop().await;
    }
}

#[tokio::test]
async fn port_ranges_past_65535_are_refused() {
    let err = start_many(
        3,
        SimConfig {
            port: 65_534,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SimError::Config { field: "port", .. }),
        "{err}"
    );
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    sim: SimArgs,
}

#[tokio::test]
async fn the_cli_starts_a_fleet_and_writes_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let cli = Cli::try_parse_from([
        "sim",
        "--pods",
        "2",
        "--systems",
        "5",
        "--tls",
        "--ca-out",
        ca_path.to_str().unwrap(),
        "--rsd-version",
        "2.2",
        "--username",
        "admin",
        "--password",
        "pw",
    ])
    .unwrap();
    let pods = start_fleet(&cli.sim).await.unwrap();
    assert_eq!(pods.len(), 2);
    let ca = std::fs::read_to_string(&ca_path).unwrap();
    assert_eq!(Some(ca.as_str()), pods[0].ca_pem());
    let client =
        Client::new(&pods[0]).with_auth(crate::client::Auth::Basic("admin".into(), "pw".into()));
    let systems = client.get_json("/redfish/v1/Systems").await;
    assert_eq!(systems["Members@odata.count"], 5);
    let root = client.get_json("/redfish/v1").await;
    assert_eq!(root["Oem"]["Intel_RackScale"]["ApiVersion"], "2.2.0");
}
