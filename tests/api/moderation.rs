//! The moderation dashboard: the queue, decisions, staff replies, and two staff at once.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{Hidden, Pending, Published},
};
use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::{TestApp, escaped, location, position};

#[tokio::test]
async fn the_queue_shows_waiting_comments_oldest_first_with_what_staff_need() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "After a miscarriage").await;
    let b = app.add_article("b", "Feeding your baby").await;
    let parent = app
        .add_comment(a, None, "Robin", "The question being answered", Published)
        .await;
    app.add_comment_at(
        a,
        None,
        "Newer",
        "newer waiting",
        Pending,
        Utc::now() - Duration::minutes(5),
    )
    .await;
    app.add_comment_at(
        a,
        None,
        "Older",
        "older waiting",
        Pending,
        Utc::now() - Duration::hours(3),
    )
    .await;
    app.add_comment_at(
        b,
        Some(parent),
        "Replier",
        "a waiting reply",
        Pending,
        Utc::now() - Duration::hours(1),
    )
    .await;
    sqlx::query("UPDATE comments SET author_email = 'older@example.org' WHERE author_name = 'Older'")
        .execute(&app.db)
        .await
        .unwrap();
    app.add_comment(a, None, "Gone", "hidden one", Hidden).await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let html = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();

    assert!(position(&html, "older waiting") < position(&html, "a waiting reply"));
    assert!(position(&html, "a waiting reply") < position(&html, "newer waiting"));
    assert!(html.contains("older@example.org"), "staff see the email");
    assert!(html.contains("3 hours ago"));
    assert!(html.contains("After a miscarriage"));
    assert!(html.contains("In reply to Robin:</strong> The question being answered"));
    assert!(html.contains("Waiting <span class=\"count\">(3)</span>"));
    assert!(html.contains("Published <span class=\"count\">(1)</span>"));
    assert!(html.contains("Hidden <span class=\"count\">(1)</span>"));
    assert!(!html.contains("hidden one"));

    let filtered = app
        .get_as(&moderator.client, "/moderation?article=b")
        .await
        .text()
        .await
        .unwrap();
    assert!(filtered.contains("a waiting reply"));
    assert!(!filtered.contains("older waiting"));
    assert!(filtered.contains("Waiting <span class=\"count\">(1)</span>"));

    let hidden = app
        .get_as(&moderator.client, "/moderation?status=hidden")
        .await
        .text()
        .await
        .unwrap();
    assert!(hidden.contains("hidden one"));
}

#[tokio::test]
async fn approving_publishes_the_comment_and_records_who_did_it() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Sam", "please publish me", Pending)
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/approve"),
            &[("back", "/moderation?status=pending")],
        )
        .await;

    // Back to the same tab, at the confirmation where the comment was.
    assert_eq!(location(&response), "/moderation?status=pending#decided");
    assert_eq!(app.status_of(id).await, "published");
    assert!(app.get_html("/articles/a").await.contains("please publish me"));
    assert!(app.get_html("/").await.contains("1 comment"));
    let page = app
        .get_as(&moderator.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Approved Sam\u{2019}s comment on <em>A</em>. It is now published."));
    let actor: i64 = sqlx::query_scalar("SELECT actor_id FROM audit_log WHERE action = 'comment.approved'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(actor, moderator.id);
}

#[tokio::test]
async fn a_second_moderator_is_told_what_the_first_did_and_nothing_happens_twice() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Sam", "once", Pending).await;
    let alex = app.staff("Alex", Role::Moderator, false).await;
    let jo = app.staff("Jo", Role::Moderator, false).await;
    let path = format!("/moderation/comments/{id}/approve");

    // Both press Approve at the same moment.
    let (first, second) = tokio::join!(
        app.post_as(&alex.client, &path, &[]),
        app.post_as(&jo.client, &path, &[])
    );
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("comment.approved").await, 1, "applied once");

    // Whoever came second is told.
    app.post_as(&jo.client, &path, &[]).await;
    let page = app.get_as(&jo.client, "/moderation").await.text().await.unwrap();
    assert!(
        page.contains("Nothing was changed: this comment is already published"),
        "{page}"
    );
    assert_eq!(app.audit_count("comment.approved").await, 1);
}

