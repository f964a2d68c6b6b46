//! Saved replies' rules: each change is one transaction with its audit entry, which names the
//! saved reply by its title.

use sqlx::PgPool;

use super::{Problems, SavedReplyForm, store};
use crate::{
    accounts::Staff,
    audit::{self, Action, Target},
    error::{AppError, Result},
};

/// What became of an add or an edit.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    Done(i64),
    /// Shown again with what was typed and what to fix.
    Invalid(Problems),
}

pub async fn add(db: &PgPool, staff: &Staff, form: &SavedReplyForm) -> Result<Saved> {
    let text = match form.parse() {
        Ok(text) => text,
        Err(problems) => return Ok(Saved::Invalid(problems)),
    };
    let mut tx = db.begin().await?;
    let id = store::insert(&mut tx, &text.title, &text.body, Some(staff.id)).await?;
    let target = Target::SavedReply(id);
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::SavedReplyAdded,
        target,
        Some(&text.title),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved::Done(id))
}

pub async fn edit(db: &PgPool, staff: &Staff, id: i64, form: &SavedReplyForm) -> Result<Saved> {
    let text = match form.parse() {
        Ok(text) => text,
        Err(problems) => return Ok(Saved::Invalid(problems)),
    };
    let mut tx = db.begin().await?;
    if !store::update(&mut tx, id, &text.title, &text.body, staff.id).await? {
        return Err(AppError::NotFound);
    }
    let target = Target::SavedReply(id);
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::SavedReplyEdited,
        target,
        Some(&text.title),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved::Done(id))
}

/// Deletes saved reply `id`; replies it was inserted into keep their text.
pub async fn delete(db: &PgPool, staff: &Staff, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let title = store::delete(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let target = Target::SavedReply(id);
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::SavedReplyDeleted,
        target,
        Some(&title),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
