//! Logs and metrics: what an operator's tools read, and what they must never hold.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;

use crate::helpers::{TestApp, TestDatabase, hidden_field};

/// The real binary serving a test database, writing its logs to files in `dir`.
struct RunningService {
    child: Child,
    address: String,
}

impl RunningService {
    async fn start(database: &TestDatabase, dir: &Path, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_carethread"))
            .args(["serve", "--addr", &address])
            .env("DATABASE_URL", &database.url)
            .env("CARETHREAD_DATA_DIR", dir)
            .env("CARETHREAD_MIN_FORM_SECONDS", "0")
            .env("CARETHREAD_TRUSTED_PROXIES", "127.0.0.1")
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout file"))
            .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"))
            .stdin(Stdio::null())
            .spawn()
            .expect("start carethread");
        let service = Self {
            child,
            address: format!("http://{address}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = client.get(service.url("/healthz")).send().await
                && response.status() == StatusCode::OK
            {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("carethread did not start: {}", read_logs(dir));
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Stops the service as a supervisor would (SIGTERM) and waits for it to exit.
    fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_logs(dir: &Path) -> String {
    let stdout = std::fs::read_to_string(dir.join("stdout")).unwrap_or_default();
    let stderr = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
    stdout + &stderr
}

/// Posts a comment as a reader behind the trusted proxy at `client_address`.
async fn post_comment(
    service: &RunningService,
    slug: &str,
    client_address: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let html = client
        .get(service.url(&format!("/articles/{slug}")))
        .header("x-forwarded-for", client_address)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    let stamp = hidden_field(&html, "form_stamp").expect("stamp");
    let mut all = vec![("form_stamp", stamp.as_str())];
    all.extend_from_slice(fields);
    client
        .post(service.url(&format!("/articles/{slug}/comments")))
        .header("x-forwarded-for", client_address)
        .header("origin", service.url("").trim_end_matches('/'))
        .form(&all)
        .send()
        .await
        .expect("POST")
        .status()
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_without_personal_data() {
    let database = TestDatabase::create().await;
    let db = database.pool().await;
    sqlx::query(
        "INSERT INTO articles (slug, title, url) VALUES ('bleeding', 'Bleeding', 'https://example.org/b')",
    )
    .execute(&db)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let service = RunningService::start(
        &database,
        dir.path(),
        &[
            ("CARETHREAD_LOG_FORMAT", "json"),
            ("RUST_LOG", "carethread=debug,tower_http=debug,sqlx=warn"),
        ],
    )
    .await;

    let status = post_comment(
        &service,
        "bleeding",
        "203.0.113.77",
        &[
            ("name", "Quillon Marsh"),
            ("email", "quillon.private@example.net"),
            ("notify", "1"),
            ("body", "Marker zebra-kettle-4417: I am soaking a pad every hour"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    reqwest::get(service.url("/nothing-here-4417x")).await.unwrap();
    service.stop();

    let logs = read_logs(dir.path());
    for secret in [
        "zebra-kettle-4417",
        "quillon.private",
        "example.net",
        "Quillon",
        "203.0.113.77",
        "soaking",
    ] {
        assert!(!logs.contains(secret), "{secret:?} is in the logs:\n{logs}");
    }
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["level"].is_string() && l["target"].is_string())
    );
    let posted = lines
        .iter()
        .find(|l| l["span"]["route"] == "/articles/{slug}/comments" && l["message"] == "answered")
        .unwrap_or_else(|| panic!("no line for the post:\n{logs}"));
    assert_eq!(posted["status"], 303);
    assert!(posted["latency_ms"].is_u64());
    assert_eq!(posted["span"]["method"], "POST");
    assert!(!posted["span"]["request_id"].as_str().unwrap_or("").is_empty());
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["route"] == "unmatched" && l["status"] == 404),
        "an unknown page is logged by its lack of a route, not its address"
    );
    assert!(!logs.contains("nothing-here"));
}

const METRICS_TOKEN: &str = "scrape-token-for-tests-0123456789";

#[tokio::test]
async fn pages_answered_from_memory_are_logged_and_counted_like_any_other() {
    let database = TestDatabase::create().await;
    let db = database.pool().await;
    sqlx::query("INSERT INTO articles (slug, title, url) VALUES ('scan', 'Scan', 'https://example.org/s')")
        .execute(&db)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .to_string();
    let service = RunningService::start(
        &database,
        dir.path(),
        &[
            ("CARETHREAD_LOG_FORMAT", "json"),
            ("RUST_LOG", "carethread=info"),
            ("CARETHREAD_ARTICLE_REFRESH_MS", "600000"),
            ("CARETHREAD_METRICS_ADDR", &metrics),
        ],
    )
    .await;
    // The first reader's page is rendered and kept; the next ones are sent it from memory.
    let mut ids = Vec::new();
    for _ in 0..5 {
        let response = reqwest::get(service.url("/articles/scan")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(response.headers()["x-request-id"].to_str().unwrap().to_owned());
    }
    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"carethread_http_requests_total{route="/articles/{slug}",method="GET",status="200"} 5"#
        ),
        "every page counted:\n{text}"
    );
    service.stop();
    let logs = read_logs(dir.path());
    let answered: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|l| l["span"]["route"] == "/articles/{slug}" && l["message"] == "answered")
        .collect();
    assert_eq!(answered.len(), 5, "one line a page:\n{logs}");
    for (line, id) in answered.iter().zip(&ids) {
        assert_eq!(line["status"], 200);
        assert_eq!(line["span"]["method"], "GET");
        assert_eq!(
            line["span"]["request_id"],
            id.as_str(),
            "the id sent back is the one logged"
        );
    }
}

#[tokio::test]
async fn metrics_are_not_served_unless_asked_for() {
    let app = TestApp::spawn().await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_on_the_main_address_need_the_token() {
    let app = TestApp::spawn_with(|c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    let scrape = |token: Option<&str>| {
        let mut request = app.client.get(format!("{}/metrics", app.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(Some("wrong")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let response = scrape(Some(METRICS_TOKEN)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
}

#[tokio::test]
async fn metrics_name_route_templates_and_no_personal_data() {
    let app = TestApp::spawn_with(|c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    app.add_article("private-slug-8812", "A page").await;
    let posted = app
        .post_comment(
            "private-slug-8812",
            &[
                ("name", "Quillon Marsh"),
                ("email", "quillon.private@example.net"),
                ("body", "Marker zebra-kettle-4417 and a question"),
            ],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    app.get("/nothing-here-4417x").await;

    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for wanted in [
        r#"carethread_http_requests_total{route="/articles/{slug}",method="GET",status="200"}"#,
        r#"carethread_http_requests_total{route="/articles/{slug}/comments",method="POST",status="303"}"#,
        r#"route="unmatched""#,
        r#"carethread_http_request_duration_seconds_bucket{route="/articles/{slug}""#,
        r#"carethread_comments_posted_total{outcome="pending"}"#,
        "carethread_queue_waiting ",
        "carethread_queue_urgent_waiting ",
        "carethread_queue_oldest_seconds ",
        "carethread_queue_oldest_urgent_seconds ",
        r#"carethread_mail_outbox{state="queued"}"#,
        r#"carethread_database_pool_connections{state="in_use"}"#,
        "carethread_database_down 0",
    ] {
        assert!(text.contains(wanted), "{wanted} is not in\n{text}");
    }
    for private in [
        "private-slug-8812",
        "quillon",
        "example.net",
        "zebra-kettle",
        "nothing-here",
    ] {
        assert!(
            !text.to_lowercase().contains(private),
            "{private} is in the metrics"
        );
    }
}

#[tokio::test]
async fn metrics_can_have_their_own_address_without_a_token() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let service = RunningService::start(
        &database,
        dir.path(),
        &[("CARETHREAD_METRICS_ADDR", &metrics_addr), ("RUST_LOG", "off")],
    )
    .await;
    let main = reqwest::get(service.url("/metrics")).await.unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND, "not on the public address");
    let own = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let text = own.text().await.unwrap();
    assert!(text.contains(r#"route="/healthz""#), "{text}");
    assert!(text.contains("carethread_queue_waiting "), "{text}");
    service.stop();
}

#[tokio::test]
async fn the_healthcheck_command_asks_healthz() {
    let app = TestApp::spawn().await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let check = |addr: String| {
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_carethread"))
                .args(["healthcheck", "--addr", &addr])
                .env("RUST_LOG", "off")
                .output()
                .expect("run carethread")
        })
    };
    let healthy = check(addr).await.unwrap();
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let nobody = check(format!("127.0.0.1:{port}")).await.unwrap();
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("/healthz"));
}

/// Metric names in a PromQL expression, without the suffixes a histogram's series carry.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("carethread_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|b| carethread::monitoring::ALL.contains(b))
            })
            .unwrap_or(name);
        names.push(base.to_owned());
        rest = &tail[end..];
    }
    names
}

fn read_doc(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

#[test]
fn the_alert_rules_use_exported_metrics() {
    let rules = read_doc("docs/prometheus/alerts.yml");
    assert!(rules.lines().any(|l| l.trim_end() == "groups:"));
    let alerts: Vec<&str> = rules.split("- alert: ").skip(1).collect();
    let names: Vec<&str> = alerts.iter().map(|a| a.lines().next().unwrap().trim()).collect();
    for wanted in [
        "CarethreadDatabaseDown",
        "CarethreadUrgentCommentWaiting",
        "CarethreadQueueOverAnswerTarget",
        "CarethreadHighErrorRate",
    ] {
        assert!(names.contains(&wanted), "{wanted} is missing from {names:?}");
    }
    for alert in alerts {
        assert!(
            alert.contains("\n        expr: "),
            "every alert has an expression:\n{alert}"
        );
        assert!(
            alert.contains("\n          summary: "),
            "every alert says what is wrong:\n{alert}"
        );
        assert!(!alert.contains('\t'), "YAML is indented with spaces");
        for name in metric_names(alert) {
            assert!(
                carethread::monitoring::ALL.contains(&name.as_str()),
                "{name} is not a metric carethread exports"
            );
        }
    }
    let config = read_doc("docs/prometheus/prometheus.yml");
    assert!(config.contains("/etc/prometheus/alerts.yml") && config.contains("app:9100"));
}

#[test]
fn the_dashboard_is_json_and_each_panel_shows_exported_metrics() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read_doc("docs/grafana/carethread.json")).unwrap();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let mut shown = std::collections::HashSet::new();
    for panel in panels {
        let targets = panel["targets"].as_array().expect("every panel has targets");
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("every target has an expression");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{expr} names no metric");
            for name in names {
                assert!(
                    carethread::monitoring::ALL.contains(&name.as_str()),
                    "{name} in panel {} is not exported",
                    panel["title"]
                );
                shown.insert(name);
            }
        }
    }
    for metric in carethread::monitoring::ALL {
        assert!(shown.contains(*metric), "no panel shows {metric}");
    }
}
