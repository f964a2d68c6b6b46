//! Every setting in one place: read once from flags and `CARETHREAD_*` variables, checked at start.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use chrono_tz::Tz;
use clap::{Args, Parser};
use secrecy::SecretString;

/// The notice shown above every thread unless `CARETHREAD_NOTICE` replaces it.
pub const DEFAULT_NOTICE: &str = "Please note that these comments are monitored but not answered by \
{organisation}. Please call your GP or maternity unit if you have concerns about your health or your \
baby's health.";

/// The disclaimer under every staff reply unless `CARETHREAD_DISCLAIMER` replaces it.
pub const DEFAULT_DISCLAIMER: &str = "This reply gives general information and is not a diagnosis. Please \
call your GP or maternity unit if you have concerns about your health or your baby's health. In an \
emergency call 999.";

/// What a reader sees after posting a comment that mentions a warning sign without a category
/// (signs of a custom list written without `[category]` lines). Signs of the built-in list show
/// their category's own message (`crate::safety::triage::Category::message`). Lines starting with
/// "- " are shown as a list.
pub const DEFAULT_SAFETY_MESSAGE: &str =
    "What you wrote suggests you may need help now. Please don't wait for a reply here:
- In an emergency, call 999.
- For urgent medical help, call NHS 111 or your GP or maternity unit.
- If you are struggling to cope, Samaritans are there day and night: call 116 123 (free).";

/// Settings alone, as a program with no commands would take them (for defaults and tests).
#[derive(Debug, Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// Settings from command-line words (the first is the program's name) and the environment.
    pub fn parse_from<I, T>(words: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        SettingsOnly::parse_from(words).settings
    }

    pub fn try_parse_from<I, T>(words: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        SettingsOnly::try_parse_from(words).map(|s| s.settings)
    }
}

