//! What an attack on the running service tried: open redirects, planted sessions, races on the
//! rate limits, replayed forms, reports on staff replies, control characters everywhere, huge
//! page numbers, slow clients, sign-in floods, and staff text with hidden characters.

use std::time::Duration;

use carethread::{
    accounts::{
        Role,
        store::{self as accounts_store, TokenPurpose},
        tokens,
    },
    comments::CommentStatus::{Pending, Published, Spam},
};
use reqwest::{StatusCode, header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{STAFF_PASSWORD, TestApp, hidden_field, location, new_client, reader_at};

/// Forms that lead a browser to another site, or that would break the `Location` header. They
/// are sent as typed: the client percent-encodes them on the way.
const BYPASSES: &[&str] = &[
    "https://evil.example",
    "http://evil.example/moderation",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\t\t/evil.example",
    "\t//evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    "/\u{b}/evil.example",
    "/\u{c}/evil.example",
    "/\u{0}/evil.example",
    "/\u{7f}/evil.example",
    " //evil.example",
    "/ /evil.example",
    "/%09/evil.example",
    "/%0B/evil.example",
    "/%0c/evil.example",
    "/%0d%0a/evil.example",
    "/%2F/evil.example",
    "/%2f/evil.example",
    "/%5C/evil.example",
    "/%5c/evil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",
    "/%00/evil.example",
    "/\u{2215}/evil.example",
    "/\u{2044}/evil.example",
    "/\u{ff0f}/evil.example",
    "/\u{ff3c}/evil.example",
    "/\u{3000}/evil.example",
    "/\u{a0}/evil.example",
    "/\u{200b}/evil.example",
    "//user@evil.example",
    "/\\user@evil.example",
    "https:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
];

/// The answer sends the browser to the dashboard, or refuses an address with control characters
/// outright: never anywhere else.
fn assert_stays_here(response: &reqwest::Response, sent: &str) {
    if response.status() == StatusCode::BAD_REQUEST {
        assert!(sent.chars().any(char::is_control), "{sent:?}: refused");
        assert_eq!(location(response), "", "{sent:?}");
        return;
    }
    assert!(
        response.status().is_redirection(),
        "{sent:?}: expected a redirect, got {}",
        response.status()
    );
    assert_eq!(location(response), "/moderation", "{sent:?}");
}

#[tokio::test]
async fn sign_in_and_moderation_forms_never_send_a_browser_to_another_site() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let comment = app
        .add_comment(article, None, "Sam", "A question.", Published)
        .await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    assert!(BYPASSES.len() >= 40);
    for bad in BYPASSES {
        // Already signed in: the sign-in page sends the browser straight on.
        let url =
            reqwest::Url::parse_with_params(&format!("{}/login", app.address), &[("next", bad)]).unwrap();
        let response = admin.client.get(url).send().await.unwrap();
        assert_stays_here(&response, bad);

        // The `back` field of a moderation form.
        let response = app
            .post_as(
                &admin.client,
                &format!("/moderation/comments/{comment}/approve"),
                &[("back", bad)],
            )
            .await;
        assert_stays_here(&response, bad);
    }
    // Signing in with a hostile `next`.
    app.create_staff("Sam", Role::Moderator, false).await;
    for bad in &BYPASSES[..12] {
        let response = app
            .sign_in_next(&new_client(), "sam@example.org", STAFF_PASSWORD, bad)
            .await;
        assert_stays_here(&response, bad);
    }
}

