//! axe-core, run in the browser on a page: WCAG 2.2 AA rules.
//!
//! The exact version is pinned in `tests/axe/package.json` and `package-lock.json`;
//! `tests/axe/fetch` installs it with npm into `tests/axe/node_modules` (git-ignored). The tests
//! run that script themselves, so a plain `cargo test` needs nothing else.

use std::path::PathBuf;

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::driver::{Browser, Js, unavailable};

/// The rule sets checked: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

static SOURCE: OnceCell<Option<String>> = OnceCell::const_new();

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/axe")
}

/// The source of axe-core, fetched on first use; `None` (after a loud message, or a failure in CI)
/// when it cannot be had.
pub async fn source() -> Option<&'static str> {
    SOURCE
        .get_or_init(|| async {
            let fetch = tokio::process::Command::new("sh")
                .arg(folder().join("fetch"))
                .output()
                .await;
            let file = folder().join("node_modules/axe-core/axe.min.js");
            match (fetch, std::fs::read_to_string(&file)) {
                (Ok(out), Ok(source)) if out.status.success() => Some(source),
                (Ok(out), _) => {
                    unavailable(&format!(
                        "axe-core could not be installed by tests/axe/fetch: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                    None
                }
                (Err(e), _) => {
                    unavailable(&format!("tests/axe/fetch could not run: {e}"));
                    None
                }
            }
        })
        .await
        .as_deref()
}

/// One rule a page breaks.
pub struct Violation {
    pub impact: String,
    pub description: String,
}

impl Violation {
    /// Serious and critical problems fail the tests; others are reported.
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

/// Runs axe-core on the page open in `browser`.
pub async fn check(browser: &Browser, source: &str, page: &str) -> Vec<Violation> {
    browser
        .script(&format!("{source}\n;return typeof axe;"), vec![])
        .await;
    let result = browser
        .script_async(
            r#"
            const [tags, done] = arguments;
            axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
              .then(r => done(r.violations.map(v => ({
                  id: v.id, impact: v.impact || 'unknown', help: v.help,
                  nodes: v.nodes.map(n => n.target.join(' ') + ' (' + (n.failureSummary || '').replace(/\s+/g, ' ') + ')'),
              }))))
              .catch(e => done({ error: String(e) }));
            "#,
            vec![json!(TAGS)],
        )
        .await;
    if let Some(error) = result.get("error") {
        panic!("axe-core failed on {page}: {error}");
    }
    let Value::Array(violations) = result else {
        panic!("unexpected answer from axe-core on {page}: {result}")
    };
    violations
        .into_iter()
        .map(|v| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| format!("      {}", n.as_str().unwrap_or_default()))
                .collect();
            Violation {
                impact: v["impact"].as_str().unwrap_or_default().to_owned(),
                description: format!(
                    "{page} ({width} px): [{impact}] {id}: {help}\n{nodes}",
                    width = browser.width.px(),
                    impact = v["impact"].as_str().unwrap_or_default(),
                    id = v["id"].as_str().unwrap_or_default(),
                    help = v["help"].as_str().unwrap_or_default(),
                    nodes = nodes.join("\n"),
                ),
            }
        })
        .collect()
}

/// Fails on serious accessibility problems on the page open now (with JavaScript on: axe-core
/// is a script).
pub async fn assert_clean(browser: &Browser, js: Js, page: &str) {
    let Some(source) = source().await else { return };
    if js == Js::Off {
        return;
    }
    let serious: Vec<String> = check(browser, source, page)
        .await
        .into_iter()
        .filter(Violation::is_serious)
        .map(|v| v.description)
        .collect();
    assert!(serious.is_empty(), "{}", serious.join("\n"));
}
