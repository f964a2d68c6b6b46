//! `/admin`: accounts, articles and the audit log.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::CsrfToken;
use chrono::{Duration, Utc};
use serde::Deserialize;
use tower_sessions::Session;

use crate::web::form::StrictForm;
use crate::{
    accounts::{
        Role, Staff,
        auth::{CurrentStaff, set_flash},
        store::{self as accounts_store, AccountRow, NewAccount, TokenPurpose},
        tokens,
    },
    articles::{self, NewArticle, store::ArticleCounts},
    audit::{self, Action, Target},
    comments::NAME_MAX_CHARS,
    error::{AppError, Result},
    web::{AppState, page::render, staff::StaffChrome},
};

pub const INVITATION_LIFETIME: Duration = Duration::hours(72);
pub const RESET_LIFETIME: Duration = Duration::hours(24);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/accounts", get(show_accounts))
        .route("/admin/accounts/invite", post(invite))
        .route("/admin/accounts/{id}/verify", post(verify))
        .route("/admin/accounts/{id}/role", post(change_role))
        .route("/admin/accounts/{id}/disable", post(disable))
        .route("/admin/accounts/{id}/enable", post(enable))
        .route("/admin/accounts/{id}/reset-link", post(reset_link))
        .route("/admin/articles", get(show_articles).post(add_article))
        .route("/admin/articles/{slug}/edit", post(edit_article))
        .route("/admin/articles/{slug}/close", post(close_article))
        .route("/admin/articles/{slug}/open", post(open_article))
        .route("/admin/audit", get(show_audit))
        .route("/admin/privacy", get(show_privacy))
        .route("/admin/privacy/export", post(privacy_export))
        .route("/admin/privacy/erase", post(privacy_erase))
}

/// Admins only; everyone else is refused before anything is read or changed.
fn require_admin(staff: &Staff) -> Result<()> {
    if staff.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("This page is for admins."))
    }
}

/// Admin only, and a valid form token, before any change.
fn require_admin_form(staff: &Staff, csrf: &CsrfToken, token: &str) -> Result<()> {
    require_admin(staff)?;
    csrf.verify(token).map_err(|_| {
        AppError::Forbidden(
            "For your safety we could not accept that form, and nothing was changed. Please go back, reload the page and try again.",
        )
    })
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    chrome: StaffChrome,
}

async fn overview(CurrentStaff(staff): CurrentStaff, session: Session, csrf: CsrfToken) -> Result<Response> {
    require_admin(&staff)?;
    let chrome = StaffChrome::new(&staff, &csrf, &session).await?;
    Ok((csrf, render(StatusCode::OK, &OverviewPage { chrome })).into_response())
}

// ---- Accounts -------------------------------------------------------------------------------

pub struct AccountView {
    pub row: AccountRow,
    pub is_me: bool,
}

#[derive(Default)]
pub struct InviteView {
    pub email: String,
    pub name: String,
    pub role: String,
    pub problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
struct AccountsPage {
    chrome: StaffChrome,
    accounts: Vec<AccountView>,
    roles: [Role; 3],
    invite: InviteView,
}

async fn accounts_page(
    state: &AppState,
    staff: &Staff,
    session: &Session,
    csrf: &CsrfToken,
    invite: InviteView,
) -> Result<AccountsPage> {
    let accounts = accounts_store::list_accounts(&state.db)
        .await?
        .into_iter()
        .map(|row| AccountView {
            is_me: row.id == staff.id,
            row,
        })
        .collect();
    Ok(AccountsPage {
        chrome: StaffChrome::new(staff, csrf, session).await?,
        accounts,
        roles: Role::ALL,
        invite,
    })
}

async fn show_accounts(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
) -> Result<Response> {
    require_admin(&staff)?;
    let page = accounts_page(&state, &staff, &session, &csrf, InviteView::default()).await?;
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    name: String,
    role: String,
    authenticity_token: String,
}

#[derive(Template)]
#[template(path = "admin/link.html")]
struct LinkPage {
    chrome: StaffChrome,
    heading: &'static str,
    name: String,
    link: String,
    hours: i64,
}

fn link_for(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.config.public_url.trim_end_matches('/'))
}

