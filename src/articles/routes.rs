//! The front page: articles that take comments, and on a new site, for a browser on the same
//! machine, the command that creates the first admin.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Router,
    extract::{ConnectInfo, FromRef, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
    routing::get,
};
use sqlx::PgPool;

use super::{ArticleSummary, store};
use crate::{
    accounts,
    error::Result,
    web::{caching, client::is_local, page::render},
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route("/", get(index))
}

#[derive(Template)]
#[template(path = "articles/index.html")]
struct IndexPage {
    articles: Vec<ArticleSummary>,
    /// The command that creates the first admin, shown only to this machine on a new site.
    first_admin: Option<&'static str>,
}

async fn index(
    State(db): State<PgPool>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response> {
    let articles = store::list_open(&db).await?;
    let first_admin = accounts::service::first_admin_command(&db, is_local(peer, &headers)).await?;
    let mut response = render(
        StatusCode::OK,
        &IndexPage {
            articles,
            first_admin,
        },
    );
    if first_admin.is_some() {
        // Never kept by a shared cache, whatever the policy of the rest of the page becomes.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, caching::PRIVATE);
    }
    Ok(response)
}
