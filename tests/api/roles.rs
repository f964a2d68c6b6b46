//! Who may do what: every staff route against every kind of visitor, and CSRF on every form.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{Hidden, Pending},
};
use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, location, new_client};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    UnverifiedMidwife,
    VerifiedMidwife,
    Moderator,
    Admin,
}

/// Fresh things to act on, made before each request.
struct Targets {
    pending: i64,
    hidden: i64,
    enabled_account: i64,
    disabled_account: i64,
    unverified_account: i64,
    slug: String,
}

async fn targets(app: &TestApp, n: usize) -> Targets {
    let slug = format!("article-{n}");
    let article = app.add_article(&slug, "An article").await;
    let pending = app.add_comment(article, None, "Sam", "waiting", Pending).await;
    let hidden = app.add_comment(article, None, "Sam", "hidden", Hidden).await;
    let enabled_account = app
        .create_staff(&format!("Enabled{n}"), Role::Moderator, false)
        .await;
    let disabled_account = app
        .create_staff(&format!("Disabled{n}"), Role::Moderator, false)
        .await;
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(disabled_account)
        .execute(&app.db)
        .await
        .unwrap();
    let unverified_account = app
        .create_staff(&format!("Unverified{n}"), Role::Midwife, false)
        .await;
    Targets {
        pending,
        hidden,
        enabled_account,
        disabled_account,
        unverified_account,
        slug,
    }
}

struct Check {
    method: Method,
    path: fn(&Targets) -> String,
    fields: &'static [(&'static str, &'static str)],
    /// What a permitted visitor gets.
    ok: StatusCode,
    allowed: fn(Who) -> bool,
}

fn any_staff(who: Who) -> bool {
    who != Who::Anonymous
}
fn moderators(who: Who) -> bool {
    matches!(who, Who::VerifiedMidwife | Who::Moderator | Who::Admin)
}
fn repliers(who: Who) -> bool {
    matches!(who, Who::VerifiedMidwife | Who::Admin)
}
fn admins(who: Who) -> bool {
    who == Who::Admin
}

fn checks() -> Vec<Check> {
    use StatusCode as S;
    let get = |path: fn(&Targets) -> String, allowed: fn(Who) -> bool| Check {
        method: Method::GET,
        path,
        fields: &[],
        ok: S::OK,
        allowed,
    };
    let post = |path: fn(&Targets) -> String, fields, ok, allowed: fn(Who) -> bool| Check {
        method: Method::POST,
        path,
        fields,
        ok,
        allowed,
    };
    vec![
        get(|_| "/moderation".into(), any_staff),
        get(|t| format!("/moderation/comments/{}", t.pending), any_staff),
        post(
            |t| format!("/moderation/comments/{}/approve", t.pending),
            &[],
            S::SEE_OTHER,
            moderators,
        ),
        post(
            |t| format!("/moderation/comments/{}/hide", t.pending),
            &[("reason", "r")],
            S::SEE_OTHER,
            moderators,
        ),
        post(
            |t| format!("/moderation/comments/{}/unhide", t.hidden),
            &[],
            S::SEE_OTHER,
            moderators,
        ),
        post(
            |t| format!("/moderation/comments/{}/reply", t.pending),
            &[("body", "An answer.")],
            S::SEE_OTHER,
            repliers,
        ),
        get(|_| "/account/password".into(), any_staff),
        get(|_| "/account/alerts".into(), any_staff),
        post(
            |_| "/account/alerts".into(),
            &[("urgent", "1")],
            S::SEE_OTHER,
            any_staff,
        ),
        get(|_| "/admin/mail".into(), admins),
        get(|_| "/admin".into(), admins),
        get(|_| "/admin/accounts".into(), admins),
        get(|_| "/admin/articles".into(), admins),
        get(|_| "/admin/audit".into(), admins),
        get(|_| "/admin/settings".into(), admins),
        post(
            |_| "/admin/settings".into(),
            &[
                ("organisation", "Example Trust"),
                ("notice", "A notice."),
                ("staff_label", "Midwife"),
                ("verified_badge", "Verified"),
                ("disclaimer", "A disclaimer."),
                ("safety_message", "Call 999."),
                ("safety_999", "Call 999 now."),
                ("safety_urgent_care", "Call 111 today."),
                ("safety_mental_health", "Call Samaritans."),
                ("safety_domestic_abuse", "Call the helpline."),
            ],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |_| "/admin/accounts/invite".into(),
            &[
                ("name", "New"),
                ("email", "new-person@example.org"),
                ("role", "moderator"),
            ],
            S::OK,
            admins,
        ),
        post(
            |t| format!("/admin/accounts/{}/verify", t.unverified_account),
            &[("registration_number", "1")],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |t| format!("/admin/accounts/{}/role", t.enabled_account),
            &[("role", "midwife")],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |t| format!("/admin/accounts/{}/disable", t.enabled_account),
            &[],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |t| format!("/admin/accounts/{}/enable", t.disabled_account),
            &[],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |t| format!("/admin/accounts/{}/reset-link", t.enabled_account),
            &[],
            S::OK,
            admins,
        ),
        post(
            |_| "/admin/articles".into(),
            &[
                ("slug", "brand-new"),
                ("title", "New"),
                ("url", "https://example.org/new"),
            ],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |t| format!("/admin/articles/{}/edit", t.slug),
            &[("title", "Renamed"), ("url", "https://example.org/renamed")],
            S::SEE_OTHER,
            admins,
        ),
        post(
            |t| format!("/admin/articles/{}/close", t.slug),
            &[],
            S::SEE_OTHER,
            admins,
        ),
    ]
}

