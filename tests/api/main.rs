//! Integration tests: the real application over HTTP against a real PostgreSQL, one fresh
//! database per test. With `DATABASE_URL` set they use that server; otherwise they start the same
//! embedded server the application uses, in the system's temporary folder.

mod accounts;
mod admin;
mod answering;
mod api;
mod attacks;
mod awaiting;
mod browser;
mod cache;
mod cli;
mod decisions;
mod embed;
mod embedded;
mod faults;
mod helpers;
mod import;
mod mail;
mod moderation;
mod observability;
mod operations;
mod overview;
mod posting;
mod queries;
mod replicas;
mod roles;
mod safety;
mod saved_replies;
mod services;
mod settings;
mod staff_pages;
mod threads;