/// Settings shared by every command. Each flag has a `CARETHREAD_*` variable of the same meaning.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(
        long,
        env = "CARETHREAD_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Folder for the embedded database and other local data.
    #[arg(long, env = "CARETHREAD_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// PostgreSQL to use instead of the embedded one, e.g. postgres://user:pass@host/db.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Read replicas of the database for readers' public pages and comment counts
    /// (comma-separated PostgreSQL addresses). Staff pages, writes and the checks before a post
    /// always use DATABASE_URL.
    #[arg(
        long,
        env = "CARETHREAD_REPLICA_URLS",
        value_delimiter = ',',
        global = true,
        hide_env_values = true
    )]
    pub replica_urls: Vec<SecretString>,

    /// How far behind the primary, in milliseconds, a replica may fall before it is left out
    /// (it is used again once it catches up).
    #[arg(
        long,
        env = "CARETHREAD_REPLICA_MAX_LAG_MS",
        default_value_t = 2000,
        global = true
    )]
    pub replica_max_lag_ms: u64,

    /// Do not apply pending migrations when the service starts.
    #[arg(long, env = "CARETHREAD_NO_MIGRATE", global = true)]
    pub no_migrate: bool,

    /// Folder with PostgreSQL's server programs for the embedded database (default: search PATH,
    /// then /usr/lib/postgresql/*/bin).
    #[arg(long, env = "CARETHREAD_PG_BIN", global = true)]
    pub pg_bin: Option<PathBuf>,

    /// Name of the organisation running the site, used in the notice.
    #[arg(
        long,
        env = "CARETHREAD_ORGANISATION",
        default_value = "Carethread",
        global = true
    )]
    pub organisation: String,

    /// The whole notice shown above each thread; `{organisation}` is replaced by the name.
    #[arg(long, env = "CARETHREAD_NOTICE", default_value = DEFAULT_NOTICE, global = true)]
    pub notice: String,

    /// Time zone for dates shown to readers (IANA name).
    #[arg(
        long,
        env = "CARETHREAD_TIMEZONE",
        default_value = "Europe/London",
        global = true
    )]
    pub timezone: Tz,

    /// Top-level comments per page.
    #[arg(long, env = "CARETHREAD_THREADS_PER_PAGE", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=500), global = true)]
    pub threads_per_page: u32,

    /// Deepest reply level shown; deeper replies are shown at this level.
    #[arg(long, env = "CARETHREAD_MAX_DEPTH", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=10), global = true)]
    pub max_depth: u32,

    /// Public address of the site, e.g. https://comments.example.org. Cookies are marked Secure when it is https.
    #[arg(long, env = "CARETHREAD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Force the Secure flag on cookies on or off (default: on when the public address is https).
    #[arg(long, env = "CARETHREAD_COOKIE_SECURE", global = true)]
    pub cookie_secure: Option<bool>,

    /// How staff replies are signed to readers; `{organisation}` is replaced by the name.
    #[arg(
        long,
        env = "CARETHREAD_STAFF_LABEL",
        default_value = "Midwife @{organisation}",
        global = true
    )]
    pub staff_label: String,

    /// The badge beside a staff reply.
    #[arg(
        long,
        env = "CARETHREAD_VERIFIED_BADGE",
        default_value = "Verified midwife",
        global = true
    )]
    pub verified_badge: String,

    /// Show staff members' own names to readers beside the label.
    #[arg(long, env = "CARETHREAD_SHOW_STAFF_NAMES", global = true)]
    pub show_staff_names: bool,

    /// The disclaimer after every staff reply. Each reply keeps the text it was published with.
    #[arg(long, env = "CARETHREAD_DISCLAIMER", default_value = DEFAULT_DISCLAIMER, global = true)]
    pub disclaimer: String,

    /// Addresses of reverse proxies whose X-Forwarded-For header is trusted (comma-separated).
    #[arg(
        long,
        env = "CARETHREAD_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Hours after sign-in when a staff session ends, however busy.
    #[arg(
        long,
        env = "CARETHREAD_SESSION_MAX_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_max_hours: u32,

    /// A file of warning signs (`label: phrase; phrase` a line) replacing the built-in list.
    #[arg(long, env = "CARETHREAD_WARNING_SIGNS", global = true)]
    pub warning_signs: Option<PathBuf>,

    /// Shown after posting a comment that mentions a warning sign without a category (a custom
    /// list's uncategorised signs); lines starting "- " form a list. Built-in signs show their
    /// category's own message.
    #[arg(long, env = "CARETHREAD_SAFETY_MESSAGE", default_value = DEFAULT_SAFETY_MESSAGE, global = true)]
    pub safety_message: String,

    /// Phrases that send a comment to the spam tab (comma-separated).
    #[arg(long, env = "CARETHREAD_BANNED_PHRASES", value_delimiter = ',', global = true)]
    pub banned_phrases: Vec<String>,

    /// Seconds a reader must have had the form before posting; quicker posts go to the spam tab.
    #[arg(long, env = "CARETHREAD_MIN_FORM_SECONDS", default_value_t = 3, global = true)]
    pub min_form_seconds: u32,

    /// Comments one address may post within the rate window.
    #[arg(long, env = "CARETHREAD_RATE_PER_ADDRESS", default_value_t = 5, global = true)]
    pub rate_per_address: u32,

    /// Comments one article may receive within the rate window.
    #[arg(
        long,
        env = "CARETHREAD_RATE_PER_ARTICLE",
        default_value_t = 60,
        global = true
    )]
    pub rate_per_article: u32,

    /// The rate window, in minutes.
    #[arg(
        long,
        env = "CARETHREAD_RATE_WINDOW_MINUTES",
        default_value_t = 10,
        global = true
    )]
    pub rate_window_minutes: u32,

    /// Reports after which a published comment returns to the queue, hidden.
    #[arg(long, env = "CARETHREAD_REPORTS_TO_HIDE", default_value_t = 3, global = true)]
    pub reports_to_hide: u32,

    /// Key for hashing client addresses (default: derived from the site secret in the database).
    #[arg(long, env = "CARETHREAD_ADDRESS_KEY", global = true, hide_env_values = true)]
    pub address_key: Option<SecretString>,

    /// A folder of your own files (a logo, a privacy notice) served at /files/.
    #[arg(long, env = "CARETHREAD_FILES_DIR", global = true)]
    pub files_dir: Option<PathBuf>,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CARETHREAD_MAX_BODY_BYTES", default_value_t = 128 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// The mail server: `smtp://user:pass@host:587` (STARTTLS), `smtps://user:pass@host:465` (TLS),
    /// or `smtp://host:25?tls=none` for a relay on the same host. Unset: mails are written as
    /// `.eml` files under `{data dir}/mail/` instead of being sent.
    #[arg(long, env = "CARETHREAD_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<SecretString>,

    /// Who mails come from, e.g. "Example Trust <comments@example.org>".
    #[arg(
        long,
        env = "CARETHREAD_MAIL_FROM",
        default_value = "Carethread <comments@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// The site's name in mails ("You have a reply on …"); the organisation's name when unset.
    #[arg(long, env = "CARETHREAD_SITE_NAME", global = true)]
    pub site_name: Option<String>,

    /// Minutes a reply mail waits for other replies to go with it (0 sends each at once).
    #[arg(
        long,
        env = "CARETHREAD_NOTIFY_BATCH_MINUTES",
        default_value_t = 15,
        global = true
    )]
    pub notify_batch_minutes: u32,

    /// Days a reader's private status link keeps working.
    #[arg(
        long,
        env = "CARETHREAD_STATUS_LINK_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub status_link_days: u32,

    /// An address to POST a JSON note to when a comment is marked urgent (for chat tools); signed
    /// with `CARETHREAD_ALERT_WEBHOOK_SECRET` in `X-Carethread-Signature: sha256=<hex HMAC of the body>`.
    #[arg(long, env = "CARETHREAD_ALERT_WEBHOOK_URL", global = true)]
    pub alert_webhook_url: Option<String>,

    /// The key the webhook's signature is made with; needed with CARETHREAD_ALERT_WEBHOOK_URL.
    #[arg(
        long,
        env = "CARETHREAD_ALERT_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub alert_webhook_secret: Option<SecretString>,

    /// Days the email address of a comment that was never published is kept.
    #[arg(
        long,
        env = "CARETHREAD_UNPUBLISHED_EMAIL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub unpublished_email_days: u32,

    /// Sites allowed to show threads in a frame and to read comment counts (comma-separated
    /// origins, e.g. https://www.example.org).
    #[arg(long, env = "CARETHREAD_EMBED_ORIGINS", value_delimiter = ',', global = true)]
    pub embed_origins: Vec<String>,

    /// Create an article the first time an allowed site embeds a new short name, from the
    /// embedding page's title and address.
    #[arg(long, env = "CARETHREAD_AUTO_ARTICLES", global = true)]
    pub auto_articles: bool,

    /// Seconds a client has to send a request's headers (and that an idle connection stays open)
    /// before the connection is closed.
    #[arg(long, env = "CARETHREAD_HEADER_TIMEOUT_SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub header_timeout_seconds: u64,

    /// Most connections this process holds open at once; more wait to be accepted.
    #[arg(long, env = "CARETHREAD_MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections: u32,

    /// Most database connections this process opens.
    #[arg(
        long,
        env = "CARETHREAD_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// Memory for rendered comment threads, in MiB (0 turns the cache off). Each process keeps its
    /// own; the database says when an entry is out of date.
    #[arg(long, env = "CARETHREAD_THREAD_CACHE_MB", default_value_t = 64, global = true)]
    pub thread_cache_mb: usize,

    /// How long, in milliseconds, a process trusts an article it has just read before asking the
    /// database again. Changes made through another process show within this time; changes made
    /// through this one show at once. 0 asks on every request.
    #[arg(
        long,
        env = "CARETHREAD_ARTICLE_REFRESH_MS",
        default_value_t = 250,
        global = true
    )]
    pub article_refresh_ms: u64,

    /// Comments one address may store with one window's form for one reply target (the same
    /// words again store nothing new); more go to the spam tab. Raise it where many readers share
    /// an address.
    #[arg(long, env = "CARETHREAD_COMMENTS_PER_FORM", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub comments_per_form: u32,

    /// How long, in seconds, a shared cache (Varnish, a CDN) may keep a public thread page
    /// (`s-maxage`). Also the length of the window within which every reader is shown the same
    /// form. 0: pages are not kept by shared caches, and windows last a second.
    #[arg(long, env = "CARETHREAD_SHARED_CACHE_SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=3600), global = true)]
    pub shared_cache_seconds: u32,

    /// Where to send a `BAN` when an article's thread changes (a Varnish address such as
    /// `http://127.0.0.1:6081/`), so shared caches drop its pages at once. Off by default.
    #[arg(long, env = "CARETHREAD_PURGE_URL", global = true)]
    pub purge_url: Option<String>,

    /// Hours within which a published question should have a midwife's answer; older ones are
    /// highlighted under "Awaiting a midwife".
    #[arg(long, env = "CARETHREAD_ANSWER_TARGET_HOURS", default_value_t = 48,
          value_parser = clap::value_parser!(u32).range(1..=8760), global = true)]
    pub answer_target_hours: u32,

    /// A separate address to serve Prometheus metrics on (`/metrics`, no token), for the
    /// operator's network only. Off by default.
    #[arg(long, env = "CARETHREAD_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Serve `/metrics` on the main address to scrapes sending `Authorization: Bearer <token>`.
    /// Off by default: with neither this nor a metrics address, `/metrics` is not served.
    #[arg(long, env = "CARETHREAD_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<SecretString>,
}

