//! Every page type, as readers and staff see it: axe-core finds no serious or critical WCAG 2.2 AA
//! problems, everything can be done with the keyboard alone with the focus always visible, and
//! nothing scrolls sideways at 375 px or at 1280 px. Screenshots of the main pages are saved on
//! the way (see [`screenshot_folder`]).

use std::{collections::BTreeSet, path::PathBuf};

use carethread::{accounts::Role, comments::CommentStatus};
use chrono::{Duration, Utc};
use fantoccini::{elements::Element, key::Key};
use serde_json::{Value, json};

use super::{
    axe,
    driver::{Browser, Driver, Js, Width, driver},
};
use crate::helpers::{STAFF_PASSWORD, TestApp, new_client, path_on_page};

const SLUG: &str = carethread::demo::DEMO_SLUG;
const ADMIN: &str = "ada@example.org";

/// The demo thread, a queue with work in it and a handful of staff accounts.
struct Site {
    app: TestApp,
    /// Jo's published comment.
    jo: i64,
    /// A reply waiting for approval.
    pending_reply: i64,
    /// An invitation link's path, for the set-password page.
    invitation: String,
}

impl Site {
    async fn build() -> Self {
        let app = TestApp::spawn().await;
        carethread::demo::load(&app.db).await.expect("demo content");
        let id_of = |name: &'static str| {
            let db = app.db.clone();
            async move {
                sqlx::query_scalar::<_, i64>(
                    "SELECT id FROM comments WHERE author_name = $1 ORDER BY id LIMIT 1",
                )
                .bind(name)
                .fetch_one(&db)
                .await
                .expect("demo comment")
            }
        };
        let article: i64 = sqlx::query_scalar("SELECT id FROM articles WHERE slug = $1")
            .bind(SLUG)
            .fetch_one(&app.db)
            .await
            .expect("demo article");
        let jo = id_of("Jo").await;
        let robin = id_of("Robin").await;
        let pending_reply = app
            .add_comment_at(
                article,
                Some(robin),
                "Sam",
                "Me too. The second month was easier, and talking to my partner about it helped.",
                CommentStatus::Pending,
                Utc::now() - Duration::minutes(40),
            )
            .await;
        app.add_comment_at(
            article,
            None,
            "Lee",
            "Where can I find a support group near me?",
            CommentStatus::Pending,
            Utc::now() - Duration::minutes(5),
        )
        .await;

        // An urgent comment the safeguarding lead dealt with by email, kept with a staff note.
        let private = app
            .add_comment_at(
                article,
                None,
                "Noor",
                "I have been bleeding heavily since this morning and feel faint.",
                CommentStatus::Hidden,
                Utc::now() - Duration::hours(2),
            )
            .await;
        sqlx::query(
            "UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}', handled_privately_at = now(),
                    private_note = 'Our safeguarding lead emailed Noor, who is on her way to the maternity unit.'
              WHERE id = $1",
        )
        .bind(private)
        .execute(&app.db)
        .await
        .expect("handled privately");

        app.create_staff("Ada", Role::Admin, true).await;
        app.create_staff("Bea", Role::Midwife, true).await;
        app.create_staff("Cai", Role::Midwife, false).await;
        app.create_staff("Priya", Role::Moderator, true).await;

