//! Safety: safeguarding triage, spam and abuse defences, reports, personal data, and a suite of
//! hostile input.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{Hidden, Pending, Published},
};
use reqwest::{StatusCode, header};
use sqlx::Row;

use crate::helpers::{TestApp, escaped, location, new_client, position, reader_at, without_status_link};

async fn only_comment(app: &TestApp) -> sqlx::postgres::PgRow {
    sqlx::query(
        "SELECT status::text AS status, urgent, urgent_signs, spam_reason, body, author_name, client_hash FROM comments",
    )
    .fetch_one(&app.db)
    .await
    .expect("exactly one comment")
}

// ---- Safeguarding triage ---------------------------------------------------------------------

#[tokio::test]
async fn a_comment_with_warning_signs_is_urgent_and_the_reader_sees_where_to_get_help() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;

    let response = app
        .post_comment(
            "a",
            &[
                ("name", "Kim"),
                ("body", "I'm soaking through a pad every hour and feel dizzy"),
            ],
        )
        .await;

    // Heavy bleeding with faintness: the emergency message.
    assert_eq!(
        without_status_link(&location(&response)),
        "/articles/a?posted=safety-999#safety"
    );
    let page = crate::helpers::visible_text(&app.get_html(&location(&response)).await);
    assert!(page.contains("Please get help now if you need it"));
    assert!(page.contains("your comment mentions something that can be an emergency"));
    assert!(page.contains("Call 999 now"));
    assert!(page.contains("116 123"));
    assert!(
        page.contains("will appear once a moderator has approved it"),
        "the usual thanks too"
    );
    let row = only_comment(&app).await;
    assert!(row.get::<bool, _>("urgent"));
    assert_eq!(
        row.get::<Vec<String>, _>("urgent_signs"),
        vec![
            "heavy bleeding with faintness",
            "soaking pads",
            "dizzy or light-headed"
        ]
    );
}

#[tokio::test]
async fn each_category_of_warning_sign_shows_its_own_help() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    for (name, body, category, help) in [
        (
            "Ann",
            "My temperature is 38.6 since the operation",
            "urgent-care",
            "Call NHS 111",
        ),
        ("Bea", "I keep wishing I was dead", "mental-health", "Samaritans"),
        (
            "Cat",
            "My partner hit me last night",
            "domestic-abuse",
            "0808 2000 247",
        ),
    ] {
        let response = app.post_comment("a", &[("name", name), ("body", body)]).await;
        assert_eq!(
            without_status_link(&location(&response)),
            format!("/articles/a?posted=safety-{category}#safety")
        );
        let page = crate::helpers::visible_text(&app.get_html(&location(&response)).await);
        assert!(page.contains(help), "{category}");
        assert!(
            page.contains("We are showing you this because"),
            "{category} says why"
        );
    }
}

#[tokio::test]
async fn an_ordinary_comment_gets_no_safety_message() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let response = app
        .post_comment(
            "a",
            &[("name", "Jo"), ("body", "No heavy bleeding now, thank you all.")],
        )
        .await;
    assert_eq!(
        without_status_link(&location(&response)),
        "/articles/a?posted=1#thanks"
    );
    assert!(
        !app.get_html(&location(&response))
            .await
            .contains("Please get help now")
    );
    assert!(!only_comment(&app).await.get::<bool, _>("urgent"));
}

#[tokio::test]
async fn the_general_safety_message_is_configurable_for_signs_without_a_category() {
    let app = TestApp::spawn_with(|c| {
        c.safety_message = "Call the ward on 0000.\n- Or come in.".into();
        c.warning_signs = carethread::safety::triage::WarningSigns::parse("fever: fever").unwrap();
    })
    .await;
    app.add_article("a", "A").await;
    let response = app
        .post_comment("a", &[("name", "Kim"), ("body", "I have a fever")])
        .await;
    assert_eq!(
        without_status_link(&location(&response)),
        "/articles/a?posted=safety#safety"
    );
    let page = app.get_html(&location(&response)).await;
    assert!(page.contains("<p>Call the ward on 0000.</p>"));
    assert!(page.contains("<li>Or come in.</li>"));
    assert!(!page.contains("Samaritans"));
    // A category's own message is not replaced by the configured one.
    let page = crate::helpers::visible_text(&app.get_html("/articles/a?posted=safety-urgent-care").await);
    assert!(page.contains("Call NHS 111"));
    assert!(!page.contains("Call the ward on 0000."));
}

