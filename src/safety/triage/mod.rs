//! Safeguarding triage: does a comment mention a warning sign that needs care now, and which help
//! does it need?
//!
//! The signs are a plain list (`warning-signs.txt`) that staff can read and change: each sign has a
//! readable label, a category that chooses the help shown, and phrases written with words, choices,
//! groups, numbers and gaps (see [`rules`] for the format). A comment is read into words
//! ([`words`]): case, punctuation and apostrophes are ignored, text-speak is spelled out, numbers
//! and units are read, and endings are trimmed so that forms of a word meet. Phrases are then found
//! within sentences, and each find is checked against its scope ([`matcher`]): negation ("no heavy
//! bleeding"), mild words ("light bleeding"), conditions and questions ("if the bleeding gets
//! heavy") and time ("years ago", "at the time", "it has settled") can each cancel it. Some signs
//! need two phrases together, such as one-sided pain and a positive test.
//!
//! Everything runs in the request, with no outside service, and the labels of the signs that
//! matched are what staff see in the queue. It errs towards flagging: a wrongly urgent comment costs
//! a moderator a glance and the reader a message they can ignore; a missed one can cost far more.

mod category;
pub mod eval;
mod matcher;
mod rules;
mod words;

#[cfg(test)]
mod tests;

use std::sync::{Arc, LazyLock};

use serde::Serialize;

pub use category::{Category, message_for};

/// The built-in list of warning signs.
pub const DEFAULT_SIGNS: &str = include_str!("../warning-signs.txt");

/// The built-in scope words (negation, mild, conditions, time). A list may define these groups
/// again to change them.
pub const SCOPE_WORDS: &str = include_str!("scope.txt");

static BUILTIN: LazyLock<WarningSigns> =
    LazyLock::new(|| WarningSigns::parse(DEFAULT_SIGNS).expect("the built-in list parses"));

/// A compiled list of warning signs. Cloning is cheap.
#[derive(Clone)]
pub struct WarningSigns {
    inner: Arc<Inner>,
}

struct Inner {
    rules: rules::Rules,
    index: matcher::Index,
}

/// What triage found in one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Triage {
    /// Whether any warning sign matched; always `!signs.is_empty()`.
    pub urgent: bool,
    /// The labels of the signs that matched, in list order.
    pub signs: Vec<String>,
    /// The most urgent category among the signs that matched, if they have one.
    pub category: Option<Category>,
}

impl WarningSigns {
    /// Reads a list (see [`rules`] for the format). Lines in the older `label: phrase; phrase`
    /// form still work; their signs have no category and show the general safety message.
    pub fn parse(list: &str) -> Result<Self, String> {
        let rules = rules::Rules::compile(SCOPE_WORDS, list)?;
        let index = matcher::Index::build(&rules);
        Ok(Self {
            inner: Arc::new(Inner { rules, index }),
        })
    }

    /// The built-in list (compiled once per process).
    pub fn builtin() -> Self {
        BUILTIN.clone()
    }

    pub fn check(&self, text: &str) -> Triage {
        let rules = &self.inner.rules;
        let found = matcher::find_signs(rules, &self.inner.index, text);
        let signs: Vec<String> = found.iter().map(|&i| rules.signs[i].label.clone()).collect();
        let category = found.iter().filter_map(|&i| rules.signs[i].category).min();
        Triage {
            urgent: !signs.is_empty(),
            signs,
            category,
        }
    }

    /// What was found in `text` and why each find counted or not, one line each: for people
    /// editing a list.
    pub fn explain(&self, text: &str) -> String {
        matcher::explain(&self.inner.rules, &self.inner.index, text)
    }

    /// How many signs the list has.
    pub fn len(&self) -> usize {
        self.inner.rules.signs.len()
    }

    /// A list always has at least one sign.
    pub fn is_empty(&self) -> bool {
        self.inner.rules.signs.is_empty()
    }
}

impl std::fmt::Debug for WarningSigns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarningSigns")
            .field("signs", &self.len())
            .finish()
    }
}
