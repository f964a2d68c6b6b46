//! Posting: guests' comments are held for moderation; bad input never loses what was typed.

use carethread::comments::CommentStatus::{Hidden, Pending, Published};
use reqwest::{StatusCode, header};
use sqlx::Row;

use crate::helpers::{TestApp, escaped};

#[tokio::test]
async fn a_valid_comment_is_stored_as_pending_and_the_reader_is_thanked() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;

    let response = app
        .post_comment(
            "a",
            &[
                ("name", "Sam"),
                ("email", "sam@example.org"),
                ("body", "  My first comment.  "),
            ],
        )
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::helpers::without_status_link(&crate::helpers::location(&response)),
        "/articles/a?posted=1#thanks"
    );
    let row = sqlx::query(
        "SELECT author_name, author_email, body, status::text AS status, parent_id FROM comments",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("author_name"), "Sam");
    assert_eq!(
        row.get::<Option<String>, _>("author_email").as_deref(),
        Some("sam@example.org")
    );
    assert_eq!(row.get::<String, _>("body"), "My first comment.");
    assert_eq!(row.get::<String, _>("status"), "pending");
    assert_eq!(row.get::<Option<i64>, _>("parent_id"), None);

    let page = app.get_html("/articles/a?posted=1").await;
    assert!(page.contains(
        "Thank you. Your comment has been received and will appear once a moderator has approved it."
    ));
    assert!(
        !page.contains("My first comment."),
        "pending comments are not shown"
    );
    assert!(!page.contains("sam@example.org"), "emails are never shown");
    assert!(
        app.get_html("/").await.contains("0 comments"),
        "pending comments are not counted"
    );
}

#[tokio::test]
async fn a_reply_is_stored_under_its_parent() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let parent = app.add_comment(a, None, "Sam", "question", Published).await;

    let parent_id = parent.to_string();
    let response = app
        .post_comment(
            "a",
            &[("name", "Ali"), ("body", "an answer"), ("parent_id", &parent_id)],
        )
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored: Option<i64> = sqlx::query_scalar("SELECT parent_id FROM comments WHERE author_name = 'Ali'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, Some(parent));
}

