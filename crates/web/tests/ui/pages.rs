//! Plain HTTP tests of the pages (no browser): status, key elements, escaping, no password,
//! the form flows without JavaScript, and the CSRF check.

use axum::http::StatusCode;

use crate::harness::{PASSWORD, TestApp, USER, count, dead_url, sim};

const EVIL: &str = "<script>x</script>";
const EVIL_ESCAPED: &str = "&lt;script&gt;x&lt;/script&gt;";

#[tokio::test]
async fn every_page_renders_escapes_podm_text_and_never_shows_the_password() {
    let app = TestApp::new();
    let pod = sim("evil", 4, 3).await;
    let podm = app.register(EVIL, &pod).await;
    let node = app.compose("n<b>1</b>", Some(&podm)).await;
    assert_eq!(app.settled(&node).await, "ready");
    let flavor = app
        .post(
            "/ui/flavors",
            &[("name", "<i>small</i>"), ("cores", "1"), ("memory_gib", "")],
        )
        .await;
    assert_eq!(flavor.status, StatusCode::SEE_OTHER, "{}", flavor.text);

    let home = app.get("/ui").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/ui/pod_managers");

    let pages = [
        ("/ui/pod_managers", true),
        ("/ui/pod_managers/new", false),
        (&format!("/ui/pod_managers/{podm}"), true),
        (&format!("/ui/pod_managers/{podm}/delete"), true),
        ("/ui/systems", true),
        ("/ui/nodes", true),
        ("/ui/nodes/new", true),
        (&format!("/ui/nodes/{node}"), true),
        (&format!("/ui/nodes/{node}/decompose"), true),
        ("/ui/flavors", false),
    ];
    for (path, names_podm) in pages {
        let reply = app.get(path).await;
        let text = reply.page(StatusCode::OK);
        assert!(text.contains("<h1>"), "{path}: no heading");
        assert!(
            text.contains(r##"<a class="skip" href="#main">"##),
            "{path}"
        );
        assert!(text.contains(r#"<main id="main""#), "{path}");
        assert!(
            text.contains(r#"aria-current="page""#),
            "{path}: no current section"
        );
        assert!(!text.contains(EVIL), "{path}: unescaped PODM name");
        assert!(!text.contains("<b>1</b>"), "{path}: unescaped node name");
        assert!(
            !text.contains("<i>small</i>"),
            "{path}: unescaped flavor name"
        );
        if names_podm {
            assert!(text.contains(EVIL_ESCAPED), "{path}: PODM name missing");
        }
        // Every table header cell says what it heads; every input has a label.
        assert_eq!(count(text, "<th>"), 0, "{path}: a <th> without scope");
        for id in text.match_indices(r#"<input id=""#).map(|(i, _)| {
            let rest = &text[i + 11..];
            rest[..rest.find('"').unwrap()].to_owned()
        }) {
            assert!(
                text.contains(&format!(r#"<label for="{id}""#)),
                "{path}: input {id} has no label"
            );
        }
        let csp = reply.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(reply.headers["cache-control"], "no-store");
    }

    // Pages that show it name the user but never the password, not even masked.
    let detail = app.get(&format!("/ui/pod_managers/{podm}")).await;
    let text = detail.page(StatusCode::OK);
    assert!(text.contains(USER));
    assert!(!text.contains("********"));
    assert!(text.contains(r#"type="password""#));
    assert!(!text.contains(r#"type="password" value"#));
}

#[tokio::test]
async fn podm_table_shows_status_state_driver_usage_and_last_seen() {
    let app = TestApp::new();
    let pod = sim("alpha", 8, 1).await;
    app.register("alpha", &pod).await;
    let reply = app.get("/ui/pod_managers").await;
    let text = reply.page(StatusCode::OK);
    for header in [
        "Name",
        "Status",
        "State",
        "Driver",
        "Systems",
        "Cores",
        "Memory",
        "Last seen",
        "Last error",
    ] {
        assert!(
            text.contains(&format!(r#"<th scope="col">{header}</th>"#)),
            "{header}"
        );
    }
    assert!(text.contains(">Online</span>"), "{text}");
    assert!(text.contains(">active</span>"));
    assert!(text.contains("<td>rsd</td>"));
    assert!(text.contains("8 of 8 free"), "{text}");
    assert!(text.contains("<meter"));
    assert!(text.contains(" s ago</time>"));
    assert!(text.contains("Cordon alpha"));
}

#[tokio::test]
async fn registration_shows_an_unreachable_podm_inline_and_succeeds_without_javascript() {
    let app = TestApp::new();
    let dead = dead_url();
    let reply = app
        .post(
            "/ui/pod_managers/new",
            &[
                ("name", "gamma"),
                ("url", &dead),
                ("driver", ""),
                ("auth_type", "basic"),
                ("username", USER),
                ("password", PASSWORD),
                ("tls_verify", "on"),
            ],
        )
        .await;
    let text = reply.page(StatusCode::BAD_GATEWAY);
    assert!(text.contains("Pod manager unreachable"), "{text}");
    assert!(text.contains(r#"id="f-url""#) && text.contains(r#"aria-invalid="true""#));
    assert!(
        text.contains(&format!(r#"value="{dead}""#)),
        "the URL is kept"
    );
    assert!(text.contains(r#"name="password" type="password""#));
    assert!(
        valence_api::service::podms::all_rows(&app.state)
            .await
            .unwrap()
            .is_empty()
    );

    // A password without a user name is caught before any probe.
    let reply = app
        .post(
            "/ui/pod_managers/new",
            &[("name", "gamma"), ("url", &dead), ("password", PASSWORD)],
        )
        .await;
    let text = reply.page(StatusCode::BAD_REQUEST);
    assert!(text.contains("give the user name"), "{text}");

    // Allowed offline: stored, shown Offline with its error.
    let reply = app
        .post(
            "/ui/pod_managers/new",
            &[("name", "gamma"), ("url", &dead), ("allow_offline", "on")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let list = app.get("/ui/pod_managers").await;
    let text = list.page(StatusCode::OK);
    assert!(text.contains(">Offline</span>"), "{text}");
    assert!(text.contains("No figures"));

    let pod = sim("delta", 4, 2).await;
    let reply = app
        .post(
            "/ui/pod_managers/new",
            &[
                ("name", "delta"),
                ("url", &pod.base_url()),
                ("auth_type", "session"),
                ("username", USER),
                ("password", PASSWORD),
                ("tls_verify", "on"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location(), "/ui/pod_managers?notice=registered");
    let list = app.get(reply.location()).await;
    let text = list.page(StatusCode::OK);
    assert!(text.contains("Pod manager registered."));
    assert!(text.contains("4 of 4 free"), "{text}");

    // The same PODM again: the API's conflict, shown on the field it names.
    let reply = app
        .post(
            "/ui/pod_managers/new",
            &[
                ("name", "delta"),
                ("url", &pod.base_url()),
                ("username", USER),
                ("password", PASSWORD),
            ],
        )
        .await;
    let text = reply.page(StatusCode::CONFLICT);
    assert!(text.contains(r#"<p class="field-error" id="url-error">url: another pod manager already has this value"#), "{text}");
}

#[tokio::test]
async fn edit_cordon_and_uncordon_go_through_the_service() {
    let app = TestApp::new();
    let pod = sim("alpha", 4, 1).await;
    let uuid = app.register("alpha", &pod).await;
    let path = format!("/ui/pod_managers/{uuid}");

    let reply = app
        .post(
            &path,
            &[
                ("name", "alpha"),
                ("url", &pod.base_url()),
                ("description", "rack 4"),
                ("tls_verify", "on"),
                ("auth_type", "basic"),
                ("username", USER),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location(), format!("{path}?notice=updated"));
    let text = app
        .get(reply.location())
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(
        text.contains("rack 4") && text.contains("Pod manager updated."),
        "{text}"
    );

    // A new password needs its user name.
    let reply = app
        .post(
            &path,
            &[
                ("name", "alpha"),
                ("url", &pod.base_url()),
                ("tls_verify", "on"),
                ("username", ""),
                ("password", "new-one"),
            ],
        )
        .await;
    let text = reply.page(StatusCode::BAD_REQUEST);
    assert!(text.contains("give the user name"), "{text}");
    assert!(!text.contains("new-one"));

    let reply = app
        .post(
            &format!("{path}/state"),
            &[("state", "cordoned"), ("back", "list")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/ui/pod_managers?notice=cordoned");
    let text = app
        .get("/ui/pod_managers")
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(text.contains(">cordoned</span>") && text.contains("Uncordon alpha"));

    let compose = app.get("/ui/nodes/new").await;
    let text = compose.page(StatusCode::OK);
    assert!(
        text.contains(&format!(
            r#"<option value="{uuid}" disabled>alpha: unavailable, cordoned</option>"#
        )),
        "{text}"
    );

    let reply = app
        .post(
            &format!("{path}/state"),
            &[("state", "active"), ("back", "detail")],
        )
        .await;
    assert_eq!(reply.location(), format!("{path}?notice=uncordoned"));
    let text = app
        .get("/ui/nodes/new")
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(
        text.contains(&format!(
            r#"<option value="{uuid}">alpha: 4 of 4 systems free"#
        )),
        "{text}"
    );

    let reply = app
        .post(&format!("{path}/state"), &[("state", "deleting")])
        .await;
    reply.page(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn compose_preview_submit_and_progress_without_javascript() {
    let app = TestApp::new();
    let a = sim("alpha", 4, 1).await;
    let b = sim("beta", 4, 2).await;
    let alpha = app.register("alpha", &a).await;
    app.register("beta", &b).await;

    let reply = app
        .post(
            "/ui/nodes/preview",
            &[("name", ""), ("podm_id", &alpha), ("cores", "1")],
        )
        .await;
    let text = reply.page(StatusCode::OK);
    assert!(
        text.contains("The scheduler would compose on <strong>alpha</strong>"),
        "{text}"
    );
    assert!(text.contains(r#"<section id="preview""#));

    let reply = app
        .post("/ui/nodes/preview", &[("name", "x"), ("cores", "100000")])
        .await;
    let text = reply.page(StatusCode::OK);
    assert!(text.contains("Nothing fits"), "{text}");
    assert_eq!(count(text, r#"<th scope="row">alpha</th>"#), 1, "{text}");
    assert_eq!(count(text, r#"<th scope="row">beta</th>"#), 1);

    // A preview of a wrong form: the errors are inside the part htmx swaps in.
    let reply = app
        .post("/ui/nodes/preview", &[("name", ""), ("cores", "many")])
        .await;
    let text = reply.page(StatusCode::BAD_REQUEST);
    let preview = text.split(r#"<section id="preview""#).nth(1).unwrap();
    assert!(
        preview.contains("error-summary") && preview.contains("is not a whole number"),
        "{text}"
    );

    // Refused compose: the per-PODM explanation comes with the error.
    let reply = app
        .post("/ui/nodes", &[("name", "big"), ("cores", "100000")])
        .await;
    let text = reply.page(StatusCode::CONFLICT);
    assert!(
        text.contains("No valid pod manager") && text.contains("Why nothing fits"),
        "{text}"
    );

    // A flavor and figures at once is the user's to fix.
    let reply = app
        .post(
            "/ui/nodes",
            &[("name", "x"), ("flavor_id", "whatever"), ("cores", "2")],
        )
        .await;
    let text = reply.page(StatusCode::BAD_REQUEST);
    assert!(text.contains(r#"id="flavor_id-error""#), "{text}");

    let reply = app
        .post(
            "/ui/nodes",
            &[
                ("name", "n1"),
                ("podm_id", &alpha),
                ("cores", "1"),
                ("idempotency_key", "k-1"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let node_page = reply.location().to_owned();
    assert!(node_page.starts_with("/ui/nodes/"));
    // The same form posted twice composes one node.
    let again = app
        .post(
            "/ui/nodes",
            &[
                ("name", "n1"),
                ("podm_id", &alpha),
                ("cores", "1"),
                ("idempotency_key", "k-1"),
            ],
        )
        .await;
    assert_eq!(again.location(), node_page);

    let uuid = node_page.trim_start_matches("/ui/nodes/");
    assert_eq!(app.settled(uuid).await, "ready");
    let text = app.get(&node_page).await.page(StatusCode::OK).to_owned();
    assert!(text.contains(r#"data-state="ready""#), "{text}");
    assert!(!text.contains("http-equiv=\"refresh\""));
    assert!(!text.contains("hx-trigger"));
    for section in [
        "Power",
        "Processors",
        "Memory and storage",
        "Network",
        "System",
    ] {
        assert!(
            text.contains(&format!(">{section}</h2>")),
            "{section}: {text}"
        );
    }
    assert!(text.contains(">alpha</a>"));
    let list = app.get("/ui/nodes").await;
    assert_eq!(count(list.page(StatusCode::OK), "data-node="), 1);
}

#[tokio::test]
async fn a_node_in_progress_polls_and_refreshes_without_javascript() {
    let app = TestApp::new();
    let slow = valence_podm_sim::Behavior {
        allocation_delay: std::time::Duration::from_secs(3),
        ..Default::default()
    };
    let pod = crate::harness::sim_with("slow", 2, 1, slow).await;
    let podm = app.register("slow", &pod).await;
    let node = app.compose("n1", Some(&podm)).await;
    let text = app
        .get(&format!("/ui/nodes/{node}"))
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(text.contains(r#"data-state="allocating""#), "{text}");
    assert!(text.contains(r#"<noscript><meta http-equiv="refresh" content="2"></noscript>"#));
    assert!(text.contains(r#"hx-trigger="every 1s""#));
    assert!(text.contains(r#"aria-current="step">Allocating</li>"#));
    // No action on a node being composed.
    assert!(!text.contains("/decompose\""));
    assert_eq!(app.settled(&node).await, "ready");
}

#[tokio::test]
async fn a_failed_compose_shows_the_podm_message() {
    let app = TestApp::new();
    let failing = valence_podm_sim::Behavior {
        assembly_failure_rate: 1.0,
        ..Default::default()
    };
    let pod = crate::harness::sim_with("flaky", 2, 1, failing).await;
    let podm = app.register("flaky", &pod).await;
    let node = app.compose("doomed", Some(&podm)).await;
    assert_eq!(app.settled(&node).await, "failed");
    let text = app
        .get(&format!("/ui/nodes/{node}"))
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(text.contains(r#"data-state="failed""#), "{text}");
    assert!(text.contains("The compose failed."));
    let row =
        valence_api::service::nodes::get_row(&app.state, uuid::Uuid::parse_str(&node).unwrap())
            .await
            .unwrap();
    let message = row.last_error.expect("the PODM's message is recorded");
    assert!(
        text.contains(&maud::html! { (message) }.into_string()),
        "{text}"
    );
    // A failed node can be cleaned up from its page.
    assert!(text.contains(&format!(r#"href="/ui/nodes/{node}/decompose""#)));
}

#[tokio::test]
async fn node_actions_and_decompose_without_javascript() {
    let app = TestApp::new();
    let pod = sim("alpha", 2, 1).await;
    let podm = app.register("alpha", &pod).await;
    let node = app.compose("n1", Some(&podm)).await;
    assert_eq!(app.settled(&node).await, "ready");
    let path = format!("/ui/nodes/{node}");

    let reply = app
        .post(&format!("{path}/reset"), &[("reset_type", "ForceRestart")])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location(), format!("{path}?notice=reset"));
    let reply = app
        .post(&format!("{path}/reset"), &[("reset_type", "Bogus")])
        .await;
    let text = reply.page(reply.status);
    assert!(reply.status.is_client_error(), "{}", reply.status);
    assert!(
        text.contains("error-summary") && text.contains("Reset.Type"),
        "{text}"
    );

    let reply = app
        .post(
            &format!("{path}/boot"),
            &[("enabled", "Once"), ("target", "Pxe")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);

    let confirm = app.get(&format!("{path}/decompose")).await;
    assert!(confirm.page(StatusCode::OK).contains("Decompose the node"));
    let reply = app.post(&format!("{path}/decompose"), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location(), "/ui/nodes?notice=decomposed");
    assert!(pod.nodes().is_empty());
    app.get(&path).await.page(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_podm_with_nodes_is_refused_previewed_and_needs_a_typed_confirmation() {
    let app = TestApp::new();
    let pod = sim("alpha", 2, 1).await;
    let podm = app.register("alpha", &pod).await;
    let node = app.compose("keeper", Some(&podm)).await;
    assert_eq!(app.settled(&node).await, "ready");
    let path = format!("/ui/pod_managers/{podm}/delete");

    let text = app.get(&path).await.page(StatusCode::OK).to_owned();
    assert!(text.contains("this node would be released"), "{text}");
    assert!(text.contains(">keeper</a>"));

    let reply = app.post(&path, &[]).await;
    let text = reply.page(StatusCode::CONFLICT);
    assert!(text.contains("still holds 1 node(s)"), "{text}");
    assert!(text.contains("this node would be released"));

    let reply = app
        .post(&path, &[("release", "on"), ("confirm_name", "alpa")])
        .await;
    let text = reply.page(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("type alpha exactly"), "{text}");
    assert_eq!(pod.nodes().len(), 1);

    let reply = app
        .post(&path, &[("release", "on"), ("confirm_name", "alpha")])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location(), "/ui/pod_managers?notice=podm-deleted");
    assert!(pod.nodes().is_empty());
    assert!(
        valence_api::service::podms::all_rows(&app.state)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn systems_filter_page_and_name_the_podms_that_did_not_answer() {
    let app = TestApp::new();
    let a = sim("alpha", 6, 1).await;
    let b = sim("beta", 6, 2).await;
    let alpha = app.register("alpha", &a).await;
    app.register("beta", &b).await;
    let offline = valence_client::types::PodManagerCreate {
        name: "gone".into(),
        url: dead_url(),
        driver: Some("rsd".into()),
        authentication: vec![],
        description: None,
        location: None,
        tls_verify: None,
        ca_cert: None,
    };
    valence_api::service::podms::register(&app.state, offline, false)
        .await
        .unwrap();

    let text = app.get("/ui/systems").await.page(StatusCode::OK).to_owned();
    assert_eq!(count(&text, "data-system="), 12, "{text}");
    assert!(
        text.contains(r#"id="failed-podms""#) && text.contains("<strong>gone</strong>"),
        "{text}"
    );

    // The compose form lists the offline PODM, disabled, with its reason.
    let text = app
        .get("/ui/nodes/new")
        .await
        .page(StatusCode::OK)
        .to_owned();
    let option = text
        .split("<option")
        .find(|o| o.contains(">gone: "))
        .unwrap();
    assert!(
        option.contains(" disabled>gone: unavailable, offline"),
        "{option}"
    );

    let text = app
        .get(&format!("/ui/systems?podm_id={alpha}"))
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert_eq!(count(&text, "data-system="), 6);
    assert!(!text.contains("failed-podms"));

    let text = app
        .get("/ui/systems?limit=5")
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert_eq!(count(&text, "data-system="), 5);
    let next = text
        .split(r#"<a rel="next" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page link")
        .replace("&amp;", "&");
    let page2 = app.get(&next).await.page(StatusCode::OK).to_owned();
    assert_eq!(count(&page2, "data-system="), 5);
    assert!(page2.contains("First page"));
    let first_ids: Vec<&str> = text.matches("data-system=\"").collect();
    assert_eq!(first_ids.len(), 5);

    let text = app
        .get("/ui/systems?min_cores=100000")
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(text.contains("No system matches"));
    let reply = app.get("/ui/systems?min_cores=lots").await;
    let text = reply.page(StatusCode::BAD_REQUEST);
    assert!(text.contains(r#"id="min_cores-error""#), "{text}");

    let node = app.compose("n1", Some(&alpha)).await;
    assert_eq!(app.settled(&node).await, "ready");
    let text = app
        .get("/ui/systems?free=on")
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert_eq!(count(&text, "data-system="), 11);
}

#[tokio::test]
async fn flavors_are_created_listed_and_deleted() {
    let app = TestApp::new();
    let reply = app
        .post(
            "/ui/flavors",
            &[
                ("name", "medium"),
                ("cores", "4"),
                ("memory_gib", "16"),
                ("storage_gib", "100"),
                ("drive_type", "SSD"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let text = app
        .get("/ui/flavors?notice=flavor-created")
        .await
        .page(StatusCode::OK)
        .to_owned();
    assert!(
        text.contains("at least 4 cores, 16 GiB memory, a 100 GiB SSD"),
        "{text}"
    );
    assert!(text.contains("Flavor created."));

    let reply = app.post("/ui/flavors", &[("name", "medium")]).await;
    let text = reply.page(StatusCode::CONFLICT);
    assert!(text.contains(r#"id="name-error""#), "{text}");
    let reply = app
        .post("/ui/flavors", &[("name", "x"), ("cores", "-1")])
        .await;
    reply.page(StatusCode::BAD_REQUEST);

    let compose = app.get("/ui/nodes/new").await;
    assert!(
        compose
            .page(StatusCode::OK)
            .contains("medium: at least 4 cores")
    );

    let uuid = text
        .split("/ui/flavors/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let reply = app.post(&format!("/ui/flavors/{uuid}/delete"), &[]).await;
    assert_eq!(reply.location(), "/ui/flavors?notice=flavor-deleted");
    let text = app.get("/ui/flavors").await.page(StatusCode::OK).to_owned();
    assert!(text.contains("No flavor yet."));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = TestApp::new();
    let fields = [("name", "f1")];
    for headers in [
        vec![],
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
        vec![("referer", "http://evil.example/form")],
        vec![
            ("origin", "http://valence.test"),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let reply = app.post_with("/ui/flavors", &fields, &headers).await;
        let text = reply.page(StatusCode::FORBIDDEN);
        assert!(text.contains("Request refused"), "{headers:?}: {text}");
    }
    let reply = app
        .post_with(
            "/ui/flavors",
            &fields,
            &[("referer", "http://valence.test/ui/flavors")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    // The API is not the console's to guard: its clients are not browsers.
    let api = app.post_with("/v1/flavors", &[], &[]).await;
    assert_ne!(api.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn errors_are_pages_not_json() {
    let app = TestApp::new();
    for path in [
        "/ui/nope",
        "/ui/nodes/not-a-uuid",
        "/ui/nodes/6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11",
        "/ui/pod_managers/6f1c3b0e-8f4e-4a43-9a57-0d2b8f1b9c11",
        "/ui/assets/nope.js",
    ] {
        let reply = app.get(path).await;
        let text = reply.page(StatusCode::NOT_FOUND);
        assert!(text.contains("request id <code>req-"), "{path}: {text}");
    }
    let reply = app.post("/ui/systems", &[]).await;
    reply.page(StatusCode::METHOD_NOT_ALLOWED);
    // A form body that is not a form.
    let reply = app
        .post_with(
            "/ui/nodes/preview",
            &[],
            &[
                ("origin", "http://valence.test"),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert!(reply.status.is_client_error());
    // The API keeps answering JSON.
    let api = app.get("/v1/nope").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.content_type().starts_with("application/json"));
}

#[tokio::test]
async fn assets_are_embedded_and_cached() {
    let app = TestApp::new();
    let js = app.get("/ui/assets/htmx.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type().starts_with("text/javascript"));
    assert!(js.text.contains("htmx"));
    assert!(
        js.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let css = app.get("/ui/assets/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type().starts_with("text/css"));
    assert!(css.text.contains(":focus-visible"));
    // No page loads anything from elsewhere.
    let page = app.get("/ui/pod_managers").await;
    let text = page.page(StatusCode::OK);
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "{text}"
    );
}
