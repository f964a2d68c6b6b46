//! The journeys, clicked through in Chromium. Each runs twice: with JavaScript on, and in a
//! session with JavaScript switched off, since the site works without any.

use carethread::{accounts::Role, comments::CommentStatus};
use sqlx::Row;

use super::driver::{Browser, Driver, Js, Width, driver};
use crate::helpers::TestApp;

const SLUG: &str = "after-a-miscarriage";
const THANKS: &str =
    "Thank you. Your comment has been received and will appear once a moderator has approved it.";

async fn app_with_article() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    let article = app.add_article(SLUG, "After a miscarriage").await;
    (app, article)
}

/// Fills in the comment form on the page and posts it.
async fn write_comment(browser: &Browser, name: &str, email: &str, body: &str) {
    browser.fill("#name", name).await;
    browser.fill("#email", email).await;
    browser.fill("#body", body).await;
    let post = browser.button(None, "Post comment").await;
    browser.click_and_wait(&post).await;
}

/// Checks the thank-you message is shown and `body` is not (it waits for a moderator).
async fn assert_thanked_and_not_shown(browser: &Browser, body: &str, js: Js) {
    assert!(
        browser.path().await.contains("posted=1"),
        "[{js:?}] sent back to the thread"
    );
    let thanks = browser.text("#thanks").await;
    assert!(thanks.starts_with(THANKS), "[{js:?}] {thanks}");
    assert!(
        thanks.contains("Keep this link to see your comment and any replies"),
        "[{js:?}] the private status link is offered: {thanks}"
    );
    let page = browser.page_text().await;
    assert!(
        !page.contains(body),
        "[{js:?}] a pending comment is not shown to its writer either"
    );
}

async fn comment_id(app: &TestApp, body: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM comments WHERE body = $1")
        .bind(body)
        .fetch_one(&app.db)
        .await
        .expect("the comment is stored")
}

#[tokio::test]
async fn a_reader_asks_a_question_and_replies_to_another_comment() {
    let Some(driver) = driver().await else { return };
    for js in Js::BOTH {
        reader_asks_and_replies(driver, js).await;
    }
}

async fn reader_asks_and_replies(driver: &Driver, js: Js) {
    let (app, article) = app_with_article().await;
    let sam = app
        .add_comment(
            article,
            None,
            "Sam",
            "The first week was the hardest for me.",
            CommentStatus::Published,
        )
        .await;
    let reader = Browser::open(driver, &app, js, Width::Desktop).await;

    reader.goto(&format!("/articles/{SLUG}")).await;
    assert!(
        reader
            .page_text()
            .await
            .contains("The first week was the hardest for me.")
    );
    let question = "How long does the bleeding usually last?\nMine has gone on for two weeks.";
    write_comment(&reader, "Jess", "jess@example.org", question).await;
    assert_thanked_and_not_shown(&reader, "How long does the bleeding usually last?", js).await;

    // A reply to Sam, through the comment's own Reply link.
    let reply_link = reader.find(&format!("#comment-{sam} .actions a")).await;
    reader.click_and_wait(&reply_link).await;
    assert!(
        reader.path().await.contains(&format!("reply_to={sam}")),
        "[{js:?}]"
    );
    assert!(
        reader.text(".replying-to").await.contains("Replying to Sam"),
        "[{js:?}] the form says whom it answers"
    );
    let reply = "Same here, Sam. It did get easier after that.";
    write_comment(&reader, "Jess", "", reply).await;
    assert_thanked_and_not_shown(&reader, reply, js).await;

    let rows = sqlx::query(
        "SELECT body, parent_id, status::text AS status, author_email FROM comments
          WHERE author_name = 'Jess' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "[{js:?}] both comments are stored");
    assert_eq!(rows[0].get::<String, _>("body"), question);
    assert_eq!(rows[0].get::<Option<i64>, _>("parent_id"), None);
    assert_eq!(
        rows[0].get::<Option<String>, _>("author_email").as_deref(),
        Some("jess@example.org")
    );
    assert_eq!(rows[1].get::<String, _>("body"), reply);
    assert_eq!(rows[1].get::<Option<i64>, _>("parent_id"), Some(sam));
    for row in &rows {
        assert_eq!(row.get::<String, _>("status"), "pending", "[{js:?}]");
    }
    reader.close().await;
}

#[tokio::test]
async fn a_verified_midwife_answers_the_question_and_the_reader_sees_it_threaded() {
    let Some(driver) = driver().await else { return };
    for js in Js::BOTH {
        midwife_answers(driver, js).await;
    }
}

