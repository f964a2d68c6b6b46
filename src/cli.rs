//! The command line: its commands, and what each does. `main` parses it and calls [`run`].

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{
    accounts::{self, NewPassword, store::NewAccount},
    articles::{self, NewArticle},
    audit,
    config::{Config, Settings},
    db::{self, Database, Usage},
    demo, server,
    state::AppState,
};

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
    /// For benchmarks: serve one file's bytes from memory at every path with a bare axum handler
    /// and nothing else (the ceiling bench/run.sh compares pages with).
    #[command(hide = true)]
    BenchCeiling {
        /// The file to serve, read once.
        file: std::path::PathBuf,
        #[arg(long, default_value = "127.0.0.1:3901")]
        addr: std::net::SocketAddr,
    },
    /// Try the warning-sign list: check comments from stdin, or measure it on a labelled corpus.
    #[command(subcommand)]
    Safety(SafetyCommand),
    /// Export or erase what is stored about an email address.
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// Ask the running service's /healthz on CARETHREAD_ADDR; exit 0 when it answers 200 (for a
    /// container's health check, where there may be no curl or wget).
    Healthcheck,
    /// Bring comments from Drupal, WordPress or Disqus (see "Importing and leaving" in the README).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the whole site (articles, comments, accounts without passwords, audit log) as JSON Lines.
    Export { file: std::path::PathBuf },
    /// Write a backup of the database with pg_dump (safe while the service runs).
    Backup { file: std::path::PathBuf },
    /// Put a backup made by `backup` back with pg_restore.
    Restore {
        file: std::path::PathBuf,
        /// Replace a database that already has accounts, articles or comments.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A CSV of Drupal 7 or 8+ comments, made with the query in the README.
    Drupal(ImportArgs),
    /// A WordPress export file (WXR: Tools → Export).
    Wordpress(ImportArgs),
    /// A Disqus XML export.
    Disqus(ImportArgs),
    /// A file written by `carethread export`, into an empty database.
    Carethread { file: std::path::PathBuf },
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The export file.
    pub file: std::path::PathBuf,
    /// Read everything and report what would be imported, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// CSV of `source author,carethread email`: their comments become that staff account's replies.
    #[arg(long)]
    pub staff_map: Option<std::path::PathBuf>,
    /// CSV of `entity id,slug,title,url` (Drupal): the article each page's comments belong to.
    #[arg(long)]
    pub article_map: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SafetyCommand {
    /// Reads text on stdin, one comment per line, and prints
    /// `{"urgent": …, "signs": […], "category": …}` for each.
    Check {
        /// Print, for each comment, every phrase found and why it counted or not, instead of JSON.
        #[arg(long)]
        explain: bool,
    },
    /// Measures triage on labelled corpus files (`label<TAB>comment` a line; the label is 999,
    /// urgent-care, mental-health, domestic-abuse or ordinary) and prints recall, false alarms and
    /// category accuracy with every miss and false alarm. Exits with status 1 when any file has
    /// recall below 95% or false alarms above 5%.
    Eval {
        /// Corpus files, e.g. tests/triage/dev.tsv.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
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

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        // Needs no database: staff try a list before they change it.
        Command::Safety(SafetyCommand::Check { explain }) => safety_check(&settings, explain),
        Command::Safety(SafetyCommand::Eval { files }) => safety_eval(&settings, &files),
        Command::Healthcheck => healthcheck(settings.addr).await,
        Command::BenchCeiling { file, addr } => crate::bench::ceiling(&file, addr).await,
        command => {
            let usage = if matches!(command, Command::Demo) {
                Usage::Setup
            } else {
                Usage::Command
            };
            let db = Database::open(&settings, usage).await?;
            let result = match command {
                Command::Import(command) => import_command(&db, &settings, command).await,
                Command::Export { file } => export_command(&db, &file).await,
                Command::Backup { file } => backup_command(&db, &settings, &file),
                Command::Restore { file, force } => restore_command(&db, &settings, &file, force).await,
                command => run_command(&db, command).await,
            };
            db.close().await;
            result
        }
    }
}

async fn run_command(db: &Database, command: Command) -> anyhow::Result<()> {
    let pool = &db.pool;
    match command {
        Command::Serve
        | Command::Healthcheck
        | Command::Import(_)
        | Command::Export { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => unreachable!("handled by run"),
        Command::Migrate => {
            let applied = db.migrate().await?;
            match applied {
                0 => println!("The database is up to date; no migrations were needed."),
                1 => println!("Applied 1 migration; the database is up to date."),
                n => println!("Applied {n} migrations; the database is up to date."),
            }
        }
        Command::Demo => {
            db.migrate().await?;
            match demo::load(pool).await? {
                demo::Loaded::Added { comments } => println!(
                    "Added the demo article '{}' with {comments} comments, including a midwife's reply (one waits for moderation).",
                    demo::DEMO_SLUG
                ),
                demo::Loaded::AlreadyThere => {
                    println!(
                        "The demo article '{}' is already there; nothing was changed.",
                        demo::DEMO_SLUG
                    )
                }
            }
        }
        Command::Article(command) => {
            db.migrate().await?;
            article_command(pool, command).await?;
        }
        Command::Safety(_) | Command::BenchCeiling { .. } => unreachable!("handled by run"),
        Command::BenchData { articles, comments } => {
            db.migrate().await?;
            let started = std::time::Instant::now();
            let loaded = crate::bench::load(pool, articles, comments).await?;
            println!(
                "Loaded {} articles and {} comments in {:.1} s.",
                loaded.articles,
                loaded.comments,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Privacy(command) => {
            db.migrate().await?;
            match command {
                PrivacyCommand::Export { email } => {
                    let export = crate::privacy::export(pool, &email, None).await?;
                    println!("{}", serde_json::to_string_pretty(&export)?);
                    eprintln!("Exported {} comments for this address.", export.comments.len());
                }
                PrivacyCommand::Erase { email } => {
                    let count = crate::privacy::erase(pool, &email, None).await?;
                    println!("Erased the email address and name from {count} comments.");
                }
            }
        }
        Command::User(command) => {
            db.migrate().await?;
            user_command(pool, command).await?;
        }
    }
    Ok(())
}

async fn import_command(db: &Database, settings: &Settings, command: ImportCommand) -> anyhow::Result<()> {
    db.migrate().await?;
    let (format, args) = match command {
        ImportCommand::Drupal(args) => (crate::import::Format::Drupal, args),
        ImportCommand::Wordpress(args) => (crate::import::Format::Wordpress, args),
        ImportCommand::Disqus(args) => (crate::import::Format::Disqus, args),
        ImportCommand::Carethread { file } => {
            let counts = crate::import::export::import(&db.pool, &file).await?;
            println!("Imported {} from {}.", counts.describe(), file.display());
            return Ok(());
        }
    };
    let options = crate::import::Options {
        dry_run: args.dry_run,
        staff_map: args.staff_map,
        article_map: args.article_map,
        // Today's disclaimer: the newest saved under Admin → Settings, or the configured one.
        disclaimer: crate::settings::store::current_disclaimer(&db.pool)
            .await?
            .map_or_else(|| settings.disclaimer.clone(), |(_, text)| text),
    };
    let started = std::time::Instant::now();
    let summary = crate::import::run(&db.pool, format, &args.file, &options).await?;
    print!("{}", summary.report(options.dry_run));
    eprintln!("Took {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

async fn export_command(db: &Database, file: &std::path::Path) -> anyhow::Result<()> {
    db.migrate().await?;
    let counts = crate::import::export::export(&db.pool, file).await?;
    println!("Exported {} to {}.", counts.describe(), file.display());
    Ok(())
}

fn backup_command(db: &Database, settings: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let (bin_dir, url) = db.tools(settings)?;
    crate::import::backup::backup(&bin_dir, &url, file)?;
    println!(
        "Wrote a backup to {}. Test it now and then with `carethread restore` on a spare database.",
        file.display()
    );
    Ok(())
}

async fn restore_command(
    db: &Database,
    settings: &Settings,
    file: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    if !force && !crate::import::backup::is_empty(&db.pool).await? {
        bail!(
            "the database already has accounts, articles or comments; restore with --force to replace them"
        );
    }
    let (bin_dir, url) = db.tools(settings)?;
    crate::import::backup::restore(&bin_dir, &url, file)?;
    db.migrate().await?;
    println!(
        "Restored {}. Restart the service so it forgets what it had cached.",
        file.display()
    );
    Ok(())
}

async fn article_command(pool: &sqlx::PgPool, command: ArticleCommand) -> anyhow::Result<()> {
    match command {
        ArticleCommand::Add {
            slug,
            title,
            url,
            closed,
        } => {
            let article = NewArticle::parse(&slug, &title, &url, !closed).map_err(anyhow::Error::msg)?;
            if articles::store::insert(pool, &article).await?.is_none() {
                bail!(
                    "there is already an article with the slug '{}'",
                    article.slug.as_str()
                );
            }
            let state = if closed {
                "closed to comments"
            } else {
                "open for comments"
            };
            println!(
                "Added the article '{}' at /articles/{} ({state}).",
                article.title,
                article.slug.as_str()
            );
        }
        ArticleCommand::Close { slug } => {
            if articles::store::set_comments_open(pool, &slug, false)
                .await?
                .is_none()
            {
                bail!("there is no article with the slug '{slug}'");
            }
            println!("Closed '{slug}' to new comments. Published comments stay visible.");
        }
        ArticleCommand::Open { slug } => {
            if articles::store::set_comments_open(pool, &slug, true)
                .await?
                .is_none()
            {
                bail!("there is no article with the slug '{slug}'");
            }
            println!("Opened '{slug}' for comments.");
        }
        ArticleCommand::List => {
            let all = articles::store::list_all(pool).await?;
            if all.is_empty() {
                println!("There are no articles yet. Add one with `carethread article add`.");
            }
            for a in all {
                let state = if a.comments_open { "open" } else { "closed" };
                println!(
                    "{}\t{state}\t{} published, {} pending\t{}",
                    a.slug, a.published, a.pending, a.title
                );
            }
        }
    }
    Ok(())
}

async fn user_command(pool: &sqlx::PgPool, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            name,
            role,
            verified,
            registration_number,
        } => {
            let email = email.trim();
            let name = name.trim();
            if !email_address::EmailAddress::is_valid(email) {
                bail!("'{email}' is not a valid email address");
            }
            if name.is_empty() || name.chars().count() > crate::text::NAME_MAX_CHARS {
                bail!("the name must be between 1 and 80 characters");
            }
            let password = read_password()?;
            let password =
                NewPassword::parse(&password, &password, &[email, name]).map_err(anyhow::Error::msg)?;
            let plain = password.expose().to_owned();
            let hash = accounts::hashing::run(move || accounts::hash_password(&plain)).await??;
            let mut tx = pool.begin().await?;
            let account = NewAccount {
                email,
                display_name: name,
                role,
                password_hash: Some(&hash),
                verified,
                verified_by: None,
            };
            let Some(id) = accounts::store::insert_account(&mut *tx, &account).await? else {
                bail!("there is already an account with the email address '{email}'");
            };
            if let Some(number) = registration_number.as_deref() {
                sqlx::query("UPDATE users SET registration_number = $2 WHERE id = $1")
                    .bind(id)
                    .bind(number.trim())
                    .execute(&mut *tx)
                    .await?;
            }
            audit::record(
                &mut tx,
                None,
                audit::Action::AccountCreated,
                audit::Target::Account(id),
                Some(role.as_str()),
            )
            .await?;
            tx.commit().await?;
            let verified = if verified { ", verified" } else { "" };
            println!(
                "Created the {} account for {name} <{email}>{verified}. They can sign in at /login.",
                role.as_str()
            );
        }
        UserCommand::List => {
            let accounts = accounts::store::list_accounts(pool).await?;
            if accounts.is_empty() {
                println!(
                    "There are no staff accounts yet. Create the first admin with `carethread user add --role admin`."
                );
            }
            for a in accounts {
                let state = if a.disabled {
                    "disabled"
                } else if a.has_password {
                    "active"
                } else {
                    "invited"
                };
                let verified = if a.verified_at.is_some() {
                    "verified"
                } else {
                    "not verified"
                };
                println!(
                    "{}\t{}\t{state}, {verified}\t{} <{}>",
                    a.id,
                    a.role.as_str(),
                    a.display_name,
                    a.email
                );
            }
        }
    }
    Ok(())
}

/// One JSON object a line of stdin, from the same triage the web uses.
fn safety_check(settings: &Settings, explain: bool) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let config = Config::from_settings(settings)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("could not read stdin (is it UTF-8 text?)")?;
        let text = crate::text::normalise(&line);
        if explain {
            writeln!(out, "{}", config.warning_signs.explain(&text))?;
        } else {
            serde_json::to_writer(&mut out, &config.warning_signs.check(&text))?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Triage measured on labelled corpora (see `crate::safety::triage::eval`); an error when a file
/// misses the targets.
fn safety_eval(settings: &Settings, files: &[std::path::PathBuf]) -> anyhow::Result<()> {
    let config = Config::from_settings(settings)?;
    let mut below = Vec::new();
    for path in files {
        let corpus =
            std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
        let evaluation = crate::safety::triage::eval::evaluate(&config.warning_signs, &corpus)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        println!("== {}\n{evaluation}", path.display());
        if !evaluation.meets_targets() {
            below.push(path.display().to_string());
        }
    }
    if !below.is_empty() {
        bail!(
            "below the targets (recall at least 95%, false alarms at most 5%): {}",
            below.join(", ")
        );
    }
    Ok(())
}

/// From CARETHREAD_PASSWORD for scripts, otherwise asked for twice without echo.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("CARETHREAD_PASSWORD") {
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password (at least 12 characters): ")
        .context("could not read a password: set CARETHREAD_PASSWORD when there is no terminal")?;
    let second = rpassword::prompt_password("Type it again: ")?;
    if first != second {
        bail!("the two passwords are not the same");
    }
    Ok(first)
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let db = Database::open(settings, Usage::Service).await?;
    let result = serve_on(settings, &db).await;
    db.close().await;
    result
}

async fn serve_on(settings: &Settings, db: &Database) -> anyhow::Result<()> {
    if !settings.no_migrate {
        let applied = db.migrate().await?;
        if applied > 0 {
            tracing::info!(applied, "applied database migrations");
        }
    }
    if settings.database_url.is_none() && articles::store::count(&db.pool).await? == 0 {
        demo::load(&db.pool).await?;
        tracing::info!(
            slug = demo::DEMO_SLUG,
            "loaded the demo article into the new database"
        );
    }
    let secret = db::site_secret(&db.pool)
        .await
        .context("could not read the site secret: has the database been migrated? (`carethread migrate`)")?;
    if accounts::store::count_other_active_admins(&db.pool, 0)
        .await
        .is_ok_and(|n| n == 0)
    {
        // A new site: say how to make the first admin, in the log the person starting it reads.
        tracing::warn!(
            "there is no admin account yet; create the first one with: {}",
            accounts::FIRST_ADMIN_COMMAND
        );
    }
    let config = Config::from_settings(settings)?;
    let replicas = std::sync::Arc::new(db::Replicas::connect_lazy(
        &config.replica_urls,
        config.replica_max_lag,
        settings.db_max_connections,
    )?);
    let watcher = (!replicas.is_empty()).then(|| {
        tracing::info!(
            replicas = replicas.len(),
            "readers' public pages are read from replicas (CARETHREAD_REPLICA_URLS)"
        );
        tokio::spawn(std::sync::Arc::clone(&replicas).watch(db::replicas::real_lag()))
    });
    let state = AppState::new(db.pool.clone(), config, &secret)?
        .watched_by(db.outage.clone())
        .reading_from(std::sync::Arc::clone(&replicas));
    let listener = TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("could not listen on {}", settings.addr))?;
    tracing::info!("carethread is ready at http://{}", listener.local_addr()?);
    let transport = crate::mail::transport::Transport::new(&state.config.mail)?;
    let mail = crate::mail::Context {
        db: db.pool.clone(),
        config: std::sync::Arc::clone(&state.config),
        key: std::sync::Arc::clone(&state.mail_key),
    };
    let mailer = tokio::spawn(crate::mail::worker::run(mail, transport));
    let purger = state.config.purge_url.clone().map(|url| {
        // Every process shows a change once its memo has expired and the replicas it reads from
        // have replayed the change.
        let settle = state.config.article_refresh + replicas.settle_time();
        tokio::spawn(crate::comments::purge::run(db.pool.clone(), url, settle))
    });
    let metrics = match state.config.metrics_addr {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("could not listen on {addr} for metrics"))?;
            tracing::info!("metrics are at http://{addr}/metrics");
            let app = crate::router::metrics_app(&state);
            Some(tokio::spawn(async move { axum::serve(listener, app).await }))
        }
        None => None,
    };
    let pool = db.pool.clone();
    let housekeeping = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = accounts::auth::housekeeping(&pool).await {
                tracing::warn!(%error, "housekeeping failed");
            }
        }
    });
    // Requests in flight at shutdown may finish, but a connection that never finishes its request
    // does not keep the process alive: it stops at most `SHUTDOWN_GRACE` after the signal.
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown_signal().await;
        let _ = stopping.send(());
    };
    let grace = async move {
        if stopped.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server::serve(listener, state, signal) => served?,
        () = grace => tracing::warn!(
            seconds = SHUTDOWN_GRACE.as_secs(),
            "requests still open after the shutdown grace period; stopping anyway"
        ),
    }
    housekeeping.abort();
    mailer.abort();
    if let Some(purger) = purger {
        purger.abort();
    }
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    tracing::info!("stopped serving");
    Ok(())
}

/// GET /healthz on `addr` (a wildcard address means this host) within three seconds: Ok when it
/// answers 200.
async fn healthcheck(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut target = addr;
    if target.ip().is_unspecified() {
        target.set_ip(match target {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(target).await?;
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::new();
        stream.take(256).read_to_end(&mut head).await?;
        anyhow::Ok(String::from_utf8_lossy(&head).into_owned())
    };
    let head = tokio::time::timeout(std::time::Duration::from_secs(3), ask)
        .await
        .with_context(|| format!("no answer from http://{target}/healthz within 3 seconds"))?
        .with_context(|| format!("could not reach http://{target}/healthz"))?;
    let status = head.lines().next().unwrap_or_default();
    anyhow::ensure!(
        status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200"),
        "http://{target}/healthz answered {status:?}"
    );
    println!("healthy");
    Ok(())
}

/// How long requests in flight may take to finish once a shutdown signal arrives.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(8);

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::parse_from(["carethread"]);
        assert!(cli.command.is_none());
    }
}
