//! End-to-end flows in headless Chromium, driven over WebDriver (chromedriver + fantoccini)
//! against the console served on a loopback port with simulated PODMs behind it.
//!
//! Without `chromium` and `chromedriver` installed these tests print one line and pass (CI
//! installs both). A failing test saves a screenshot in `target/ui-screenshots/`; with
//! `VALENCE_UI_SHOTS=<dir>` a passing run also saves screenshots of the pages it visits.

use std::io::Write;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use valence_podm_sim::Behavior;

use crate::harness::{PASSWORD, TestApp, USER, dead_url, sim, sim_with};

/// One browser at a time: the machine has two cores, and Chromium is heavy.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a step may wait for the page to show something.
const STEP: Duration = Duration::from_secs(15);

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Chromium and chromedriver, from `VALENCE_CHROMIUM` / `VALENCE_CHROMEDRIVER` or the `PATH`.
fn binaries() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("VALENCE_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]))?;
    let driver = std::env::var_os("VALENCE_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromedriver"]))?;
    Some((chromium, driver))
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")))
        .join("ui-screenshots")
}

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Browser {
    client: Client,
    base: String,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn start_driver(driver: &Path) -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let guard = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (guard, port)
}

async fn connect(chromium: &Path, driver_port: u16, profile: &Path) -> Client {
    // The machine has no internet: without these flags Chromium stalls on background calls.
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-quic".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium.display().to_string(), "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a Chromium session")
}

