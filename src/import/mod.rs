//! Bringing an existing conversation from Drupal, WordPress or Disqus (and reading back our own
//! export). Each reader streams the source file into one common model, [`Record`]s; the importer
//! copies them into a staging table and stores them in one transaction, so an import is stored
//! whole or not at all. Imported comments are history: they go through no triage and send no
//! mail, but keep their source id, so the same import run twice changes nothing.

pub mod backup;
pub mod disqus;
pub mod drupal;
pub mod export;
pub mod html;
pub mod store;
pub mod wordpress;
mod xml;

use std::{
    collections::HashMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{articles::Slug, audit, text};

/// The systems we import from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Drupal,
    Wordpress,
    Disqus,
}

impl Format {
    /// Stored with every imported row, with the source's own id.
    pub fn source_name(self) -> &'static str {
        match self {
            Format::Drupal => "drupal",
            Format::Wordpress => "wordpress",
            Format::Disqus => "disqus",
        }
    }
}

/// What a comment was in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Published,
    Pending,
    Spam,
    /// Deleted or in the trash: counted, never imported.
    Deleted,
}

/// A page that took comments in the source.
#[derive(Debug, Clone)]
pub struct SourceArticle {
    /// The source's id for the page (a post id, a Disqus thread id, a Drupal entity id).
    pub thread_key: String,
    pub title: String,
    pub url: String,
    /// The slug to use when the article is created, if the source names one.
    pub slug: Option<String>,
}

/// A comment as the source had it, after its HTML was turned into plain text.
#[derive(Debug, Clone)]
pub struct SourceComment {
    pub source_id: String,
    pub parent_source_id: Option<String>,
    pub thread_key: String,
    pub author_name: String,
    pub author_email: Option<String>,
    /// The source's own account id for the author, when it has one (Drupal's uid, Disqus's
    /// username); looked up in the staff map before the name.
    pub author_uid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub state: State,
    pub body: String,
}

/// One thing read from a source file.
#[derive(Debug)]
pub enum Record {
    Article(SourceArticle),
    Comment(SourceComment),
    /// A record that could not be read: where it is in the file, and why.
    Malformed {
        position: String,
        reason: String,
    },
    /// A record that is not a comment at all (a pingback, an attachment): counted only.
    NotAComment,
}

/// Where readers send what they read; an error stops the reader.
pub type Sink<'a> = dyn FnMut(Record) -> anyhow::Result<()> + 'a;

#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    pub staff_map: Option<PathBuf>,
    pub article_map: Option<PathBuf>,
    /// Written under every imported staff reply (the current configured disclaimer).
    pub disclaimer: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Default)]
pub struct Summary {
    pub read: u64,
    pub articles_created: u64,
    pub published: u64,
    pub pending: u64,
    pub spam: u64,
    pub staff_replies: u64,
    pub deleted: u64,
    pub not_comments: u64,
    pub already_imported: u64,
    pub duplicates: u64,
    pub no_article: u64,
    /// Replies whose parent is missing or deleted: imported as top-level comments.
    pub orphans: u64,
    /// How many records were malformed, and where and why for the first [`MALFORMED_SHOWN`].
    pub malformed_count: u64,
    pub malformed: Vec<(String, String)>,
}

/// Malformed records are listed one by one up to this many, then only counted.
pub const MALFORMED_SHOWN: usize = 50;

impl Summary {
    fn add_malformed(&mut self, position: String, reason: String) {
        self.malformed_count += 1;
        if self.malformed.len() < MALFORMED_SHOWN {
            self.malformed.push((position, reason));
        }
    }

    pub fn imported(&self) -> u64 {
        self.published + self.pending + self.spam
    }

    pub fn changed_nothing(&self) -> bool {
        self.imported() == 0 && self.articles_created == 0
    }

    /// One line for the audit log.
    pub fn counts(&self) -> String {
        format!(
            "{} articles created; {} published, {} pending, {} spam ({} staff replies); skipped: {} deleted, {} already imported, {} duplicates, {} without article, {} malformed, {} not comments; {} replies without parent made top-level",
            self.articles_created,
            self.published,
            self.pending,
            self.spam,
            self.staff_replies,
            self.deleted,
            self.already_imported,
            self.duplicates,
            self.no_article,
            self.malformed_count,
            self.not_comments,
            self.orphans
        )
    }

