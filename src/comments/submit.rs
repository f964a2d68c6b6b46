//! Posting a guest's comment: every rule between a submitted form and a stored comment.
//!
//! The rate checks and the insert are one step: the database function that stores a post holds
//! advisory locks on the poster's address and the article until it commits (see
//! `store::post_guest_comment`), so forty posts sent at once from one address store exactly as
//! many as the limit allows, and one form stores at most one comment per
//! address and reply target however often it is sent again (see `safety::spam::FormUse`).
//!
//! Forms are shared: every reader shown a thread within one window gets the same form (so a
//! shared cache can keep the page). What tells posters apart is what the server knows of them:
//! the hash of their address. Two readers sending the same words with the same form are two
//! comments; one reader sending it twice is one.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{
    CommentForm, FormErrors, PARENT_UNAVAILABLE,
    store::{self, Posted, Posting, PostingLimits},
};
use crate::{
    articles::Article,
    config::Config,
    mail,
    safety::{spam, triage::Category},
};

/// What became of a submitted comment.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (pending, or quietly in the spam tab); `urgent` when it mentions a warning sign,
    /// `category` choosing the help shown. `status_link` is the token of the reader's private link
    /// to it (only its hash is kept).
    Stored {
        id: i64,
        urgent: bool,
        category: Option<Category>,
        status_link: String,
    },
    /// The same form or the same words again: nothing new is stored, and the reader is answered
    /// as the first time.
    Repeat {
        urgent: bool,
        category: Option<Category>,
    },
    /// This address has posted as much as the rate window allows.
    AddressLimited,
    /// This article has received as much as the rate window allows.
    ArticleBusy,
    /// What needs fixing, field by field.
    Invalid(FormErrors),
}

/// The request's part of a submission: who sent it (as a keyed hash) and when.
pub struct Submission<'a> {
    pub form: &'a CommentForm,
    pub client_hash: &'a [u8],
    pub now: DateTime<Utc>,
}

/// Checks and stores a guest's comment on `article`, which must be open for comments.
pub async fn submit(
    db: &PgPool,
    config: &Config,
    (stamp_key, mail_key): (&[u8], &[u8]),
    article: &Article,
    submission: &Submission<'_>,
) -> Result<Outcome, sqlx::Error> {
    let input = submission.form;
    let comment = match input.parse() {
        Ok(comment) => comment,
        Err(errors) => {
            crate::monitoring::comment_posted("invalid");
            return Ok(Outcome::Invalid(errors));
        }
    };
    let now = submission.now;
    let stamp = spam::check_stamp(
        stamp_key,
        &input.form_stamp,
        now.timestamp(),
        config.min_form_seconds,
    );
    // Every reader in a window is shown the same form, so a form is told apart by who sends it.
    let signed = stamp != spam::Stamp::Invalid;
    let used = spam::FormUse {
        stamp: &input.form_stamp,
        client_hash: submission.client_hash,
        article_id: article.id,
        parent: input.parent_id.trim(),
    };
    let submission_key = signed.then(|| used.submission_key(&comment.body));
    let stamp_hash = signed.then(|| used.form_key());

    // Work that needs no database is done before the locks are taken, so they are held briefly.
    let triage = config.warning_signs.check(&comment.body);
    let spam_words = spam::text_reason(&comment.body, &config.banned_phrases);
    let link = crate::accounts::tokens::generate();
    // The address's lock also covers its use of a form: the form key includes the address.
    let keys = [
        lock_key(b"address", submission.client_hash),
        lock_key(b"article", &article.id.to_be_bytes()),
    ];
    let posting = Posting {
        article_id: article.id,
        comment: &comment,
        urgent_signs: &triage.signs,
        client_hash: submission.client_hash,
        submission_key: submission_key.as_deref(),
        stamp_hash: stamp_hash.as_deref(),
        status_link: (&link.hash, now + config.mail.status_link_lifetime),
        spam_first: spam_first(input, stamp),
        spam_words: spam_words.as_deref(),
        limits: &PostingLimits {
            per_address: config.rate_per_address,
            per_article: config.rate_per_article,
            per_form: config.comments_per_form,
            repeat_since: now - chrono::Duration::hours(1),
            rate_since: now - config.rate_window,
            seen_since: now - chrono::Duration::days(7),
            form_reused: FORM_REUSED,
            seen_before: SEEN_BEFORE,
        },
    };
    // A post that needs more in its transaction (a reply-mail request, an urgent alert) opens one;
    // any other is stored by one call that is its own transaction.
    let follow_up = triage.urgent || (comment.notify && comment.author_email.is_some());
    let mut tx = if follow_up { Some(db.begin().await?) } else { None };
    let posted = match tx.as_mut() {
        Some(tx) => store::post_guest_comment(&mut **tx, &keys, &posting).await?,
        None => store::post_guest_comment(db, &keys, &posting).await?,
    };
    let Posted {
        repeat,
        by_client,
        on_article,
        parent_ok,
        spam_reason,
        id,
    } = posted;
    // The same words again from the same reader (the form shown twice, say): answer as before.
    if repeat {
        crate::monitoring::comment_posted("repeat");
        return Ok(Outcome::Repeat {
            urgent: triage.urgent,
            category: triage.category,
        });
    }
    if by_client >= config.rate_per_address {
        tracing::info!(article.id = article.id, "comment refused: address rate limit");
        crate::monitoring::comment_posted("rate_limited");
        return Ok(Outcome::AddressLimited);
    }
    if on_article >= config.rate_per_article {
        tracing::info!(article.id = article.id, "comment refused: article rate limit");
        crate::monitoring::comment_posted("rate_limited");
        return Ok(Outcome::ArticleBusy);
    }
    if !parent_ok {
        crate::monitoring::comment_posted("invalid");
        return Ok(Outcome::Invalid(FormErrors {
            parent: Some(PARENT_UNAVAILABLE),
            ..Default::default()
        }));
    }
    // This form was stored before: a double click or a retry.
    let Some(id) = id else {
        return Ok(Outcome::Repeat {
            urgent: triage.urgent,
            category: triage.category,
        });
    };
    let spam = spam_reason.is_some();
    if let Some(mut tx) = tx {
        if !spam {
            after_storing(&mut tx, (config, mail_key), id, &comment, triage.urgent).await?;
        }
        tx.commit().await?;
    }
    tracing::info!(
        comment.id = id,
        article.id = article.id,
        urgent = triage.urgent,
        spam,
        "comment received for moderation"
    );
    crate::monitoring::comment_posted(match (spam, triage.urgent) {
        (true, _) => "spam",
        (false, true) => "urgent",
        (false, false) => "pending",
    });
    Ok(Outcome::Stored {
        id,
        urgent: triage.urgent,
        category: triage.category,
        status_link: link.token,
    })
}

