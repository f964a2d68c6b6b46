//! Sign-in: the axum-login backend, sessions in PostgreSQL, the `CurrentStaff` extractor,
//! lockouts after repeated failures, and one-shot messages carried across a redirect.

use anyhow::Context;
use axum::{
    extract::FromRequestParts,
    http::{Method, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthnBackend};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tower_sessions::{Expiry, Session, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::PostgresStore;

use super::{DUMMY_HASH, Staff, Verified, hash_password, store, verify_password};
use crate::error::AppError;

pub const SESSION_COOKIE: &str = "carethread_session";
/// A session ends after two hours without a request…
pub const IDLE_TIMEOUT: time::Duration = time::Duration::hours(2);
/// …and, however busy, `CARETHREAD_SESSION_MAX_HOURS` (12) after sign-in.
const ENDS_AT: &str = "ends_at";
const FLASH: &str = "flash";

pub type AuthSession = axum_login::AuthSession<Backend>;

#[derive(Clone)]
pub struct Backend {
    db: PgPool,
}

impl Backend {
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }
}

#[derive(Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Too many passwords are being checked at once: try again in a moment.
    #[error(transparent)]
    Busy(#[from] super::hashing::Busy),
}

impl AuthnBackend for Backend {
    type User = Staff;
    type Credentials = Credentials;
    type Error = BackendError;

    /// The same work whether or not the email is known, so neither the answer nor its timing
    /// says which accounts exist.
    async fn authenticate(&self, creds: Credentials) -> Result<Option<Staff>, BackendError> {
        let row = store::find_for_login(&self.db, creds.email.trim()).await?;
        let usable = row
            .as_ref()
            .filter(|r| !r.disabled)
            .and_then(|r| r.password_hash.clone().map(|h| (r.id, h)));
        let (id, stored) = match &usable {
            Some((id, hash)) => (Some(*id), hash.clone()),
            None => (None, DUMMY_HASH.clone()),
        };
        let password = creds.password;
        let (verified, password) = super::hashing::run(move || {
            let verified = verify_password(&password, &stored);
            (verified, password)
        })
        .await?;
        let Some(id) = id else { return Ok(None) };
        match verified {
            Verified::No => Ok(None),
            Verified::Yes => Ok(store::find_active(&self.db, id).await?),
            Verified::YesButRehash => {
                let fresh = super::hashing::run(move || hash_password(&password)).await?;
                if let Ok(fresh) = fresh {
                    store::set_password_hash(&self.db, id, &fresh).await?;
                }
                Ok(store::find_active(&self.db, id).await?)
            }
        }
    }

    /// Called on every staff request: a disabled account, or one whose password changed, is
    /// signed out at once.
    async fn get_user(&self, id: &i64) -> Result<Option<Staff>, BackendError> {
        Ok(store::find_active(&self.db, *id).await?)
    }
}

/// Sessions in PostgreSQL behind an HttpOnly, SameSite=Lax cookie; Secure when configured.
pub fn auth_layer(db: PgPool, cookie_secure: bool) -> AuthManagerLayer<Backend, PostgresStore> {
    let store = PostgresStore::new(db.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT));
    AuthManagerLayerBuilder::new(Backend::new(db), sessions).build()
}

/// Signs `staff` in on this session (with a new session id); the session ends `max_age` later.
pub async fn sign_in(
    auth: &mut AuthSession,
    staff: &Staff,
    max_age: chrono::Duration,
) -> Result<(), AppError> {
    auth.login(staff).await.context("sign-in failed")?;
    // axum-login renews the id only for a session that was not signed in. A browser may hold a
    // session someone else signed in and planted: renew it whatever it held, so no id known
    // before this sign-in opens the account after it.
    auth.session.cycle_id().await.context("session")?;
    auth.session
        .insert(ENDS_AT, (Utc::now() + max_age).timestamp())
        .await
        .context("session")?;
    Ok(())
}

/// The signed-in member of staff. Anyone else is sent to the sign-in page.
pub struct CurrentStaff(pub Staff);

impl<S: Send + Sync> FromRequestParts<S> for CurrentStaff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut auth = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(staff) = auth.user.clone() else {
            return Err(to_sign_in(parts, None));
        };
        let ends_at: Option<i64> = auth.session.get(ENDS_AT).await.ok().flatten();
        let expired = ends_at
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
            .is_none_or(|at| Utc::now() >= at);
        if expired {
            let _ = auth.logout().await;
            return Err(to_sign_in(parts, Some("expired")));
        }
        Ok(Self(staff))
    }
}

/// The member of staff signed in on this browser, if any, for a reader's page that changes for
/// staff: never a redirect or a refusal. Only a route wrapped in [`auth_layer`] can tell, and
/// only a request that carries a session cookie reads the session store.
pub struct SignedIn(pub Option<Staff>);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(auth) = AuthSession::from_request_parts(parts, state).await else {
            return Ok(Self(None));
        };
        let Some(staff) = auth.user else {
            return Ok(Self(None));
        };
        let ends_at: Option<i64> = auth.session.get(ENDS_AT).await.ok().flatten();
        let live = ends_at
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
            .is_some_and(|at| Utc::now() < at);
        Ok(Self(live.then_some(staff)))
    }
}

fn to_sign_in(parts: &Parts, reason: Option<&str>) -> Response {
    // After signing in, come back here; a form post cannot be replayed, so go to its page instead.
    let back = if parts.method == Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/moderation", |pq| pq.as_str())
            .to_owned()
    } else {
        "/moderation".to_owned()
    };
    let mut target = format!("/login?next={}", encode_query(&back));
    if let Some(reason) = reason {
        target.push_str("&reason=");
        target.push_str(reason);
    }
    Redirect::to(&target).into_response()
}

fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a form may send a member of staff afterwards: a path on this site and nothing else.
/// One leading `/` and no second `/` or `\` after it (`//host` and `/\host` are other sites to a
/// browser), no backslash, control character or white space anywhere (browsers drop tabs and
/// line breaks from addresses, so `/\t/host` becomes `//host`), only printable ASCII (no look-alike
/// slashes), and the same again once percent-decoded, however many times. Anything else goes to
/// the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    const DEFAULT: &str = "/moderation";
    const MAX_CHARS: usize = 512;
    fn local(path: &str) -> bool {
        let bytes = path.as_bytes();
        bytes.first() == Some(&b'/')
            && !matches!(bytes.get(1), Some(b'/' | b'\\'))
            && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\')
    }
    let Some(next) = next.filter(|n| n.len() <= MAX_CHARS) else {
        return DEFAULT.to_owned();
    };
    let mut current = std::borrow::Cow::Borrowed(next);
    // Checked as sent and as each further decoding would read it.
    for _ in 0..4 {
        if !local(&current) {
            return DEFAULT.to_owned();
        }
        let decoded = percent_decode(&current);
        if decoded == current {
            return next.to_owned();
        }
        current = std::borrow::Cow::Owned(decoded);
    }
    DEFAULT.to_owned()
}

/// `%XX` sequences decoded to bytes; what does not decode to text is kept as it was.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Failed sign-ins lock out whoever is guessing, not the account's owner:
/// - 10 failures for one account from one address within 15 minutes lock that address out of
///   that account for 15 minutes (the owner, elsewhere, can still sign in);
/// - 25 failures from one address within 5 minutes, whatever the accounts, lock that address out;
/// - 50 failures for one account from 10 or more addresses within 15 minutes (a spread-out
///   attack) lock the account for everyone for 15 minutes.
///
/// Addresses are kept only as keyed hashes.
pub struct Lockout;

struct Rule {
    limit: i64,
    window_secs: f64,
    /// Distinct addresses the failures must come from.
    sources: i64,
}

impl Lockout {
    const PAIR: Rule = Rule {
        limit: 10,
        window_secs: 15.0 * 60.0,
        sources: 1,
    };
    const ADDRESS: Rule = Rule {
        limit: 25,
        window_secs: 5.0 * 60.0,
        sources: 1,
    };
    const ACCOUNT: Rule = Rule {
        limit: 50,
        window_secs: 15.0 * 60.0,
        sources: 10,
    };
    const LOCKOUT_SECS: f64 = 15.0 * 60.0;

    /// The keys for this account from this address, from this address, and for this account.
    fn keys(email: &str, address_hash: &[u8]) -> [String; 3] {
        let email = email.trim().to_lowercase();
        let address: String = address_hash.iter().map(|b| format!("{b:02x}")).collect();
        [
            format!("account-from:{email}:{address}"),
            format!("address:{address}"),
            format!("account:{email}"),
        ]
    }

    pub async fn in_force(
        db: &PgPool,
        email: &str,
        address_hash: &[u8],
    ) -> sqlx::Result<Option<DateTime<Utc>>> {
        store::lockout_until(db, &Self::keys(email, address_hash)).await
    }

    pub async fn record_failure(db: &PgPool, email: &str, address_hash: &[u8]) -> sqlx::Result<()> {
        let keys = Self::keys(email, address_hash);
        let mut tx = db.begin().await?;
        for (key, rule) in keys.iter().zip([Self::PAIR, Self::ADDRESS, Self::ACCOUNT]) {
            store::record_failure(
                &mut tx,
                &store::Failure {
                    key,
                    source: address_hash,
                    limit: rule.limit,
                    window_secs: rule.window_secs,
                    sources: rule.sources,
                    lockout_secs: Self::LOCKOUT_SECS,
                },
            )
            .await?;
        }
        tx.commit().await
    }
}

/// Removes expired sessions and old sign-in failures. The service runs it every few minutes.
pub async fn housekeeping(db: &PgPool) -> anyhow::Result<()> {
    use tower_sessions::session_store::ExpiredDeletion;
    PostgresStore::new(db.clone())
        .delete_expired()
        .await
        .context("removing expired sessions")?;
    store::prune_failures(db).await?;
    Ok(())
}

/// A message shown once on the next page, after a redirect.
pub async fn set_flash(session: &Session, message: impl Into<String>) {
    if let Err(error) = session.insert(FLASH, message.into()).await {
        tracing::warn!(%error, "could not keep a message for the next page");
    }
}

pub async fn take_flash(session: &Session) -> Option<String> {
    session.remove::<String>(FLASH).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few of each kind; the full table of known bypasses is sent over HTTP in
    /// tests/api/attacks.rs.
    const BYPASSES: &[&str] = &[
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\u{b}/evil.example",
        "/%09/evil.example",
        "/%2F/evil.example",
        "/%252F/evil.example",
        "/\u{ff0f}/evil.example",
        "//user@evil.example",
        "javascript:alert(1)",
        "",
    ];

    #[test]
    fn next_accepts_only_local_paths() {
        for bad in BYPASSES {
            assert_eq!(safe_next(Some(bad)), "/moderation", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/moderation");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(600)))), "/moderation");
    }

    #[test]
    fn next_keeps_ordinary_local_paths() {
        for good in [
            "/moderation",
            "/moderation?status=hidden",
            "/moderation?status=pending&article=after-a-miscarriage&page=2",
            "/moderation/comments/12",
            "/admin/audit?target=comment%3A12",
            "/@user",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
    }
}
