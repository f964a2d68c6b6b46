//! The rules of site settings: reading them, keeping each process up to date, and saving a
//! change with its audit entries in one transaction.

use std::collections::HashMap;

use sqlx::PgPool;

use super::{Field, SiteText, store};
use crate::{
    audit::{self, Action, Target},
    config::Config,
    error::Result,
};

/// The settings as the database has them now, over the starting values of `config`.
pub async fn read(db: &PgPool, config: &Config) -> Result<SiteText> {
    // The version first: should a change land between the reads, these newer values are kept
    // under the older version, and the next article read brings the version up to date.
    let version = store::version(db).await?;
    let mut text = SiteText::starting(config);
    for (name, value) in store::overrides(db).await? {
        if let Some(field) = Field::parse(&name).filter(|f| *f != Field::Disclaimer) {
            text.set(field, value);
        }
    }
    if let Some((id, disclaimer)) = store::current_disclaimer(db).await? {
        text.disclaimer = disclaimer;
        text.disclaimer_version = Some(id);
    }
    text.version = version;
    Ok(text)
}

/// Reads the settings into this process (at start, and after a change made through it).
pub async fn refresh(db: &PgPool, config: &Config) -> Result<()> {
    config.site.put(read(db, config).await?);
    Ok(())
}

/// Reads the settings again when another process has changed them since this one read them:
/// `seen` is the version that came with an article just read.
pub async fn keep_up(db: &PgPool, config: &Config, seen: i64) -> Result<()> {
    if config.site.version().is_none_or(|held| held < seen) {
        refresh(db, config).await?;
    }
    Ok(())
}

/// Reads the settings again if they changed since this process read them (for staff pages,
/// which read no article: one small query).
pub async fn catch_up(db: &PgPool, config: &Config) -> Result<()> {
    let seen = store::version(db).await?;
    keep_up(db, config, seen).await
}

/// The disclaimer new replies are published with now: its text, and its version when it was
/// saved in the browser. Read in the reply's own transaction, so a reply published through any
/// process gets the newest.
pub async fn disclaimer_now(tx: &mut sqlx::PgConnection, config: &Config) -> Result<(String, Option<i64>)> {
    Ok(match store::current_disclaimer(&mut *tx).await? {
        Some((id, text)) => (text, Some(id)),
        None => (config.disclaimer.clone(), None),
    })
}

/// What became of a change of the settings.
#[derive(Debug)]
pub enum Saved {
    /// Saved: the labels of the settings that changed (none when nothing had).
    Changed(Vec<&'static str>),
    /// Something needs fixing: each field's problem, in the page's order, with what was typed.
    Refused {
        problems: Vec<(Field, String)>,
        typed: HashMap<String, String>,
    },
}

/// Saves the settings an admin sent from the settings page, as `by`. Every changed setting gets
/// its own audit entry with its text before and after; a changed disclaimer becomes a new
/// version. Readers' pages change everywhere at once (see the module's notes).
pub async fn save(db: &PgPool, config: &Config, by: i64, typed: HashMap<String, String>) -> Result<Saved> {
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for field in Field::ALL {
        match field.check(typed.get(field.name()).map_or("", String::as_str)) {
            Ok(value) => values.push((field, value)),
            Err(problem) => problems.push((field, problem)),
        }
    }
    if !problems.is_empty() {
        return Ok(Saved::Refused { problems, typed });
    }
    let mut tx = db.begin().await?;
    // Taken first: two admins saving at once are applied one after the other.
    let version = store::lock_and_move_version(&mut tx).await?;
    let before = read(db, config).await?;
    let mut changed = Vec::new();
    for (field, value) in values {
        let was = before.value(field);
        if was == value {
            continue;
        }
        let target = if field == Field::Disclaimer {
            Target::Disclaimer(store::add_disclaimer(&mut tx, &value, by).await?)
        } else {
            store::put(&mut tx, field.name(), &value, by).await?;
            Target::Settings(version)
        };
        audit::record_change_of(
            &mut tx,
            by,
            (Action::SettingChanged, target),
            field.label(),
            was,
            &value,
        )
        .await?;
        changed.push(field.label());
    }
    if changed.is_empty() {
        tx.rollback().await?;
        return Ok(Saved::Changed(changed));
    }
    store::touch_every_article(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(
        user.id = by,
        settings.version = version,
        changed = changed.len(),
        "site settings changed"
    );
    refresh(db, config).await?;
    Ok(Saved::Changed(changed))
}

/// The confirmation after saving, naming what changed.
pub fn confirmation(changed: &[&str]) -> String {
    match changed {
        [] => "Nothing had changed, so nothing was saved.".to_owned(),
        [one] => format!("Saved the settings: {one} changed. Readers see it now."),
        [rest @ .., last] => format!(
            "Saved the settings: {} and {last} changed. Readers see them now.",
            rest.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_names_what_changed() {
        assert_eq!(
            confirmation(&["Notice above each thread"]),
            "Saved the settings: Notice above each thread changed. Readers see it now."
        );
        assert_eq!(
            confirmation(&["A", "B", "C"]),
            "Saved the settings: A, B and C changed. Readers see them now."
        );
        assert!(confirmation(&[]).starts_with("Nothing had changed"));
    }
}
