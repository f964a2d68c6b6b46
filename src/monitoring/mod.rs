//! Prometheus metrics: what the service counts as it runs, and what it reads from the database
//! when it is scraped.
//!
//! Label values are fixed words or route templates (`/articles/{slug}`), never an address as
//! requested, a name, an email address or anything a reader typed. The recorder is installed once
//! per process, and only when metrics are enabled; without it every count is a no-op.

pub mod routes;
mod scrape;

use std::{
    collections::HashMap,
    sync::{OnceLock, PoisonError, RwLock},
};

use axum::http::Method;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by route template, method and status.
pub const HTTP_REQUESTS: &str = "carethread_http_requests_total";
/// How long requests took to answer, in seconds, by route template, method and status.
pub const HTTP_DURATION: &str = "carethread_http_request_duration_seconds";
/// Guests' comments by outcome: pending, urgent, spam, repeat, rate_limited, invalid.
pub const COMMENTS_POSTED: &str = "carethread_comments_posted_total";
/// 1 while the database is known to be unreachable.
pub const DATABASE_DOWN: &str = "carethread_database_down";
/// Times the database was found unreachable.
pub const DATABASE_OUTAGES: &str = "carethread_database_outages_total";
/// Connections the pool holds, by state (in_use, idle).
pub const POOL_CONNECTIONS: &str = "carethread_database_pool_connections";
/// Connections the pool holds in all.
pub const POOL_SIZE: &str = "carethread_database_pool_size";
/// Most connections the pool opens.
pub const POOL_MAX: &str = "carethread_database_pool_max";
/// Comments waiting for moderation.
pub const QUEUE_WAITING: &str = "carethread_queue_waiting";
/// Urgent comments waiting for moderation.
pub const QUEUE_URGENT_WAITING: &str = "carethread_queue_urgent_waiting";
/// Age of the oldest waiting comment, in seconds (0 when none waits).
pub const QUEUE_OLDEST_SECONDS: &str = "carethread_queue_oldest_seconds";
/// Age of the oldest waiting urgent comment, in seconds (0 when none waits).
pub const QUEUE_OLDEST_URGENT_SECONDS: &str = "carethread_queue_oldest_urgent_seconds";
/// Mails in the outbox, by state (queued, sent, failed).
pub const MAIL_OUTBOX: &str = "carethread_mail_outbox";
/// Look-ups in the in-process caches, by cache (thread, article) and result (hit, miss).
pub const CACHE_LOOKUPS: &str = "carethread_cache_lookups_total";
/// 1 while a read replica takes reads, 0 while it is left out, by replica (its position in
/// `CARETHREAD_REPLICA_URLS`, from 0; never its address).
pub const REPLICA_UP: &str = "carethread_replica_up";
/// How far behind the primary a replica was at its last probe, in seconds, by replica.
pub const REPLICA_LAG: &str = "carethread_replica_lag_seconds";
/// Public reads answered, by where: a replica's position, or `primary` when none was in use or
/// the replica failed. Counted only when replicas are configured.
pub const REPLICA_READS: &str = "carethread_replica_reads_total";

/// Every metric this service exports, for documentation and tests.
pub const ALL: &[&str] = &[
    HTTP_REQUESTS,
    HTTP_DURATION,
    COMMENTS_POSTED,
    DATABASE_DOWN,
    DATABASE_OUTAGES,
    POOL_CONNECTIONS,
    POOL_SIZE,
    POOL_MAX,
    QUEUE_WAITING,
    QUEUE_URGENT_WAITING,
    QUEUE_OLDEST_SECONDS,
    QUEUE_OLDEST_URGENT_SECONDS,
    MAIL_OUTBOX,
    CACHE_LOOKUPS,
    REPLICA_UP,
    REPLICA_LAG,
    REPLICA_READS,
];

/// Request durations, in seconds: from a cached page to a slow password check.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's recorder, once installed.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Whether this process counts anything: false until [`recorder`] is first asked for, so a
/// process without metrics does no work for them on any request.
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// The process's recorder, installed the first time it is asked for.
pub fn recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), DURATION_BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed: /metrics will be empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by route template, method and status."
    );
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer a request.");
    describe_counter!(COMMENTS_POSTED, "Guests' comments posted, by outcome.");
    describe_gauge!(DATABASE_DOWN, "1 while the database is known to be unreachable.");
    describe_counter!(DATABASE_OUTAGES, "Times the database was found unreachable.");
    describe_gauge!(POOL_CONNECTIONS, "Database connections held, by state.");
    describe_gauge!(POOL_SIZE, "Database connections held in all.");
    describe_gauge!(POOL_MAX, "Most database connections the pool opens.");
    describe_gauge!(QUEUE_WAITING, "Comments waiting for moderation.");
    describe_gauge!(QUEUE_URGENT_WAITING, "Urgent comments waiting for moderation.");
    describe_gauge!(
        QUEUE_OLDEST_SECONDS,
        Unit::Seconds,
        "Age of the oldest waiting comment."
    );
    describe_gauge!(
        QUEUE_OLDEST_URGENT_SECONDS,
        Unit::Seconds,
        "Age of the oldest waiting urgent comment."
    );
    describe_gauge!(MAIL_OUTBOX, "Mails in the outbox, by state.");
    describe_counter!(CACHE_LOOKUPS, "Cache look-ups, by cache and result.");
    describe_gauge!(REPLICA_UP, "1 while a read replica takes reads, by replica.");
    describe_gauge!(
        REPLICA_LAG,
        Unit::Seconds,
        "How far behind the primary a replica was at its last probe."
    );
    describe_counter!(REPLICA_READS, "Public reads, by replica or primary.");
}