/// Posts `fields`, expects 422 and returns the page.
async fn refused(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let before = app.comment_count().await;
    let response = app.post_comment("a", fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.comment_count().await, before, "nothing is stored");
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_missing_name_is_explained_beside_the_field_and_the_text_is_kept() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let html = refused(
        &app,
        &[
            ("name", "   "),
            ("email", "sam@example.org"),
            ("body", "Words I <wrote> & care about"),
        ],
    )
    .await;
    assert!(html.contains(r#"id="name-error""#));
    assert!(html.contains("Please enter a name."));
    assert!(html.contains(&format!("{}</textarea>", escaped("Words I <wrote> & care about"))));
    assert!(html.contains(r#"value="sam@example.org""#));
    assert!(html.contains(r#"aria-invalid="true""#));
}

#[tokio::test]
async fn a_name_longer_than_80_characters_is_refused() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let long = "a".repeat(81);
    let html = refused(&app, &[("name", &long), ("body", "hello")]).await;
    assert!(html.contains("80 characters or fewer"));
    assert!(html.contains(&format!(r#"value="{long}""#)));

    let ok = app
        .post_comment("a", &[("name", &"a".repeat(80)), ("body", "hello")])
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_invalid_email_is_refused_but_an_empty_one_is_fine() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let html = refused(
        &app,
        &[("name", "Sam"), ("email", "sam at example"), ("body", "hello")],
    )
    .await;
    assert!(html.contains(r#"id="email-error""#));
    assert!(html.contains(r#"value="sam at example""#));

    let ok = app
        .post_comment("a", &[("name", "Sam"), ("email", ""), ("body", "hello")])
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_empty_comment_is_refused() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let html = refused(&app, &[("name", "Sam"), ("body", "  \n\t ")]).await;
    assert!(html.contains(r#"id="body-error""#));
    assert!(html.contains("Please write your comment."));
    assert!(html.contains(r#"value="Sam""#));
}

#[tokio::test]
async fn a_comment_over_5000_characters_is_refused_with_its_text_intact() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let long = "ä".repeat(5001);
    let html = refused(&app, &[("name", "Sam"), ("body", &long)]).await;
    assert!(html.contains("longer than 5000 characters"));
    assert!(html.contains(&format!("{long}</textarea>")));

    let exactly = "ä".repeat(5000);
    let ok = app
        .post_comment("a", &[("name", "Sam"), ("body", &exactly)])
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER, "5000 characters is allowed");
}

#[tokio::test]
async fn every_problem_is_listed_at_once() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let html = refused(&app, &[("name", ""), ("email", "nope"), ("body", "")]).await;
    for id in ["name-error", "email-error", "body-error"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} shown");
    }
    assert!(html.contains("Please check your comment"));
}

#[tokio::test]
async fn a_reply_to_a_missing_pending_hidden_or_foreign_comment_is_refused_with_the_text_kept() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let other = app.add_article("other", "Other").await;
    let pending = app.add_comment(a, None, "P", "pending", Pending).await;
    let hidden = app.add_comment(a, None, "H", "hidden", Hidden).await;
    let foreign = app.add_comment(other, None, "F", "foreign", Published).await;

    for parent in [
        pending.to_string(),
        hidden.to_string(),
        foreign.to_string(),
        "987654".into(),
        "abc".into(),
    ] {
        let html = refused(
            &app,
            &[("name", "Sam"), ("body", "my reply text"), ("parent_id", &parent)],
        )
        .await;
        assert!(
            html.contains("The comment you are replying to is not available any more"),
            "parent {parent}"
        );
        assert!(html.contains("my reply text</textarea>"));
    }
}

#[tokio::test]
async fn a_closed_article_refuses_comments_with_403() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    app.close_article("a").await;

    let response = app
        .post_form(
            "/articles/a/comments",
            &[("form_stamp", &stamp), ("name", "Sam"), ("body", "hello")],
        )
        .await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("Comments are closed"));
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn posting_to_an_unknown_article_is_404() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    let response = app
        .post_form(
            "/articles/nope/comments",
            &[("form_stamp", &stamp), ("name", "Sam"), ("body", "hi")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.comment_count().await, 0);
}

/// The form is the same for every reader (a shared cache keeps the page), so it carries no
/// cookie-bound token: a post must come from this site's own page, as the browser says with
/// `Origin` (or, failing that, `Referer`). Another site's forged post is refused.
#[tokio::test]
async fn a_post_not_sent_from_this_sites_page_is_refused_and_the_text_kept() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let stamp = app.shown_stamp("a").await;
    let post = |origin: Option<&'static str>, referer: Option<String>| {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut request = browser
            .post(format!("{}/articles/a/comments", app.address))
            .form(&[
                ("form_stamp", stamp.as_str()),
                ("name", "Sam"),
                ("body", "keep these words"),
            ]);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(referer) = referer {
            request = request.header(header::REFERER, referer);
        }
        request.send()
    };

    let evil = "https://evil.example/page".to_owned();
    for (origin, referer) in [
        (None, None),
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (Some("null"), Some(evil.clone())),
        (None, Some(evil)),
    ] {
        let response = post(origin, referer.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?} {referer:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("keep these words</textarea>"));
        assert!(html.contains("please press"));
    }
    assert_eq!(app.comment_count().await, 0);

    // Sent again from the page (as its browser does), the words are stored.
    let ok = post(None, Some(format!("{}/articles/a", app.address)))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn an_oversized_request_gets_a_413_page() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let huge = "x".repeat(300 * 1024);
    let response = app.post_comment("a", &[("name", "Sam"), ("body", &huge)]).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = response.text().await.unwrap();
    assert!(html.contains("too long to send"));
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn names_and_comments_are_escaped_when_shown_again() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let html = refused(&app, &[("name", "\"><script>alert(1)</script>"), ("body", "")]).await;
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains(&escaped("\"><script>alert(1)</script>")));
}