        // An invitation made over HTTP, so the set-password page can be visited.
        let client = new_client();
        app.sign_in(&client, ADMIN, STAFF_PASSWORD).await;
        let html = app
            .post_as(
                &client,
                "/admin/accounts/invite",
                &[
                    ("name", "Morgan Lee"),
                    ("email", "morgan@example.org"),
                    ("role", "midwife"),
                ],
            )
            .await
            .text()
            .await
            .expect("invitation page");
        let invitation = path_on_page(&html, "/invitations/").expect("an invitation link");
        Self {
            app,
            jo,
            pending_reply,
            invitation,
        }
    }

    /// Pages that are one address away, and who can open them.
    fn pages(&self) -> Vec<(&'static str, String, Who)> {
        use Who::{Reader, Staff};
        vec![
            ("front page", "/".into(), Reader),
            ("article", format!("/articles/{SLUG}"), Reader),
            (
                "article, replying",
                format!("/articles/{SLUG}?reply_to={}", self.jo),
                Reader,
            ),
            (
                "posted confirmation",
                format!("/articles/{SLUG}?posted=1"),
                Reader,
            ),
            ("error page", "/articles/no-such-article".into(), Reader),
            ("sign-in", "/login".into(), Reader),
            ("choose a password", self.invitation.clone(), Reader),
            ("moderation queue", "/moderation".into(), Staff),
            ("article, signed in as staff", format!("/articles/{SLUG}"), Staff),
            (
                "moderation, handled privately",
                "/moderation?status=private".into(),
                Staff,
            ),
            (
                "moderation, published",
                "/moderation?status=published".into(),
                Staff,
            ),
            (
                "moderation, one comment",
                format!("/moderation/comments/{}", self.pending_reply),
                Staff,
            ),
            ("admin", "/admin".into(), Staff),
            ("admin accounts", "/admin/accounts".into(), Staff),
            ("admin articles", "/admin/articles".into(), Staff),
            ("admin settings", "/admin/settings".into(), Staff),
            ("audit log", "/admin/audit".into(), Staff),
            ("change password", "/account/password".into(), Staff),
            ("saved replies", "/moderation/saved-replies".into(), Staff),
            (
                "no more questions",
                "/moderation/no-more-questions?from=awaiting".into(),
                Staff,
            ),
        ]
    }

    async fn reader(&self, driver: &Driver, width: Width) -> Browser {
        Browser::open(driver, &self.app, Js::On, width).await
    }

    async fn admin(&self, driver: &Driver, width: Width) -> Browser {
        let admin = Browser::open(driver, &self.app, Js::On, width).await;
        admin.sign_in(ADMIN).await;
        admin
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Reader,
    Staff,
}

#[tokio::test]
async fn every_page_type_passes_axe_core_at_wcag_2_2_aa() {
    let Some(driver) = driver().await else { return };
    let Some(axe_source) = axe::source().await else {
        return;
    };
    let site = Site::build().await;
    let mut problems = vec![];
    let mut notes = vec![];
    for width in Width::BOTH {
        let reader = site.reader(driver, width).await;
        let admin = site.admin(driver, width).await;
        let mut check = async |browser: &Browser, name: &str| {
            for violation in axe::check(browser, axe_source, name).await {
                if violation.is_serious() {
                    problems.push(violation.description);
                } else {
                    notes.push(violation.description);
                }
            }
        };
        for (name, path, who) in site.pages() {
            let browser = if who == Who::Reader { &reader } else { &admin };
            browser.goto(&path).await;
            check(browser, name).await;
        }

        // Pages that follow a form.
        reader.goto(&format!("/articles/{SLUG}")).await;
        let post = reader.button(None, "Post comment").await;
        reader.click_and_wait(&post).await;
        assert!(reader.has("#form-problems").await);
        check(&reader, "article, comment with problems").await;

        admin.goto("/admin/accounts").await;
        admin.fill("#invite-name", "Noor").await;
        admin
            .fill("#invite-email", &format!("noor{}@example.org", width.px()))
            .await;
        let create = admin.button(None, "Create invitation link").await;
        admin.click_and_wait(&create).await;
        assert!(admin.has("input#link").await);
        check(&admin, "invitation link").await;

        reader.close().await;
        admin.close().await;
    }
    if !notes.is_empty() {
        eprintln!("Moderate and minor findings:\n{}", notes.join("\n"));
    }
    assert!(
        problems.is_empty(),
        "serious or critical accessibility problems:\n{}",
        problems.join("\n")
    );
}

