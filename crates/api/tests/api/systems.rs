//! `/v1/systems` paging over several PODMs: pages built from the cached inventories follow the
//! order of the whole list.

use axum::http::{Method, StatusCode};

use crate::harness::{TestApp, sim};

fn ids(body: &serde_json::Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_walk_the_sorted_list_of_every_podm() {
    let app = TestApp::new();
    let (a, b) = (sim("a", 12, 1).await, sim("b", 12, 2).await);
    app.register("a", &a).await;
    app.register("b", &b).await;
    let all = ids(&app.call(Method::GET, "/v1/systems", None).await.body);
    assert_eq!(all.len(), 24);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "ids in order across PODMs");

    let mut walked = Vec::new();
    let mut marker = String::new();
    loop {
        let path = if marker.is_empty() {
            "/v1/systems?limit=5".to_owned()
        } else {
            format!("/v1/systems?limit=5&marker={marker}")
        };
        let page = ids(&app.call(Method::GET, &path, None).await.body);
        let Some(last) = page.last() else { break };
        marker = last.clone();
        walked.extend(page);
    }
    assert_eq!(walked, all);

    let unknown = app
        .call(Method::GET, "/v1/systems?limit=5&marker=nope", None)
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}
