//! Telling a shared cache (Varnish) to drop an article's thread pages as soon as they change, when
//! `CARETHREAD_PURGE_URL` is set. Without it pages simply expire after `s-maxage`.
//!
//! A change leaves a row in `cache_purges` in its own transaction (a trigger on `articles`, see
//! migration 0020); this worker, one in every `serve` process, takes due rows and sends one
//! `BAN` per article with `X-Carethread-Ban: <slug>` (docs/varnish.vcl turns that into a ban of
//! the article's pages on its own site and in the frame). A request never waits on the cache.
//!
//! A row is due once every process shows the change (after `CARETHREAD_ARTICLE_REFRESH_MS`):
//! a cache that asks again straight after the ban must not be given, and keep, the old page.
//! A purge that cannot be sent is put back and tried again; one lost to a crash between taking
//! and sending it costs only the usual `s-maxage` delay.

use std::time::Duration;

use axum::body::Body;
use sqlx::PgPool;

use super::store;

type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Body,
>;

/// Sends purges to `url` until the process stops. `settle` is how long a process may show an
/// article it read before a change (`CARETHREAD_ARTICLE_REFRESH_MS`).
pub async fn run(db: PgPool, url: String, settle: Duration) {
    tracing::info!("shared caches are told when a thread changes (CARETHREAD_PURGE_URL)");
    let client = client();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = round(&db, &client, &url, settle).await {
            tracing::warn!(error = %format!("{error:#}"), "cache purge failed; trying again shortly");
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }
}

fn client() -> HttpClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https)
}

/// Sends every due purge; the first that fails is put back (with those not yet sent) and ends
/// the round.
async fn round(db: &PgPool, client: &HttpClient, url: &str, settle: Duration) -> anyhow::Result<()> {
    // A little past the memo's time, for the clocks of the database and this process.
    let settle = (settle + Duration::from_millis(50)).as_secs_f64();
    loop {
        let due = store::take_purges(db, settle, 50).await?;
        if due.is_empty() {
            return Ok(());
        }
        for (i, purge) in due.iter().enumerate() {
            if let Err(error) = ban(client, url, &purge.slug).await {
                for unsent in &due[i..] {
                    store::requeue_purge(db, unsent.article_id).await?;
                }
                return Err(error);
            }
            tracing::debug!(
                article.id = purge.article_id,
                "shared caches told to drop the thread"
            );
        }
    }
}

/// One `BAN` for an article's pages. Slugs are lower-case letters, digits and hyphens (anything
/// else is not sent: it could not be named safely in the cache's ban expression).
async fn ban(client: &HttpClient, url: &str, slug: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        tracing::warn!("an article's short name cannot be purged; its pages expire as usual");
        return Ok(());
    }
    let request = axum::http::Request::builder()
        .method("BAN")
        .uri(url)
        .header("x-carethread-ban", slug)
        .body(Body::empty())
        .context("CARETHREAD_PURGE_URL is not a web address")?;
    let answer = tokio::time::timeout(Duration::from_secs(5), client.request(request))
        .await
        .context("the cache did not answer in time")?
        .context("could not reach the cache")?;
    anyhow::ensure!(
        answer.status().is_success(),
        "the cache answered {}",
        answer.status()
    );
    Ok(())
}
