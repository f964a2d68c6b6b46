//! Every setting in one place: read once from flags and `CARETHREAD_*` variables, checked at start.

use std::{net::SocketAddr, path::PathBuf};

use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand};
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

#[derive(Debug, Parser)]
#[command(
    name = "carethread",
    version,
    about = "Moderated comments for health-information websites"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the website (the default when no command is given).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Add or list staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Add, list, close or open articles.
    #[command(subcommand)]
    Article(ArticleCommand),
    /// Load the demo article and its comments (does nothing if they are already there).
    Demo,
    /// Load benchmark data: articles and comments in bulk (see bench/run.sh).
    BenchData {
        #[arg(long, default_value_t = 1000)]
        articles: usize,
        #[arg(long, default_value_t = 10_000)]
        comments: usize,
    },
    /// Try the warning-sign list: check comments from stdin, or measure it on a labelled corpus.
    #[command(subcommand)]
    Safety(SafetyCommand),
    /// Export or erase what is stored about an email address.
    #[command(subcommand)]
    Privacy(PrivacyCommand),
}

#[derive(Debug, Subcommand)]
pub enum SafetyCommand {
    /// Reads text on stdin, one comment per line, and prints
    /// `{"urgent": …, "signs": […], "category": …}` for each.
    Check,
    /// Measures triage on labelled corpus files (`label<TAB>comment` a line; the label is 999,
    /// urgent-care, mental-health, domestic-abuse or ordinary) and prints recall, false alarms and
    /// category accuracy with every miss and false alarm. Exits with status 1 when any file has
    /// recall below 95% or false alarms above 5%.
    Eval {
        /// Corpus files, e.g. tests/triage/dev.tsv.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Prints everything stored about EMAIL as JSON.
    Export { email: String },
    /// Removes EMAIL and anonymises the comments written with it.
    Erase { email: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account. The password is asked for, or read from CARETHREAD_PASSWORD.
    Add {
        #[arg(long)]
        email: String,
        /// The name other staff see.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::accounts::Role,
        /// Mark the account verified at once (a midwife whose registration you have checked).
        #[arg(long)]
        verified: bool,
        /// Professional registration number, recorded with the verification.
        #[arg(long, requires = "verified")]
        registration_number: Option<String>,
    },
    /// List staff accounts.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ArticleCommand {
    /// Add an article that takes comments.
    Add {
        /// Short name used in the address, e.g. after-a-miscarriage.
        #[arg(long)]
        slug: String,
        /// The article's title as readers know it.
        #[arg(long)]
        title: String,
        /// Address of the article on your own website.
        #[arg(long)]
        url: String,
        /// Add it with comments closed.
        #[arg(long)]
        closed: bool,
    },
    /// List every article with its comment counts.
    List,
    /// Stop taking new comments on an article (published comments stay visible).
    Close { slug: String },
    /// Take comments on an article again.
    Open { slug: String },
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
    #[arg(long, env = "CARETHREAD_THREAD_CACHE_MB", default_value_t = 32, global = true)]
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
}

/// What the web application needs at run time, derived from [`Settings`].
#[derive(Debug, Clone)]
pub struct Config {
    pub organisation: String,
    pub notice: String,
    pub timezone: Tz,
    pub threads_per_page: u32,
    pub max_depth: u32,
    pub cookie_secure: bool,
    pub max_body_bytes: usize,
    /// Where links in invitations point, without a trailing slash.
    pub public_url: String,
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
}

impl Settings {
    /// The run-time configuration, or what is wrong with the settings.
    pub fn try_config(&self) -> anyhow::Result<Config> {
        let mut config = self.config();
        if let Some(path) = &self.warning_signs {
            let list = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("could not read the warning signs in {}: {e}", path.display())
            })?;
            config.warning_signs = crate::safety::triage::WarningSigns::parse(&list)
                .map_err(|e| anyhow::anyhow!("the warning signs in {}: {e}", path.display()))?;
        }
        Ok(config)
    }

    /// The configuration with the built-in warning signs (see [`Settings::try_config`]).
    pub fn config(&self) -> Config {
        let https = self
            .public_url
            .as_deref()
            .is_some_and(|url| url.trim_start().to_ascii_lowercase().starts_with("https://"));
        Config {
            organisation: self.organisation.clone(),
            notice: self.notice.replace("{organisation}", &self.organisation),
            timezone: self.timezone,
            threads_per_page: self.threads_per_page,
            max_depth: self.max_depth,
            cookie_secure: self.cookie_secure.unwrap_or(https),
            max_body_bytes: self.max_body_bytes,
            thread_cache_bytes: self.thread_cache_mb.saturating_mul(1024 * 1024),
            article_refresh: std::time::Duration::from_millis(self.article_refresh_ms),
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.addr))
                .trim_end_matches('/')
                .to_owned(),
            staff_label: self.staff_label.replace("{organisation}", &self.organisation),
            verified_badge: self.verified_badge.clone(),
            show_staff_names: self.show_staff_names,
            disclaimer: self.disclaimer.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            session_max_age: chrono::Duration::hours(i64::from(self.session_max_hours)),
            warning_signs: crate::safety::triage::WarningSigns::builtin(),
            safety_message: self.safety_message.clone(),
            banned_phrases: self
                .banned_phrases
                .iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            min_form_seconds: i64::from(self.min_form_seconds),
            rate_per_address: i64::from(self.rate_per_address),
            rate_per_article: i64::from(self.rate_per_article),
            rate_window: chrono::Duration::minutes(i64::from(self.rate_window_minutes)),
            reports_to_hide: i32::try_from(self.reports_to_hide).unwrap_or(i32::MAX),
            address_key: self.address_key.clone(),
            https,
            files_dir: self.files_dir.clone(),
        }
    }
}

impl Config {
    /// Defaults as a fresh install has them; used by tests and examples.
    /// The defaults, except that every request reads the article afresh: tests change the
    /// database behind the application's back and expect to see it at once.
    pub fn for_tests() -> Self {
        let mut config = Cli::parse_from(["carethread"]).settings.config();
        config.article_refresh = std::time::Duration::ZERO;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_notice_names_the_organisation() {
        let cli = Cli::parse_from(["carethread", "--organisation", "Example Trust"]);
        let config = cli.settings.config();
        assert!(config.notice.contains("not answered by Example Trust."));
        assert!(!config.notice.contains("{organisation}"));
    }

    #[test]
    fn cookies_are_secure_when_the_public_url_is_https() {
        let cli = Cli::parse_from(["carethread", "--public-url", "https://comments.example.org"]);
        assert!(cli.settings.config().cookie_secure);
        let cli = Cli::parse_from(["carethread", "--public-url", "http://localhost:3000"]);
        assert!(!cli.settings.config().cookie_secure);
        let cli = Cli::parse_from([
            "carethread",
            "--public-url",
            "https://comments.example.org",
            "--cookie-secure",
            "false",
        ]);
        assert!(!cli.settings.config().cookie_secure);
    }

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::parse_from(["carethread"]);
        assert!(cli.command.is_none());
    }

    #[test]
    fn an_unknown_time_zone_is_refused() {
        assert!(Cli::try_parse_from(["carethread", "--timezone", "Mars/Olympus"]).is_err());
    }
}