/// Records a read replica's state after a probe (`lag` when it could tell).
pub fn replica_state(index: usize, serving: bool, lag: Option<std::time::Duration>) {
    if !enabled() {
        return;
    }
    let replica = index.to_string();
    metrics::gauge!(REPLICA_UP, "replica" => replica.clone()).set(if serving { 1.0 } else { 0.0 });
    if let Some(lag) = lag {
        metrics::gauge!(REPLICA_LAG, "replica" => replica).set(lag.as_secs_f64());
    }
}

/// Counts a public read answered by replica `index`, or by the primary (`None`).
pub fn replica_read(index: Option<usize>) {
    if !enabled() {
        return;
    }
    let by = index.map_or_else(|| "primary".to_owned(), |i| i.to_string());
    metrics::counter!(REPLICA_READS, "replica" => by).increment(1);
}

/// Counts a guest's comment by what became of it.
pub fn comment_posted(outcome: &'static str) {
    metrics::counter!(COMMENTS_POSTED, "outcome" => outcome).increment(1);
}

/// Counts a look-up in one of the in-process caches. Every page view makes one or two, so the
/// four counters are registered once and kept, rather than looked up by their labels each time.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    static HANDLES: OnceLock<[Counter; 4]> = OnceLock::new();
    if !enabled() {
        return;
    }
    let handles = HANDLES.get_or_init(|| {
        let counter = |cache: &'static str, result: &'static str| {
            metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result)
        };
        [
            counter("thread", "hit"),
            counter("thread", "miss"),
            counter("article", "hit"),
            counter("article", "miss"),
        ]
    });
    let index = match (cache, hit) {
        ("thread", true) => 0,
        ("thread", false) => 1,
        ("article", true) => 2,
        ("article", false) => 3,
        (other, hit) => {
            let result = if hit { "hit" } else { "miss" };
            metrics::counter!(CACHE_LOOKUPS, "cache" => other, "result" => result).increment(1);
            return;
        }
    };
    handles[index].increment(1);
}

/// Counts the database found unreachable.
pub fn database_outage() {
    metrics::counter!(DATABASE_OUTAGES).increment(1);
}

/// The counter and the latency histogram of each route template, method and status seen so far.
/// Routes are a fixed set and methods and statuses few, so this stays small; after the first
/// request of each kind, counting is a read lock, a look-up by the route's text and two atomic
/// updates, with no allocation.
type RequestHandles = HashMap<String, Vec<(Method, u16, Counter, Histogram)>>;

/// Counts an answered request under its route template.
pub fn request_answered(route: &str, method: &Method, status: u16, seconds: f64) {
    static HANDLES: OnceLock<RwLock<RequestHandles>> = OnceLock::new();
    if !enabled() {
        return;
    }
    let handles = HANDLES.get_or_init(RwLock::default);
    let count = |all: &RequestHandles| {
        let (.., counter, histogram) = all
            .get(route)?
            .iter()
            .find(|(m, s, ..)| m == method && *s == status)?;
        counter.increment(1);
        histogram.record(seconds);
        Some(())
    };
    if count(&handles.read().unwrap_or_else(PoisonError::into_inner)).is_some() {
        return;
    }
    let mut all = handles.write().unwrap_or_else(PoisonError::into_inner);
    if count(&all).is_some() {
        return;
    }
    let labels = [
        ("route", route.to_owned()),
        ("method", method.as_str().to_owned()),
        ("status", status.to_string()),
    ];
    let (counter, histogram) = (
        metrics::counter!(HTTP_REQUESTS, &labels),
        metrics::histogram!(HTTP_DURATION, &labels),
    );
    counter.increment(1);
    histogram.record(seconds);
    let kinds = all.entry(route.to_owned()).or_default();
    kinds.push((method.clone(), status, counter, histogram));
}
