//! Staff sign-in, sessions, lockouts, invitations and password changes.

use carethread::accounts::Role;
use reqwest::{StatusCode, header};

use crate::helpers::{STAFF_PASSWORD, TestApp, hidden_field, location, new_client, path_on_page};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("carethread_session="))
        .map(str::to_owned)
}

#[tokio::test]
async fn staff_sign_in_and_land_where_they_were_going() {
    let app = TestApp::spawn().await;
    app.create_staff("Alex", Role::Moderator, false).await;
    let client = new_client();

    let response = app.get_as(&client, "/moderation?status=hidden").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=/moderation%3Fstatus%3Dhidden");

    let response = app
        .sign_in_next(
            &client,
            "ALEX@example.org",
            STAFF_PASSWORD,
            "/moderation?status=hidden",
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/moderation?status=hidden");
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http in tests");

    assert_eq!(app.get_as(&client, "/moderation").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_cookies_are_secure_when_the_site_is_https() {
    let app = TestApp::spawn_with(|c| c.cookie_secure = true).await;
    app.create_staff("Alex", Role::Moderator, false).await;
    let response = app
        .sign_in(&new_client(), "alex@example.org", STAFF_PASSWORD)
        .await;
    assert!(session_cookie(&response).unwrap().contains("Secure"));
}

#[tokio::test]
async fn next_only_ever_leads_to_this_site() {
    let app = TestApp::spawn().await;
    app.create_staff("Alex", Role::Moderator, false).await;
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example"] {
        let response = app
            .sign_in_next(&new_client(), "alex@example.org", STAFF_PASSWORD, evil)
            .await;
        assert_eq!(location(&response), "/moderation", "{evil}");
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.create_staff("Alex", Role::Moderator, false).await;

    let wrong = app
        .sign_in(&new_client(), "alex@example.org", "not the password at all")
        .await;
    let unknown = app
        .sign_in(&new_client(), "nobody@example.org", "not the password at all")
        .await;

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let message = |html: String| {
        let start = html.find(r#"class="message error""#).expect("an error message");
        html[start..start + 200].to_owned()
    };
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains(r#"value="alex@example.org""#), "the email is kept");
    assert_eq!(message(wrong), message(unknown.text().await.unwrap()));
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_old_ids_stop_working() {
    let app = TestApp::spawn().await;
    app.create_staff("Alex", Role::Moderator, false).await;

    // A session id planted before sign-in is not the one used after.
    let planted = "carethread_session=planted-session-id";
    let client = new_client();
    let token = app.token_for(&client).await;
    let response = client
        .post(format!("{}/login", app.address))
        .header(header::COOKIE, planted)
        .form(&[
            ("authenticity_token", token.as_str()),
            ("email", "alex@example.org"),
            ("password", STAFF_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let first = session_cookie(&response).unwrap();
    assert!(!first.starts_with(planted));

    // Signing in again gives a new id, and the old one no longer works.
    let second_client = new_client();
    let second = session_cookie(
        &app.sign_in(&second_client, "alex@example.org", STAFF_PASSWORD)
            .await,
    )
    .unwrap();
    assert_ne!(first.split(';').next(), second.split(';').next());
    let token = app.token_for(&second_client).await;
    second_client
        .post(format!("{}/logout", app.address))
        .form(&[("authenticity_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let old = second.split(';').next().unwrap().to_owned();
    let response = new_client()
        .get(format!("{}/moderation", app.address))
        .header(header::COOKIE, old)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a signed-out session id is dead"
    );
}

#[tokio::test]
async fn signing_out_is_a_post_with_a_form_token() {
    let app = TestApp::spawn().await;
    let alex = app.staff("Alex", Role::Moderator, false).await;

    let without = alex
        .client
        .post(format!("{}/logout", app.address))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_as(&alex.client, "/moderation").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    let response = app.post_as(&alex.client, "/logout", &[]).await;
    assert_eq!(location(&response), "/login?reason=signed-out");
    assert_eq!(
        app.get_as(&alex.client, "/moderation").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn ten_failures_lock_an_account_for_a_while_with_a_clear_429() {
    let app = TestApp::spawn().await;
    app.create_staff("Alex", Role::Moderator, false).await;
    app.create_staff("Sam", Role::Moderator, false).await;
    let client = new_client();
    for _ in 0..10 {
        let response = app
            .sign_in(&client, "alex@example.org", "a wrong password here")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    let locked = app.sign_in(&client, "alex@example.org", STAFF_PASSWORD).await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let html = locked.text().await.unwrap();
    assert!(html.contains("too many attempts"), "{html}");
    assert!(html.contains("15 minutes") || html.contains("14 minutes"));

    let other = app
        .sign_in(&new_client(), "sam@example.org", STAFF_PASSWORD)
        .await;
    assert_eq!(
        other.status(),
        StatusCode::SEE_OTHER,
        "other accounts are not locked"
    );
}

#[tokio::test]
async fn twenty_five_failures_from_one_address_lock_that_address() {
    let app = TestApp::spawn().await;
    app.create_staff("Alex", Role::Moderator, false).await;
    let client = new_client();
    for i in 0..25 {
        let response = app
            .sign_in(&client, &format!("guess{i}@example.org"), "a wrong password here")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app
        .sign_in(&new_client(), "alex@example.org", STAFF_PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_disabled_account_loses_access_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let alex = app.staff("Alex", Role::Moderator, false).await;
    assert_eq!(
        app.get_as(&alex.client, "/moderation").await.status(),
        StatusCode::OK
    );

    let response = app
        .post_as(
            &admin.client,
            &format!("/admin/accounts/{}/disable", alex.id),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    assert_eq!(
        app.get_as(&alex.client, "/moderation").await.status(),
        StatusCode::SEE_OTHER
    );
    let again = app.sign_in(&new_client(), &alex.email, STAFF_PASSWORD).await;
    assert_eq!(
        again.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled account cannot sign in"
    );
}

#[tokio::test]
async fn changing_a_password_ends_the_accounts_other_sessions() {
    let app = TestApp::spawn().await;
    let laptop = app.staff("Alex", Role::Moderator, false).await;
    let phone = new_client();
    app.sign_in(&phone, &laptop.email, STAFF_PASSWORD).await;
    assert_eq!(app.get_as(&phone, "/moderation").await.status(), StatusCode::OK);

    let new_password = "harbour quilt meadow thunder";
    let weak = app
        .post_as(
            &laptop.client,
            "/account/password",
            &[
                ("current", STAFF_PASSWORD),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = app
        .post_as(
            &laptop.client,
            "/account/password",
            &[
                ("current", STAFF_PASSWORD),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    assert_eq!(
        app.get_as(&laptop.client, "/moderation").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        app.get_as(&phone, "/moderation").await.status(),
        StatusCode::SEE_OTHER,
        "others end"
    );
    assert_eq!(
        app.sign_in(&new_client(), &laptop.email, STAFF_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&new_client(), &laptop.email, new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sessions_end_after_the_configured_maximum_however_busy() {
    let app = TestApp::spawn_with(|c| c.session_max_age = chrono::Duration::zero()).await;
    app.create_staff("Alex", Role::Moderator, false).await;
    let client = new_client();
    app.sign_in(&client, "alex@example.org", STAFF_PASSWORD).await;
    let response = app.get_as(&client, "/moderation").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("reason=expired"));
    let page = app.get_html(&location(&response)).await;
    assert!(page.contains("For your security you were signed out."));
}

#[tokio::test]
async fn sessions_idle_out_after_two_hours() {
    let app = TestApp::spawn().await;
    app.staff("Alex", Role::Moderator, false).await;
    let minutes: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(expiry_date) - now())::float8 / 60 FROM tower_sessions.session",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        (115.0..=121.0).contains(&minutes),
        "session expires {minutes} minutes from now"
    );
}

#[tokio::test]
async fn an_invitation_is_a_one_time_link_to_set_a_password() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;

    let response = app
        .post_as(
            &admin.client,
            "/admin/accounts/invite",
            &[
                ("name", "Morgan"),
                ("email", "morgan@example.org"),
                ("role", "midwife"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let link = path_on_page(&html, "/invitations/").expect("the page shows the link");
    let token = link.trim_start_matches("/invitations/").to_owned();

    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM account_tokens")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(
        stored.iter().all(|h| h != token.as_bytes()),
        "only a hash is stored"
    );
    let expires: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - now())::float8 / 3600 FROM account_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((71.9..=72.0).contains(&expires), "expires after 72 hours");

    let invitee = new_client();
    let form = app.get_as(&invitee, &link).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("Hello Morgan"));

    let weak = app
        .post_as_on(
            &invitee,
            &link,
            &[("password", "password1234"), ("confirm", "password1234")],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await.unwrap().contains("too easy to guess"));

    let good = "quiet river lamp window";
    let response = app
        .post_as_on(&invitee, &link, &[("password", good), ("confirm", good)])
        .await;
    assert_eq!(location(&response), "/moderation");
    let page = app.get_as(&invitee, "/moderation").await.text().await.unwrap();
    assert!(
        page.contains("awaiting verification"),
        "a new midwife waits for verification"
    );

    assert_eq!(
        app.get_as(&new_client(), &link).await.status(),
        StatusCode::GONE,
        "the link works once"
    );
    assert_eq!(
        app.sign_in(&new_client(), "morgan@example.org", good)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_expired_invitation_explains_what_to_do() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let html = app
        .post_as(
            &admin.client,
            "/admin/accounts/invite",
            &[
                ("name", "Morgan"),
                ("email", "morgan@example.org"),
                ("role", "moderator"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    let link = path_on_page(&html, "/invitations/").expect("the page shows the link");
    sqlx::query("UPDATE account_tokens SET expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();

    let response = app.get_as(&new_client(), &link).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Please ask an admin for a new one.")
    );
}

#[tokio::test]
async fn an_admin_can_issue_a_one_time_password_reset_link() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let alex = app.create_staff("Alex", Role::Moderator, false).await;
    let html = app
        .post_as(&admin.client, &format!("/admin/accounts/{alex}/reset-link"), &[])
        .await
        .text()
        .await
        .unwrap();
    let link = path_on_page(&html, "/password-reset/").expect("the page shows the link");

    let fresh = "copper violin autumn pebble";
    let client = new_client();
    let response = app
        .post_as_on(&client, &link, &[("password", fresh), ("confirm", fresh)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.sign_in(&new_client(), "alex@example.org", STAFF_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&new_client(), "alex@example.org", fresh)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get_as(&new_client(), &link).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn the_login_page_works_without_an_account_and_has_its_token() {
    let app = TestApp::spawn().await;
    let html = app.get_html("/login").await;
    assert!(hidden_field(&html, "authenticity_token").is_some());
    assert!(html.contains(r#"name="email""#) && html.contains(r#"name="password""#));
}

#[tokio::test]
async fn housekeeping_removes_expired_sessions_and_old_failures() {
    let app = TestApp::spawn().await;
    app.staff("Alex", Role::Moderator, false).await;
    app.sign_in(&new_client(), "alex@example.org", "a wrong password here")
        .await;
    sqlx::query("UPDATE tower_sessions.session SET expiry_date = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE login_failures SET created_at = now() - interval '2 days'")
        .execute(&app.db)
        .await
        .unwrap();

    carethread::accounts::auth::housekeeping(&app.db).await.unwrap();

    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let failures: i64 = sqlx::query_scalar("SELECT count(*) FROM login_failures")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!((sessions, failures), (0, 0));
}
