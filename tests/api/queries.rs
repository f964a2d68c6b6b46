//! How many SQL statements a page costs: a fixed few, however many comments it shows.
//!
//! sqlx reports every statement it runs as a `sqlx::query` tracing event. The test runtime runs
//! the server on the test's own thread, so a subscriber set for this thread sees exactly the
//! statements this test's requests cause, apart from the driver's own type lookups.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use carethread::{accounts::Role, comments::CommentStatus::*};
use reqwest::StatusCode;
use tracing::{Event, Metadata, Subscriber, span};

use crate::helpers::TestApp;

#[derive(Clone, Default)]
struct StatementCounter(Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>);

impl StatementCounter {
    fn take(&self) -> usize {
        self.1.lock().unwrap().clear();
        self.0.swap(0, Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<String> {
        self.1.lock().unwrap().clone()
    }
}

impl Subscriber for StatementCounter {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query"
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        /// The statement's first words, as sqlx summarises it.
        struct Summary(String);
        impl tracing::field::Visit for Summary {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "summary" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut summary = Summary(String::new());
        event.record(&mut summary);
        // The driver looks up custom types once per new connection; those are not the page's.
        if !summary.0.contains("pg_catalog") && !summary.0.contains("regtype") {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.lock().unwrap().push(summary.0);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// Statements run while fetching `path` as `client`, after the test's own set-up has finished.
async fn statements_for(
    app: &TestApp,
    counter: &StatementCounter,
    client: &reqwest::Client,
    path: &str,
) -> usize {
    counter.take();
    let response = app.get_as(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap();
    let seen = counter.seen();
    let n = counter.take();
    eprintln!("GET {path}: {n} statements {seen:?}");
    n
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
    let counter = StatementCounter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let app = TestApp::spawn().await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    fill(&app, "small", 1, &midwife).await;
    fill(&app, "large", 20, &midwife).await;
    let reader = reqwest::Client::new();

    let small = statements_for(&app, &counter, &reader, "/articles/small").await;
    let large = statements_for(&app, &counter, &reader, "/articles/large").await;
    assert_eq!(small, large, "no statement per comment");
    assert!(large <= 3, "a thread page takes {large} statements");

    // Read again: the rendered thread comes from the cache, checked with one cheap statement.
    let again = statements_for(&app, &counter, &reader, "/articles/large").await;
    assert!(again < large, "a cached thread page takes {again} statements");
}

#[tokio::test]
async fn the_moderation_queue_costs_the_same_few_statements_for_five_comments_or_fifty() {
    let counter = StatementCounter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let app = TestApp::spawn().await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    fill(&app, "small", 5, &midwife).await;
    let small = statements_for(&app, &counter, &midwife.client, "/moderation").await;
    fill(&app, "large", 50, &midwife).await;
    let large = statements_for(&app, &counter, &midwife.client, "/moderation").await;
    assert_eq!(small, large, "no statement per comment");
    assert!(large <= 8, "the queue takes {large} statements");
}

#[tokio::test]
async fn a_busy_thread_page_as_deployed_is_served_without_asking_the_database() {
    let counter = StatementCounter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let app = TestApp::spawn_with(|c| c.article_refresh = std::time::Duration::from_secs(60)).await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    fill(&app, "busy", 20, &midwife).await;
    let reader = reqwest::Client::new();
    assert!(statements_for(&app, &counter, &reader, "/articles/busy").await > 0);
    assert_eq!(statements_for(&app, &counter, &reader, "/articles/busy").await, 0);
}