/// Reads what has the focus, and how it looks.
const FOCUSED: &str = r#"
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ');
    return {
      kb: el.getAttribute('data-kb'),
      what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + text.slice(0, 50) + '"',
      ring: el.matches(':focus-visible')
        && ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none'),
      in_view: box.bottom > 0 && box.right > 0 && box.top < innerHeight && box.left < innerWidth,
    };
"#;

/// Everything a keyboard user could act on: numbered in page order.
const ACTIONABLE: &str = r#"
    const selector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
    const items = [...document.querySelectorAll(selector)]
      .filter(el => !el.disabled && el.checkVisibility({ visibilityProperty: true }));
    items.forEach((el, i) => el.setAttribute('data-kb', String(i)));
    return items.map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "'
      + (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 50) + '"');
"#;

struct Focus {
    kb: Option<usize>,
    what: String,
    ring: bool,
    in_view: bool,
}

async fn focused(browser: &Browser) -> Option<Focus> {
    let value = browser.script(FOCUSED, vec![]).await;
    if value.is_null() {
        return None;
    }
    Some(Focus {
        kb: value["kb"].as_str().and_then(|s| s.parse().ok()),
        what: value["what"].as_str().unwrap_or_default().to_owned(),
        ring: value["ring"] == json!(true),
        in_view: value["in_view"] == json!(true),
    })
}

/// Tabs through the whole page: the skip link comes first, every control is reached in page order,
/// and each shows a focus ring, in view.
async fn tab_through(browser: &Browser, page: &str) -> Vec<String> {
    let mut problems = vec![];
    let Value::Array(actionable) = browser.script(ACTIONABLE, vec![]).await else {
        panic!("list of controls")
    };
    let mut reached = BTreeSet::new();
    let mut last = None;
    for press in 0..actionable.len() + 5 {
        browser.press(Key::Tab).await;
        let Some(focus) = focused(browser).await else {
            if press > 0 {
                break; // past the last control
            }
            problems.push(format!("{page}: Tab does not move the focus into the page"));
            break;
        };
        if press == 0 && !focus.what.contains("Skip to main content") {
            problems.push(format!(
                "{page}: the first Tab reaches {}, not the skip link",
                focus.what
            ));
        }
        if !focus.ring {
            problems.push(format!("{page}: no visible focus ring on {}", focus.what));
        }
        if !focus.in_view {
            problems.push(format!("{page}: {} has the focus but is out of view", focus.what));
        }
        let Some(kb) = focus.kb else {
            problems.push(format!(
                "{page}: the focus went to {}, which is not a control",
                focus.what
            ));
            continue;
        };
        if !reached.insert(kb) {
            break; // round again
        }
        if last.is_some_and(|last| kb < last) {
            problems.push(format!("{page}: {} is reached out of page order", focus.what));
        }
        last = Some(kb);
    }
    for (i, what) in actionable.iter().enumerate() {
        if !reached.contains(&i) {
            problems.push(format!("{page}: {what} cannot be reached with Tab"));
        }
    }
    problems
}

/// The skip link is the first stop and takes the focus to the main content.
async fn skip_link(browser: &Browser, page: &str) -> Vec<String> {
    let mut problems = vec![];
    browser.press(Key::Tab).await;
    let first = focused(browser).await;
    if !first
        .as_ref()
        .is_some_and(|f| f.what.contains("Skip to main content") && f.in_view)
    {
        problems.push(format!(
            "{page}: the first Tab should show the \"Skip to main content\" link, not {:?}",
            first.map(|f| f.what)
        ));
        return problems;
    }
    browser.press(Key::Enter).await;
    let in_main = browser
        .script(
            "return document.activeElement === document.getElementById('main');",
            vec![],
        )
        .await;
    if in_main != json!(true) {
        problems.push(format!(
            "{page}: the skip link does not move the focus to the main content"
        ));
    }
    browser.press(Key::Tab).await;
    let next_in_main = browser
        .script(
            "return document.getElementById('main').contains(document.activeElement);",
            vec![],
        )
        .await;
    if next_in_main != json!(true) {
        problems.push(format!(
            "{page}: after the skip link, Tab does not continue in the main content"
        ));
    }
    problems
}

