//! Read replicas (`CARETHREAD_REPLICA_URLS`): readers' public reads go to a replica in use, and
//! everything else to the primary. The "replica" here is a second database on the same server
//! holding different words, so every answer says which server it was read from; a database not
//! in recovery counts as caught up (lag 0), and a stand-in probe plays a lagging replica.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use carethread::{
    accounts::Role,
    comments::CommentStatus,
    db::{
        Replicas,
        replicas::{LagSource, Probe, lag_source, real_lag},
    },
};
use reqwest::StatusCode;
use secrecy::SecretString;
use sqlx::PgPool;

use crate::helpers::{TestApp, TestDatabase};

const ON_PRIMARY: &str = "Written on the primary";
const ON_REPLICA: &str = "Written on the replica";

/// A replica set of one, at `url`, probed once with `probe`.
async fn replicas_at(url: &str, probe: &LagSource) -> Arc<Replicas> {
    let replicas = Replicas::connect_lazy(
        &[SecretString::from(url.to_owned())],
        Duration::from_millis(2000),
        5,
    )
    .expect("replica address");
    let replicas = Arc::new(replicas);
    replicas.check(probe).await;
    replicas
}

/// An article `shared` (id 1 on both servers) with one published comment of `text`.
async fn article_with(db: &PgPool, text: &str) -> i64 {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO articles (slug, title, url) VALUES ('shared', 'Shared', 'https://example.org/shared') RETURNING id",
    )
    .fetch_one(db)
    .await
    .expect("article");
    publish(db, id, text).await;
    id
}

async fn publish(db: &PgPool, article: i64, text: &str) {
    carethread::comments::store::insert_raw(
        db,
        article,
        None,
        "Sam",
        text,
        CommentStatus::Published,
        chrono::Utc::now(),
    )
    .await
    .expect("comment");
}

/// A probe that reports whatever lag the test sets, in milliseconds.
fn scripted(lag_ms: &Arc<AtomicU64>) -> LagSource {
    let lag_ms = Arc::clone(lag_ms);
    lag_source(move |_| {
        let lag = Duration::from_millis(lag_ms.load(Ordering::SeqCst));
        async move { Probe::Lag(Some(lag)) }
    })
}

/// Waits up to five seconds for `replicas` to have `serving` replicas in use.
async fn until_serving(replicas: &Replicas, serving: usize) {
    for _ in 0..100 {
        if replicas.serving() == serving {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} replicas in use, not {serving}", replicas.serving());
}

/// The thread page's words: from the replica, from the primary, or neither.
async fn page_source(app: &TestApp) -> &'static str {
    let response = app.get("/articles/shared").await;
    assert_eq!(response.status(), StatusCode::OK, "a read never fails");
    let html = response.text().await.unwrap();
    match (html.contains(ON_REPLICA), html.contains(ON_PRIMARY)) {
        (true, false) => "replica",
        (false, true) => "primary",
        _ => "neither",
    }
}

#[tokio::test]
async fn public_reads_go_to_the_replica_and_staff_writes_and_rate_checks_to_the_primary() {
    let replica = TestDatabase::create().await;
    let replica_db = replica.pool().await;
    article_with(&replica_db, ON_REPLICA).await;
    publish(&replica_db, 1, "A second comment, only on the replica").await;
    let replicas = replicas_at(&replica.url, &real_lag()).await;
    assert_eq!(replicas.serving(), 1, "a server not in recovery is not behind");
    let app = TestApp::spawn_reading_from(Arc::clone(&replicas), |config| {
        config.rate_per_address = 1;
    })
    .await;
    article_with(&app.db, ON_PRIMARY).await;

    // Readers: the page, the API's thread, the counts and the front page come from the replica.
    assert_eq!(page_source(&app).await, "replica");
    let json = app
        .get("/api/v1/articles/shared/comments")
        .await
        .text()
        .await
        .unwrap();
    assert!(json.contains(ON_REPLICA) && !json.contains(ON_PRIMARY), "{json}");
    let counts = app.get("/api/v1/counts?slug=shared").await.text().await.unwrap();
    let counts: serde_json::Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(counts["counts"]["shared"], 2, "counted on the replica: {counts}");
    let front = app.get_html("/").await;
    assert!(
        front.contains("2 comments"),
        "the front page counts the replica's comments"
    );

    // A guest's post is written to the primary, and its rate checks read the primary: the
    // second post from this address is refused because of the first, which only the primary has.
    let posted = app
        .post_comment("shared", &[("name", "Ali"), ("body", "A new question")])
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let on_primary: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE body = 'A new question'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let on_replica: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE body = 'A new question'")
        .fetch_one(&replica_db)
        .await
        .unwrap();
    assert_eq!((on_primary, on_replica), (1, 0));
    let again = app
        .post_comment("shared", &[("name", "Ali"), ("body", "Another question")])
        .await;
    assert_eq!(
        again.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the rate limit counts the primary's comments"
    );

    // Staff read the primary: the thread as it is there, and the queue.
    let moderator = app.staff("Mo", Role::Moderator, true).await;
    let staff_page = app
        .get_as(&moderator.client, "/articles/shared")
        .await
        .text()
        .await
        .unwrap();
    assert!(staff_page.contains(ON_PRIMARY) && !staff_page.contains(ON_REPLICA));
    let queue = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains("A new question"), "the queue is the primary's");
}

