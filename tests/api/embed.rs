//! Threads on the charity's own page: the frame's page, who may frame it, posting from inside it
//! without cookies, and articles made on first use.

use reqwest::{StatusCode, header};

use crate::helpers::{TestApp, hidden_field, location};

const PARENT: &str = "https://www.example.org";

async fn framing_app() -> TestApp {
    TestApp::spawn_with(|c| c.embed_origins = vec![PARENT.to_owned()]).await
}

/// A browser inside the frame on another site: it keeps no cookies for the comment service.
fn framed_reader() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn only_the_frame_page_may_be_framed_and_only_by_the_allowed_sites() {
    let app = framing_app().await;
    app.add_article("a", "After a loss").await;
    let framed = app.get("/embed/articles/a").await;
    assert_eq!(framed.status(), StatusCode::OK);
    let policy = header_of(&framed, header::CONTENT_SECURITY_POLICY);
    assert!(policy.contains(&format!("frame-ancestors {PARENT}")), "{policy}");
    assert!(framed.headers().get(header::X_FRAME_OPTIONS).is_none());
    let html = framed.text().await.unwrap();
    assert!(html.contains(r#"class="embedded""#));
    assert!(html.contains(&format!(r#"data-allowed-origins="{PARENT}""#)));
    assert!(html.contains("/static/js/embed-frame.js?v="));
    assert!(!html.contains("site-header"), "no site chrome in the frame");
    assert!(html.contains(r#"action="/embed/articles/a/comments""#));

    for path in ["/articles/a", "/login", "/"] {
        let page = app.get(path).await;
        assert_eq!(header_of(&page, header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert!(header_of(&page, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
    }
}

#[tokio::test]
async fn with_no_allowed_sites_nobody_may_frame_a_thread() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let framed = app.get("/embed/articles/a").await;
    assert!(header_of(&framed, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn a_reader_posts_from_inside_the_frame_without_cookies() {
    let app = framing_app().await;
    app.add_article("a", "A").await;
    let reader = framed_reader();
    let html = reader
        .get(format!("{}/embed/articles/a", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stamp = hidden_field(&html, "form_stamp").unwrap();
    let response = reader
        .post(format!("{}/embed/articles/a/comments", app.address))
        .header(header::ORIGIN, app.address.clone())
        .form(&[
            ("form_stamp", stamp.as_str()),
            ("name", "Sam"),
            ("body", "I am bleeding heavily."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::helpers::without_status_link(&location(&response)),
        "/embed/articles/a?posted=safety-urgent-care#safety"
    );
    let stored: String = sqlx::query_scalar("SELECT status::text FROM comments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "pending");

    let thanks = reader
        .get(format!("{}{}", app.address, location(&response)))
        .send()
        .await
        .unwrap();
    assert!(header_of(&thanks, header::CONTENT_SECURITY_POLICY).contains(PARENT));
    let html = thanks.text().await.unwrap();
    assert!(html.contains("Please get help now if you need it"));
    assert!(html.contains("Thank you. Your comment has been received"));
}

#[tokio::test]
async fn a_post_forged_from_another_site_is_refused_with_the_words_kept() {
    let app = framing_app().await;
    app.add_article("a", "A").await;
    let reader = framed_reader();
    let html = reader
        .get(format!("{}/embed/articles/a", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stamp = hidden_field(&html, "form_stamp").unwrap();
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let mut request = reader
            .post(format!("{}/embed/articles/a/comments", app.address))
            .form(&[
                ("form_stamp", stamp.as_str()),
                ("name", "Sam"),
                ("body", "My careful words."),
            ]);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert!(header_of(&response, header::CONTENT_SECURITY_POLICY).contains(PARENT));
        let html = response.text().await.unwrap();
        assert!(html.contains("My careful words.</textarea>"));
    }
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn errors_inside_the_frame_keep_the_text_and_stay_in_the_frame() {
    let app = framing_app().await;
    app.add_article("a", "A").await;
    let response = framed_reader()
        .post(format!("{}/embed/articles/a/comments", app.address))
        .header(header::ORIGIN, app.address.clone())
        .form(&[("name", ""), ("body", "Words without a name.")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(header_of(&response, header::CONTENT_SECURITY_POLICY).contains(PARENT));
    let html = response.text().await.unwrap();
    assert!(html.contains("Words without a name.</textarea>"));
    assert!(html.contains(r#"class="embedded""#));
}

#[tokio::test]
async fn an_unknown_page_shows_a_calm_note_inside_the_frame() {
    let app = framing_app().await;
    let response = app.get("/embed/articles/no-such-page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(header_of(&response, header::CONTENT_SECURITY_POLICY).contains(PARENT));
    assert!(response.headers().get(header::X_FRAME_OPTIONS).is_none());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Comments are not open for this page")
    );
}

#[tokio::test]
async fn articles_are_made_on_first_use_only_when_allowed_and_for_allowed_sites() {
    let app = TestApp::spawn_with(|c| {
        c.embed_origins = vec![PARENT.to_owned()];
        c.auto_articles = true;
    })
    .await;
    let from_elsewhere = "/embed/articles/new-page?title=New&url=https%3A%2F%2Fevil.example%2Fpage";
    assert_eq!(app.get(from_elsewhere).await.status(), StatusCode::NOT_FOUND);
    let made = "/embed/articles/new-page?title=Trying%20again&url=https%3A%2F%2Fwww.example.org%2Ftrying";
    let response = app.get(made).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (title, url): (String, String) =
        sqlx::query_as("SELECT title, url FROM articles WHERE slug = 'new-page'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (title.as_str(), url.as_str()),
        ("Trying again", "https://www.example.org/trying")
    );

    let without_auto = framing_app().await;
    assert_eq!(without_auto.get(made).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_embed_script_is_served_for_other_sites() {
    let app = framing_app().await;
    let response = app.get("/embed.js").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/javascript"));
    let script = response.text().await.unwrap();
    assert!(script.contains("/embed/articles/"));
    assert!(script.contains("event.origin !== origin"));
}

#[tokio::test]
async fn each_articles_admin_page_gives_the_code_to_paste() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://comments.example.org".into()).await;
    app.add_article("after-a-miscarriage", "After a miscarriage")
        .await;
    let admin = app.staff("Ada", carethread::accounts::Role::Admin, true).await;
    let html = app
        .get_as(&admin.client, "/admin/articles")
        .await
        .text()
        .await
        .unwrap();
    let snippet = crate::helpers::unescape(&html);
    assert!(snippet.contains(r#"<div id="carethread" data-carethread-article="after-a-miscarriage"></div>"#));
    assert!(snippet.contains(r#"<script src="https://comments.example.org/embed.js" async></script>"#));
    assert!(snippet.contains(
        r#"<noscript><a href="https://comments.example.org/articles/after-a-miscarriage">Read and add comments</a></noscript>"#
    ));
}
