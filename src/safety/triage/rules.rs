//! The list format, and the list compiled for matching.
//!
//! ```text
//! # A comment line.
//! [999]                                  the category of the signs below (999, urgent-care,
//!                                        mental-health, domestic-abuse, or none)
//! @pad = pad; pads; sanitary pad          a named group of phrases, used as @pad
//! soaking pads: soak .. @pad; (pad|pads) (an|every|per) hour
//!                                        a sign: a label, then phrases separated by ";"
//! ```
//!
//! In a phrase:
//! - `word` matches that word and its other forms ("soak" matches "soaked"); a word written with
//!   an ending matches only inflected forms ("fainted" matches "fainting", not "faint"). Words of six
//!   letters or more also match a spelling slip of one letter ("haemorrage").
//! - `word*` matches any word starting so (`haemorrhag*`); `=word` matches only that word as
//!   written (`=swallowed` is not "swallowing"). Irregular forms ("took", "bled") match only
//!   themselves too.
//! - `(a|b c|d)` matches one of the choices; `@name` one of a group's phrases.
//! - `?` after an element makes it optional: `really? heavy`.
//! - `#>=38`, `#<=60`, `#38-45`, `#` match a number (digits or words: "two", "38.5"); `#up` a
//!   number higher than the one just before it, joined by "to" ("from 400 to 950").
//! - `$` matches the end of a clause.
//! - Between elements one extra word may stand; `..` allows up to four and `...` up to twelve,
//!   always within one sentence.
//! - `A & B` needs both phrases somewhere in the comment (each one not negated or settled);
//!   `& *B` counts B even when it is negated or in the past (context only).
//! - `A unless B` does not count A when B is in the same sentence.

use std::{
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
};

use super::{Category, words};

pub(super) type WordId = u32;
pub(super) type GroupId = u32;

/// Steps allowed between elements: the default, `..` and `...`.
const GAP_DEFAULT: u8 = 1;
const GAP_NEAR: u8 = 4;
const GAP_FAR: u8 = 12;

#[derive(Debug, Clone)]
pub(super) enum Elem {
    Word(WordId),
    Group(GroupId),
    Number {
        min: f64,
        max: f64,
    },
    /// A number higher than the one just before it, joined by "to" ("from 400 to 950").
    Rise,
    ClauseEnd,
}

