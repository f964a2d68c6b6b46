//! The router: the only module that names every feature's routes, and the middleware around
//! them. The order of the layers is written down where they are added.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use sqlx::PgPool;
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

use crate::{
    accounts, admin, api,
    articles::{self, memo::ArticleMemo},
    comments::{self, embed::Embeddable},
    db::Outage,
    error::{AppError, DatabaseUnreachable},
    mail, moderation,
    monitoring::{self, routes::Scrape},
    saved_replies, settings,
    state::AppState,
    web::{
        assets, caching,
        page::{ErrorPage, RETRY_AFTER_SECONDS},
    },
};

/// Pages load only our own stylesheet and scripts; nothing from other sites, no inline code.
const CONTENT_SECURITY_POLICY: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'",
);
const NO_SNIFFING: HeaderValue = HeaderValue::from_static("nosniff");
/// Article addresses say what a reader is going through: never send them to other sites.
const SAME_ORIGIN_REFERRER: HeaderValue = HeaderValue::from_static("same-origin");
/// Browsers that have seen the site over https keep to https for a year.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");
/// Pages are not shown in frames, except the embed pages made for it.
const NO_FRAMING: HeaderValue = HeaderValue::from_static("DENY");

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

mod fast;
pub use fast::{App, service};

/// The whole application with its middleware.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let metrics = metrics_with_token(&state);
    let hsts = state
        .config
        .https
        .then(|| SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HSTS));
    // Everything that needs the database answers 503 at once while it is known to be down; a
    // request that may change something empties the article memo once answered. Guest posting is
    // its own group, outside both: while the database is down its handler gives the reader their
    // words back, and a new comment waits for moderation, so readers' pages do not change.
    let gated = Router::new()
        .merge(articles::routes::router())
        .merge(comments::routes::reading())
        .merge(thread_pages(&state))
        .merge(api::router())
        .merge(mail::routes::router())
        .merge(staff_routes(&state))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state.outage),
            refuse_while_down,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state.articles),
            forget_articles_after_changes,
        ));
    Router::new()
        .merge(gated)
        .merge(comments::routes::posting())
        .route_layer(middleware::from_fn_with_state(
            (Arc::clone(&state.outage), state.db.clone()),
            report_unreachable,
        ))
        .route("/healthz", get(healthz))
        .merge(metrics)
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
                            let route = request
                                .extensions()
                                .get::<MatchedPath>()
                                .map_or("unmatched", MatchedPath::as_str);
                            let id = request.headers().get(&REQUEST_ID);
                            request_span(request.method(), route, id)
                        })
                        .on_response(
                            |response: &axum::http::Response<_>, latency: Duration, _: &tracing::Span| {
                                log_answered(response.status(), latency);
                            },
                        )
                        // The cause of a 5xx is logged once where it happens; during a database outage a
                        // line per answered request would bury it.
                        .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // An answer kept by a shared cache is one its handler made shareable on purpose
                // (see `web::caching`); anything that says nothing is never kept.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    caching::PRIVATE,
                ))
                .layer(CatchPanicLayer::new())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    CONTENT_SECURITY_POLICY,
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    NO_SNIFFING,
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    SAME_ORIGIN_REFERRER,
                ))
                .layer(middleware::from_fn(refuse_framing))
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

/// `/metrics` on the main address, only for scrapes that send `CARETHREAD_METRICS_TOKEN`; not
/// served at all without it (the separate metrics address, if any, is [`metrics_app`]).
fn metrics_with_token(state: &AppState) -> Router<AppState> {
    if state.config.metrics_addr.is_some() || state.config.metrics_token.is_some() {
        monitoring::recorder();
    }
    match &state.config.metrics_token {
        Some(token) => monitoring::routes::router(Scrape::with_token(
            state.db.clone(),
            Arc::clone(&state.outage),
            token,
        )),
        None => Router::new(),
    }
}

/// `/metrics` alone, without a token, for `CARETHREAD_METRICS_ADDR`: an address only the
/// operator's network reaches.
pub fn metrics_app(state: &AppState) -> Router {
    monitoring::routes::router(Scrape::open(state.db.clone(), Arc::clone(&state.outage)))
}

