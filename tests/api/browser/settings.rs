//! An admin changes the site settings in Chromium: opens Settings from the staff navigation,
//! sends a form with a problem, finds the summary at the top and their words kept, fixes it,
//! and sees the confirmation; a reader then sees the new notice. At 375 px and 1280 px, with
//! JavaScript on and off (the page has none), checked with axe-core on the way. Saves
//! `settings-{375,1280}.png` (see `pages::screenshot_folder`).

use carethread::{accounts::Role, comments::CommentStatus};

use super::{
    axe,
    driver::{Browser, Driver, Js, Width, driver},
    pages::screenshot_folder,
};
use crate::helpers::TestApp;

const NOTICE: &str = "Our midwives read every comment. {organisation} cannot answer each one, so please call your GP or maternity unit if you are worried.";

#[tokio::test]
async fn an_admin_changes_the_notice_after_fixing_a_mistake_and_readers_see_it() {
    let Some(driver) = driver().await else { return };
    for width in Width::BOTH {
        for js in Js::BOTH {
            change_the_notice(driver, width, js).await;
        }
    }
}

async fn change_the_notice(driver: &Driver, width: Width, js: Js) {
    let app = TestApp::spawn().await;
    let article = app.add_article("after-a-loss", "After a loss").await;
    app.add_comment(
        article,
        None,
        "Sam",
        "Thinking of everyone here.",
        CommentStatus::Published,
    )
    .await;
    app.create_staff("Ada", Role::Admin, true).await;
    let at = format!("[{js:?} {} px]", width.px());
    let admin = Browser::open(driver, &app, js, width).await;
    admin.sign_in("ada@example.org").await;
    admin.goto("/moderation").await;
    let link = admin.find("nav.staff-nav a[href='/admin/settings']").await;
    admin.click_and_wait(&link).await;
    assert_eq!(admin.path().await, "/admin/settings", "{at}");
    axe::assert_clean(&admin, js, "settings").await;

    // A mistake: the organisation's name left empty.
    admin.fill("#organisation", " ").await;
    admin.fill("#notice", NOTICE).await;
    let save = admin.button(None, "Save settings").await;
    admin.click_and_wait(&save).await;
    let summary = admin.text("[role=alert]").await;
    assert!(summary.contains("Please check 1 setting"), "{at} {summary}");
    assert!(summary.contains("Enter the organisation name"), "{at} {summary}");
    assert_eq!(
        admin.value("#notice").await,
        NOTICE,
        "{at} the notice typed is kept"
    );
    assert!(admin.has("#organisation[aria-invalid=true]").await, "{at}");
    axe::assert_clean(&admin, js, "settings with a problem").await;
    let to_field = admin.find("[role=alert] a[href='#organisation']").await;
    to_field.click().await.expect("follow the summary's link");

    admin.fill("#organisation", "Example Baby Trust").await;
    let save = admin.button(None, "Save settings").await;
    admin.click_and_wait(&save).await;
    let said = admin.text("[role=status]").await;
    assert!(
        said.contains("Saved the settings: Organisation name and Notice above each thread changed."),
        "{at} {said}"
    );
    axe::assert_clean(&admin, js, "settings saved").await;
    let inner = admin.script("return window.innerWidth;", vec![]).await.as_u64();
    let scroll = admin
        .script("return document.documentElement.scrollWidth;", vec![])
        .await
        .as_u64();
    assert!(scroll <= inner, "{at} the settings page scrolls sideways");
    if js == Js::On {
        admin
            .save_screenshot(&screenshot_folder().join(format!("settings-{}.png", width.px())))
            .await;
    }
    admin.close().await;

    let reader = Browser::open(driver, &app, js, width).await;
    reader.goto("/articles/after-a-loss").await;
    let page = reader.page_text().await;
    assert!(
        page.contains("Our midwives read every comment. Example Baby Trust cannot answer each one"),
        "{at} readers see the new notice"
    );
    reader.close().await;
}