#[derive(Debug, Clone)]
pub(super) struct Step {
    pub elem: Elem,
    pub optional: bool,
    /// Most words that may stand between the previous step and this one.
    pub gap: u8,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Phrase {
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub(super) struct Group {
    pub phrases: Vec<Phrase>,
}

#[derive(Debug, Clone)]
pub(super) struct Part {
    pub phrase: Phrase,
    /// Counts even when negated, mild, hypothetical or settled.
    pub context: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Alternative {
    pub parts: Vec<Part>,
    pub unless: Vec<Phrase>,
}

#[derive(Debug, Clone)]
pub(super) struct Sign {
    pub label: String,
    pub category: Option<Category>,
    pub alternatives: Vec<Alternative>,
}

/// Groups that steer the scope of a match rather than name a sign. The built-in definitions are in
/// `scope.txt`; a list may define any of them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum ScopeKind {
    /// Words that cancel a sign just after them: "no", "not", "never".
    Negation,
    /// Phrases with a negation that negate nothing: "no idea", "not sure".
    NotNegation,
    /// Words that make a symptom light: "light", "mild", "a bit".
    Mild,
    /// A question or report about a sign rather than the sign: "what are the signs of", "I was
    /// told to". Reaches to the end of its clause.
    Hypothetical,
    /// A condition: "if", "in case". Reaches to the end of its segment, across "and".
    Condition,
    /// A question about how common a sign is ("is shoulder tip pain common after a
    /// laparoscopy?"): its whole clause, before it too, is a question, not an account.
    GeneralQuestion,
    /// Phrases that look hypothetical but are not: "as if", "if I'm honest".
    NotHypothetical,
    /// Long ago: "years ago", "when I was a teenager", "at the time".
    LongAgo,
    /// A while ago, but too recent for abuse to be over: "last month", "a few weeks ago". Long
    /// ago for every other sign.
    Recent,
    /// Over and done: "it has settled", "it stopped", "I'm fine now".
    Settled,
    /// Happening now: "now", "tonight", "still", "again".
    Now,
    /// Come back: "started again", "it's back". A sign long ago in the same sentence is current.
    Again,
    /// Words of the present tense: "am", "is", "keep".
    Present,
    /// Words of the past tense: "was", "had", "did".
    Past,
}

impl ScopeKind {
    pub const ALL: [ScopeKind; 14] = [
        ScopeKind::Negation,
        ScopeKind::NotNegation,
        ScopeKind::Mild,
        ScopeKind::Hypothetical,
        ScopeKind::Condition,
        ScopeKind::GeneralQuestion,
        ScopeKind::NotHypothetical,
        ScopeKind::LongAgo,
        ScopeKind::Recent,
        ScopeKind::Settled,
        ScopeKind::Now,
        ScopeKind::Again,
        ScopeKind::Present,
        ScopeKind::Past,
    ];

    pub fn group_name(self) -> &'static str {
        match self {
            ScopeKind::Negation => "negation",
            ScopeKind::NotNegation => "not-negation",
            ScopeKind::Mild => "mild",
            ScopeKind::Hypothetical => "hypothetical",
            ScopeKind::Condition => "condition",
            ScopeKind::GeneralQuestion => "general-question",
            ScopeKind::NotHypothetical => "not-hypothetical",
            ScopeKind::LongAgo => "long-ago",
            ScopeKind::Recent => "recent",
            ScopeKind::Settled => "settled",
            ScopeKind::Now => "now",
            ScopeKind::Again => "again",
            ScopeKind::Present => "present",
            ScopeKind::Past => "past",
        }
    }
}

/// FNV-1a: quick for the short words the lexicon is looked up by, many times a comment.
#[derive(Default)]
pub(super) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(super) type WordMap<V> = HashMap<String, V, BuildHasherDefault<WordHasher>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Matches its forms ("soak": "soaked", "soaking").
    Forms,
    /// `word*`: matches words starting so.
    Prefix,
    /// `=word`, or an irregular form such as "took": matches only itself.
    Exact,
}

#[derive(Debug, Clone)]
struct LexWord {
    word: String,
    kind: Kind,
}

/// Every word the list uses, and how a word in a comment finds them.
#[derive(Debug, Clone, Default)]
pub(super) struct Lexicon {
    words: Vec<LexWord>,
    by_word: WordMap<WordId>,
    by_stem: WordMap<Vec<WordId>>,
    exact: WordMap<WordId>,
    prefixes: Vec<WordId>,
    /// Forms of the list's longer words (with common endings), for spelling slips.
    forms: Vec<(String, String, bool)>,
    /// A form with one letter deleted (or none) → indices into `forms`.
    slips: WordMap<Vec<u32>>,
    /// Forms of four letters or more with doubled letters written once ("better" → "beter") →
    /// the forms: a doubled letter written once, or a single one doubled, is a slip in shorter
    /// words too ("beter", "clotts", "lemmon").
    doubled: WordMap<Vec<(String, String, bool)>>,
}

