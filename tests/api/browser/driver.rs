//! The browser: Debian's `chromium`, driven through `chromium-driver` (WebDriver) with fantoccini.
//!
//! One chromedriver serves the whole test process. It listens on a free local port and a small
//! `sh` watchdog stops it when the test process ends, however it ends. Each test opens browser
//! sessions of its own, each with a fresh profile, so tests run in parallel without sharing
//! cookies or history.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Once,
    time::{Duration, Instant},
};

use base64::Engine;
use fantoccini::{
    Client, ClientBuilder, Locator,
    actions::{InputSource, KeyAction, KeyActions},
    elements::Element,
    key::Key,
    wd::{Capabilities, WebDriverCompatibleCommand},
};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::helpers::{STAFF_PASSWORD, TestApp};

/// How long to wait for an element, a page or a condition before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// Whether pages may run JavaScript. The site has none, so every journey runs both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Js {
    On,
    Off,
}

impl Js {
    pub const BOTH: [Js; 2] = [Js::On, Js::Off];
}

/// The viewport: a 375 px phone (chromedriver's mobile emulation, since headless windows do not
/// get that narrow) or a 1280 px desktop window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Phone,
    Desktop,
}

impl Width {
    pub const BOTH: [Width; 2] = [Width::Phone, Width::Desktop];

    pub fn px(self) -> u32 {
        match self {
            Width::Phone => 375,
            Width::Desktop => 1280,
        }
    }
}

/// True when running in continuous integration, where a missing browser is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Says loudly (past the test harness's output capture) that browser tests are being skipped, or
/// fails the test in CI.
pub fn unavailable(what: &str) {
    if in_ci() {
        panic!("browser tests cannot run in CI: {what}");
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let line = "!".repeat(100);
        let _ = writeln!(
            std::io::stderr(),
            "\n{line}\n!! SKIPPING BROWSER TESTS: {what}\n!! See \"Browser tests\" in README.md. \
             In CI (CI=true) this is a failure.\n{line}\n"
        );
    });
}

struct Programs {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// `Some(Ok(path))` when `var` names a program, `Some(Err(..))` when it names nothing.
fn from_env(var: &str) -> Option<Result<PathBuf, String>> {
    let value = std::env::var_os(var)?;
    let path = PathBuf::from(&value);
    Some(if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{var}={} is not a program", path.display()))
    })
}

/// `CHROME_BIN` and `CHROMEDRIVER` win; otherwise the usual names on `PATH`.
fn find_programs() -> Result<Programs, String> {
    let chromedriver = match from_env("CHROMEDRIVER") {
        Some(found) => found?,
        None => on_path(&["chromedriver", "chromium-driver"])
            .or_else(|| Some(PathBuf::from("/usr/lib/chromium/chromedriver")).filter(|p| p.is_file()))
            .ok_or("no chromedriver: install it (Debian: apt install chromium-driver) or set CHROMEDRIVER")?,
    };
    let chromium = match from_env("CHROME_BIN") {
        Some(found) => found?,
        None => on_path(&[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ])
        .ok_or("no Chromium: install it (Debian: apt install chromium) or set CHROME_BIN")?,
    };
    Ok(Programs {
        chromium,
        chromedriver,
    })
}

/// The running chromedriver.
pub struct Driver {
    url: String,
    chromium: PathBuf,
    /// Where the browsers' profiles go; removed by the watchdog.
    profiles: PathBuf,
}

static DRIVER: OnceCell<Option<Driver>> = OnceCell::const_new();

/// The process's chromedriver, started on first use; `None` (after a loud message) when there is
/// no browser on this machine and this is not CI.
pub async fn driver() -> Option<&'static Driver> {
    DRIVER
        .get_or_init(|| async {
            match find_programs() {
                Ok(programs) => Some(start(programs).await),
                Err(missing) => {
                    unavailable(&missing);
                    None
                }
            }
        })
        .await
        .as_ref()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

