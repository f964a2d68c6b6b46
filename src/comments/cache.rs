//! Published threads, laid out and ready to render, kept per article page while the article's
//! `comments_version` is unchanged. The version is read from the database with the article on
//! every request, so any number of processes stay coherent: a change made through one is seen by
//! all at their next request, without messages between them.
//!
//! Each page carries the version it was read at, in the same snapshot as its comments (see
//! `reading::read_snapshot`), so a page is exactly its version. Versions only go up, so a page at
//! a newer version than asked for is served too (a replica behind the one the article came from),
//! and a page loaded from a server further behind never replaces a newer one: each process shows
//! a thread's versions in order, whichever replica answers.
//!
//! The pages are kept in a [`moka`] cache, weighed by what their comments take in memory. When it
//! is full it makes room a page at a time, dropping those least likely to be read again (moka's
//! TinyLFU policy weighs how often and how recently each page was asked for): a crawler walking
//! every page of every article does not push out the pages readers are on, and a full cache never
//! empties itself. Loads of one page run one after another, so readers who arrive together for a
//! page that is missing or out of date ask the database once: the first loads it and the others
//! find it in the cache.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::body::Bytes;

use moka::{future::Cache, ops::compute::Op};

use super::{thread::ThreadItem, view::CommentView};

/// One page of threads.
pub struct ThreadData {
    /// The article's `comments_version` these threads were read at.
    pub version: i64,
    pub items: Vec<ThreadItem<CommentView>>,
    pub total_threads: i64,
    /// Roughly what the page's comments take in memory, rendered list included, to keep the
    /// cache bounded.
    pub bytes: usize,
    /// The list as HTML, rendered on first use: with reply links while the article takes
    /// comments and without, on the thread's own page and in a frame (indexed by
    /// `view::rendering`). Nothing in it depends on the reader.
    pub rendered: [OnceLock<String>; 4],
    /// The whole page as last sent to readers, per rendering, with the entity tag that names it
    /// (the tag covers everything else the page is made of: the article, the form's window, the
    /// page asked for). Readers of a busy page within one window are sent these bytes as they
    /// are: nothing is rendered or copied for them.
    pub pages: [PageSlot; 4],
}

/// A page as sent: its entity tag and its bytes.
#[derive(Default)]
pub struct PageSlot(Mutex<Option<(Arc<str>, Arc<PageBytes>)>>);

impl PageSlot {
    /// The page kept for `etag`, if that is the one kept.
    pub fn get(&self, etag: &str) -> Option<Arc<PageBytes>> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|(tag, _)| &**tag == etag)
            .map(|(_, page)| Arc::clone(page))
    }

    /// Keeps `bytes` as the page named `etag`, in place of any other.
    pub fn put(&self, etag: &str, bytes: Bytes) -> Arc<PageBytes> {
        let page = Arc::new(PageBytes::new(bytes));
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((etag.into(), Arc::clone(&page)));
        page
    }
}

/// A page's bytes, and the same compressed with gzip once a reader's browser asks for it:
/// compressed once for every reader of that version, not once a reader.
pub struct PageBytes {
    pub plain: Bytes,
    gzip: OnceLock<Bytes>,
}

impl PageBytes {
    pub fn new(plain: Bytes) -> Self {
        Self {
            plain,
            gzip: OnceLock::new(),
        }
    }

    pub fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                use std::io::Write as _;
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.plain.len() / 4),
                    flate2::Compression::default(),
                );
                // Writing to memory cannot fail.
                let _ = encoder.write_all(&self.plain);
                Bytes::from(encoder.finish().unwrap_or_default())
            })
            .clone()
    }
}

/// At most this many pages are kept, however small: each page weighs at least this share of the
/// cache.
const MAX_ENTRIES: u64 = 2_000;

/// (article id, page) → threads, with their version. One entry per page, so a new version takes
/// the place of the old one (and its popularity) instead of waiting beside it to be evicted.
type Pages = Cache<(i64, u32), Arc<ThreadData>>;

pub struct ThreadCache {
    /// `None` when the cache is off.
    pages: Option<Pages>,
    max_bytes: usize,
}