async fn midwife_answers(driver: &Driver, js: Js) {
    let (app, article) = app_with_article().await;
    app.create_staff("Bea", Role::Midwife, true).await;
    let reader = Browser::open(driver, &app, js, Width::Desktop).await;
    reader.goto(&format!("/articles/{SLUG}")).await;
    let question = "Is it safe to take ibuprofen for the cramps?";
    write_comment(&reader, "Jess", "", question).await;
    assert_thanked_and_not_shown(&reader, question, js).await;
    let question_id = comment_id(&app, question).await;
    // Another comment arrives later: the queue shows the oldest first.
    app.add_comment(
        article,
        None,
        "Charlie",
        "Thank you for this page.",
        CommentStatus::Pending,
    )
    .await;

    let midwife = Browser::open(driver, &app, js, Width::Desktop).await;
    midwife.sign_in("bea@example.org").await;
    midwife.goto("/moderation").await;
    let first = midwife.find(".queue-item").await;
    let first_text = first.text().await.unwrap();
    assert!(
        first_text.contains(question) && first_text.contains("Jess"),
        "[{js:?}] the question is first in the queue: {first_text}"
    );
    let reply_link = first
        .find(fantoccini::Locator::Css("a.button-link"))
        .await
        .expect("a Reply link on the question");
    midwife.click_and_wait(&reply_link).await;
    assert!(
        midwife
            .path()
            .await
            .starts_with(&format!("/moderation/comments/{question_id}")),
        "[{js:?}]"
    );
    let answer =
        "Yes, ibuprofen is usually fine for the cramps.\n\nPlease call your GP if the pain gets worse.";
    midwife.fill("#reply textarea[name=body]", answer).await;
    let publish = midwife.button(None, "Publish reply").await;
    midwife.click_and_wait(&publish).await;
    let told = midwife.page_text().await;
    assert!(
        told.contains("Your reply is published."),
        "[{js:?}] the midwife is told the reply is out, on {}: {told}",
        midwife.path().await
    );

    // The reader reloads the thread: the question, with the answer under it.
    reader.refresh().await;
    let thread = reader.find(&format!("li:has(> #comment-{question_id})")).await;
    let question_text = reader.text(&format!("#comment-{question_id}")).await;
    assert!(question_text.contains(question), "[{js:?}]");
    let reply = thread
        .find(fantoccini::Locator::Css("ol.replies article.staff-reply"))
        .await
        .unwrap_or_else(|_| panic!("[{js:?}] the reply is threaded under the question"));
    let reply_text = reply.text().await.unwrap();
    assert!(
        reply_text.contains("Yes, ibuprofen is usually fine for the cramps.")
            && reply_text.contains("Please call your GP if the pain gets worse."),
        "[{js:?}] {reply_text}"
    );
    let badge = reply
        .find(fantoccini::Locator::Css(".badge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(badge.contains("Verified midwife"), "[{js:?}] badge: {badge}");
    let disclaimer = reply
        .find(fantoccini::Locator::Css(".disclaimer"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        disclaimer.contains("is not a diagnosis"),
        "[{js:?}] disclaimer: {disclaimer}"
    );
    let byline = reply
        .find(fantoccini::Locator::Css(".byline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        byline.contains("Midwife @") && !byline.contains("(not verified)"),
        "[{js:?}] {byline}"
    );
    reader.close().await;
    midwife.close().await;
}

#[tokio::test]
async fn an_admin_invites_and_verifies_a_midwife_and_a_moderator_hides_a_comment() {
    let Some(driver) = driver().await else { return };
    for js in Js::BOTH {
        invite_verify_and_hide(driver, js).await;
    }
}

async fn invite_verify_and_hide(driver: &Driver, js: Js) {
    let (app, article) = app_with_article().await;
    app.create_staff("Ada", Role::Admin, true).await;
    app.create_staff("Robin", Role::Moderator, true).await;
    let unwanted = "Buy cheap pills at example dot com";
    let comment = app
        .add_comment(article, None, "Spammy", unwanted, CommentStatus::Published)
        .await;

    // The admin invites Morgan as a midwife.
    let admin = Browser::open(driver, &app, js, Width::Desktop).await;
    admin.sign_in("ada@example.org").await;
    admin.goto("/admin/accounts").await;
    admin.fill("#invite-name", "Morgan Lee").await;
    admin.fill("#invite-email", "morgan@example.org").await;
    admin
        .find("#invite-role")
        .await
        .select_by_value("midwife")
        .await
        .expect("choose the role");
    let create = admin.button(None, "Create invitation link").await;
    admin.click_and_wait(&create).await;
    let link_box = admin.find("input#link").await;
    assert!(
        link_box.attr("readonly").await.unwrap().is_some(),
        "[{js:?}] the link is shown read-only"
    );
    let link = link_box.prop("value").await.unwrap().expect("the link");
    let link = url::Url::parse(&link).expect("an absolute link");
    assert!(link.path().starts_with("/invitations/"), "[{js:?}] {link}");

    // Morgan opens the link and chooses a password; they are signed in but not yet verified.
    let invitee = Browser::open(driver, &app, js, Width::Desktop).await;
    invitee.goto(link.path()).await;
    let password = "quiet harbour lantern maple";
    invitee.fill("#password", password).await;
    invitee.fill("#confirm", password).await;
    let save = invitee.button(None, "Save password").await;
    invitee.click_and_wait(&save).await;
    assert_eq!(invitee.path().await, "/moderation", "[{js:?}]");
    assert!(
        invitee.page_text().await.contains("awaiting verification"),
        "[{js:?}] an unverified midwife is told so"
    );

    // The admin verifies Morgan.
    admin.goto("/admin/accounts").await;
    let row = admin
        .client()
        .find(fantoccini::Locator::XPath(
            "//tr[.//*[contains(text(), 'morgan@example.org')]]",
        ))
        .await
        .expect("Morgan's row");
    assert!(row.text().await.unwrap().contains("Not verified"), "[{js:?}]");
    let verify = admin.button(Some(&row), "Verify").await;
    admin.click_and_wait(&verify).await;
    let row = admin
        .client()
        .find(fantoccini::Locator::XPath(
            "//tr[.//*[contains(text(), 'morgan@example.org')]]",
        ))
        .await
        .expect("Morgan's row");
    let status = row.text().await.unwrap();
    assert!(
        status.contains("Verified") && status.contains("by Ada"),
        "[{js:?}] {status}"
    );
    invitee.refresh().await;
    assert!(
        !invitee.page_text().await.contains("awaiting verification"),
        "[{js:?}] verification takes effect at once"
    );

    // A reader sees the comment; a moderator hides it; it is gone for readers.
    let reader = Browser::open(driver, &app, js, Width::Desktop).await;
    reader.goto(&format!("/articles/{SLUG}")).await;
    assert!(reader.page_text().await.contains(unwanted), "[{js:?}]");

    let moderator = Browser::open(driver, &app, js, Width::Desktop).await;
    moderator.sign_in("robin@example.org").await;
    moderator.goto("/moderation?status=published").await;
    let item = moderator.find(&format!("#comment-{comment}")).await;
    let summary = item
        .find(fantoccini::Locator::Css("details.hide-form summary"))
        .await
        .expect("the Hide… control");
    assert!(summary.text().await.unwrap().starts_with("Hide"), "[{js:?}]");
    summary.click().await.expect("open Hide…");
    moderator.fill(&format!("#reason-{comment}"), "Advertising").await;
    let hide = moderator.button(Some(&item), "Hide").await;
    moderator.click_and_wait(&hide).await;
    assert_eq!(app.status_of(comment).await, "hidden", "[{js:?}]");

    reader.refresh().await;
    assert!(
        !reader.page_text().await.contains(unwanted),
        "[{js:?}] a hidden comment is gone for readers"
    );
    assert!(!reader.has(&format!("#comment-{comment}")).await, "[{js:?}]");

    for browser in [admin, invitee, reader, moderator] {
        browser.close().await;
    }
}

#[tokio::test]
async fn bad_input_shows_the_problems_beside_the_fields_and_keeps_the_text() {
    let Some(driver) = driver().await else { return };
    for js in Js::BOTH {
        bad_input(driver, js).await;
    }
}

/// The error beside a field: inside the same `.field` as the field itself.
async fn error_beside(browser: &Browser, field: &str) -> String {
    browser.text(&format!(".field:has({field}) .field-error")).await
}

async fn bad_input(driver: &Driver, js: Js) {
    let (app, _) = app_with_article().await;
    let reader = Browser::open(driver, &app, js, Width::Desktop).await;
    reader.goto(&format!("/articles/{SLUG}")).await;

    // Nothing written.
    write_comment(&reader, "Jess", "jess@example.org", "").await;
    assert!(
        reader
            .text("#form-problems")
            .await
            .contains("Please check your comment"),
        "[{js:?}] a summary of the problems"
    );
    assert!(
        error_beside(&reader, "#body")
            .await
            .contains("Please write your comment."),
        "[{js:?}]"
    );
    assert_eq!(
        reader
            .find("#body")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert!(!reader.has(".field:has(#name) .field-error").await, "[{js:?}]");
    assert_eq!(reader.value("#name").await, "Jess", "[{js:?}] the name is kept");
    assert_eq!(reader.value("#email").await, "jess@example.org", "[{js:?}]");

    // Far too much written: every word of it is still there to shorten.
    let sentence = "We lost our baby at eleven weeks and I keep going over every day of it. ";
    let mut long: String = sentence
        .repeat(5000 / sentence.len() + 1)
        .chars()
        .take(5000)
        .collect();
    long.push('.');
    reader.fill_long("#body", &long).await;
    let post = reader.button(None, "Post comment").await;
    reader.click_and_wait(&post).await;
    assert!(
        error_beside(&reader, "#body")
            .await
            .contains("longer than 5000 characters"),
        "[{js:?}]"
    );
    assert_eq!(
        reader.value("#body").await,
        long,
        "[{js:?}] the long text is kept"
    );
    assert_eq!(reader.value("#name").await, "Jess", "[{js:?}]");
    assert_eq!(app.comment_count().await, 0, "[{js:?}] nothing was stored");
    reader.close().await;
}
