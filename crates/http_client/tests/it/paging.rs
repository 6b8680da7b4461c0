//! `collection_members`: following `Members@odata.nextLink`, loops and the page limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use serde_json::{Value, json};
use valence_http_client::{Auth, Error, PodmClient};

use crate::harness::{config, serve};

fn page(members: &[&str], next: Option<&str>) -> Value {
    let mut page = json!({
        "@odata.id": "/redfish/v1/Systems",
        "Members@odata.count": 5,
        "Members": members.iter().map(|m| json!({"@odata.id": m})).collect::<Vec<_>>(),
    });
    if let Some(next) = next {
        page["Members@odata.nextLink"] = json!(next);
    }
    page
}

/// Serves `/redfish/v1/Systems?page=N` from a function of N; counts requests.
async fn paged(
    pages: impl Fn(u32) -> Value + Clone + Send + Sync + 'static,
) -> (crate::harness::TestServer, PodmClient, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/redfish/v1/Systems",
        get(move |Query(query): Query<HashMap<String, u32>>| {
            let pages = pages.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::Json(pages(query.get("page").copied().unwrap_or(1)))
            }
        }),
    );
    let server = serve(router).await;
    let mut cfg = config(server.url(), Auth::None);
    cfg.max_pages = 5;
    let client = PodmClient::new(cfg).unwrap();
    (server, client, hits)
}

#[tokio::test]
async fn members_of_all_three_pages_in_order() {
    let (_server, client, hits) = paged(|n| match n {
        1 => page(
            &["/redfish/v1/Systems/1", "/redfish/v1/Systems/2"],
            Some("/redfish/v1/Systems?page=2"),
        ),
        // Relative and absolute links are both seen in the field.
        2 => page(
            &["/redfish/v1/Systems/3", "/redfish/v1/Systems/4"],
            Some("Systems?page=3"),
        ),
        _ => page(&["/redfish/v1/Systems/5"], None),
    })
    .await;

    let members = client
        .collection_members("/redfish/v1/Systems")
        .await
        .unwrap();
    assert_eq!(
        members,
        (1..=5)
            .map(|i| format!("/redfish/v1/Systems/{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn next_link_back_to_an_earlier_page_is_a_loop() {
    let (_server, client, hits) = paged(|n| match n {
        1 => page(
            &["/redfish/v1/Systems/1"],
            Some("/redfish/v1/Systems?page=2"),
        ),
        _ => page(
            &["/redfish/v1/Systems/2"],
            Some("/redfish/v1/Systems?page=1"),
        ),
    })
    .await;

    let err = client
        .collection_members("/redfish/v1/Systems?page=1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::PageLoop { url } if url.ends_with("/redfish/v1/Systems?page=1")),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn endless_paging_stops_at_the_page_limit() {
    let (_server, client, hits) = paged(|n| {
        page(
            &["/redfish/v1/Systems/x"],
            Some(&format!("/redfish/v1/Systems?page={}", n + 1)),
        )
    })
    .await;

    let err = client
        .collection_members("/redfish/v1/Systems")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooManyPages { limit: 5, url } if url.ends_with("/redfish/v1/Systems")),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn next_link_to_another_host_is_refused() {
    let (_server, client, hits) = paged(|_| {
        page(
            &["/redfish/v1/Systems/1"],
            Some("https://elsewhere.invalid/redfish/v1/Systems?page=2"),
        )
    })
    .await;

    let err = client
        .collection_members("/redfish/v1/Systems")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
