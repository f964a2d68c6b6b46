//! carethread: moderated comments for health-information websites.
#![forbid(unsafe_code)]

/// Unit tests (and the benchmarks among them) run with the allocator the program uses.
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod accounts;
pub mod admin;
pub mod api;
pub mod articles;
pub mod audit;
pub mod bench;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod import;
pub mod logging;
pub mod mail;
pub mod moderation;
pub mod monitoring;
pub mod privacy;
pub mod progress;
pub mod router;
pub mod safety;
pub mod saved_replies;
pub mod server;
pub mod settings;
pub mod state;
pub mod text;
pub mod web;

pub use router::app;
pub use server::serve;
pub use state::AppState;