#[tokio::test]
async fn raw_control_bytes_in_a_next_address_are_refused_not_a_server_error() {
    let app = TestApp::spawn().await;
    for raw in [
        "/%09/evil.example",
        "/%0B/evil.example",
        "/%0C/evil.example",
        "/%00/x",
    ] {
        let response = app.get(&format!("/login?next={raw}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{raw}");
    }
}

/// The value of the session cookie a browser holds for the app.
fn session_cookie(jar: &reqwest::cookie::Jar, app: &TestApp) -> Option<String> {
    use reqwest::cookie::CookieStore;
    let url = reqwest::Url::parse(&app.address).unwrap();
    let header = jar.cookies(&url)?;
    header
        .to_str()
        .ok()?
        .split("; ")
        .find_map(|c| c.strip_prefix("carethread_session="))
        .map(str::to_owned)
}

fn browser_with(jar: &std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(std::sync::Arc::clone(jar))
        .build()
        .unwrap()
}

/// A browser carrying the session `value` (planted by someone else).
fn planted(app: &TestApp, value: &str) -> (std::sync::Arc<reqwest::cookie::Jar>, reqwest::Client) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let url = reqwest::Url::parse(&app.address).unwrap();
    jar.add_cookie_str(&format!("carethread_session={value}; Path=/"), &url);
    let client = browser_with(&jar);
    (jar, client)
}