/// Real words one letter away from a word in the list: never read as a slip.
const NOT_SLIPS: &[&str] = &[
    "breeding",
    "bleeping",
    "blending",
    "feeding",
    "reading",
    "leading",
    "heading",
    "needing",
    "weeding",
    "shedding",
    "pouting",
    "touring",
    "souring",
    "sweeping",
    "creeping",
    "sleeping",
    "seeping",
    "beeping",
    "bleated",
    "pointing",
    "printing",
    "fainter",
    "painter",
    "planted",
    "planter",
    "stinking",
    "shaving",
    "saving",
    "waving",
    "caving",
    "paving",
    "raving",
    "having",
    "craving",
    "braving",
    "leaving",
    "weaving",
    "heaving",
    "shoving",
    "loving",
    "moving",
    "proving",
    "hating",
    "dating",
    "rating",
    "mating",
    "gating",
    "skating",
    "stating",
    "slating",
    "bathing",
    "breather",
    "breathes",
    "weather",
    "whether",
    "feather",
    "leather",
    "heather",
    "clotted",
    "slotted",
    "plotted",
    "spotted",
    "potted",
    "blotted",
    "trotted",
    "knotted",
    "rotted",
    "jotted",
    "dotted",
    "totted",
    "shooting",
    "hooting",
    "looting",
    "rooting",
    "tooting",
    "booting",
    "scooting",
    "suiting",
    "fruiting",
    "quitting",
    "sitting",
    "hitting",
    "fitting",
    "pitting",
    "kitting",
    "witting",
    "setting",
    "getting",
    "letting",
    "betting",
    "netting",
    "petting",
    "wetting",
    "jetting",
    "vetting",
    "cutting",
    "putting",
    "gutting",
    "nutting",
    "rutting",
    "butting",
    "shutting",
    "tutting",
    "strutting",
    "smutting",
    "glutting",
    "sweating",
    "seating",
    "heating",
    "beating",
    "eating",
    "treating",
    "cheating",
    "bleating",
    "pleating",
    "meaning",
    "leaning",
    "cleaning",
    "gleaning",
    "weaning",
    "beaming",
    "seaming",
    "teaming",
    "steaming",
    "dreaming",
    "creaming",
    "screaming",
    "streaming",
    "gleaming",
    "reaming",
    "foaming",
    "roaming",
    "loaming",
    "coaching",
    "poaching",
    "roaching",
    "broaching",
    "pooling",
    "cooling",
    "fooling",
    "tooling",
    "drooling",
    "schooling",
    "spooling",
    "stooling",
    "wounded",
    "founded",
    "sounded",
    "pounded",
    "rounded",
    "bounded",
    "mounded",
    "hounded",
    "grounded",
    "partner",
    "parties",
    "pardon",
];

impl Lexicon {
    fn intern(&mut self, word: &str, kind: Kind) -> WordId {
        let kind = if kind == Kind::Forms && words::is_irregular_form(word) {
            Kind::Exact
        } else {
            kind
        };
        let map = match kind {
            Kind::Forms => &self.by_word,
            Kind::Exact => &self.exact,
            Kind::Prefix => &self.by_word,
        };
        let key = if kind == Kind::Prefix {
            format!("{word}*")
        } else {
            word.to_owned()
        };
        if let Some(&id) = map.get(&key) {
            return id;
        }
        let id = WordId::try_from(self.words.len()).expect("fewer than 4 billion words");
        self.words.push(LexWord {
            word: word.to_owned(),
            kind,
        });
        match kind {
            Kind::Forms => {
                self.by_word.insert(key, id);
                self.by_stem.entry(words::stem(word)).or_default().push(id);
            }
            Kind::Exact => {
                self.exact.insert(key, id);
            }
            Kind::Prefix => {
                self.by_word.insert(key, id);
                self.prefixes.push(id);
            }
        }
        id
    }

    /// Indexes the forms of the list's words for spelling slips; call once all words are in.
    fn index_slips(&mut self) {
        self.forms.clear();
        self.slips.clear();
        self.doubled.clear();
        let mut seen = std::collections::HashSet::new();
        for w in &self.words {
            if w.kind != Kind::Forms || !w.word.chars().all(|c| c.is_ascii_lowercase()) || w.word.len() < 4 {
                continue;
            }
            let base = w.word.as_str();
            let mut forms = vec![
                base.to_owned(),
                format!("{base}s"),
                format!("{base}ed"),
                format!("{base}ing"),
                format!("{base}ly"),
            ];
            if let Some(stripped) = base.strip_suffix('e') {
                forms.push(format!("{stripped}ing"));
                forms.push(format!("{base}d"));
            }
            if let Some(stripped) = base.strip_suffix('y') {
                forms.push(format!("{stripped}ily"));
                forms.push(format!("{stripped}ier"));
                forms.push(format!("{stripped}iness"));
            }
            for form in forms {
                if form.len() >= 4 && !seen.contains(&form) {
                    let (stem, inflected) = words::stem_and_ending(&form);
                    let entry = self.doubled.entry(undouble(&form)).or_default();
                    if !entry.iter().any(|(f, _, _)| *f == form) {
                        entry.push((form.clone(), stem, inflected));
                    }
                }
                if form.len() >= 6 && seen.insert(form.clone()) {
                    let index = u32::try_from(self.forms.len()).expect("fewer than 4 billion forms");
                    for key in deletions(&form) {
                        self.slips.entry(key).or_default().push(index);
                    }
                    let (stem, inflected) = words::stem_and_ending(&form);
                    self.forms.push((form.clone(), stem, inflected));
                }
            }
        }
    }