#[tokio::test]
async fn a_replica_that_cannot_be_reached_is_left_out_and_reads_fall_back_without_an_error() {
    // Nothing listens on port 1. The stand-in probe says it is well, so the first read tries it.
    let well = lag_source(|_| async { Probe::Lag(Some(Duration::ZERO)) });
    let replicas = replicas_at("postgres://postgres@127.0.0.1:1/nowhere", &well).await;
    assert_eq!(replicas.serving(), 1);
    let app = TestApp::spawn_reading_from(Arc::clone(&replicas), |_| {}).await;
    article_with(&app.db, ON_PRIMARY).await;

    assert_eq!(page_source(&app).await, "primary", "read again on the primary");
    assert_eq!(replicas.serving(), 0, "the failed read left the replica out");
    let counts = app.get("/api/v1/counts?slug=shared").await;
    assert_eq!(counts.status(), StatusCode::OK);
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK, "the site is up: the primary is");

    // The real probe finds it unreachable too, and keeps it out.
    replicas.check(&real_lag()).await;
    assert_eq!(replicas.serving(), 0);
    assert_eq!(page_source(&app).await, "primary");
}

#[tokio::test]
async fn a_replica_lagging_beyond_the_limit_is_left_out_until_it_catches_up() {
    let replica = TestDatabase::create().await;
    article_with(&replica.pool().await, ON_REPLICA).await;
    let lag_ms = Arc::new(AtomicU64::new(0));
    let probe = scripted(&lag_ms);
    let replicas = replicas_at(&replica.url, &probe).await;
    // The cache off: each page is read from whichever server the routing picks.
    let app = TestApp::spawn_reading_from(Arc::clone(&replicas), |config| {
        config.thread_cache_bytes = 0;
    })
    .await;
    article_with(&app.db, ON_PRIMARY).await;
    let watcher = tokio::spawn(Arc::clone(&replicas).watch(probe));

    assert_eq!(page_source(&app).await, "replica");
    lag_ms.store(2001, Ordering::SeqCst);
    until_serving(&replicas, 0).await;
    assert_eq!(page_source(&app).await, "primary", "no replica left: the primary");
    lag_ms.store(1500, Ordering::SeqCst);
    until_serving(&replicas, 1).await;
    assert_eq!(
        page_source(&app).await,
        "replica",
        "used again once within the limit"
    );
    watcher.abort();
}

/// The version a page is filed under in the thread cache and the page's comments must come from
/// the same server at the same moment. Here the article's version comes from the primary (a post
/// reads the article there and the memo keeps it), while the page is read from a replica one
/// approval behind. Filed under the primary's version, the replica's older page would be served
/// from the cache even after the replica caught up.
#[tokio::test]
async fn a_page_read_from_a_lagging_replica_is_never_cached_as_the_newer_version() {
    let replica = TestDatabase::create().await;
    let replica_db = replica.pool().await;
    let article = article_with(&replica_db, "The first comment").await;
    let replicas = replicas_at(&replica.url, &real_lag()).await;
    let app = TestApp::spawn_reading_from(Arc::clone(&replicas), |config| {
        config.article_refresh = Duration::from_millis(1500);
    })
    .await;
    assert_eq!(article_with(&app.db, "The first comment").await, article);
    // Approved on the primary; the replica has not replayed it yet.
    publish(&app.db, article, "The approved answer").await;

    let stamp = app.shown_stamp("shared").await;
    tokio::time::sleep(Duration::from_millis(1600)).await; // the memo forgets the replica's row
    let posted = app
        .post_form(
            "/articles/shared/comments",
            &[("form_stamp", &stamp), ("name", "Ali"), ("body", "A question")],
        )
        .await;
    assert_eq!(
        posted.status(),
        StatusCode::SEE_OTHER,
        "the post read the article on the primary"
    );

    let behind = app.get_html("/articles/shared").await;
    assert!(
        behind.contains("The first comment") && !behind.contains("The approved answer"),
        "the replica's page, as the replica has it"
    );
    // The replica catches up.
    publish(&replica_db, article, "The approved answer").await;
    let caught_up = app.get_html("/articles/shared").await;
    assert!(
        caught_up.contains("The approved answer"),
        "the older page was not kept under the newer version"
    );
}
