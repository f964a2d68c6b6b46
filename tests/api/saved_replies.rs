//! Saved replies: kept by verified midwives and admins, refused to everyone else, inserted into the
//! reply box without losing what was typed, and always shown as text.

use carethread::{accounts::Role, comments::CommentStatus::Published};
use reqwest::StatusCode;

use crate::helpers::{StaffUser, TestApp, escaped, location};

const LIST: &str = "/moderation/saved-replies";
const HELPLINE: &str = "Our support line is **0800 000 0000**, Monday to Friday.";

async fn saved_ids(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM saved_replies ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

async fn add(app: &TestApp, who: &StaffUser, title: &str, body: &str) -> reqwest::Response {
    app.post_as(&who.client, LIST, &[("title", title), ("body", body)])
        .await
}

async fn html(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

#[tokio::test]
async fn verified_midwives_and_admins_add_edit_and_delete_saved_replies_with_audit_entries() {
    let app = TestApp::spawn().await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let admin = app.staff("Ada", Role::Admin, false).await;

    let home = html(app.get_as(&midwife.client, "/moderation").await).await;
    assert!(home.contains(r#"href="/moderation/saved-replies""#));

    let response = add(&app, &midwife, "Helpline", HELPLINE).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), LIST);
    let list = html(app.get_as(&midwife.client, LIST).await).await;
    assert!(list.contains("Helpline") && list.contains(&escaped(HELPLINE)));
    let id = saved_ids(&app).await[0];

    let path = format!("{LIST}/{id}");
    let edit_page = html(app.get_as(&admin.client, &path).await).await;
    assert!(edit_page.contains(&format!("{}</textarea>", escaped(HELPLINE))));
    let response = app
        .post_as(
            &admin.client,
            &path,
            &[("title", "Support line"), ("body", "Call 0800 000 0001.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let list = html(app.get_as(&midwife.client, LIST).await).await;
    assert!(list.contains("Support line") && list.contains("Call 0800 000 0001."));
    assert!(list.contains("Last changed by Ada"));

    let response = app.post_as(&midwife.client, &format!("{path}/delete"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(saved_ids(&app).await.is_empty());
    for action in ["saved_reply.added", "saved_reply.edited", "saved_reply.deleted"] {
        assert_eq!(app.audit_count(action).await, 1, "{action}");
    }
}

#[tokio::test]
async fn moderators_and_unverified_midwives_cannot_see_or_change_saved_replies() {
    let app = TestApp::spawn().await;
    let keeper = app.staff("Bea", Role::Midwife, true).await;
    add(&app, &keeper, "Helpline", HELPLINE).await;
    let id = saved_ids(&app).await[0];
    let moderator = app.staff("Mo", Role::Moderator, true).await;
    let unverified = app.staff("Una", Role::Midwife, false).await;

    for someone in [&moderator, &unverified] {
        let home = html(app.get_as(&someone.client, "/moderation").await).await;
        assert!(!home.contains(r#"href="/moderation/saved-replies""#));
        assert_eq!(
            app.get_as(&someone.client, LIST).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            add(&app, someone, "Mine", "My text").await.status(),
            StatusCode::FORBIDDEN
        );
        let path = format!("{LIST}/{id}");
        let edited = app
            .post_as(
                &someone.client,
                &path,
                &[("title", "Changed"), ("body", "Changed")],
            )
            .await;
        assert_eq!(edited.status(), StatusCode::FORBIDDEN);
        let deleted = app.post_as(&someone.client, &format!("{path}/delete"), &[]).await;
        assert_eq!(deleted.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(saved_ids(&app).await, vec![id]);
    let title: String = sqlx::query_scalar("SELECT title FROM saved_replies")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "Helpline");
}

#[tokio::test]
async fn forms_without_a_valid_token_change_nothing() {
    let app = TestApp::spawn().await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    add(&app, &midwife, "Helpline", HELPLINE).await;
    let id = saved_ids(&app).await[0];
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let client = midwife.client.clone();
        let url = format!("{}{path}", app.address);
        async move {
            let mut all = vec![("authenticity_token", "stale")];
            all.extend(fields);
            client.post(url).form(&all).send().await.unwrap().status()
        }
    };
    assert_eq!(
        post(LIST.into(), vec![("title", "New"), ("body", "New")]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            format!("{LIST}/{id}"),
            vec![("title", "Changed"), ("body", "Changed")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(format!("{LIST}/{id}/delete"), vec![]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(saved_ids(&app).await, vec![id]);
    assert_eq!(app.audit_count("saved_reply.added").await, 1);
    assert_eq!(app.audit_count("saved_reply.edited").await, 0);
}

#[tokio::test]
async fn a_saved_reply_that_needs_fixing_is_shown_again_with_what_was_typed() {
    let app = TestApp::spawn().await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let response = add(&app, &midwife, "  ", "Some words worth keeping").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(response).await;
    assert!(page.contains("Please give it a short title"));
    assert!(page.contains("Some words worth keeping</textarea>"));
    assert!(saved_ids(&app).await.is_empty());
}

#[tokio::test]
async fn inserting_a_saved_reply_adds_it_to_what_was_typed_and_publishes_nothing() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let question = app
        .add_comment(a, None, "Kim", "Who can I talk to?", Published)
        .await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    add(&app, &midwife, "Helpline", HELPLINE).await;
    let id = saved_ids(&app).await[0].to_string();
    let before = app.comment_count().await;

    let reply_page = html(
        app.get_as(&midwife.client, &format!("/moderation/comments/{question}"))
            .await,
    )
    .await;
    assert!(reply_page.contains(&format!(
        r#"<option value="{id}" data-text="{}">Helpline</option>"#,
        escaped(HELPLINE)
    )));
    assert!(reply_page.contains("/static/js/saved-replies.js?v="));

    let typed = "I am sorry you are going through this.";
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{question}/reply"),
            &[("body", typed), ("intent", "insert"), ("saved", &id)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = html(response).await;
    let expected = format!("{typed}\n\n{HELPLINE}");
    assert!(
        page.contains(&format!("{}</textarea>", escaped(&expected))),
        "the saved reply follows what was typed"
    );
    assert_eq!(app.comment_count().await, before, "nothing is published");

    // Nothing chosen: the text is kept and the midwife is told.
    let response = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{question}/reply"),
            &[("body", typed), ("intent", "insert"), ("saved", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(response)
            .await
            .contains(&format!("{}</textarea>", escaped(typed)))
    );
}

#[tokio::test]
async fn saved_replies_are_shown_as_text_and_published_only_through_the_sanitiser() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let question = app
        .add_comment(a, None, "Kim", "Who can I talk to?", Published)
        .await;
    let midwife = app.staff("Bea", Role::Midwife, true).await;
    let title = "<b>Bold</b> \"title\"";
    let body = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))";
    add(&app, &midwife, title, body).await;
    let id = saved_ids(&app).await[0].to_string();

    let list = html(app.get_as(&midwife.client, LIST).await).await;
    assert!(list.contains(&escaped(title)) && list.contains(&escaped(body)));
    assert!(!list.contains("<script>alert(1)") && !list.contains("<b>Bold"));
    let reply_page = html(
        app.get_as(&midwife.client, &format!("/moderation/comments/{question}"))
            .await,
    )
    .await;
    assert!(reply_page.contains(&format!(r#"data-text="{}""#, escaped(body))));
    assert!(!reply_page.contains("<script>alert(1)") && !reply_page.contains("<img"));

    let inserted = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{question}/reply"),
            &[("body", ""), ("intent", "insert"), ("saved", &id)],
        )
        .await;
    assert!(
        html(inserted)
            .await
            .contains(&format!("{}</textarea>", escaped(body)))
    );
    let published = app
        .post_as(
            &midwife.client,
            &format!("/moderation/comments/{question}/reply"),
            &[("body", body)],
        )
        .await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER);
    let thread = app.get_html("/articles/a").await;
    assert!(!thread.contains("<script>alert(1)"));
    assert!(!thread.contains("onerror") && !thread.contains("javascript:"));
}

#[tokio::test]
async fn the_saved_replies_script_is_served_from_our_own_address_for_a_year() {
    let app = TestApp::spawn().await;
    let response = app.get("/static/js/saved-replies.js").await;
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/javascript"));
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(response.text().await.unwrap().contains("setRangeText"));
}