#[tokio::test]
async fn urgent_comments_go_first_in_the_queue_with_a_count_and_the_oldest_age() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    app.post_comment("a", &[("name", "Calm"), ("body", "When can I try again?")])
        .await;
    app.post_comment("a", &[("name", "Kim"), ("body", "I am bleeding heavily")])
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let queue = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(position(&queue, "I am bleeding heavily") < position(&queue, "When can I try again?"));
    assert!(queue.contains("1 urgent comment is waiting, for just now."));
    assert!(queue.contains("<strong>Warning signs:</strong> heavy bleeding."));
}

// ---- Spam ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_filled_honeypot_goes_to_the_spam_tab_not_the_queue() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let response = app
        .post_comment(
            "a",
            &[
                ("name", "Bot"),
                ("body", "hello"),
                ("website", "http://spam.example"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the bot is not told");
    let row = only_comment(&app).await;
    assert_eq!(row.get::<String, _>("status"), "spam");
    assert_eq!(
        row.get::<Option<String>, _>("spam_reason").as_deref(),
        Some("filled in the hidden field")
    );

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let queue = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(!queue.contains("hello</p>"));
    assert!(queue.contains("Spam <span class=\"count\">(1)</span>"));
    let spam = app
        .get_as(&moderator.client, "/moderation?status=spam")
        .await
        .text()
        .await
        .unwrap();
    assert!(spam.contains("filled in the hidden field"));
}

#[tokio::test]
async fn posting_faster_than_a_person_could_goes_to_the_spam_tab() {
    // The form says when its window began: with one-second windows, a post sent at once is
    // within a second of it, well inside the three seconds a person needs.
    let app = TestApp::spawn_with(|c| {
        c.min_form_seconds = 3;
        c.shared_cache_seconds = 1;
    })
    .await;
    app.add_article("a", "A").await;
    app.post_comment("a", &[("name", "Quick"), ("body", "too quick")])
        .await;
    let row = only_comment(&app).await;
    assert_eq!(row.get::<String, _>("status"), "spam");
    assert!(
        row.get::<Option<String>, _>("spam_reason")
            .unwrap()
            .contains("seconds after the form was shown")
    );
}

#[tokio::test]
async fn a_missing_or_forged_time_stamp_goes_to_the_spam_tab() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    for stamp in ["", "1700000000.00000000000000000000000000000000"] {
        app.post_form(
            "/articles/a/comments",
            &[
                ("form_stamp", stamp),
                ("name", "Bot"),
                ("body", &format!("x{stamp}")),
            ],
        )
        .await;
    }
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status::text FROM comments")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(statuses, vec!["spam", "spam"]);
}

#[tokio::test]
async fn many_links_banned_phrases_and_repeated_text_go_to_the_spam_tab() {
    let app = TestApp::spawn_with(|c| c.banned_phrases = vec!["cheap pills".into()]).await;
    app.add_article("a", "A").await;
    app.add_article("b", "B").await;
    app.post_comment(
        "a",
        &[
            ("name", "S"),
            ("body", "https://a.example https://b.example https://c.example"),
        ],
    )
    .await;
    app.post_comment("a", &[("name", "S"), ("body", "Buy Cheap Pills here")])
        .await;
    app.post_comment("a", &[("name", "S"), ("body", "A perfectly normal comment.")])
        .await;
    // The same words again, elsewhere, from someone else.
    let other = new_client();
    app.post_comment_as(
        &other,
        "b",
        &[("name", "T"), ("body", "A perfectly normal comment.")],
    )
    .await;

    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status::text, spam_reason FROM comments ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(rows[0], ("spam".into(), Some("more than 2 links".into())));
    assert_eq!(
        rows[1],
        (
            "spam".into(),
            Some("banned phrase \u{201c}cheap pills\u{201d}".into())
        )
    );
    assert_eq!(rows[2], ("pending".into(), None));
    assert_eq!(
        rows[3],
        ("spam".into(), Some("the same text was posted before".into()))
    );
}

#[tokio::test]
async fn a_double_submit_stores_one_comment() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    let fields = [("form_stamp", stamp.as_str()), ("name", "Sam"), ("body", "once")];
    let first = app.post_form("/articles/a/comments", &fields).await;
    let second = app.post_form("/articles/a/comments", &fields).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn the_same_form_sent_several_times_at_once_stores_one_comment() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    let fields = [
        ("form_stamp", stamp.as_str()),
        ("name", "Sam"),
        ("body", "sent with an impatient triple click"),
    ];
    let (a, b, c) = tokio::join!(
        app.post_form("/articles/a/comments", &fields),
        app.post_form("/articles/a/comments", &fields),
        app.post_form("/articles/a/comments", &fields),
    );
    for response in [a, b, c] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(app.comment_count().await, 1);

    // Another comment written on the same page afterwards is a comment of its own.
    let fields = [
        ("form_stamp", stamp.as_str()),
        ("name", "Sam"),
        ("body", "and one more thought"),
    ];
    let response = app.post_form("/articles/a/comments", &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.comment_count().await, 2);
}

