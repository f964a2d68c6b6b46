//! carethread: moderated comments for health-information websites.
#![forbid(unsafe_code)]

pub mod articles;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod web;

pub use web::{AppState, app, serve};
