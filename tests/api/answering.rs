//! Answering in a row: the question above the reply box, "Publish and open the next question" in
//! the order of the list the midwife came from, a preview that publishes nothing, and correcting a
//! published reply.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{Pending, Published},
};
use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::{TestApp, escaped, location, position};

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get_as(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap()
}

async fn staff_reply_ids(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM comments WHERE author_kind = 'staff' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_reply_page_shows_the_question_and_the_comment_it_answers_above_the_reply_box() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let first = app
        .add_comment(a, None, "Sam", "We lost our baby at twenty weeks.", Published)
        .await;
    let question = app
        .add_comment(
            a,
            Some(first),
            "Kim",
            "I am so sorry, Sam. Did the bleeding stop for you?",
            Pending,
        )
        .await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;

    let html = page(&app, &midwife.client, &format!("/moderation/comments/{question}")).await;
    let box_at = position(&html, r#"<textarea id="body" name="body""#);
    assert!(position(&html, "We lost our baby at twenty weeks.") < box_at);
    assert!(position(&html, &escaped("Did the bleeding stop for you?")) < box_at);
    // The guest's words can still be edited, folded away until wanted.
    let edit_at = position(&html, r#"<details id="edit" class="edit-guest">"#);
    assert!(box_at < edit_at, "the edit box comes after the reply box, closed");
    assert!(html[edit_at..].contains(r#"<textarea id="edit-body" name="body""#));
    assert!(html.contains("Publish and open the next question"));
    assert!(html.contains(r#"<a href="/moderation">Back to the queue</a>"#));
}

async fn answer_and_next(app: &TestApp, client: &reqwest::Client, id: i64, from: &str) -> reqwest::Response {
    app.post_as(
        client,
        &format!("/moderation/comments/{id}/reply"),
        &[
            ("body", "Thank you for asking."),
            ("intent", "next"),
            ("from", from),
            ("article", ""),
        ],
    )
    .await
}

#[tokio::test]
async fn publish_and_next_follows_the_awaiting_order_and_says_when_none_are_left() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let now = Utc::now();
    let at = |hours: i64| now - Duration::hours(hours);
    let newer = app
        .add_comment_at(a, None, "Sam", "A newer question", Published, at(2))
        .await;
    let oldest = app
        .add_comment_at(a, None, "Robin", "The oldest question", Published, at(50))
        .await;
    let urgent = app
        .add_comment_at(a, None, "Kit", "An urgent question", Published, at(1))
        .await;
    sqlx::query("UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}' WHERE id = $1")
        .bind(urgent)
        .execute(&app.db)
        .await
        .unwrap();
    // Waiting for moderation: not in "Awaiting a midwife", so never offered next from there.
    app.add_comment_at(a, None, "Lee", "Still waiting", Pending, at(60))
        .await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;

    let list = page(&app, &midwife.client, "/moderation/awaiting").await;
    assert!(list.contains(&format!("/moderation/comments/{urgent}?from=awaiting#reply")));
    let first = page(
        &app,
        &midwife.client,
        &format!("/moderation/comments/{urgent}?from=awaiting"),
    )
    .await;
    assert!(first.contains(r#"name="from" value="awaiting""#));

    let response = answer_and_next(&app, &midwife.client, urgent, "awaiting").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        format!("/moderation/comments/{oldest}?from=awaiting")
    );
    let next = page(&app, &midwife.client, &location(&response)).await;
    assert!(next.contains("Your reply is published. Here is the next question."));
    assert!(next.contains("The oldest question"));

    let response = answer_and_next(&app, &midwife.client, oldest, "awaiting").await;
    assert_eq!(
        location(&response),
        format!("/moderation/comments/{newer}?from=awaiting")
    );
    let response = answer_and_next(&app, &midwife.client, newer, "awaiting").await;
    assert_eq!(location(&response), "/moderation/no-more-questions?from=awaiting");
    let done = page(&app, &midwife.client, &location(&response)).await;
    assert!(done.contains("No more questions waiting"));
    assert!(done.contains(r#"href="/moderation/awaiting""#));
    assert_eq!(staff_reply_ids(&app).await.len(), 3);
}

#[tokio::test]
async fn publish_and_next_from_the_waiting_queue_keeps_to_that_queue() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let now = Utc::now();
    let first = app
        .add_comment_at(a, None, "Kim", "First waiting", Pending, now - Duration::hours(3))
        .await;
    let second = app
        .add_comment_at(a, None, "Jo", "Second waiting", Pending, now - Duration::hours(2))
        .await;
    // A published question awaiting a midwife belongs to the other list.
    app.add_comment_at(
        a,
        None,
        "Sam",
        "Published question",
        Published,
        now - Duration::hours(9),
    )
    .await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;

    // Opened from the waiting queue, the page keeps to it.
    let html = page(&app, &midwife.client, &format!("/moderation/comments/{first}")).await;
    assert!(html.contains(r#"name="from" value="pending""#));

    let response = answer_and_next(&app, &midwife.client, first, "pending").await;
    assert_eq!(
        location(&response),
        format!("/moderation/comments/{second}?from=pending")
    );
    assert_eq!(app.status_of(first).await, "published");
    let response = answer_and_next(&app, &midwife.client, second, "pending").await;
    assert_eq!(location(&response), "/moderation/no-more-questions?from=pending");
    let done = page(&app, &midwife.client, &location(&response)).await;
    assert!(done.contains("No more questions waiting"));
    assert!(done.contains(r#"href="/moderation?status=pending""#));
}

#[tokio::test]
async fn a_preview_shows_the_reply_with_badge_and_disclaimer_keeps_the_text_and_publishes_nothing() {
    let app = TestApp::spawn_with(|c| c.staff_label = "Midwife @Example Trust".into()).await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "How long?", Published).await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let before = app.comment_count().await;

    let body = "Usually **two weeks**.\n\n<script>alert(1)</script> [bad](javascript:alert(1))";
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{id}/reply"),
            &[("body", body), ("intent", "preview"), ("from", "awaiting")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let preview = &html
        [position(&html, r#"class="reply-preview""#)..position(&html, r#"class="comment-form reply-form""#)];
    assert!(preview.contains("<strong>two weeks</strong>"));
    assert!(preview.contains(r#"By <span class="author">Midwife @Example Trust</span>"#));
    assert!(preview.contains("Verified midwife</span>"));
    assert!(preview.contains("is not a diagnosis"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(!preview.contains("javascript:"));
    assert!(
        html.contains(&format!("{}</textarea>", escaped(body))),
        "the text stays in the box as typed"
    );
    assert_eq!(app.comment_count().await, before, "nothing is published");
    assert_eq!(app.status_of(id).await, "published");
    assert_eq!(app.audit_count("comment.replied").await, 0);
}

#[tokio::test]
async fn a_stale_form_publishes_nothing_and_keeps_the_reply() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "question", Pending).await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let response = midwife
        .client
        .post(format!("{}/moderation/comments/{id}/reply", app.address))
        .form(&[
            ("authenticity_token", "stale"),
            ("body", "my careful answer"),
            ("intent", "next"),
            ("from", "pending"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("my careful answer</textarea>")
    );
    assert!(staff_reply_ids(&app).await.is_empty());
    assert_eq!(app.status_of(id).await, "pending");
}

async fn publish_reply(app: &TestApp, client: &reqwest::Client, id: i64, body: &str) -> i64 {
    let response = app
        .post_as(
            client,
            &format!("/moderation/comments/{id}/reply"),
            &[("body", body)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    *staff_reply_ids(app).await.last().expect("a staff reply")
}

#[tokio::test]
async fn the_author_corrects_a_reply_readers_see_it_edited_at_once_and_the_audit_keeps_both_texts() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "How long?", Published).await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let reply = publish_reply(&app, &midwife.client, id, "Usually three weeks.").await;
    // Readers' page is read once, so the thread is cached before the correction.
    let thread = app.get_html("/articles/a").await;
    assert!(thread.contains("Usually three weeks.") && !thread.contains("(edited)"));

    let question_page = page(&app, &midwife.client, &format!("/moderation/comments/{id}")).await;
    assert!(question_page.contains(&format!("/moderation/comments/{reply}#correct")));
    let reply_page = page(&app, &midwife.client, &format!("/moderation/comments/{reply}")).await;
    assert!(reply_page.contains("Correct this reply"));
    assert!(reply_page.contains("Usually three weeks.</textarea>"));

    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{reply}/correct"),
            &[("body", "Usually **two weeks**, sorry.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let thread = app.get_html("/articles/a").await;
    assert!(thread.contains("<strong>two weeks</strong>, sorry."));
    assert!(!thread.contains("Usually three weeks."));
    let byline = &thread[position(&thread, &format!("id=\"byline-{reply}\""))..];
    let byline = &byline[..position(byline, "</p>")];
    assert!(byline.contains("(edited)"), "{byline}");
    assert!(thread.contains("is not a diagnosis"), "the disclaimer stays");

    let (before, after): (String, String) = sqlx::query_as(
        "SELECT text_before, text_after FROM audit_log
          WHERE action = 'comment.reply_corrected' AND target_type = 'comment' AND target_id = $1",
    )
    .bind(reply)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(before, "Usually three weeks.");
    assert_eq!(after, "Usually **two weeks**, sorry.");
    let admin = app.staff("Ada", Role::Admin, true).await;
    let audit = page(&app, &admin.client, "/admin/audit").await;
    assert!(audit.contains("corrected a published reply"));
    assert!(audit.contains("Usually three weeks.") && audit.contains("Usually **two weeks**, sorry."));
}

#[tokio::test]
async fn only_the_author_or_an_admin_may_correct_a_reply() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "How long?", Published).await;
    let author = app.staff("Bea", Role::Midwife, true).await;
    let reply = publish_reply(&app, &author.client, id, "The first text.").await;
    let path = format!("/moderation/comments/{reply}/correct");

    let other = app.staff("Cal", Role::Midwife, true).await;
    let moderator = app.staff("Mo", Role::Moderator, true).await;
    for someone in [&other, &moderator] {
        let html = page(&app, &someone.client, &format!("/moderation/comments/{reply}")).await;
        assert!(!html.contains("Correct this reply"));
        let response = app
            .post_as(&someone.client, &path, &[("body", "Someone else's words.")])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // A guest's comment is not corrected this way either.
    let response = app
        .post_as(
            &author.client,
            &format!("/moderation/comments/{id}/correct"),
            &[("body", "Changed.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count("comment.reply_corrected").await, 0);
    assert!(app.get_html("/articles/a").await.contains("The first text."));

    let admin = app.staff("Ada", Role::Admin, false).await;
    let response = app
        .post_as(&admin.client, &path, &[("body", "A correction by an admin.")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        app.get_html("/articles/a")
            .await
            .contains("A correction by an admin.")
    );
}

#[tokio::test]
async fn a_correction_is_sanitised_and_a_stale_or_empty_one_keeps_its_text() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app.add_comment(a, None, "Kim", "How long?", Published).await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let reply = publish_reply(&app, &midwife.client, id, "The first text.").await;
    let path = format!("/moderation/comments/{reply}/correct");

    let stale = midwife
        .client
        .post(format!("{}{path}", app.address))
        .form(&[("authenticity_token", "stale"), ("body", "my careful correction")])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert!(
        stale
            .text()
            .await
            .unwrap()
            .contains("my careful correction</textarea>")
    );
    let empty = app.post_as(&midwife.client, &path, &[("body", "  ")]).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count("comment.reply_corrected").await, 0);

    let response = app
        .post_as(
            &midwife.client,
            &path,
            &[(
                "body",
                "<script>alert(1)</script> [x](javascript:alert(1)) <b onclick=\"y\">z</b>",
            )],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let thread = app.get_html("/articles/a").await;
    assert!(!thread.contains("<script>alert(1)"));
    assert!(!thread.contains("javascript:"));
    assert!(!thread.contains("onclick"));
}

#[tokio::test]
async fn publish_and_next_keeps_to_the_article_filter_and_comes_round_to_questions_skipped_earlier() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let b = app.add_article("b", "B").await;
    let now = Utc::now();
    let at = |hours: i64| now - Duration::hours(hours);
    let skipped = app
        .add_comment_at(a, None, "Kim", "Skipped at first", Published, at(30))
        .await;
    let middle = app
        .add_comment_at(a, None, "Jo", "Opened first", Published, at(20))
        .await;
    app.add_comment_at(b, None, "Sam", "On another article", Published, at(10))
        .await;
    let last = app
        .add_comment_at(a, None, "Lee", "The newest", Published, at(5))
        .await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;

    let list = page(&app, &midwife.client, "/moderation/awaiting?article=a").await;
    assert!(list.contains(&format!(
        "/moderation/comments/{middle}?from=awaiting&#38;article=a#reply"
    )));
    let html = page(
        &app,
        &midwife.client,
        &format!("/moderation/comments/{middle}?from=awaiting&article=a"),
    )
    .await;
    assert!(html.contains(r#"name="article" value="a""#));
    assert!(html.contains(r#"href="/moderation/awaiting?article=a""#));

    let next = async |id: i64| {
        app.post_as(
            &midwife.client,
            &format!("/moderation/comments/{id}/reply"),
            &[
                ("body", "Thank you for asking."),
                ("intent", "next"),
                ("from", "awaiting"),
                ("article", "a"),
            ],
        )
        .await
    };
    let response = next(middle).await;
    assert_eq!(
        location(&response),
        format!("/moderation/comments/{last}?from=awaiting&article=a")
    );
    let response = next(last).await;
    assert_eq!(
        location(&response),
        format!("/moderation/comments/{skipped}?from=awaiting&article=a"),
        "past the end, the list starts again from the top"
    );
    let response = next(skipped).await;
    assert_eq!(
        location(&response),
        "/moderation/no-more-questions?from=awaiting&article=a"
    );
    let done = page(&app, &midwife.client, &location(&response)).await;
    assert!(done.contains(r#"href="/moderation/awaiting?article=a""#));
}