async fn start(programs: Programs) -> Driver {
    let profiles = std::env::temp_dir().join(format!("carethread-browsers-{}", std::process::id()));
    std::fs::create_dir_all(&profiles).expect("a folder for browser profiles");
    for _ in 0..3 {
        let port = free_port();
        let mut child = Command::new(&programs.chromedriver)
            .arg(format!("--port={port}"))
            // A process group of its own, shared with the browsers it starts, so that they can all
            // be stopped together: browsers outlive a chromedriver that is merely killed.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", programs.chromedriver.display()));
        // Stops chromedriver and its browsers once this test process has gone, however it ended,
        // and removes their profiles.
        #[expect(
            clippy::zombie_processes,
            reason = "the watchdog is meant to outlive this process"
        )]
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(
                r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
                   kill -TERM "-$2" 2>/dev/null; sleep 2; rm -rf "$3""#,
            )
            .arg("sh")
            .arg(std::process::id().to_string())
            .arg(child.id().to_string())
            .arg(&profiles)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver watchdog");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            if child.try_wait().ok().flatten().is_some() {
                // It exited, most likely because the port was taken meanwhile: try another.
                let _ = watchdog.kill();
                let _ = watchdog.wait();
                break;
            }
            if is_ready(&url).await {
                return Driver {
                    url,
                    chromium: programs.chromium,
                    profiles,
                };
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {url}/status"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("chromedriver would not start")
}

