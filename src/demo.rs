//! Demo content, written for carethread, so a new install shows the whole idea at once.
//! Every name and word here is invented.

use chrono::{Duration, Utc};
use sqlx::PgPool;

use crate::{
    articles::{self, NewArticle},
    comments::{CommentStatus, store},
};

pub const DEMO_SLUG: &str = "after-a-miscarriage";

/// What `load` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    Added { comments: usize },
    AlreadyThere,
}

/// Adds the demo article and its comments unless the demo article already exists.
pub async fn load(pool: &PgPool) -> anyhow::Result<Loaded> {
    let mut tx = pool.begin().await?;
    let article = NewArticle::parse(
        DEMO_SLUG,
        "After a miscarriage",
        "https://example.org/health/after-a-miscarriage",
        true,
    )
    .map_err(anyhow::Error::msg)?;
    let Some(article_id) = articles::store::insert(&mut *tx, &article).await? else {
        return Ok(Loaded::AlreadyThere);
    };

    let now = Utc::now();
    let ago = |days: i64, hours: i64| now - Duration::days(days) - Duration::hours(hours);
    use CommentStatus::{Pending, Published};

    let first = store::insert_raw(
        &mut *tx,
        article_id,
        None,
        "Robin",
        "It has been three weeks and I still cry at odd moments, like in the queue at the shops.\n\
         Is that normal? Everyone around me seems to have moved on.",
        Published,
        ago(6, 3),
    )
    .await?;
    store::insert_raw(
        &mut *tx,
        article_id,
        Some(first),
        "Alex",
        "It was the same for me. Some days were fine and then something small would set me off. \
         Talking to other people who had been through it helped more than I expected.",
        Published,
        ago(5, 20),
    )
    .await?;
    store::insert_raw(
        &mut *tx,
        article_id,
        None,
        "Jo",
        "Thank you for writing this page. I read it at 3am and it helped me feel less alone.",
        Published,
        ago(3, 1),
    )
    .await?;
    store::insert_raw(
        &mut *tx,
        article_id,
        None,
        "Kim",
        "How long should the bleeding last afterwards? Mine seems to be going on for a while.",
        Published,
        ago(1, 4),
    )
    .await?;
    store::insert_raw(
        &mut *tx,
        article_id,
        None,
        "Charlie",
        "Is it safe to go back to the gym next week?",
        Pending,
        ago(0, 2),
    )
    .await?;
    tx.commit().await?;
    Ok(Loaded::Added { comments: 5 })
}
