//! Sign-in, sign-out, one-time links and changing one's own password.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{FromRef, Path, Query},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::{CsrfConfig, CsrfToken};
use serde::Deserialize;
use sqlx::PgPool;

use super::{
    auth::{AuthSession, Credentials, safe_next, set_flash},
    guard::{AnyStaff, StaffChrome, Visitor},
    service::{self, SignedIn},
    store::TokenPurpose,
};
use crate::{
    config::Config,
    error::Result,
    web::{
        client::ClientKeys,
        form::{Checked, CsrfForm, Refusal, new_token},
        page::render,
    },
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
    ClientKeys: FromRef<S>,
{
    Router::new()
        .route("/login", get(show_login).post(submit_login))
        .route("/logout", post(logout))
        .route(
            "/invitations/{token}",
            get(show_invitation).post(accept_invitation),
        )
        .route("/password-reset/{token}", get(show_reset).post(submit_reset))
        .route(
            "/account/password",
            get(show_change_password).post(change_password),
        )
        .route("/account/alerts", get(show_alerts).post(save_alerts))
}

/// Shown when too many passwords are being checked at once (see `accounts::hashing`).
const BUSY: &str = "Many people are signing in just now. Please wait a moment and try again.";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    email: String,
    next: String,
    message: Option<&'static str>,
    problem: Option<String>,
    token: String,
}