/// A phone moving from wifi to mobile data resends the form from a different address. Every
/// reader in a window is shown the same form, so only the address tells two posters apart: the
/// resend is a second comment, but its words were just posted, so it waits in the Spam tab and
/// the queue holds one.
#[tokio::test]
async fn a_retry_from_a_new_network_address_puts_one_comment_in_the_queue() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    let fields = [
        ("form_stamp", stamp.as_str()),
        ("name", "Sam"),
        ("body", "sent on the train"),
    ];
    for address in ["192.0.2.1", "198.51.100.7"] {
        let response = app
            .client
            .post(format!("{}/articles/a/comments", app.address))
            .header("x-forwarded-for", address)
            .header(header::ORIGIN, &app.address)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status::text, count(*) FROM comments GROUP BY 1 ORDER BY 1")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(by_status, vec![("pending".to_owned(), 1), ("spam".to_owned(), 1)]);
}

#[tokio::test]
async fn a_moderator_can_rescue_a_comment_from_the_spam_tab() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    app.post_comment(
        "a",
        &[
            ("name", "Sam"),
            ("body", "real words"),
            ("website", "oops autofill"),
        ],
    )
    .await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM comments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/not-spam"),
        &[],
    )
    .await;
    assert_eq!(app.status_of(id).await, "pending");
    assert_eq!(app.audit_count("comment.not_spam").await, 1);
}

#[tokio::test]
async fn the_address_rate_limit_answers_429_with_the_text_kept() {
    let app = TestApp::spawn_with(|c| c.rate_per_address = 2).await;
    app.add_article("a", "A").await;
    for i in 0..2 {
        let ok = app
            .post_comment("a", &[("name", "Sam"), ("body", &format!("comment {i}"))])
            .await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    }
    let limited = app
        .post_comment("a", &[("name", "Sam"), ("body", "my third thought")])
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = limited.text().await.unwrap();
    assert!(html.contains("wait a few minutes"));
    assert!(html.contains("my third thought</textarea>"));
    assert_eq!(app.comment_count().await, 2);
}

