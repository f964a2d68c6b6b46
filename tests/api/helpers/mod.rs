//! What the integration tests share.
//!
//! - [`database`]: a fresh, migrated PostgreSQL database per test ([`TestDatabase`]), on the server
//!   at `DATABASE_URL` or on an embedded one started for the test process.
//! - [`app`]: the application served on a free local port ([`TestApp`]), staff accounts signed in
//!   on browsers of their own, readers' browsers, and posting forms the way a browser does.
//! - [`html`]: reading pages and responses: hidden form fields, links, redirects, escaped text.
//! - [`smtp`]: a mail server speaking SMTP over TCP that keeps what it is sent.
//! - [`logs`]: the process's one tracing subscriber, which counts SQL statements for the tests
//!   that ask and shows the server's logs with `TEST_LOG=1`.
//!
//! Run with `TEST_LOG=1` to see the server's logs (`carethread` and `tower_http` at debug, `sqlx`
//! at warn; `RUST_LOG` overrides that) in the output of each failing test, next to its panic:
//!
//! ```sh
//! TEST_LOG=1 cargo test --test api posting::
//! ```
//!
//! The test harness captures each test's output and prints it only when the test fails.

mod app;
mod database;
mod html;
mod logs;
mod smtp;

pub use app::{STAFF_PASSWORD, StaffUser, TestApp, new_client, reader_at};
pub use database::TestDatabase;
pub use html::{
    escaped, hidden_field, location, path_on_page, position, unescape, visible_text, without_status_link,
};
pub use logs::{keep_statements, take_statements};
pub use smtp::SmtpSink;