/// What the web application needs at run time, derived from [`Settings`].
#[derive(Debug, Clone)]
pub struct Config {
    /// The organisation's name, put in the notice and the staff label in place of `{organisation}`.
    pub organisation: String,
    /// The notice as written (with `{organisation}`): the starting value of the site setting.
    pub notice: String,
    pub timezone: Tz,
    pub threads_per_page: u32,
    pub max_depth: u32,
    pub cookie_secure: bool,
    pub max_body_bytes: usize,
    /// Where links in invitations point, without a trailing slash.
    pub public_url: String,
    /// How staff replies are signed, as written (with `{organisation}`).
    pub staff_label: String,
    pub verified_badge: String,
    pub show_staff_names: bool,
    pub disclaimer: String,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a staff session may last from sign-in.
    pub session_max_age: chrono::Duration,
    pub warning_signs: crate::safety::triage::WarningSigns,
    pub safety_message: String,
    pub banned_phrases: Vec<String>,
    pub min_form_seconds: i64,
    /// Comments one address may store with one window's form for one reply target.
    pub comments_per_form: i64,
    pub rate_per_address: i64,
    pub rate_per_article: i64,
    pub rate_window: chrono::Duration,
    pub reports_to_hide: i32,
    pub address_key: Option<SecretString>,
    /// Send HSTS: the public address is https.
    pub https: bool,
    pub files_dir: Option<PathBuf>,
    pub thread_cache_bytes: usize,
    pub article_refresh: std::time::Duration,
    /// `s-maxage` of public thread pages, in seconds (0: not kept by shared caches).
    pub shared_cache_seconds: u32,
    /// Where cache purges are sent, if anywhere.
    pub purge_url: Option<String>,
    pub header_timeout: std::time::Duration,
    pub max_connections: usize,
    /// Origins (`scheme://host[:port]`, lower case) allowed to frame threads and read counts.
    pub embed_origins: Vec<String>,
    pub auto_articles: bool,
    pub mail: MailConfig,
    /// How soon a published question should have a midwife's answer.
    pub answer_target: chrono::Duration,
    /// Where `/metrics` is served alone, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// The token that opens `/metrics` on the main address, if it is served there.
    pub metrics_token: Option<SecretString>,
    /// The site settings as this process shows them: the values above (`organisation`, `notice`,
    /// `staff_label`, `verified_badge`, `disclaimer`, `safety_message`) are where they start,
    /// and an admin may change them in the browser (see `crate::settings`). Shared by clones.
    pub site: crate::settings::Live,
    /// Read replicas for public reads (see `db::replicas`); empty: the primary only.
    pub replica_urls: Vec<SecretString>,
    /// How far a replica may lag before it is left out.
    pub replica_max_lag: std::time::Duration,
}

