//! Who may call a staff endpoint, as types, like the dashboard's guards: a handler that reads the
//! queue takes [`ApiReader`], one that decides takes [`ApiModerator`], one that replies takes
//! [`ApiMidwife`]. Each reads the bearer token (`Authorization: Bearer ct_…`); no session or
//! cookie is involved.
//!
//! - no token, or one that is unknown, revoked or whose owner is disabled → 401 with
//!   `WWW-Authenticate: Bearer`;
//! - a `read` token where `moderate` is needed → 403 (`error="insufficient_scope"`);
//! - a token whose owner's role may not do it → 403, by the same rules as the dashboard.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, header, request::Parts},
};
use sqlx::PgPool;

use super::{
    problem::Problem,
    tokens::{self, Holder, Scope},
};
use crate::{accounts::Staff, config::Config};

const REALM: &str = "Bearer realm=\"carethread\"";

/// A caller with a valid token, whatever its scope.
pub struct ApiStaff {
    pub holder: Holder,
    pub db: PgPool,
    pub config: Arc<Config>,
}

impl<S> FromRequestParts<S> for ApiStaff
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(presented) = bearer(parts) else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "This needs an API token, sent as Authorization: Bearer ct_… (an admin makes them under Admin → API tokens).",
            )
            .with_header(header::WWW_AUTHENTICATE, REALM));
        };
        let db = PgPool::from_ref(state);
        match tokens::authenticate(&db, presented).await? {
            Some(holder) => Ok(Self {
                holder,
                db,
                config: Arc::<Config>::from_ref(state),
            }),
            None => Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "This token does not work: it is mistyped or revoked, or its account is disabled.",
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                &format!("{REALM}, error=\"invalid_token\""),
            )),
        }
    }
}

/// The token after `Bearer ` in the Authorization header.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether `caller` may go on: its token's scope first, then its owner's role.
fn admit(
    caller: &ApiStaff,
    scope: Scope,
    allowed: fn(&Staff) -> bool,
    refusal: &'static str,
) -> Result<(), Problem> {
    if scope == Scope::Moderate && caller.holder.scope != Scope::Moderate {
        return Err(Problem::forbidden(
            "This token may only read. Changes need a token with the moderate scope.",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            &format!("{REALM}, error=\"insufficient_scope\", scope=\"moderate\""),
        ));
    }
    if !allowed(&caller.holder.staff) {
        return Err(Problem::forbidden(refusal));
    }
    Ok(())
}

/// Declares a guard: an [`ApiStaff`] whose token has `$scope` and whose owner passes `$allowed`.
macro_rules! api_guard {
    ($(#[$doc:meta])* $name:ident, $scope:expr, $allowed:expr, $refusal:expr) => {
        $(#[$doc])*
        pub struct $name(pub ApiStaff);

        impl<S> FromRequestParts<S> for $name
        where
            S: Send + Sync,
            PgPool: FromRef<S>,
            Arc<Config>: FromRef<S>,
        {
            type Rejection = Problem;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                let caller = ApiStaff::from_request_parts(parts, state).await?;
                admit(&caller, $scope, $allowed, $refusal)?;
                Ok(Self(caller))
            }
        }
    };
}

api_guard!(
    /// Any token: every member of staff may read the queue (a midwife awaiting verification sees
    /// no guest's email address).
    ApiReader,
    Scope::Read,
    |_| true,
    ""
);

api_guard!(
    /// A `moderate` token of someone who may approve, hide and unhide.
    ApiModerator,
    Scope::Moderate,
    Staff::can_moderate,
    "This token's account is awaiting verification by an admin. Until then it can read the queue but not change it."
);

api_guard!(
    /// A `moderate` token of a verified midwife (or verified admin), who may publish replies.
    ApiMidwife,
    Scope::Moderate,
    Staff::can_reply,
    "Only verified midwives can publish replies, and this token's account is not one."
);
