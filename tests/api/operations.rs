//! Running the service: health checks, headers, static files.

use std::time::Duration;

use carethread::{AppState, config::Config};
use reqwest::{StatusCode, header};

use crate::helpers::{TestApp, TestDatabase};

#[tokio::test]
async fn healthz_is_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn healthz_is_503_and_pages_say_so_kindly_when_the_database_is_unreachable() {
    let database = TestDatabase::create().await;
    let db = database.pool().await;
    let secret = carethread::db::site_secret(&db).await.unwrap();
    // Nothing listens on port 1.
    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let state = AppState::new(unreachable, Config::for_tests(), &secret).unwrap();
    let app = TestApp::serve(state, db, database).await;

    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Please try again in a few minutes.")
    );
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    let headers = response.headers();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_stylesheet_is_served_and_cached() {
    let app = TestApp::spawn().await;
    let html = app.get_html("/").await;
    assert!(html.contains(r#"<link rel="stylesheet" href="/static/css/carethread.css?v="#));
    let response = app.get("/static/css/carethread.css").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        response.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(response.text().await.unwrap().contains(":focus-visible"));
}

#[tokio::test]
async fn the_wrong_method_gets_a_friendly_405_page() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let response = app
        .client
        .delete(format!("{}/articles/a", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.text().await.unwrap().contains("<html"));
}
