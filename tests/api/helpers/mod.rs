//! What the integration tests share.
//!
//! - [`database`]: a fresh, migrated PostgreSQL database per test ([`TestDatabase`]), on the server
//!   at `DATABASE_URL` or on an embedded one started for the test process.
//! - [`app`]: the application served on a free local port ([`TestApp`]), staff accounts signed in
//!   on browsers of their own, readers' browsers, and posting forms the way a browser does.
//! - [`html`]: reading pages and responses: hidden form fields, links, redirects, escaped text.

mod app;
mod database;
mod html;

pub use app::{STAFF_PASSWORD, StaffUser, TestApp, new_client, reader_at};
pub use database::TestDatabase;
pub use html::{assert_is_redirect_to, escaped, hidden_field, location, path_on_page, position};
