//! API tokens: made by an admin for one member of staff, shown once, kept only as a hash.
//!
//! A token is `ct_` and 256 random bits (URL-safe base64). It acts as its owner within its
//! scope: `read` reads the queue; `moderate` also decides and replies, as far as the owner's role
//! allows. Every use notes the time; every change made with one is audited (see [`record_use`]).

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::store;
use crate::{
    accounts::{self, Staff, tokens},
    audit::{self, Action, Target},
    error::{AppError, Result},
    text::normalise_line,
};

/// Every token starts with this, so one found in a log or a repository is recognisable.
pub const PREFIX: &str = "ct_";
pub const NAME_MAX_CHARS: usize = 80;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "api_token_scope", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read the queue.
    Read,
    /// Read the queue, decide on comments and reply, as far as the owner's role allows.
    Moderate,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::Moderate];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Moderate => "moderate",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// For the admin page.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Read => "Read the queue",
            Scope::Moderate => "Read, decide and reply (as the owner's role allows)",
        }
    }
}

/// A token as an admin asked for it on the form.
pub struct TokenRequest<'a> {
    pub name: &'a str,
    pub owner: &'a str,
    pub scope: &'a str,
}

/// A new token: shown once, then only its hash is left.
pub struct Issued {
    pub token: String,
    pub name: String,
    pub owner_name: String,
    pub scope: Scope,
}

/// Makes a token for an active account, audited; or what to fix on the form.
pub async fn create(
    db: &PgPool,
    admin: &Staff,
    request: &TokenRequest<'_>,
) -> Result<Result<Issued, &'static str>> {
    let name = normalise_line(request.name);
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Ok(Err(
            "Please give the token a name of 1 to 80 characters, saying what it is for.",
        ));
    }
    let Some(scope) = Scope::parse(request.scope) else {
        return Ok(Err("Please choose what the token may do."));
    };
    let Ok(owner) = request.owner.trim().parse::<i64>() else {
        return Ok(Err("Please choose whose account the token acts for."));
    };
    let secret = tokens::generate();
    let mut tx = db.begin().await?;
    let Some((id, owner_name)) =
        store::insert_token(&mut *tx, owner, &name, scope, &secret.hash, admin.id).await?
    else {
        return Ok(Err(
            "That account cannot hold a token: it is disabled or has not accepted its invitation.",
        ));
    };
    let reason = format!(
        "{} token \u{201c}{name}\u{201d} for account {owner}",
        scope.as_str()
    );
    audit::record(
        &mut tx,
        Some(admin.id),
        Action::ApiTokenCreated,
        Target::ApiToken(id),
        Some(&reason),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Issued {
        token: format!("{PREFIX}{}", secret.token),
        name,
        owner_name,
        scope,
    }))
}

/// Revokes token `id`, audited; says what happened.
pub async fn revoke(db: &PgPool, admin: &Staff, id: i64) -> Result<&'static str> {
    let mut tx = db.begin().await?;
    if !store::revoke_token(&mut *tx, id, admin.id).await? {
        return Ok("Nothing was changed: that token was already revoked, or there is no such token.");
    }
    audit::record(
        &mut tx,
        Some(admin.id),
        Action::ApiTokenRevoked,
        Target::ApiToken(id),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok("Revoked. The token no longer works.")
}

/// Who is calling with a token.
#[derive(Debug, Clone)]
pub struct Holder {
    pub token_id: i64,
    pub scope: Scope,
    pub staff: Staff,
}

/// The holder of `presented` (the whole `ct_…` token), if it is a token in use whose owner may
/// still sign in.
pub async fn authenticate(db: &PgPool, presented: &str) -> Result<Option<Holder>> {
    let Some(secret) = presented.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let Some(used) = store::use_token(db, &tokens::hash(secret)).await? else {
        return Ok(None);
    };
    let staff = accounts::store::find_active(db, used.user_id).await?;
    Ok(staff.map(|staff| Holder {
        token_id: used.id,
        scope: used.scope,
        staff,
    }))
}

/// Notes in the audit log that `holder`'s token was used to make a change (`what`, e.g. "hide
/// comment 12"). The change itself is audited by its own service, with the owner as actor.
pub async fn record_use(db: &PgPool, holder: &Holder, what: &str) -> Result<()> {
    let mut conn = db.acquire().await.map_err(AppError::from)?;
    audit::record(
        &mut conn,
        Some(holder.staff.id),
        Action::ApiTokenUsed,
        Target::ApiToken(holder.token_id),
        Some(what),
    )
    .await?;
    Ok(())
}

/// The tokens for the admin page.
pub async fn list(db: &PgPool) -> Result<Vec<store::TokenRow>> {
    Ok(store::list_tokens(db).await?)
}
