//! Demo content, written for carethread, so a new install shows the whole idea at once.
//! Every name and word here is invented.

use chrono::{Duration, Utc};
use sqlx::PgPool;

use crate::{
    accounts::{self, Role, store::NewAccount},
    articles::{self, NewArticle},
    comments::{CommentStatus, store},
    config::DEFAULT_DISCLAIMER,
    moderation,
};

/// The demo's verified midwife. The account has no password, so nobody can sign in as it until an
/// admin issues it a reset link.
const DEMO_MIDWIFE_EMAIL: &str = "demo.midwife@example.org";

const DEMO_REPLY: &str = "Thank you for asking, Kim. Some bleeding after a miscarriage is expected, and it \
usually settles within **two weeks**, getting lighter over time.\n\n\
Please call your GP or maternity unit if:\n\n\
- the bleeding gets heavier, or you soak a pad in an hour\n\
- you have a temperature, or strong pain\n\
- it smells unpleasant, or has not eased after two weeks\n\n\
You can read more on the [NHS website](https://www.nhs.uk/conditions/miscarriage/).";

async fn add_midwife_reply(
    tx: &mut sqlx::PgConnection,
    article_id: i64,
    parent_id: i64,
) -> anyhow::Result<()> {
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = $1")
        .bind(DEMO_MIDWIFE_EMAIL)
        .fetch_optional(&mut *tx)
        .await?;
    let midwife = match existing {
        Some(id) => id,
        None => {
            let account = NewAccount {
                email: DEMO_MIDWIFE_EMAIL,
                display_name: "Demo Midwife",
                role: Role::Midwife,
                password_hash: None,
                verified: true,
                verified_by: None,
            };
            accounts::store::insert_account(&mut *tx, &account)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo midwife"))?
        }
    };
    let html = moderation::markdown::render(DEMO_REPLY);
    moderation::store::insert_staff_reply(
        tx,
        &moderation::store::NewStaffReply {
            article_id,
            parent_id,
            author_user_id: midwife,
            author_name: "Demo Midwife",
            body: DEMO_REPLY,
            body_html: &html,
            disclaimer: DEFAULT_DISCLAIMER,
            disclaimer_version: None,
        },
    )
    .await?;
    Ok(())
}

/// The organisation's helpline, kept once as a saved reply (an invented number and address).
const DEMO_SAVED_TITLE: &str = "Our support line";
const DEMO_SAVED_REPLY: &str = "If you would like to talk it through, our support line is here for you: \
call **0800 000 0000** (free, Monday to Friday, 9am to 5pm) or email \
[support@example.org](mailto:support@example.org).";

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
    let question = store::insert_raw(
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
    add_midwife_reply(&mut tx, article_id, question).await?;
    crate::saved_replies::store::insert(&mut tx, DEMO_SAVED_TITLE, DEMO_SAVED_REPLY, None).await?;
    tx.commit().await?;
    Ok(Loaded::Added { comments: 6 })
}
