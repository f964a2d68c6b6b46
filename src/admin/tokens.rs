//! Admin → API tokens: the list, a new token (shown once) and revoking one.

use askama::Template;
use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    accounts::{
        guard::{Admin, StaffChrome, StaffPage},
        store as accounts_store,
    },
    api::{
        store::TokenRow,
        tokens::{self, Issued, Scope, TokenRequest},
    },
    error::Result,
    web::form::CsrfForm,
};

/// An account a token may act for.
pub struct Owner {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Default)]
pub struct TokenForm {
    pub name: String,
    pub owner: String,
    pub scope: String,
    pub problem: Option<&'static str>,
}

/// A token as the list shows it.
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub owner: String,
    pub owner_disabled: bool,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

impl TokenView {
    fn new(row: TokenRow, tz: chrono_tz::Tz) -> Self {
        let when =
            |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&tz).format("%d %b %Y - %H:%M").to_string();
        Self {
            id: row.id,
            name: row.name,
            scope: row.scope,
            owner: row.owner_name,
            owner_disabled: row.owner_disabled,
            created: match row.created_by_name {
                Some(by) => format!("{} by {by}", when(row.created_at)),
                None => when(row.created_at),
            },
            last_used: row.last_used_at.map(when),
            revoked: row.revoked_at.map(when),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    chrome: StaffChrome,
    tokens: Vec<TokenView>,
    owners: Vec<Owner>,
    scopes: [Scope; 2],
    form: TokenForm,
    /// A token just made: shown this once.
    issued: Option<Issued>,
}

async fn tokens_page(
    page: &StaffPage,
    status: StatusCode,
    form: TokenForm,
    issued: Option<Issued>,
) -> Result<Response> {
    let owners = accounts_store::list_accounts(&page.db)
        .await?
        .into_iter()
        .filter(|a| !a.disabled && a.has_password)
        .map(|a| Owner {
            selected: form.owner == a.id.to_string(),
            label: format!("{} ({})", a.display_name, a.role.label()),
            id: a.id,
        })
        .collect();
    let view = TokensPage {
        chrome: page.chrome().await?,
        tokens: tokens::list(&page.db)
            .await?
            .into_iter()
            .map(|row| TokenView::new(row, page.config.timezone))
            .collect(),
        owners,
        scopes: Scope::ALL,
        form,
        issued,
    };
    Ok(page.render(status, &view))
}

pub async fn show(Admin(page): Admin) -> Result<Response> {
    tokens_page(&page, StatusCode::OK, TokenForm::default(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateForm {
    name: String,
    owner: String,
    scope: String,
}

pub async fn create(Admin(page): Admin, CsrfForm(form, ..): CsrfForm<CreateForm>) -> Result<Response> {
    let request = TokenRequest {
        name: &form.name,
        owner: &form.owner,
        scope: &form.scope,
    };
    match tokens::create(&page.db, &page.staff, &request).await? {
        Ok(issued) => tokens_page(&page, StatusCode::OK, TokenForm::default(), Some(issued)).await,
        Err(problem) => {
            let again = TokenForm {
                name: form.name,
                owner: form.owner,
                scope: form.scope,
                problem: Some(problem),
            };
            tokens_page(&page, StatusCode::UNPROCESSABLE_ENTITY, again, None).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {}

pub async fn revoke(Admin(page): Admin, Path(id): Path<i64>, _: CsrfForm<RevokeForm>) -> Result<Response> {
    let message = tokens::revoke(&page.db, &page.staff, id).await?;
    page.flash(message).await;
    Ok(Redirect::to("/admin/tokens").into_response())
}
