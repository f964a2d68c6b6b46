//! The mail worker, one in every `serve` process: every few seconds it gathers replies into
//! mails, sends what is due, and now and then sends daily summaries and forgets old addresses.
//! Processes share the work through row locks: a mail is claimed by one process only.

use std::time::Duration;

use lettre::message::Mailbox;

use super::{Context, compose, store, transport::Transport};

/// How long a failing mail keeps being tried.
const GIVE_UP_AFTER_SECS: f64 = 24.0 * 3600.0;

/// Runs until the process stops.
pub async fn run(ctx: Context, transport: Transport) {
    tracing::info!("mail is sent {}", transport.describe());
    let Ok(from) = ctx.config.mail.from.parse::<Mailbox>() else {
        tracing::error!("CARETHREAD_MAIL_FROM is not a mail address: no mail will be sent");
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(error) = round(&ctx, &transport, &from, rounds.is_multiple_of(1800)).await {
            tracing::warn!(error = %format!("{error:#}"), "mail round failed");
        }
        rounds += 1;
    }
}

/// One round: gather, send; `chores` adds the daily summaries and forgetting.
pub async fn round(ctx: &Context, transport: &Transport, from: &Mailbox, chores: bool) -> anyhow::Result<()> {
    gather_replies(ctx).await?;
    while deliver(ctx, transport, from).await? > 0 {}
    if chores {
        digests(ctx).await?;
        let mut conn = ctx.db.acquire().await?;
        let days = ctx.config.mail.unpublished_email_lifetime.num_seconds() as f64;
        store::forget_old(&mut conn, days).await?;
    }
    Ok(())
}

/// Turns replies that have waited the batch time into one mail per address.
async fn gather_replies(ctx: &Context) -> anyhow::Result<()> {
    let batch = ctx.config.mail.batch.num_seconds() as f64;
    for address_id in store::addresses_due(&ctx.db, batch, 100).await? {
        let mut tx = ctx.db.begin().await?;
        let notices = store::take_notices(&mut tx, address_id).await?;
        let mut links = Vec::new();
        for n in &notices {
            if store::still_wanted(&mut tx, address_id, n.comment_id, n.reply_id).await? {
                links.push(compose::ReplyLink {
                    comment_id: n.comment_id,
                    reply_id: n.reply_id,
                    article_slug: n.article_slug.clone(),
                    article_title: n.article_title.clone(),
                });
            }
        }
        if let (Some(first), false) = (notices.first(), links.is_empty()) {
            let mail = compose::replies(&ctx.config, &ctx.key, address_id, &first.email, &links);
            store::enqueue(&mut tx, &mail, chrono::Utc::now()).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Sends up to 20 due mails; how many were tried. Each mail is claimed, sent and marked in a
/// transaction of its own: a process stopped mid-round (a deploy, a crash) has marked every mail
/// the mail server accepted except, at worst, the one in hand, so a restart sends nothing again
/// but that one.
async fn deliver(ctx: &Context, transport: &Transport, from: &Mailbox) -> anyhow::Result<usize> {
    let mut tried = 0;
    while tried < 20 {
        let mut tx = ctx.db.begin().await?;
        let Some(mail) = store::claim_due(&mut tx, 1).await?.pop() else {
            break;
        };
        match transport.send(from, &mail).await {
            Ok(()) => {
                store::mark_sent(&mut tx, mail.id).await?;
                tracing::info!(mail.id = mail.id, kind = %mail.kind, "mail sent");
            }
            Err(error) => {
                let waited = (chrono::Utc::now() - mail.created_at).num_seconds() as f64;
                // 1, 2, 4 … minutes, at most an hour apart, for a day.
                let retry = (60.0 * 2f64.powi(mail.attempts.min(6))).min(3600.0);
                let retry = (waited + retry < GIVE_UP_AFTER_SECS).then_some(retry);
                let message = format!("{error:#}");
                tracing::warn!(mail.id = mail.id, kind = %mail.kind, error = %message, gives_up = retry.is_none(), "mail not sent");
                store::mark_failed(&mut tx, mail.id, &message, retry).await?;
            }
        }
        tx.commit().await?;
        tried += 1;
    }
    Ok(tried)
}

/// The daily summary, to staff who asked for it, once a day.
async fn digests(ctx: &Context) -> anyhow::Result<()> {
    let mut tx = ctx.db.begin().await?;
    let due = sqlx::query!(
        "UPDATE users SET digest_sent_at = now()
          WHERE daily_digest AND disabled_at IS NULL AND password_hash IS NOT NULL
            AND (digest_sent_at IS NULL OR digest_sent_at < now() - interval '23 hours')
          RETURNING email"
    )
    .fetch_all(&mut *tx)
    .await?;
    if !due.is_empty() {
        let queue = store::queue_now(&mut *tx).await?;
        let oldest = queue
            .oldest
            .map(|at| crate::web::page::age(at).trim_end_matches(" ago").to_owned());
        for row in due {
            let mail = compose::digest(
                &ctx.config,
                &row.email,
                queue.waiting,
                queue.urgent,
                oldest.clone(),
            );
            store::enqueue(&mut tx, &mail, chrono::Utc::now()).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