    /// A word of the list, as written there (a prefix without its `*`).
    pub fn word(&self, id: WordId) -> &str {
        &self.words[id as usize].word
    }

    /// How many words the list uses.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// The list's words that a word of a comment matches.
    pub fn ids(&self, word: &str, stem: &str, inflected: bool, out: &mut Vec<WordId>) {
        self.ids_exact(word, stem, inflected, out);
        if !out.is_empty() {
            return;
        }
        // "bleedin" for "bleeding".
        if word.len() >= 5 && word.ends_with("in") {
            let with_g = format!("{word}g");
            let (stem, inflected) = words::stem_and_ending(&with_g);
            self.ids_exact(&with_g, &stem, inflected, out);
            if !out.is_empty() {
                return;
            }
        }
        if word.len() >= 5 && word.bytes().all(|b| b.is_ascii_lowercase()) && !NOT_SLIPS.contains(&word) {
            // A doubled letter written once, or a single one doubled: "beter", "clotts".
            if let Some(candidates) = self.doubled.get(undouble(word).as_str()) {
                for (form, form_stem, form_inflected) in candidates {
                    if form.len().abs_diff(word.len()) == 1 {
                        self.ids_exact(form, form_stem, *form_inflected, out);
                    }
                }
                if !out.is_empty() {
                    out.sort_unstable();
                    out.dedup();
                    return;
                }
            }
        }
        if word.len() >= 6 && word.bytes().all(|b| b.is_ascii_lowercase()) && !NOT_SLIPS.contains(&word) {
            let mut found: Vec<u32> = Vec::new();
            each_deletion(word, |key| {
                if let Some(candidates) = self.slips.get(key) {
                    found.extend(candidates.iter().copied());
                }
            });
            found.sort_unstable();
            found.dedup();
            for index in found {
                let (form, form_stem, form_inflected) = &self.forms[index as usize];
                if form.as_bytes()[0] == word.as_bytes()[0] && one_slip(word, form) {
                    self.ids_exact(form, form_stem, *form_inflected, out);
                }
            }
            // A slip in a long prefix: "haemorraging" for haemorrhag*.
            for &id in &self.prefixes {
                let prefix = self.words[id as usize].word.as_str();
                let n = prefix.len();
                if n >= 6
                    && word.as_bytes()[0] == prefix.as_bytes()[0]
                    && [n - 1, n, n + 1]
                        .iter()
                        .any(|&k| word.get(..k).is_some_and(|start| one_slip(start, prefix)))
                {
                    out.push(id);
                }
            }
            out.sort_unstable();
            out.dedup();
        }
    }

