//! The queue at work in Chromium: a moderator approves a comment, is brought back to where they
//! were with a confirmation naming it, and undoes it; then approves several at once. At 375 px and
//! 1280 px, with JavaScript on and off (the queue has none), checked with axe-core on the way.

use carethread::{accounts::Role, comments::CommentStatus};
use chrono::{Duration, Utc};

use super::{
    axe,
    driver::{Browser, Driver, Js, Width, driver},
    pages::screenshot_folder,
};
use crate::helpers::TestApp;

const SLUG: &str = "after-a-miscarriage";

/// A queue of five waiting comments, oldest first, and a moderator who may decide.
async fn queue() -> (TestApp, Vec<i64>) {
    let app = TestApp::spawn().await;
    let article = app.add_article(SLUG, "After a miscarriage").await;
    let mut ids = vec![];
    for (i, (name, body)) in [
        (
            "Kim",
            "Thank you for writing this. The first weeks were the hardest for us.",
        ),
        ("Lee", "How soon did you feel ready to go back to work?"),
        (
            "Sam",
            "Talking to my partner about it helped more than I expected.",
        ),
        ("Ash", "Is it normal to still feel tired after a month?"),
        ("Jo", "Sending love to everyone reading this."),
    ]
    .into_iter()
    .enumerate()
    {
        let at = Utc::now() - Duration::minutes(50 - 10 * i as i64);
        ids.push(
            app.add_comment_at(article, None, name, body, CommentStatus::Pending, at)
                .await,
        );
    }
    app.create_staff("Robin", Role::Moderator, true).await;
    (app, ids)
}

#[tokio::test]
async fn a_moderator_approves_is_brought_back_to_the_next_comment_and_undoes_it() {
    let Some(driver) = driver().await else { return };
    for width in Width::BOTH {
        for js in Js::BOTH {
            approve_and_undo(driver, width, js).await;
        }
    }
}

async fn approve_and_undo(driver: &Driver, width: Width, js: Js) {
    let (app, ids) = queue().await;
    let (kim, lee) = (ids[0], ids[1]);
    let moderator = Browser::open(driver, &app, js, width).await;
    moderator.sign_in("robin@example.org").await;
    moderator.goto("/moderation").await;

    let item = moderator.find(&format!("#comment-{kim}")).await;
    let approve = moderator.button(Some(&item), "Approve").await;
    moderator.click_and_wait(&approve).await;

    let at = format!("[{js:?} {} px]", width.px());
    assert_eq!(app.status_of(kim).await, "published", "{at}");
    assert_eq!(moderator.path().await, "/moderation?status=pending", "{at}");
    let hash = moderator.script("return location.hash;", vec![]).await;
    assert_eq!(hash, "#decided", "{at} anchored at the confirmation");
    let said = moderator.text("#decided").await;
    assert!(
        said.contains("Approved Kim\u{2019}s comment on After a miscarriage. It is now published."),
        "{at} {said}"
    );
    let next = moderator
        .script(
            "return document.getElementById('decided').nextElementSibling.id;",
            vec![],
        )
        .await;
    assert_eq!(
        next,
        format!("comment-{lee}"),
        "{at} where Kim's comment was, before Lee's"
    );
    let in_view = moderator
        .script(
            "const box = document.getElementById('decided').getBoundingClientRect(); return box.bottom > 0 && box.top < innerHeight;",
            vec![],
        )
        .await;
    assert_eq!(in_view, true, "{at} the confirmation is in view");
    axe::assert_clean(&moderator, js, "queue after approving").await;

    let confirmation = moderator.find("#decided").await;
    let undo = moderator.button(Some(&confirmation), "Undo").await;
    moderator.click_and_wait(&undo).await;

    assert_eq!(app.status_of(kim).await, "pending", "{at}");
    assert_eq!(app.audit_count("comment.undone").await, 1, "{at}");
    let said = moderator.text("#decided").await;
    assert!(said.starts_with("Undone. Kim\u{2019}s comment"), "{at} {said}");
    assert!(
        moderator.has(&format!("#comment-{kim}")).await,
        "{at} back in the queue"
    );
    moderator.close().await;
}

#[tokio::test]
async fn a_moderator_approves_several_comments_at_once() {
    let Some(driver) = driver().await else { return };
    for width in Width::BOTH {
        for js in Js::BOTH {
            approve_several(driver, width, js).await;
        }
    }
}

async fn approve_several(driver: &Driver, width: Width, js: Js) {
    let (app, ids) = queue().await;
    let moderator = Browser::open(driver, &app, js, width).await;
    moderator.sign_in("robin@example.org").await;
    moderator.goto("/moderation").await;

    for id in &ids[..3] {
        moderator
            .find(&format!("#select-{id}"))
            .await
            .click()
            .await
            .expect("tick the comment");
    }
    let approve = moderator.button(None, "Approve selected").await;
    moderator.click_and_wait(&approve).await;

    let at = format!("[{js:?} {} px]", width.px());
    for id in &ids[..3] {
        assert_eq!(app.status_of(*id).await, "published", "{at}");
    }
    for id in &ids[3..] {
        assert_eq!(app.status_of(*id).await, "pending", "{at}");
        assert!(moderator.has(&format!("#comment-{id}")).await, "{at}");
    }
    assert_eq!(app.audit_count("comment.approved").await, 3, "{at}");
    let said = moderator.text("#decided").await;
    assert_eq!(said, "Approved 3 comments.", "{at}");
    let fits = moderator
        .script(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await;
    assert_eq!(fits, true, "{at} nothing scrolls sideways");
    axe::assert_clean(&moderator, js, "queue after approving several").await;
    if width == Width::Desktop && js == Js::Off {
        moderator
            .save_screenshot(&screenshot_folder().join("queue-bulk-1280.png"))
            .await;
    }
    moderator.close().await;
}
