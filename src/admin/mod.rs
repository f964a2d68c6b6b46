//! Admin: accounts, articles and the audit log. Every page and action here is for admins only.

pub mod routes;
