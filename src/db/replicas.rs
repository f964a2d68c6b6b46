//! Read replicas: where readers' public reads go, and when a replica is left out.
//!
//! With `CARETHREAD_REPLICA_URLS`, the public reads (thread pages, frames, the JSON API's public
//! reads, comment counts, the front page) go to a healthy replica, chosen in turn; everything a
//! member of staff reads, every write and the checks before a post (rate limits, repeats) go to
//! the primary. A read never fails because of a replica: one that errors is run again on the
//! primary, and a replica that could not be reached is left out at once. The outage gate
//! (`db::Outage`) keeps watching the primary alone: the site is down only when the primary is.
//!
//! A small task probes every replica twice a second: one that does not answer, or lags more than
//! `CARETHREAD_REPLICA_MAX_LAG_MS` behind the primary, is left out until a probe finds it well
//! again; with none left, reads go to the primary. Like the primary's pool, a replica's pool
//! never hands out a connection opened before the replica was last left out.
//!
//! The thread cache stays coherent across servers because a page and the version it is filed
//! under are read in one snapshot on one server (see `comments::reading`).

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgPool, postgres::PgConnectOptions, postgres::PgPoolOptions};

/// How often each replica is probed.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// A probe that takes longer than this counts as no answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// A read waits at most this long for a replica's connection before going to the primary.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

/// How far behind the primary a server is, in milliseconds. A server that is not in recovery (a
/// primary, or a database used as a replica in tests) is not behind at all. On a standby that has
/// replayed everything it received, the lag is 0: `pg_last_xact_replay_timestamp()` is the time of
/// the last transaction replayed, which keeps ageing while the primary is idle. NULL when the
/// standby cannot tell (it has replayed nothing yet).
const LAG_SQL: &str = "SELECT CASE
           WHEN NOT pg_is_in_recovery() THEN 0
           WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
           ELSE greatest(0, 1000 * extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()))
       END::float8";

/// What a probe of a replica found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Probe {
    /// It answered, this far behind the primary (`None`: it could not tell).
    Lag(Option<Duration>),
    /// It did not answer in time, or answered with an error.
    Failed,
}

/// Whether a replica whose probe found `probe` should take reads.
pub fn serves(probe: Probe, max_lag: Duration) -> bool {
    matches!(probe, Probe::Lag(Some(lag)) if lag <= max_lag)
}

/// Measures how far behind the primary the server behind `pool` is.
pub async fn measure_lag(pool: PgPool) -> Probe {
    let asked = sqlx::query_scalar::<_, Option<f64>>(LAG_SQL).fetch_one(&pool);
    match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
        Ok(Ok(lag)) => Probe::Lag(lag.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))),
        _ => Probe::Failed,
    }
}

type Probing = Pin<Box<dyn Future<Output = Probe> + Send>>;

/// How a replica is probed: [`measure_lag`], or a stand-in in tests.
pub type LagSource = Arc<dyn Fn(PgPool) -> Probing + Send + Sync>;

