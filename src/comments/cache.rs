//! Published threads, laid out and ready to render, kept per article page while the article's
//! `comments_version` is unchanged. The version is read from the database with the article on
//! every request, so any number of processes stay coherent: a change made through one is seen by
//! all at their next request, without messages between them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use super::{thread::ThreadItem, view::CommentView};

/// One page of threads.
pub struct ThreadData {
    pub items: Vec<ThreadItem<CommentView>>,
    pub total_threads: i64,
    /// Roughly what the page's comments take in memory, rendered list included, to keep the
    /// cache bounded.
    pub bytes: usize,
    /// The list as HTML, rendered on first use: with reply links while the article takes
    /// comments (`[1]`) and without (`[0]`). Nothing in it depends on the reader.
    pub rendered: [OnceLock<String>; 2],
}

/// At most this many pages, and about `max_bytes` of comments, are kept; past either the cache
/// starts again (cheap, and memory stays bounded however many articles there are).
const MAX_ENTRIES: usize = 2_000;

/// (article id, page) → (comments version, threads).
type Entries = HashMap<(i64, u32), (i64, Arc<ThreadData>)>;

/// A page being read from the database, and who waits for it.
type Loading = HashMap<(i64, u32, i64), Arc<tokio::sync::Mutex<()>>>;

pub struct ThreadCache {
    entries: Mutex<(Entries, usize)>,
    loading: Mutex<Loading>,
    max_bytes: usize,
}

impl ThreadCache {
    /// A cache holding about `max_bytes` of threads; 0 keeps nothing.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            entries: Mutex::default(),
            loading: Mutex::default(),
            max_bytes,
        }
    }

    pub fn get(&self, article_id: i64, page: u32, version: i64) -> Option<Arc<ThreadData>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .0
            .get(&(article_id, page))
            .filter(|(v, _)| *v == version)
            .map(|(_, data)| Arc::clone(data))
    }

    /// The page from the cache, or from `load`, which runs once for readers who arrive together
    /// (a newsletter sends many readers to a page just changed): the others wait for it and then
    /// read the cache, instead of all asking the database for the same page.
    pub async fn get_or_load<E, F>(
        &self,
        article_id: i64,
        page: u32,
        version: i64,
        load: impl FnOnce() -> F,
    ) -> Result<Arc<ThreadData>, E>
    where
        F: Future<Output = Result<Arc<ThreadData>, E>>,
    {
        if let Some(hit) = self.get(article_id, page, version) {
            return Ok(hit);
        }
        if self.max_bytes == 0 {
            return load().await;
        }
        let key = (article_id, page, version);
        let gate = Arc::clone(
            self.loading
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key)
                .or_default(),
        );
        let turn = gate.lock().await;
        if let Some(hit) = self.get(article_id, page, version) {
            return Ok(hit);
        }
        let loaded = load().await;
        if let Ok(data) = &loaded {
            self.put(article_id, page, version, Arc::clone(data));
        }
        drop(turn);
        let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        if loading.get(&key).is_some_and(|g| Arc::ptr_eq(g, &gate)) {
            loading.remove(&key);
        }
        loaded
    }

    pub fn put(&self, article_id: i64, page: u32, version: i64, data: Arc<ThreadData>) {
        if data.bytes > self.max_bytes {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, bytes) = &mut *guard;
        let replaced = entries.remove(&(article_id, page));
        if let Some((_, old)) = &replaced {
            *bytes = bytes.saturating_sub(old.bytes);
        }
        let mut dropped = Entries::new();
        if entries.len() >= MAX_ENTRIES || *bytes + data.bytes > self.max_bytes {
            std::mem::swap(entries, &mut dropped);
            *bytes = 0;
        }
        *bytes += data.bytes;
        entries.insert((article_id, page), (version, data));
        // Freeing a full cache takes a moment: let other requests in first.
        drop(guard);
        drop(dropped);
        drop(replaced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_BYTES: usize = 32 * 1024 * 1024;

    fn data(total: i64) -> Arc<ThreadData> {
        Arc::new(ThreadData {
            items: Vec::new(),
            total_threads: total,
            bytes: 1000,
            rendered: Default::default(),
        })
    }

    #[test]
    fn an_entry_is_served_only_for_its_version() {
        let cache = ThreadCache::new(MAX_BYTES);
        cache.put(1, 1, 7, data(3));
        assert_eq!(cache.get(1, 1, 7).map(|d| d.total_threads), Some(3));
        assert!(cache.get(1, 1, 8).is_none(), "a newer version misses");
        assert!(cache.get(1, 2, 7).is_none(), "another page misses");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = ThreadCache::new(MAX_BYTES);
        for i in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(i, 1, 0, data(i));
        }
        assert!(cache.entries.lock().unwrap().0.len() <= MAX_ENTRIES);
    }

    #[test]
    fn the_cache_stays_within_its_memory_budget() {
        let cache = ThreadCache::new(MAX_BYTES);
        for i in 0..100 {
            cache.put(
                i,
                1,
                0,
                Arc::new(ThreadData {
                    items: Vec::new(),
                    total_threads: 0,
                    bytes: MAX_BYTES / 10,
                    rendered: Default::default(),
                }),
            );
            assert!(cache.entries.lock().unwrap().1 <= MAX_BYTES);
        }
    }

    #[tokio::test]
    async fn readers_arriving_together_load_a_page_once() {
        let cache = Arc::new(ThreadCache::new(MAX_BYTES));
        let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (cache, loads) = (Arc::clone(&cache), Arc::clone(&loads));
                tokio::spawn(async move {
                    cache
                        .get_or_load(1, 1, 7, || async {
                            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            Ok::<_, ()>(data(3))
                        })
                        .await
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap().total_threads, 3);
        }
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(cache.loading.lock().unwrap().is_empty(), "nothing left waiting");
    }

    #[test]
    fn a_cache_of_no_size_keeps_nothing() {
        let cache = ThreadCache::new(0);
        cache.put(1, 1, 7, data(3));
        assert!(cache.get(1, 1, 7).is_none());
    }
}
