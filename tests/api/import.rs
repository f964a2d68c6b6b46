//! Importing from Drupal, WordPress and Disqus through the command line: the fixtures in
//! tests/fixtures/import/ (fictional people, written for these tests) with their awkward cases.

use std::process::Output;

use carethread::accounts::Role;

use crate::helpers::{TestApp, TestDatabase, unescape};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

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

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.expect("count")
}

#[tokio::test]
async fn a_wordpress_export_is_imported_with_its_threads_states_and_staff_replies() {
    let app = TestApp::spawn().await;
    let tess = app.create_staff("Tess", Role::Midwife, true).await;
    let file = fixture("wordpress.xml");
    let staff = fixture("staff.csv");
    let args = ["import", "wordpress", &file, "--staff-map", &staff];

    let output = carethread(&app.database.url, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report.contains("Imported 21 comments: 19 published, 1 pending (in the queue), 1 spam (in the Spam tab); 1 of them staff replies."),
        "{report}"
    );
    assert!(report.contains("Articles created: 2."), "{report}");
    assert!(report.contains("1 deleted or in the trash"), "{report}");
    assert!(report.contains("1 duplicate ids"), "{report}");
    assert!(report.contains("1 not comments"), "{report}");
    assert!(report.contains("malformed at comment 114"), "{report}");
    assert!(
        report.contains("2 replies whose parent is missing or deleted"),
        "{report}"
    );

    let page = unescape(&app.get_html("/articles/first-weeks").await);
    assert!(page.contains("The first weeks & sleep"), "{page}");
    assert!(page.contains("Does anyone else find the second week the hardest?"));
    assert!(page.contains("شكرا جزيلا على هذه المعلومات 🌷"));
    assert!(page.contains("Anonymous"), "an empty name becomes Anonymous");
    assert!(page.contains("good luck <3"));
    assert!(!page.contains("alert("), "script contents are dropped");
    assert!(
        page.contains("See the feeding guide ("),
        "a link's text is kept, its address after it"
    );
    let linked: String = sqlx::query_scalar("SELECT body FROM comments WHERE import_id = '111'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        linked,
        "See the feeding guide (https://nhs.example/feeding) and https://nhs.example/x.\n\nשלום — shalom"
    );
    assert!(
        page.contains("<strong>Rest</strong>"),
        "a staff reply is rendered Markdown"
    );
    assert!(!page.contains("Cheap pills"), "spam is not shown");
    assert!(!page.contains("still waiting"), "pending is not shown");
    assert!(!page.contains("This was removed"), "trash is not imported");
    assert!(!page.contains("Pingback text"));
    assert!(!page.contains("A second comment with the same id"));

    // Dates, parents and staff authorship are kept.
    let reply: (Option<i64>, String, Option<i64>, String) = sqlx::query_as(
        "SELECT c.author_user_id, c.author_kind::text, c.parent_id, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
           FROM comments c WHERE import_id = '102'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        reply,
        (Some(tess), "staff".into(), None, "2023-01-09 09:00:00".into())
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM comments c JOIN comments p ON p.id = c.parent_id WHERE c.import_id = '113' AND p.import_id = '112'").await,
        1,
        "a reply listed before its parent keeps its parent"
    );
    let deep = app.get_html("/articles/feeding-questions").await;
    assert!(deep.contains("Level 10 of a long conversation."));
    assert_eq!(
        count(
            &app,
            "WITH RECURSIVE t AS (SELECT id, 1 AS depth FROM comments WHERE import_id = '200'
                       UNION ALL SELECT c.id, t.depth + 1 FROM comments c JOIN t ON c.parent_id = t.id)
                     SELECT max(depth)::bigint FROM t"
        )
        .await,
        10
    );

    // The queue shows what waits, marked as imported; spam is in its tab.
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let queue = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Waiting Walter"), "{queue}");
    assert!(queue.contains("Imported from WordPress"));
    let spam = app
        .get_as(&moderator.client, "/moderation?status=spam")
        .await
        .text()
        .await
        .unwrap();
    assert!(spam.contains("Spammy"));
    assert_eq!(app.audit_count("import.run").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM outbox").await,
        0,
        "history sends no mail"
    );

    // The same import again changes nothing, and says so.
    let before = app.comment_count().await;
    let again = carethread(&app.database.url, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("Nothing to import: all 21 comments were imported before"),
        "{}",
        stdout(&again)
    );
    assert_eq!(app.comment_count().await, before);
    assert_eq!(count(&app, "SELECT count(*) FROM articles").await, 2);
    assert_eq!(app.audit_count("import.run").await, 1);
}

