//! Accounts' rules: signing in, one-time links, passwords, invitations, roles, verification and
//! disabling, each with its transaction and audit entry. Handlers parse and render; the rules live
//! here.

use chrono::{Duration, Utc};
use sqlx::PgPool;

use super::{
    NewPassword, Role, Staff,
    auth::{AuthSession, BackendError, Credentials, Lockout, sign_in},
    hash_password, hashing,
    store::{self, NewAccount, TokenPurpose},
    tokens,
};
use crate::{
    audit::{self, Action, Target},
    config::Config,
    error::{AppError, Result},
    mail,
    text::NAME_MAX_CHARS,
};

pub const INVITATION_LIFETIME: Duration = Duration::hours(72);
pub const RESET_LIFETIME: Duration = Duration::hours(24);

/// What became of a sign-in.
#[derive(Debug, PartialEq, Eq)]
pub enum SignedIn {
    Yes,
    /// Too many failures: wait this many minutes.
    LockedOut(i64),
    /// The email and password do not match an account (the answer never says which).
    No,
    /// Too many passwords are being checked at once.
    Busy,
}

/// Checks a password and signs the account in on this session (with a new session id).
/// The command that creates the first admin, for a request from this machine (`local`, see
/// `web::client::is_local`) to a site with no active admin; `None` otherwise. Only a local
/// request costs a query.
pub async fn first_admin_command(db: &PgPool, local: bool) -> Result<Option<&'static str>> {
    if !local || store::count_other_active_admins(db, 0).await? > 0 {
        return Ok(None);
    }
    Ok(Some(super::FIRST_ADMIN_COMMAND))
}

pub async fn sign_in_with_password(
    db: &PgPool,
    auth: &mut AuthSession,
    credentials: Credentials,
    address_hash: &[u8],
    max_age: Duration,
) -> Result<SignedIn> {
    if let Some(until) = Lockout::in_force(db, &credentials.email, address_hash).await? {
        return Ok(SignedIn::LockedOut((until - Utc::now()).num_minutes() + 1));
    }
    let email = credentials.email.clone();
    let staff = match auth.authenticate(credentials).await {
        Ok(staff) => staff,
        Err(axum_login::Error::Backend(BackendError::Busy(_))) => return Ok(SignedIn::Busy),
        Err(error) => return Err(anyhow::Error::new(error).context("sign-in").into()),
    };
    let Some(staff) = staff else {
        Lockout::record_failure(db, &email, address_hash).await?;
        tracing::info!("failed sign-in");
        return Ok(SignedIn::No);
    };
    sign_in(auth, &staff, max_age).await?;
    store::record_login(db, staff.id).await?;
    tracing::info!(user.id = staff.id, "signed in");
    Ok(SignedIn::Yes)
}

/// The name of the account behind an unused, unexpired link, to greet them.
pub async fn link_owner(db: &PgPool, link: &str, purpose: TokenPurpose) -> Result<String> {
    let owner = store::find_valid_token(db, &tokens::hash(link), purpose)
        .await?
        .ok_or(AppError::LinkExpired)?;
    Ok(owner.display_name)
}

/// Sets a password from a one-time link and uses the link up. On success the account is signed
/// in on this session with a new session id; otherwise the problem to show.
pub async fn set_password_from_link(
    db: &PgPool,
    auth: &mut AuthSession,
    max_age: Duration,
    (link, purpose): (&str, TokenPurpose),
    (password, confirm): (&str, &str),
) -> Result<Option<&'static str>> {
    let mut tx = db.begin().await?;
    let owner = store::find_valid_token(&mut *tx, &tokens::hash(link), purpose)
        .await?
        .ok_or(AppError::LinkExpired)?;
    let password = match NewPassword::parse(password, confirm, &[&owner.email, &owner.display_name]) {
        Ok(password) => password.expose().to_owned(),
        Err(problem) => return Ok(Some(problem)),
    };
    let hash = hashing::run(move || hash_password(&password))
        .await
        .map_err(|_| AppError::Busy)??;
    store::set_password_hash(&mut *tx, owner.user_id, &hash).await?;
    store::mark_token_used(&mut *tx, owner.token_id).await?;
    let action = match purpose {
        TokenPurpose::Invitation => Action::InvitationAccepted,
        TokenPurpose::PasswordReset => Action::PasswordResetUsed,
    };
    audit::record(
        &mut tx,
        Some(owner.user_id),
        action,
        Target::Account(owner.user_id),
        None,
    )
    .await?;
    tx.commit().await?;
    // A new password ends every other session of the account; this one starts signed in.
    let staff = store::find_active(db, owner.user_id)
        .await?
        .ok_or(AppError::LinkExpired)?;
    sign_in(auth, &staff, max_age).await?;
    Ok(None)
}