    /// The report printed at the end.
    pub fn report(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let verb = if dry_run { "Would import" } else { "Imported" };
        if self.changed_nothing() && self.already_imported > 0 {
            let _ = writeln!(
                out,
                "Nothing to import: all {} comments were imported before; nothing was changed.",
                self.already_imported
            );
        } else {
            let _ = writeln!(
                out,
                "{verb} {} comments: {} published, {} pending (in the queue), {} spam (in the Spam tab); {} of them staff replies.",
                self.imported(),
                self.published,
                self.pending,
                self.spam,
                self.staff_replies
            );
            let _ = writeln!(out, "Articles created: {}.", self.articles_created);
        }
        let _ = writeln!(out, "Records read: {}.", self.read);
        let mut skipped = Vec::new();
        for (n, why) in [
            (self.deleted, "deleted or in the trash"),
            (self.already_imported, "already imported"),
            (self.duplicates, "duplicate ids (the first was kept)"),
            (self.no_article, "no article for their page"),
            (self.malformed_count, "malformed"),
            (self.not_comments, "not comments (pingbacks, trackbacks)"),
        ] {
            if n > 0 {
                skipped.push(format!("{n} {why}"));
            }
        }
        if !skipped.is_empty() {
            let _ = writeln!(out, "Skipped: {}.", skipped.join(", "));
        }
        if self.orphans > 0 {
            let _ = writeln!(
                out,
                "{} replies whose parent is missing or deleted were imported as top-level comments.",
                self.orphans
            );
        }
        for (position, reason) in &self.malformed {
            let _ = writeln!(out, "  malformed at {position}: {reason}");
        }
        if self.malformed_count > self.malformed.len() as u64 {
            let _ = writeln!(
                out,
                "  … and {} more malformed records.",
                self.malformed_count - self.malformed.len() as u64
            );
        }
        if dry_run {
            let _ = writeln!(out, "Dry run: nothing was changed.");
        }
        out
    }
}

/// Comments are stored with these limits; see the comments table.
const BODY_MAX_CHARS: usize = 5000;

