//! "Awaiting a midwife": published questions without a staff reply, until one is published or a
//! moderator marks the question as needing none.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{Pending, Published},
};
use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::{TestApp, position};

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get_as(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn unanswered_questions_are_listed_urgent_first_then_oldest_with_their_ages() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let now = Utc::now();
    let at = |hours: i64| now - Duration::hours(hours);
    let oldest = app
        .add_comment_at(article, None, "Robin", "The oldest question", Published, at(50))
        .await;
    let newer = app
        .add_comment_at(article, None, "Sam", "A newer question", Published, at(2))
        .await;
    let urgent = app
        .add_comment_at(article, None, "Kit", "An urgent question", Published, at(1))
        .await;
    sqlx::query("UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}' WHERE id = $1")
        .bind(urgent)
        .execute(&app.db)
        .await
        .unwrap();
    app.add_comment_at(
        article,
        None,
        "Lee",
        "Still waiting for moderation",
        Pending,
        at(3),
    )
    .await;
    app.add_comment_at(article, Some(newer), "Ash", "A reader's answer", Published, at(1))
        .await;
    let answered = app
        .add_comment_at(article, None, "Jo", "An answered question", Published, at(10))
        .await;
    let staff_reply = app
        .add_comment_at(
            article,
            Some(answered),
            "Midwife",
            "A staff answer",
            Published,
            at(9),
        )
        .await;
    let moderator = app.staff("Morgan", Role::Moderator, false).await;
    sqlx::query(
        "UPDATE comments SET author_kind = 'staff', author_user_id = $2, body_html = '<p>A staff answer</p>',
                disclaimer = 'General information.' WHERE id = $1",
    )
    .bind(staff_reply)
    .bind(moderator.id)
    .execute(&app.db)
    .await
    .unwrap();

    let response = app.get_as(&moderator.client, "/moderation/awaiting").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(position(&html, "An urgent question") < position(&html, "The oldest question"));
    assert!(position(&html, "The oldest question") < position(&html, "A newer question"));
    for absent in [
        "Still waiting for moderation",
        "A reader&#39;s answer",
        "A reader's answer",
        "An answered question",
    ] {
        assert!(!html.contains(absent), "{absent} is listed");
    }
    assert!(html.contains("2 days ago") && html.contains("2 hours ago"));
    assert_eq!(
        html.matches("Over 48 hours</span>").count(),
        1,
        "only the oldest is past the target"
    );
    assert!(position(&html, "Over 48 hours</span>") < position(&html, "A newer question"));
    assert!(html.contains(&format!("/moderation/comments/{oldest}/no-reply-needed")));

    let queue = page(&app, &moderator.client, "/moderation").await;
    assert!(
        queue.contains(r#"href="/moderation/awaiting">Awaiting a midwife <span class="count">(3)</span>"#)
    );
}

#[tokio::test]
async fn a_midwifes_reply_or_no_reply_needed_takes_a_question_off_the_list() {
    let app = TestApp::spawn_with(|c| c.answer_target = Duration::hours(1)).await;
    let article = app.add_article("a", "A").await;
    let first = app
        .add_comment_at(
            article,
            None,
            "Robin",
            "First question",
            Published,
            Utc::now() - Duration::hours(3),
        )
        .await;
    let second = app
        .add_comment_at(article, None, "Sam", "Second question", Published, Utc::now())
        .await;
    let moderator = app.staff("Morgan", Role::Moderator, false).await;
    let midwife = app.staff("Mia", Role::Midwife, true).await;

    let html = page(&app, &moderator.client, "/moderation/awaiting").await;
    assert_eq!(
        html.matches("Over 1 hour</span>").count(),
        1,
        "the target is configurable"
    );

    let replied = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{first}/reply"),
            &[("body", "An answer.")],
        )
        .await;
    assert_eq!(replied.status(), StatusCode::SEE_OTHER);
    let html = page(&app, &moderator.client, "/moderation/awaiting").await;
    assert!(!html.contains("First question") && html.contains("Second question"));

    let marked = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{second}/no-reply-needed"),
            &[("back", "/moderation/awaiting")],
        )
        .await;
    assert_eq!(marked.status(), StatusCode::SEE_OTHER);
    assert_eq!(crate::helpers::location(&marked), "/moderation/awaiting");
    let html = page(&app, &moderator.client, "/moderation/awaiting").await;
    assert!(html.contains("Marked as needing no reply"));
    assert!(html.contains("Every published question has an answer"));
    assert_eq!(app.audit_count("comment.no_reply_needed").await, 1);
    let by: Option<i64> = sqlx::query_scalar("SELECT no_reply_needed_by FROM comments WHERE id = $1")
        .bind(second)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(by, Some(moderator.id));

    let again = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{second}/no-reply-needed"),
            &[("back", "/moderation/awaiting")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.audit_count("comment.no_reply_needed").await,
        1,
        "recorded once"
    );
}