async fn invite(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    StrictForm(form): StrictForm<InviteForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    let email = form.email.trim();
    let name = form.name.trim();
    let role = Role::parse(&form.role);
    let problem = if !email_address::EmailAddress::is_valid(email) {
        Some("Please enter a valid email address.")
    } else if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        Some("Please enter a name of up to 80 characters.")
    } else if role.is_none() {
        Some("Please choose a role.")
    } else {
        None
    };
    let again = |problem: &'static str| {
        let invite = InviteView {
            email: form.email.clone(),
            name: form.name.clone(),
            role: form.role.clone(),
            problem: Some(problem),
        };
        let (state, staff, session, csrf) = (&state, &staff, &session, &csrf);
        async move {
            let page = accounts_page(state, staff, session, csrf, invite).await?;
            Ok::<_, AppError>((csrf.clone(), render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response())
        }
    };
    if let Some(problem) = problem {
        return again(problem).await;
    }
    let role = role.unwrap_or(Role::Moderator);
    let token = tokens::generate();
    let mut tx = state.db.begin().await?;
    let account = NewAccount {
        email,
        display_name: name,
        role,
        password_hash: None,
        verified: false,
        verified_by: None,
    };
    let Some(id) = accounts_store::insert_account(&mut *tx, &account).await? else {
        drop(tx);
        return again("There is already an account with this email address.").await;
    };
    accounts_store::insert_token(
        &mut tx,
        id,
        TokenPurpose::Invitation,
        &token.hash,
        Utc::now() + INVITATION_LIFETIME,
        Some(staff.id),
    )
    .await?;
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::AccountInvited,
        Target::Account(id),
        Some(role.as_str()),
    )
    .await?;
    tx.commit().await?;
    let page = LinkPage {
        chrome: StaffChrome::new(&staff, &csrf, &session).await?,
        heading: "Invitation ready",
        name: name.to_owned(),
        link: link_for(&state, &format!("/invitations/{}", token.token)),
        hours: INVITATION_LIFETIME.num_hours(),
    };
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    authenticity_token: String,
    registration_number: String,
    role: String,
}