/// Reads `path` as `format` and stores it (or, with `dry_run`, rolls everything back).
pub async fn run(pool: &PgPool, format: Format, path: &Path, options: &Options) -> anyhow::Result<Summary> {
    let staff = match &options.staff_map {
        Some(map) => load_staff_map(pool, map).await?,
        None => StaffMap::default(),
    };
    let mapped_articles = match &options.article_map {
        Some(map) => read_article_map(map)?,
        None => Vec::new(),
    };
    let file = std::fs::File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let progress = crate::progress::file_bar(file.metadata().map(|m| m.len()).unwrap_or(0));

    let source = format.source_name();
    let started = std::time::Instant::now();
    let mut tx = pool.begin().await?;
    store::create_staging(&mut tx).await?;
    let mut copy = store::CopyStaging::start(&mut tx).await?;

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Record>(4096);
    let input = progress.wrap_read(file);
    let reader = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut sink = |record: Record| {
            sender
                .blocking_send(record)
                .map_err(|_| anyhow::anyhow!("the import stopped"))
        };
        match format {
            Format::Drupal => drupal::read(input, &mut sink),
            Format::Wordpress => wordpress::read(input, &mut sink),
            Format::Disqus => disqus::read(input, &mut sink),
        }
    });

    let mut summary = Summary::default();
    let mut articles: HashMap<String, SourceArticle> = mapped_articles
        .into_iter()
        .map(|a| (a.thread_key.clone(), a))
        .collect();
    let mut position: i64 = 0;
    let mut failure = None;
    while let Some(record) = receiver.recv().await {
        summary.read += 1;
        if summary.read % 1024 == 0 {
            progress.set_message(format!("{} records", summary.read));
        }
        match record {
            Record::Article(article) => {
                articles.entry(article.thread_key.clone()).or_insert(article);
            }
            Record::NotAComment => summary.not_comments += 1,
            Record::Malformed { position, reason } => summary.add_malformed(position, reason),
            Record::Comment(comment) if comment.state == State::Deleted => summary.deleted += 1,
            Record::Comment(comment) => {
                position += 1;
                let row = match staging_row(comment, &staff, &options.disclaimer) {
                    Ok(row) => row,
                    Err((position, reason)) => {
                        summary.add_malformed(position, reason);
                        continue;
                    }
                };
                if let Err(error) = copy.push(position, &row).await {
                    failure = Some(error);
                    break;
                }
            }
        }
    }
    drop(receiver);
    let read_result = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the file reader failed"))?;
    progress.finish_and_clear();
    if let Some(error) = failure {
        return Err(error).context("could not stage the comments");
    }
    read_result.with_context(|| format!("could not read {}; nothing was imported", path.display()))?;
    let storing = crate::progress::spinner("Storing the comments");
    copy.finish().await?;
    tracing::info!(
        records = summary.read,
        seconds = started.elapsed().as_secs_f64(),
        "import: file read and staged"
    );

    let article_ids = place_articles(&mut tx, source, articles.into_values(), &mut summary).await?;
    let counts = store::store_staged(&mut tx, source, position, &article_ids, &options.disclaimer).await?;
    storing.finish_and_clear();
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "import: stored");
    summary.no_article = counts.no_article;
    summary.duplicates = counts.duplicates;
    summary.already_imported = counts.already_imported;
    summary.orphans = counts.orphans;
    summary.published = counts.published;
    summary.pending = counts.pending;
    summary.spam = counts.spam;
    summary.staff_replies = counts.staff_replies;
    // Articles only needed by comments that were already imported are not created again, but an
    // article created for nothing would still be a change: it is kept, as a page of the source.
    if options.dry_run || summary.changed_nothing() {
        tx.rollback().await?;
    } else {
        audit::record(
            &mut tx,
            None,
            audit::Action::ImportRun,
            audit::Target::Comments(summary.imported() as i64),
            Some(&format!("from {source}: {}", summary.counts())),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(summary)
}

/// Finds or creates the article of every page, in a few statements whatever their number:
/// one to find those here already (imported before, or with the same address), then one per
/// round of slugs for the rest. Pages without a usable web address are reported and left out.
/// Returns `(page key, article id)` pairs.
async fn place_articles(
    tx: &mut sqlx::PgConnection,
    source: &str,
    pages: impl Iterator<Item = SourceArticle>,
    summary: &mut Summary,
) -> anyhow::Result<Vec<(String, i64)>> {
    let mut usable = Vec::new();
    for page in pages {
        let url = text::normalise_line(&page.url);
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || url.len() > 2000 {
            summary.add_malformed(
                format!("page {}", page.thread_key),
                format!("the page's address '{}' is not a web address", page.url),
            );
            continue;
        }
        usable.push((page, url));
    }
    let (keys, urls): (Vec<String>, Vec<String>) = usable
        .iter()
        .map(|(page, url)| (page.thread_key.clone(), url.clone()))
        .unzip();
    let mut placed: HashMap<String, i64> = store::find_articles(&mut *tx, source, &keys, &urls)
        .await?
        .into_iter()
        .collect();
    // Pages sharing an address share one new article, as they would share an existing one.
    let mut creators: HashMap<String, String> = HashMap::new();
    let mut aliases = Vec::new();
    let mut pending = Vec::new();
    for (page, url) in usable {
        if placed.contains_key(&page.thread_key) {
            continue;
        }
        if let Some(creator) = creators.get(&url) {
            aliases.push((page.thread_key, creator.clone()));
            continue;
        }
        creators.insert(url.clone(), page.thread_key.clone());
        let mut title: String = text::normalise_line(&page.title).chars().take(200).collect();
        if title.is_empty() {
            title = url.chars().take(200).collect();
        }
        pending.push((page.thread_key.clone(), slug_for(&page), title, url));
    }
    // Each page tries its own slug, then "-2", "-3"…; within one round no two pages try the same.
    let mut next_suffix: HashMap<String, u32> = HashMap::new();
    for _round in 0..1000 {
        if pending.is_empty() {
            break;
        }
        let mut new = store::NewArticles::default();
        for (key, base, title, url) in &pending {
            let suffix = next_suffix.entry(base.clone()).or_insert(1);
            new.slugs.push(match *suffix {
                1 => base.clone(),
                n => format!("{base}-{n}"),
            });
            *suffix += 1;
            new.keys.push(key.clone());
            new.titles.push(title.clone());
            new.urls.push(url.clone());
        }
        let created = store::create_articles(&mut *tx, source, &new).await?;
        summary.articles_created += created.len() as u64;
        placed.extend(created);
        pending.retain(|(key, ..)| !placed.contains_key(key));
    }
    if let Some((_, _, title, _)) = pending.first() {
        anyhow::bail!("could not find a free slug for the article '{title}'");
    }
    for (key, creator) in aliases {
        if let Some(&id) = placed.get(&creator) {
            placed.insert(key, id);
        }
    }
    Ok(placed.into_iter().collect())
}

/// A comment ready for the staging table.
pub struct StagingRow {
    pub source_id: String,
    pub parent_source_id: Option<String>,
    pub thread_key: String,
    pub author_name: String,
    pub author_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub status: &'static str,
    pub body: String,
    pub staff_user_id: Option<i64>,
    pub body_html: Option<String>,
}

fn staging_row(
    comment: SourceComment,
    staff: &StaffMap,
    _disclaimer: &str,
) -> Result<StagingRow, (String, String)> {
    let position = format!("comment {}", comment.source_id);
    let body = text::normalise(&comment.body).trim().to_owned();
    if body.is_empty() {
        return Err((position, "the comment has no text".into()));
    }
    if body.chars().count() > BODY_MAX_CHARS {
        return Err((
            position,
            format!("the comment is longer than {BODY_MAX_CHARS} characters"),
        ));
    }
    let parent_source_id = comment
        .parent_source_id
        .clone()
        .filter(|p| !p.is_empty() && p != "0" && *p != comment.source_id);
    let account = staff.find(&comment);
    let (author_name, status, body_html, staff_user_id, author_email) = match account {
        Some(account) => (
            account.name.clone(),
            "published",
            Some(crate::moderation::markdown::render(&body)),
            Some(account.id),
            None,
        ),
        None => {
            let mut name = text::normalise_line(&comment.author_name);
            if name.is_empty() {
                name = "Anonymous".into();
            }
            let name: String = name.chars().take(text::NAME_MAX_CHARS).collect();
            let status = match comment.state {
                State::Published => "published",
                State::Pending => "pending",
                State::Spam => "spam",
                State::Deleted => unreachable!("deleted comments are counted, not staged"),
            };
            let email = comment
                .author_email
                .map(|e| e.trim().to_owned())
                .filter(|e| e.contains('@') && e.len() <= 254);
            (name, status, None, None, email)
        }
    };
    Ok(StagingRow {
        source_id: comment.source_id,
        parent_source_id,
        thread_key: comment.thread_key,
        author_name,
        author_email,
        created_at: comment.created_at,
        status,
        body,
        staff_user_id,
        body_html,
    })
}

/// A carethread staff account that wrote in the source under another name.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub id: i64,
    pub name: String,
}

