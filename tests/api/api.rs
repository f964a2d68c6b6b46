//! The JSON API: comment counts, threads and posting as JSON, staff tokens and their role matrix,
//! strict JSON, problem documents and the OpenAPI document.

use carethread::{
    accounts::{self, Role},
    api::tokens::{self, TokenRequest},
    comments::CommentStatus::{Hidden, Pending, Published, Spam},
    config::Config,
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, position};

const PROBLEM: &str = "application/problem+json";

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs `body` as JSON, with `token` when given.
    async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        self.post_raw(path, "application/json", serde_json::to_vec(body).unwrap(), token)
            .await
    }

    async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(self.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("POST")
    }

    async fn get_with(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("GET")
    }

    /// A fresh form stamp for `slug`, from the API.
    async fn stamp(&self, slug: &str) -> String {
        let response = self
            .get_with(&format!("/api/v1/articles/{slug}/form"), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        json_of(response).await["form_stamp"]
            .as_str()
            .expect("a stamp")
            .to_owned()
    }

    /// A token made by the service, as an admin would on the page.
    async fn api_token(&self, owner: i64, scope: &str) -> String {
        let admin_id = self
            .create_staff(&format!("Admin{owner}{scope}"), Role::Admin, true)
            .await;
        let admin = accounts::store::find_active(&self.db, admin_id)
            .await
            .unwrap()
            .unwrap();
        let request = TokenRequest {
            name: "Tests",
            owner: &owner.to_string(),
            scope,
        };
        tokens::create(&self.db, &admin, &request)
            .await
            .unwrap()
            .expect("a token")
            .token
    }

    async fn count_where(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db).await.expect("count")
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Asserts a problem document with `status`, and returns it.
async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    assert_eq!(content_type(&response), PROBLEM);
    let body = json_of(response).await;
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}

// --- Counts ------------------------------------------------------------------------------------