#[tokio::test]
async fn a_dry_run_reports_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let file = fixture("wordpress.xml");
    let output = carethread(&app.database.url, &["import", "wordpress", &file, "--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("Would import 21 comments"), "{report}");
    assert!(report.contains("Dry run: nothing was changed."));
    assert_eq!(app.comment_count().await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM articles").await, 0);
    assert_eq!(app.audit_count("import.run").await, 0);
}

#[tokio::test]
async fn a_disqus_export_is_imported() {
    let app = TestApp::spawn().await;
    app.create_staff("Tess", Role::Midwife, true).await;
    let (file, staff) = (fixture("disqus.xml"), fixture("disqus-staff.csv"));
    let output = carethread(
        &app.database.url,
        &["import", "disqus", &file, "--staff-map", &staff],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report.contains("Imported 5 comments: 4 published, 0 pending (in the queue), 1 spam"),
        "{report}"
    );
    assert!(report.contains("malformed at post 9007"), "{report}");
    assert!(report.contains("1 deleted or in the trash"), "{report}");

    let page = unescape(&app.get_html("/articles/hay-fever-in-pregnancy").await);
    assert!(page.contains("Hay fever in pregnancy & what helps"));
    assert!(page.contains("Which antihistamines are safe?"));
    assert!(page.contains("Ask your pharmacist; some are fine."));
    assert!(!page.contains("document.cookie"));
    assert!(page.contains("I am a reply listed before my parent. 🤧"));
    let night = app.get_html("/articles/night-feeds").await;
    assert!(
        night.contains("מה שלומך?"),
        "a reply to a deleted post is kept at the top level"
    );
    assert!(!night.contains("Removed by the author"));
    // 01:00 at +02:00 is 23:00 UTC the day before.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM comments WHERE import_id = '9002' AND author_kind = 'staff'
                       AND created_at = '2022-05-03T23:00:00Z'"
        )
        .await,
        1
    );
    let again = carethread(
        &app.database.url,
        &["import", "disqus", &file, "--staff-map", &staff],
    );
    assert!(stdout(&again).contains("Nothing to import"), "{}", stdout(&again));
}

#[tokio::test]
async fn a_drupal_csv_is_imported_with_its_article_map() {
    let app = TestApp::spawn().await;
    app.create_staff("Tess", Role::Midwife, true).await;
    let (file, articles, staff) = (
        fixture("drupal.csv"),
        fixture("drupal-articles.csv"),
        fixture("drupal-staff.csv"),
    );
    let args = [
        "import",
        "drupal",
        &file,
        "--article-map",
        &articles,
        "--staff-map",
        &staff,
    ];
    let output = carethread(&app.database.url, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report.contains("Imported 6 comments: 5 published, 1 pending (in the queue)"),
        "{report}"
    );
    assert!(report.contains("1 no article for their page"), "{report}");
    assert!(report.contains("malformed at line 8 (cid 7)"), "{report}");

    let page = app.get_html("/articles/tiredness-in-pregnancy").await;
    assert!(page.contains("Is it normal to feel so tired?"));
    assert!(page.contains("Thank you! 😊"));
    assert!(page.contains("ask your midwife about iron"));
    let plain = app.get_html("/articles/plain-page").await;
    let plain = plain.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    assert!(plain.contains("Plain text keeps &lt;tags&gt; as typed."));
    let again = carethread(&app.database.url, &args);
    assert!(stdout(&again).contains("Nothing to import"), "{}", stdout(&again));
}

#[tokio::test]
async fn bad_files_are_refused_clearly_with_nothing_stored() {
    let database = TestDatabase::create().await;
    for (format, name, expected) in [
        (
            "wordpress",
            "wordpress-truncated.xml",
            "not a valid WordPress (WXR) export",
        ),
        (
            "wordpress",
            "wordpress-latin1.xml",
            "only UTF-8 exports can be read",
        ),
        ("wordpress", "not-xml.xml", "this is not a WordPress (WXR) export"),
        (
            "disqus",
            "wordpress.xml",
            "this is not a Disqus export: it starts with <rss>",
        ),
        ("drupal", "not-xml.xml", "this is not a Drupal comments CSV"),
        ("wordpress", "missing.xml", "could not open"),
    ] {
        let file = fixture(name);
        let output = carethread(&database.url, &["import", format, &file]);
        assert!(!output.status.success(), "{name} as {format} is refused");
        assert!(stderr(&output).contains(expected), "{name}: {}", stderr(&output));
        let pool = database.pool().await;
        let stored: i64 =
            sqlx::query_scalar("SELECT (SELECT count(*) FROM comments) + (SELECT count(*) FROM articles)")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(stored, 0, "{name}: nothing half-stored");
    }
}