/// Changes `staff`'s own password after checking the current one. Other sessions end; this one
/// stays signed in. `Some(problem)` when the change cannot be made.
pub async fn change_password(
    db: &PgPool,
    auth: &mut AuthSession,
    max_age: Duration,
    staff: &Staff,
    (current, password, confirm): (&str, &str, &str),
) -> Result<Option<&'static str>> {
    let credentials = Credentials {
        email: staff.email.clone(),
        password: current.to_owned(),
    };
    match auth.authenticate(credentials).await {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(Some("Your current password is not right. Please type it again.")),
        Err(axum_login::Error::Backend(BackendError::Busy(_))) => return Err(AppError::Busy),
        Err(error) => return Err(anyhow::Error::new(error).context("checking a password").into()),
    }
    let password = match NewPassword::parse(password, confirm, &[&staff.email, &staff.display_name]) {
        Ok(password) => password.expose().to_owned(),
        Err(problem) => return Ok(Some(problem)),
    };
    let hash = hashing::run(move || hash_password(&password))
        .await
        .map_err(|_| AppError::Busy)??;
    let mut tx = db.begin().await?;
    store::set_password_hash(&mut *tx, staff.id, &hash).await?;
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::PasswordChanged,
        Target::Account(staff.id),
        None,
    )
    .await?;
    tx.commit().await?;
    let staff = store::find_active(db, staff.id)
        .await?
        .ok_or(AppError::NotFound)?;
    sign_in(auth, &staff, max_age).await?;
    Ok(None)
}

/// A one-time link made for someone, to hand to them.
pub struct IssuedLink {
    pub heading: &'static str,
    pub name: String,
    /// The path of the link on this site (`/invitations/…` or `/password-reset/…`).
    pub path: String,
    pub hours: i64,
    /// Where the link was mailed, when mail goes to a real server; otherwise the admin sends it.
    pub mailed_to: Option<String>,
}

impl IssuedLink {
    /// Mails the link to `email` (in the transaction that made it) when mail is configured.
    async fn mail(mut self, tx: &mut sqlx::PgConnection, config: &Config, email: &str) -> sqlx::Result<Self> {
        if config.mail.sends() {
            let url = format!("{}{}", config.public_url, self.path);
            let invitation = self.path.starts_with("/invitations/");
            let message = mail::compose::account_link(config, email, invitation, &url, self.hours);
            mail::store::enqueue(tx, &message, Utc::now()).await?;
            self.mailed_to = Some(email.to_owned());
        }
        Ok(self)
    }
}

/// Who to invite, as typed.
pub struct Invitee<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
}

/// Creates an account with no password and an invitation link to choose one; `Err(problem)`
/// when what was typed needs fixing.
pub async fn invite(
    (db, config): (&PgPool, &Config),
    by: &Staff,
    invitee: &Invitee<'_>,
) -> Result<Result<IssuedLink, &'static str>> {
    let (email, name) = (invitee.email.trim(), invitee.name.trim());
    let Some(role) = Role::parse(invitee.role) else {
        return Ok(Err(invite_problem(email, name).unwrap_or("Please choose a role.")));
    };
    if let Some(problem) = invite_problem(email, name) {
        return Ok(Err(problem));
    }
    let token = tokens::generate();
    let mut tx = db.begin().await?;
    let account = NewAccount {
        email,
        display_name: name,
        role,
        password_hash: None,
        verified: false,
        verified_by: None,
    };
    let Some(id) = store::insert_account(&mut *tx, &account).await? else {
        return Ok(Err("There is already an account with this email address."));
    };
    let expires = Utc::now() + INVITATION_LIFETIME;
    store::insert_token(
        &mut tx,
        id,
        TokenPurpose::Invitation,
        &token.hash,
        expires,
        Some(by.id),
    )
    .await?;
    audit::record(
        &mut tx,
        Some(by.id),
        Action::AccountInvited,
        Target::Account(id),
        Some(role.as_str()),
    )
    .await?;
    let issued = IssuedLink {
        heading: "Invitation ready",
        name: name.to_owned(),
        path: format!("/invitations/{}", token.token),
        hours: INVITATION_LIFETIME.num_hours(),
        mailed_to: None,
    }
    .mail(&mut tx, config, email)
    .await?;
    tx.commit().await?;
    Ok(Ok(issued))
}

fn invite_problem(email: &str, name: &str) -> Option<&'static str> {
    if !email_address::EmailAddress::is_valid(email) {
        Some("Please enter a valid email address.")
    } else if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        Some("Please enter a name of up to 80 characters.")
    } else {
        None
    }
}