#[tokio::test]
async fn hiding_removes_the_comment_and_its_replies_for_readers_until_unhidden() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Sam", "a comment with a phone number", Published)
        .await;
    app.add_comment(a, Some(id), "Ali", "a reply to it", Published)
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    let queue = app
        .get_as(&moderator.client, "/moderation?status=published")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Its 1 published reply will be hidden with it."));

    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/hide"),
        &[("reason", "Shares a phone number")],
    )
    .await;

    assert_eq!(app.status_of(id).await, "hidden");
    let thread = app.get_html("/articles/a").await;
    assert!(!thread.contains("a comment with a phone number"));
    assert!(!thread.contains("a reply to it"), "the branch is hidden with it");
    assert!(
        !thread.contains("Shares a phone number"),
        "the reason is for staff only"
    );
    let hidden = app
        .get_as(&moderator.client, "/moderation?status=hidden")
        .await
        .text()
        .await
        .unwrap();
    assert!(hidden.contains("Shares a phone number"));
    let reason: Option<String> =
        sqlx::query_scalar("SELECT reason FROM audit_log WHERE action = 'comment.hidden'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("Shares a phone number"));

    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/unhide"),
        &[],
    )
    .await;
    let thread = app.get_html("/articles/a").await;
    assert!(thread.contains("a comment with a phone number") && thread.contains("a reply to it"));
}

#[tokio::test]
async fn a_verified_midwifes_reply_is_published_at_once_with_label_badge_and_disclaimer() {
    let app = TestApp::spawn_with(|c| {
        c.staff_label = "Midwife @Example Trust".into();
    })
    .await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Kim", "How long does the bleeding last?", Published)
        .await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;

    let body = "Usually **up to two weeks**.\n\n- call if it gets heavier\n- or if you feel unwell\n\n<script>alert(1)</script>\n\n[NHS](https://www.nhs.uk/)";
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{id}/reply"),
            &[("body", body)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let html = app.get_html("/articles/a").await;
    let reply = position(&html, "<strong>up to two weeks</strong>");
    assert!(
        position(&html, "How long does the bleeding last?") < reply,
        "threaded under the question"
    );
    assert!(html.contains("By <span class=\"author\">Midwife @Example Trust</span> on"));
    assert!(html.contains("Verified midwife</span>"));
    assert!(!html.contains("Morgan"), "staff names are not shown by default");
    assert!(html.contains("<li>call if it gets heavier</li>"));
    assert!(html.contains(r#"<a href="https://www.nhs.uk/" rel="nofollow noopener noreferrer">NHS</a>"#));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains(&escaped(
        "This reply gives general information and is not a diagnosis. Please call your GP or maternity unit if you have concerns about your health or your baby's health. In an emergency call 999."
    )));
    assert!(
        position(&html, "up to two weeks") < position(&html, "is not a diagnosis"),
        "the disclaimer follows the reply"
    );
}

