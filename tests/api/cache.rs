//! Rendered threads are cached per process, and every process sees every change at once.

use carethread::{
    AppState,
    accounts::Role,
    comments::CommentStatus::{Pending, Published},
    config::Config,
};

use crate::helpers::TestApp;

/// A page as a reader without cookies sees it.
async fn read_page(address: &str, path: &str) -> String {
    reqwest::get(format!("{address}{path}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A second app process on the same database.
async fn second_process(app: &TestApp) -> String {
    second_process_with(app, Config::for_tests()).await
}

async fn second_process_with(app: &TestApp, config: Config) -> String {
    let secret = carethread::db::site_secret(&app.db).await.unwrap();
    let state = AppState::new(app.db.clone(), config, &secret).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(carethread::serve(listener, state, std::future::pending()));
    address
}

#[tokio::test]
async fn a_comment_approved_through_one_process_shows_through_another_at_once() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(a, None, "Sam", "already there", Published).await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let other = second_process(&app).await;
    let read_other = || read_page(&other, "/articles/a");

    // Both processes have the page cached.
    assert!(!app.get_html("/articles/a").await.contains("waiting for approval"));
    assert!(!read_other().await.contains("waiting for approval"));

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;

    assert!(
        read_other().await.contains("waiting for approval"),
        "the other process sees it"
    );
    assert!(app.get_html("/articles/a").await.contains("waiting for approval"));
}

#[tokio::test]
async fn hiding_and_editing_are_seen_by_readers_straight_away() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Sam", "call 07700 900123", Published)
        .await;
    assert!(app.get_html("/articles/a").await.contains("07700 900123"));

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/edit"),
        &[("body", "call me")],
    )
    .await;
    let page = app.get_html("/articles/a").await;
    assert!(page.contains("call me") && !page.contains("07700"));

    app.post_as(&moderator.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    assert!(!app.get_html("/articles/a").await.contains("call me"));
}

#[tokio::test]
async fn posting_a_pending_comment_does_not_change_what_readers_see() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let version = || async {
        sqlx::query_scalar::<_, i64>("SELECT comments_version FROM articles")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    let before = version().await;
    app.post_comment("a", &[("name", "Sam"), ("body", "waiting")])
        .await;
    assert_eq!(version().await, before, "the cached page stays valid");
}

/// As deployed: each process trusts an article it has just read for a quarter of a second.
fn as_deployed(config: &mut Config) {
    config.article_refresh = std::time::Duration::from_millis(250);
}

#[tokio::test]
async fn with_articles_remembered_a_process_shows_its_own_changes_at_once() {
    let app = TestApp::spawn_with(as_deployed).await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    assert!(!app.get_html("/articles/a").await.contains("waiting for approval"));
    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/approve"),
            &[],
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(app.get_html("/articles/a").await.contains("waiting for approval"));

    app.post_as(&moderator.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    assert!(!app.get_html("/articles/a").await.contains("waiting for approval"));
}

#[tokio::test]
async fn with_articles_remembered_another_process_shows_a_change_within_a_second() {
    let app = TestApp::spawn_with(as_deployed).await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let mut config = Config::for_tests();
    as_deployed(&mut config);
    let other = second_process_with(&app, config).await;
    let read_other = || read_page(&other, "/articles/a");
    assert!(!read_other().await.contains("waiting for approval"));

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;
    let approved = std::time::Instant::now();
    while !read_other().await.contains("waiting for approval") {
        assert!(
            approved.elapsed() < std::time::Duration::from_secs(1),
            "the other process shows it within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