/// A password-reset link for account `id`, or a fresh invitation if it never chose a password.
pub async fn reset_link((db, config): (&PgPool, &Config), by: &Staff, id: i64) -> Result<IssuedLink> {
    let name = account_name(db, id).await?;
    let email = store::find_account_email(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = tokens::generate();
    let mut tx = db.begin().await?;
    let has_password = store::has_password(&mut *tx, id).await?;
    let (purpose, lifetime, path, heading) = if has_password {
        (
            TokenPurpose::PasswordReset,
            RESET_LIFETIME,
            "password-reset",
            "Password-reset link ready",
        )
    } else {
        (
            TokenPurpose::Invitation,
            INVITATION_LIFETIME,
            "invitations",
            "New invitation ready",
        )
    };
    store::insert_token(
        &mut tx,
        id,
        purpose,
        &token.hash,
        Utc::now() + lifetime,
        Some(by.id),
    )
    .await?;
    audit::record(
        &mut tx,
        Some(by.id),
        Action::ResetLinkIssued,
        Target::Account(id),
        None,
    )
    .await?;
    let issued = IssuedLink {
        heading,
        name,
        path: format!("/{path}/{}", token.token),
        hours: lifetime.num_hours(),
        mailed_to: None,
    }
    .mail(&mut tx, config, &email)
    .await?;
    tx.commit().await?;
    Ok(issued)
}

async fn account_name(db: &PgPool, id: i64) -> Result<String> {
    store::find_account_name(db, id).await?.ok_or(AppError::NotFound)
}

/// Marks account `id` verified, with an optional registration number; says what happened.
/// Nobody verifies their own account, and only midwives are verified here (an admin who also
/// answers as a midwife is verified from the command line when the site is set up).
pub async fn verify(db: &PgPool, by: &Staff, id: i64, registration_number: &str) -> Result<String> {
    let name = account_name(db, id).await?;
    if id == by.id {
        return Ok(
            "You cannot verify your own account: another admin must check your registration and do it."
                .to_owned(),
        );
    }
    if store::role_of(db, id).await? != Some(Role::Midwife) {
        return Ok(format!("{name} is not a midwife: only midwives are verified."));
    }
    let number = registration_number.trim();
    let number = (!number.is_empty()).then(|| number.chars().take(40).collect::<String>());
    let mut tx = db.begin().await?;
    let message = if store::verify(&mut *tx, id, by.id, number.as_deref()).await? {
        audit::record(
            &mut tx,
            Some(by.id),
            Action::AccountVerified,
            Target::Account(id),
            number.as_deref(),
        )
        .await?;
        format!("{name} is verified.")
    } else {
        format!("{name} was already verified; nothing was changed.")
    };
    tx.commit().await?;
    Ok(message)
}

/// Gives account `id` the role named `role`; says what happened. The only admin cannot give up
/// the role.
pub async fn change_role(db: &PgPool, by: &Staff, id: i64, role: &str) -> Result<String> {
    let name = account_name(db, id).await?;
    let Some(role) = Role::parse(role) else {
        return Ok("Please choose a role.".to_owned());
    };
    let mut tx = db.begin().await?;
    let message =
        if id == by.id && role != Role::Admin && store::count_other_active_admins(&mut *tx, id).await? == 0 {
            "You are the only admin, so you cannot change your own role.".to_owned()
        } else if store::set_role(&mut *tx, id, role).await? {
            audit::record(
                &mut tx,
                Some(by.id),
                Action::AccountRoleChanged,
                Target::Account(id),
                Some(role.as_str()),
            )
            .await?;
            format!("{name} is now a {}.", role.label().to_lowercase())
        } else {
            format!("{name} already had that role; nothing was changed.")
        };
    tx.commit().await?;
    Ok(message)
}

/// Disables (signing out everywhere) or enables account `id`; says what happened. Nobody
/// disables their own account.
pub async fn set_disabled(db: &PgPool, by: &Staff, id: i64, disabled: bool) -> Result<String> {
    let name = account_name(db, id).await?;
    let mut tx = db.begin().await?;
    let message = if disabled && id == by.id {
        "You cannot disable your own account.".to_owned()
    } else if store::set_disabled(&mut *tx, id, disabled).await? {
        let action = if disabled {
            Action::AccountDisabled
        } else {
            Action::AccountEnabled
        };
        audit::record(&mut tx, Some(by.id), action, Target::Account(id), None).await?;
        if disabled {
            format!("{name}'s account is disabled and signed out everywhere.")
        } else {
            format!("{name}'s account is enabled again.")
        }
    } else {
        let state = if disabled { "disabled" } else { "enabled" };
        format!("Nothing was changed: {name}'s account was already {state}.")
    };
    tx.commit().await?;
    Ok(message)
}
