//! Password hashing off the async runtime, bounded. Each argon2 hash takes 19 MiB for a few tens
//! of milliseconds; run a few hundred at once (a flood of wrong sign-ins) and the process needs
//! gigabytes. Hashes run on a small fixed set of threads, one per core, so memory stays at a few
//! hashes' worth whatever arrives; a short queue absorbs bursts, and past it a request is told at
//! once to try again in a moment instead of waiting.

use std::sync::{LazyLock, Mutex, mpsc};

/// Hashes waiting for a thread, beyond those being worked on. At about 25 ms a hash this is about
/// a second of waiting on two cores.
const MAX_WAITING: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking jobs from a bounded queue.
struct Pool {
    jobs: mpsc::SyncSender<Job>,
}

impl Pool {
    fn new(threads: usize, max_waiting: usize) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(max_waiting);
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = std::sync::Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("password-hashing-{n}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password-hashing thread");
            }
        }
        Self { jobs }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.try_send(job).map_err(|_| Busy)?;
        result.await.map_err(|_| Busy)
    }
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    Pool::new(threads, MAX_WAITING)
});

/// Too many passwords are being checked at once just now.
#[derive(Debug, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

/// Runs `work` (a password hash or check) on the hashing threads and waits for its result.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    POOL.run(work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_and_returns_its_result() {
        assert_eq!(run(|| 6 * 7).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_flood_is_refused_at_once_past_the_queue() {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(Mutex::new(wait));
        // Far more slow jobs than threads and queue places together, on a pool of its own so
        // other tests' hashes neither wait behind this flood nor add to it.
        let pool = std::sync::Arc::new(Pool::new(2, MAX_WAITING));
        let jobs: Vec<_> = (0..200)
            .map(|_| {
                let (wait, pool) = (std::sync::Arc::clone(&wait), std::sync::Arc::clone(&pool));
                tokio::spawn(async move {
                    pool.run(move || {
                        let _ = wait
                            .lock()
                            .unwrap()
                            .recv_timeout(std::time::Duration::from_secs(5));
                    })
                    .await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for _ in 0..200 {
            let _ = release.send(());
        }
        let mut refused = 0;
        for job in jobs {
            if job.await.unwrap().is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 200 - MAX_WAITING - 2, "refused {refused}");
        assert!(pool.run(|| 1).await.is_ok(), "the pool works again afterwards");
    }
}