/// How mail is sent and what it says.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `None`: write `.eml` files to `folder` instead of sending.
    pub smtp_url: Option<SecretString>,
    pub folder: PathBuf,
    pub from: String,
    pub site_name: String,
    pub batch: chrono::Duration,
    pub status_link_lifetime: chrono::Duration,
    pub unpublished_email_lifetime: chrono::Duration,
    /// Where urgent alerts are also POSTed, and the key that signs them.
    pub webhook: Option<(String, SecretString)>,
}

impl Config {
    /// The site settings now: those last read from the database, or the starting values.
    pub fn site_text(&self) -> std::sync::Arc<crate::settings::SiteText> {
        self.site
            .get()
            .unwrap_or_else(|| std::sync::Arc::new(crate::settings::SiteText::starting(self)))
    }

    /// The length of a form window in seconds: every reader shown the thread within one window
    /// gets the same form (see `safety::spam::window_stamp`).
    pub fn form_window_seconds(&self) -> i64 {
        i64::from(self.shared_cache_seconds.max(1))
    }
}

impl MailConfig {
    /// Mail goes to a real server (not only to files on disk).
    pub fn sends(&self) -> bool {
        self.smtp_url.is_some()
    }
}

impl Config {
    /// The run-time configuration from `settings`, or what is wrong with them.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let warning_signs = match &settings.warning_signs {
            Some(path) => {
                let list = std::fs::read_to_string(path)
                    .with_context(|| format!("could not read the warning signs in {}", path.display()))?;
                crate::safety::triage::WarningSigns::parse(&list)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("the warning signs in {}", path.display()))?
            }
            None => crate::safety::triage::WarningSigns::builtin(),
        };
        let mut config = settings.config(warning_signs);
        anyhow::ensure!(
            config.mail.from.parse::<lettre::message::Mailbox>().is_ok(),
            "CARETHREAD_MAIL_FROM '{}' is not a mail address such as \"Example Trust <comments@example.org>\"",
            config.mail.from
        );
        config.embed_origins = settings
            .embed_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .map(origin)
            .collect::<anyhow::Result<_>>()?;
        config.mail.webhook = match (&settings.alert_webhook_url, &settings.alert_webhook_secret) {
            (None, _) => None,
            (Some(url), Some(secret)) => {
                let url = url.trim();
                anyhow::ensure!(
                    url.starts_with("https://") || url.starts_with("http://"),
                    "CARETHREAD_ALERT_WEBHOOK_URL must start with https:// or http://"
                );
                Some((url.to_owned(), secret.clone()))
            }
            (Some(_), None) => anyhow::bail!(
                "CARETHREAD_ALERT_WEBHOOK_URL needs CARETHREAD_ALERT_WEBHOOK_SECRET, the key that signs each alert"
            ),
        };
        if let Some(url) = &config.purge_url {
            anyhow::ensure!(
                (url.starts_with("http://") || url.starts_with("https://"))
                    && url.parse::<axum::http::Uri>().is_ok(),
                "CARETHREAD_PURGE_URL '{url}' is not a web address such as http://127.0.0.1:6081/"
            );
        }
        Ok(config)
    }

    /// Whether `origin` (as a browser sends it in `Origin`) may embed threads.
    pub fn embed_allowed(&self, origin: &str) -> bool {
        self.embed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }
}

