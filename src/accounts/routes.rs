//! Sign-in, sign-out, one-time links and changing one's own password.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Router,
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::CsrfToken;
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    NewPassword,
    auth::{AuthSession, BackendError, Credentials, CurrentStaff, Lockout, safe_next, set_flash, sign_in},
    hash_password,
    store::{self, TokenPurpose},
    tokens,
};
use crate::web::form::StrictForm;
use crate::{
    audit,
    error::{AppError, Result},
    web::{AppState, page::render, staff::StaffChrome},
};

pub fn router() -> Router<AppState> {
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
}

/// Shown when too many passwords are being checked at once (see `accounts::hashing`).
const BUSY: &str = "Many people are signing in just now. Please wait a moment and try again.";

pub fn form_token(token: &CsrfToken) -> Result<String> {
    token
        .authenticity_token()
        .map_err(|e| AppError::Other(anyhow::anyhow!("form token: {e:?}")))
}

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
        token: form_token(&csrf)?,
    };
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
    authenticity_token: String,
}

async fn submit_login(
    State(state): State<AppState>,
    mut auth: AuthSession,
    csrf: CsrfToken,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    StrictForm(form): StrictForm<LoginForm>,
) -> Result<Response> {
    let next = safe_next(Some(&form.next));
    let again = |status: StatusCode, problem: String| -> Result<Response> {
        let page = LoginPage {
            email: form.email.clone(),
            next: next.clone(),
            message: None,
            problem: Some(problem),
            token: form_token(&csrf)?,
        };
        Ok((csrf.clone(), render(status, &page)).into_response())
    };
    if csrf.verify(&form.authenticity_token).is_err() {
        return again(
            StatusCode::FORBIDDEN,
            "For your safety we could not accept the form this time. Please sign in again.".into(),
        );
    }
    let address = crate::safety::spam::address_hash(&state.address_key, state.client_address(peer, &headers));
    if let Some(until) = Lockout::in_force(&state.db, &form.email, &address).await? {
        let minutes = (until - chrono::Utc::now()).num_minutes() + 1;
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "There have been too many attempts to sign in. To keep accounts safe, please wait {minutes} minutes and try again."
            ),
        );
    }
    let credentials = Credentials {
        email: form.email.clone(),
        password: form.password.clone(),
    };
    let staff = match auth.authenticate(credentials).await {
        Ok(staff) => staff,
        Err(axum_login::Error::Backend(BackendError::Busy(_))) => {
            return again(StatusCode::SERVICE_UNAVAILABLE, BUSY.into());
        }
        Err(error) => return Err(anyhow::anyhow!("sign-in: {error}").into()),
    };
    let Some(staff) = staff else {
        Lockout::record_failure(&state.db, &form.email, &address).await?;
        tracing::info!("failed sign-in");
        return again(
            StatusCode::UNAUTHORIZED,
            "That email address and password do not match an account we know. Please check them and try again.".into(),
        );
    };
    sign_in(&mut auth, &staff, state.config.session_max_age).await?;
    store::record_login(&state.db, staff.id).await?;
    tracing::info!(user.id = staff.id, "signed in");
    Ok(Redirect::to(&next).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenOnlyForm {
    authenticity_token: String,
}

async fn logout(
    mut auth: AuthSession,
    csrf: CsrfToken,
    StrictForm(form): StrictForm<TokenOnlyForm>,
) -> Result<Response> {
    if csrf.verify(&form.authenticity_token).is_err() {
        return Err(AppError::Forbidden(
            "For your safety we could not accept that form. Please go back and try again.",
        ));
    }
    auth.logout()
        .await
        .map_err(|e| anyhow::anyhow!("sign-out: {e}"))?;
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
    authenticity_token: String,
}

fn link_page(
    purpose: TokenPurpose,
    owner_name: &str,
    link: &str,
    problem: Option<&'static str>,
    token: String,
) -> SetPasswordPage {
    match purpose {
        TokenPurpose::Invitation => SetPasswordPage {
            heading: "Welcome to the team",
            intro: format!("Hello {owner_name}. Please choose a password to finish setting up your account."),
            action: format!("/invitations/{link}"),
            problem,
            token,
        },
        TokenPurpose::PasswordReset => SetPasswordPage {
            heading: "Choose a new password",
            intro: format!("Hello {owner_name}. Please choose a new password for your account."),
            action: format!("/password-reset/{link}"),
            problem,
            token,
        },
    }
}

async fn show_link(state: &AppState, csrf: CsrfToken, link: &str, purpose: TokenPurpose) -> Result<Response> {
    let owner = store::find_valid_token(&state.db, &tokens::hash(link), purpose)
        .await?
        .ok_or(AppError::LinkExpired)?;
    let page = link_page(purpose, &owner.display_name, link, None, form_token(&csrf)?);
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

async fn use_link(
    state: &AppState,
    auth: &mut AuthSession,
    csrf: CsrfToken,
    link: &str,
    purpose: TokenPurpose,
    form: SetPasswordForm,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let owner = store::find_valid_token(&mut *tx, &tokens::hash(link), purpose)
        .await?
        .ok_or(AppError::LinkExpired)?;
    let csrf_ok = csrf.verify(&form.authenticity_token).is_ok();
    let problem = if !csrf_ok {
        Some("For your safety we could not accept the form this time. Please type your password again.")
    } else {
        NewPassword::parse(
            &form.password,
            &form.confirm,
            &[&owner.email, &owner.display_name],
        )
        .err()
    };
    if let Some(problem) = problem {
        let page = link_page(
            purpose,
            &owner.display_name,
            link,
            Some(problem),
            form_token(&csrf)?,
        );
        return Ok((
            csrf,
            render(
                if csrf_ok {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::FORBIDDEN
                },
                &page,
            ),
        )
            .into_response());
    }
    let password = form.password;
    let hash = super::hashing::run(move || hash_password(&password))
        .await
        .map_err(|_| AppError::Busy)??;
    store::set_password_hash(&mut *tx, owner.user_id, &hash).await?;
    store::mark_token_used(&mut *tx, owner.token_id).await?;
    let action = match purpose {
        TokenPurpose::Invitation => audit::Action::InvitationAccepted,
        TokenPurpose::PasswordReset => audit::Action::PasswordResetUsed,
    };
    audit::record(
        &mut tx,
        Some(owner.user_id),
        action,
        audit::Target::Account(owner.user_id),
        None,
    )
    .await?;
    tx.commit().await?;

    // A new password ends every other session of the account; this one starts signed in.
    let staff = store::find_active(&state.db, owner.user_id)
        .await?
        .ok_or(AppError::LinkExpired)?;
    sign_in(auth, &staff, state.config.session_max_age).await?;
    set_flash(&auth.session, "Your password is set. Welcome.").await;
    Ok(Redirect::to("/moderation").into_response())
}

async fn show_invitation(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Path(link): Path<String>,
) -> Result<Response> {
    show_link(&state, csrf, &link, TokenPurpose::Invitation).await
}

async fn accept_invitation(
    State(state): State<AppState>,
    mut auth: AuthSession,
    csrf: CsrfToken,
    Path(link): Path<String>,
    StrictForm(form): StrictForm<SetPasswordForm>,
) -> Result<Response> {
    use_link(&state, &mut auth, csrf, &link, TokenPurpose::Invitation, form).await
}

async fn show_reset(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Path(link): Path<String>,
) -> Result<Response> {
    show_link(&state, csrf, &link, TokenPurpose::PasswordReset).await
}

async fn submit_reset(
    State(state): State<AppState>,
    mut auth: AuthSession,
    csrf: CsrfToken,
    Path(link): Path<String>,
    StrictForm(form): StrictForm<SetPasswordForm>,
) -> Result<Response> {
    use_link(&state, &mut auth, csrf, &link, TokenPurpose::PasswordReset, form).await
}

#[derive(Template)]
#[template(path = "accounts/change_password.html")]
struct ChangePasswordPage {
    chrome: StaffChrome,
    problem: Option<&'static str>,
}

async fn show_change_password(
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
) -> Result<Response> {
    let chrome = StaffChrome::new(&staff, &csrf, &session).await?;
    Ok((
        csrf,
        render(
            StatusCode::OK,
            &ChangePasswordPage {
                chrome,
                problem: None,
            },
        ),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangePasswordForm {
    current: String,
    password: String,
    confirm: String,
    authenticity_token: String,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    mut auth: AuthSession,
    csrf: CsrfToken,
    StrictForm(form): StrictForm<ChangePasswordForm>,
) -> Result<Response> {
    let csrf_ok = csrf.verify(&form.authenticity_token).is_ok();
    let problem = if !csrf_ok {
        Some("For your safety we could not accept the form this time. Please try again.")
    } else {
        let credentials = Credentials {
            email: staff.email.clone(),
            password: form.current.clone(),
        };
        match auth.authenticate(credentials).await.map_err(|e| match e {
            axum_login::Error::Backend(BackendError::Busy(_)) => AppError::Busy,
            other => anyhow::anyhow!("{other}").into(),
        })? {
            None => Some("Your current password is not right. Please type it again."),
            Some(_) => NewPassword::parse(
                &form.password,
                &form.confirm,
                &[&staff.email, &staff.display_name],
            )
            .err(),
        }
    };
    if let Some(problem) = problem {
        let chrome = StaffChrome::new(&staff, &csrf, &auth.session).await?;
        return Ok((
            csrf,
            render(
                if csrf_ok {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::FORBIDDEN
                },
                &ChangePasswordPage {
                    chrome,
                    problem: Some(problem),
                },
            ),
        )
            .into_response());
    }
    let password = form.password;
    let hash = super::hashing::run(move || hash_password(&password))
        .await
        .map_err(|_| AppError::Busy)??;
    let mut tx = state.db.begin().await?;
    store::set_password_hash(&mut *tx, staff.id, &hash).await?;
    audit::record(
        &mut tx,
        Some(staff.id),
        audit::Action::PasswordChanged,
        audit::Target::Account(staff.id),
        None,
    )
    .await?;
    tx.commit().await?;
    // Other sessions now fail their check; keep this one signed in with the new password.
    let staff = store::find_active(&state.db, staff.id)
        .await?
        .ok_or(AppError::NotFound)?;
    sign_in(&mut auth, &staff, state.config.session_max_age).await?;
    set_flash(
        &auth.session,
        "Your password has been changed. You have been signed out everywhere else.",
    )
    .await;
    Ok(Redirect::to("/moderation").into_response())
}
