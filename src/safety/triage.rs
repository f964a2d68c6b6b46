//! Safeguarding triage: does a comment mention a warning sign that needs care now?
//!
//! The list is plain phrases with simple variants (see `warning-signs.txt`), so staff can read and
//! change it. Matching works on words: case, punctuation and apostrophes are ignored, common
//! endings are trimmed, one extra word may sit inside a phrase, and a phrase negated earlier in the
//! same sentence ("no heavy bleeding") does not count. It errs towards flagging: a wrongly urgent
//! comment costs a moderator a glance; a missed one costs far more.

use serde::Serialize;

pub const DEFAULT_SIGNS: &str = include_str!("warning-signs.txt");

const NEGATIONS: [&str; 10] = [
    "no", "not", "never", "without", "dont", "didnt", "isnt", "wasnt", "havent", "hasnt",
];
/// How many words before a phrase a negation reaches.
const NEGATION_REACH: usize = 3;

/// A word as written (lower case, no apostrophes) and with its ending trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    raw: String,
    stem: String,
}

impl Word {
    /// An inflected word in the text matches another form of the phrase's word ("soaked" for
    /// "soaking"); a bare word matches only itself, so "a faint line" is not "fainted".
    fn matches(&self, phrase_word: &Word) -> bool {
        self.raw == phrase_word.raw || (self.raw != self.stem && self.stem == phrase_word.stem)
    }
}

#[derive(Debug, Clone)]
struct Sign {
    label: String,
    phrases: Vec<Vec<Word>>,
}

#[derive(Debug, Clone)]
pub struct WarningSigns {
    signs: Vec<Sign>,
}

/// What triage found in one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Triage {
    pub urgent: bool,
    pub signs: Vec<String>,
}

impl WarningSigns {
    /// Reads a list in the `label: phrase; phrase` format; `#` starts a comment line.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut signs = Vec::new();
        for (n, line) in list.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((label, phrases)) = line.split_once(':') else {
                return Err(format!("line {}: expected 'label: phrase; phrase'", n + 1));
            };
            let phrases: Vec<Vec<Word>> = phrases.split(';').map(words).filter(|p| !p.is_empty()).collect();
            if label.trim().is_empty() || phrases.is_empty() {
                return Err(format!(
                    "line {}: a sign needs a label and at least one phrase",
                    n + 1
                ));
            }
            signs.push(Sign {
                label: label.trim().to_owned(),
                phrases,
            });
        }
        if signs.is_empty() {
            return Err("the list has no warning signs".into());
        }
        Ok(Self { signs })
    }

    pub fn builtin() -> Self {
        Self::parse(DEFAULT_SIGNS).expect("the built-in list parses")
    }

    pub fn check(&self, text: &str) -> Triage {
        let clauses: Vec<Vec<Word>> = text
            .split(['.', '!', '?', ';', ',', '\n', ':'])
            .map(words)
            .collect();
        let signs: Vec<String> = self
            .signs
            .iter()
            .filter(|sign| {
                clauses
                    .iter()
                    .any(|clause| sign.phrases.iter().any(|p| found(clause, p)))
            })
            .map(|sign| sign.label.clone())
            .collect();
        Triage {
            urgent: !signs.is_empty(),
            signs,
        }
    }
}

/// Lower-case words with apostrophes dropped ("don't" → "dont").
fn words(text: &str) -> Vec<Word> {
    text.to_lowercase()
        .replace(['\'', '’', '‘'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| Word {
            raw: w.to_owned(),
            stem: stem(w),
        })
        .collect()
}

/// A light stemmer: enough that "soaking", "soaked" and "soaks" meet at "soak".
fn stem(word: &str) -> String {
    let w = word;
    let cut = |suffix: &str, min: usize| w.len() >= min + suffix.len() && w.ends_with(suffix);
    let base = if cut("ing", 3) {
        &w[..w.len() - 3]
    } else if cut("ed", 3) || (cut("es", 3) && !w.ends_with("ses")) {
        &w[..w.len() - 2]
    } else if cut("s", 3) && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    };
    // "bleeding" → "bleed", "bled" stays; doubled endings ("clotted" → "clott") → "clot".
    let bytes = base.as_bytes();
    if bytes.len() > 3
        && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
        && !matches!(bytes[bytes.len() - 1], b'l' | b's' | b'e' | b'o')
    {
        base[..base.len() - 1].to_owned()
    } else {
        base.to_owned()
    }
}