/// An origin as browsers write it: `https://host` or `http://host:port`, lower case, nothing
/// after the host and port.
fn origin(raw: &str) -> anyhow::Result<String> {
    let lower = raw.trim_end_matches('/').to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| {
            anyhow::anyhow!("'{raw}' in CARETHREAD_EMBED_ORIGINS must start with https:// or http://")
        })?;
    let well_formed = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    anyhow::ensure!(
        well_formed,
        "'{raw}' in CARETHREAD_EMBED_ORIGINS is not an origin: give only the scheme, host and port, e.g. https://www.example.org"
    );
    Ok(lower)
}

impl Settings {
    fn config(&self, warning_signs: crate::safety::triage::WarningSigns) -> Config {
        let https = self
            .public_url
            .as_deref()
            .is_some_and(|url| url.trim_start().to_ascii_lowercase().starts_with("https://"));
        Config {
            organisation: self.organisation.clone(),
            notice: self.notice.clone(),
            timezone: self.timezone,
            threads_per_page: self.threads_per_page,
            max_depth: self.max_depth,
            cookie_secure: self.cookie_secure.unwrap_or(https),
            max_body_bytes: self.max_body_bytes,
            thread_cache_bytes: self.thread_cache_mb.saturating_mul(1024 * 1024),
            article_refresh: std::time::Duration::from_millis(self.article_refresh_ms),
            shared_cache_seconds: self.shared_cache_seconds,
            purge_url: self
                .purge_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            embed_origins: Vec::new(),
            auto_articles: self.auto_articles,
            mail: MailConfig {
                smtp_url: self.smtp_url.clone(),
                folder: self.data_dir.join("mail"),
                from: crate::text::normalise_line(&self.mail_from),
                site_name: crate::text::normalise_line(
                    self.site_name.as_deref().unwrap_or(&self.organisation),
                ),
                batch: chrono::Duration::minutes(i64::from(self.notify_batch_minutes)),
                status_link_lifetime: chrono::Duration::days(i64::from(self.status_link_days)),
                unpublished_email_lifetime: chrono::Duration::days(i64::from(self.unpublished_email_days)),
                webhook: None,
            },
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.addr))
                .trim_end_matches('/')
                .to_owned(),
            staff_label: self.staff_label.clone(),
            verified_badge: self.verified_badge.clone(),
            show_staff_names: self.show_staff_names,
            disclaimer: self.disclaimer.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            session_max_age: chrono::Duration::hours(i64::from(self.session_max_hours)),
            warning_signs,
            safety_message: self.safety_message.clone(),
            banned_phrases: self
                .banned_phrases
                .iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            min_form_seconds: i64::from(self.min_form_seconds),
            comments_per_form: i64::from(self.comments_per_form),
            rate_per_address: i64::from(self.rate_per_address),
            rate_per_article: i64::from(self.rate_per_article),
            rate_window: chrono::Duration::minutes(i64::from(self.rate_window_minutes)),
            reports_to_hide: i32::try_from(self.reports_to_hide).unwrap_or(i32::MAX),
            address_key: self.address_key.clone(),
            https,
            files_dir: self.files_dir.clone(),
            answer_target: chrono::Duration::hours(i64::from(self.answer_target_hours)),
            metrics_addr: self.metrics_addr,
            metrics_token: self
                .metrics_token
                .clone()
                .filter(|t| !secrecy::ExposeSecret::expose_secret(t).trim().is_empty()),
            site: crate::settings::Live::default(),
            replica_urls: self
                .replica_urls
                .iter()
                .map(|u| secrecy::ExposeSecret::expose_secret(u).trim().to_owned())
                .filter(|u| !u.is_empty())
                .map(SecretString::from)
                .collect(),
            replica_max_lag: std::time::Duration::from_millis(self.replica_max_lag_ms),
        }
    }
}

