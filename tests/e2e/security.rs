//! API security of the built server: tokens and roles, loopback-only without tokens, TLS.

use std::process::Command;

use crate::harness::{Server, agent, create_token, valence_bin};

#[test]
fn without_tokens_the_server_refuses_to_listen_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(valence_bin())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("without API tokens") && stderr.contains("token"),
        "{stderr}"
    );
}

#[test]
fn tokens_are_required_and_readers_only_read() {
    let dir = tempfile::tempdir().unwrap();
    let admin = create_token(dir.path(), "ops", "admin");
    let reader = create_token(dir.path(), "dashboard", "reader");
    let file = std::fs::read_to_string(dir.path().join("tokens.toml")).unwrap();
    assert!(
        !file.contains(&admin) && !file.contains(&reader),
        "the token file holds hashes only"
    );
    let tokens = dir.path().join("tokens.toml");
    let server = Server::start(&["--token-file", tokens.to_str().unwrap()]);
    let http = agent();

    let open = http.get(&server.url("/healthz")).call().unwrap();
    assert_eq!(open.status().as_u16(), 200);
    let anonymous = http.get(&server.url("/v1/nodes")).call().unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let wrong = http
        .get(&server.url("/v1/nodes"))
        .header("Authorization", "Bearer vlc_nope")
        .call()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);

    let read = http
        .get(&server.url("/v1/flavors"))
        .header("Authorization", &format!("Bearer {reader}"))
        .call()
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let body = serde_json::json!({"name": "small", "properties": {}});
    let mut write = http
        .post(&server.url("/v1/flavors"))
        .header("Authorization", &format!("Bearer {reader}"))
        .send_json(&body)
        .unwrap();
    assert_eq!(write.status().as_u16(), 403);
    let refusal: serde_json::Value = write.body_mut().read_json().unwrap();
    assert_eq!(refusal["code"], "Forbidden");
    let created = http
        .post(&server.url("/v1/flavors"))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_json(&body)
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
}

#[test]
fn the_api_serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    let server = Server::start(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);
    assert!(server.base.starts_with("https://"), "{}", server.base);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut options = valence_client::ClientOptions::new(server.base.clone());
        options.ca_cert = Some(cert.cert.pem());
        let client = valence_client::Client::new(&options).unwrap();
        assert!(client.list_flavors().await.unwrap().is_empty());

        let untrusted =
            valence_client::Client::new(&valence_client::ClientOptions::new(server.base.clone()))
                .unwrap();
        let err = untrusted.list_flavors().await.unwrap_err();
        assert!(err.to_string().to_lowercase().contains("issuer"), "{err}");
    });
}

fn valence(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(valence_bin())
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stored_password(dir: &std::path::Path) -> String {
    let db = valence_db::Db::connect(
        dir.join("valence.db").to_str().unwrap(),
        &valence_db::DbOptions::default(),
    )
    .unwrap();
    let mut conn = db.get().unwrap();
    let rows =
        valence_db::pod_managers::list(&mut conn, &Default::default(), valence_db::Page::default())
            .unwrap();
    rows[0]
        .password_secret
        .as_ref()
        .unwrap()
        .expose()
        .to_owned()
}

#[test]
fn podm_passwords_are_sealed_at_rest_and_rotated_to_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_a = valence(dir.path(), &["secrets", "generate-key"]);
    std::fs::write(dir.path().join("a.key"), &key_a.stdout).unwrap();
    std::fs::write(
        dir.path().join("valence.toml"),
        "[secrets]\nkey_file = \"a.key\"\n",
    )
    .unwrap();

    let work = tempfile::tempdir().unwrap();
    for f in ["a.key", "valence.toml"] {
        std::fs::copy(dir.path().join(f), work.path().join(f)).unwrap();
    }
    let server = Server::start_in(work, &["--config", "valence.toml"]);
    let secret = "Rotate-Me-91";
    let body = serde_json::json!({"name": "p", "url": "http://127.0.0.1:9",
        "authentication": [{"type": "basic", "auth_items": {"username": "u", "password": secret}}]});
    let mut created = agent()
        .post(&server.url("/v1/pod_managers"))
        .send_json(&body)
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    assert!(
        !created
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains(secret)
    );
    let work = server.stop();
    let workdir = work.path();

    let sealed_a = stored_password(workdir);
    assert!(
        sealed_a.starts_with("$vsec1$") && !sealed_a.contains(secret),
        "{sealed_a}"
    );

    // A new current key without the old one cannot open what the old one sealed.
    let key_b = valence(workdir, &["secrets", "generate-key"]);
    std::fs::write(workdir.join("b.key"), &key_b.stdout).unwrap();
    std::fs::write(
        workdir.join("valence.toml"),
        "[secrets]\nkey_file = \"b.key\"\n",
    )
    .unwrap();
    let refused = valence(workdir, &["secrets", "rotate", "--config", "valence.toml"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not configured"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    std::fs::write(
        workdir.join("valence.toml"),
        "[secrets]\nkey_file = \"b.key\"\nprevious_key_files = [\"a.key\"]\n",
    )
    .unwrap();
    let rotated = valence(workdir, &["secrets", "rotate", "--config", "valence.toml"]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("resealed 1"));
    let sealed_b = stored_password(workdir);
    assert_ne!(
        sealed_a.split('$').nth(2),
        sealed_b.split('$').nth(2),
        "sealed under another key id"
    );
    let again = valence(workdir, &["secrets", "rotate", "--config", "valence.toml"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("resealed 0"));
}

#[test]
fn the_cli_sends_its_token_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let reader = create_token(dir.path(), "cli", "reader");
    let tokens = dir.path().join("tokens.toml");
    let server = Server::start(&["--token-file", tokens.to_str().unwrap()]);
    let list = |token: Option<&str>| {
        let mut cmd = Command::new(valence_bin());
        cmd.args(["flavor", "list", "--url", &server.base])
            .env_remove("VALENCE_TOKEN");
        if let Some(t) = token {
            cmd.env("VALENCE_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let refused = list(None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let allowed = list(Some(&reader));
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&allowed.stdout),
        String::from_utf8_lossy(&allowed.stderr)
    );
    assert!(!output.contains(&reader), "the token is never printed");
}

#[test]
fn the_console_asks_for_a_token_and_keeps_it_in_a_console_only_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let admin = create_token(dir.path(), "ops", "admin");
    let tokens = dir.path().join("tokens.toml");
    let server = Server::start(&["--token-file", tokens.to_str().unwrap()]);
    let browser: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();

    let page = browser.get(&server.url("/ui/pod_managers")).call().unwrap();
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers().get("location").unwrap(), "/ui/login");
    let login = browser.get(&server.url("/ui/login")).call().unwrap();
    assert_eq!(login.status().as_u16(), 200);

    let origin = server.base.clone();
    let wrong = browser
        .post(&server.url("/ui/login"))
        .header("Origin", &origin)
        .send_form([("token", "vlc_wrong")])
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let signed_in = browser
        .post(&server.url("/ui/login"))
        .header("Origin", &origin)
        .send_form([("token", admin.as_str())])
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let page = browser
        .get(&server.url("/ui/pod_managers"))
        .header("Cookie", &pair)
        .call()
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let api = browser
        .get(&server.url("/v1/nodes"))
        .header("Cookie", &pair)
        .call()
        .unwrap();
    assert_eq!(
        api.status().as_u16(),
        401,
        "the console cookie does not authorize API calls"
    );
}