/// Runs `test` in a fresh headless Chromium against `app`; on failure saves a screenshot as
/// `target/ui-screenshots/<name>.png`, then fails. Always ends the browser and chromedriver.
pub async fn with_browser(name: &str, app: &TestApp, test: impl AsyncFnOnce(Browser)) {
    let Some((chromium, driver)) = binaries() else {
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "browser test {name} did not run: chromium or chromedriver is not installed"
        );
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let addr: SocketAddr = app.serve().await;
    let profile = tempfile::tempdir().unwrap();
    let (driver, port) = start_driver(&driver).await;
    let client = connect(&chromium, port, profile.path()).await;
    let browser = Browser {
        client: client.clone(),
        base: format!("http://{addr}"),
    };
    let outcome = AssertUnwindSafe(test(browser)).catch_unwind().await;
    if outcome.is_err() {
        let dir = screenshot_dir();
        let path = dir.join(format!("{name}.png"));
        match client.screenshot().await {
            Ok(png) => {
                std::fs::create_dir_all(&dir).ok();
                if std::fs::write(&path, png).is_ok() {
                    eprintln!("screenshot of the failure: {}", path.display());
                }
            }
            Err(err) => eprintln!("no screenshot of the failure: {err}"),
        }
    }
    let _ = client.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

impl Browser {
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element {css}: {err}"))
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Polls until the text of `css` contains `needle` (htmx swaps the page meanwhile).
    pub async fn wait_for_text(&self, css: &str, needle: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            let found = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if found.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {needle:?}; last: {found:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until an element matches `css`.
    pub async fn wait_for(&self, css: &str) {
        self.find(css).await;
    }

    /// With `VALENCE_UI_SHOTS` set, saves a screenshot of the page as `<dir>/<name>.png`.
    pub async fn shot(&self, name: &str) {
        let Some(dir) = std::env::var_os("VALENCE_UI_SHOTS") else {
            return;
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The whole page, not only the window: grow the window to the page for the shot.
        let (width, height) = self.client.get_window_size().await.unwrap();
        let page_height = self
            .client
            .execute(
                "window.scrollTo(0, 0); return document.documentElement.scrollHeight \
                 + window.outerHeight - window.innerHeight;",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(height);
        let grown = u32::try_from(page_height.clamp(height, 4000)).unwrap();
        self.client
            .set_window_size(u32::try_from(width).unwrap(), grown)
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client
            .set_window_size(
                u32::try_from(width).unwrap(),
                u32::try_from(height).unwrap(),
            )
            .await
            .unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Waits for the node page to show `state` (htmx polls it meanwhile).
    pub async fn wait_for_node_state(&self, state: &str) {
        self.wait_for(&format!(r#"#node-live[data-state="{state}"]"#))
            .await;
    }

    /// The uuid of the node page the browser is on.
    pub async fn node_uuid(&self) -> String {
        let path = self.path().await;
        let uuid = path
            .strip_prefix("/ui/nodes/")
            .unwrap_or_else(|| panic!("not on a node page: {path}"));
        uuid.split('?').next().unwrap_or_default().to_owned()
    }
}

/// Fills the registration form and submits it.
async fn register_through_form(b: &Browser, name: &str, url: &str) {
    b.goto("/ui/pod_managers").await;
    b.click("a[href='/ui/pod_managers/new']").await;
    b.fill("#f-name", name).await;
    b.fill("#f-url", url).await;
    b.fill("#f-username", USER).await;
    b.fill("#f-password", PASSWORD).await;
    b.click("form.card button[type=submit]").await;
}

fn slow_compose() -> Behavior {
    Behavior {
        allocation_delay: Duration::from_millis(800),
        assembly_delay: Duration::from_millis(800),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_through_the_form_then_compose_on_a_chosen_podm_and_automatically() {
    let app = TestApp::new();
    let alpha = sim_with("alpha", 6, 1, slow_compose()).await;
    let beta = sim_with("beta", 6, 2, slow_compose()).await;
    let state = app.state.clone();
    with_browser("register_and_compose", &app, async |b| {
        // An unreachable PODM: the error is inline and the password is not sent back.
        register_through_form(&b, "alpha", &dead_url()).await;
        b.wait_for_text(".error-summary", "Pod manager unreachable")
            .await;
        b.wait_for_text("#url-error", "did not answer").await;
        let password = b.find("#f-password").await;
        assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
        assert!(!b.source().await.contains(PASSWORD));
        b.shot("register-error").await;

        b.fill("#f-url", &alpha.base_url()).await;
        b.fill("#f-password", PASSWORD).await;
        b.click("form.card button[type=submit]").await;
        b.wait_for_text(".notice", "Pod manager registered").await;
        register_through_form(&b, "beta", &beta.base_url()).await;
        b.wait_for_text(".notice", "Pod manager registered").await;
        b.wait_for_text("#podm-table", "6 of 6 free").await;
        let row = b.text("#podm-table tbody tr:first-child").await;
        assert!(
            row.contains("alpha") && row.contains("Online") && row.contains("active"),
            "{row}"
        );
        b.shot("pod-managers").await;

        let alpha_uuid = valence_api::service::podms::all_rows(&state)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.name == "alpha")
            .unwrap()
            .uuid
            .to_string();

        // Chosen PODM: preview (htmx), then compose, then follow the progress.
        b.click("nav a[href='/ui/nodes/new']").await;
        b.fill("#f-name", "web-1").await;
        b.select("#f-podm_id", &alpha_uuid).await;
        b.fill("#f-cores", "1").await;
        b.click("button[formaction='/ui/nodes/preview']").await;
        b.wait_for_text("#preview", "The scheduler would compose on alpha")
            .await;
        assert_eq!(
            b.path().await,
            "/ui/nodes/new",
            "the preview did not reload the page"
        );
        b.shot("compose-preview").await;
        b.click("#compose-form button:not([formaction])").await;
        b.wait_for("#node-live").await;
        let first = b.node_uuid().await;
        let shown = b.find("#node-live").await.attr("data-state").await.unwrap();
        assert!(
            matches!(shown.as_deref(), Some("allocating" | "assembling")),
            "{shown:?}"
        );
        b.shot("node-progress").await;
        b.wait_for_node_state("ready").await;
        b.wait_for_text("#node-live", "Power state").await;
        // Screen readers hear the change: the announcement outside the swapped region follows.
        b.wait_for_text("#node-announce", "is ready").await;
        b.wait_for("#node-live form[action$='/reset']").await;
        assert!(b.text("main dl.facts").await.contains("alpha"));
        b.shot("node-ready").await;

        // Automatic placement.
        b.goto("/ui/nodes/new").await;
        b.fill("#f-name", "web-2").await;
        b.click("#compose-form button:not([formaction])").await;
        b.wait_for("#node-live").await;
        let second = b.node_uuid().await;
        assert_ne!(first, second);
        b.wait_for_node_state("ready").await;

        b.goto("/ui/nodes").await;
        b.wait_for_text("#nodes-table", "web-2").await;
        b.shot("nodes").await;
        b.goto("/ui/systems").await;
        b.wait_for("#systems-table").await;
        b.shot("systems").await;
        b.resize(420, 900).await;
        b.goto("/ui/pod_managers").await;
        b.wait_for("#podm-table").await;
        b.shot("pod-managers-narrow").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cordoned_podm_is_disabled_in_the_drop_down_and_the_preview_explains_a_misfit() {
    let app = TestApp::new();
    let a = sim("alpha", 4, 1).await;
    let b_sim = sim("beta", 4, 2).await;
    let alpha = app.register("alpha", &a).await;
    let beta = app.register("beta", &b_sim).await;
    with_browser("cordon", &app, async |b| {
        b.goto("/ui/pod_managers").await;
        b.click("button[aria-label='Cordon alpha']").await;
        b.wait_for_text(".notice", "cordoned").await;
        b.wait_for("button[aria-label='Uncordon alpha']").await;

        b.goto("/ui/nodes/new").await;
        let option = b.find(&format!("#f-podm_id option[value='{alpha}']")).await;
        assert!(
            !option.is_enabled().await.unwrap(),
            "a cordoned PODM is selectable"
        );
        assert!(option.text().await.unwrap().contains("cordoned"));
        let other = b.find(&format!("#f-podm_id option[value='{beta}']")).await;
        assert!(other.is_enabled().await.unwrap());
        let first = b.find("#f-podm_id option:first-child").await;
        assert_eq!(first.text().await.unwrap(), "Automatic (scheduler)");

        b.fill("#f-cores", "0").await;
        b.click("button[formaction='/ui/nodes/preview']").await;
        b.wait_for_text("#preview .error-summary", "Cores: must be at least 1")
            .await;

        b.fill("#f-cores", "100000").await;
        b.click("button[formaction='/ui/nodes/preview']").await;
        b.wait_for_text("#preview", "Nothing fits").await;
        let why = b.text("#preview table").await;
        assert!(why.contains("alpha") && why.contains("cordoned"), "{why}");
        assert!(why.contains("beta") && why.contains("capacity"), "{why}");
        b.shot("compose-nothing-fits").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_podm_with_nodes_shows_the_refusal_and_the_preview_then_decompose() {
    let app = TestApp::new();
    let pod = sim("alpha", 4, 1).await;
    let podm = app.register("alpha", &pod).await;
    let node = app.compose("keeper", Some(&podm)).await;
    assert_eq!(app.settled(&node).await, "ready");
    with_browser("delete_and_decompose", &app, async |b| {
        b.goto("/ui/pod_managers").await;
        b.click("a[aria-label='Delete alpha']").await;
        b.wait_for_text("#delete-preview", "this node would be released")
            .await;
        assert!(b.text("#delete-preview table").await.contains("keeper"));
        b.click("button.danger[type=submit]").await;
        b.wait_for_text(
            ".error-summary",
            "still holds 1 node(s) made by Valence: keeper",
        )
        .await;
        b.wait_for_text("#delete-preview", "keeper").await;
        b.shot("delete-refused").await;

        b.click("#delete-preview a").await;
        b.wait_for_node_state("ready").await;
        b.click("a[href$='/decompose']").await;
        b.click("button.danger[type=submit]").await;
        b.wait_for_text(".notice", "Node decomposed").await;
        assert!(!b.source().await.contains("keeper"));
        assert!(pod.nodes().is_empty());

        b.goto(&format!("/ui/pod_managers/{podm}/delete")).await;
        b.wait_for_text("#delete-preview", "No node made by Valence remains")
            .await;
        b.click("button.danger[type=submit]").await;
        b.wait_for_text(".notice", "Pod manager deleted").await;
        assert!(
            b.source()
                .await
                .contains("No pod manager is registered yet")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flavors_and_keyboard_navigation() {
    let app = TestApp::new();
    with_browser("flavors", &app, async |b| {
        b.goto("/ui/flavors").await;
        b.fill("#f-name", "medium").await;
        b.fill("#f-cores", "4").await;
        b.fill("#f-memory_gib", "16").await;
        b.click("form.card button[type=submit]").await;
        b.wait_for_text(".notice", "Flavor created").await;
        b.wait_for_text("#flavors-table", "at least 4 cores, 16 GiB memory")
            .await;
        b.shot("flavors").await;

        // htmx runs under the Content-Security-Policy, configured to inject no <style>.
        let probe = b
            .client
            .execute(
                "return [typeof htmx, htmx.config.includeIndicatorStyles, \
                 document.querySelectorAll('style').length];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(probe, serde_json::json!(["object", false, 0]));

        // The first Tab reaches the skip link, which is then visible.
        let body = b.find("body").await;
        body.send_keys("\u{E004}").await.unwrap();
        let active = b.client.active_element().await.unwrap();
        assert_eq!(active.attr("class").await.unwrap().as_deref(), Some("skip"));

        b.click("button[aria-label='Delete flavor medium']").await;
        b.wait_for_text(".notice", "Flavor deleted").await;
        b.wait_for_text("main", "No flavor yet").await;
    })
    .await;
}