/// Every table the export covers, as the export writes it, less the header line.
fn site_lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read export")
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn an_export_reads_back_into_an_empty_database_with_the_same_result() {
    let app = TestApp::spawn().await;
    app.create_staff("Tess", Role::Midwife, true).await;
    let (file, staff) = (fixture("wordpress.xml"), fixture("staff.csv"));
    let output = carethread(
        &app.database.url,
        &["import", "wordpress", &file, "--staff-map", &staff],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let disqus = fixture("disqus.xml");
    carethread(&app.database.url, &["import", "disqus", &disqus]);

    let folder = tempfile::tempdir().unwrap();
    let first = folder.path().join("site.jsonl");
    let exported = carethread(&app.database.url, &["export", first.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(
        stdout(&exported).contains("Exported 1 accounts, 4 articles, 26 comments"),
        "{}",
        stdout(&exported)
    );
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(text.lines().next().unwrap().contains("\"carethread-export\""));
    assert!(
        !text.contains("password_hash"),
        "no password hashes leave the site"
    );

    let fresh = TestDatabase::create().await;
    let imported = carethread(&fresh.url, &["import", "carethread", first.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let second = folder.path().join("again.jsonl");
    carethread(&fresh.url, &["export", second.to_str().unwrap()]);
    assert_eq!(
        site_lines(&first),
        site_lines(&second),
        "the round trip changes nothing"
    );

    let twice = carethread(&fresh.url, &["import", "carethread", first.to_str().unwrap()]);
    assert!(!twice.status.success());
    assert!(
        stderr(&twice).contains("read only into an empty one"),
        "{}",
        stderr(&twice)
    );
    let wrong = carethread(
        &TestDatabase::create().await.url,
        &["import", "carethread", &file],
    );
    assert!(
        stderr(&wrong).contains("this is not a carethread export"),
        "{}",
        stderr(&wrong)
    );
}

#[tokio::test]
async fn a_backup_restores_into_an_empty_database_and_refuses_a_full_one_without_force() {
    let app = TestApp::spawn().await;
    let file = fixture("wordpress.xml");
    carethread(&app.database.url, &["import", "wordpress", &file]);
    let comments = app.comment_count().await;

    let folder = tempfile::tempdir().unwrap();
    let backup = folder.path().join("site.backup");
    let backup = backup.to_str().unwrap();
    let made = carethread(&app.database.url, &["backup", backup]);
    assert!(made.status.success(), "{}", stderr(&made));

    let spare = TestDatabase::create_empty().await;
    let restored = carethread(&spare.url, &["restore", backup]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let pool = spare.pool().await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM comments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, comments);

    let refused = carethread(&spare.url, &["restore", backup]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    let forced = carethread(&spare.url, &["restore", "--force", backup]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM comments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, comments);
}

/// One post with one published comment, for the article tests below.
fn wxr_item(post_id: u32, link: &str, comment_id: u32) -> String {
    format!(
        "<item><title>Our stories</title><link>{link}</link><wp:post_id>{post_id}</wp:post_id>
         <wp:post_name><![CDATA[our-stories]]></wp:post_name><wp:post_type><![CDATA[post]]></wp:post_type>
         <wp:comment><wp:comment_id>{comment_id}</wp:comment_id>
           <wp:comment_author><![CDATA[Robin Fictional]]></wp:comment_author>
           <wp:comment_date_gmt><![CDATA[2024-03-01 10:00:00]]></wp:comment_date_gmt>
           <wp:comment_content><![CDATA[Comment {comment_id}]]></wp:comment_content>
           <wp:comment_approved><![CDATA[1]]></wp:comment_approved>
           <wp:comment_parent>0</wp:comment_parent></wp:comment></item>"
    )
}

#[tokio::test]
async fn pages_get_free_slugs_and_pages_at_one_address_share_an_article() {
    let app = TestApp::spawn().await;
    let existing: i64 = sqlx::query_scalar(
        "INSERT INTO articles (slug, title, url) VALUES ('our-stories', 'Our stories', 'https://site.example/c/')
         RETURNING id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let items = [
        wxr_item(1, "https://site.example/a/", 11),
        wxr_item(2, "https://site.example/b/", 12),
        // The address of an article that is here already.
        wxr_item(3, "https://site.example/c/", 13),
        // Another page at the first one's address.
        wxr_item(4, "https://site.example/a/", 14),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.xml");
    std::fs::write(
        &file,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>{items}</channel></rss>"#
        ),
    )
    .unwrap();

    let output = carethread(
        &app.database.url,
        &["import", "wordpress", file.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("Imported 4 comments"), "{report}");
    assert!(report.contains("Articles created: 2."), "{report}");

    let mut slugs: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM articles WHERE import_source = 'wordpress' ORDER BY slug")
            .fetch_all(&app.db)
            .await
            .unwrap();
    slugs.sort();
    assert_eq!(slugs, ["our-stories-2", "our-stories-3"]);
    let on_existing = count(
        &app,
        &format!("SELECT count(*) FROM comments WHERE article_id = {existing} AND import_id = '13'"),
    )
    .await;
    assert_eq!(on_existing, 1, "the page at a known address joins that article");
    let shared = count(
        &app,
        "SELECT count(DISTINCT article_id) FROM comments WHERE import_id IN ('11', '14')",
    )
    .await;
    assert_eq!(shared, 1, "two pages at one address share one new article");

    // Once more: nothing new, however the pages were placed.
    let again = carethread(
        &app.database.url,
        &["import", "wordpress", file.to_str().unwrap()],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(count(&app, "SELECT count(*) FROM articles").await, 3);
    assert_eq!(count(&app, "SELECT count(*) FROM comments").await, 4);
}
