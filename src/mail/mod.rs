//! Mail: what carethread sends, and how it leaves.
//!
//! - **Readers** who tick "Email me when someone replies" get a confirmation first (neutral
//!   subject, no comment text); nothing else is sent to an address until it is confirmed. Then,
//!   when a reply to their comment is published, one mail with a link to it (never the words of
//!   the question or the reply: inboxes are shared and previewed on lock screens). Replies
//!   published while a mail waits go in the same mail (`CARETHREAD_NOTIFY_BATCH_MINUTES`).
//!   Every mail to a reader has a one-click unsubscribe link and the RFC 8058 headers.
//! - **Staff** who chose to be alerted get "Urgent comment waiting" with a link to the queue, an
//!   optional daily summary, and their invitation and reset links.
//!
//! Every mail is a row in the outbox written in the same transaction as its cause (see the
//! migration); `worker` sends the rows from every `serve` process, retrying with growing waits for
//! a day. Without `CARETHREAD_SMTP_URL` mails are written as `.eml` files under
//! `{data dir}/mail/`, so a newcomer sees what would be sent.

pub mod compose;
pub mod routes;
pub mod store;
pub mod transport;
pub mod worker;

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{PgConnection, PgPool};

use crate::config::Config;

/// A mail ready to queue. Subjects and bodies are made from templates and this site's own words
/// (article titles, links); nothing a reader typed goes into a mail or its headers.
#[derive(Debug, Clone)]
pub struct Mail {
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe address, for mails to readers.
    pub unsubscribe: Option<String>,
}

/// What mail needs from the application.
#[derive(Clone)]
pub struct Context {
    pub db: PgPool,
    pub config: Arc<Config>,
    /// Signs the links in mails (confirm, stop).
    pub key: Arc<[u8]>,
}

/// The signed part of a link that acts for an address: `purpose` keeps a confirmation link from
/// being used to stop mails and the other way round.
pub fn link_token(key: &[u8], purpose: &str, address_id: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\x1f");
    mac.update(address_id.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..18])
}

/// Whether `token` is the signed part of a `purpose` link for `address_id` (checked in constant
/// time).
pub fn link_token_ok(key: &[u8], purpose: &str, address_id: i64, token: &str) -> bool {
    let Ok(given) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\x1f");
    mac.update(address_id.to_string().as_bytes());
    given.len() == 18 && mac.verify_truncated_left(&given).is_ok()
}

pub const CONFIRM: &str = "confirm";
pub const STOP: &str = "stop";

/// The address of the page where a reader confirms their address.
pub fn confirm_url(config: &Config, key: &[u8], address_id: i64) -> String {
    let token = link_token(key, CONFIRM, address_id);
    format!("{}/mail/confirm/{address_id}/{token}", config.public_url)
}

/// The address of the page where a reader stops mails (for one comment, or all).
pub fn stop_url(config: &Config, key: &[u8], address_id: i64, comment: Option<i64>) -> String {
    let token = link_token(key, STOP, address_id);
    let comment = comment.map(|id| format!("?comment={id}")).unwrap_or_default();
    format!("{}/mail/stop/{address_id}/{token}{comment}", config.public_url)
}

/// Asks for reply mails for `comment_id` to `email`, in the caller's transaction: a confirmation
/// is queued when the address is new (or its last confirmation is more than a day old).
pub async fn subscribe(
    tx: &mut PgConnection,
    config: &Config,
    key: &[u8],
    comment_id: i64,
    email: &str,
) -> sqlx::Result<()> {
    let address = store::address_for(&mut *tx, email).await?;
    store::subscribe(&mut *tx, comment_id, address.id).await?;
    if address.needs_confirmation {
        let mail = compose::confirmation(config, key, address.id, email);
        store::enqueue(&mut *tx, &mail, chrono::Utc::now()).await?;
        store::confirmation_sent(&mut *tx, address.id).await?;
    }
    Ok(())
}

/// A reply was just published: note it for the readers who asked to hear about replies to the
/// comment it answers. Mails go out from the worker, gathered per address.
pub async fn reply_published(tx: &mut PgConnection, reply_id: i64) -> sqlx::Result<()> {
    store::notice_reply(tx, reply_id).await
}

/// A comment was marked urgent: queue an alert for each member of staff who wants one.
pub async fn urgent_comment(tx: &mut PgConnection, config: &Config, comment_id: i64) -> sqlx::Result<()> {
    for email in store::alerted_staff(&mut *tx).await? {
        let mail = compose::urgent_alert(config, &email, comment_id);
        store::enqueue(&mut *tx, &mail, chrono::Utc::now()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_bound_to_their_purpose_and_address() {
        let key = b"a key for mail links";
        let token = link_token(key, CONFIRM, 7);
        assert!(link_token_ok(key, CONFIRM, 7, &token));
        assert!(!link_token_ok(key, STOP, 7, &token));
        assert!(!link_token_ok(key, CONFIRM, 8, &token));
        assert!(!link_token_ok(b"another key", CONFIRM, 7, &token));
        assert!(!link_token_ok(key, CONFIRM, 7, "short"));
    }
}
