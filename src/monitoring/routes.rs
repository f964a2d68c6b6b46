//! `GET /metrics` in Prometheus's text format: on its own listen address
//! (`CARETHREAD_METRICS_ADDR`), or on the main address behind a bearer token
//! (`CARETHREAD_METRICS_TOKEN`). With neither it is not served at all.

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::db::Outage;

/// What a scrape reads.
#[derive(Clone)]
pub struct Scrape {
    pub db: PgPool,
    pub outage: Arc<Outage>,
    /// A hash of the bearer token a scrape must send; `None` on the metrics-only address.
    token: Option<Arc<[u8]>>,
    handle: metrics_exporter_prometheus::PrometheusHandle,
}

impl Scrape {
    /// For the main address: scrapes must send `token`.
    pub fn with_token(db: PgPool, outage: Arc<Outage>, token: &SecretString) -> Self {
        let hash = Sha256::digest(token.expose_secret().as_bytes()).to_vec();
        Self {
            db,
            outage,
            token: Some(hash.into()),
            handle: super::recorder(),
        }
    }

    /// For the metrics-only address, which only the operator's network reaches.
    pub fn open(db: PgPool, outage: Arc<Outage>) -> Self {
        Self {
            db,
            outage,
            token: None,
            handle: super::recorder(),
        }
    }

    /// Whether the request's `Authorization` carries the token (compared as hashes, so the time
    /// taken says nothing about it).
    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        Sha256::digest(given.trim().as_bytes()).as_slice() == &expected[..]
    }
}

/// The `/metrics` route, for whichever router serves it.
pub fn router<S>(scrape: Scrape) -> Router<S> {
    Router::new().route("/metrics", get(metrics)).with_state(scrape)
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if !scrape.allows(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is needed",
        )
            .into_response();
    }
    super::scrape::refresh(&scrape.db, scrape.outage.is_down()).await;
    scrape.handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.handle.render(),
    )
        .into_response()
}
