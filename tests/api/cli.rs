//! The command line against a real database: every command says what it did, or why not.

use std::process::Output;

use reqwest::StatusCode;

use crate::helpers::{TestApp, TestDatabase};

fn carethread(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_carethread"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "off")
        .output()
        .expect("run carethread")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn migrate_reports_that_the_database_is_up_to_date() {
    let database = TestDatabase::create().await;
    let output = carethread(&database.url, &["migrate"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("up to date"));
}

#[tokio::test]
async fn articles_can_be_added_closed_opened_and_listed() {
    let app = TestApp::spawn().await;
    let url = app.database.url.clone();

    let added = carethread(
        &url,
        &[
            "article",
            "add",
            "--slug",
            "feeding-your-baby",
            "--title",
            "Feeding your baby",
            "--url",
            "https://example.org/feeding",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).contains("Added the article 'Feeding your baby' at /articles/feeding-your-baby"));
    assert!(app.get_html("/").await.contains("Feeding your baby"));

    let closed = carethread(&url, &["article", "close", "feeding-your-baby"]);
    assert!(closed.status.success());
    assert!(stdout(&closed).contains("Closed 'feeding-your-baby'"));
    assert!(
        app.get_html("/articles/feeding-your-baby")
            .await
            .contains("Comments are closed")
    );

    let opened = carethread(&url, &["article", "open", "feeding-your-baby"]);
    assert!(opened.status.success());
    assert!(
        app.get_html("/articles/feeding-your-baby")
            .await
            .contains("Add new comment")
    );

    let list = carethread(&url, &["article", "list"]);
    assert!(stdout(&list).contains("feeding-your-baby\topen\t0 published, 0 pending\tFeeding your baby"));
}

#[tokio::test]
async fn article_commands_fail_clearly_on_bad_input() {
    let database = TestDatabase::create().await;
    let url = &database.url;
    let add = |slug: &str, link: &str| {
        carethread(
            url,
            &["article", "add", "--slug", slug, "--title", "T", "--url", link],
        )
    };

    assert!(add("one", "https://example.org/1").status.success());
    let duplicate = add("one", "https://example.org/1");
    assert!(!duplicate.status.success());
    assert!(stderr(&duplicate).contains("already an article with the slug 'one'"));

    let bad_slug = add("Not A Slug", "https://example.org/1");
    assert!(!bad_slug.status.success());
    assert!(stderr(&bad_slug).contains("not a valid slug"));

    let bad_url = add("two", "javascript:alert(1)");
    assert!(!bad_url.status.success());
    assert!(stderr(&bad_url).contains("not a web address"));

    let unknown = carethread(url, &["article", "close", "nope"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no article with the slug 'nope'"));
}

#[tokio::test]
async fn demo_loads_once_and_shows_a_thread() {
    let app = TestApp::spawn().await;
    let first = carethread(&app.database.url, &["demo"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("Added the demo article"));
    let second = carethread(&app.database.url, &["demo"]);
    assert!(second.status.success());
    assert!(stdout(&second).contains("already there"));

    let response = app.get("/articles/after-a-miscarriage").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("(not verified)"));
    assert!(
        html.contains(r#"<ol class="replies">"#),
        "the demo shows a threaded reply"
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM comments WHERE status = 'pending'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(pending >= 1, "the demo leaves something to moderate");
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let output = carethread("postgres://postgres@127.0.0.1:1/none", &["migrate"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("could not connect to the database"));
}

#[tokio::test]
async fn migrate_creates_the_tables_of_an_empty_database() {
    let database = TestDatabase::create_empty().await;
    let output = carethread(&database.url, &["migrate"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let all = carethread::db::MIGRATOR.iter().count();
    assert!(
        stdout(&output).contains(&format!("Applied {all} migrations")),
        "{}",
        stdout(&output)
    );
    let again = carethread(&database.url, &["migrate"]);
    assert!(stdout(&again).contains("no migrations were needed"));
}

#[tokio::test]
async fn serve_with_no_migrate_on_an_empty_database_says_what_to_do() {
    let database = TestDatabase::create_empty().await;
    let output = carethread(&database.url, &["serve", "--no-migrate", "--addr", "127.0.0.1:0"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("carethread migrate"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn bench_data_loads_threads_in_bulk() {
    let app = TestApp::spawn().await;
    let output = carethread(
        &app.database.url,
        &["bench-data", "--articles", "5", "--comments", "2000"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Loaded 5 articles and 2000 comments"));

    let (hot, pending, replies): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM comments c JOIN articles a ON a.id = c.article_id
                  WHERE a.slug = 'bench-hot' AND c.status = 'published'),
                (SELECT count(*) FROM comments WHERE status = 'pending'),
                (SELECT count(*) FROM comments WHERE parent_id IS NOT NULL)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(hot, 200);
    assert!(pending >= 1000);
    assert!(replies > 0, "some comments answer others");
    let misordered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM comments c JOIN comments p ON p.id = c.parent_id
          WHERE p.id > c.id OR p.article_id <> c.article_id OR p.status <> 'published'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        misordered, 0,
        "replies follow published parents on the same article"
    );
    let page = app.get("/articles/bench-hot").await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_operators_own_files_are_served_from_the_files_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("privacy.html"), "<p>Our privacy notice</p>").unwrap();
    let path = dir.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.files_dir = Some(path)).await;
    let response = app.get("/files/privacy.html").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Our privacy notice"));
    assert_eq!(
        app.get("/files/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
}