impl Config {
    /// Defaults as a fresh install has them; used by tests and examples.
    /// The defaults, except that every request reads the article afresh: tests change the
    /// database behind the application's back and expect to see it at once.
    pub fn for_tests() -> Self {
        let mut config = Self::from_settings(&Settings::parse_from(["carethread"]))
            .expect("the default settings are valid");
        config.article_refresh = std::time::Duration::ZERO;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_notice_names_the_organisation() {
        let config = Config::from_settings(&Settings::parse_from([
            "carethread",
            "--organisation",
            "Example Trust",
        ]))
        .unwrap();
        let notice = config.site_text().notice();
        assert!(notice.contains("not answered by Example Trust."));
        assert!(!notice.contains("{organisation}"));
    }

    #[test]
    fn cookies_are_secure_when_the_public_url_is_https() {
        let config = |words: &[&str]| Config::from_settings(&Settings::parse_from(words)).unwrap();
        assert!(config(&["carethread", "--public-url", "https://comments.example.org"]).cookie_secure);
        assert!(!config(&["carethread", "--public-url", "http://localhost:3000"]).cookie_secure);
        assert!(
            !config(&[
                "carethread",
                "--public-url",
                "https://comments.example.org",
                "--cookie-secure",
                "false",
            ])
            .cookie_secure
        );
    }

    #[test]
    fn embedding_origins_are_checked_and_compared_without_case() {
        let config = |list: &str| {
            Config::from_settings(&Settings::parse_from(["carethread", "--embed-origins", list]))
        };
        let ok = config("https://www.Example.org/, http://localhost:8080").unwrap();
        assert_eq!(
            ok.embed_origins,
            ["https://www.example.org", "http://localhost:8080"]
        );
        assert!(ok.embed_allowed("https://www.example.org"));
        assert!(!ok.embed_allowed("https://evil.example"));
        assert!(config("www.example.org").is_err());
        assert!(config("https://www.example.org/page").is_err());
    }

    #[test]
    fn replicas_are_a_comma_separated_list_with_a_lag_limit() {
        let config = Config::from_settings(&Settings::parse_from([
            "carethread",
            "--replica-urls",
            "postgres://r1/db, postgres://r2/db,",
        ]))
        .unwrap();
        assert_eq!(config.replica_urls.len(), 2);
        assert_eq!(config.replica_max_lag, std::time::Duration::from_millis(2000));
        let none = Config::from_settings(&Settings::parse_from(["carethread"])).unwrap();
        assert!(none.replica_urls.is_empty());
        assert!(
            !format!("{config:?}").contains("r1"),
            "addresses may hold passwords"
        );
    }

    #[test]
    fn an_unknown_time_zone_is_refused() {
        assert!(Settings::try_parse_from(["carethread", "--timezone", "Mars/Olympus"]).is_err());
    }
}
