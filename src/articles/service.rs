//! Articles' rules for admins: adding, editing, opening and closing, each audited as done by
//! the account `by`.

use sqlx::PgPool;

use super::{NewArticle, store};
use crate::{
    audit::{self, Action, Target},
    error::{AppError, Result},
};

/// Adds an article open for comments: its short name, or `Err(problem)` when what was typed
/// needs fixing.
pub async fn add(db: &PgPool, by: i64, slug: &str, title: &str, url: &str) -> Result<Result<String, String>> {
    let article = match NewArticle::parse(slug, title, url, true) {
        Ok(article) => article,
        Err(problem) => return Ok(Err(problem)),
    };
    let mut tx = db.begin().await?;
    let Some(id) = store::insert(&mut *tx, &article).await? else {
        let slug = article.slug.as_str();
        return Ok(Err(format!(
            "Short name for the address: there is already an article with the slug '{slug}'. Please choose another."
        )));
    };
    audit::record(&mut tx, Some(by), Action::ArticleAdded, Target::Article(id), None).await?;
    tx.commit().await?;
    Ok(Ok(article.slug.as_str().to_owned()))
}

/// Changes an article's title and address; `Err(problem)` when what was typed needs fixing.
pub async fn edit(
    db: &PgPool,
    by: i64,
    slug: &str,
    title: &str,
    url: &str,
) -> Result<Result<String, String>> {
    let article = match NewArticle::parse(slug, title, url, true) {
        Ok(article) => article,
        Err(problem) => return Ok(Err(problem)),
    };
    let mut tx = db.begin().await?;
    let id = store::update(&mut *tx, slug, &article.title, &article.url)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        Some(by),
        Action::ArticleEdited,
        Target::Article(id),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(article.title))
}

/// Opens or closes an article to new comments; published comments stay visible either way.
pub async fn set_open(db: &PgPool, by: i64, slug: &str, open: bool) -> Result<&'static str> {
    let mut tx = db.begin().await?;
    let id = store::set_comments_open(&mut *tx, slug, open)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = if open {
        Action::ArticleOpened
    } else {
        Action::ArticleClosed
    };
    audit::record(&mut tx, Some(by), action, Target::Article(id), None).await?;
    tx.commit().await?;
    Ok(if open {
        "Comments are open again."
    } else {
        "Comments are closed. Published comments stay visible."
    })
}