/// Everything a refused request must leave alone.
async fn snapshot(app: &TestApp) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT concat_ws('|',
            (SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM comments),
            (SELECT count(*) FROM audit_log),
            (SELECT string_agg(id || ':' || role || ':' || (verified_at IS NOT NULL) || ':' || (disabled_at IS NOT NULL)
                || ':' || coalesce(urgent_alerts::text, '-') || ':' || daily_digest, ',' ORDER BY id) FROM users),
            (SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM outbox),
            (SELECT string_agg(slug || ':' || title || ':' || url || ':' || comments_open, ',' ORDER BY id) FROM articles),
            (SELECT count(*) FROM account_tokens))",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn every_staff_route_answers_each_kind_of_visitor_as_expected() {
    let app = TestApp::spawn().await;
    let clients = [
        (Who::Anonymous, new_client()),
        (
            Who::UnverifiedMidwife,
            app.staff("Umi", Role::Midwife, false).await.client,
        ),
        (
            Who::VerifiedMidwife,
            app.staff("Vera", Role::Midwife, true).await.client,
        ),
        (
            Who::Moderator,
            app.staff("Mo", Role::Moderator, false).await.client,
        ),
        (Who::Admin, app.staff("Ada", Role::Admin, true).await.client),
    ];
    let mut n = 0;
    for check in checks() {
        for (who, client) in &clients {
            n += 1;
            let t = targets(&app, n).await;
            let path = (check.path)(&t);
            let fields: Vec<(&str, String)> = check
                .fields
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        if *k == "slug" {
                            format!("{v}-{n}")
                        } else if *k == "email" {
                            format!("{n}-{v}")
                        } else {
                            (*v).to_owned()
                        },
                    )
                })
                .collect();
            let before = snapshot(&app).await;
            let response = if check.method == Method::GET {
                app.get_as(client, &path).await
            } else {
                let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post_as(client, &path, &fields).await
            };
            let status = response.status();
            let after = snapshot(&app).await;
            let label = format!("{:?} {} as {who:?}", check.method, path);
            if *who == Who::Anonymous {
                assert_eq!(status, StatusCode::SEE_OTHER, "{label}");
                assert!(
                    location(&response).starts_with("/login"),
                    "{label} goes to sign-in"
                );
                assert_eq!(before, after, "{label} changed nothing");
            } else if (check.allowed)(*who) {
                assert_eq!(status, check.ok, "{label}");
                if check.method == Method::POST {
                    assert_ne!(before, after, "{label} did something");
                }
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{label}");
                assert_eq!(before, after, "{label} changed nothing");
            }
        }
    }
}

#[tokio::test]
async fn every_staff_form_refuses_a_missing_or_wrong_token_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let mut n = 0;
    for check in checks().into_iter().filter(|c| c.method == Method::POST) {
        for token in [None, Some("d3Jvbmc=")] {
            n += 1;
            let t = targets(&app, n).await;
            let path = (check.path)(&t);
            app.token_for(&admin.client).await; // the browser has its token cookie
            let mut fields: Vec<(&str, &str)> = check.fields.to_vec();
            if let Some(token) = token {
                fields.push(("authenticity_token", token));
            }
            let before = snapshot(&app).await;
            let response = admin
                .client
                .post(format!("{}{path}", app.address))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "POST {path} with token {token:?}"
            );
            assert_eq!(before, snapshot(&app).await, "POST {path} changed nothing");
        }
    }
    for path in ["/logout", "/account/password", "/login"] {
        let response = admin
            .client
            .post(format!("{}{path}", app.address))
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "POST {path} without a token"
        );
    }
}
