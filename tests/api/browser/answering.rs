//! A midwife answers questions in a row: from "Awaiting a midwife", the question is in view above
//! the reply box, a saved reply goes into the box, a preview shows the reply as readers will see
//! it, and "Publish and open the next question" leads on until none is left. At 375 px and
//! 1280 px, with JavaScript on and off.

use carethread::{accounts::Role, comments::CommentStatus};
use chrono::{Duration, Utc};
use serde_json::json;

use super::{
    axe,
    driver::{Browser, Driver, Js, Width, driver},
    pages::screenshot_folder,
};
use crate::helpers::TestApp;

const FIRST: &str = "How long should the bleeding last afterwards? Mine seems to be going on for a while.";
const SECOND: &str = "Is it normal to feel so tired three weeks on?";
const SAVED_TITLE: &str = "Our support line";
const SAVED: &str = "Our support line is here for you: call **0800 000 0000**, Monday to Friday.";

#[tokio::test]
async fn a_midwife_answers_two_questions_in_a_row_with_a_preview_and_a_saved_reply() {
    let Some(driver) = driver().await else { return };
    let axe_source = axe::source().await;
    for width in Width::BOTH {
        for js in Js::BOTH {
            answer_in_a_row(driver, js, width, axe_source).await;
        }
    }
}

/// Whether the element matching `css` is wholly in the window.
async fn in_view(browser: &Browser, css: &str) -> bool {
    browser
        .script(
            "const box = document.querySelector(arguments[0]).getBoundingClientRect();
             return box.top >= 0 && box.bottom <= window.innerHeight;",
            vec![json!(css)],
        )
        .await
        == json!(true)
}

async fn answer_in_a_row(driver: &Driver, js: Js, width: Width, axe_source: Option<&str>) {
    let run = format!("[{js:?}, {} px]", width.px());
    let app = TestApp::spawn().await;
    let article = app
        .add_article("after-a-miscarriage", "After a miscarriage")
        .await;
    let now = Utc::now();
    let first = app
        .add_comment_at(
            article,
            None,
            "Kim",
            FIRST,
            CommentStatus::Published,
            now - Duration::hours(5),
        )
        .await;
    let second = app
        .add_comment_at(
            article,
            None,
            "Jo",
            SECOND,
            CommentStatus::Published,
            now - Duration::hours(2),
        )
        .await;
    let saved: i64 =
        sqlx::query_scalar("INSERT INTO saved_replies (title, body) VALUES ($1, $2) RETURNING id")
            .bind(SAVED_TITLE)
            .bind(SAVED)
            .fetch_one(&app.db)
            .await
            .unwrap();
    app.create_staff("Bea", Role::Midwife, true).await;

    let midwife = Browser::open(driver, &app, js, width).await;
    midwife.sign_in("bea@example.org").await;
    midwife.goto("/moderation/awaiting").await;
    let reply_link = midwife.find(&format!("#comment-{first} a.button-link")).await;
    midwife.click_and_wait(&reply_link).await;
    assert!(
        midwife
            .path()
            .await
            .starts_with(&format!("/moderation/comments/{first}?from=awaiting")),
        "{run}"
    );
    let question = format!("#comment-{first} .body");
    assert!(
        in_view(&midwife, &question).await,
        "{run} the question is in view when the page opens"
    );
    assert!(
        !midwife
            .script("return document.querySelector('#edit').open;", vec![])
            .await
            .as_bool()
            .unwrap_or(true),
        "{run} the guest's words are folded away"
    );

    // A few words of her own, then the saved reply after them.
    let own = "Thank you for asking, Kim.";
    midwife.fill("#body", own).await;
    midwife
        .find("#saved")
        .await
        .select_by_value(&saved.to_string())
        .await
        .expect("choose the saved reply");
    let insert = midwife.button(None, "Insert").await;
    let expected = format!("{own}\n\n{SAVED}");
    if js == Js::On {
        midwife.script("window.stayedOnPage = true;", vec![]).await;
        insert.click().await.expect("click Insert");
        midwife
            .wait_until(
                "the saved reply to be inserted",
                &format!(
                    "return document.querySelector('#body').value === {};",
                    json!(expected)
                ),
            )
            .await;
        assert_eq!(
            midwife
                .script("return window.stayedOnPage === true;", vec![])
                .await,
            json!(true),
            "{run} inserted without reloading"
        );
    } else {
        midwife.click_and_wait(&insert).await;
        assert_eq!(midwife.value("#body").await, expected, "{run}");
    }

    // The preview shows the reply as readers will see it; the text stays in the box.
    let preview = midwife.button(None, "Preview").await;
    midwife.click_and_wait(&preview).await;
    let shown = midwife.text(".reply-preview").await;
    assert!(shown.contains("Verified midwife"), "{run} badge: {shown}");
    assert!(shown.contains("is not a diagnosis"), "{run} disclaimer: {shown}");
    assert!(
        shown.contains("0800 000 0000") && !shown.contains("**"),
        "{run} {shown}"
    );
    assert_eq!(
        midwife.text(".reply-preview strong").await,
        "0800 000 0000",
        "{run}"
    );
    assert_eq!(midwife.value("#body").await, expected, "{run}");
    assert!(
        in_view(&midwife, ".reply-preview").await || width == Width::Phone,
        "{run} the preview is in view"
    );
    // The same page whether scripts run or not: checked once per width.
    if let Some(source) = axe_source.filter(|_| js == Js::On) {
        let serious: Vec<String> = axe::check(&midwife, source, "reply page with a preview")
            .await
            .into_iter()
            .filter(|v| v.is_serious())
            .map(|v| v.description)
            .collect();
        assert!(serious.is_empty(), "{run} {}", serious.join("\n"));
    }
    if js == Js::On && width == Width::Desktop {
        midwife
            .save_screenshot(&screenshot_folder().join("reply-page-1280.png"))
            .await;
    }

    // Publish and open the next question.
    let next = midwife.button(None, "Publish and open the next question").await;
    midwife.click_and_wait(&next).await;
    assert_eq!(
        midwife.path().await,
        format!("/moderation/comments/{second}?from=awaiting"),
        "{run}"
    );
    let page = midwife.page_text().await;
    assert!(page.contains("Here is the next question."), "{run} {page}");
    assert!(
        in_view(&midwife, &format!("#comment-{second} .body")).await,
        "{run} the next question is in view"
    );
    midwife
        .fill(
            "#body",
            "Yes, tiredness is very common. Please rest when you can.",
        )
        .await;
    let next = midwife.button(None, "Publish and open the next question").await;
    midwife.click_and_wait(&next).await;
    assert_eq!(
        midwife.path().await,
        "/moderation/no-more-questions?from=awaiting",
        "{run}"
    );
    assert!(
        midwife.text("h1").await.contains("No more questions waiting"),
        "{run}"
    );
    let back = midwife.find("main a.button-link").await;
    midwife.click_and_wait(&back).await;
    assert_eq!(midwife.path().await, "/moderation/awaiting", "{run}");
    assert!(
        midwife
            .page_text()
            .await
            .contains("Every published question has an answer."),
        "{run}"
    );

    let replies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM comments WHERE author_kind = 'staff' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(replies.len(), 2, "{run}");
    assert_eq!(replies[0], expected, "{run}");
    midwife.close().await;
}
