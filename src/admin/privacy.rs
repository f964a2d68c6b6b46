//! Admin → Privacy requests: export or erase everything stored about an email address.

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    accounts::guard::{Admin, StaffChrome, StaffPage},
    error::Result,
    web::form::CsrfForm,
};

#[derive(Template)]
#[template(path = "admin/privacy.html")]
struct PrivacyPage {
    chrome: StaffChrome,
    email: String,
    problem: Option<&'static str>,
}

pub async fn show(Admin(page): Admin) -> Result<Response> {
    let view = PrivacyPage {
        chrome: page.chrome().await?,
        email: String::new(),
        problem: None,
    };
    Ok(page.render(StatusCode::OK, &view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrivacyForm {
    email: String,
    confirm: String,
}

impl PrivacyForm {
    /// What needs fixing before the request can be carried out.
    fn problem(&self, erasing: bool) -> Option<&'static str> {
        if !email_address::EmailAddress::is_valid(self.email.trim()) {
            Some("Please enter a valid email address.")
        } else if erasing && self.confirm != "yes" {
            Some("Please tick the box to confirm the erasure.")
        } else {
            None
        }
    }
}

async fn again(page: &StaffPage, email: String, problem: &'static str) -> Result<Response> {
    let view = PrivacyPage {
        chrome: page.chrome().await?,
        email,
        problem: Some(problem),
    };
    Ok(page.render(StatusCode::UNPROCESSABLE_ENTITY, &view))
}

/// Downloads everything stored about an email address as a JSON file.
pub async fn export(Admin(page): Admin, CsrfForm(form, ..): CsrfForm<PrivacyForm>) -> Result<Response> {
    if let Some(problem) = form.problem(false) {
        return again(&page, form.email, problem).await;
    }
    let export = crate::privacy::export(&page.db, &form.email, Some(page.staff.id)).await?;
    let json = serde_json::to_string_pretty(&export).map_err(anyhow::Error::from)?;
    let headers = [
        (header::CONTENT_TYPE, "application/json; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"carethread-export.json\"",
        ),
    ];
    Ok((headers, json).into_response())
}

pub async fn erase(Admin(page): Admin, CsrfForm(form, ..): CsrfForm<PrivacyForm>) -> Result<Response> {
    if let Some(problem) = form.problem(true) {
        return again(&page, form.email, problem).await;
    }
    let count = crate::privacy::erase(&page.db, &form.email, Some(page.staff.id)).await?;
    page.flash(format!(
        "Erased the email address and name from {count} comments."
    ))
    .await;
    Ok(Redirect::to("/admin/privacy").into_response())
}