async fn show_login(auth: AuthSession, csrf: CsrfToken, Query(query): Query<LoginQuery>) -> Result<Response> {
    let next = safe_next(query.next.as_deref());
    if auth.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let message = match query.reason.as_deref() {
        Some("expired") => Some("For your security you were signed out. Please sign in again."),
        Some("signed-out") => Some("You have signed out."),
        _ => None,
    };
    let page = LoginPage {
        email: String::new(),
        next,
        message,
        problem: None,
        token: new_token(&csrf)?,
    };
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

async fn submit_login(mut visitor: Visitor, checked: Checked<LoginForm>) -> Result<Response> {
    let form = &checked.form;
    let next = safe_next(Some(&form.next));
    let (status, problem) = if checked.token_ok {
        let credentials = Credentials {
            email: form.email.clone(),
            password: form.password.clone(),
        };
        let max_age = visitor.config.session_max_age;
        match service::sign_in_with_password(&visitor.db, &mut visitor.auth, credentials, &visitor.client.hash, max_age).await? {
            SignedIn::Yes => return Ok(Redirect::to(&next).into_response()),
            SignedIn::LockedOut(minutes) => (StatusCode::TOO_MANY_REQUESTS, format!("There have been too many attempts to sign in. To keep accounts safe, please wait {minutes} minutes and try again.")),
            SignedIn::No => (StatusCode::UNAUTHORIZED, "That email address and password do not match an account we know. Please check them and try again.".to_owned()),
            SignedIn::Busy => (StatusCode::SERVICE_UNAVAILABLE, BUSY.to_owned()),
        }
    } else {
        (
            StatusCode::FORBIDDEN,
            "For your safety we could not accept the form this time. Please sign in again.".to_owned(),
        )
    };
    let page = LoginPage {
        email: form.email.clone(),
        next,
        message: None,
        problem: Some(problem),
        token: new_token(&checked.csrf)?,
    };
    Ok((checked.csrf, render(status, &page)).into_response())
}

/// Signing out says less than other refused forms: there was nothing to change.
pub struct SignOutRefused;

impl Refusal for SignOutRefused {
    const MESSAGE: &'static str =
        "For your safety we could not accept that form. Please go back and try again.";
}

#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

async fn logout(mut auth: AuthSession, _form: CsrfForm<NoFields, SignOutRefused>) -> Result<Response> {
    auth.logout()
        .await
        .map_err(|e| anyhow::Error::new(e).context("sign-out"))?;
    Ok(Redirect::to("/login?reason=signed-out").into_response())
}

#[derive(Template)]
#[template(path = "accounts/set_password.html")]
struct SetPasswordPage {
    heading: &'static str,
    intro: String,
    action: String,
    problem: Option<&'static str>,
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetPasswordForm {
    password: String,
    confirm: String,
}

fn link_page(
    purpose: TokenPurpose,
    owner_name: &str,
    link: &str,
    problem: Option<&'static str>,
    token: String,
) -> SetPasswordPage {
    let (heading, intro, path) = match purpose {
        TokenPurpose::Invitation => (
            "Welcome to the team",
            "Please choose a password to finish setting up your account.",
            "invitations",
        ),
        TokenPurpose::PasswordReset => (
            "Choose a new password",
            "Please choose a new password for your account.",
            "password-reset",
        ),
    };
    SetPasswordPage {
        heading,
        intro: format!("Hello {owner_name}. {intro}"),
        action: format!("/{path}/{link}"),
        problem,
        token,
    }
}

async fn show_link(
    visitor: &Visitor,
    csrf: CsrfToken,
    link: &str,
    purpose: TokenPurpose,
) -> Result<Response> {
    let name = service::link_owner(&visitor.db, link, purpose).await?;
    let page = link_page(purpose, &name, link, None, new_token(&csrf)?);
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

const STALE_PASSWORD_FORM: &str =
    "For your safety we could not accept the form this time. Please type your password again.";

async fn use_link(
    mut visitor: Visitor,
    link: &str,
    purpose: TokenPurpose,
    checked: Checked<SetPasswordForm>,
) -> Result<Response> {
    let name = service::link_owner(&visitor.db, link, purpose).await?;
    let (db, max_age) = (&visitor.db, visitor.config.session_max_age);
    let passwords = (checked.form.password.as_str(), checked.form.confirm.as_str());
    let problem = if checked.token_ok {
        service::set_password_from_link(db, &mut visitor.auth, max_age, (link, purpose), passwords)
            .await?
            .map(|problem| (StatusCode::UNPROCESSABLE_ENTITY, problem))
    } else {
        Some((StatusCode::FORBIDDEN, STALE_PASSWORD_FORM))
    };
    let Some((status, problem)) = problem else {
        set_flash(&visitor.auth.session, "Your password is set. Welcome.").await;
        return Ok(Redirect::to("/moderation").into_response());
    };
    let page = link_page(purpose, &name, link, Some(problem), new_token(&checked.csrf)?);
    Ok((checked.csrf, render(status, &page)).into_response())
}

async fn show_invitation(visitor: Visitor, csrf: CsrfToken, Path(link): Path<String>) -> Result<Response> {
    show_link(&visitor, csrf, &link, TokenPurpose::Invitation).await
}

async fn accept_invitation(
    visitor: Visitor,
    Path(link): Path<String>,
    checked: Checked<SetPasswordForm>,
) -> Result<Response> {
    use_link(visitor, &link, TokenPurpose::Invitation, checked).await
}

async fn show_reset(visitor: Visitor, csrf: CsrfToken, Path(link): Path<String>) -> Result<Response> {
    show_link(&visitor, csrf, &link, TokenPurpose::PasswordReset).await
}

async fn submit_reset(
    visitor: Visitor,
    Path(link): Path<String>,
    checked: Checked<SetPasswordForm>,
) -> Result<Response> {
    use_link(visitor, &link, TokenPurpose::PasswordReset, checked).await
}

#[derive(Template)]
#[template(path = "accounts/change_password.html")]
struct ChangePasswordPage {
    chrome: StaffChrome,
    problem: Option<&'static str>,
}

async fn show_change_password(AnyStaff(page): AnyStaff) -> Result<Response> {
    let view = ChangePasswordPage {
        chrome: page.chrome().await?,
        problem: None,
    };
    Ok(page.render(StatusCode::OK, &view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangePasswordForm {
    current: String,
    password: String,
    confirm: String,
}

const PASSWORD_CHANGED: &str = "Your password has been changed. You have been signed out everywhere else.";

async fn change_password(
    AnyStaff(page): AnyStaff,
    mut auth: AuthSession,
    checked: Checked<ChangePasswordForm>,
) -> Result<Response> {
    let form = &checked.form;
    let passwords = (
        form.current.as_str(),
        form.password.as_str(),
        form.confirm.as_str(),
    );
    let max_age = page.config.session_max_age;
    let problem = if checked.token_ok {
        service::change_password(&page.db, &mut auth, max_age, &page.staff, passwords)
            .await?
            .map(|problem| (StatusCode::UNPROCESSABLE_ENTITY, problem))
    } else {
        let stale = "For your safety we could not accept the form this time. Please try again.";
        Some((StatusCode::FORBIDDEN, stale))
    };
    let Some((status, problem)) = problem else {
        set_flash(&auth.session, PASSWORD_CHANGED).await;
        return Ok(Redirect::to("/moderation").into_response());
    };
    let view = ChangePasswordPage {
        chrome: page.chrome().await?,
        problem: Some(problem),
    };
    Ok(page.render(status, &view))
}

#[derive(Template)]
#[template(path = "accounts/alerts.html")]
struct AlertsPage {
    chrome: StaffChrome,
    email: String,
    urgent: bool,
    digest: bool,
}

async fn show_alerts(AnyStaff(page): AnyStaff) -> Result<Response> {
    let (urgent, digest) = super::store::mail_choices(&page.db, page.staff.id).await?;
    let view = AlertsPage {
        chrome: page.chrome().await?,
        email: page.staff.email.clone(),
        urgent,
        digest,
    };
    Ok(page.render(StatusCode::OK, &view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertsForm {
    urgent: String,
    digest: String,
}

async fn save_alerts(AnyStaff(page): AnyStaff, CsrfForm(form, ..): CsrfForm<AlertsForm>) -> Result<Response> {
    let (urgent, digest) = (form.urgent == "1", form.digest == "1");
    super::store::set_mail_choices(&page.db, page.staff.id, urgent, digest).await?;
    page.flash("Saved your mail choices.").await;
    Ok(Redirect::to("/account/alerts").into_response())
}
