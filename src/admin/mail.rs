//! Admin → Mail: what was sent, what waits and what failed, with a button to send a failed mail
//! again.

use askama::Template;
use axum::{
    extract::{Path, Query},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    accounts::guard::{Admin, StaffChrome},
    error::Result,
    mail::store,
    web::{form::CsrfForm, page::age},
};

pub struct MailRow {
    pub id: i64,
    pub subject: String,
    pub recipient: Option<String>,
    pub when: String,
    pub created_iso: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    chrome: StaffChrome,
    delivery: String,
    status: &'static str,
    tabs: Vec<(&'static str, &'static str, i64)>,
    mails: Vec<MailRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MailQuery {
    status: Option<String>,
}

pub async fn show(Admin(page): Admin, Query(query): Query<MailQuery>) -> Result<Response> {
    let status = match query.status.as_deref() {
        Some("sent") => "sent",
        Some("failed") => "failed",
        _ => "queued",
    };
    let (queued, sent, failed) = store::counts(&page.db).await?;
    let mails = store::list(&page.db, status, 100).await?;
    let view = MailPage {
        chrome: page.chrome().await?,
        delivery: delivery(&page.config),
        status,
        tabs: vec![
            ("queued", "Waiting", queued),
            ("sent", "Sent", sent),
            ("failed", "Failed", failed),
        ],
        mails: mails.into_iter().map(MailRow::from).collect(),
    };
    Ok(page.render(StatusCode::OK, &view))
}

/// Where mail goes, in words.
fn delivery(config: &crate::config::Config) -> String {
    if config.mail.sends() {
        "Mail goes to the mail server set in CARETHREAD_SMTP_URL.".to_owned()
    } else {
        format!(
            "No mail server is set (CARETHREAD_SMTP_URL): mails are written as files in {}.",
            config.mail.folder.display()
        )
    }
}

impl From<store::Listed> for MailRow {
    fn from(m: store::Listed) -> Self {
        Self {
            id: m.id,
            when: age(m.sent_at.unwrap_or(m.created_at)),
            created_iso: m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            subject: m.subject,
            recipient: m.recipient,
            attempts: m.attempts,
            last_error: m.last_error,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

pub async fn resend(Admin(page): Admin, Path(id): Path<i64>, _: CsrfForm<NoFields>) -> Result<Response> {
    let message = if store::resend(&page.db, id).await? {
        "The mail will be sent again in a moment."
    } else {
        "That mail cannot be sent again: it was not a failed mail, or its address has been forgotten."
    };
    page.flash(message).await;
    Ok(Redirect::to("/admin/mail?status=failed").into_response())
}