async fn account_name(state: &AppState, id: i64) -> Result<String> {
    accounts_store::find_account_name(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn verify(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<AccountForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    let name = account_name(&state, id).await?;
    let number = form.registration_number.trim();
    let number = (!number.is_empty()).then(|| number.chars().take(40).collect::<String>());
    let mut tx = state.db.begin().await?;
    let message = if accounts_store::verify(&mut *tx, id, staff.id, number.as_deref()).await? {
        audit::record(
            &mut tx,
            Some(staff.id),
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
    set_flash(&session, message).await;
    Ok(Redirect::to("/admin/accounts").into_response())
}

async fn change_role(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<AccountForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    let name = account_name(&state, id).await?;
    let Some(role) = Role::parse(&form.role) else {
        set_flash(&session, "Please choose a role.").await;
        return Ok(Redirect::to("/admin/accounts").into_response());
    };
    let mut tx = state.db.begin().await?;
    let message = if id == staff.id
        && role != Role::Admin
        && accounts_store::count_other_active_admins(&mut *tx, id).await? == 0
    {
        "You are the only admin, so you cannot change your own role.".to_owned()
    } else if accounts_store::set_role(&mut *tx, id, role).await? {
        audit::record(
            &mut tx,
            Some(staff.id),
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
    set_flash(&session, message).await;
    Ok(Redirect::to("/admin/accounts").into_response())
}

async fn set_disabled(
    state: AppState,
    staff: Staff,
    session: Session,
    id: i64,
    disabled: bool,
) -> Result<Response> {
    let name = account_name(&state, id).await?;
    let mut tx = state.db.begin().await?;
    let message = if disabled && id == staff.id {
        "You cannot disable your own account.".to_owned()
    } else if accounts_store::set_disabled(&mut *tx, id, disabled).await? {
        let action = if disabled {
            Action::AccountDisabled
        } else {
            Action::AccountEnabled
        };
        audit::record(&mut tx, Some(staff.id), action, Target::Account(id), None).await?;
        if disabled {
            format!("{name}'s account is disabled and signed out everywhere.")
        } else {
            format!("{name}'s account is enabled again.")
        }
    } else {
        format!(
            "Nothing was changed: {name}'s account was already {}.",
            if disabled { "disabled" } else { "enabled" }
        )
    };
    tx.commit().await?;
    set_flash(&session, message).await;
    Ok(Redirect::to("/admin/accounts").into_response())
}

async fn disable(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<AccountForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    set_disabled(state, staff, session, id, true).await
}

async fn enable(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<AccountForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    set_disabled(state, staff, session, id, false).await
}

async fn reset_link(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<AccountForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    let name = account_name(&state, id).await?;
    let token = tokens::generate();
    let mut tx = state.db.begin().await?;
    // An account that never accepted its invitation gets a fresh invitation instead.
    let has_password = accounts_store::list_accounts(&mut *tx)
        .await?
        .iter()
        .any(|a| a.id == id && a.has_password);
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
    accounts_store::insert_token(
        &mut tx,
        id,
        purpose,
        &token.hash,
        Utc::now() + lifetime,
        Some(staff.id),
    )
    .await?;
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::ResetLinkIssued,
        Target::Account(id),
        None,
    )
    .await?;
    tx.commit().await?;
    let page = LinkPage {
        chrome: StaffChrome::new(&staff, &csrf, &session).await?,
        heading,
        name,
        link: link_for(&state, &format!("/{path}/{}", token.token)),
        hours: lifetime.num_hours(),
    };
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

// ---- Articles -------------------------------------------------------------------------------

#[derive(Default)]
pub struct ArticleFormView {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ArticlesPage {
    chrome: StaffChrome,
    articles: Vec<ArticleCounts>,
    add: ArticleFormView,
    /// An edit that needs fixing: which article, and what was typed.
    edit: Option<ArticleFormView>,
}

impl ArticlesPage {
    fn edit_for(&self, slug: &str) -> Option<&ArticleFormView> {
        self.edit.as_ref().filter(|e| e.slug == slug)
    }
}

async fn articles_page(
    state: &AppState,
    staff: &Staff,
    session: &Session,
    csrf: &CsrfToken,
    add: ArticleFormView,
    edit: Option<ArticleFormView>,
) -> Result<ArticlesPage> {
    Ok(ArticlesPage {
        chrome: StaffChrome::new(staff, csrf, session).await?,
        articles: articles::store::list_all(&state.db).await?,
        add,
        edit,
    })
}

async fn show_articles(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
) -> Result<Response> {
    require_admin(&staff)?;
    let page = articles_page(&state, &staff, &session, &csrf, ArticleFormView::default(), None).await?;
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArticleForm {
    slug: String,
    title: String,
    url: String,
    authenticity_token: String,
}

async fn add_article(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    StrictForm(form): StrictForm<ArticleForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    let view = |problem: String| ArticleFormView {
        slug: form.slug.clone(),
        title: form.title.clone(),
        url: form.url.clone(),
        problem: Some(problem),
    };
    let article = match NewArticle::parse(&form.slug, &form.title, &form.url, true) {
        Ok(article) => article,
        Err(problem) => {
            let page = articles_page(&state, &staff, &session, &csrf, view(problem), None).await?;
            return Ok((csrf, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response());
        }
    };
    let mut tx = state.db.begin().await?;
    let Some(id) = articles::store::insert(&mut *tx, &article).await? else {
        drop(tx);
        let problem = format!(
            "There is already an article with the slug '{}'.",
            article.slug.as_str()
        );
        let page = articles_page(&state, &staff, &session, &csrf, view(problem), None).await?;
        return Ok((csrf, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response());
    };
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::ArticleAdded,
        Target::Article(id),
        None,
    )
    .await?;
    tx.commit().await?;
    set_flash(
        &session,
        format!(
            "Added \u{201c}{}\u{201d}. It is open for comments.",
            article.title
        ),
    )
    .await;
    Ok(Redirect::to("/admin/articles").into_response())
}

async fn edit_article(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(slug): Path<String>,
    StrictForm(form): StrictForm<ArticleForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    let checked = NewArticle::parse(&slug, &form.title, &form.url, true);
    let article = match checked {
        Ok(article) => article,
        Err(problem) => {
            let edit = ArticleFormView {
                slug: slug.clone(),
                title: form.title.clone(),
                url: form.url.clone(),
                problem: Some(problem),
            };
            let page = articles_page(
                &state,
                &staff,
                &session,
                &csrf,
                ArticleFormView::default(),
                Some(edit),
            )
            .await?;
            return Ok((csrf, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response());
        }
    };
    let mut tx = state.db.begin().await?;
    let id = articles::store::update(&mut *tx, &slug, &article.title, &article.url)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::ArticleEdited,
        Target::Article(id),
        None,
    )
    .await?;
    tx.commit().await?;
    set_flash(&session, format!("Saved \u{201c}{}\u{201d}.", article.title)).await;
    Ok(Redirect::to("/admin/articles").into_response())
}

async fn set_open(
    state: AppState,
    staff: Staff,
    session: Session,
    slug: String,
    open: bool,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let id = articles::store::set_comments_open(&mut *tx, &slug, open)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = if open {
        Action::ArticleOpened
    } else {
        Action::ArticleClosed
    };
    audit::record(&mut tx, Some(staff.id), action, Target::Article(id), None).await?;
    tx.commit().await?;
    let message = if open {
        "Comments are open again."
    } else {
        "Comments are closed. Published comments stay visible."
    };
    set_flash(&session, message).await;
    Ok(Redirect::to("/admin/articles").into_response())
}

async fn close_article(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(slug): Path<String>,
    StrictForm(form): StrictForm<ArticleForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    set_open(state, staff, session, slug, false).await
}

async fn open_article(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(slug): Path<String>,
    StrictForm(form): StrictForm<ArticleForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    set_open(state, staff, session, slug, true).await
}

// ---- Audit log ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    before: Option<String>,
}

pub struct AuditRow {
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub target_href: Option<String>,
    pub reason: Option<String>,
    pub at: String,
    pub at_iso: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: StaffChrome,
    rows: Vec<AuditRow>,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    target: String,
    older: Option<String>,
}

const AUDIT_PAGE: i64 = 100;

async fn show_audit(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Query(query): Query<AuditQuery>,
) -> Result<Response> {
    require_admin(&staff)?;
    let actor_id = query.actor.as_deref().and_then(|a| a.parse::<i64>().ok());
    let action = query
        .action
        .clone()
        .filter(|a| Action::ALL.iter().any(|x| x.as_str() == a));
    // "comment:12", "account:3", "article:5", or just a kind.
    let target = query.target.clone().unwrap_or_default();
    let (target_type, target_id) = match target.trim().split_once(':') {
        Some((kind, id)) => (Some(kind.to_owned()), id.trim().parse::<i64>().ok()),
        None if !target.trim().is_empty() => (Some(target.trim().to_owned()), None),
        None => (None, None),
    };
    let filter = audit::store::Filter {
        actor_id,
        action: action.clone(),
        target_type,
        target_id,
    };
    let before = query.before.as_deref().and_then(|b| b.parse::<i64>().ok());
    let entries = audit::store::list(&state.db, &filter, before, AUDIT_PAGE + 1).await?;
    let has_more = entries.len() as i64 > AUDIT_PAGE;
    let tz = state.config.timezone;
    let rows: Vec<AuditRow> = entries
        .iter()
        .take(AUDIT_PAGE as usize)
        .map(|e| AuditRow {
            actor: e.actor_name.clone().unwrap_or_else(|| "The command line".into()),
            action: Action::describe(&e.action),
            target: match e.target_id {
                Some(id) => format!("{} {id}", e.target_type),
                None => e.target_type.clone(),
            },
            target_href: match (e.target_type.as_str(), e.target_id) {
                ("comment", Some(id)) => Some(format!("/moderation/comments/{id}")),
                _ => None,
            },
            reason: e.reason.clone(),
            at: e.at.with_timezone(&tz).format("%d %b %Y - %H:%M").to_string(),
            at_iso: e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
        .collect();
    let older = if has_more {
        entries.get(AUDIT_PAGE as usize - 1).map(|last| {
            let mut href = format!("/admin/audit?before={}", last.id);
            if let Some(a) = actor_id {
                href.push_str(&format!("&actor={a}"));
            }
            if let Some(a) = &action {
                href.push_str(&format!("&action={a}"));
            }
            if !target.is_empty() {
                href.push_str(&format!("&target={target}"));
            }
            href
        })
    } else {
        None
    };
    let actors = accounts_store::list_accounts(&state.db)
        .await?
        .into_iter()
        .map(|a| Choice {
            selected: actor_id == Some(a.id),
            value: a.id.to_string(),
            label: a.display_name,
        })
        .collect();
    let actions = Action::ALL
        .into_iter()
        .map(|a| Choice {
            value: a.as_str().to_owned(),
            label: Action::describe(a.as_str()).to_owned(),
            selected: action.as_deref() == Some(a.as_str()),
        })
        .collect();
    let page = AuditPage {
        chrome: StaffChrome::new(&staff, &csrf, &session).await?,
        rows,
        actors,
        actions,
        target,
        older,
    };
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

// ---- Privacy requests -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/privacy.html")]
struct PrivacyPage {
    chrome: StaffChrome,
    email: String,
    problem: Option<&'static str>,
}

async fn show_privacy(
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
) -> Result<Response> {
    require_admin(&staff)?;
    let page = PrivacyPage {
        chrome: StaffChrome::new(&staff, &csrf, &session).await?,
        email: String::new(),
        problem: None,
    };
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrivacyForm {
    email: String,
    confirm: String,
    authenticity_token: String,
}

async fn privacy_again(
    staff: &Staff,
    session: &Session,
    csrf: CsrfToken,
    email: String,
    problem: &'static str,
) -> Result<Response> {
    let page = PrivacyPage {
        chrome: StaffChrome::new(staff, &csrf, session).await?,
        email,
        problem: Some(problem),
    };
    Ok((csrf, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response())
}

/// Downloads everything stored about an email address as a JSON file.
async fn privacy_export(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    StrictForm(form): StrictForm<PrivacyForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    if !email_address::EmailAddress::is_valid(form.email.trim()) {
        return privacy_again(
            &staff,
            &session,
            csrf,
            form.email,
            "Please enter a valid email address.",
        )
        .await;
    }
    let export = crate::privacy::export(&state.db, &form.email, Some(staff.id)).await?;
    let json = serde_json::to_string_pretty(&export).map_err(anyhow::Error::from)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"carethread-export.json\"",
            ),
        ],
        json,
    )
        .into_response())
}

async fn privacy_erase(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    StrictForm(form): StrictForm<PrivacyForm>,
) -> Result<Response> {
    require_admin_form(&staff, &csrf, &form.authenticity_token)?;
    if !email_address::EmailAddress::is_valid(form.email.trim()) {
        return privacy_again(
            &staff,
            &session,
            csrf,
            form.email,
            "Please enter a valid email address.",
        )
        .await;
    }
    if form.confirm != "yes" {
        return privacy_again(
            &staff,
            &session,
            csrf,
            form.email,
            "Please tick the box to confirm the erasure.",
        )
        .await;
    }
    let count = crate::privacy::erase(&state.db, &form.email, Some(staff.id)).await?;
    set_flash(
        &session,
        format!("Erased the email address and name from {count} comments."),
    )
    .await;
    Ok(Redirect::to("/admin/privacy").into_response())
}