#[tokio::test]
async fn a_reply_keeps_the_disclaimer_it_was_published_with() {
    let app = TestApp::spawn_with(|c| c.disclaimer = "The first disclaimer.".into()).await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "question", Published).await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    app.post_as(
        &midwife.client,
        &format!("/moderation/comments/{id}/reply"),
        &[("body", "An answer.")],
    )
    .await;

    let stored: String = sqlx::query_scalar("SELECT disclaimer FROM comments WHERE author_kind = 'staff'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "The first disclaimer.");

    // The same database served with a new disclaimer still shows the old one on the old reply.
    let secret = carethread::db::site_secret(&app.db).await.unwrap();
    let mut config = carethread::config::Config::for_tests();
    config.disclaimer = "A newer disclaimer.".into();
    let state = carethread::AppState::new(app.db.clone(), config, &secret).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(carethread::serve(listener, state, std::future::pending()));
    let html = reqwest::get(format!("http://{address}/articles/a"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("The first disclaimer."));
    assert!(!html.contains("A newer disclaimer."));
}

#[tokio::test]
async fn replying_to_a_waiting_comment_approves_it_in_the_same_step() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Charlie", "Is it safe to go back to the gym?", Pending)
        .await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;

    app.post_as(
        &midwife.client,
        &format!("/moderation/comments/{id}/reply"),
        &[("body", "Gentle exercise is fine.")],
    )
    .await;

    assert_eq!(app.status_of(id).await, "published");
    let html = app.get_html("/articles/a").await;
    assert!(
        position(&html, "Is it safe to go back to the gym?") < position(&html, "Gentle exercise is fine.")
    );
    assert_eq!(app.audit_count("comment.approved").await, 1);
    assert_eq!(app.audit_count("comment.replied").await, 1);
}

#[tokio::test]
async fn two_midwives_replying_at_once_both_have_their_replies_kept() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "question", Pending).await;
    let one = app.staff("Morgan", Role::Midwife, true).await;
    let two = app.staff("Riley", Role::Midwife, true).await;
    let path = format!("/moderation/comments/{id}/reply");

    let (a1, a2) = tokio::join!(
        app.post_as(&one.client, &path, &[("body", "First answer.")]),
        app.post_as(&two.client, &path, &[("body", "Second answer.")])
    );
    assert_eq!(a1.status(), StatusCode::SEE_OTHER);
    assert_eq!(a2.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/articles/a").await;
    assert!(html.contains("First answer.") && html.contains("Second answer."));
    assert_eq!(
        app.audit_count("comment.approved").await,
        1,
        "the question is approved once"
    );
}

#[tokio::test]
async fn a_reply_with_problems_is_shown_again_with_every_word() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "question", Published).await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    let path = format!("/moderation/comments/{id}/reply");

    let long = "word ".repeat(1001);
    let response = app.post_as(&midwife.client, &path, &[("body", &long)]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(&format!("{}</textarea>", long))
    );

    let empty = app.post_as(&midwife.client, &path, &[("body", "   ")]).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A stale form token keeps the text too.
    let stale = midwife
        .client
        .post(format!("{}{path}", app.address))
        .form(&[("authenticity_token", "stale"), ("body", "my careful answer")])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert!(
        stale
            .text()
            .await
            .unwrap()
            .contains("my careful answer</textarea>")
    );

    app.post_as(&midwife.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    let hidden = app
        .post_as(&midwife.client, &path, &[("body", "too late answer")])
        .await;
    assert_eq!(hidden.status(), StatusCode::CONFLICT);
    assert!(
        hidden
            .text()
            .await
            .unwrap()
            .contains("too late answer</textarea>")
    );
    assert_eq!(app.audit_count("comment.replied").await, 0);
}

#[tokio::test]
async fn an_unverified_midwife_sees_awaiting_verification_instead_of_the_reply_form() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "question", Published).await;
    let midwife = app.staff("Morgan", Role::Midwife, false).await;

    let html = app
        .get_as(&midwife.client, &format!("/moderation/comments/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("awaiting verification"));
    assert!(!html.contains(r#"name="body""#));
    let queue = app
        .get_as(&midwife.client, "/moderation?status=published")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !queue.contains("/approve") && !queue.contains("/hide\""),
        "no action buttons"
    );
}

#[tokio::test]
async fn guests_comments_stay_plain_text_even_if_they_look_like_markdown() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(
        a,
        None,
        "Sam",
        "**not bold** and [a link](https://example.org)",
        Published,
    )
    .await;
    let html = app.get_html("/articles/a").await;
    assert!(html.contains("**not bold**"));
    assert!(!html.contains("<strong>not bold"));
}