/// Signs the planter in and returns their session id.
async fn planters_session(app: &TestApp) -> String {
    app.create_staff("Mallory", Role::Moderator, false).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = browser_with(&jar);
    let response = app.sign_in(&client, "mallory@example.org", STAFF_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie(&jar, app).expect("a session cookie")
}

#[tokio::test]
async fn signing_in_on_a_browser_that_holds_someone_elses_session_gets_a_new_session_id() {
    let app = TestApp::spawn().await;
    app.create_staff("Ada", Role::Admin, true).await;
    let mallory = planters_session(&app).await;

    let (jar, victim) = planted(&app, &mallory);
    let response = app.sign_in(&victim, "ada@example.org", STAFF_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let renewed = session_cookie(&jar, &app).expect("a session cookie");
    assert_ne!(renewed, mallory, "the id is renewed at sign-in");

    let page = app.get_as(&victim, "/moderation").await.text().await.unwrap();
    assert!(page.contains("Ada"), "the victim is signed in as herself");
    let (_, attacker) = planted(&app, &mallory);
    let response = app.get_as(&attacker, "/moderation").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the planted id opens nothing"
    );
    assert!(location(&response).starts_with("/login"));
}

#[tokio::test]
async fn setting_a_password_from_a_one_time_link_gets_a_new_session_id() {
    let app = TestApp::spawn().await;
    let mallory = planters_session(&app).await;
    let invited = accounts_store::insert_account(
        &app.db,
        &accounts_store::NewAccount {
            email: "morgan@example.org",
            display_name: "Morgan",
            role: Role::Admin,
            password_hash: None,
            verified: false,
            verified_by: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    let link = tokens::generate();
    let mut tx = app.db.begin().await.unwrap();
    accounts_store::insert_token(
        &mut tx,
        invited,
        TokenPurpose::Invitation,
        &link.hash,
        chrono::Utc::now() + chrono::Duration::hours(1),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let (jar, victim) = planted(&app, &mallory);
    let path = format!("/invitations/{}", link.token);
    let good = "quiet river lamp window";
    let response = app
        .post_as_on(&victim, &path, &[("password", good), ("confirm", good)])
        .await;
    assert_eq!(location(&response), "/moderation");
    assert_ne!(session_cookie(&jar, &app).unwrap(), mallory);
    let (_, attacker) = planted(&app, &mallory);
    assert_eq!(
        app.get_as(&attacker, "/moderation").await.status(),
        StatusCode::SEE_OTHER,
        "the planted id does not open the new admin's account"
    );
}

/// Opens the page `count` times and keeps each shown form's stamp.
async fn shown_forms(app: &TestApp, client: &reqwest::Client, slug: &str, count: usize) -> Vec<String> {
    let mut forms = Vec::with_capacity(count);
    for _ in 0..count {
        let html = app
            .get_as(client, &format!("/articles/{slug}"))
            .await
            .text()
            .await
            .unwrap();
        forms.push(hidden_field(&html, "form_stamp").unwrap());
    }
    forms
}

/// Sends a shown form from `client`, from this site's page as a browser does.
async fn send_form(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    stamp: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("form_stamp", stamp)];
    all.extend_from_slice(fields);
    client
        .post(format!("{}/articles/{slug}/comments", app.address))
        .header(header::ORIGIN, &app.address)
        .form(&all)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forty_posts_at_once_from_one_address_store_exactly_the_limit() {
    let app = TestApp::spawn_with(|c| c.rate_per_address = 5).await;
    app.add_article("a", "A").await;
    let client = new_client();
    let forms = shown_forms(&app, &client, "a", 40).await;
    let posts = forms.iter().enumerate().map(|(i, form)| {
        let (app, client) = (&app, &client);
        async move {
            let body = format!("my words number {i}");
            let response = send_form(app, client, "a", form, &[("name", "Sam"), ("body", &body)]).await;
            (response.status(), body, response.text().await.unwrap())
        }
    });
    let answers = futures_join_all(posts).await;
    let stored = answers
        .iter()
        .filter(|(s, ..)| *s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(stored, 5);
    assert_eq!(app.comment_count().await, 5);
    for (status, body, html) in &answers {
        if *status != StatusCode::SEE_OTHER {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
            assert!(html.contains(&format!("{body}</textarea>")), "words kept");
        }
    }
}

/// Runs every future at once and collects their results in order.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    let mut outputs = Vec::with_capacity(set.len());
    let mut pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => *slot = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.extend(done.into_iter().flatten());
    outputs
}

#[tokio::test]
async fn comments_in_the_spam_tab_do_not_count_against_the_article_limit() {
    let app = TestApp::spawn_with(|c| {
        c.rate_per_article = 3;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.add_article("a", "A").await;
    for i in 0..12 {
        let bot = reader_at(&format!("198.51.100.{i}"));
        let response = app
            .post_comment_as(
                &bot,
                "a",
                &[
                    ("name", "Bot"),
                    ("body", &format!("buy now {i}")),
                    ("website", "x"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let reader = reader_at("192.0.2.10");
    let response = app
        .post_comment_as(&reader, "a", &[("name", "Kim"), ("body", "A real question.")])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the real reader is heard"
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE status = 'pending'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(pending, 1);
}

/// Every reader shown the thread within a window gets the same form, so a form is one address's
/// for one reply target: it stores one comment there, a double click stores nothing new, and a
/// flood of replays with other words goes to the Spam tab.
#[tokio::test]
async fn a_form_stores_one_comment_per_address_and_a_replay_flood_goes_to_the_spam_tab() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.comments_per_form = 1;
    })
    .await;
    let a = app.add_article("a", "A").await;
    let parent = app.add_comment(a, None, "Kim", "A question.", Published).await;
    let first = reader_at("192.0.2.1");
    let form = shown_forms(&app, &first, "a", 1).await.remove(0);
    let fields = [("name", "Sam"), ("body", "My question.")];
    let response = send_form(&app, &first, "a", &form, &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // The same form sent again as it was: a double click, nothing new.
    let again = send_form(&app, &first, "a", &form, &fields).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.comment_count().await, 2);

    // The same form replayed with other words, forty times at once.
    let replays = (0..40).map(|i| {
        let (app, form, first) = (&app, &form, &first);
        async move {
            let body = format!("replay {i}");
            let response = send_form(app, first, "a", form, &[("name", "Bot"), ("body", &body)]).await;
            response.status()
        }
    });
    for status in futures_join_all(replays).await {
        // Answered like any post: telling a bot what tripped it only helps it.
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let by_status: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status::text, count(*) FROM comments WHERE author_name <> 'Kim' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        by_status,
        vec![("pending".to_owned(), 1), ("spam".to_owned(), 40)]
    );
    let reason: String = sqlx::query_scalar("SELECT spam_reason FROM comments WHERE status = 'spam' LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(reason.contains("already been used"), "{reason}");

    // The same form still answers another comment once: a reply is a use of its own.
    let parent_id = parent.to_string();
    let reply = [
        ("name", "Sam"),
        ("body", "And a reply."),
        ("parent_id", parent_id.as_str()),
    ];
    assert_eq!(
        send_form(&app, &first, "a", &form, &reply).await.status(),
        StatusCode::SEE_OTHER
    );
    let replies: Vec<String> = sqlx::query_scalar("SELECT status::text FROM comments WHERE parent_id = $1")
        .bind(parent)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(replies, ["pending"]);
}

/// Two readers shown the same form who send the same words are two people: two comments, each
/// thanked, neither taken for the other's double click.
#[tokio::test]
async fn two_readers_sending_the_same_words_with_the_same_form_are_two_comments() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.comments_per_form = 1;
    })
    .await;
    app.add_article("a", "A").await;
    let (sam, kim) = (reader_at("192.0.2.1"), reader_at("198.51.100.7"));
    let sams = shown_forms(&app, &sam, "a", 1).await.remove(0);
    let kims = shown_forms(&app, &kim, "a", 1).await.remove(0);
    assert_eq!(sams, kims, "one form for every reader in the window");
    let words = "Thank you, this helped me.";
    let (from_sam, from_kim) = (
        [("name", "Sam"), ("body", words)],
        [("name", "Kim"), ("body", words)],
    );
    let (one, two) = tokio::join!(
        send_form(&app, &sam, "a", &sams, &from_sam),
        send_form(&app, &kim, "a", &kims, &from_kim),
    );
    for response in [one, two] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(location(&response).contains("posted=1"), "each reader is thanked");
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT author_name FROM comments ORDER BY author_name")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(names, ["Kim", "Sam"]);
}

#[tokio::test]
async fn a_readers_comments_from_forms_of_different_windows_are_each_stored() {
    let app = TestApp::spawn_with(|c| {
        c.shared_cache_seconds = 1;
        c.comments_per_form = 1;
    })
    .await;
    app.add_article("a", "A").await;
    let client = new_client();
    let first = shown_forms(&app, &client, "a", 1).await.remove(0);
    let mut second = first.clone();
    while second == first {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        second = shown_forms(&app, &client, "a", 1).await.remove(0);
    }
    for (i, form) in [first, second].iter().enumerate() {
        let body = format!("thought {i}");
        let response = send_form(&app, &client, "a", form, &[("name", "Sam"), ("body", &body)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE status = 'pending'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(pending, 2);
}

#[tokio::test]
async fn staff_replies_cannot_be_reported_off_the_page() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.add_article("a", "A").await;
    let article: i64 = sqlx::query_scalar("SELECT id FROM articles WHERE slug = 'a'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let question = app
        .add_comment(article, None, "Sam", "A question.", Published)
        .await;
    let midwife = app.staff("Jo", Role::Midwife, true).await;
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{question}/reply"),
            &[("body", "An answer.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let reply: i64 = sqlx::query_scalar("SELECT id FROM comments WHERE author_kind = 'staff'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let path = format!("/articles/a/comments/{reply}/report");
    let page = app.get(&path).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("cannot be reported"));
    for i in 0..3 {
        // A reader holding a valid report form (the thread page itself carries no token).
        let reader = reader_at(&format!("192.0.2.{i}"));
        let reportable = format!("/articles/a/comments/{question}/report");
        let html = app.get_as(&reader, &reportable).await.text().await.unwrap();
        let token = hidden_field(&html, "authenticity_token").unwrap();
        let response = reader
            .post(format!("{}{path}", app.address))
            .form(&[
                ("authenticity_token", token.as_str()),
                ("reason", "It is unkind or abusive"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.status_of(reply).await, "published");
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM comment_reports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(reports, 0);
}

async fn report_from(app: &TestApp, address: &str, id: i64) {
    let reader = reader_at(address);
    let response = app
        .post_as_on(
            &reader,
            &format!("/articles/a/comments/{id}/report"),
            &[("reason", "It is unkind or abusive")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_reapproved_comment_needs_three_new_reports_to_return_to_the_queue() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let article = app.add_article("a", "A").await;
    let id = app
        .add_comment(article, None, "Sam", "Something.", Published)
        .await;
    for i in 0..3 {
        report_from(&app, &format!("192.0.2.{i}"), id).await;
    }
    assert_eq!(app.status_of(id).await, "pending");
    let moderator = app.staff("Kim", Role::Moderator, false).await;
    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/approve"),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(id).await, "published");

    for i in 3..5 {
        report_from(&app, &format!("192.0.2.{i}"), id).await;
    }
    assert_eq!(
        app.status_of(id).await,
        "published",
        "two new reports are not enough"
    );
    report_from(&app, "192.0.2.9", id).await;
    assert_eq!(app.status_of(id).await, "pending");
}

/// C0 control characters and DEL.
fn controls() -> Vec<char> {
    (0u8..0x20).chain([0x7f]).map(char::from).collect()
}

#[tokio::test]
async fn nul_and_every_control_character_in_any_field_or_address_never_cause_a_server_error() {
    let app = TestApp::spawn_with(|c| c.min_form_seconds = 0).await;
    let article = app.add_article("a", "A").await;
    let comment = app
        .add_comment(article, None, "Sam", "A question.", Pending)
        .await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let invitee = app.create_staff("Lee", Role::Midwife, false).await;
    let mut sent = 0;
    let mut check = |status: StatusCode, what: &str| {
        sent += 1;
        assert!(!status.is_server_error(), "{what}: {status}");
    };
    for c in controls() {
        let bad = format!("x{c}y");
        let encoded: String = url_encode(&bad);
        for path in [
            format!("/articles/{encoded}"),
            format!("/articles/a?page={encoded}&reply_to={encoded}"),
            format!("/articles/{encoded}/comments/1/report"),
            format!("/moderation?article={encoded}&status={encoded}&page={encoded}"),
            format!("/admin/audit?actor={encoded}&action={encoded}&target={encoded}&before={encoded}"),
            format!("/login?next={encoded}&reason={encoded}"),
        ] {
            let status = admin
                .client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .unwrap()
                .status();
            check(status, &path);
        }
        let b = bad.as_str();
        let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "/admin/accounts/invite".into(),
                vec![("name", b), ("email", b), ("role", b)],
            ),
            (
                format!("/admin/accounts/{invitee}/verify"),
                vec![("registration_number", b)],
            ),
            (format!("/admin/accounts/{invitee}/role"), vec![("role", b)]),
            (
                "/admin/articles".into(),
                vec![("slug", b), ("title", b), ("url", b)],
            ),
            (
                "/admin/articles".into(),
                vec![("slug", "new"), ("title", b), ("url", "https://example.org/x")],
            ),
            ("/admin/articles/a/edit".into(), vec![("title", b), ("url", b)]),
            (
                "/admin/settings".into(),
                carethread::settings::Field::ALL
                    .iter()
                    .map(|f| (f.name(), b))
                    .collect(),
            ),
            ("/admin/privacy/export".into(), vec![("email", b)]),
            ("/admin/privacy/erase".into(), vec![("email", b), ("confirm", b)]),
            // Edit and reply before the hide, unhide after it: each step is one the page offers.
            (format!("/moderation/comments/{comment}/edit"), vec![("body", b)]),
            (
                format!("/moderation/comments/{comment}/reply"),
                vec![("body", b), ("back", b)],
            ),
            (
                format!("/moderation/comments/{comment}/hide"),
                vec![("reason", b), ("back", b)],
            ),
            (
                format!("/moderation/comments/{comment}/unhide"),
                vec![("back", b)],
            ),
        ];
        for (path, fields) in &forms {
            let response = app.post_as(&admin.client, path, fields).await;
            assert_ne!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path}: the form was accepted"
            );
            check(response.status(), path);
        }
        let reader = new_client();
        let response = app
            .post_comment_as(
                &reader,
                "a",
                &[("name", b), ("email", b), ("body", b), ("parent_id", b)],
            )
            .await;
        check(response.status(), "comment form");
        let response = app.sign_in(&new_client(), b, b).await;
        check(response.status(), "sign-in");
    }
    assert!(sent >= 33 * 20, "sent {sent} requests");
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', title, url) FROM articles UNION ALL SELECT concat_ws(' ', author_name, body, hidden_reason) FROM comments
         UNION ALL SELECT concat_ws(' ', display_name, email, registration_number) FROM users",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    for text in stored {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "stored text is normalised: {text:?}"
        );
    }
}

fn url_encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn page_numbers_out_of_range_show_a_page_not_an_error() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let moderator = app.staff("Kim", Role::Moderator, false).await;
    for page in [
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "abc",
        "1e9",
        "",
    ] {
        for path in [
            format!("/moderation?page={page}"),
            format!("/moderation?status=published&page={page}"),
            format!("/articles/a?page={page}"),
            format!("/admin/audit?before={page}"),
        ] {
            let response = app.get_as(&moderator.client, &path).await;
            assert!(
                response.status() == StatusCode::OK || response.status() == StatusCode::FORBIDDEN,
                "{path}: {}",
                response.status()
            );
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = TestApp::spawn_with(|c| c.header_timeout = Duration::from_secs(1)).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buffer))
        .await
        .expect("the server closes the connection instead of waiting for ever");
    // Closed (0 bytes), reset, or answered with a timeout status and then closed.
    if let Ok(n) = read
        && n > 0
    {
        let answer = String::from_utf8_lossy(&buffer[..n]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    // Meanwhile and afterwards, readers are served.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn connections_past_the_limit_wait_and_are_then_served() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections = 1;
        c.header_timeout = Duration::from_secs(1);
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The one place is taken until the slow client is cut off; then this request is answered.
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_flood_of_wrong_sign_ins_is_answered_without_a_server_error() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_staff("Ada", Role::Admin, true).await;
    let mut forms = Vec::new();
    for i in 0..150 {
        let client = reader_at(&format!("10.9.{}.{}", i / 200, i % 200 + 1));
        let token = app.token_for(&client).await;
        forms.push((client, token));
    }
    let attempts = forms.iter().enumerate().map(|(i, (client, token))| {
        let app = &app;
        async move {
            let email = format!("guess{i}@example.org");
            client
                .post(format!("{}/login", app.address))
                .form(&[
                    ("authenticity_token", token.as_str()),
                    ("email", email.as_str()),
                    ("password", "not the right one at all"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_join_all(attempts).await;
    for status in &statuses {
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::TOO_MANY_REQUESTS
            ]
            .contains(status),
            "{status}"
        );
    }
    assert!(
        statuses.contains(&StatusCode::UNAUTHORIZED),
        "passwords are still checked"
    );
    // Once the flood has passed, the owner signs in as usual.
    let owner = reader_at("192.0.2.200");
    assert_eq!(
        app.sign_in(&owner, "ada@example.org", STAFF_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_hidden_comment_cannot_be_edited() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let id = app
        .add_comment(article, None, "Sam", "Original words.", Published)
        .await;
    let moderator = app.staff("Kim", Role::Moderator, false).await;
    app.post_as(&moderator.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    assert_eq!(app.status_of(id).await, "hidden");
    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/edit"),
            &[("body", "Changed words.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: String = sqlx::query_scalar("SELECT body FROM comments WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(body, "Original words.");
}

#[tokio::test]
async fn staff_text_loses_hidden_and_reordering_characters() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let question = app
        .add_comment(article, None, "Sam", "A question.", Published)
        .await;
    let midwife = app.staff("Jo", Role::Midwife, true).await;
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{question}/reply"),
            &[(
                "body",
                "Please call\u{200B} your \u{202E}GP. See [NHS](https://www.nhs.uk/ \"a title\").",
            )],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (body, html): (String, String) =
        sqlx::query_as("SELECT body, body_html FROM comments WHERE author_kind = 'staff'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(body.starts_with("Please call your GP."), "{body:?}");
    assert!(!html.contains("title="), "{html}");

    let admin = app.staff("Ada", Role::Admin, true).await;
    let response = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[
                ("slug", "b"),
                ("title", "After\u{200D}\u{2067} a loss\u{2069}"),
                ("url", "https://example.org/\u{200B}b"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (title, url): (String, String) = sqlx::query_as("SELECT title, url FROM articles WHERE slug = 'b'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "After\u{200D} a loss");
    assert_eq!(url, "https://example.org/b");
}

#[tokio::test]
async fn a_reply_to_a_comment_in_the_spam_tab_is_refused_with_the_reply_kept() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let id = app.add_comment(article, None, "Bot", "Buy now.", Spam).await;
    let midwife = app.staff("Jo", Role::Midwife, true).await;
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{id}/reply"),
            &[("body", "My careful answer.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(html.contains("spam tab"));
    assert!(html.contains("My careful answer."));
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn midwives_awaiting_verification_do_not_see_guests_emails() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    app.post_comment(
        "a",
        &[
            ("name", "Sam"),
            ("email", "sam.reader@example.net"),
            ("body", "A question."),
        ],
    )
    .await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM comments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let unverified = app.staff("Lee", Role::Midwife, false).await;
    for path in ["/moderation".to_owned(), format!("/moderation/comments/{id}")] {
        let html = app.get_as(&unverified.client, &path).await.text().await.unwrap();
        assert!(html.contains("A question."), "{path} shows the comment");
        assert!(!html.contains("sam.reader@example.net"), "{path} hides the email");
    }
    let moderator = app.staff("Kim", Role::Moderator, false).await;
    let html = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("sam.reader@example.net"));
}

#[tokio::test]
async fn wrong_passwords_from_one_address_lock_out_that_address_not_the_owner() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_staff("Ada", Role::Admin, true).await;
    let stranger = reader_at("203.0.113.7");
    for _ in 0..10 {
        let response = app
            .sign_in(&stranger, "ada@example.org", "a wrong guess here")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.sign_in(&stranger, "ada@example.org", STAFF_PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guesser waits"
    );
    let owner = reader_at("192.0.2.50");
    let response = app.sign_in(&owner, "ada@example.org", STAFF_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the owner signs in");
}

#[tokio::test]
async fn failures_spread_over_many_addresses_lock_the_account_for_everyone() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_staff("Ada", Role::Admin, true).await;
    for i in 0..10 {
        let guesser = reader_at(&format!("203.0.113.{i}"));
        for _ in 0..5 {
            let response = app
                .sign_in(&guesser, "ada@example.org", "a wrong guess here")
                .await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let owner = reader_at("192.0.2.50");
    let response = app.sign_in(&owner, "ada@example.org", STAFF_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let failures: Vec<String> = sqlx::query_scalar("SELECT key FROM login_failures")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(
        failures.iter().all(|k| !k.contains("203.0.113")),
        "addresses are stored only as keyed hashes"
    );
}

#[tokio::test]
async fn the_stylesheet_address_changes_with_its_content_and_is_kept_for_a_year() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let html = app.get_html("/articles/a").await;
    let path = crate::helpers::path_on_page(&html, "/static/css/carethread.css?v=").unwrap();
    let version = path.rsplit('=').next().unwrap();
    assert_eq!(version.len(), 16);
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(version, env!("CARGO_PKG_VERSION"));
    let response = app.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}
