//! Router assembly, middleware and serving. This is the only module that knows every feature.

pub mod assets;
pub mod form;
pub mod page;
pub mod staff;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{FromRef, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use axum_csrf::CsrfConfig;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{accounts, admin, articles, comments, config::Config, moderation};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub csrf: CsrfConfig,
    /// Keys the hashes of client addresses.
    pub address_key: Arc<[u8]>,
    /// Signs the time a comment form was shown.
    pub stamp_key: Arc<[u8]>,
    /// Published threads ready to render, per article page and version.
    pub threads: Arc<crate::comments::cache::ThreadCache>,
    /// Whether the database is reachable just now.
    pub outage: Arc<crate::db::Outage>,
    /// Articles read a moment ago.
    pub articles: Arc<crate::articles::memo::ArticleMemo>,
}

impl FromRef<AppState> for CsrfConfig {
    fn from_ref(state: &AppState) -> Self {
        state.csrf.clone()
    }
}

impl AppState {
    /// `secret` protects the form-token cookie; every process serving the same site must share it.
    /// The reader's address: the peer, or the address a trusted proxy says it forwarded for.
    /// Only a configured proxy is believed; the nearest address it did not add itself wins.
    pub fn client_address(
        &self,
        peer: std::net::SocketAddr,
        headers: &axum::http::HeaderMap,
    ) -> std::net::IpAddr {
        let trusted = &self.config.trusted_proxies;
        if !trusted.contains(&peer.ip()) {
            return peer.ip();
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer.ip())
    }

    pub fn new(db: PgPool, config: Config, secret: &[u8]) -> anyhow::Result<Self> {
        let key = axum_csrf::Key::try_from(secret)
            .map_err(|_| anyhow::anyhow!("the site secret must be at least 64 bytes long"))?;
        let csrf = CsrfConfig::default()
            .with_key(Some(key))
            .with_cookie_name("carethread_form")
            .with_cookie_path("/")
            .with_cookie_same_site(axum_csrf::SameSite::Lax)
            .with_http_only(true)
            .with_secure(config.cookie_secure)
            .with_salt("carethread-form-token");
        let derive = |purpose: &str| -> Arc<[u8]> {
            use hmac::Mac;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
            mac.update(purpose.as_bytes());
            mac.finalize().into_bytes().to_vec().into()
        };
        let address_key = match &config.address_key {
            Some(key) => {
                use secrecy::ExposeSecret;
                key.expose_secret().as_bytes().to_vec().into()
            }
            None => derive("client address hashes"),
        };
        let threads = Arc::new(crate::comments::cache::ThreadCache::new(
            config.thread_cache_bytes,
        ));
        let articles = Arc::new(crate::articles::memo::ArticleMemo::new(config.article_refresh));
        Ok(Self {
            db,
            config: Arc::new(config),
            csrf,
            address_key,
            stamp_key: derive("comment form stamps"),
            threads,
            outage: Arc::default(),
            articles,
        })
    }

    /// Shares the outage watch that the pool's options were built with (see `db::Outage`).
    #[must_use]
    pub fn watched_by(mut self, outage: Arc<crate::db::Outage>) -> Self {
        self.outage = outage;
        self
    }
}

/// Pages load only our own stylesheet and scripts; nothing from other sites, no inline code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application with its middleware.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    // Browsers that have seen the site over https keep to https for a year.
    let hsts = state.config.https.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    Router::new()
        .merge(articles::routes::router())
        .merge(comments::routes::router())
        .merge(staff_routes(&state))
        .route_layer(middleware::from_fn_with_state(
            (Arc::clone(&state.outage), state.db.clone()),
            database_gate,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state.articles),
            forget_articles_after_changes,
        ))
        .route("/healthz", get(healthz))
        .merge(assets::router(state.config.files_dir.as_deref()))
        .fallback(not_found)
        .with_state(state)
        // Layers run top to bottom on the way in: the request id is set first so every log line
        // carries it; friendly pages replace bare error statuses last, on the way out.
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let path = request
                                .extensions()
                                .get::<MatchedPath>()
                                .map_or("unmatched", MatchedPath::as_str);
                            let id = request
                                .headers()
                                .get(&REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            tracing::info_span!("request", method = %request.method(), path, request_id = id)
                        })
                        // The cause of a 5xx is logged once where it happens; during a database outage a
                        // line per answered request would bury it.
                        .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::new())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONTENT_SECURITY_POLICY),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                // Article addresses say what a reader is going through: never send them to other sites.
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .option_layer(hsts)
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn(friendly_error_pages))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(30),
                ))
                .layer(middleware::from_fn(limit_headers))
                .layer(middleware::from_fn(refuse_control_characters))
                .layer(RequestBodyLimitLayer::new(max_body)),
        )
}