impl ThreadCache {
    /// A cache holding about `max_bytes` of threads; 0 keeps nothing.
    pub fn new(max_bytes: usize) -> Self {
        let capacity = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        let least = capacity.div_ceil(MAX_ENTRIES);
        // Weighed in bytes; moka counts at most 4 GiB for one page, far beyond any real one.
        let pages = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .weigher(move |_: &(i64, u32), data: &Arc<ThreadData>| {
                    let bytes = u64::try_from(data.bytes).unwrap_or(u64::MAX);
                    u32::try_from(bytes.max(least)).unwrap_or(u32::MAX)
                })
                .build()
        });
        Self { pages, max_bytes }
    }

    /// The page if it is cached at `version` or newer.
    pub async fn get(&self, article_id: i64, page: u32, version: i64) -> Option<Arc<ThreadData>> {
        let data = self.pages.as_ref()?.get(&(article_id, page)).await?;
        (data.version >= version).then_some(data)
    }

    /// The page from the cache, or from `load`, which runs once for readers who arrive together
    /// (a newsletter sends many readers to a page just changed): the others wait for it and then
    /// read the cache, instead of all asking the database for the same page. A page cached at an
    /// older version is replaced, never returned; a load that comes back older than the page
    /// cached (from a replica further behind) leaves the cached page in place and returns it.
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
        let Some(pages) = &self.pages else {
            return load().await;
        };
        let cached = self.get(article_id, page, version).await;
        crate::monitoring::cache_lookup("thread", cached.is_some());
        if let Some(hit) = cached {
            return Ok(hit);
        }
        // moka runs computations on one key one after another: whoever waited looks at what the
        // reader before them left.
        let mut outcome = None;
        let slot = &mut outcome;
        pages
            .entry((article_id, page))
            .and_compute_with(|current| async move {
                let current = current.map(|entry| entry.into_value());
                if let Some(data) = &current
                    && data.version >= version
                {
                    *slot = Some(Ok(Arc::clone(data)));
                    return Op::Nop;
                }
                let (loaded, op) = match (load().await, current) {
                    (Ok(data), Some(newer)) if newer.version > data.version => (Ok(newer), Op::Nop),
                    (Ok(data), _) if self.fits(&data) => (Ok(Arc::clone(&data)), Op::Put(data)),
                    // Out of date, and nothing to take its place: no use to anyone.
                    (Ok(data), Some(_)) => (Ok(data), Op::Remove),
                    // A failed load leaves the cache as it was; the next reader tries again.
                    (other, _) => (other, Op::Nop),
                };
                *slot = Some(loaded);
                op
            })
            .await;
        outcome.expect("moka runs the computation once")
    }

    pub async fn put(&self, article_id: i64, page: u32, data: Arc<ThreadData>) {
        if let Some(pages) = &self.pages
            && self.fits(&data)
        {
            pages.insert((article_id, page), data).await;
        }
    }

    /// A page larger than the whole cache is not kept (it would only push everything else out).
    fn fits(&self, data: &ThreadData) -> bool {
        data.bytes <= self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use super::*;

    const MAX_BYTES: usize = 32 * 1024 * 1024;

    fn at(version: i64, total: i64) -> Arc<ThreadData> {
        sized(version, total, 1000)
    }

    fn sized(version: i64, total: i64, bytes: usize) -> Arc<ThreadData> {
        Arc::new(ThreadData {
            version,
            items: Vec::new(),
            total_threads: total,
            bytes,
            rendered: Default::default(),
            pages: Default::default(),
        })
    }

    #[test]
    fn a_kept_page_is_sent_only_for_its_own_tag() {
        let slot = PageSlot::default();
        assert!(slot.get("\"a\"").is_none());
        slot.put("\"a\"", Bytes::from_static(b"page a"));
        assert_eq!(
            slot.get("\"a\"").map(|p| p.plain.clone()).as_deref(),
            Some(&b"page a"[..])
        );
        // A new window, a new version or another article field gives another tag: never the old
        // bytes, and the new page takes the old one's place.
        assert!(slot.get("\"b\"").is_none());
        slot.put("\"b\"", Bytes::from_static(b"page b"));
        assert!(slot.get("\"a\"").is_none());
        assert_eq!(
            slot.get("\"b\"").map(|p| p.plain.clone()).as_deref(),
            Some(&b"page b"[..])
        );
    }

    #[test]
    fn a_page_is_compressed_once_and_unpacks_to_its_bytes() {
        use std::io::Read as _;
        let page = PageBytes::new(Bytes::from("<p>Thank you for sharing.</p>".repeat(200)));
        let packed = page.gzip();
        assert!(packed.len() < page.plain.len() / 10, "repeated text packs small");
        assert_eq!(page.gzip().as_ptr(), packed.as_ptr(), "compressed once");
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, page.plain);
    }

    /// Lets moka apply what it has pending (evictions included) before the cache is measured.
    async fn settled(cache: &ThreadCache) -> &Pages {
        let pages = cache.pages.as_ref().unwrap();
        pages.run_pending_tasks().await;
        pages
    }

    type Loading = std::pin::Pin<Box<dyn Future<Output = Result<Arc<ThreadData>, ()>> + Send>>;

    /// A loader that counts its calls and takes a moment, as the database would.
    fn counting(loads: &Arc<AtomicUsize>, version: i64, total: i64) -> impl FnOnce() -> Loading {
        let loads = Arc::clone(loads);
        move || {
            Box::pin(async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(at(version, total))
            })
        }
    }

    #[tokio::test]
    async fn an_entry_is_served_for_its_version_and_to_readers_of_older_ones() {
        let cache = ThreadCache::new(MAX_BYTES);
        cache.put(1, 1, at(7, 3)).await;
        assert_eq!(cache.get(1, 1, 7).await.map(|d| d.total_threads), Some(3));
        assert!(cache.get(1, 1, 8).await.is_none(), "a newer version misses");
        assert!(cache.get(1, 2, 7).await.is_none(), "another page misses");
        assert_eq!(
            cache.get(1, 1, 6).await.map(|d| d.version),
            Some(7),
            "an article read from a server further behind gets the newer page"
        );
    }

    #[tokio::test]
    async fn a_page_loaded_from_a_server_further_behind_never_replaces_a_newer_one() {
        let cache = ThreadCache::new(MAX_BYTES);
        cache.put(1, 1, at(7, 3)).await;
        let loads = Arc::new(AtomicUsize::new(0));
        // The article (version 9) came from the primary; the page from a replica still at 5.
        let served = cache.get_or_load(1, 1, 9, counting(&loads, 5, 1)).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(
            served.version, 7,
            "the newer page cached is served, not the older load"
        );
        assert_eq!(cache.get(1, 1, 0).await.map(|d| d.version), Some(7), "and kept");
    }

    #[tokio::test]
    async fn a_page_is_filed_under_the_version_it_was_read_at_not_the_one_asked_for() {
        let cache = ThreadCache::new(MAX_BYTES);
        let loads = Arc::new(AtomicUsize::new(0));
        // Asked for 9 (the article's version on the primary), read at 8 on a lagging replica.
        let served = cache.get_or_load(1, 1, 9, counting(&loads, 8, 2)).await.unwrap();
        assert_eq!(served.version, 8);
        assert!(cache.get(1, 1, 9).await.is_none(), "never filed as version 9");
        cache.get_or_load(1, 1, 9, counting(&loads, 9, 3)).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2, "version 9 is read again");
        assert_eq!(cache.get(1, 1, 9).await.map(|d| d.total_threads), Some(3));
    }

    #[tokio::test]
    async fn a_page_cached_at_another_version_is_reloaded_and_replaced() {
        let cache = ThreadCache::new(MAX_BYTES);
        let loads = Arc::new(AtomicUsize::new(0));
        let old = cache.get_or_load(1, 1, 7, counting(&loads, 7, 3)).await.unwrap();
        assert_eq!(old.total_threads, 3);
        let new = cache.get_or_load(1, 1, 8, counting(&loads, 8, 4)).await.unwrap();
        assert_eq!(new.total_threads, 4, "the old version is not returned");
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(
            cache.get(1, 1, 7).await.map(|d| d.version),
            Some(8),
            "the old version is gone"
        );
        assert_eq!(cache.get(1, 1, 8).await.map(|d| d.total_threads), Some(4));
        assert_eq!(settled(&cache).await.entry_count(), 1, "one entry per page");
        cache.get_or_load(1, 1, 8, counting(&loads, 8, 5)).await.unwrap();
        assert_eq!(
            loads.load(Ordering::SeqCst),
            2,
            "the new version is served from the cache"
        );
    }

    #[tokio::test]
    async fn a_failed_load_is_passed_on_and_not_kept() {
        let cache = ThreadCache::new(MAX_BYTES);
        let failed = cache
            .get_or_load(1, 1, 7, || async { Err::<Arc<ThreadData>, _>("down") })
            .await;
        assert_eq!(failed.err(), Some("down"));
        assert!(cache.get(1, 1, 7).await.is_none());
        let loads = Arc::new(AtomicUsize::new(0));
        cache.get_or_load(1, 1, 7, counting(&loads, 7, 3)).await.unwrap();
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "the next reader loads the page again"
        );
    }

    #[tokio::test]
    async fn the_cache_stays_bounded() {
        let cache = ThreadCache::new(MAX_BYTES);
        for i in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(i, 1, at(0, i)).await;
        }
        assert!(settled(&cache).await.entry_count() <= MAX_ENTRIES);
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_memory_budget() {
        let cache = ThreadCache::new(MAX_BYTES);
        for i in 0..100 {
            cache.put(i, 1, sized(0, 0, MAX_BYTES / 10)).await;
            let pages = settled(&cache).await;
            assert!(pages.weighted_size() <= MAX_BYTES as u64);
            let kept: usize = pages.iter().map(|(_, data)| data.bytes).sum();
            assert!(kept <= MAX_BYTES);
        }
    }

    #[tokio::test]
    async fn a_page_larger_than_the_cache_is_not_kept() {
        let cache = ThreadCache::new(10_000);
        cache.put(1, 1, at(7, 3)).await;
        cache.put(2, 1, sized(7, 4, 10_001)).await;
        assert!(cache.get(2, 1, 7).await.is_none());
        assert!(cache.get(1, 1, 7).await.is_some(), "and pushes nothing out");
        let loads = Arc::new(AtomicUsize::new(0));
        let huge = cache
            .get_or_load(3, 1, 7, || async { Ok::<_, ()>(sized(7, 5, 10_001)) })
            .await;
        assert_eq!(huge.unwrap().total_threads, 5, "it is still served");
        assert!(cache.get(3, 1, 7).await.is_none());
        cache.get_or_load(1, 1, 7, counting(&loads, 7, 3)).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_full_cache_keeps_most_of_its_pages_when_one_more_is_added() {
        const PAGES: i64 = 100;
        let cache = ThreadCache::new(PAGES as usize * 1000);
        for i in 0..PAGES {
            cache.put(i, 1, at(0, i)).await;
        }
        assert_eq!(
            settled(&cache).await.entry_count(),
            PAGES as u64,
            "full, nothing dropped yet"
        );
        // Readers come back to the pages they know.
        for i in 0..PAGES {
            assert!(cache.get(i, 1, 0).await.is_some());
        }
        cache.put(PAGES, 1, at(0, PAGES)).await;
        let pages = settled(&cache).await;
        assert!(pages.weighted_size() <= PAGES as u64 * 1000);
        let mut kept = 0;
        for i in 0..PAGES {
            kept += usize::from(cache.get(i, 1, 0).await.is_some());
        }
        assert!(kept >= PAGES as usize - 1, "only {kept} of {PAGES} pages kept");
    }

    #[tokio::test]
    async fn readers_arriving_together_load_a_page_once() {
        let cache = Arc::new(ThreadCache::new(MAX_BYTES));
        let loads = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (cache, loads) = (Arc::clone(&cache), Arc::clone(&loads));
                tokio::spawn(async move { cache.get_or_load(1, 1, 7, counting(&loads, 7, 3)).await })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap().total_threads, 3);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // Nothing is left waiting: the next reader is served from the cache, without a lock held.
        let next = tokio::time::timeout(
            Duration::from_secs(1),
            cache.get_or_load(1, 1, 7, counting(&loads, 7, 4)),
        )
        .await;
        assert_eq!(next.unwrap().unwrap().total_threads, 3);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn readers_arriving_together_at_a_changed_page_load_it_once() {
        let cache = Arc::new(ThreadCache::new(MAX_BYTES));
        cache.put(1, 1, at(7, 3)).await;
        let loads = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (cache, loads) = (Arc::clone(&cache), Arc::clone(&loads));
                tokio::spawn(async move { cache.get_or_load(1, 1, 8, counting(&loads, 8, 4)).await })
            })
            .collect();
        for reader in readers {
            assert_eq!(
                reader.await.unwrap().unwrap().total_threads,
                4,
                "never the old version"
            );
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_cache_of_no_size_keeps_nothing() {
        let cache = ThreadCache::new(0);
        cache.put(1, 1, at(7, 3)).await;
        assert!(cache.get(1, 1, 7).await.is_none());
        let loads = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            cache.get_or_load(1, 1, 7, counting(&loads, 7, 3)).await.unwrap();
        }
        assert_eq!(loads.load(Ordering::SeqCst), 2, "every reader loads");
    }
}
