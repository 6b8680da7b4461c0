//! The server starts on its embedded defaults and answers the basics.

use crate::harness::{Server, get_json};

#[test]
fn serve_answers_the_versions_document() {
    let server = Server::start(&[]);
    let (status, body) = get_json(&server.url("/"));
    assert_eq!(status, 200);
    assert_eq!(body["versions"][0]["id"], "v1");
    assert_eq!(body["versions"][0]["status"], "CURRENT");
    let href = body["versions"][0]["links"][0]["href"].as_str().unwrap();
    assert!(
        href.starts_with(&server.base) && href.ends_with("/v1/"),
        "{href}"
    );
}

#[test]
fn unknown_paths_and_methods_get_the_error_body() {
    let server = Server::start(&[]);
    let (status, body) = get_json(&server.url("/v1/no_such_thing"));
    assert_eq!(status, 404);
    assert_eq!(body["code"], "NotFound");
    assert_eq!(body["status"], 404);
    assert!(body["request_id"].as_str().unwrap().starts_with("req-"));

    let mut resp = crate::harness::agent()
        .delete(&server.url("/v1"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let request_id = resp
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = resp.body_mut().read_json().unwrap();
    assert_eq!(body["code"], "MethodNotAllowed");
    assert_eq!(body["request_id"], request_id.as_str());
}

#[test]
fn server_runs_in_its_own_working_directory() {
    let server = Server::start(&[]);
    assert!(server.dir.path().is_dir());
}