/// A probe made of `probe`.
pub fn lag_source<F, Fut>(probe: F) -> LagSource
where
    F: Fn(PgPool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Probe> + Send + 'static,
{
    Arc::new(move |pool| -> Probing { Box::pin(probe(pool)) })
}

/// The probe every process uses.
pub fn real_lag() -> LagSource {
    lag_source(measure_lag)
}

struct Replica {
    pool: PgPool,
    serving: AtomicBool,
    /// When it was last left out, in milliseconds after `Replicas::epoch` plus one; 0 for never.
    left_out: Arc<AtomicU64>,
}

/// The replicas of this process, with their health.
pub struct Replicas {
    members: Vec<Replica>,
    max_lag: Duration,
    next: AtomicUsize,
    epoch: Instant,
}

impl Replicas {
    /// No replicas: every read goes to the primary.
    pub fn none() -> Self {
        Self {
            members: Vec::new(),
            max_lag: Duration::ZERO,
            next: AtomicUsize::new(0),
            epoch: Instant::now(),
        }
    }

    /// Pools on `urls`, opened lazily (a replica down at start does not stop the service); none
    /// takes reads until a probe has found it well ([`Self::check`]).
    pub fn connect_lazy(
        urls: &[SecretString],
        max_lag: Duration,
        max_connections: u32,
    ) -> anyhow::Result<Self> {
        let epoch = Instant::now();
        let members = urls
            .iter()
            .enumerate()
            .map(|(index, url)| {
                let options: PgConnectOptions = url.expose_secret().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "replica {index} in CARETHREAD_REPLICA_URLS is not a valid PostgreSQL address"
                    )
                })?;
                let left_out = Arc::new(AtomicU64::new(0));
                let watched = Arc::clone(&left_out);
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .before_acquire(move |_, meta| {
                        let usable = opened_after(&watched, epoch, meta.age);
                        Box::pin(async move { Ok(usable) })
                    })
                    .connect_lazy_with(options);
                Ok(Replica {
                    pool,
                    serving: AtomicBool::new(false),
                    left_out,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for index in 0..members.len() {
            crate::monitoring::replica_state(index, false, None);
        }
        Ok(Self {
            members,
            max_lag,
            next: AtomicUsize::new(0),
            epoch,
        })
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// How many replicas take reads just now.
    pub fn serving(&self) -> usize {
        self.members
            .iter()
            .filter(|r| r.serving.load(Ordering::Acquire))
            .count()
    }

    /// The next replica taking reads, in turn.
    fn choose(&self) -> Option<(usize, &Replica)> {
        let n = self.members.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|step| (start + step) % n)
            .map(|index| (index, &self.members[index]))
            .find(|(_, replica)| replica.serving.load(Ordering::Acquire))
    }

    /// Probes every replica once, side by side (one that hangs does not hold up the others'
    /// verdicts), and leaves out or takes back each as its probe says.
    pub async fn check(&self, source: &LagSource) {
        let mut probes = tokio::task::JoinSet::new();
        for (index, replica) in self.members.iter().enumerate() {
            let probe = source(replica.pool.clone());
            probes.spawn(async move { (index, probe.await) });
        }
        while let Some(done) = probes.join_next().await {
            if let Ok((index, probe)) = done {
                self.observe(index, probe);
            }
        }
    }

    /// Records what a probe of replica `index` found.
    fn observe(&self, index: usize, probe: Probe) {
        let replica = &self.members[index];
        let lag = match probe {
            Probe::Lag(lag) => lag,
            Probe::Failed => None,
        };
        if serves(probe, self.max_lag) {
            if !replica.serving.swap(true, Ordering::AcqRel) {
                tracing::info!(
                    replica = index,
                    lag_ms = lag.map_or(0, |l| l.as_millis()),
                    "read replica back in use"
                );
            }
        } else {
            let why = match probe {
                Probe::Failed => "not answering",
                Probe::Lag(None) => "cannot tell its lag",
                Probe::Lag(Some(_)) => "lagging behind the primary",
            };
            self.leave_out(index, why, lag);
        }
        crate::monitoring::replica_state(index, replica.serving.load(Ordering::Acquire), lag);
    }

    /// Stops sending reads to replica `index` until a probe finds it well again.
    fn leave_out(&self, index: usize, why: &'static str, lag: Option<Duration>) {
        let replica = &self.members[index];
        if replica.serving.swap(false, Ordering::AcqRel) {
            let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
            replica.left_out.store(now, Ordering::Release);
            tracing::warn!(
                replica = index,
                reason = why,
                lag_ms = lag.map(|l| l.as_millis()),
                "read replica left out: reads go elsewhere until it recovers"
            );
            crate::monitoring::replica_state(index, false, lag);
        }
    }

    /// Probes every replica every [`PROBE_EVERY`] until the process stops.
    pub async fn watch(self: Arc<Self>, source: LagSource) {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.check(&source).await;
        }
    }

    /// How long after a change every replica in use shows it, at most: the lag allowed, plus the
    /// time until the next probe would notice a replica falling further behind. Zero without
    /// replicas.
    pub fn settle_time(&self) -> Duration {
        if self.members.is_empty() {
            Duration::ZERO
        } else {
            self.max_lag + PROBE_EVERY + PROBE_TIMEOUT
        }
    }
}

/// Whether a connection `age` old was opened after its replica was last left out.
fn opened_after(left_out: &AtomicU64, epoch: Instant, age: Duration) -> bool {
    match left_out.load(Ordering::Acquire) {
        0 => true,
        when => epoch.elapsed().saturating_sub(age).as_millis() + 1 > u128::from(when),
    }
}

/// Where public reads go: a healthy replica when there is one, the primary otherwise. Handlers
/// and services take a `Reads` for readers' pages and a `PgPool` (the primary) for everything
/// else, so none chooses a server by hand.
#[derive(Clone)]
pub struct Reads {
    primary: PgPool,
    replicas: Option<Arc<Replicas>>,
}

impl Reads {
    pub fn new(primary: PgPool, replicas: Arc<Replicas>) -> Self {
        Self {
            primary,
            replicas: (!replicas.is_empty()).then_some(replicas),
        }
    }

    /// Reads that all go to the primary: for staff, and for reads just before a write.
    pub fn primary_only(primary: PgPool) -> Self {
        Self {
            primary,
            replicas: None,
        }
    }

    /// These reads, but on the primary.
    #[must_use]
    pub fn on_primary(&self) -> Self {
        Self::primary_only(self.primary.clone())
    }

    pub fn primary(&self) -> &PgPool {
        &self.primary
    }

    /// Runs `read` on a replica in use, or on the primary when none is. A replica's error is
    /// never shown: the read is run again on the primary, and a replica that could not be
    /// reached is left out at once.
    pub async fn run<T, F, Fut>(&self, read: F) -> sqlx::Result<T>
    where
        F: Fn(PgPool) -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        let Some(replicas) = &self.replicas else {
            return read(self.primary.clone()).await;
        };
        if let Some((index, replica)) = replicas.choose() {
            match read(replica.pool.clone()).await {
                Ok(found) => {
                    crate::monitoring::replica_read(Some(index));
                    return Ok(found);
                }
                Err(error) => {
                    if crate::error::is_unavailable(&error) {
                        replicas.leave_out(index, "a read could not reach it", None);
                    } else {
                        tracing::warn!(replica = index, %error, "a read failed on a replica; trying the primary");
                    }
                }
            }
        }
        crate::monitoring::replica_read(None);
        read(self.primary.clone()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_millis(2000);

    #[test]
    fn a_replica_serves_only_while_it_answers_within_the_lag_allowed() {
        assert!(serves(Probe::Lag(Some(Duration::ZERO)), MAX));
        assert!(serves(Probe::Lag(Some(MAX)), MAX));
        assert!(!serves(Probe::Lag(Some(MAX + Duration::from_millis(1))), MAX));
        assert!(
            !serves(Probe::Lag(None), MAX),
            "a lag it cannot tell is not trusted"
        );
        assert!(!serves(Probe::Failed, MAX));
    }

    fn replicas(n: usize) -> Replicas {
        let urls: Vec<SecretString> = (0..n)
            .map(|i| SecretString::from(format!("postgres://nobody@127.0.0.1:1/replica{i}")))
            .collect();
        Replicas::connect_lazy(&urls, MAX, 2).unwrap()
    }

    #[tokio::test]
    async fn replicas_take_reads_in_turn_and_only_while_well() {
        let set = replicas(3);
        assert!(
            set.choose().is_none(),
            "none serves before a probe has found it well"
        );
        for i in 0..3 {
            set.observe(i, Probe::Lag(Some(Duration::ZERO)));
        }
        let chosen: Vec<usize> = (0..6).map(|_| set.choose().unwrap().0).collect();
        let mut round = chosen[..3].to_vec();
        round.sort_unstable();
        assert_eq!(round, [0, 1, 2], "each in turn: {chosen:?}");
        assert_eq!(chosen[..3], chosen[3..], "and again in the same order");
        set.observe(1, Probe::Lag(Some(Duration::from_secs(5))));
        assert_eq!(set.serving(), 2);
        assert!(
            (0..6).all(|_| set.choose().unwrap().0 != 1),
            "a lagging replica is left out"
        );
        set.observe(0, Probe::Failed);
        set.observe(2, Probe::Lag(None));
        assert!(set.choose().is_none(), "none left: reads go to the primary");
        set.observe(1, Probe::Lag(Some(Duration::from_millis(10))));
        assert_eq!(
            set.choose().unwrap().0,
            1,
            "a replica that recovers is used again"
        );
    }

    #[tokio::test]
    async fn connections_opened_before_a_replica_was_left_out_are_not_reused() {
        let set = replicas(1);
        let replica = &set.members[0];
        assert!(opened_after(
            &replica.left_out,
            set.epoch,
            Duration::from_secs(3600)
        ));
        set.observe(0, Probe::Lag(Some(Duration::ZERO)));
        std::thread::sleep(Duration::from_millis(20));
        set.observe(0, Probe::Failed);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!opened_after(
            &replica.left_out,
            set.epoch,
            Duration::from_millis(30)
        ));
        assert!(opened_after(
            &replica.left_out,
            set.epoch,
            Duration::from_millis(5)
        ));
    }

    #[tokio::test]
    async fn a_lag_within_the_limit_allows_purges_only_after_it() {
        assert_eq!(Replicas::none().settle_time(), Duration::ZERO);
        assert!(replicas(1).settle_time() > MAX);
    }
}
