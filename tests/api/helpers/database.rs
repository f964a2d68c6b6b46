//! The test databases: one PostgreSQL server per test process (the one at `DATABASE_URL`, or an
//! embedded one of the process's own), a migrated template on it, and a fresh database per test.

use std::sync::atomic::{AtomicU32, Ordering};

use carethread::db::{MIGRATOR, embedded::EmbeddedPostgres};
use sqlx::{Connection, Executor, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::sync::OnceCell;

/// Where the test databases live, shared by every test in this process.
struct TestServer {
    admin: PgConnectOptions,
    /// Address of a database on this server, with `{db}` for its name.
    url_pattern: String,
    template: String,
}

static SERVER: OnceCell<TestServer> = OnceCell::const_new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

async fn server() -> &'static TestServer {
    SERVER.get_or_init(start_server).await
}

async fn start_server() -> TestServer {
    let (admin, url_pattern) = match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let mut parsed = url::Url::parse(&url).expect("DATABASE_URL is a URL");
            parsed.set_path("/{db}");
            let pattern = parsed.to_string().replace("%7Bdb%7D", "{db}");
            (
                url.parse::<PgConnectOptions>()
                    .expect("DATABASE_URL is a PostgreSQL address"),
                pattern,
            )
        }
        Err(_) => {
            // A cluster of this process's own, stopped and removed when the process ends.
            let dir = std::env::temp_dir().join(format!("carethread-tests-{}", std::process::id()));
            let mut embedded = EmbeddedPostgres::new(&dir, None).expect("PostgreSQL server binaries");
            embedded.start().await.expect("embedded PostgreSQL starts");
            embedded
                .stop_when_process_exits(std::process::id(), true)
                .expect("watchdog");
            (embedded.connect_options("postgres"), embedded.url("{db}"))
        }
    };
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .expect("connect to the test server");
    drop_stale_databases(&mut conn).await;
    let template = format!("carethread_test_{}_template", std::process::id());
    conn.execute(format!("CREATE DATABASE {template}").as_str())
        .await
        .expect("create template");
    let mut tpl = PgConnection::connect_with(&admin.clone().database(&template))
        .await
        .expect("connect to template");
    MIGRATOR.run(&mut tpl).await.expect("migrations apply");
    tpl.close().await.expect("close template");
    TestServer {
        admin,
        url_pattern,
        template,
    }
}

/// Databases left by earlier runs whose process has ended.
async fn drop_stale_databases(conn: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'carethread\\_test\\_%'")
            .fetch_all(&mut *conn)
            .await
            .expect("list test databases");
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or("");
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// A fresh, migrated database of its own.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    /// A migrated database.
    pub async fn create() -> Self {
        let template = server().await.template.clone();
        Self::create_from(&template).await
    }

    /// A database with no tables at all.
    pub async fn create_empty() -> Self {
        Self::create_from("template0").await
    }

    async fn create_from(template: &str) -> Self {
        let server = server().await;
        let name = format!(
            "carethread_test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        let mut conn = PgConnection::connect_with(&server.admin).await.expect("connect");
        conn.execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
            .await
            .expect("create test database");
        conn.close().await.ok();
        Self {
            url: server.url_pattern.replace("{db}", &name),
            options: server.admin.clone().database(&name),
            name,
        }
    }

    pub async fn pool(&self) -> PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(5)
            .connect_with(self.options.clone())
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let Some(server) = SERVER.get() else { return };
        let admin = server.admin.clone();
        // Drop runs outside async: use a little runtime of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        })
        .join();
    }
}
