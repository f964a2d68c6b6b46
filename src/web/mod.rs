//! A kit for pages and forms, shared by every feature and knowing none of them: rendering and
//! error pages, form extractors that normalise text and check form tokens, who the client is, and
//! the static files.

pub mod assets;
pub mod client;
pub mod form;
pub mod page;