/// The phrase appears in the clause, allowing one extra word inside it, and no negation shortly
/// before it.
fn found(clause: &[Word], phrase: &[Word]) -> bool {
    let word_at = |i: usize, word: &Word| clause.get(i).is_some_and(|w| w.matches(word));
    (0..clause.len()).any(|start| {
        if !word_at(start, &phrase[0]) {
            return false;
        }
        let mut at = start;
        let mut skipped = false;
        for word in &phrase[1..] {
            if word_at(at + 1, word) {
                at += 1;
            } else if !skipped && word_at(at + 2, word) {
                at += 2;
                skipped = true;
            } else {
                return false;
            }
        }
        let reach = start.saturating_sub(NEGATION_REACH);
        !clause[reach..start]
            .iter()
            .any(|w| NEGATIONS.contains(&w.raw.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Phrasings written for these tests, with the signs they should raise.
    const CORPUS: &[(&str, &[&str])] = &[
        // Warning signs, in many phrasings.
        ("I am bleeding heavily and it won't stop", &["heavy bleeding"]),
        (
            "Heavy bleeding since this morning, is that normal?",
            &["heavy bleeding"],
        ),
        ("the bleeding is very heavy", &["heavy bleeding"]),
        ("There's a faint line on the test", &[]),
        ("I'm bleeding a lot more than yesterday", &["heavy bleeding"]),
        ("there is SO much blood, lots of blood", &["heavy bleeding"]),
        ("I think I'm haemorrhaging", &["heavy bleeding"]),
        ("I'm soaking through a pad every hour", &["soaking pads"]),
        ("soaked through two pads in an hour", &["soaking pads"]),
        ("I've been soaking pads all night", &["soaking pads"]),
        ("passing large clots", &["large clots"]),
        ("some clots the size of a golf ball", &["large clots"]),
        ("big clots coming out", &["large clots"]),
        ("I fainted in the bathroom", &["fainting or dizzy"]),
        ("feeling faint and dizzy", &["fainting or dizzy"]),
        ("I keep feeling light-headed", &["fainting or dizzy"]),
        ("nearly passed out at work", &["fainting or dizzy"]),
        ("The pain is unbearable", &["severe pain"]),
        ("I'm in agony on my right side", &["severe pain"]),
        ("severe pain in my tummy", &["severe pain"]),
        ("worst pain of my life", &["severe pain"]),
        ("I have a fever", &["fever or high temperature"]),
        ("running a temperature of 38.5", &["fever or high temperature"]),
        (
            "high temperature and shivering and shaking",
            &["fever or high temperature"],
        ),
        ("I feel feverish", &["fever or high temperature"]),
        (
            "I have thought about suicide",
            &["thoughts of suicide or self-harm"],
        ),
        ("Sometimes I feel suicidal", &["thoughts of suicide or self-harm"]),
        ("I want to kill myself", &["thoughts of suicide or self-harm"]),
        (
            "I've been hurting myself again",
            &["thoughts of suicide or self-harm"],
        ),
        ("thinking about self-harm", &["thoughts of suicide or self-harm"]),
        (
            "I just don't want to be here anymore",
            &["don't want to be here anymore"],
        ),
        ("I do not want to be here", &["don't want to be here anymore"]),
        (
            "everyone would be better off without me",
            &["don't want to be here anymore"],
        ),
        ("I can't go on like this", &["don't want to be here anymore"]),
        (
            "Bleeding heavily and feeling dizzy",
            &["heavy bleeding", "fainting or dizzy"],
        ),
        // Everyday words and negations that must not raise anything.
        ("No heavy bleeding now, just spotting", &[]),
        ("I'm not dizzy any more, thank you", &[]),
        ("never had a fever, only tiredness", &[]),
        ("It was painful but not severe pain", &[]),
        ("without any heavy bleeding thankfully", &[]),
        ("the room temperature was nice", &[]),
        ("Thank you for this page, it helped me", &[]),
        ("How long does spotting last?", &[]),
        ("I feel sad and tired", &[]),
        ("We went for a walk and it was lovely", &[]),
        ("I passed my exams and feel proud", &[]),
        ("My partner made soup", &[]),
        ("Can I go back to the gym?", &[]),
        ("I didn't feel faint at all", &[]),
    ];

    #[test]
    fn the_corpus_is_triaged_as_written() {
        let signs = WarningSigns::builtin();
        assert!(CORPUS.len() >= 40);
        let mut wrong = Vec::new();
        for (text, expected) in CORPUS {
            let got = signs.check(text);
            if got.signs != *expected {
                wrong.push(format!("{text:?}: expected {expected:?}, got {:?}", got.signs));
            }
            assert_eq!(got.urgent, !got.signs.is_empty());
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn negation_does_not_reach_into_the_next_sentence() {
        let signs = WarningSigns::builtin();
        assert!(signs.check("It is not that. I am bleeding heavily.").urgent);
    }

    #[test]
    fn a_custom_list_is_read_and_bad_lists_are_refused() {
        let signs = WarningSigns::parse("# mine\nchest pain: chest pain; pain in my chest\n").unwrap();
        assert_eq!(signs.check("sharp pain in my chest").signs, vec!["chest pain"]);
        assert!(WarningSigns::parse("no colon here").is_err());
        assert!(WarningSigns::parse("# only comments\n").is_err());
        assert!(WarningSigns::parse("label: ;  ;").is_err());
    }
}