/// In the same transaction as a pending comment (which was stored with its status link): the
/// reader's request for reply mails, and alerts to staff when it is urgent. Spam gets a status
/// link like anything else (a bot learns nothing), but no mails.
async fn after_storing(
    tx: &mut sqlx::PgConnection,
    (config, mail_key): (&Config, &[u8]),
    id: i64,
    comment: &super::NewComment,
    urgent: bool,
) -> Result<(), sqlx::Error> {
    if let (true, Some(email)) = (comment.notify, &comment.author_email) {
        mail::subscribe(&mut *tx, config, mail_key, id, email).await?;
    }
    if urgent {
        mail::urgent_comment(&mut *tx, config, id).await?;
    }
    Ok(())
}

/// An advisory-lock key for one kind of thing (an address, an article, a form).
fn lock_key(kind: &[u8], value: &[u8]) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"carethread posting lock\x1f")
        .chain_update(kind)
        .chain_update(b"\x1f")
        .chain_update(value)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Why a post belongs in the spam tab whatever the database knows of it. After this come, in
/// order: the form used for another comment already (`FORM_REUSED`), its words
/// (`spam::text_reason`), and the same text posted before (`SEEN_BEFORE`); the database weighs
/// those in the statement that stores the post.
fn spam_first(input: &CommentForm, stamp: spam::Stamp) -> Option<&'static str> {
    if !input.website.trim().is_empty() {
        return Some("filled in the hidden field");
    }
    match stamp {
        spam::Stamp::Fine => None,
        spam::Stamp::TooFast => Some("posted seconds after the form was shown"),
        spam::Stamp::Invalid => Some("the form's time stamp was missing or altered"),
    }
}

const FORM_REUSED: &str = "the form had already been used for another comment from this address";
const SEEN_BEFORE: &str = "the same text was posted before";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_by_kind_and_value() {
        assert_eq!(lock_key(b"article", b"1"), lock_key(b"article", b"1"));
        assert_ne!(lock_key(b"article", b"1"), lock_key(b"address", b"1"));
        assert_ne!(lock_key(b"article", b"1"), lock_key(b"article", b"2"));
    }
}
