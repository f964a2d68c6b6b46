//! Admin → Accounts: the list, invitations, verification, roles, disabling and reset links.

use askama::Template;
use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    accounts::{
        Role,
        guard::{Admin, StaffChrome, StaffPage},
        service::{self, Invitee, IssuedLink},
        store::{self, AccountRow},
    },
    error::Result,
    web::form::CsrfForm,
};

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

async fn accounts_page(page: &StaffPage, status: StatusCode, invite: InviteView) -> Result<Response> {
    let accounts = store::list_accounts(&page.db)
        .await?
        .into_iter()
        .map(|row| AccountView {
            is_me: row.id == page.staff.id,
            row,
        })
        .collect();
    let view = AccountsPage {
        chrome: page.chrome().await?,
        accounts,
        roles: Role::ALL,
        invite,
    };
    Ok(page.render(status, &view))
}

pub async fn show(Admin(page): Admin) -> Result<Response> {
    accounts_page(&page, StatusCode::OK, InviteView::default()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "admin/link.html")]
struct LinkPage {
    chrome: StaffChrome,
    heading: &'static str,
    name: String,
    link: String,
    hours: i64,
    /// The link went by mail to this address: it is not shown.
    mailed_to: Option<String>,
}

/// The one-time link, shown once for the admin to send.
async fn link_page(page: &StaffPage, issued: IssuedLink) -> Result<Response> {
    let view = LinkPage {
        chrome: page.chrome().await?,
        heading: issued.heading,
        name: issued.name,
        link: format!("{}{}", page.config.public_url, issued.path),
        hours: issued.hours,
        mailed_to: issued.mailed_to,
    };
    Ok(page.render(StatusCode::OK, &view))
}

pub async fn invite(Admin(page): Admin, CsrfForm(form, ..): CsrfForm<InviteForm>) -> Result<Response> {
    let invitee = Invitee {
        email: &form.email,
        name: &form.name,
        role: &form.role,
    };
    match service::invite((&page.db, &page.config), &page.staff, &invitee).await? {
        Ok(issued) => link_page(&page, issued).await,
        Err(problem) => {
            let again = InviteView {
                email: form.email,
                name: form.name,
                role: form.role,
                problem: Some(problem),
            };
            accounts_page(&page, StatusCode::UNPROCESSABLE_ENTITY, again).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    registration_number: String,
    role: String,
}

/// Back to the accounts page with what happened.
async fn done(page: &StaffPage, message: String) -> Result<Response> {
    page.flash(message).await;
    Ok(Redirect::to("/admin/accounts").into_response())
}

pub async fn verify(
    Admin(page): Admin,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<AccountForm>,
) -> Result<Response> {
    let message = service::verify(&page.db, &page.staff, id, &form.registration_number).await?;
    done(&page, message).await
}

pub async fn change_role(
    Admin(page): Admin,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<AccountForm>,
) -> Result<Response> {
    let message = service::change_role(&page.db, &page.staff, id, &form.role).await?;
    done(&page, message).await
}

pub async fn disable(Admin(page): Admin, Path(id): Path<i64>, _: CsrfForm<AccountForm>) -> Result<Response> {
    let message = service::set_disabled(&page.db, &page.staff, id, true).await?;
    done(&page, message).await
}

pub async fn enable(Admin(page): Admin, Path(id): Path<i64>, _: CsrfForm<AccountForm>) -> Result<Response> {
    let message = service::set_disabled(&page.db, &page.staff, id, false).await?;
    done(&page, message).await
}

pub async fn reset_link(
    Admin(page): Admin,
    Path(id): Path<i64>,
    _: CsrfForm<AccountForm>,
) -> Result<Response> {
    let issued = service::reset_link((&page.db, &page.config), &page.staff, id).await?;
    link_page(&page, issued).await
}