/// Source author (a name, an email or an account id) → carethread staff account.
#[derive(Debug, Default)]
pub struct StaffMap {
    by_key: HashMap<String, StaffAccount>,
}

impl StaffMap {
    fn find(&self, comment: &SourceComment) -> Option<&StaffAccount> {
        let keys = [
            comment.author_uid.as_deref(),
            Some(comment.author_name.as_str()),
            comment.author_email.as_deref(),
        ];
        keys.into_iter()
            .flatten()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty() && k != "0")
            .find_map(|k| self.by_key.get(&k))
    }
}

/// Reads the staff map: a CSV of `source author,carethread email` (the source author is a name,
/// an email address or an account id; a header line is allowed).
async fn load_staff_map(pool: &PgPool, path: &Path) -> anyhow::Result<StaffMap> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("could not read the staff map {}", path.display()))?;
    let mut map = StaffMap::default();
    for (index, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("the staff map is not valid CSV (line {})", index + 1))?;
        let (Some(author), Some(email)) = (record.get(0), record.get(1)) else {
            anyhow::bail!(
                "line {} of the staff map needs two columns: source author, carethread email",
                index + 1
            );
        };
        let (author, email) = (author.trim(), email.trim());
        if index == 0 && !email.contains('@') {
            continue; // A header line.
        }
        let account = store::staff_account(pool, email).await?.with_context(|| {
            format!(
                "line {} of the staff map: there is no active staff account {email}",
                index + 1
            )
        })?;
        map.by_key.insert(author.to_lowercase(), account);
    }
    Ok(map)
}

/// Reads the article map: a CSV of `entity id,slug,title,url` with a header line.
fn read_article_map(path: &Path) -> anyhow::Result<Vec<SourceArticle>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("could not read the article map {}", path.display()))?;
    let mut articles = Vec::new();
    for record in reader.records() {
        let record = record.context("the article map is not valid CSV")?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
        if record.len() < 4 {
            anyhow::bail!("line {line} of the article map needs four columns: entity id, slug, title, url");
        }
        articles.push(SourceArticle {
            thread_key: field(0),
            slug: Some(field(1)).filter(|s| !s.is_empty()),
            title: field(2),
            url: field(3),
        });
    }
    Ok(articles)
}

/// A slug for an article created by an import: the one given, or the last part of its address,
/// or its title, made to fit the slug rules.
pub fn slug_for(article: &SourceArticle) -> String {
    let candidates = [
        article.slug.clone(),
        article
            .url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
            .filter(|last| !last.contains('.') || last.ends_with(".html"))
            .map(|s| s.trim_end_matches(".html").to_owned()),
        Some(article.title.clone()),
    ];
    for candidate in candidates.into_iter().flatten() {
        let slug = slugify(&candidate);
        if Slug::parse(&slug).is_ok() {
            return slug;
        }
    }
    format!("imported-{}", slugify(&article.thread_key))
        .trim_end_matches('-')
        .to_owned()
}

fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').chars().take(90).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}
