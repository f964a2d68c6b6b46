//! `/admin`: the overview, accounts, articles, the audit log, privacy requests and API tokens, one file per page as
//! `templates/admin/` has them. Every handler takes [`Admin`](crate::accounts::guard::Admin).

mod accounts;
mod articles;
mod audit;
mod mail;
mod overview;
mod privacy;
mod tokens;

use std::sync::Arc;

use axum::{
    Router,
    extract::FromRef,
    routing::{get, post},
};
use axum_csrf::CsrfConfig;
use sqlx::PgPool;

use crate::config::Config;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    Router::new()
        .route("/admin", get(overview::show))
        .route("/admin/overview.csv", get(overview::csv))
        .route("/admin/accounts", get(accounts::show))
        .route("/admin/accounts/invite", post(accounts::invite))
        .route("/admin/accounts/{id}/verify", post(accounts::verify))
        .route("/admin/accounts/{id}/role", post(accounts::change_role))
        .route("/admin/accounts/{id}/disable", post(accounts::disable))
        .route("/admin/accounts/{id}/enable", post(accounts::enable))
        .route("/admin/accounts/{id}/reset-link", post(accounts::reset_link))
        .route("/admin/articles", get(articles::show).post(articles::add))
        .route("/admin/articles/{slug}/edit", post(articles::edit))
        .route("/admin/articles/{slug}/close", post(articles::close))
        .route("/admin/articles/{slug}/open", post(articles::open))
        .route("/admin/audit", get(audit::show))
        .route("/admin/mail", get(mail::show))
        .route("/admin/mail/{id}/resend", post(mail::resend))
        .route("/admin/privacy", get(privacy::show))
        .route("/admin/privacy/export", post(privacy::export))
        .route("/admin/privacy/erase", post(privacy::erase))
        .route("/admin/tokens", get(tokens::show).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
}
