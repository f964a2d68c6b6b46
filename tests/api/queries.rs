//! How many SQL statements a page costs: a fixed few, however many comments it shows.
//!
//! sqlx reports every statement it runs as a `sqlx::query` tracing event, and the tests' one
//! process-wide subscriber (`helpers/logs.rs`) writes each into a list kept by the thread it ran
//! on, when that thread has asked for one. The test runtime runs the server on the test's own
//! thread, so the list holds exactly the statements this test's requests cause, apart from the
//! driver's own type lookups.

use carethread::{accounts::Role, comments::CommentStatus::*};
use reqwest::StatusCode;

use crate::helpers::{TestApp, keep_statements, take_statements};

/// Statements run while fetching `path` as `client`, after the test's own set-up has finished.
async fn statements_for(app: &TestApp, client: &reqwest::Client, path: &str) -> usize {
    take_statements();
    let response = app.get_as(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap();
    let seen = take_statements();
    eprintln!("GET {path}: {} statements {seen:?}", seen.len());
    seen.len()
}

/// A thread of `threads` questions, each with two replies, and one midwife answer.
async fn fill(app: &TestApp, slug: &str, threads: usize, midwife: &crate::helpers::StaffUser) {
    let article = app.add_article(slug, slug).await;
    let mut first = None;
    for i in 0..threads {
        let question = app
            .add_comment(article, None, "Sam", &format!("question {i}"), Published)
            .await;
        first.get_or_insert(question);
        for j in 0..2 {
            app.add_comment(
                article,
                Some(question),
                "Kim",
                &format!("reply {i}.{j}"),
                Published,
            )
            .await;
        }
        app.add_comment(article, None, "Ash", &format!("waiting {i}"), Pending)
            .await;
    }
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{}/reply", first.unwrap()),
            &[("body", "Please call your maternity unit.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_thread_page_costs_the_same_few_statements_for_three_comments_or_sixty() {
    keep_statements();
    let app = TestApp::spawn().await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    fill(&app, "small", 1, &midwife).await;
    fill(&app, "large", 20, &midwife).await;
    let reader = reqwest::Client::new();

    let small = statements_for(&app, &reader, "/articles/small").await;
    let large = statements_for(&app, &reader, "/articles/large").await;
    assert_eq!(small, large, "no statement per comment");
    assert!(large <= 3, "a thread page takes {large} statements");

    // Read again: the rendered thread comes from the cache, checked with one cheap statement.
    let again = statements_for(&app, &reader, "/articles/large").await;
    assert!(again < large, "a cached thread page takes {again} statements");
}

#[tokio::test]
async fn the_moderation_queue_costs_the_same_few_statements_for_five_comments_or_fifty() {
    keep_statements();
    let app = TestApp::spawn().await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    fill(&app, "small", 5, &midwife).await;
    let small = statements_for(&app, &midwife.client, "/moderation").await;
    fill(&app, "large", 50, &midwife).await;
    let large = statements_for(&app, &midwife.client, "/moderation").await;
    assert_eq!(small, large, "no statement per comment");
    assert!(large <= 8, "the queue takes {large} statements");
}

#[tokio::test]
async fn a_busy_thread_page_as_deployed_is_served_without_asking_the_database() {
    keep_statements();
    let app = TestApp::spawn_with(|c| c.article_refresh = std::time::Duration::from_secs(60)).await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    fill(&app, "busy", 20, &midwife).await;
    let reader = reqwest::Client::new();
    assert!(statements_for(&app, &reader, "/articles/busy").await > 0);
    assert_eq!(statements_for(&app, &reader, "/articles/busy").await, 0);
}