async fn is_ready(url: &str) -> bool {
    let Ok(response) = reqwest::Client::new()
        .get(format!("{url}/status"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
    else {
        return false;
    };
    let Ok(status) = response.text().await else {
        return false;
    };
    let Ok(status) = serde_json::from_str::<Value>(&status) else {
        return false;
    };
    status["value"]["ready"] == json!(true)
}

/// A command chromedriver offers beyond WebDriver: one Chrome DevTools Protocol call.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// One browser window with a profile of its own, pointed at one test application.
pub struct Browser {
    client: Client,
    base: String,
    webdriver: String,
    session: String,
    open: bool,
    pub width: Width,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn open(driver: &Driver, app: &TestApp, js: Js, width: Width) -> Self {
        let profile = tempfile::Builder::new()
            .prefix("chromium-")
            .tempdir_in(&driver.profiles)
            .expect("a profile folder");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--password-store=basic".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--lang=en-GB".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if nix::unistd::geteuid().is_root() {
            args.push("--no-sandbox".to_owned());
        }
        let mut prefs = json!({
            // Start on a blank page: the new-tab page can keep the first command waiting for seconds.
            "session.restore_on_startup": 4,
            "session.startup_urls": ["about:blank"],
            "credentials_enable_service": false,
            "profile.password_manager_enabled": false,
            "profile.password_manager_leak_detection": false,
        });
        if js == Js::Off {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let mut options = json!({
            "binary": driver.chromium,
            "args": args,
            "prefs": prefs,
        });
        match width {
            Width::Phone => {
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": 375, "height": 812, "pixelRatio": 1, "mobile": true, "touch": false }
                });
            }
            Width::Desktop => {
                options["args"]
                    .as_array_mut()
                    .expect("args")
                    .push(json!("--window-size=1280,900"));
            }
        }
        let capabilities: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": 30_000, "script": 30_000, "implicit": 0 },
            "goog:chromeOptions": options,
        }))
        .expect("capabilities");
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("chromium did not start through chromedriver: {e}"));
        let session = client.session_id().await.expect("session id").expect("a session");
        let browser = Self {
            client,
            base: app.address.clone(),
            webdriver: driver.url.clone(),
            session,
            open: true,
            width,
            _profile: profile,
        };
        if js == Js::Off {
            browser.assert_javascript_is_off().await;
        }
        browser
    }

    /// Proves the session really runs no page scripts.
    async fn assert_javascript_is_off(&self) {
        self.client
            .goto("data:text/html,<title>off</title><script>document.title='on'</script>")
            .await
            .expect("open a test page");
        assert_eq!(
            self.client.title().await.expect("title"),
            "off",
            "JavaScript should be disabled in this session"
        );
    }

    pub async fn close(mut self) {
        self.open = false;
        let _ = self.client.clone().close().await;
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens a path of the application.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("could not open {path}: {e}"));
    }

    pub async fn refresh(&self) {
        self.client.refresh().await.expect("reload");
    }

    /// The current address's path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current address");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no element {css:?} on {}: {e}", self.path().await),
        }
    }

    /// Whether an element matching `css` is on the page now.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
            .is_empty()
    }

    /// The button whose visible label starts with `label`, inside `scope` when given.
    pub async fn button(&self, scope: Option<&Element>, label: &str) -> Element {
        assert!(!label.contains('\''), "labels are quoted with '");
        let xpath = format!("//button[starts-with(normalize-space(.), '{label}')]");
        let found = match scope {
            Some(scope) => scope.find(Locator::XPath(&format!(".{xpath}"))).await,
            None => {
                self.client
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::XPath(&xpath))
                    .await
            }
        };
        match found {
            Ok(button) => button,
            Err(e) => panic!("no button {label:?} on {}: {e}", self.path().await),
        }
    }

    /// The rendered text of the whole page.
    pub async fn page_text(&self) -> String {
        self.find("body").await.text().await.expect("page text")
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// A form field's current value.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Types `text` into the field, replacing what was there.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear the field");
        field.send_keys(text).await.expect("type into the field");
    }

    /// Puts a long `text` into the field: all but its last few characters at once, as pasting
    /// would (WebDriver types thousands of characters slowly), then the rest typed.
    pub async fn fill_long(&self, css: &str, text: &str) {
        let split = text.char_indices().rev().nth(9).map_or(0, |(i, _)| i);
        let field = self.find(css).await;
        let element = serde_json::to_value(&field).expect("element reference");
        self.script(
            "arguments[0].value = arguments[1];",
            vec![element, json!(&text[..split])],
        )
        .await;
        field
            .send_keys(&text[split..])
            .await
            .expect("type into the field");
    }

    /// Clicks `element` (a submit button or a link) and waits for the next page to load.
    pub async fn click_and_wait(&self, element: &Element) {
        self.mark_page().await;
        element.click().await.expect("click");
        self.wait_for_new_page().await;
    }

    /// Presses a key on the focused element and waits for the page it leads to.
    pub async fn press_and_wait(&self, key: Key) {
        self.mark_page().await;
        self.press(key).await;
        self.wait_for_new_page().await;
    }

    async fn mark_page(&self) {
        self.script("window.carethreadOldPage = true;", vec![]).await;
    }

    async fn wait_for_new_page(&self) {
        self.wait_until(
            "the next page to load",
            "return !window.carethreadOldPage && document.readyState === 'complete';",
        )
        .await;
    }

    /// Waits until `script` returns true.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            // During a navigation the script may fail; that is the same as "not yet".
            if let Ok(Value::Bool(true)) = self.client.execute(script, vec![]).await {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Runs `script` in the page (this works with the page's own JavaScript off).
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        match self.client.execute(script, args).await {
            Ok(value) => value,
            Err(e) => panic!("script failed on {}: {e}", self.path().await),
        }
    }

    pub async fn script_async(&self, script: &str, args: Vec<Value>) -> Value {
        match self.client.execute_async(script, args).await {
            Ok(value) => value,
            Err(e) => panic!("script failed on {}: {e}", self.path().await),
        }
    }

    /// Presses and releases one key, as a person at a keyboard would.
    pub async fn press(&self, key: Key) {
        let key: char = key.into();
        let actions = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await.expect("key press");
    }

    /// Signs in on the sign-in page with the test password.
    pub async fn sign_in(&self, email: &str) {
        self.sign_in_with(email, STAFF_PASSWORD).await;
    }

    pub async fn sign_in_with(&self, email: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        let button = self.button(None, "Sign in").await;
        self.click_and_wait(&button).await;
        assert!(
            !self.path().await.starts_with("/login"),
            "{email} should be signed in, but the page says: {}",
            self.page_text().await
        );
    }

    /// One Chrome DevTools Protocol call.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        match self.client.issue_cmd(Cdp { cmd, params }).await {
            Ok(value) => value,
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    /// A PNG of the whole page, not just the part in the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true }),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot")
    }

    /// Saves a screenshot to `path`.
    pub async fn save_screenshot(&self, path: &Path) {
        let png = self.screenshot().await;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    /// A test that fails half way still ends its session, so no browser is left running.
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let Some(address) = self.webdriver.strip_prefix("http://") else {
            return;
        };
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session
        );
        if let Ok(mut stream) = TcpStream::connect(address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.write_all(request.as_bytes());
            let _ = stream.read(&mut [0; 64]);
        }
    }
}
