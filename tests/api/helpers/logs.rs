//! The test process's one tracing subscriber. It keeps the SQL statements a test has asked to
//! count and, with `TEST_LOG=1`, writes the server's logs into the output of the test they happen
//! in.
//!
//! sqlx reports every statement it runs as a `sqlx::query` tracing event; the subscriber writes
//! each one into a list kept by the thread it ran on, when that thread has asked for one. The test
//! runtime runs the server on the test's own thread, so the list holds exactly the statements
//! that test's requests cause, apart from the driver's own type lookups. For the same reason the
//! log lines land in that test's captured output, which the harness shows only when it fails.

use std::{cell::RefCell, sync::Once};

use tracing::{Event, Subscriber};
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::filter_fn,
    layer::{Context, SubscriberExt},
};

/// What `TEST_LOG=1` shows when `RUST_LOG` does not say otherwise.
const DEFAULT_LOG_FILTER: &str = "carethread=debug,tower_http=debug,sqlx=warn";

thread_local! {
    static STATEMENTS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Installs the subscriber the first time it is called in this process; later calls do nothing.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let logs = show_logs().then(|| {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .with_filter(filter)
        });
        let subscriber = tracing_subscriber::registry()
            .with(StatementLog.with_filter(filter_fn(|metadata| metadata.target() == "sqlx::query")))
            .with(logs);
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
}

/// Whether `TEST_LOG` asks for the server's logs.
fn show_logs() -> bool {
    std::env::var("TEST_LOG").is_ok_and(|value| !value.is_empty() && value != "0")
}

/// Sends `sqlx::query` events to the list of the thread they happen on.
struct StatementLog;

impl<S: Subscriber> Layer<S> for StatementLog {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        /// The statement's first words, as sqlx summarises it.
        struct Summary(String);
        impl tracing::field::Visit for Summary {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "summary" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut summary = Summary(String::new());
        event.record(&mut summary);
        // The driver looks up custom types once per new connection; those are not the page's.
        if summary.0.contains("pg_catalog") || summary.0.contains("regtype") {
            return;
        }
        STATEMENTS.with(|list| {
            if let Some(list) = list.borrow_mut().as_mut() {
                list.push(summary.0);
            }
        });
    }
}

/// Starts keeping this thread's statements.
pub fn keep_statements() {
    install();
    STATEMENTS.with(|list| *list.borrow_mut() = Some(Vec::new()));
}

/// The statements this thread has run since it last asked, once it has called [`keep_statements`].
pub fn take_statements() -> Vec<String> {
    STATEMENTS.with(|list| list.borrow_mut().as_mut().map(std::mem::take).unwrap_or_default())
}
