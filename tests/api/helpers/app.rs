//! The application under test: served on a free local port against a fresh database, with
//! browsers for readers and staff and helpers that post forms the way a browser does.

use std::{sync::LazyLock, time::Duration};

use carethread::{AppState, accounts::Role, comments::CommentStatus, config::Config, db::Replicas};
use chrono::{DateTime, Utc};
use reqwest::{StatusCode, header};
use sqlx::PgPool;
use tokio::sync::oneshot;

use super::{database::TestDatabase, html::hidden_field, logs};

pub struct TestApp {
    pub address: String,
    pub db: PgPool,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: the database outlives the server using it.
    pub database: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_reading_from(std::sync::Arc::new(Replicas::none()), configure).await
    }

    /// The application with readers' public reads sent to `replicas` (see `db::replicas`).
    pub async fn spawn_reading_from(
        replicas: std::sync::Arc<Replicas>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let database = TestDatabase::create().await;
        let db = database.pool().await;
        let mut config = Config::for_tests();
        // Tests post quickly and often from one address: these protections have tests of their own.
        config.min_form_seconds = 0;
        config.rate_per_address = 10_000;
        config.rate_per_article = 10_000;
        // Every reader in a window gets the same form, so one test's posts share it.
        config.comments_per_form = 10_000;
        configure(&mut config);
        let secret = carethread::db::site_secret(&db).await.expect("site secret");
        let state = AppState::new(db.clone(), config, &secret)
            .expect("state")
            .reading_from(replicas);
        Self::serve(state, db, database).await
    }

    /// Serves `state` (whose pool may point anywhere) while keeping `db` for the test's own checks.
    pub async fn serve(state: AppState, db: PgPool, database: TestDatabase) -> Self {
        logs::install();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(carethread::serve(listener, state, async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            address,
            db,
            client,
            shutdown: Some(tx),
            database,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.expect("body")
    }

    /// Posts a form as a browser does from a page of this site: with its `Origin`.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header(header::ORIGIN, &self.address)
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Opens the thread page and returns its form's time stamp (the same for every reader within
    /// a window), to send as the browser would.
    pub async fn shown_stamp(&self, slug: &str) -> String {
        let html = self.get_html(&format!("/articles/{slug}")).await;
        hidden_field(&html, "form_stamp").expect("the form has a time stamp")
    }

    /// Posts the comment form as a reader would: with the page's time stamp, from the page.
    pub async fn post_comment(&self, slug: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_comment_as(&self.client, slug, fields).await
    }

    /// Posts the comment form from `client`, with the time stamp of the page it saw and that
    /// page's `Origin`, as a browser does.
    pub async fn post_comment_as(
        &self,
        client: &reqwest::Client,
        slug: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self
            .get_as(client, &format!("/articles/{slug}"))
            .await
            .text()
            .await
            .expect("page");
        let stamp = hidden_field(&html, "form_stamp").expect("the form has a time stamp");
        let mut all = vec![("form_stamp", stamp.as_str())];
        all.extend_from_slice(fields);
        client
            .post(format!("{}/articles/{slug}/comments", self.address))
            .header(header::ORIGIN, &self.address)
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn add_article(&self, slug: &str, title: &str) -> i64 {
        sqlx::query_scalar("INSERT INTO articles (slug, title, url) VALUES ($1, $2, $3) RETURNING id")
            .bind(slug)
            .bind(title)
            .bind(format!("https://example.org/{slug}"))
            .fetch_one(&self.db)
            .await
            .expect("insert article")
    }

    pub async fn close_article(&self, slug: &str) {
        sqlx::query("UPDATE articles SET comments_open = false WHERE slug = $1")
            .bind(slug)
            .execute(&self.db)
            .await
            .expect("close article");
    }

    pub async fn add_comment(
        &self,
        article_id: i64,
        parent: Option<i64>,
        name: &str,
        body: &str,
        status: CommentStatus,
    ) -> i64 {
        self.add_comment_at(article_id, parent, name, body, status, Utc::now())
            .await
    }

    pub async fn add_comment_at(
        &self,
        article_id: i64,
        parent: Option<i64>,
        name: &str,
        body: &str,
        status: CommentStatus,
        at: DateTime<Utc>,
    ) -> i64 {
        carethread::comments::store::insert_raw(&self.db, article_id, parent, name, body, status, at)
            .await
            .expect("insert comment")
    }

    pub async fn comment_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM comments")
            .fetch_one(&self.db)
            .await
            .expect("count")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Every test account has this password; hashing it once keeps the tests quick.
pub const STAFF_PASSWORD: &str = "lantern orbit velvet marsh";
static STAFF_HASH: LazyLock<String> =
    LazyLock::new(|| carethread::accounts::hash_password(STAFF_PASSWORD).expect("hash"));

/// A member of staff with a browser of their own.
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub client: reqwest::Client,
}

/// A reader's browser behind the trusted local proxy, seen as coming from `address` (tests set
/// `trusted_proxies` to 127.0.0.1).
pub fn reader_at(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .default_headers(
            [(
                header::HeaderName::from_static("x-forwarded-for"),
                address.parse().expect("an address"),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .expect("client")
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

impl TestApp {
    /// Creates an account with [`STAFF_PASSWORD`]; the email is the name in lower case at example.org.
    pub async fn create_staff(&self, name: &str, role: Role, verified: bool) -> i64 {
        let hash = STAFF_HASH.clone();
        sqlx::query_scalar(
            "INSERT INTO users (email, display_name, role, password_hash, verified_at)
             VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END) RETURNING id",
        )
        .bind(format!("{}@example.org", name.to_lowercase()))
        .bind(name)
        .bind(role)
        .bind(hash)
        .bind(verified)
        .fetch_one(&self.db)
        .await
        .expect("insert staff")
    }

    /// Creates an account and signs it in on a browser of its own.
    pub async fn staff(&self, name: &str, role: Role, verified: bool) -> StaffUser {
        let id = self.create_staff(name, role, verified).await;
        let email = format!("{}@example.org", name.to_lowercase());
        let client = new_client();
        let response = self.sign_in(&client, &email, STAFF_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name} signs in");
        StaffUser { id, email, client }
    }

    pub async fn sign_in(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        self.sign_in_next(client, email, password, "").await
    }

    pub async fn sign_in_next(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
        next: &str,
    ) -> reqwest::Response {
        let token = self.token_for(client).await;
        client
            .post(format!("{}/login", self.address))
            .form(&[
                ("authenticity_token", token.as_str()),
                ("email", email),
                ("password", password),
                ("next", next),
            ])
            .send()
            .await
            .expect("POST /login")
    }

    /// A form token for this browser, from whichever page it may see.
    pub async fn token_for(&self, client: &reqwest::Client) -> String {
        for path in ["/login", "/moderation"] {
            let response = client
                .get(format!("{}{path}", self.address))
                .send()
                .await
                .expect("GET");
            if response.status() == StatusCode::OK {
                let html = response.text().await.expect("body");
                if let Some(token) = hidden_field(&html, "authenticity_token") {
                    return token;
                }
            }
        }
        panic!("no page with a form token for this browser");
    }

    pub async fn get_as(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    /// Posts a form from this browser with a valid token.
    pub async fn post_as(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.token_for(client).await;
        self.post_with_token(client, path, &token, fields).await
    }

    /// Posts a form that is on the page at `path` itself (one-time links), with that page's token.
    pub async fn post_as_on(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self.get_as(client, path).await.text().await.expect("body");
        let token = hidden_field(&html, "authenticity_token").expect("the page has a form token");
        self.post_with_token(client, path, &token, fields).await
    }

    async fn post_with_token(
        &self,
        client: &reqwest::Client,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all = vec![("authenticity_token", token)];
        all.extend_from_slice(fields);
        client
            .post(format!("{}{path}", self.address))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn status_of(&self, comment: i64) -> String {
        sqlx::query_scalar("SELECT status::text FROM comments WHERE id = $1")
            .bind(comment)
            .fetch_one(&self.db)
            .await
            .expect("status")
    }

    pub async fn audit_count(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(&self.db)
            .await
            .expect("audit count")
    }
}