/// Sign-in, the dashboard and admin: the only routes with sessions. Readers' pages never touch
/// the session store.
fn staff_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(accounts::routes::router())
        .merge(moderation::routes::router())
        .merge(admin::routes::router())
        .layer(accounts::auth::auth_layer(
            state.db.clone(),
            state.config.cookie_secure,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// While the database is known to be down, pages that need it are answered 503 at once instead
/// of each waiting for a connection. Posting a comment goes through: its handler keeps the
/// reader's words (see `comments::routes`). A response that found the database unreachable
/// reports it.
async fn database_gate(
    State((outage, db)): State<(Arc<crate::db::Outage>, PgPool)>,
    request: Request,
    next: Next,
) -> Response {
    if outage.is_down() && !comments::routes::is_guest_posting(&request) {
        return crate::error::AppError::Unavailable.into_response();
    }
    let response = next.run(request).await;
    if response
        .extensions()
        .get::<crate::error::DatabaseUnreachable>()
        .is_some()
    {
        outage.report(&db);
    }
    response
}

/// A request that may have changed something empties the article memo once it is answered, so
/// this process shows its own changes at once (see `articles::memo`).
async fn forget_articles_after_changes(
    State(articles): State<Arc<crate::articles::memo::ArticleMemo>>,
    request: Request,
    next: Next,
) -> Response {
    // A guest's new comment waits for moderation: readers' pages do not change.
    let changes = !request.method().is_safe() && !comments::routes::is_guest_posting(&request);
    let response = next.run(request).await;
    if changes {
        articles.forget_all();
    }
    response
}

/// Layers and extractors answer some errors (413, 405, 408, a malformed form) with a bare status.
/// Give those the same calm page as every other error.
async fn friendly_error_pages(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if (status.is_client_error() || status.is_server_error()) && !is_html {
        let mut page = page::ErrorPage::for_status(status).into_response_with(status);
        for kept in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(value) = response.headers().get(&kept) {
                page.headers_mut().insert(kept, value.clone());
            }
        }
        return page;
    }
    response
}

/// Requests with more than 16 KiB of headers are refused (431) before any work is done.
async fn limit_headers(request: Request, next: Next) -> Response {
    const MAX_HEADER_BYTES: usize = 16 * 1024;
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        return StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.into_response();
    }
    next.run(request).await
}

/// An address whose path or query carries a control character (a NUL, a tab, a line break…),
/// as sent or once percent-decoded, is refused (400) before any handler or the database sees it:
/// no page of ours has such an address.
async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path_and_query = uri.path_and_query().map_or("", |pq| pq.as_str());
    let decoded = percent_encoding_free(path_and_query);
    if decoded.iter().any(|b| b.is_ascii_control())
        || String::from_utf8_lossy(&decoded).chars().any(char::is_control)
    {
        return StatusCode::BAD_REQUEST.into_response();
    }
    next.run(request).await
}

/// `%XX` decoded, `+` kept: enough to see what a handler would be given.
fn percent_encoding_free(text: &str) -> Vec<u8> {
    form_urlencoded::parse(text.as_bytes())
        .flat_map(|(name, value)| {
            let mut bytes = name.into_owned().into_bytes();
            bytes.extend_from_slice(value.as_bytes());
            bytes
        })
        .collect()
}

async fn not_found() -> Response {
    crate::error::AppError::NotFound.into_response()
}

/// 200 when the database answers within two seconds, 503 otherwise (at once while it is known to
/// be down).
async fn healthz(State(state): State<AppState>) -> Response {
    let ping = sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&state.db);
    if !state.outage.is_down()
        && let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), ping).await
    {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response();
    }
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECONDS)
        .body(Body::from("database unavailable"))
        .unwrap_or_default()
}

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in flight finish.
///
/// Connections are served by hyper directly rather than `axum::serve`, for two limits a public
/// service needs: a client must send its request headers within `CARETHREAD_HEADER_TIMEOUT_SECONDS`
/// (a slow sender cannot hold a connection open), and at most `CARETHREAD_MAX_CONNECTIONS` are
/// open at once (more wait in the listen queue until one closes).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let header_timeout = state.config.header_timeout;
    let open = Arc::new(tokio::sync::Semaphore::new(state.config.max_connections));
    let app = app(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&open).acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request.map(Body::new)
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or is too slow ends only its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