    fn ids_exact(&self, word: &str, stem: &str, inflected: bool, out: &mut Vec<WordId>) {
        if let Some(&id) = self.by_word.get(word) {
            out.push(id);
        }
        if let Some(&id) = self.exact.get(word)
            && !out.contains(&id)
        {
            out.push(id);
        }
        if inflected && let Some(ids) = self.by_stem.get(stem) {
            for &id in ids {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        for &id in &self.prefixes {
            if word.starts_with(self.words[id as usize].word.as_str()) && !out.contains(&id) {
                out.push(id);
            }
        }
    }
}

/// The word with each run of a letter written once: "better" → "beter".
fn undouble(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// The word itself and the word with each one letter left out.
fn deletions(word: &str) -> Vec<String> {
    let mut keys = Vec::new();
    each_deletion(word, |key| keys.push(key.to_owned()));
    keys
}

/// Calls `f` with the word and with each form of it with one letter left out, in one buffer.
fn each_deletion(word: &str, mut f: impl FnMut(&str)) {
    f(word);
    let mut key = String::with_capacity(word.len());
    for (i, c) in word.char_indices() {
        key.clear();
        key.push_str(&word[..i]);
        key.push_str(&word[i + c.len_utf8()..]);
        f(&key);
    }
}

/// One letter added, left out, changed, or two neighbours swapped.
fn one_slip(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = |x: &[u8], y: &[u8]| x == y;
    match la.cmp(&lb) {
        std::cmp::Ordering::Equal => {
            tail(&a[start + 1..], &b[start + 1..])
                || (start + 1 < la
                    && a[start] == b[start + 1]
                    && a[start + 1] == b[start]
                    && tail(&a[start + 2..], &b[start + 2..]))
        }
        std::cmp::Ordering::Less => tail(&a[start..], &b[start + 1..]),
        std::cmp::Ordering::Greater => tail(&a[start + 1..], &b[start..]),
    }
}

/// A list, compiled.
#[derive(Debug, Clone, Default)]
pub(super) struct Rules {
    pub lexicon: Lexicon,
    pub groups: Vec<Group>,
    group_names: HashMap<String, GroupId>,
    pub signs: Vec<Sign>,
    /// Words allowed between elements when no gap is written: one, except in scope groups,
    /// whose phrases are exact ("not just" is not "not suicidal just").
    default_gap: u8,
}

impl Rules {
    pub fn group(&self, id: GroupId) -> &Group {
        &self.groups[id as usize]
    }

    pub fn scope_group(&self, kind: ScopeKind) -> Option<GroupId> {
        self.group_names.get(kind.group_name()).copied()
    }

    /// Reads the built-in scope groups, then `list`.
    pub fn compile(scope: &str, list: &str) -> Result<Rules, String> {
        let mut rules = Rules {
            default_gap: GAP_DEFAULT,
            ..Rules::default()
        };
        rules
            .read(scope, false)
            .map_err(|e| format!("the built-in scope words: {e}"))?;
        rules.read(list, true)?;
        if rules.signs.is_empty() {
            return Err("the list has no warning signs".into());
        }
        rules.lexicon.index_slips();
        Ok(rules)
    }

    fn read(&mut self, text: &str, signs_allowed: bool) -> Result<(), String> {
        let mut category = None;
        for (n, line) in text.lines().enumerate() {
            let at = |e: String| format!("line {}: {e}", n + 1);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(slug) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let slug = slug.trim();
                category = match slug {
                    "none" | "general" => None,
                    _ => Some(Category::parse(slug).ok_or_else(|| {
                        at(format!(
                            "unknown category [{slug}]: use [999], [urgent-care], [mental-health], [domestic-abuse] or [none]"
                        ))
                    })?),
                };
                continue;
            }
            if let Some(rest) = line.strip_prefix('@') {
                let Some((name, body)) = rest.split_once('=') else {
                    return Err(at("expected '@name = phrase; phrase'".into()));
                };
                let name = name.trim();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(at(format!(
                        "'{name}' is not a group name (letters, digits and '-')"
                    )));
                }
                if body
                    .split(';')
                    .any(|p| p.contains(" unless ") || p.contains(" & "))
                {
                    return Err(at(format!(
                        "the group @{name} has 'unless' or '&': a group is a set of phrases; write exceptions and combinations in the sign that uses it"
                    )));
                }
                let scope = ScopeKind::ALL.iter().any(|k| k.group_name() == name);
                self.default_gap = if scope { 0 } else { GAP_DEFAULT };
                let phrases = self.phrases(body);
                self.default_gap = GAP_DEFAULT;
                let phrases = phrases.map_err(at)?;
                if phrases.is_empty() {
                    return Err(at(format!("the group @{name} has no phrases")));
                }
                let id = self.add_group(phrases);
                self.group_names.insert(name.to_owned(), id);
                continue;
            }
            if !signs_allowed {
                return Err(at("only groups belong here".into()));
            }
            let Some((label, body)) = line.split_once(':') else {
                return Err(at("expected 'label: phrase; phrase'".into()));
            };
            let label = label.trim();
            let mut alternatives = Vec::new();
            for alt in body.split(';') {
                if alt.trim().is_empty() {
                    continue;
                }
                alternatives.push(self.alternative(alt).map_err(at)?);
            }
            if label.is_empty() || alternatives.is_empty() {
                return Err(at("a sign needs a label and at least one phrase".into()));
            }
            self.signs.push(Sign {
                label: label.to_owned(),
                category,
                alternatives,
            });
        }
        Ok(())
    }

    fn add_group(&mut self, phrases: Vec<Phrase>) -> GroupId {
        let id = GroupId::try_from(self.groups.len()).expect("fewer than 4 billion groups");
        self.groups.push(Group { phrases });
        id
    }

    fn phrases(&mut self, body: &str) -> Result<Vec<Phrase>, String> {
        body.split(';')
            .filter(|p| !p.trim().is_empty())
            .map(|p| self.phrase(p))
            .collect::<Result<Vec<_>, _>>()
            .map(|ps| ps.into_iter().filter(|p| !p.steps.is_empty()).collect())
    }

    fn alternative(&mut self, text: &str) -> Result<Alternative, String> {
        let mut pieces = text.split(" unless ");
        let main = pieces.next().unwrap_or_default();
        let unless = pieces.map(|p| self.phrase(p)).collect::<Result<Vec<_>, _>>()?;
        let mut parts = Vec::new();
        for part in main.split('&') {
            let part = part.trim();
            let (context, part) = match part.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let phrase = self.phrase(part)?;
            if phrase.steps.is_empty() {
                return Err(format!("an empty phrase in '{}'", text.trim()));
            }
            parts.push(Part { phrase, context });
        }
        if parts.iter().all(|p| p.context) {
            return Err(format!("'{}' has only context parts", text.trim()));
        }
        if parts.len() > 64 {
            return Err(format!("'{}' has more than 64 parts", text.trim()));
        }
        Ok(Alternative { parts, unless })
    }

    /// One phrase: words, choices, groups, numbers and gaps.
    fn phrase(&mut self, text: &str) -> Result<Phrase, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut steps = Vec::new();
        let mut gap = self.default_gap;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            if c == '.' {
                let dots = chars[i..].iter().take_while(|&&d| d == '.').count();
                gap = if dots >= 3 { GAP_FAR } else { GAP_NEAR };
                i += dots;
                continue;
            }
            let (elem, next) = match c {
                '(' => {
                    let close = matching_paren(&chars, i)
                        .ok_or_else(|| format!("a '(' without its ')' in '{}'", text.trim()))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    let phrases = split_top(&inner, '|')
                        .iter()
                        .map(|p| self.phrase(p))
                        .collect::<Result<Vec<_>, _>>()?;
                    if phrases.iter().any(|p| p.steps.is_empty()) {
                        return Err(format!("an empty choice in '({inner})'"));
                    }
                    let id = self.add_group(phrases);
                    (Some(Elem::Group(id)), close + 1)
                }
                '@' => {
                    let end = scan(&chars, i + 1, |c| c.is_ascii_alphanumeric() || c == '-');
                    let name: String = chars[i + 1..end].iter().collect();
                    let id = *self
                        .group_names
                        .get(&name)
                        .ok_or_else(|| format!("@{name} is not defined above"))?;
                    (Some(Elem::Group(id)), end)
                }
                '#' => {
                    let end = scan(&chars, i + 1, |c| !c.is_whitespace() && c != '?' && c != ')');
                    let spec: String = chars[i + 1..end].iter().collect();
                    if spec == "up" {
                        (Some(Elem::Rise), end)
                    } else {
                        let (min, max) =
                            number_range(&spec).ok_or_else(|| format!("'#{spec}' is not a number rule"))?;
                        (Some(Elem::Number { min, max }), end)
                    }
                }
                '$' => (Some(Elem::ClauseEnd), i + 1),
                _ => {
                    let end = scan(&chars, i, |c| {
                        !c.is_whitespace() && !matches!(c, '(' | ')' | '?' | '@')
                    });
                    let word: String = chars[i..end].iter().collect();
                    if end == i {
                        return Err(format!("unexpected '{c}' in '{}'", text.trim()));
                    }
                    (self.word_elem(&word), end)
                }
            };
            i = next;
            let optional = chars.get(i) == Some(&'?');
            if optional {
                i += 1;
            }
            if let Some(elem) = elem {
                // `$` means right after the previous word, even inside a choice.
                let gap = if self.starts_at_clause_end(&elem) { 0 } else { gap };
                steps.push(Step { elem, optional, gap });
            }
            gap = self.default_gap;
        }
        Ok(Phrase { steps })
    }

    fn starts_at_clause_end(&self, elem: &Elem) -> bool {
        match elem {
            Elem::ClauseEnd => true,
            Elem::Group(g) => self.groups[*g as usize]
                .phrases
                .iter()
                .any(|p| p.steps.first().is_some_and(|s| matches!(s.elem, Elem::ClauseEnd))),
            _ => false,
        }
    }

    /// A written word, read as a comment's words are ("can't" is "can not"); several words
    /// become a group of one phrase.
    fn word_elem(&mut self, word: &str) -> Option<Elem> {
        if let Some(prefix) = word.strip_suffix('*') {
            let prefix = prefix.to_lowercase();
            return (!prefix.is_empty()).then(|| Elem::Word(self.lexicon.intern(&prefix, Kind::Prefix)));
        }
        if let Some(exact) = word.strip_prefix('=') {
            let exact = exact.to_lowercase();
            return (!exact.is_empty()).then(|| Elem::Word(self.lexicon.intern(&exact, Kind::Exact)));
        }
        let tokens = words::tokenise(word);
        match tokens.len() {
            0 => None,
            1 => Some(Elem::Word(self.lexicon.intern(&tokens[0].word, Kind::Forms))),
            _ => {
                let steps = tokens
                    .iter()
                    .map(|t| Step {
                        elem: Elem::Word(self.lexicon.intern(&t.word, Kind::Forms)),
                        optional: false,
                        gap: 0,
                    })
                    .collect();
                let id = self.add_group(vec![Phrase { steps }]);
                Some(Elem::Group(id))
            }
        }
    }
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut i = from;
    while i < chars.len() && keep(chars[i]) {
        i += 1;
    }
    i
}