#[tokio::test]
async fn the_article_rate_limit_holds_across_readers() {
    let app = TestApp::spawn_with(|c| {
        c.rate_per_article = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.add_article("a", "A").await;
    for i in 0..3 {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(
                [(
                    header::HeaderName::from_static("x-forwarded-for"),
                    format!("192.0.2.{i}").parse().unwrap(),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .unwrap();
        let response = app
            .post_comment_as(&client, "a", &[("name", "Sam"), ("body", &format!("reader {i}"))])
            .await;
        let expected = if i < 2 {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "reader {i}");
    }
}

// ---- Reports -------------------------------------------------------------------------------

async fn report(app: &TestApp, client: &reqwest::Client, id: i64, reason: &str) -> reqwest::Response {
    let path = format!("/articles/a/comments/{id}/report");
    app.post_as_on(client, &path, &[("reason", reason)]).await
}

#[tokio::test]
async fn three_reports_send_a_comment_back_to_the_queue_hidden_from_readers() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Sam", "an unkind comment", Published)
        .await;
    assert!(
        app.get_html("/articles/a")
            .await
            .contains(&format!("/articles/a/comments/{id}/report"))
    );

    let first = reader_at("192.0.2.1");
    let response = report(&app, &first, id, "It is unkind or abusive").await;
    assert_eq!(location(&response), "/articles/a?reported=1#comments-heading");
    let again = report(&app, &first, id, "It is unkind or abusive").await;
    assert_eq!(
        location(&again),
        "/articles/a?reported=again#comments-heading",
        "one report per reader"
    );
    assert!(
        app.get_html("/articles/a?reported=again")
            .await
            .contains("already reported")
    );

    report(&app, &reader_at("192.0.2.2"), id, "Something else").await;
    assert_eq!(app.status_of(id).await, "published", "two reports are not enough");
    report(&app, &reader_at("192.0.2.3"), id, "It is unkind or abusive").await;

    assert_eq!(app.status_of(id).await, "pending");
    assert!(!app.get_html("/articles/a").await.contains("an unkind comment"));
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let queue = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Reported 3 times"));
    assert!(queue.contains(&escaped("It is unkind or abusive; Something else")));
}

#[tokio::test]
async fn a_report_needs_a_reason_from_the_list_and_a_token() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Sam", "words", Published).await;
    let client = new_client();
    let no_reason = report(&app, &client, id, "").await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let made_up = report(&app, &client, id, "I just don't like it").await;
    assert_eq!(made_up.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let forged = client
        .post(format!("{}/articles/a/comments/{id}/report", app.address))
        .form(&[("reason", "Something else")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let hidden = app.add_comment(a, None, "Sam", "hidden words", Hidden).await;
    assert_eq!(
        app.get(&format!("/articles/a/comments/{hidden}/report"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM comment_reports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn client_addresses_are_stored_only_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    app.post_comment("a", &[("name", "Sam"), ("body", "hello")]).await;
    let row = only_comment(&app).await;
    let hash: Vec<u8> = row.get("client_hash");
    assert_eq!(hash.len(), 32, "an HMAC-SHA256");
    assert!(!String::from_utf8_lossy(&hash).contains("127.0.0.1"));
    let dump: String = sqlx::query_scalar("SELECT string_agg(c::text, ' ') FROM comments c")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!dump.contains("127.0.0.1"));
}

// ---- Personal data -------------------------------------------------------------------------

#[tokio::test]
async fn personal_details_are_highlighted_and_can_be_redacted_before_approval() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(
            a,
            None,
            "Sam",
            "Text me on 07700 900123 or sam@example.org, I'm in SW1A 1AA",
            Pending,
        )
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let queue = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains(r#"<mark class="personal" title="Looks like a phone number">07700 900123"#));
    assert!(
        queue.contains(r#"title="Looks like a email address">sam@example.org"#)
            || queue.contains("sam@example.org</mark>")
    );
    assert!(queue.contains("Personal details?"));

    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/edit"),
            &[("body", "Text me (details removed)")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let body: String = sqlx::query_scalar("SELECT body FROM comments WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(body, "Text me (details removed)");
    assert_eq!(app.audit_count("comment.edited").await, 1);
    let log: String = sqlx::query_scalar("SELECT string_agg(coalesce(reason, ''), ' ') FROM audit_log")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!log.contains("07700"), "the removed text is not kept");

    let empty = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/edit"),
            &[("body", "  ")],
        )
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn seed_person(app: &TestApp) {
    app.add_article("a", "A").await;
    app.post_comment(
        "a",
        &[
            ("name", "Sam"),
            ("email", "sam@example.org"),
            ("body", "first words"),
        ],
    )
    .await;
    app.post_comment(
        "a",
        &[
            ("name", "Sam"),
            ("email", "SAM@example.org"),
            ("body", "second words"),
        ],
    )
    .await;
    app.post_comment(
        "a",
        &[
            ("name", "Jo"),
            ("email", "jo@example.org"),
            ("body", "someone else"),
        ],
    )
    .await;
}

#[tokio::test]
async fn everything_about_an_email_can_be_exported_and_erased_from_the_command_line() {
    let app = TestApp::spawn().await;
    seed_person(&app).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_carethread"))
            .args(args)
            .env("DATABASE_URL", &app.database.url)
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    };

    let export = run(&["privacy", "export", "sam@example.org"]);
    assert!(export.status.success());
    let json: serde_json::Value = serde_json::from_slice(&export.stdout).expect("JSON on stdout");
    let comments = json["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["body"], "first words");
    assert_eq!(comments[1]["article"], "a");

    let erase = run(&["privacy", "erase", "sam@example.org"]);
    assert!(String::from_utf8_lossy(&erase.stdout).contains("from 2 comments"));
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM comments WHERE author_email ILIKE 'sam@%' OR author_name = 'Sam'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, 0);
    let jo: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE author_email = 'jo@example.org'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(jo, 1, "nobody else is touched");
    assert_eq!(app.audit_count("privacy.exported").await, 1);
    assert_eq!(app.audit_count("privacy.erased").await, 1);
    let log: String =
        sqlx::query_scalar("SELECT string_agg(coalesce(reason, '') || target_type, ' ') FROM audit_log")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!log.contains("sam@"), "the audit log does not keep the address");
}

#[tokio::test]
async fn admins_export_and_erase_from_the_admin_area() {
    let app = TestApp::spawn().await;
    seed_person(&app).await;
    let admin = app.staff("Ada", Role::Admin, true).await;

    let export = app
        .post_as(
            &admin.client,
            "/admin/privacy/export",
            &[("email", "sam@example.org")],
        )
        .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(
        export.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let json: serde_json::Value = serde_json::from_str(&export.text().await.unwrap()).unwrap();
    assert_eq!(json["comments"].as_array().unwrap().len(), 2);

    let unconfirmed = app
        .post_as(
            &admin.client,
            "/admin/privacy/erase",
            &[("email", "sam@example.org")],
        )
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let erased = app
        .post_as(
            &admin.client,
            "/admin/privacy/erase",
            &[("email", "sam@example.org"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    let names: Vec<String> = sqlx::query_scalar("SELECT author_name FROM comments ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(names, vec!["Anonymous", "Anonymous", "Jo"]);

    let moderator = app.staff("Mo", Role::Moderator, false).await;
    let refused = app
        .post_as(
            &moderator.client,
            "/admin/privacy/export",
            &[("email", "jo@example.org")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// Runs `carethread safety …` with `args`, `input` on stdin and no database.
fn safety_command(args: &[&std::ffi::OsStr], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_carethread"))
        .arg("safety")
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn safety_check_reads_lines_and_prints_json_lines() {
    let output = safety_command(&["check".as_ref()], b"I am bleeding heavily\nWhat a lovely day\n");
    assert!(output.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&output.stdout).unwrap().lines().collect();
    assert_eq!(
        lines,
        vec![
            r#"{"urgent":true,"signs":["heavy bleeding"],"category":"urgent-care"}"#,
            r#"{"urgent":false,"signs":[],"category":null}"#
        ]
    );
}

#[tokio::test]
async fn safety_check_explains_what_it_found_and_why_a_find_did_not_count() {
    let output = safety_command(
        &["check".as_ref(), "--explain".as_ref()],
        b"I am bleeding heavily\nI am not bleeding heavily\n",
    );
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let (first, second) = text.split_at(text.rfind("words:").expect("one explanation a line"));
    assert!(first.starts_with("words: i am bleeding"), "{first}");
    assert!(
        first.contains("heavy bleeding") && !first.contains("does not count"),
        "{first}"
    );
    assert!(second.contains("@negation: not"), "{second}");
    assert!(second.contains("[does not count]"), "{second}");
}

#[tokio::test]
async fn safety_check_uses_a_custom_list_and_refuses_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("signs.txt");
    std::fs::write(&good, "chest pain: chest pain; pain in my chest\n").unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "no colon on this line\n").unwrap();
    let run = |path: &std::path::Path, input: &[u8]| {
        safety_command(
            &["check".as_ref(), "--warning-signs".as_ref(), path.as_os_str()],
            input,
        )
    };
    let output = run(&good, b"sharp pain in my chest\n");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        r#"{"urgent":true,"signs":["chest pain"],"category":null}"#
    );
    let output = run(&bad, b"x\n");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 1"));
}

#[test]
fn safety_eval_prints_the_figures_and_fails_below_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tsv");
    std::fs::write(
        &good,
        "urgent-care\tI am bleeding heavily\nordinary\tWhat a lovely day\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "999\tWhat a lovely day\nordinary\tI am bleeding heavily\n").unwrap();
    let run = |path: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_carethread"))
            .args(["safety", "eval"])
            .arg(path)
            .output()
            .unwrap()
    };
    let output = run(&good);
    assert!(output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("recall: 1/1"), "{printed}");
    assert!(printed.contains("false alarms: 0/1"), "{printed}");
    assert!(printed.contains("category accuracy: 1/1"), "{printed}");
    let output = run(&bad);
    assert!(!output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("line 1 [999] What a lovely day"),
        "every miss is listed: {printed}"
    );
    assert!(
        printed.contains("line 2 [urgent-care: heavy bleeding] I am bleeding heavily"),
        "{printed}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("below the targets"));
}

// ---- Hardened surface and hostile input ----------------------------------------------------

#[tokio::test]
async fn https_sites_send_hsts() {
    let app = TestApp::spawn_with(|c| c.https = true).await;
    let response = app.get("/").await;
    assert!(
        response.headers()[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let plain = TestApp::spawn().await;
    assert!(
        !plain
            .get("/")
            .await
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
}

#[tokio::test]
async fn oversized_headers_are_refused_with_431() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/", app.address))
        .header("x-filler", "a".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

/// Posts `body` and returns what was stored, after checking the page shows it inertly.
async fn stored_and_shown(app: &TestApp, name: &str, body: &str) -> (String, String) {
    let response = app.post_comment("a", &[("name", name), ("body", body)]).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{body:?} is accepted for moderation"
    );
    let (id, stored_name, stored_body): (i64, String, String) =
        sqlx::query_as("SELECT id, author_name, body FROM comments ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    sqlx::query("UPDATE comments SET status = 'published', published_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    (stored_name, stored_body)
}

#[tokio::test]
async fn stored_xss_payloads_are_shown_as_inert_text() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">click</a> javascript:alert(2)",
        "<svg onload=alert(1)><circle/></svg>",
        "&lt;script&gt;alert(1)&lt;/script&gt; &#60;b&#62;",
        "<b><i>broken <div",
        "\"><script>alert(document.cookie)</script>",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let (_, stored) = stored_and_shown(&app, &format!("<b>n{i}</b>"), payload).await;
        assert_eq!(&stored, payload, "stored exactly as typed");
    }
    let html = app.get_html("/articles/a").await;
    for payload in payloads {
        assert!(html.contains(&escaped(payload)), "{payload:?} is shown escaped");
    }
    for live in [
        "<script>alert",
        "<img src=x",
        "<svg",
        "href=\"javascript:",
        "<b><i>",
    ] {
        assert!(!html.contains(live), "{live:?} must not reach the page as markup");
    }
}

#[tokio::test]
async fn sql_looking_text_is_stored_verbatim() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let text = "Robert'); DROP TABLE comments;-- \\' OR '1'='1";
    let (name, body) = stored_and_shown(&app, "x' OR 1=1 --", text).await;
    assert_eq!(body, text);
    assert_eq!(name, "x' OR 1=1 --");
    assert!(app.get_html("/articles/a").await.contains(&escaped(text)));
}

#[tokio::test]
async fn nul_bytes_controls_and_direction_overrides_are_removed_and_text_is_nfc() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let (name, body) = stored_and_shown(
        &app,
        "Sa\u{0}m\u{202E}",
        "cafe\u{301} \u{202E}txet\u{202C} bell\u{7}\u{0}",
    )
    .await;
    assert_eq!(name, "Sam");
    assert_eq!(body, "café txet bell");
}

#[tokio::test]
async fn limits_apply_after_normalisation() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    // 5000 characters once combining accents are composed, 10000 before.
    let composable = "e\u{301}".repeat(5000);
    let response = app
        .post_comment("a", &[("name", "Sam"), ("body", &composable)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored: String = sqlx::query_scalar("SELECT body FROM comments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.chars().count(), 5000);
}

#[tokio::test]
async fn invalid_utf8_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    let body = format!("form_stamp={}&name=Sam&body=%FF%FE%00bad", urlencode(&stamp));
    let response = app
        .client
        .post(format!("{}/articles/a/comments", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert!(response.text().await.unwrap().contains("<html"));
    assert_eq!(app.comment_count().await, 0);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_one_megabyte_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let huge = "a".repeat(1024 * 1024);
    let response = app.post_comment("a", &[("name", "Sam"), ("body", &huge)]).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn odd_ids_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(a, None, "Sam", "a question", Published).await;
    for parent in ["-1", "0", "99999999999999999999999", "1.5", "1 OR 1=1"] {
        let response = app
            .post_comment("a", &[("name", "Sam"), ("body", "reply"), ("parent_id", parent)])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "parent {parent:?}"
        );
    }
    assert_eq!(app.comment_count().await, 1);
    for path in [
        "/articles/a?reply_to=-5",
        "/articles/a?reply_to=99999999999999999999",
        "/articles/a?page=-3",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    for path in [
        "/moderation/comments/abc",
        "/moderation/comments/-1",
        "/moderation/comments/99999999999999999999",
    ] {
        let status = app.get_as(&moderator.client, path).await.status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
    }
    let report = app.get("/articles/a/comments/abc/report").await;
    assert!(report.status().is_client_error());
    assert!(report.text().await.unwrap().contains("<html"));
}

#[tokio::test]
async fn phone_numbers_in_the_help_can_be_called_with_one_tap() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let response = app
        .post_comment(
            "a",
            &[
                ("name", "Sam"),
                ("body", "I want to end my life tonight, I have a plan."),
            ],
        )
        .await;
    let page = app.get_html(&location(&response)).await;
    assert!(page.contains(r#"<a href="tel:999">999</a>"#), "{page}");
}