#[tokio::test]
async fn every_page_type_works_with_the_keyboard_alone_with_the_focus_visible() {
    let Some(driver) = driver().await else { return };
    let site = Site::build().await;
    let reader = site.reader(driver, Width::Desktop).await;
    let admin = site.admin(driver, Width::Desktop).await;
    let mut problems = vec![];
    for (name, path, who) in site.pages() {
        let browser = if who == Who::Reader { &reader } else { &admin };
        browser.goto(&path).await;
        problems.extend(skip_link(browser, name).await);
        browser.goto(&path).await;
        problems.extend(tab_through(browser, name).await);
    }
    assert!(problems.is_empty(), "keyboard problems:\n{}", problems.join("\n"));
    reader.close().await;
    admin.close().await;
}

/// Presses Tab until `target` has the focus, checking it shows a focus ring.
async fn tab_to(browser: &Browser, target: &Element) {
    let target = serde_json::to_value(target).expect("element reference");
    for _ in 0..150 {
        browser.press(Key::Tab).await;
        let there = browser
            .script(
                "return document.activeElement === arguments[0];",
                vec![target.clone()],
            )
            .await;
        if there == json!(true) {
            let focus = focused(browser).await.expect("focus");
            assert!(focus.ring && focus.in_view, "no visible focus on {}", focus.what);
            return;
        }
    }
    panic!("Tab never reached {target} on {}", browser.path().await);
}

/// Types into whatever has the focus.
async fn type_text(browser: &Browser, text: &str) {
    browser
        .client()
        .active_element()
        .await
        .expect("focused element")
        .send_keys(text)
        .await
        .expect("typing");
}

#[tokio::test]
async fn a_reader_and_a_moderator_do_their_work_with_the_keyboard_alone() {
    let Some(driver) = driver().await else { return };
    let site = Site::build().await;
    let reader = site.reader(driver, Width::Desktop).await;

    // Reply to Jo: Tab to the Reply link, Enter, fill in the form, Enter on the button.
    reader.goto(&format!("/articles/{SLUG}")).await;
    let reply = reader.find(&format!("#comment-{} .actions a", site.jo)).await;
    tab_to(&reader, &reply).await;
    reader.press_and_wait(Key::Enter).await;
    assert!(reader.path().await.contains(&format!("reply_to={}", site.jo)));
    tab_to(&reader, &reader.find("#name").await).await;
    type_text(&reader, "Kit").await;
    tab_to(&reader, &reader.find("#body").await).await;
    let words = "Thank you, Jo. I read it at night too.";
    type_text(&reader, words).await;
    tab_to(&reader, &reader.button(None, "Post comment").await).await;
    reader.press_and_wait(Key::Enter).await;
    assert!(reader.text("#thanks").await.starts_with("Thank you."));
    let kit: i64 = sqlx::query_scalar("SELECT id FROM comments WHERE body = $1")
        .bind(words)
        .fetch_one(&site.app.db)
        .await
        .expect("Kit's reply");

    // A moderator signs in, approves Kit's reply, then hides it again.
    let moderator = Browser::open(driver, &site.app, Js::On, Width::Desktop).await;
    moderator.goto("/login").await;
    tab_to(&moderator, &moderator.find("#email").await).await;
    type_text(&moderator, "priya@example.org").await;
    tab_to(&moderator, &moderator.find("#password").await).await;
    type_text(&moderator, STAFF_PASSWORD).await;
    moderator.press_and_wait(Key::Enter).await;
    assert_eq!(moderator.path().await, "/moderation");

    let item = moderator.find(&format!("#comment-{kit}")).await;
    tab_to(&moderator, &moderator.button(Some(&item), "Approve").await).await;
    moderator.press_and_wait(Key::Enter).await;
    assert_eq!(site.app.status_of(kit).await, "published");

    moderator.goto("/moderation?status=published").await;
    let summary = moderator
        .find(&format!("#comment-{kit} details.hide-form summary"))
        .await;
    tab_to(&moderator, &summary).await;
    moderator.press(Key::Enter).await;
    moderator
        .wait_until(
            "Hide… to open",
            &format!("return document.querySelector('#comment-{kit} details.hide-form').open;"),
        )
        .await;
    tab_to(&moderator, &moderator.find(&format!("#reason-{kit}")).await).await;
    type_text(&moderator, "Posted twice").await;
    let item = moderator.find(&format!("#comment-{kit}")).await;
    tab_to(&moderator, &moderator.button(Some(&item), "Hide").await).await;
    moderator.press_and_wait(Key::Enter).await;
    assert_eq!(site.app.status_of(kit).await, "hidden");

    reader.close().await;
    moderator.close().await;
}

