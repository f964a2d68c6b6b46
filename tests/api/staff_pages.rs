//! Staff signed in who open an article's page: they reply from the dashboard, not as a guest, and
//! what they see is neither cached for them nor shown to readers.

use carethread::{accounts::Role, comments::CommentStatus::Published};
use reqwest::{StatusCode, header};

use crate::helpers::TestApp;

const NOTICE: &str = "You are signed in as a midwife: reply from the dashboard.";

fn cache_control(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn staff_signed_in_are_sent_to_the_dashboard_to_reply_instead_of_the_guest_form() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "After a miscarriage").await;
    let id = app
        .add_comment(article, None, "Kim", "How long does it take?", Published)
        .await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;

    let response = app.get_as(&midwife.client, "/articles/a").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_control(&response), "private, no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("How long does it take?"));
    assert!(html.contains(NOTICE), "{html}");
    assert!(html.contains(&format!(r#"href="/moderation/comments/{id}#reply""#)));
    assert!(!html.contains("reply_to="), "no Reply link to the guest form");
    assert!(!html.contains(r#"name="body""#) && !html.contains("Post comment"));

    // Following an old guest reply link goes to that comment's reply page.
    let html = app
        .get_as(&midwife.client, &format!("/articles/a?reply_to={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(
        r#"<a href="/moderation/comments/{id}#reply">Reply to this comment on the dashboard</a>"#
    )));
}

#[tokio::test]
async fn every_role_is_named_and_a_signed_out_member_of_staff_is_a_reader_again() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    for (name, role, said) in [
        ("Alex", Role::Moderator, "a moderator"),
        ("Ada", Role::Admin, "an admin"),
        ("Cai", Role::Midwife, "a midwife"),
    ] {
        let staff = app.staff(name, role, role != Role::Midwife).await;
        let html = app
            .get_as(&staff.client, "/articles/a")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("You are signed in as {said}: reply from the dashboard.")));
    }

    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    app.post_as(&midwife.client, "/logout", &[]).await;
    let response = app.get_as(&midwife.client, "/articles/a").await;
    assert_ne!(cache_control(&response), "private, no-store");
    let html = response.text().await.unwrap();
    assert!(!html.contains(NOTICE));
    assert!(html.contains("Post comment"));
}

#[tokio::test]
async fn guests_keep_the_form_and_the_shared_cache_never_holds_a_staff_page() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let id = app
        .add_comment(article, None, "Kim", "A question", Published)
        .await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;

    // A guest first fills the cache; then a midwife; then guests again.
    let first = app.get("/articles/a").await;
    assert_ne!(cache_control(&first), "private, no-store");
    let first = first.text().await.unwrap();
    let staff = app
        .get_as(&midwife.client, "/articles/a")
        .await
        .text()
        .await
        .unwrap();
    let again = app.get_html("/articles/a").await;

    assert!(
        staff.contains(NOTICE) && !staff.contains("reply_to="),
        "not served from the cache"
    );
    for guest in [&first, &again] {
        assert!(!guest.contains(NOTICE), "the cache never holds a staff page");
        assert!(guest.contains(&format!("?reply_to={id}#comment-form")));
        assert!(!guest.contains("/moderation/comments/"));
        assert!(guest.contains("Post comment"));
    }

    // A staff page first: the cache still gets the readers' page.
    let other = app.add_article("b", "B").await;
    app.add_comment(other, None, "Lee", "Another question", Published)
        .await;
    let staff = app
        .get_as(&midwife.client, "/articles/b")
        .await
        .text()
        .await
        .unwrap();
    assert!(staff.contains(NOTICE));
    let guest = app.get_html("/articles/b").await;
    assert!(!guest.contains(NOTICE) && guest.contains("Post comment") && guest.contains("?reply_to="));
}
