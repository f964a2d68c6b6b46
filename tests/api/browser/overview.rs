//! The admin overview in a browser, with twelve weeks of figures: axe-core finds no serious or
//! critical problem, nothing scrolls sideways at 375 px or 1280 px, and the charts are images with
//! names. Saves `admin-overview-{375,1280}.png` (see `pages::screenshot_folder`).

use carethread::{accounts::Role, comments::CommentStatus};
use chrono::{Duration, Utc};

use super::{
    axe,
    driver::{Browser, Js, Width, driver},
    pages::screenshot_folder,
};
use crate::helpers::TestApp;

/// Twelve weeks of questions, answers, urgent comments, spam and hidden comments; one week empty.
async fn twelve_weeks(app: &TestApp) {
    let article = app.add_article("sleep", "Sleep in the first weeks").await;
    let midwife = app.create_staff("Bea", Role::Midwife, true).await;
    let now = Utc::now();
    for week in 1..12i64 {
        if week == 5 {
            continue;
        }
        let start = now - Duration::weeks(week);
        for i in 0..(week % 4 + 2) {
            let posted = start + Duration::hours(i * 5);
            let question = app
                .add_comment_at(
                    article,
                    None,
                    "Reader",
                    "A question",
                    CommentStatus::Published,
                    posted,
                )
                .await;
            let reply = app
                .add_comment_at(
                    article,
                    Some(question),
                    "Bea",
                    "An answer",
                    CommentStatus::Published,
                    posted + Duration::hours(3 + (week * i) % 40),
                )
                .await;
            sqlx::query(
                "UPDATE comments SET author_kind = 'staff', author_user_id = $2, body_html = '<p>An answer</p>',
                        disclaimer = 'General information.' WHERE id = $1",
            )
            .bind(reply)
            .bind(midwife)
            .execute(&app.db)
            .await
            .unwrap();
        }
        let urgent = app
            .add_comment_at(article, None, "Reader", "Urgent", CommentStatus::Hidden, start)
            .await;
        sqlx::query("UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}' WHERE id = $1")
            .bind(urgent)
            .execute(&app.db)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO audit_log (actor_id, action, target_type, target_id, at)
             VALUES ($1, 'comment.hidden', 'comment', $2, $3)",
        )
        .bind(midwife)
        .bind(urgent)
        .bind(start + Duration::minutes(5 + week * 3))
        .execute(&app.db)
        .await
        .unwrap();
        for _ in 0..(week % 3) {
            let spam = app
                .add_comment_at(article, None, "Reader", "Spam", CommentStatus::Spam, start)
                .await;
            sqlx::query("UPDATE comments SET spam_reason = 'links' WHERE id = $1")
                .bind(spam)
                .execute(&app.db)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn the_overview_reads_well_at_375_px_and_1280_px() {
    let Some(driver) = driver().await else { return };
    let Some(axe_source) = axe::source().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_staff("Ada", Role::Admin, true).await;
    twelve_weeks(&app).await;
    let mut problems = vec![];
    for width in Width::BOTH {
        let admin = Browser::open(driver, &app, Js::On, width).await;
        admin.sign_in("ada@example.org").await;
        admin.goto("/admin").await;
        for violation in axe::check(&admin, axe_source, "admin overview").await {
            if violation.is_serious() {
                problems.push(violation.description);
            } else {
                eprintln!("{}", violation.description);
            }
        }
        let inner = admin.script("return window.innerWidth;", vec![]).await.as_u64();
        let scroll = admin
            .script("return document.documentElement.scrollWidth;", vec![])
            .await
            .as_u64();
        if scroll > inner {
            problems.push(format!("the overview scrolls sideways at {} px", width.px()));
        }
        // Each chart is an image named by its title, no wider than the page.
        let charts = admin
            .script(
                "return [...document.querySelectorAll('svg.chart')].map(svg => [svg.getAttribute('role'),
                   svg.querySelector('title').textContent, svg.getBoundingClientRect().right <= innerWidth]);",
                vec![],
            )
            .await;
        let charts = charts.as_array().cloned().unwrap_or_default();
        assert_eq!(charts.len(), 5, "{} px", width.px());
        for chart in charts {
            assert_eq!(chart[0], "img", "{chart}");
            assert!(chart[1].as_str().is_some_and(|t| !t.is_empty()), "{chart}");
            assert_eq!(chart[2], true, "{} px: {chart}", width.px());
        }
        admin
            .save_screenshot(&screenshot_folder().join(format!("admin-overview-{}.png", width.px())))
            .await;
        admin.close().await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