/// Where screenshots go: `docs/screenshots/` when `UPDATE_SCREENSHOTS` is set (to refresh the
/// README's pictures after changing a page), otherwise a folder under the build directory.
pub(super) fn screenshot_folder() -> PathBuf {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some_and(|v| !v.is_empty()) {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    }
}

/// Elements sticking out past the right edge, for the failure message.
const OVERFLOW: &str = r#"
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    return [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > width + 0.5)
      .slice(0, 10)
      .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
        + ' (right edge ' + Math.round(el.getBoundingClientRect().right) + ' px)');
"#;

#[tokio::test]
async fn pages_fit_375_px_and_1280_px_without_sideways_scrolling() {
    let Some(driver) = driver().await else { return };
    let site = Site::build().await;
    let folder = screenshot_folder();
    let mut problems = vec![];
    for width in Width::BOTH {
        let reader = site.reader(driver, width).await;
        let admin = site.admin(driver, width).await;
        for (name, path, who) in site.pages() {
            let browser = if who == Who::Reader { &reader } else { &admin };
            browser.goto(&path).await;
            let [inner, scroll] = [
                browser.script("return window.innerWidth;", vec![]).await,
                browser
                    .script("return document.documentElement.scrollWidth;", vec![])
                    .await,
            ]
            .map(|v| v.as_u64().expect("a width"));
            assert_eq!(
                inner,
                u64::from(width.px()),
                "the window is {} px wide",
                width.px()
            );
            if scroll > inner {
                let wide = browser.script(OVERFLOW, vec![]).await;
                problems.push(format!("{name} scrolls sideways at {} px: {wide}", width.px()));
            }
        }
        // Stacked on a phone, the accounts table is still a table to screen readers.
        admin.goto("/admin/accounts").await;
        let tree = admin.cdp("Accessibility.getFullAXTree", json!({})).await;
        let count = |role: &str| {
            tree["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|n| n["role"]["value"] == json!(role))
                .count()
        };
        let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&site.app.db)
            .await
            .unwrap();
        assert_eq!(count("table"), 1, "{} px", width.px());
        assert_eq!(
            count("row") as i64,
            accounts + 1,
            "{} px: a row per account",
            width.px()
        );
        assert_eq!(count("columnheader"), 4, "{} px", width.px());
        assert_eq!(count("rowheader") as i64, accounts, "{} px", width.px());

        for (file, browser, path) in [
            ("article", &reader, format!("/articles/{SLUG}")),
            ("queue", &admin, "/moderation".to_owned()),
            ("accounts", &admin, "/admin/accounts".to_owned()),
        ] {
            browser.goto(&path).await;
            browser
                .save_screenshot(&folder.join(format!("{file}-{}.png", width.px())))
                .await;
        }
        reader.close().await;
        admin.close().await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
