//! Decisions that respect moderators' time: back to the same place with a named confirmation and
//! Undo, several comments at once, and urgent comments handled without publishing them.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{Hidden, Pending, Published},
};
use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::{TestApp, escaped, location, path_on_page, position};

const QUEUE: &str = "/moderation?status=pending";

/// An article with three waiting comments, oldest first: Kim's, Lee's and Sam's.
async fn queue_of_three(app: &TestApp) -> (i64, [i64; 3]) {
    let article = app
        .add_article("after-a-miscarriage", "After a miscarriage")
        .await;
    let mut ids = [0; 3];
    for (i, (name, body)) in [
        ("Kim", "Kim's words about the first weeks"),
        ("Lee", "Lee's question about going back to work"),
        ("Sam", "Sam's thanks to everyone here"),
    ]
    .into_iter()
    .enumerate()
    {
        let at = Utc::now() - Duration::hours(3 - i as i64);
        ids[i] = app.add_comment_at(article, None, name, body, Pending, at).await;
    }
    (article, ids)
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get_as(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap()
}

async fn make_urgent(app: &TestApp, id: i64) {
    sqlx::query("UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn after_approving_the_queue_returns_to_the_next_comment_with_a_named_confirmation() {
    let app = TestApp::spawn().await;
    let (_, [kim, lee, _]) = queue_of_three(&app).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    // The queue's Approve form says where to come back to: this tab, and the comment after Kim's.
    let queue = page(&app, &moderator.client, QUEUE).await;
    let form = &queue[position(&queue, &format!("/moderation/comments/{kim}/approve"))..];
    assert!(form.contains(&format!(r#"name="following" value="{lee}""#)));

    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{kim}/approve"),
            &[("back", QUEUE), ("following", &lee.to_string())],
        )
        .await;

    assert_eq!(location(&response), format!("{QUEUE}#decided"));
    assert_eq!(app.status_of(kim).await, "published");
    let html = page(&app, &moderator.client, QUEUE).await;
    assert!(
        html.contains("Approved Kim\u{2019}s comment on <em>After a miscarriage</em>. It is now published."),
        "{html}"
    );
    // Where Kim's comment was: just before Lee's, which is next to read.
    let confirmation = position(&html, r#"id="decided""#);
    assert!(confirmation < position(&html, "Lee&#39;s question"));
    assert!(confirmation > position(&html, r#"id="several""#));
    assert!(html.contains("/moderation/decisions/"), "an Undo button");
    // Shown once.
    let again = page(&app, &moderator.client, QUEUE).await;
    assert!(!again.contains(r#"id="decided""#));
}

#[tokio::test]
async fn hide_and_not_spam_name_the_comment_too() {
    let app = TestApp::spawn().await;
    let (_, [kim, lee, _]) = queue_of_three(&app).await;
    sqlx::query("UPDATE comments SET status = 'spam', spam_reason = 'many links' WHERE id = $1")
        .bind(lee)
        .execute(&app.db)
        .await
        .unwrap();
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{kim}/hide"),
        &[("back", QUEUE)],
    )
    .await;
    let html = page(&app, &moderator.client, QUEUE).await;
    assert!(html.contains("Hid Kim\u{2019}s comment on <em>After a miscarriage</em>."));

    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{lee}/not-spam"),
        &[("back", "/moderation?status=spam")],
    )
    .await;
    let html = page(&app, &moderator.client, "/moderation?status=spam").await;
    assert!(
        html.contains("Moved Lee\u{2019}s comment on <em>After a miscarriage</em> to the waiting queue.")
    );
}

/// The Undo button's address on the page.
async fn undo_path(app: &TestApp, client: &reqwest::Client) -> String {
    let html = page(app, client, QUEUE).await;
    path_on_page(&html, "/moderation/decisions/").expect("an Undo button")
}

#[tokio::test]
async fn undo_puts_the_comment_back_and_is_audited() {
    let app = TestApp::spawn().await;
    let (article, [kim, ..]) = queue_of_three(&app).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{kim}/approve"),
        &[("back", QUEUE)],
    )
    .await;
    assert!(
        app.get_html("/articles/after-a-miscarriage")
            .await
            .contains("first weeks")
    );
    let undo = undo_path(&app, &moderator.client).await;

    let response = app.post_as(&moderator.client, &undo, &[("back", QUEUE)]).await;

    assert_eq!(location(&response), format!("{QUEUE}#decided"));
    assert_eq!(app.status_of(kim).await, "pending");
    assert!(
        !app.get_html("/articles/after-a-miscarriage")
            .await
            .contains("first weeks")
    );
    let html = page(&app, &moderator.client, QUEUE).await;
    assert!(html.contains(
        "Undone. Kim\u{2019}s comment on <em>After a miscarriage</em> is waiting for moderation again."
    ));
    assert!(position(&html, r#"id="decided""#) < position(&html, "first weeks"));
    let (actor, reason): (i64, Option<String>) =
        sqlx::query_as("SELECT actor_id, reason FROM audit_log WHERE action = 'comment.undone'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, moderator.id);
    assert_eq!(reason.as_deref(), Some("comment.approved"));

    // A hide of a published comment, undone: published again, its reason gone.
    let published = app
        .add_comment(article, None, "Jo", "Jo's published words", Published)
        .await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{published}/hide"),
        &[("back", QUEUE), ("reason", "a phone number")],
    )
    .await;
    let undo = undo_path(&app, &moderator.client).await;
    app.post_as(&moderator.client, &undo, &[("back", QUEUE)]).await;
    assert_eq!(app.status_of(published).await, "published");
    let reason: Option<String> = sqlx::query_scalar("SELECT hidden_reason FROM comments WHERE id = $1")
        .bind(published)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(reason, None);
    assert_eq!(app.audit_count("comment.undone").await, 2);
}

#[tokio::test]
async fn an_undo_after_the_comment_changed_is_refused_kindly_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (article, [kim, ..]) = queue_of_three(&app).await;
    let alex = app.staff("Alex", Role::Moderator, false).await;
    let jo = app.staff("Jo", Role::Moderator, false).await;
    app.post_as(
        &alex.client,
        &format!("/moderation/comments/{kim}/approve"),
        &[("back", QUEUE)],
    )
    .await;
    let undo = undo_path(&app, &alex.client).await;
    // Meanwhile Jo hides it.
    app.post_as(&jo.client, &format!("/moderation/comments/{kim}/hide"), &[])
        .await;

    let response = app.post_as(&alex.client, &undo, &[("back", QUEUE)]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(kim).await, "hidden");
    let html = page(&app, &alex.client, QUEUE).await;
    assert!(
        html.contains("This can no longer be undone, because the comment has changed since (Jo hid it"),
        "{html}"
    );
    assert!(html.contains("Nothing was changed."));
    assert_eq!(app.audit_count("comment.undone").await, 0);

    // Undoing twice is refused the same way.
    let lee = app.add_comment(article, None, "Lee", "Another", Pending).await;
    app.post_as(
        &alex.client,
        &format!("/moderation/comments/{lee}/approve"),
        &[("back", QUEUE)],
    )
    .await;
    let undo = undo_path(&app, &alex.client).await;
    app.post_as(&alex.client, &undo, &[("back", QUEUE)]).await;
    app.post_as(&alex.client, &undo, &[("back", QUEUE)]).await;
    assert_eq!(app.status_of(lee).await, "pending");
    assert_eq!(app.audit_count("comment.undone").await, 1);
    assert!(
        page(&app, &alex.client, QUEUE)
            .await
            .contains("can no longer be undone")
    );
}

#[tokio::test]
async fn undo_needs_a_form_token_and_someone_who_may_decide() {
    let app = TestApp::spawn().await;
    let (_, [kim, ..]) = queue_of_three(&app).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{kim}/approve"),
        &[("back", QUEUE)],
    )
    .await;
    let undo = undo_path(&app, &moderator.client).await;

    let without_token = moderator
        .client
        .post(format!("{}{undo}", app.address))
        .form(&[("back", QUEUE)])
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);

    let unverified = app.staff("Cai", Role::Midwife, false).await;
    let refused = app.post_as(&unverified.client, &undo, &[("back", QUEUE)]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let reader = app.post_form(&undo, &[("back", QUEUE)]).await;
    assert!(location(&reader).starts_with("/login"));

    assert_eq!(app.status_of(kim).await, "published");
    assert_eq!(app.audit_count("comment.undone").await, 0);
}

#[tokio::test]
async fn several_comments_are_approved_at_once_each_audited_and_the_skipped_counted() {
    let app = TestApp::spawn().await;
    let (article, [kim, lee, sam]) = queue_of_three(&app).await;
    let jo = app
        .add_comment(article, None, "Jo", "Already published", Published)
        .await;
    let gone = app
        .add_comment(article, None, "Ash", "Already hidden", Hidden)
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    // Plain checkboxes tied to one form: no JavaScript needed.
    let queue = page(&app, &moderator.client, QUEUE).await;
    assert!(queue.contains(r#"<form method="post" action="/moderation/decisions" id="several""#));
    assert!(queue.contains(&format!(r#"name="id" value="{kim}" form="several""#)));
    assert!(queue.contains(">Approve selected</button>") && queue.contains(">Hide selected</button>"));

    let ids = [kim, lee, sam, jo, gone].map(|id| id.to_string());
    let mut fields = vec![("decision", "approve"), ("back", QUEUE)];
    fields.extend(ids.iter().map(|id| ("id", id.as_str())));
    let response = app
        .post_as(&moderator.client, "/moderation/decisions", &fields)
        .await;

    assert_eq!(location(&response), format!("{QUEUE}#decided"));
    for id in [kim, lee, sam] {
        assert_eq!(app.status_of(id).await, "published");
    }
    assert_eq!(
        app.status_of(gone).await,
        "hidden",
        "what a single approve refuses is skipped"
    );
    assert_eq!(app.audit_count("comment.approved").await, 3, "one entry each");
    let html = page(&app, &moderator.client, QUEUE).await;
    assert!(
        html.contains("Approved 3 comments. Skipped 2: 1 already hidden, 1 already published."),
        "{html}"
    );
    assert!(html.contains("Nothing is waiting. Thank you."));
    let thread = app.get_html("/articles/after-a-miscarriage").await;
    assert!(thread.contains("first weeks") && thread.contains("going back to work"));
}

#[tokio::test]
async fn several_comments_are_hidden_at_once() {
    let app = TestApp::spawn().await;
    let (_, [kim, lee, sam]) = queue_of_three(&app).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let (kim_id, lee_id) = (kim.to_string(), lee.to_string());

    app.post_as(
        &moderator.client,
        "/moderation/decisions",
        &[
            ("decision", "hide"),
            ("back", QUEUE),
            ("id", &kim_id),
            ("id", &lee_id),
        ],
    )
    .await;

    assert_eq!(app.status_of(kim).await, "hidden");
    assert_eq!(app.status_of(lee).await, "hidden");
    assert_eq!(app.status_of(sam).await, "pending");
    assert_eq!(app.audit_count("comment.hidden").await, 2);
    assert!(
        page(&app, &moderator.client, QUEUE)
            .await
            .contains("Hid 2 comments.")
    );
}

#[tokio::test]
async fn several_at_once_needs_a_form_token_and_someone_who_may_decide() {
    let app = TestApp::spawn().await;
    let (_, [kim, ..]) = queue_of_three(&app).await;
    let id = kim.to_string();
    let fields = [("decision", "approve"), ("id", id.as_str())];
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let without_token = moderator
        .client
        .post(format!("{}/moderation/decisions", app.address))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);

    let unverified = app.staff("Cai", Role::Midwife, false).await;
    let refused = app
        .post_as(&unverified.client, "/moderation/decisions", &fields)
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let queue = page(&app, &unverified.client, QUEUE).await;
    assert!(
        !queue.contains("Approve selected"),
        "no buttons for who may not use them"
    );

    assert_eq!(app.status_of(kim).await, "pending");
    assert_eq!(app.audit_count("comment.approved").await, 0);
}

const NOTE: &str = "Our safeguarding lead emailed her at 14:10 and she is with her GP now.";

#[tokio::test]
async fn an_urgent_comment_handled_privately_leaves_the_queue_and_is_kept_with_its_note() {
    let app = TestApp::spawn().await;
    let (_, [kim, lee, _]) = queue_of_three(&app).await;
    make_urgent(&app, kim).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let queue = page(&app, &moderator.client, QUEUE).await;
    assert!(queue.contains(&format!("/moderation/comments/{kim}/handled-privately")));
    assert!(
        !queue.contains(&format!("/moderation/comments/{lee}/handled-privately")),
        "only urgent comments"
    );

    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{kim}/handled-privately"),
            &[("back", QUEUE), ("note", NOTE)],
        )
        .await;

    assert_eq!(location(&response), format!("{QUEUE}#decided"));
    assert_eq!(app.status_of(kim).await, "hidden", "never published");
    let queue = page(&app, &moderator.client, QUEUE).await;
    let undo = path_on_page(&queue, "/moderation/decisions/").expect("an Undo button");
    assert!(
        queue.contains("Marked as handled privately: Kim\u{2019}s comment on <em>After a miscarriage</em>.")
    );
    assert!(!queue.contains("first weeks"), "it has left the waiting queue");
    assert!(queue.contains("Handled privately <span class=\"count\">(1)</span>"));

    // Kept under its own tab, with the note, for staff.
    let kept = page(&app, &moderator.client, "/moderation?status=private").await;
    assert!(kept.contains("first weeks"));
    assert!(kept.contains(&escaped(NOTE)));
    assert!(kept.contains("Handled privately</strong> (Alex,"));

    // The note is for staff alone: not on readers' pages, not in the audit log, not in mail.
    let thread = app.get_html("/articles/after-a-miscarriage").await;
    assert!(!thread.contains("first weeks") && !thread.contains("safeguarding lead"));
    assert_eq!(app.audit_count("comment.handled_privately").await, 1);
    let in_log: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE reason LIKE '%safeguarding%'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let in_mail: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE body_text LIKE '%safeguarding%' OR body_html LIKE '%safeguarding%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((in_log, in_mail), (0, 0));

    // It can be undone like any decision: waiting again, the note gone with it.
    app.post_as(&moderator.client, &undo, &[("back", QUEUE)]).await;
    assert_eq!(app.status_of(kim).await, "pending");
    let note: Option<String> = sqlx::query_scalar("SELECT private_note FROM comments WHERE id = $1")
        .bind(kim)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(note, None);
}

#[tokio::test]
async fn an_urgent_comment_passed_to_a_midwife_awaits_her_without_being_published() {
    let app = TestApp::spawn().await;
    let (_, [kim, ..]) = queue_of_three(&app).await;
    make_urgent(&app, kim).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{kim}/pass-to-midwife"),
            &[("back", QUEUE)],
        )
        .await;

    assert_eq!(location(&response), format!("{QUEUE}#decided"));
    assert_eq!(app.status_of(kim).await, "pending", "not published");
    assert_eq!(app.audit_count("comment.passed_to_midwife").await, 1);
    let queue = page(&app, &moderator.client, QUEUE).await;
    assert!(queue.contains("Passed Kim\u{2019}s comment on <em>After a miscarriage</em> to a midwife."));
    assert!(queue.contains("Passed to a midwife</strong> (Alex,"));

    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    let awaiting = page(&app, &midwife.client, "/moderation/awaiting").await;
    assert!(awaiting.contains("first weeks"));
    assert!(awaiting.contains("Not published"));
    assert!(awaiting.contains("Awaiting a midwife <span class=\"count\">(1)</span>"));
    assert!(
        !app.get_html("/articles/after-a-miscarriage")
            .await
            .contains("first weeks")
    );

    // Passing it again changes nothing.
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{kim}/pass-to-midwife"),
        &[("back", QUEUE)],
    )
    .await;
    assert_eq!(app.audit_count("comment.passed_to_midwife").await, 1);
}

#[tokio::test]
async fn only_staff_who_may_decide_handle_urgent_comments_and_only_with_a_form_token() {
    let app = TestApp::spawn().await;
    let (_, [kim, ..]) = queue_of_three(&app).await;
    make_urgent(&app, kim).await;
    let unverified = app.staff("Cai", Role::Midwife, false).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    for action in ["handled-privately", "pass-to-midwife"] {
        let path = format!("/moderation/comments/{kim}/{action}");
        let refused = app.post_as(&unverified.client, &path, &[("note", NOTE)]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{action}");
        let without_token = moderator
            .client
            .post(format!("{}{path}", app.address))
            .form(&[("note", NOTE)])
            .send()
            .await
            .unwrap();
        assert_eq!(without_token.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(app.status_of(kim).await, "pending");
    let passed: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT passed_to_midwife_at FROM comments WHERE id = $1")
            .bind(kim)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(passed, None);
}
