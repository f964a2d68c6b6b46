//! The application's state, built once at start, and the parts of it each feature asks for.
//!
//! Handlers never take the whole state: each takes the part it needs (`PgPool`, `Arc<Config>`, a
//! feature's own context), so features do not depend on this module and it is the only one that
//! knows them all, with the router.

use std::sync::Arc;

use axum::extract::FromRef;
use axum_csrf::CsrfConfig;
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::{
    articles::memo::ArticleMemo,
    comments::{self, cache::ThreadCache},
    config::Config,
    db::{Outage, Reads, Replicas},
    mail,
    web::client::ClientKeys,
};

/// The state every handler is given a part of. One pointer: the router hands a copy to each
/// request (and to each layer that keeps state), so copying it must cost one count, not a copy of
/// each part.
#[derive(Clone)]
pub struct AppState(Arc<StateParts>);

impl std::ops::Deref for AppState {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.0
    }
}

#[derive(Clone)]
pub struct StateParts {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub csrf: CsrfConfig,
    /// Keys the hashes of client addresses, with the proxies whose word is trusted.
    pub clients: ClientKeys,
    /// Signs the time a comment form was shown.
    pub stamp_key: Arc<[u8]>,
    /// Published threads ready to render, per article page and version.
    pub threads: Arc<ThreadCache>,
    /// Whether the database is reachable just now.
    pub outage: Arc<Outage>,
    /// Articles read a moment ago.
    pub articles: Arc<ArticleMemo>,
    /// Signs the links in mails.
    pub mail_key: Arc<[u8]>,
    /// Read replicas for readers' public pages, with their health (see `db::replicas`).
    pub replicas: Arc<Replicas>,
}

impl AppState {
    /// `secret` protects the form-token cookie and derives the other keys; every process serving
    /// the same site must share it (it lives in the database).
    pub fn new(db: PgPool, mut config: Config, secret: &[u8]) -> anyhow::Result<Self> {
        // Each process keeps its own copy of the site settings, read from the database.
        config.site = crate::settings::Live::default();
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
            Some(key) => key.expose_secret().as_bytes().to_vec().into(),
            None => derive("client address hashes"),
        };
        Ok(Self(Arc::new(StateParts {
            db,
            clients: ClientKeys {
                trusted_proxies: config.trusted_proxies.clone().into(),
                address_key,
            },
            csrf,
            stamp_key: derive("comment form stamps"),
            mail_key: derive("mail links"),
            threads: Arc::new(ThreadCache::new(config.thread_cache_bytes)),
            articles: Arc::new(ArticleMemo::new(config.article_refresh)),
            outage: Arc::default(),
            replicas: Arc::new(Replicas::none()),
            config: Arc::new(config),
        })))
    }

    /// Shares the outage watch that the pool's options were built with (see `db::Outage`).
    #[must_use]
    pub fn watched_by(mut self, outage: Arc<Outage>) -> Self {
        Arc::make_mut(&mut self.0).outage = outage;
        self
    }
}

impl AppState {
    /// Sends readers' public reads to `replicas` (see `db::replicas`).
    #[must_use]
    pub fn reading_from(mut self, replicas: Arc<Replicas>) -> Self {
        Arc::make_mut(&mut self.0).replicas = replicas;
        self
    }

    /// Where public reads go.
    pub fn reads(&self) -> Reads {
        Reads::new(self.db.clone(), Arc::clone(&self.replicas))
    }
}

impl FromRef<AppState> for Reads {
    fn from_ref(state: &AppState) -> Self {
        state.reads()
    }
}

impl FromRef<AppState> for CsrfConfig {
    fn from_ref(state: &AppState) -> Self {
        state.csrf.clone()
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.config)
    }
}

impl FromRef<AppState> for ClientKeys {
    fn from_ref(state: &AppState) -> Self {
        state.clients.clone()
    }
}

impl FromRef<AppState> for mail::Context {
    fn from_ref(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            config: Arc::clone(&state.config),
            key: Arc::clone(&state.mail_key),
        }
    }
}

impl FromRef<AppState> for comments::Context {
    fn from_ref(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            reads: state.reads(),
            config: Arc::clone(&state.config),
            threads: Arc::clone(&state.threads),
            articles: Arc::clone(&state.articles),
            stamp_key: Arc::clone(&state.stamp_key),
            outage: Arc::clone(&state.outage),
            mail_key: Arc::clone(&state.mail_key),
            staff_cookie: crate::accounts::auth::SESSION_COOKIE,
        }
    }
}
