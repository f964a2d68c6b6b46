//! Measuring triage on a labelled corpus (`tests/triage/*.tsv`, `carethread safety eval`).
//!
//! A corpus is text with one example a line: a label, a tab, then the comment. The label is the
//! category the comment should get (`999`, `urgent-care`, `mental-health`, `domestic-abuse`) or
//! `ordinary` for one that should not be flagged. `\n` in a comment stands for a line break; blank
//! lines and lines starting with `#` are skipped.

use std::fmt;

use super::{Category, Triage, WarningSigns};

/// At least this share of urgent comments must be caught.
pub const RECALL_TARGET: f64 = 0.95;
/// At most this share of ordinary comments may be flagged.
pub const FALSE_ALARM_LIMIT: f64 = 0.05;

#[derive(Debug, Clone)]
pub struct Example {
    pub line: usize,
    /// `None` for an ordinary comment.
    pub expected: Option<Category>,
    pub text: String,
}

/// Reads a corpus; an unknown label or a line without a tab is an error naming the line.
pub fn read_corpus(corpus: &str) -> Result<Vec<Example>, String> {
    let mut examples = Vec::new();
    for (n, line) in corpus.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((label, text)) = line.split_once('\t') else {
            return Err(format!("line {}: expected 'label<TAB>text'", n + 1));
        };
        let expected = match label.trim() {
            "ordinary" => None,
            slug => Some(Category::parse(slug).ok_or_else(|| {
                format!(
                    "line {}: unknown label '{slug}' (999, urgent-care, mental-health, domestic-abuse or ordinary)",
                    n + 1
                )
            })?),
        };
        examples.push(Example {
            line: n + 1,
            expected,
            text: text.replace("\\n", "\n"),
        });
    }
    Ok(examples)
}

/// The result of triaging every example of a corpus.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub urgent: usize,
    pub caught: usize,
    pub right_category: usize,
    pub ordinary: usize,
    pub flagged: usize,
    pub misses: Vec<Example>,
    pub false_alarms: Vec<(Example, Triage)>,
    pub wrong_category: Vec<(Example, Triage)>,
}

pub fn evaluate(signs: &WarningSigns, corpus: &str) -> Result<Evaluation, String> {
    let mut e = Evaluation::default();
    for example in read_corpus(corpus)? {
        let triage = signs.check(&example.text);
        match example.expected {
            Some(expected) => {
                e.urgent += 1;
                if !triage.urgent {
                    e.misses.push(example);
                } else {
                    e.caught += 1;
                    if triage.category == Some(expected) {
                        e.right_category += 1;
                    } else {
                        e.wrong_category.push((example, triage));
                    }
                }
            }
            None => {
                e.ordinary += 1;
                if triage.urgent {
                    e.flagged += 1;
                    e.false_alarms.push((example, triage));
                }
            }
        }
    }
    Ok(e)
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl Evaluation {
    /// Share of urgent comments flagged.
    pub fn recall(&self) -> f64 {
        if self.urgent == 0 {
            1.0
        } else {
            share(self.caught, self.urgent)
        }
    }

    /// Share of ordinary comments flagged.
    pub fn false_alarm_rate(&self) -> f64 {
        share(self.flagged, self.ordinary)
    }

    /// Share of urgent comments flagged with the right category (a miss counts as wrong).
    pub fn category_accuracy(&self) -> f64 {
        share(self.right_category, self.urgent)
    }

    /// Recall at least [`RECALL_TARGET`] and false alarms at most [`FALSE_ALARM_LIMIT`].
    pub fn meets_targets(&self) -> bool {
        self.recall() >= RECALL_TARGET && self.false_alarm_rate() <= FALSE_ALARM_LIMIT
    }

    /// Adds another corpus's results to these.
    pub fn add(&mut self, other: Evaluation) {
        self.urgent += other.urgent;
        self.caught += other.caught;
        self.right_category += other.right_category;
        self.ordinary += other.ordinary;
        self.flagged += other.flagged;
        self.misses.extend(other.misses);
        self.false_alarms.extend(other.false_alarms);
        self.wrong_category.extend(other.wrong_category);
    }

    /// The three figures on one line each, without the lists.
    pub fn summary(&self) -> String {
        format!(
            "recall: {}/{} urgent comments caught ({:.1}%; target at least {:.0}%)\n\
             false alarms: {}/{} ordinary comments flagged ({:.1}%; limit {:.0}%)\n\
             category accuracy: {}/{} urgent comments sent to the right help ({:.1}%)",
            self.caught,
            self.urgent,
            100.0 * self.recall(),
            100.0 * RECALL_TARGET,
            self.flagged,
            self.ordinary,
            100.0 * self.false_alarm_rate(),
            100.0 * FALSE_ALARM_LIMIT,
            self.right_category,
            self.urgent,
            100.0 * self.category_accuracy(),
        )
    }
}

fn label(category: Option<Category>) -> &'static str {
    category.map_or("none", Category::as_str)
}

fn one_line(text: &str) -> String {
    text.replace('\n', "\\n")
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        writeln!(f, "misses ({}):", self.misses.len())?;
        for m in &self.misses {
            writeln!(
                f,
                "  line {} [{}] {}",
                m.line,
                label(m.expected),
                one_line(&m.text)
            )?;
        }
        writeln!(f, "false alarms ({}):", self.false_alarms.len())?;
        for (m, t) in &self.false_alarms {
            writeln!(
                f,
                "  line {} [{}: {}] {}",
                m.line,
                label(t.category),
                t.signs.join(", "),
                one_line(&m.text)
            )?;
        }
        writeln!(f, "wrong category ({}):", self.wrong_category.len())?;
        for (m, t) in &self.wrong_category {
            writeln!(
                f,
                "  line {} [expected {}, got {}: {}] {}",
                m.line,
                label(m.expected),
                label(t.category),
                t.signs.join(", "),
                one_line(&m.text)
            )?;
        }
        Ok(())
    }
}
