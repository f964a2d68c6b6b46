//! Personal data on request: everything stored about an email address, exported as JSON or
//! erased. Erasing removes the email and the name from every comment written with it and forgets
//! the address hash, and forgets the address kept for reply mails with its subscriptions and
//! mails; the comment text stays, because moderators redact it separately if needed.

pub mod store;

use serde::Serialize;
use sqlx::PgPool;

use crate::audit::{self, Action, Target};

#[derive(Debug, Serialize)]
pub struct Export {
    pub email: String,
    pub exported_at: String,
    pub comments: Vec<store::ExportedComment>,
    pub staff_account: Option<store::ExportedAccount>,
    /// Kept for reply mails, if the reader asked for them.
    pub mail_address: Option<store::ExportedMailAddress>,
}

/// Everything stored about `email`; the export is recorded in the audit log (without the email).
pub async fn export(db: &PgPool, email: &str, actor: Option<i64>) -> anyhow::Result<Export> {
    let email = email.trim();
    let mut tx = db.begin().await?;
    let comments = store::comments_by_email(&mut *tx, email).await?;
    let staff_account = store::account_by_email(&mut *tx, email).await?;
    let mail_address = store::mail_address_by_email(&mut *tx, email).await?;
    audit::record(
        &mut tx,
        actor,
        Action::PrivacyExported,
        Target::Person(comments.len() as i64),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Export {
        email: email.to_owned(),
        exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        comments,
        staff_account,
        mail_address,
    })
}

/// Anonymises every comment written with `email`; returns how many. Audited without the email.
pub async fn erase(db: &PgPool, email: &str, actor: Option<i64>) -> anyhow::Result<u64> {
    let mut tx = db.begin().await?;
    let count = store::anonymise(&mut *tx, email.trim()).await?;
    store::forget_mail_address(&mut tx, email.trim()).await?;
    audit::record(
        &mut tx,
        actor,
        Action::PrivacyErased,
        Target::Person(count as i64),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(count)
}
