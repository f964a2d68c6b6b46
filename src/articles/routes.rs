//! The front page: articles that take comments, and on a new site, for a browser on the same
//! machine, the command that creates the first admin.

use std::net::SocketAddr;

use super::{ArticleSummary, store};
use crate::{
    accounts,
    db::Reads,
    error::Result,
    web::{caching, client::is_local, page::render},
};

use askama::Template;
use axum::{
    Router,
    extract::{ConnectInfo, FromRef, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
    routing::get,
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Reads: FromRef<S>,
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

/// A public page: the articles read from a replica in use; whether a first admin is needed, from
/// the primary.
async fn index(
    State(reads): State<Reads>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response> {
    let articles = reads.run(|db| async move { store::list_open(&db).await }).await?;
    let first_admin =
        accounts::service::first_admin_command(reads.primary(), is_local(peer, &headers)).await?;
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
