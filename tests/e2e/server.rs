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
fn serve_creates_its_sqlite_file_in_the_working_directory() {
    let server = Server::start(&[]);
    assert!(server.dir.path().join("valence.db").is_file());
}

#[test]
fn migrate_applies_migrations_and_a_bad_database_url_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::harness::valence_bin())
        .args(["migrate", "--database-url", "sqlite://state.db"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("state.db").is_file());

    let out = std::process::Command::new(crate::harness::valence_bin())
        .args([
            "migrate",
            "--database-url",
            "mysql://root@localhost/valence",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mysql"),
        "the error names the scheme: {stderr}"
    );
}
