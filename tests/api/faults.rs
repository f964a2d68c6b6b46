//! The database going away under a running service, and coming back.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use carethread::{
    AppState,
    config::Config,
    db::{MIGRATOR, Outage, embedded::EmbeddedPostgres},
};
use reqwest::{StatusCode, header};

use crate::helpers::{TestApp, TestDatabase, hidden_field};

/// A server of the test's own, on a socket in a temporary folder, so it can be stopped.
async fn own_server(name: &str) -> (EmbeddedPostgres, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ct-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = EmbeddedPostgres::new(&dir, None).expect("PostgreSQL server binaries");
    server.start().await.expect("PostgreSQL starts");
    server
        .stop_when_process_exits(std::process::id(), true)
        .expect("watchdog");
    (server, dir)
}

async fn field_from(response: reqwest::Response, name: &str) -> (String, String) {
    let html = response.text().await.unwrap();
    let value = hidden_field(&html, name).unwrap_or_else(|| panic!("{name} on the page"));
    (html, value)
}

#[tokio::test]
async fn a_database_outage_is_answered_quickly_and_survived_without_a_restart() {
    let (mut server, dir) = own_server("outage").await;
    let outage = Arc::new(Outage::default());
    let pool = Outage::pool_options(&outage)
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(server.connect_options(carethread::db::embedded::DATABASE_NAME))
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    carethread::demo::load(&pool).await.unwrap();
    let secret = carethread::db::site_secret(&pool).await.unwrap();
    let mut config = Config::for_tests();
    config.min_form_seconds = 0;
    let state = AppState::new(pool.clone(), config, &secret)
        .unwrap()
        .watched_by(outage);
    let app = TestApp::serve(state, pool.clone(), TestDatabase::create_empty().await).await;
    let article = format!("/articles/{}", carethread::demo::DEMO_SLUG);

    let (_, stamp) = field_from(app.get(&article).await, "form_stamp").await;

    server.stop_immediately().await.unwrap();

    // Readers: a calm 503 page, quickly, that says when to come back and shows nothing internal.
    for _ in 0..3 {
        let started = Instant::now();
        let response = app.get(&article).await;
        assert!(started.elapsed() < Duration::from_secs(5), "no reader waits long");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let html = response.text().await.unwrap();
        assert!(html.contains("Please try again in a few minutes."));
        for internal in ["sqlx", "PoolTimedOut", "connection", "error returned"] {
            assert!(!html.contains(internal), "the page shows {internal:?}");
        }
    }
    // Once the outage is known, nobody waits at all.
    let started = Instant::now();
    assert_eq!(app.get(&article).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_millis(500));
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(health.headers().contains_key(header::RETRY_AFTER));

    // A poster is told the comment is not saved, and gets every word back in a form that resends it.
    let fields = [
        ("form_stamp", stamp.as_str()),
        ("name", "Sam"),
        ("email", "sam@example.org"),
        ("body", "Written while the lights flickered <3"),
    ];
    let response = app.post_form(&format!("{article}/comments"), &fields).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let (html, kept_stamp) = field_from(response, "form_stamp").await;
    assert!(html.contains("Your comment has not been sent yet"));
    assert!(html.contains("Written while the lights flickered &#60;3</textarea>"));
    assert!(html.contains(r#"value="sam@example.org""#));
    assert_eq!(kept_stamp, stamp);

    // Back within seconds of the database, with no restart.
    server.start().await.unwrap();
    let back = Instant::now();
    loop {
        if app.get(&article).await.status() == StatusCode::OK {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "service back within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    // Sending the kept form stores the comment, once, however many times it is sent.
    let resend = [
        ("form_stamp", kept_stamp.as_str()),
        ("name", "Sam"),
        ("email", "sam@example.org"),
        ("body", "Written while the lights flickered <3"),
    ];
    for _ in 0..2 {
        let response = app.post_form(&format!("{article}/comments"), &resend).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE body = $1")
        .bind("Written while the lights flickered <3")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);

    drop(app);
    pool.close().await;
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
