//! Failing fast while the database is unreachable, and coming back by itself.
//!
//! Without this, every request would wait out the pool's acquire timeout while PostgreSQL is
//! down. The first request that finds the database unreachable reports it; from then on the web
//! layer answers requests that need the database with a 503 page at once, while one background
//! task knocks every quarter second until the database answers. Connections opened before the
//! outage are not trusted again: the pool drops them instead of handing them out.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};

const PROBE_EVERY: Duration = Duration::from_millis(250);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Outage {
    down: AtomicBool,
    /// When the last outage began, in milliseconds after `epoch` plus one; 0 for never.
    last_began: AtomicU64,
    epoch: Instant,
}

impl Default for Outage {
    fn default() -> Self {
        Self {
            down: AtomicBool::new(false),
            last_began: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

impl Outage {
    /// Pool options for a pool watched by `outage`: connections are not pinged before each use
    /// (a round trip per query), but any opened before the last outage are closed instead of used.
    pub fn pool_options(outage: &Arc<Self>) -> PgPoolOptions {
        let outage = Arc::clone(outage);
        PgPoolOptions::new()
            .test_before_acquire(false)
            .before_acquire(move |_, meta| {
                let usable = outage.opened_after_last_outage(meta.age);
                Box::pin(async move { Ok(usable) })
            })
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Records that `pool` could not reach the database, and starts knocking until it can.
    pub fn report(self: &Arc<Self>, pool: &PgPool) {
        if self.down.swap(true, Ordering::AcqRel) {
            return;
        }
        let began = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        self.last_began.store(began, Ordering::Release);
        tracing::warn!("database unreachable: answering 503 until it returns");
        crate::monitoring::database_outage();
        let (outage, pool) = (Arc::clone(self), pool.clone());
        tokio::spawn(async move { outage.wait_for_return(&pool).await });
    }

    async fn wait_for_return(&self, pool: &PgPool) {
        let started = Instant::now();
        let options = pool.connect_options();
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            if pool.is_closed() {
                return;
            }
            if let Ok(Ok(connection)) =
                tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&options)).await
            {
                let _ = connection.close().await;
                break;
            }
        }
        self.down.store(false, Ordering::Release);
        tracing::info!(
            seconds = started.elapsed().as_secs_f32(),
            "database reachable again"
        );
    }

    fn opened_after_last_outage(&self, age: Duration) -> bool {
        match self.last_began.load(Ordering::Acquire) {
            0 => true,
            began => {
                let opened = self.epoch.elapsed().saturating_sub(age);
                opened.as_millis() + 1 > u128::from(began)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_from_before_an_outage_are_not_reused() {
        let outage = Outage::default();
        assert!(outage.opened_after_last_outage(Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(20));
        outage.last_began.store(
            u64::try_from(outage.epoch.elapsed().as_millis()).unwrap() + 1,
            Ordering::Release,
        );
        std::thread::sleep(Duration::from_millis(20));
        assert!(!outage.opened_after_last_outage(Duration::from_millis(30)));
        assert!(outage.opened_after_last_outage(Duration::from_millis(5)));
    }
}