/// Sign-in, the dashboard and admin: the only routes with sessions. Readers' pages never touch
/// the session store.
fn staff_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(accounts::routes::router())
        .merge(moderation::routes::router())
        .merge(saved_replies::routes::router())
        .merge(admin::router())
        .merge(settings::routes::router())
        .layer(accounts::auth::auth_layer(
            state.db.clone(),
            state.config.cookie_secure,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            caching::PRIVATE,
        ))
}

/// Articles' threads: readers' pages, but a member of staff signed in sees a page of their own
/// (reply from the dashboard, never cached). The sign-in layer reads the session store only for a
/// request that carries a session cookie, which guests' do not.
fn thread_pages(state: &AppState) -> Router<AppState> {
    comments::routes::article_page().layer(accounts::auth::auth_layer(
        state.db.clone(),
        state.config.cookie_secure,
    ))
}

/// While the database is known to be down, pages that need it are answered 503 at once instead
/// of each waiting for a connection.
async fn refuse_while_down(State(outage): State<Arc<Outage>>, request: Request, next: Next) -> Response {
    if outage.is_down() {
        return AppError::Unavailable.into_response();
    }
    next.run(request).await
}

/// A response that found the database unreachable reports it, so the next requests stop
/// waiting for it (see `db::Outage`).
async fn report_unreachable(
    State((outage, db)): State<(Arc<Outage>, PgPool)>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.extensions().get::<DatabaseUnreachable>().is_some() {
        outage.report(&db);
    }
    response
}

/// A request that may have changed something empties the article memo once it is answered, so
/// this process shows its own changes at once (see `articles::memo`).
async fn forget_articles_after_changes(
    State(articles): State<Arc<ArticleMemo>>,
    request: Request,
    next: Next,
) -> Response {
    let changes = !request.method().is_safe();
    let response = next.run(request).await;
    if changes {
        articles.forget_all();
    }
    response
}

/// No page may be shown in a frame on another site, but a thread made for it (see
/// `comments::embed`): those send their own `frame-ancestors` with the allowed sites.
async fn refuse_framing(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.extensions().get::<Embeddable>().is_none() {
        response.headers_mut().insert(header::X_FRAME_OPTIONS, NO_FRAMING);
    }
    response
}

/// Layers and extractors answer some errors (413, 405, 408, a malformed form) with a bare status.
/// Give those the same calm page as every other error; the API's errors are problem documents.
/// Every answer also takes its route template with it, for the metrics (see [`fast::App`]): the
/// router knows it only on the way in.
async fn friendly_error_pages(request: Request, next: Next) -> Response {
    let from_api = api::is_api_path(request.uri().path());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    if from_api {
        return api::problem::ensure_problem(response);
    }
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if (status.is_client_error() || status.is_server_error()) && !is_html {
        let mut page = ErrorPage::for_status(status).into_response_with(status);
        for kept in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(value) = response.headers().get(&kept) {
                page.headers_mut().insert(kept, value.clone());
            }
        }
        if let Some(route) = response.extensions_mut().remove::<MatchedPath>() {
            page.extensions_mut().insert(route);
        }
        return page;
    }
    response
}

/// A request's span: its method, route template and request id (never the address as requested).
fn request_span(method: &axum::http::Method, route: &str, id: Option<&HeaderValue>) -> tracing::Span {
    let id = id.and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!("request", method = %method, route, request_id = id)
}

/// One line per answered request: its status and how long it took, in the request's span.
fn log_answered(status: StatusCode, latency: Duration) {
    tracing::info!(
        status = status.as_u16(),
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "answered"
    );
}

/// Requests with more headers than this are refused (431) before any work is done.
const MAX_HEADER_BYTES: usize = 16 * 1024;

fn header_bytes(headers: &axum::http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Requests with more than 16 KiB of headers are refused (431) before any work is done.
async fn limit_headers(request: Request, next: Next) -> Response {
    if header_bytes(request.headers()) > MAX_HEADER_BYTES {
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
    AppError::NotFound.into_response()
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
        .header(header::RETRY_AFTER, RETRY_AFTER_SECONDS)
        .body(Body::from("database unavailable"))
        .unwrap_or_default()
}
