//! Admin: accounts, articles, the audit log, and the command line for accounts.

use carethread::{accounts::Role, comments::CommentStatus::Pending};
use reqwest::StatusCode;

use crate::helpers::{STAFF_PASSWORD, TestApp, location, new_client};

#[tokio::test]
async fn an_admin_verifies_a_midwife_and_the_record_says_who_and_when() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let midwife = app.staff("Morgan", Role::Midwife, false).await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "question", Pending).await;
    let path = format!("/moderation/comments/{id}/reply");
    assert_eq!(
        app.post_as(&midwife.client, &path, &[("body", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let response = app
        .post_as(
            &admin.client,
            &format!("/admin/accounts/{}/verify", midwife.id),
            &[("registration_number", "12A3456E")],
        )
        .await;
    assert_eq!(location(&response), "/admin/accounts");

    let (by, number, recent): (Option<i64>, Option<String>, bool) = sqlx::query_as(
        "SELECT verified_by, registration_number, verified_at > now() - interval '1 minute' FROM users WHERE id = $1",
    )
    .bind(midwife.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(by, Some(admin.id));
    assert_eq!(number.as_deref(), Some("12A3456E"));
    assert!(recent);
    let accounts = app
        .get_as(&admin.client, "/admin/accounts")
        .await
        .text()
        .await
        .unwrap();
    assert!(accounts.contains("by Ada (12A3456E)"));

    assert_eq!(
        app.post_as(&midwife.client, &path, &[("body", "An answer.")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn admins_change_roles_but_the_last_admin_cannot_step_down() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let alex = app.create_staff("Alex", Role::Moderator, false).await;

    app.post_as(
        &admin.client,
        &format!("/admin/accounts/{alex}/role"),
        &[("role", "admin")],
    )
    .await;
    let role: String = sqlx::query_scalar("SELECT role::text FROM users WHERE id = $1")
        .bind(alex)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(role, "admin");

    // Ada is not the last admin now, but Alex is disabled, so she is the last active one.
    app.post_as(&admin.client, &format!("/admin/accounts/{alex}/disable"), &[])
        .await;
    app.post_as(
        &admin.client,
        &format!("/admin/accounts/{}/role", admin.id),
        &[("role", "moderator")],
    )
    .await;
    let role: String = sqlx::query_scalar("SELECT role::text FROM users WHERE id = $1")
        .bind(admin.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(role, "admin");
    let page = app
        .get_as(&admin.client, "/admin/accounts")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("You are the only admin"));

    let own = app
        .post_as(
            &admin.client,
            &format!("/admin/accounts/{}/disable", admin.id),
            &[],
        )
        .await;
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_as(&admin.client, "/admin").await.status(),
        StatusCode::OK,
        "cannot disable oneself"
    );
}

#[tokio::test]
async fn an_invitation_with_problems_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let response = app
        .post_as(
            &admin.client,
            "/admin/accounts/invite",
            &[
                ("name", "Morgan Lee"),
                ("email", "not-an-email"),
                ("role", "midwife"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"value="Morgan Lee""#) && html.contains(r#"value="not-an-email""#));

    let duplicate = app
        .post_as(
            &admin.client,
            "/admin/accounts/invite",
            &[("name", "Ada"), ("email", "ADA@example.org"), ("role", "admin")],
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.text().await.unwrap().contains("already an account"));
}

#[tokio::test]
async fn admins_add_edit_close_and_open_articles() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;

    let bad = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[
                ("slug", "Bad Slug"),
                ("title", "Feeding your baby"),
                ("url", "https://example.org/f"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains(r#"value="Feeding your baby""#));

    let added = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[
                ("slug", "feeding"),
                ("title", "Feeding your baby"),
                ("url", "https://example.org/f"),
            ],
        )
        .await;
    assert_eq!(location(&added), "/admin/articles?added=feeding#added");
    assert!(app.get_html("/").await.contains("Feeding your baby"));

    app.post_as(
        &admin.client,
        "/admin/articles/feeding/edit",
        &[
            ("title", "Feeding your newborn"),
            ("url", "https://example.org/newborn"),
        ],
    )
    .await;
    let thread = app.get_html("/articles/feeding").await;
    assert!(thread.contains("<h1>Feeding your newborn</h1>"));
    assert!(thread.contains("https://example.org/newborn"));

    let bad_edit = app
        .post_as(
            &admin.client,
            "/admin/articles/feeding/edit",
            &[("title", "Kept title"), ("url", "ftp://x")],
        )
        .await;
    assert_eq!(bad_edit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_edit.text().await.unwrap().contains(r#"value="Kept title""#));

    app.post_as(&admin.client, "/admin/articles/feeding/close", &[])
        .await;
    assert!(
        app.get_html("/articles/feeding")
            .await
            .contains("Comments are closed")
    );
    app.post_as(&admin.client, "/admin/articles/feeding/open", &[])
        .await;
    assert!(
        app.get_html("/articles/feeding")
            .await
            .contains("Add new comment")
    );

    for action in [
        "article.added",
        "article.edited",
        "article.closed",
        "article.opened",
    ] {
        assert_eq!(app.audit_count(action).await, 1, "{action}");
    }
}

#[tokio::test]
async fn the_audit_log_lists_every_action_and_filters() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let a = app.add_article("a", "A").await;
    let one = app.add_comment(a, None, "Sam", "one", Pending).await;
    let two = app.add_comment(a, None, "Sam", "two", Pending).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{one}/approve"),
        &[],
    )
    .await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{two}/hide"),
        &[("reason", "off topic")],
    )
    .await;
    app.post_as(&admin.client, "/admin/articles/a/close", &[]).await;

    let all = app
        .get_as(&admin.client, "/admin/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(all.contains("<td>approved a comment</td>") && all.contains("<td>hid a comment</td>"));
    assert!(all.contains("<td>closed an article to comments</td>"));
    assert!(all.contains("off topic"));
    assert!(all.contains(&format!("comment {one}")));

    let hides = app
        .get_as(&admin.client, "/admin/audit?action=comment.hidden")
        .await
        .text()
        .await
        .unwrap();
    assert!(hides.contains("<td>hid a comment</td>") && !hides.contains("<td>approved a comment</td>"));

    let by_admin = app
        .get_as(&admin.client, &format!("/admin/audit?actor={}", admin.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        by_admin.contains("<td>closed an article to comments</td>")
            && !by_admin.contains("<td>hid a comment</td>")
    );

    let target = app
        .get_as(&admin.client, &format!("/admin/audit?target=comment:{two}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(target.contains("<td>hid a comment</td>") && !target.contains("<td>approved a comment</td>"));
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed_or_emptied() {
    let app = TestApp::spawn().await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Sam", "one", Pending).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;

    assert!(
        sqlx::query("UPDATE audit_log SET reason = 'changed'")
            .execute(&app.db)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(&app.db)
            .await
            .is_err()
    );
    assert!(sqlx::query("TRUNCATE audit_log").execute(&app.db).await.is_err());
    assert_eq!(app.audit_count("comment.approved").await, 1);
}

fn carethread(database_url: &str, args: &[&str], password: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_carethread"));
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "off")
        .stdin(std::process::Stdio::null());
    match password {
        Some(p) => command.env("CARETHREAD_PASSWORD", p),
        None => command.env_remove("CARETHREAD_PASSWORD"),
    };
    command.output().expect("run carethread")
}

#[tokio::test]
async fn the_first_admin_is_created_from_the_command_line() {
    let app = TestApp::spawn().await;
    let url = app.database.url.clone();
    let args = [
        "user",
        "add",
        "--email",
        "first@example.org",
        "--name",
        "First Admin",
        "--role",
        "admin",
    ];

    let weak = carethread(&url, &args, Some("password1234"));
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too easy to guess"));

    let no_terminal = carethread(&url, &args, None);
    assert!(!no_terminal.status.success());
    assert!(String::from_utf8_lossy(&no_terminal.stderr).contains("CARETHREAD_PASSWORD"));

    let made = carethread(&url, &args, Some(STAFF_PASSWORD));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(String::from_utf8_lossy(&made.stdout).contains("Created the admin account for First Admin"));

    let again = carethread(&url, &args, Some(STAFF_PASSWORD));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already an account"));

    let midwife = carethread(
        &url,
        &[
            "user",
            "add",
            "--email",
            "mw@example.org",
            "--name",
            "Morgan",
            "--role",
            "midwife",
            "--verified",
            "--registration-number",
            "99X",
        ],
        Some(STAFF_PASSWORD),
    );
    assert!(midwife.status.success());
    let list = carethread(&url, &["user", "list"], None);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("admin\tactive, not verified\tFirst Admin <first@example.org>"),
        "{listed}"
    );
    assert!(listed.contains("midwife\tactive, verified\tMorgan <mw@example.org>"));

    let client = new_client();
    assert_eq!(
        app.sign_in(&client, "first@example.org", STAFF_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get_as(&client, "/admin").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn nobody_verifies_their_own_account_and_only_midwives_are_verified() {
    let app = TestApp::spawn().await;
    let ada = app.staff("Ada", Role::Admin, false).await;
    let kim = app.create_staff("Kim", Role::Moderator, false).await;
    let html = app
        .get_as(&ada.client, "/admin/accounts")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(&format!("/admin/accounts/{}/verify", ada.id)),
        "no Verify for oneself"
    );
    assert!(
        !html.contains(&format!("/admin/accounts/{kim}/verify")),
        "no Verify for a moderator"
    );
    for (id, why) in [
        (ada.id, "another admin must"),
        (kim, "only midwives are verified"),
    ] {
        let response = app
            .post_as(&ada.client, &format!("/admin/accounts/{id}/verify"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let page = app
            .get_as(&ada.client, "/admin/accounts")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(why), "the refusal is explained: {why}");
    }
    let verified: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE verified_at IS NOT NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(verified, 0);
}

#[tokio::test]
async fn an_article_added_without_a_short_name_gets_one_from_its_title_and_shows_its_address() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://comments.example.org".into()).await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let response = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[
                ("slug", ""),
                ("title", "Trying again after a loss"),
                ("url", "https://example.org/trying"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_as(&admin.client, "/admin/articles")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("https://comments.example.org/articles/trying-again-after-a-loss"));
    let bad = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[
                ("slug", "Not Valid"),
                ("title", "T"),
                ("url", "https://example.org/t"),
            ],
        )
        .await;
    assert!(
        bad.text().await.unwrap().contains("Short name for the address:"),
        "the error names the field"
    );
}