fn matching_paren(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at `sep` outside brackets.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("one part at least").push(c);
        }
    }
    parts
}

/// `""` any number; `>=38`, `>38`, `<=60`, `<60`, `38-45`, `38`.
fn number_range(spec: &str) -> Option<(f64, f64)> {
    const TINY: f64 = 1e-9;
    let num = |s: &str| s.trim().parse::<f64>().ok();
    if spec.is_empty() {
        return Some((f64::NEG_INFINITY, f64::INFINITY));
    }
    if let Some(n) = spec.strip_prefix(">=") {
        return Some((num(n)?, f64::INFINITY));
    }
    if let Some(n) = spec.strip_prefix("<=") {
        return Some((f64::NEG_INFINITY, num(n)?));
    }
    if let Some(n) = spec.strip_prefix('>') {
        return Some((num(n)? + TINY, f64::INFINITY));
    }
    if let Some(n) = spec.strip_prefix('<') {
        return Some((f64::NEG_INFINITY, num(n)? - TINY));
    }
    if let Some((a, b)) = spec.split_once('-') {
        return Some((num(a)?, num(b)?));
    }
    let n = num(spec)?;
    Some((n, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_of_one_letter_are_found() {
        assert!(one_slip("haemorrage", "haemorrhage"));
        assert!(one_slip("bleedign", "bleeding"));
        assert!(one_slip("temprature", "temperature"));
        assert!(one_slip("unconcious", "unconscious"));
        assert!(!one_slip("bleeding", "breeders"));
    }

    #[test]
    fn a_doubled_letter_is_a_slip_in_shorter_words_too() {
        let rules = Rules::compile("", "x: better; clot; lemon; stopped").unwrap();
        let ids = |word: &str| {
            let (stem, inflected) = words::stem_and_ending(word);
            let mut out = Vec::new();
            rules.lexicon.ids(word, &stem, inflected, &mut out);
            out.iter()
                .map(|&id| rules.lexicon.word(id).to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("beter"), ["better"]);
        assert_eq!(ids("clotts"), ["clot"]);
        assert_eq!(ids("lemmon"), ["lemon"]);
        assert_eq!(ids("stoped"), ["stopped"]);
        assert!(ids("bet").is_empty() && ids("letter").is_empty());
    }

    #[test]
    fn number_rules_read() {
        assert_eq!(number_range(">=38"), Some((38.0, f64::INFINITY)));
        assert_eq!(number_range("37.8-43"), Some((37.8, 43.0)));
        assert_eq!(number_range("x"), None);
    }
}