#[tokio::test]
async fn api_counts_are_published_comments_per_slug_with_a_cacheable_etag() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let b = app.add_article("b", "B").await;
    let first = app.add_comment(a, None, "Sam", "one", Published).await;
    app.add_comment(a, Some(first), "Kim", "a reply", Published).await;
    app.add_comment(a, None, "Sam", "waiting", Pending).await;
    app.add_comment(b, None, "Sam", "hidden", Hidden).await;

    let response = app
        .get_with("/api/v1/counts?slug=a&slug=b&slug=nowhere", None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=60");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "{etag}"
    );
    assert_eq!(
        json_of(response).await,
        json!({"counts": {"a": 2, "b": 0, "nowhere": 0}})
    );

    let again = reqwest::Client::new()
        .get(app.url("/api/v1/counts?slug=nowhere&slug=b&slug=a"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::NOT_MODIFIED,
        "the same slugs in any order"
    );
    assert_eq!(again.headers()[header::ETAG], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    app.add_comment(b, None, "Sam", "new", Published).await;
    let changed = reqwest::Client::new()
        .get(app.url("/api/v1/counts?slug=a&slug=b&slug=nowhere"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[header::ETAG], etag.as_str());
    assert_eq!(json_of(changed).await["counts"]["b"], 1);
}

#[tokio::test]
async fn api_counts_allow_only_the_embedding_origins() {
    let app = TestApp::spawn_with(|c| c.embed_origins = vec!["https://www.example.org".into()]).await;
    app.add_article("a", "A").await;
    let get = |origin: &'static str| {
        reqwest::Client::new()
            .get(app.url("/api/v1/counts?slug=a"))
            .header(header::ORIGIN, origin)
            .send()
    };
    let allowed = get("https://www.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://www.example.org"
    );
    assert!(
        allowed
            .headers()
            .get_all(header::VARY)
            .iter()
            .any(|v| v == "Origin")
    );

    for other in [
        "https://evil.example",
        "null",
        "https://www.example.org.evil.example",
    ] {
        let refused = get(other).await.unwrap();
        assert_eq!(refused.status(), StatusCode::OK, "the counts are public anyway");
        assert!(
            !refused
                .headers()
                .keys()
                .any(|name| name.as_str().starts_with("access-control-")),
            "{other}: no CORS header at all"
        );
    }

    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/counts"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .send()
    };
    let ok = preflight("https://www.example.org").await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://www.example.org"
    );
    assert_eq!(ok.headers()[header::ACCESS_CONTROL_ALLOW_METHODS], "GET");
    let no = preflight("https://evil.example").await.unwrap();
    assert!(no.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn api_counts_need_one_to_a_hundred_slugs() {
    let app = TestApp::spawn().await;
    problem(
        app.get_with("/api/v1/counts", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let many: Vec<String> = (0..101).map(|i| format!("slug=a{i}")).collect();
    let path = format!("/api/v1/counts?{}", many.join("&"));
    problem(app.get_with(&path, None).await, StatusCode::BAD_REQUEST).await;
    let hundred: Vec<String> = (0..100).map(|i| format!("slug=a{i}")).collect();
    let path = format!("/api/v1/counts?{}", hundred.join("&"));
    let response = app.get_with(&path, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await["counts"].as_object().unwrap().len(), 100);
}

// --- Threads -----------------------------------------------------------------------------------

#[tokio::test]
async fn api_thread_matches_the_page_in_order_depth_labels_and_disclaimer() {
    let app = TestApp::spawn_with(|c| c.max_depth = 2).await;
    let article = app.add_article("a", "A").await;
    let earlier = chrono::Utc::now() - chrono::Duration::hours(2);
    let old = app
        .add_comment_at(article, None, "Sam", "Older question", Published, earlier)
        .await;
    let reply = app
        .add_comment(article, Some(old), "Kim", "A reply", Published)
        .await;
    let deep = app
        .add_comment(article, Some(reply), "Lee", "Deeper", Published)
        .await;
    app.add_comment(article, Some(old), "Ann", "Not yet", Pending)
        .await;
    let new = app
        .add_comment(article, None, "Jo", "Newer question", Published)
        .await;
    let midwife = app.create_staff("Mia", Role::Midwife, true).await;
    let mia = accounts::store::find_active(&app.db, midwife)
        .await
        .unwrap()
        .unwrap();
    let config = Config::for_tests();
    carethread::moderation::service::reply(&app.db, &config, &mia, new, "Call your **GP** today.")
        .await
        .unwrap();

    let response = app.get_with("/api/v1/articles/a/comments", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let thread = json_of(response).await;
    let comments = thread["comments"].as_array().unwrap();
    let ids: Vec<i64> = comments.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let html = app.get_html("/articles/a").await;
    let mut on_page = ids.clone();
    on_page.sort_by_key(|id| position(&html, &format!("id=\"comment-{id}\"")));
    assert_eq!(ids, on_page, "the page's order");
    assert_eq!(ids.len(), 5, "pending comments are not shown");
    assert_eq!(ids[0], new);
    assert_eq!(&ids[2..], &[old, reply, deep]);

    let staff = &comments[1];
    assert_eq!(staff["depth"], 2);
    assert_eq!(staff["author"], "Midwife @Carethread");
    assert_eq!(staff["author_label"], "Midwife @Carethread");
    assert_eq!(staff["verified"], true);
    assert_eq!(staff["badge"], "Verified midwife");
    assert_eq!(
        staff["body_html"],
        "<p>Call your <strong>GP</strong> today.</p>\n"
    );
    assert_eq!(staff["disclaimer"], config.disclaimer);
    assert!(html.contains(config.disclaimer.replace('\'', "&#39;").as_str()));

    let guest = &comments[2];
    assert_eq!(guest["author"], "Sam");
    assert_eq!(guest["author_label"], "Sam (not verified)");
    assert!(html.contains(r#"By <span class="author">Sam</span> (not verified)"#));
    assert_eq!(guest["verified"], false);
    assert_eq!(guest["badge"], Value::Null);
    assert_eq!(guest["body"], "Older question");
    assert_eq!(guest["body_html"], Value::Null);
    assert_eq!(
        guest["posted_at"],
        earlier.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );

    assert_eq!(comments[4]["depth"], 2, "capped at the deepest level shown");
    assert_eq!(comments[4]["in_reply_to"], "Kim", "named as the page names it");
    assert!(html.contains("In reply to Kim"));
    assert_eq!(comments[3]["in_reply_to"], Value::Null);
    assert_eq!(thread["total_threads"], 2);
    assert_eq!(thread["pages"], 1);
    assert_eq!(thread["article"]["comments_open"], true);
}

#[tokio::test]
async fn api_thread_pages_like_the_page() {
    let app = TestApp::spawn_with(|c| c.threads_per_page = 1).await;
    let article = app.add_article("a", "A").await;
    let earlier = chrono::Utc::now() - chrono::Duration::hours(1);
    let old = app
        .add_comment_at(article, None, "Sam", "Older", Published, earlier)
        .await;
    app.add_comment(article, None, "Jo", "Newer", Published).await;
    let second = json_of(app.get_with("/api/v1/articles/a/comments?page=2", None).await).await;
    assert_eq!(second["page"], 2);
    assert_eq!(second["pages"], 2);
    assert_eq!(second["comments"][0]["id"], old);
    let past = json_of(
        app.get_with("/api/v1/articles/a/comments?page=99999999", None)
            .await,
    )
    .await;
    assert_eq!(past["page"], 100_000, "clamped like every paged list");
    assert_eq!(past["comments"], json!([]));
    problem(
        app.get_with("/api/v1/articles/a/comments?page=two", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get_with("/api/v1/articles/nowhere/comments", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

// --- Posting -----------------------------------------------------------------------------------

async fn stored(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT author_name, body, status::text FROM comments ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn api_a_posted_comment_waits_for_moderation() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.stamp("a").await;
    let comment =
        json!({"name": " Sam ", "email": "sam@example.org", "body": "Thank you.", "form_stamp": stamp});
    let response = app.post_json("/api/v1/articles/a/comments", &comment, None).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(
        response.headers().get(header::SET_COOKIE).is_none(),
        "no cookie, no session"
    );
    let answer = json_of(response).await;
    assert_eq!(answer["status"], "pending");
    assert_eq!(answer["urgent"], false);
    assert_eq!(answer["safety_message"], Value::Null);
    assert_eq!(
        stored(&app).await,
        [("Sam".into(), "Thank you.".into(), "pending".into())]
    );

    // The same comment again (a retry) stores nothing new and is answered alike.
    let again = app.post_json("/api/v1/articles/a/comments", &comment, None).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn api_an_urgent_comment_is_answered_with_the_safety_message() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let parent = app.add_comment(article, None, "Jo", "Question", Published).await;
    let stamp = app.stamp("a").await;
    let comment = json!({"name": "Sam", "body": "I am soaking a pad every hour.", "parent_id": parent, "form_stamp": stamp});
    let response = app.post_json("/api/v1/articles/a/comments", &comment, None).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer = json_of(response).await;
    assert_eq!(answer["urgent"], true);
    // Soaking a pad an hour is a sign for NHS 111 or the maternity unit today: that category's help.
    let message = &answer["safety_message"];
    let expected = carethread::comments::view::SafetyMessage::new(
        carethread::safety::triage::Category::UrgentCare.message(),
    );
    assert_eq!(message["lead"], json!(expected.lead));
    assert_eq!(message["items"], json!(expected.items));
    assert!(message["items"].to_string().contains("111"));
    let urgent: bool = sqlx::query_scalar("SELECT urgent FROM comments WHERE parent_id = $1")
        .bind(parent)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(urgent);
}

#[tokio::test]
async fn api_every_field_error_is_listed_and_nothing_stored() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.stamp("a").await;
    let comment =
        json!({"name": "  ", "email": "not-an-email", "body": "", "parent_id": -4, "form_stamp": stamp});
    let body = problem(
        app.post_json("/api/v1/articles/a/comments", &comment, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errors = body["errors"].as_object().unwrap();
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["body", "email", "name", "parent_id"]);
    assert_eq!(errors["body"], "Please write your comment.");
    let too_long = json!({"name": "a".repeat(81), "body": "ü".repeat(5001)});
    let body = problem(
        app.post_json("/api/v1/articles/a/comments", &too_long, None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"].as_object().unwrap().len(), 2);
    problem(
        app.post_json("/api/v1/articles/a/comments", &json!({}), None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn api_posting_keeps_the_rate_limit_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.rate_per_address = 1).await;
    app.add_article("a", "A").await;
    let app = &app;
    let post = |body: &'static str| async move {
        let stamp = app.stamp("a").await;
        app.post_json(
            "/api/v1/articles/a/comments",
            &json!({"name": "Sam", "body": body, "form_stamp": stamp}),
            None,
        )
        .await
    };
    assert_eq!(post("First.").await.status(), StatusCode::ACCEPTED);
    let response = post("Second.").await;
    assert_eq!(response.headers()[header::RETRY_AFTER], "600");
    let body = problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(body["detail"].as_str().unwrap().contains("wait a few minutes"));
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn api_a_missing_forged_or_reused_stamp_goes_to_the_spam_tab_as_on_the_form() {
    let app = TestApp::spawn_with(|c| c.comments_per_form = 1).await;
    app.add_article("a", "A").await;
    let stamp = app.stamp("a").await;
    // Another last digit: never the stamp itself, whatever its last digit was.
    let last = if stamp.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &stamp[..stamp.len() - 1]);
    let cases = [
        json!({"name": "Sam", "body": "Without a stamp."}),
        json!({"name": "Sam", "body": "With a forged stamp.", "form_stamp": forged}),
        json!({"name": "Sam", "body": "With a real stamp.", "form_stamp": stamp}),
        json!({"name": "Sam", "body": "The same stamp again.", "form_stamp": stamp}),
        json!({"name": "Sam", "body": "Filled the trap.", "form_stamp": app.stamp("a").await, "website": "https://spam.example"}),
    ];
    for case in &cases {
        let response = app.post_json("/api/v1/articles/a/comments", case, None).await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "answered as any other post"
        );
        assert_eq!(json_of(response).await["status"], "pending");
    }
    let statuses: Vec<String> = stored(&app).await.into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(statuses, ["spam", "spam", "pending", "spam", "spam"]);

    let app = TestApp::spawn_with(|c| c.min_form_seconds = 60).await;
    app.add_article("a", "A").await;
    let quick = json!({"name": "Sam", "body": "Too quick.", "form_stamp": app.stamp("a").await});
    app.post_json("/api/v1/articles/a/comments", &quick, None).await;
    assert_eq!(stored(&app).await[0].2, "spam");
}

#[tokio::test]
async fn api_posting_needs_json_an_open_article_and_a_small_body() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 8 * 1024).await;
    app.add_article("a", "A").await;
    app.add_article("shut", "Shut").await;
    app.close_article("shut").await;
    let form = app
        .post_raw(
            "/api/v1/articles/a/comments",
            "application/x-www-form-urlencoded",
            b"name=Sam&body=Hi".to_vec(),
            None,
        )
        .await;
    problem(form, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let plain = app
        .post_raw(
            "/api/v1/articles/a/comments",
            "text/plain",
            br#"{"name":"Sam","body":"Hi"}"#.to_vec(),
            None,
        )
        .await;
    problem(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let comment = json!({"name": "Sam", "body": "Hello."});
    problem(
        app.post_json("/api/v1/articles/shut/comments", &comment, None)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get_with("/api/v1/articles/shut/form", None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post_json("/api/v1/articles/nowhere/comments", &comment, None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let huge = json!({"name": "Sam", "body": "a".repeat(9 * 1024)});
    problem(
        app.post_json("/api/v1/articles/a/comments", &huge, None).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // Without a length up front (chunked), the limit still holds.
    let (status, content_type) =
        post_chunked(&app, "/api/v1/articles/a/comments", huge.to_string().as_bytes()).await;
    assert_eq!((status.as_str(), content_type.as_str()), ("413", PROBLEM));
    assert_eq!(app.comment_count().await, 0);
}

/// POSTs `body` as JSON in chunks, with no Content-Length; the status and content type answered.
async fn post_chunked(app: &TestApp, path: &str, body: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(1000) {
        let _ = stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await;
        let _ = stream.write_all(chunk).await;
        let _ = stream.write_all(b"\r\n").await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    let status = answer.split(' ').nth(1).unwrap_or("").to_owned();
    let content_type = answer
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or("")
        .trim()
        .to_owned();
    (status, content_type)
}

#[tokio::test]
async fn api_bad_json_is_refused_clearly_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let cases: [(&[u8], StatusCode); 14] = [
        (br#"{"name": 5, "body": "Hi"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (
            br#"{"name": "Sam", "body": ["Hi"]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            br#"{"name": "Sam", "body": "Hi", "admin": true}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            br#"{"name": "Sam", "body": "Hi", "parent_id": 99999999999999999999999}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            br#"{"name": "Sam", "body": "Hi", "parent_id": 1e400}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            br#"{"name": "Sam", "body": "Hi", "parent_id": 1.5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            br#"{"name": "Sam", "body": "Hi", "parent_id": "12"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            br#"{"name": "Sam", "name": "Kim", "body": "Hi"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            br#"{"name": null, "body": "Hi"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (br#"["Sam", "Hi"]"#, StatusCode::UNPROCESSABLE_ENTITY),
        (
            b"{\"name\": \"Sam\", \"body\": \"caf\xe9\"}",
            StatusCode::BAD_REQUEST,
        ),
        (br#"{"name": "Sam", "body": "Hi""#, StatusCode::BAD_REQUEST),
        (br#"{"name": "Sam", "body": "Hi"} {}"#, StatusCode::BAD_REQUEST),
        (b"", StatusCode::BAD_REQUEST),
    ];
    for (body, status) in cases {
        let response = app
            .post_raw(
                "/api/v1/articles/a/comments",
                "application/json",
                body.to_vec(),
                None,
            )
            .await;
        assert_eq!(response.status(), status, "{}", String::from_utf8_lossy(body));
        let answer = problem(response, status).await;
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(answer["errors"].as_object().unwrap().len(), 1, "{answer}");
        }
    }
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let response = app
        .post_raw(
            "/api/v1/articles/a/comments",
            "application/json",
            nested.into_bytes(),
            None,
        )
        .await;
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let answer = problem(
        app.post_raw(
            "/api/v1/articles/a/comments",
            "application/json",
            br#"{"name": 5}"#.to_vec(),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        answer["errors"]["name"]
            .as_str()
            .unwrap()
            .contains("expected a string"),
        "{answer}"
    );
    assert_eq!(app.comment_count().await, 0);
}

// --- Tokens --------------------------------------------------------------------------------------

#[tokio::test]
async fn api_tokens_are_made_on_the_admin_page_shown_once_stored_as_a_hash_and_revoked() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let kim = app.create_staff("Kim", Role::Moderator, false).await;
    let overview = app.get_as(&admin.client, "/admin").await.text().await.unwrap();
    assert!(overview.contains(r#"<a href="/admin/tokens">API tokens</a>"#));

    let made = app
        .post_as(
            &admin.client,
            "/admin/tokens",
            &[
                ("name", "Website CMS"),
                ("owner", &kim.to_string()),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(made.status(), StatusCode::OK);
    let html = made.text().await.unwrap();
    let token = html
        .split("value=\"")
        .find(|s| s.starts_with("ct_"))
        .and_then(|s| s.split('"').next())
        .expect("the token is shown")
        .to_owned();
    assert_eq!(token.len(), 3 + 43);
    let list = app
        .get_as(&admin.client, "/admin/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Website CMS") && !list.contains(&token),
        "shown once only"
    );

    let (hash, scope): (Vec<u8>, String) = sqlx::query_as("SELECT token_hash, scope::text FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(hash, carethread::accounts::tokens::hash(&token[3..]));
    assert_eq!(scope, "read");
    let anywhere: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens t WHERE t::text LIKE '%' || $1 || '%'")
            .bind(&token[3..])
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(anywhere, 0, "the token itself is stored nowhere");
    assert_eq!(app.audit_count("api_token.created").await, 1);

    let queue = app.get_with("/api/v1/queue", Some(&token)).await;
    assert_eq!(queue.status(), StatusCode::OK);
    assert_eq!(queue.headers()[header::CACHE_CONTROL], "no-store");
    let used = app
        .count_where("SELECT count(*) FROM api_tokens WHERE last_used_at IS NOT NULL")
        .await;
    assert_eq!(used, 1, "reads note the time of use");

    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let revoked = app
        .post_as(&admin.client, &format!("/admin/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("api_token.revoked").await, 1);
    let refused = app.get_with("/api/v1/queue", Some(&token)).await;
    assert!(
        refused.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    problem(refused, StatusCode::UNAUTHORIZED).await;
    let page = app
        .get_as(&admin.client, "/admin/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Revoked"));
}

#[tokio::test]
async fn api_the_token_page_is_for_admins_and_checks_what_it_is_given() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let kim = app.staff("Kim", Role::Moderator, false).await;
    assert_eq!(
        app.get_as(&kim.client, "/admin/tokens").await.status(),
        StatusCode::FORBIDDEN
    );
    let refused = app
        .post_as(
            &kim.client,
            "/admin/tokens",
            &[
                ("name", "Mine"),
                ("owner", &kim.id.to_string()),
                ("scope", "moderate"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let no_token = app
        .post_form(
            "/admin/tokens",
            &[("name", "x"), ("owner", "1"), ("scope", "read")],
        )
        .await;
    assert_ne!(no_token.status(), StatusCode::OK);
    let invited = app.create_staff("Invitee", Role::Moderator, false).await;
    sqlx::query("UPDATE users SET password_hash = NULL WHERE id = $1")
        .bind(invited)
        .execute(&app.db)
        .await
        .unwrap();
    for (name, owner, scope) in [
        ("", kim.id.to_string(), "read"),
        ("Fine", kim.id.to_string(), "everything"),
        ("Fine", invited.to_string(), "read"),
        ("Fine", "x".to_string(), "read"),
    ] {
        let again = app
            .post_as(
                &admin.client,
                "/admin/tokens",
                &[("name", name), ("owner", &owner), ("scope", scope)],
            )
            .await;
        assert_eq!(
            again.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name} {owner} {scope}"
        );
    }
    assert_eq!(app.count_where("SELECT count(*) FROM api_tokens").await, 0);
}

#[tokio::test]
async fn api_staff_endpoints_need_a_working_bearer_token_not_a_session() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let missing = app.get_with("/api/v1/queue", None).await;
    assert_eq!(
        missing.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"carethread\""
    );
    problem(missing, StatusCode::UNAUTHORIZED).await;
    let signed_in = app.get_as(&admin.client, "/api/v1/queue").await;
    problem(signed_in, StatusCode::UNAUTHORIZED).await;
    for garbage in ["ct_nonsense", "nonsense", "ct_"] {
        problem(
            app.get_with("/api/v1/queue", Some(garbage)).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let basic = reqwest::Client::new()
        .get(app.url("/api/v1/queue"))
        .basic_auth("ada", Some("password"))
        .send()
        .await
        .unwrap();
    problem(basic, StatusCode::UNAUTHORIZED).await;

    let token = app.api_token(admin.id, "moderate").await;
    assert_eq!(
        app.get_with("/api/v1/queue", Some(&token)).await.status(),
        StatusCode::OK
    );
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(admin.id)
        .execute(&app.db)
        .await
        .unwrap();
    problem(
        app.get_with("/api/v1/queue", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

/// Who holds a token in the role matrix.
struct Holder {
    role: Role,
    verified: bool,
    may_moderate: bool,
    may_reply: bool,
}

const HOLDERS: [Holder; 5] = [
    Holder {
        role: Role::Midwife,
        verified: false,
        may_moderate: false,
        may_reply: false,
    },
    Holder {
        role: Role::Midwife,
        verified: true,
        may_moderate: true,
        may_reply: true,
    },
    Holder {
        role: Role::Moderator,
        verified: false,
        may_moderate: true,
        may_reply: false,
    },
    Holder {
        role: Role::Admin,
        verified: false,
        may_moderate: true,
        may_reply: false,
    },
    Holder {
        role: Role::Admin,
        verified: true,
        may_moderate: true,
        may_reply: true,
    },
];

#[tokio::test]
async fn api_tokens_follow_the_dashboards_role_rules_within_their_scope() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let guest = "guest@example.org";
    for (n, holder) in HOLDERS.iter().enumerate() {
        let owner = app
            .create_staff(&format!("Owner{n}"), holder.role, holder.verified)
            .await;
        for scope in ["read", "moderate"] {
            let token = app.api_token(owner, scope).await;
            let case = format!("{:?} verified={} {scope}", holder.role, holder.verified);
            let waiting = app.add_comment(article, None, "Sam", "Waiting", Pending).await;
            sqlx::query("UPDATE comments SET author_email = $2 WHERE id = $1")
                .bind(waiting)
                .bind(guest)
                .execute(&app.db)
                .await
                .unwrap();

            let queue = app.get_with("/api/v1/queue", Some(&token)).await;
            assert_eq!(
                queue.status(),
                StatusCode::OK,
                "{case}: every token reads the queue"
            );
            let queue = json_of(queue).await;
            let item = queue["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == waiting)
                .expect("the waiting comment is listed")
                .clone();
            let sees_email = holder.role != Role::Midwife || holder.verified;
            assert_eq!(item["email"] == guest, sees_email, "{case}: email");
            let moderate = scope == "moderate";
            assert_eq!(
                item["actions"].as_array().unwrap().contains(&json!("approve")),
                moderate && holder.may_moderate,
                "{case}: actions"
            );

            let used_before = app.audit_count("api_token.used").await;
            let approve = app
                .post_json(
                    &format!("/api/v1/comments/{waiting}/approve"),
                    &json!({}),
                    Some(&token),
                )
                .await;
            if moderate && holder.may_moderate {
                assert_eq!(approve.status(), StatusCode::OK, "{case}: approve");
                assert_eq!(app.status_of(waiting).await, "published");
                let actor: i64 = sqlx::query_scalar(
                    "SELECT actor_id FROM audit_log WHERE action = 'comment.approved' AND target_id = $1",
                )
                .bind(waiting)
                .fetch_one(&app.db)
                .await
                .unwrap();
                assert_eq!(actor, owner, "{case}: the owner is the actor");
                assert_eq!(app.audit_count("api_token.used").await, used_before + 1);
            } else {
                let body = problem(approve, StatusCode::FORBIDDEN).await;
                assert!(!body["detail"].as_str().unwrap().is_empty());
                assert_eq!(app.status_of(waiting).await, "pending", "{case}");
                assert_eq!(app.audit_count("api_token.used").await, used_before);
            }

            let reply = app
                .post_json(
                    &format!("/api/v1/comments/{waiting}/replies"),
                    &json!({"body": "An answer."}),
                    Some(&token),
                )
                .await;
            if moderate && holder.may_reply {
                assert_eq!(reply.status(), StatusCode::CREATED, "{case}: reply");
                let published = json_of(reply).await;
                assert_eq!(published["parent_id"], waiting);
            } else {
                problem(reply, StatusCode::FORBIDDEN).await;
            }
        }
    }
    let replies = app
        .count_where("SELECT count(*) FROM comments WHERE author_kind = 'staff'")
        .await;
    assert_eq!(
        replies, 2,
        "verified midwife and verified admin, moderate tokens only"
    );
}

#[tokio::test]
async fn api_decisions_follow_the_decision_table_and_say_who_came_first() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let kim = app.create_staff("Kim", Role::Moderator, false).await;
    let token = app.api_token(kim, "moderate").await;
    let comment = app.add_comment(article, None, "Sam", "Words.", Published).await;
    let spam = app.add_comment(article, None, "Bot", "Buy now.", Spam).await;
    let app = &app;
    let post = |path: String, body: Value| {
        let token = token.clone();
        async move { app.post_json(&path, &body, Some(&token)).await }
    };

    let too_long = post(
        format!("/api/v1/comments/{comment}/hide"),
        json!({"reason": "a".repeat(501)}),
    )
    .await;
    let body = problem(too_long, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["reason"].as_str().unwrap().contains("500"));
    let hidden = post(
        format!("/api/v1/comments/{comment}/hide"),
        json!({"reason": "Shares a phone number"}),
    )
    .await;
    assert_eq!(hidden.status(), StatusCode::OK);
    assert_eq!(json_of(hidden).await["status"], "hidden");
    let reason: Option<String> = sqlx::query_scalar("SELECT hidden_reason FROM comments WHERE id = $1")
        .bind(comment)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("Shares a phone number"));
    let twice = post(format!("/api/v1/comments/{comment}/hide"), json!({})).await;
    let body = problem(twice, StatusCode::CONFLICT).await;
    assert!(body["detail"].as_str().unwrap().contains("Kim hid it"), "{body}");
    let unhidden = post(format!("/api/v1/comments/{comment}/unhide"), json!({})).await;
    assert_eq!(json_of(unhidden).await["status"], "published");
    // A hide needs no body at all.
    let bare = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/comments/{comment}/hide")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::OK);
    post(format!("/api/v1/comments/{comment}/unhide"), json!({})).await;
    let null = post(format!("/api/v1/comments/{comment}/hide"), Value::Null).await;
    assert_eq!(null.status(), StatusCode::OK, "null is no reason");

    let not_spam = post(format!("/api/v1/comments/{spam}/not-spam"), json!({})).await;
    assert_eq!(json_of(not_spam).await["status"], "pending");
    let spam_tab = json_of(
        app.get_with("/api/v1/queue?status=pending&article=a", Some(&token))
            .await,
    )
    .await;
    assert_eq!(spam_tab["items"][0]["id"], spam);
    assert_eq!(spam_tab["counts"]["pending"], 1);
    assert_eq!(spam_tab["counts"]["published"], 0);
    assert_eq!(spam_tab["counts"]["hidden"], 1);
    assert_eq!(spam_tab["items"][0]["actions"], json!(["approve", "hide"]));
    problem(
        app.get_with("/api/v1/queue?status=everything", Some(&token))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get_with("/api/v1/queue?article=nowhere", Some(&token)).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    problem(
        post("/api/v1/comments/999999/approve".into(), json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let hidden_parent = app.add_comment(article, None, "Sam", "Gone.", Hidden).await;
    let mia = app.create_staff("Mia", Role::Midwife, true).await;
    let midwife = app.api_token(mia, "moderate").await;
    let reply = app
        .post_json(
            &format!("/api/v1/comments/{hidden_parent}/replies"),
            &json!({"body": "Hello"}),
            Some(&midwife),
        )
        .await;
    problem(reply, StatusCode::CONFLICT).await;
    let empty = app
        .post_json(
            &format!("/api/v1/comments/{comment}/replies"),
            &json!({"body": "   "}),
            Some(&midwife),
        )
        .await;
    let body = problem(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"]["body"], "Please write your reply.");
    let unknown = app
        .post_json(
            &format!("/api/v1/comments/{comment}/replies"),
            &json!({"body": "Hi", "sign_as": "Ada"}),
            Some(&midwife),
        )
        .await;
    problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.count_where("SELECT count(*) FROM comments WHERE author_kind = 'staff'")
            .await,
        0
    );

    let used: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM audit_log WHERE action = 'api_token.used' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(used.contains(&format!("hide comment {comment}")), "{used:?}");
    assert!(
        used.contains(&format!("mark as not spam comment {spam}")),
        "{used:?}"
    );
}

// --- Problems and the document ---------------------------------------------------------------------

#[tokio::test]
async fn api_every_error_is_a_problem_document() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 1024).await;
    app.add_article("a", "A").await;
    let client = reqwest::Client::new();
    let cases = [
        (client.get(app.url("/api/v1/nowhere")), StatusCode::NOT_FOUND),
        (
            client.delete(app.url("/api/v1/counts")),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            client.get(app.url("/api/v1/articles/a%00b/comments")),
            StatusCode::BAD_REQUEST,
        ),
        (
            client.post(app.url("/api/v1/comments/abc/approve")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            client
                .post(app.url("/api/v1/articles/a/comments"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(vec![b' '; 2048]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (request, status) in cases {
        let response = request.send().await.unwrap();
        problem(response, status).await;
    }
    let not_allowed = client.delete(app.url("/api/v1/counts")).send().await.unwrap();
    assert!(not_allowed.headers().get(header::ALLOW).is_some());
    let page = client.get(app.url("/articles/nowhere")).send().await.unwrap();
    assert!(
        content_type(&page).starts_with("text/html"),
        "pages keep their error pages"
    );
}

#[tokio::test]
async fn api_the_openapi_document_lists_every_route_with_problem_answers() {
    let app = TestApp::spawn().await;
    let response = app.get_with("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc = json_of(response).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let expected = [
        ("/api/v1/counts", "get"),
        ("/api/v1/counts", "options"),
        ("/api/v1/articles/{slug}/comments", "get"),
        ("/api/v1/articles/{slug}/comments", "post"),
        ("/api/v1/articles/{slug}/form", "get"),
        ("/api/v1/queue", "get"),
        ("/api/v1/comments/{id}/approve", "post"),
        ("/api/v1/comments/{id}/hide", "post"),
        ("/api/v1/comments/{id}/unhide", "post"),
        ("/api/v1/comments/{id}/not-spam", "post"),
        ("/api/v1/comments/{id}/replies", "post"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let listed: usize = paths.values().map(|item| item.as_object().unwrap().len()).sum();
    assert_eq!(listed, expected.len(), "{:?}", paths.keys());
    for (path, method) in expected {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path}");
        let staff = path.contains("/queue") || path.contains("/comments/{id}");
        assert_eq!(operation["security"].is_array(), staff, "{method} {path}");
        for (status, answer) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    answer["content"][PROBLEM]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
        if staff {
            assert!(operation["responses"]["401"].is_object() && operation["responses"]["403"].is_object());
        }
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Each route answers as listed: the document's routes are the router's.
    for (path, method) in expected {
        let path = path.replace("{slug}", "a").replace("{id}", "1");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = reqwest::Client::new()
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert!(
            response.status() != StatusCode::NOT_FOUND || content_type(&response) == PROBLEM,
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn api_an_unreachable_database_is_a_503_problem_with_retry_after() {
    use std::{sync::Arc, time::Duration};

    use carethread::{AppState, db::Outage};
    let outage = Arc::new(Outage::default());
    // Nothing listens on port 1: every connection fails at once.
    let options: sqlx::postgres::PgConnectOptions = "postgres://postgres@127.0.0.1:1/none".parse().unwrap();
    let pool = Outage::pool_options(&outage)
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(options);
    let state = AppState::new(pool, Config::for_tests(), &[7; 64])
        .unwrap()
        .watched_by(outage);
    let database = crate::helpers::TestDatabase::create_empty().await;
    let db = database.pool().await;
    let app = TestApp::serve(state, db, database).await;
    for path in [
        "/api/v1/counts?slug=a",
        "/api/v1/counts?slug=a",
        "/api/v1/articles/a/comments",
    ] {
        let response = app.get_with(path, None).await;
        assert_eq!(response.headers()[header::RETRY_AFTER], "10", "{path}");
        problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    }
    let comment = json!({"name": "Sam", "body": "Hello."});
    let posted = app.post_json("/api/v1/articles/a/comments", &comment, None).await;
    problem(posted, StatusCode::SERVICE_UNAVAILABLE).await;
}
