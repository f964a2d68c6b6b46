//! Where log lines go and what they look like: readable text by default, or one JSON object a
//! line with `CARETHREAD_LOG_FORMAT=json` for a log collector.
//!
//! Log lines name the route template (`/articles/{slug}`), never the address as requested, and
//! no line carries what a reader typed, an email address or a client address.

use tracing_subscriber::EnvFilter;

/// What is logged when `RUST_LOG` does not say otherwise.
pub const DEFAULT_FILTER: &str = "carethread=info,tower_http=info,sqlx=warn,axum_login=off";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a person: one line of text per event, coloured at a terminal.
    Text,
    /// For a machine: one JSON object per line, with the request's span fields flattened in.
    Json,
}

impl Format {
    /// From `CARETHREAD_LOG_FORMAT` (`text` or `json`); text when unset or unknown.
    pub fn from_env() -> Self {
        Self::parse(std::env::var("CARETHREAD_LOG_FORMAT").ok().as_deref())
    }

    pub fn parse(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("json") => Self::Json,
            _ => Self::Text,
        }
    }
}

/// Installs the process's subscriber, writing to standard output.
pub fn init(format: Format) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        Format::Json => builder
            .json()
            // The request's fields (route, request id, method) go on each line of the request.
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .init(),
        // Colours only for a person at a terminal, not in log files.
        Format::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_only_when_asked() {
        assert_eq!(Format::parse(None), Format::Text);
        assert_eq!(Format::parse(Some("text")), Format::Text);
        assert_eq!(Format::parse(Some("nonsense")), Format::Text);
        assert_eq!(Format::parse(Some("JSON")), Format::Json);
        assert_eq!(Format::parse(Some(" json ")), Format::Json);
    }
}
