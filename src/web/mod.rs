//! A kit for pages and forms, shared by every feature and knowing none of them: rendering and
//! error pages, form extractors that normalise text and check form tokens, who the client is, what
//! shared caches may keep, and the static files.

pub mod assets;
pub mod caching;
pub mod client;
pub mod form;
pub mod page;
