//! A comment as words: lower case, apostrophes dropped ("don't" → "do not"), text-speak spelled
//! out ("2nite" → "tonight"), numbers read ("38.5", "38 point 5", "two", "50p" → 50 p), and each
//! word given a stem so that "soaking", "soaked" and "soaks" meet at "soak".
//!
//! Words know their sentence (split at `. ! ? ; :` and line breaks) and their clause (split at
//! commas, brackets and dashes, and before words such as "but", "and" or "because"). Phrases match
//! within a sentence; negation, mild words and "if" reach only within a clause.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use super::rules::WordHasher;

type Table<V> = HashMap<&'static str, V, BuildHasherDefault<WordHasher>>;

#[derive(Debug, Clone)]
pub(super) struct Token {
    /// The word as written, spelled out: lower case, no apostrophes.
    pub word: String,
    pub number: Option<f64>,
    /// A number higher than the one just before it, joined by "to": "from 400 to 950".
    pub rise: bool,
    pub sentence: u32,
    pub clause: u32,
    /// Like the clause, but split only by punctuation: a condition ("if", "I read that") reaches
    /// to the end of its segment, across "and".
    pub segment: u32,
}

/// Number words that a digit word adds to: "thirty eight".
const TENS: &[&str] = &[
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Words that start a new clause: negation and "if" do not reach past them.
fn is_clause_word(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "but"
            | "because"
            | "though"
            | "although"
            | "however"
            | "then"
            | "while"
            | "whilst"
            | "when"
            | "after"
            | "before"
            | "until"
            | "since"
            | "which"
            | "whereas"
            | "except"
    )
}

/// Contractions that, without their apostrophe, are other words: "I'll" is not "ill", "we're"
/// is not "were" and "we'll" is not "well". Read so only when written with the apostrophe
/// ("he'll" and "she'll" are in `SPELLED_OUT`, with or without it).
const CONTRACTED: &[(&str, &str)] = &[
    ("ill", "i will"),
    ("well", "we will"),
    ("were", "we are"),
    ("wed", "we would"),
];

/// Text-speak and contractions, spelled out. Keys have no apostrophes.
static SPELLED_OUT: LazyLock<Table<&'static str>> = LazyLock::new(|| {
    [
        ("u", "you"),
        ("ur", "your"),
        ("r", "are"),
        ("ya", "you"),
        ("im", "i am"),
        ("ive", "i have"),
        ("youre", "you are"),
        ("youve", "you have"),
        ("theyre", "they are"),
        ("weve", "we have"),
        ("theyve", "they have"),
        ("couldve", "could have"),
        ("wouldve", "would have"),
        ("shouldve", "should have"),
        ("mightve", "might have"),
        ("thats", "that is"),
        ("whats", "what is"),
        ("theres", "there is"),
        ("hes", "he is"),
        ("shes", "she is"),
        ("its", "it is"),
        ("itll", "it will"),
        ("itd", "it would"),
        ("id", "i would"),
        ("hell", "he will"),
        ("shell", "she will"),
        ("hed", "he would"),
        ("shed", "she would"),
        ("theyll", "they will"),
        ("theyd", "they would"),
        ("youll", "you will"),
        ("youd", "you would"),
        ("1st", "first"),
        ("2nd", "second"),
        ("3rd", "third"),
        ("wont", "will not"),
        ("dont", "do not"),
        ("doesnt", "does not"),
        ("didnt", "did not"),
        ("cant", "can not"),
        ("cannot", "can not"),
        ("couldnt", "could not"),
        ("wouldnt", "would not"),
        ("shouldnt", "should not"),
        ("isnt", "is not"),
        ("arent", "are not"),
        ("wasnt", "was not"),
        ("werent", "were not"),
        ("havent", "have not"),
        ("hasnt", "has not"),
        ("hadnt", "had not"),
        ("aint", "is not"),
        ("mustnt", "must not"),
        ("idk", "i do not know"),
        ("dunno", "do not know"),
        ("gonna", "going to"),
        ("wanna", "want to"),
        ("gotta", "got to"),
        ("kinda", "kind of"),
        ("rn", "right now"),
        ("atm", "at the moment"),
        ("2nite", "tonight"),
        ("2night", "tonight"),
        ("tonite", "tonight"),
        ("tnite", "tonight"),
        ("nite", "night"),
        ("2day", "today"),
        ("2moro", "tomorrow"),
        ("2morrow", "tomorrow"),
        ("2mrw", "tomorrow"),
        ("tmrw", "tomorrow"),
        ("tmr", "tomorrow"),
        ("tomoz", "tomorrow"),
        ("b4", "before"),
        ("cuz", "because"),
        ("coz", "because"),
        ("cos", "because"),
        ("bc", "because"),
        ("becuz", "because"),
        ("bcos", "because"),
        ("tho", "though"),
        ("thru", "through"),
        ("pls", "please"),
        ("plz", "please"),
        ("ppl", "people"),
        ("abt", "about"),
        ("n", "and"),
        ("w", "with"),
        ("wo", "without"),
        ("wout", "without"),
        ("nt", "not"),
        ("wiv", "with"),
        ("v", "very"),
        ("rly", "really"),
        ("rlly", "really"),
        ("wk", "week"),
        ("wks", "weeks"),
        ("hr", "hour"),
        ("hrs", "hours"),
        ("h", "hour"),
        ("min", "minutes"),
        ("mins", "minutes"),
        ("temp", "temperature"),
        ("temps", "temperature"),
        ("preg", "pregnant"),
        ("pos", "positive"),
        ("neg", "negative"),
        ("hubby", "husband"),
        ("hubs", "husband"),
        ("dh", "husband"),
        ("husb", "husband"),
        ("bf", "boyfriend"),
        ("gf", "girlfriend"),
        ("dp", "partner"),
        ("bfp", "positive test"),
        ("bfn", "negative test"),
        ("kms", "kill myself"),
        ("unalive", "kill"),
        ("sewerslide", "suicide"),
        ("od", "overdose"),
        ("sh", "self harm"),
        ("shing", "self harming"),
        ("any1", "anyone"),
        ("some1", "someone"),
        ("no1", "no one"),
        ("every1", "everyone"),
        ("gr8", "great"),
        ("pjs", "pyjamas"),
        ("wud", "would"),
        ("wld", "would"),
        ("cud", "could"),
        ("cld", "could"),
        ("shud", "should"),
        ("shld", "should"),
        ("evry", "every"),
        ("evry1", "everyone"),
        ("evryone", "everyone"),
        ("evrything", "everything"),
        ("bout", "about"),
        ("agen", "again"),
        ("agn", "again"),
        ("nvr", "never"),
        ("neva", "never"),
        ("wen", "when"),
        ("wat", "what"),
        ("wot", "what"),
        ("jus", "just"),
        ("jst", "just"),
        ("hav", "have"),
        ("hv", "have"),
        ("dnt", "do not"),
        ("wnt", "want"),
        ("realy", "really"),
        ("sumthin", "something"),
        ("sumthing", "something"),
        ("smthg", "something"),
        ("nuthin", "nothing"),
        ("nothin", "nothing"),
        ("tryna", "trying to"),
        ("gna", "going to"),
        ("ima", "i am going to"),
        ("imma", "i am going to"),
        ("thnk", "think"),
        ("thot", "thought"),
        ("feelin", "feeling"),
        ("bleedin", "bleeding"),
        ("goin", "going"),
        ("sayin", "saying"),
        ("askin", "asking"),
        ("doin", "doing"),
        ("havin", "having"),
        ("gettin", "getting"),
        ("screamin", "screaming"),
        ("kickin", "kicking"),
        ("cryin", "crying"),
        ("comin", "coming"),
        ("thinkin", "thinking"),
        ("tryin", "trying"),
        ("takin", "taking"),
        ("losin", "losing"),
        ("passin", "passing"),
        ("faintin", "fainting"),
        ("shakin", "shaking"),
        ("shiverin", "shivering"),
        ("vomitin", "vomiting"),
        ("throwin", "throwing"),
        ("hurtin", "hurting"),
        ("cuttin", "cutting"),
        ("burnin", "burning"),
        ("soakin", "soaking"),
        ("pourin", "pouring"),
        ("gushin", "gushing"),
        ("dyin", "dying"),
        ("killin", "killing"),
        ("sleepin", "sleeping"),
        ("wakin", "waking"),
        ("walkin", "walking"),
        ("standin", "standing"),
        ("breathin", "breathing"),
        ("hittin", "hitting"),
        ("punchin", "punching"),
        ("slappin", "slapping"),
        ("pushin", "pushing"),
        ("chokin", "choking"),
        ("threatenin", "threatening"),
        ("watchin", "watching"),
        ("checkin", "checking"),
        ("makin", "making"),
        ("lookin", "looking"),
        ("livin", "living"),
        ("leakin", "leaking"),
        ("changin", "changing"),
        ("drinkin", "drinking"),
        ("shoutin", "shouting"),
        ("oding", "overdosing"),
        ("oded", "overdosed"),
        ("ded", "dead"),
        ("bcoz", "because"),
        ("ovr", "over"),
        ("sum1", "someone"),
        ("nobdy", "nobody"),
        ("hosp", "hospital"),
        ("ambo", "ambulance"),
    ]
    .into_iter()
    .collect()
});

static NUMBER_WORDS: LazyLock<Table<f64>> = LazyLock::new(|| {
    [
        ("zero", 0.0),
        ("one", 1.0),
        ("two", 2.0),
        ("three", 3.0),
        ("four", 4.0),
        ("five", 5.0),
        ("six", 6.0),
        ("seven", 7.0),
        ("eight", 8.0),
        ("nine", 9.0),
        ("ten", 10.0),
        ("eleven", 11.0),
        ("twelve", 12.0),
        ("fifteen", 15.0),
        ("twenty", 20.0),
        ("thirty", 30.0),
        ("forty", 40.0),
        ("fifty", 50.0),
        ("sixty", 60.0),
        ("ninety", 90.0),
        ("hundred", 100.0),
        ("half", 0.5),
        ("dozen", 12.0),
    ]
    .into_iter()
    .collect()
});

/// Past forms that no ending rule reaches, and their base words.
static IRREGULAR: LazyLock<Table<&'static str>> = LazyLock::new(|| {
    [
        ("bled", "bleed"),
        ("felt", "feel"),
        ("fell", "fall"),
        ("fallen", "fall"),
        ("took", "take"),
        ("taken", "take"),
        ("ran", "run"),
        ("woke", "wake"),
        ("woken", "wake"),
        ("thought", "think"),
        ("threw", "throw"),
        ("thrown", "throw"),
        ("gave", "give"),
        ("given", "give"),
        ("went", "go"),
        ("gone", "go"),
        ("came", "come"),
        ("lost", "lose"),
        ("kept", "keep"),
        ("told", "tell"),
        ("held", "hold"),
        ("died", "die"),
        ("dying", "die"),
        ("dies", "die"),
        ("lying", "lie"),
        ("beaten", "beat"),
        ("bit", "bite"),
        ("bitten", "bite"),
        ("hurt", "hurt"),
        ("cut", "cut"),
        ("hit", "hit"),
        ("burnt", "burn"),
        ("swollen", "swell"),
        ("rose", "rise"),
        ("risen", "rise"),
        ("bought", "buy"),
        ("wrote", "write"),
        ("written", "write"),
        ("said", "say"),
        ("made", "make"),
        ("began", "begin"),
        ("begun", "begin"),
        ("swallowed", "swallow"),
        ("swam", "swim"),
        ("drank", "drink"),
        ("shook", "shake"),
        ("shaken", "shake"),
        ("got", "get"),
        ("gotten", "get"),
        ("left", "left"),
        ("worse", "worse"),
        ("worst", "worst"),
    ]
    .into_iter()
    .collect()
});

/// A light stemmer: enough that word forms meet ("collapsed", "collapsing" and "collapse" at
/// "collaps"; "dizziness" and "dizzy" at "dizzy"; "heavily" and "heavier" at "heavy").
pub(super) fn stem(word: &str) -> String {
    stem_and_ending(word).0
}

/// An irregular form ("bled", "took") that only matches itself in a list.
pub(super) fn is_irregular_form(word: &str) -> bool {
    IRREGULAR.get(word).is_some_and(|base| *base != word)
}

/// The stem, and whether an ending was trimmed ("fainted", not "faint") or the word is an irregular
/// form ("bled").
pub(super) fn stem_and_ending(word: &str) -> (String, bool) {
    if let Some(base) = IRREGULAR.get(word) {
        return if *base == word {
            (word.to_owned(), false)
        } else {
            (stem_and_ending(base).0, true)
        };
    }
    if word.len() <= 3 || !word.is_ascii() || word.bytes().any(|b| b.is_ascii_digit()) {
        return (word.to_owned(), false);
    }
    let w = word;
    let n = w.len();
    let ends = |suffix: &str, min_len: usize| n >= min_len && w.ends_with(suffix);
    let mut s: String = if ends("iness", 7) {
        format!("{}y", &w[..n - 5])
    } else if ends("ness", 7) {
        w[..n - 4].to_owned()
    } else if ends("ing", 6) {
        w[..n - 3].to_owned()
    } else if ends("ied", 5) || ends("ies", 5) || ends("ier", 6) || ends("ily", 6) {
        format!("{}y", &w[..n - 3])
    } else if ends("eed", 4) {
        w.to_owned()
    } else if ends("ed", 5)
        || ends("ly", 6)
        || ends("sses", 5)
        || ends("ches", 5)
        || ends("shes", 5)
        || ends("xes", 5)
        || ends("zes", 5)
    {
        // "soaked", "badly", "passes", "pushes".
        w[..n - 2].to_owned()
    } else if ends("s", 4) && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..n - 1].to_owned()
    } else {
        w.to_owned()
    };
    let inflected = s.len() < w.len();
    // Doubled endings: "clotted" → "clott" → "clot", "stopped" → "stop"; but "bleed", "fall", "pass".
    let bytes = s.as_bytes();
    let len = bytes.len();
    if len > 3
        && bytes[len - 1] == bytes[len - 2]
        && !matches!(bytes[len - 1], b'l' | b's' | b'e' | b'o' | b'z')
    {
        s.pop();
    }
    if s.len() > 3 && s.ends_with('e') && !s.ends_with("ee") {
        s.pop();
    }
    (s, inflected)
}

/// Reads a comment into words (see the module documentation).
pub(super) fn tokenise(text: &str) -> Vec<Token> {
    let mut out = Builder {
        // About one word in five or six characters of English.
        tokens: Vec::with_capacity(text.len() / 5 + 1),
        ..Builder::default()
    };
    let lower = text.to_lowercase();
    let mut piece = String::new();
    let mut chars = lower.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let digit_either_side =
            prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit());
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{2bc}' => {
                out.apostrophe |= !piece.is_empty() && next.is_some_and(char::is_alphabetic);
            }
            c if c.is_alphanumeric() => piece.push(c),
            '.' | ',' if digit_either_side => piece.push('.'),
            // "w/o", "w/out": without.
            '/' if piece == "w" && next == Some('o') => {}
            '/' if digit_either_side => {
                out.flush(&mut piece);
                out.push_word("outof");
            }
            '-' if prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric) => {
                out.flush(&mut piece);
            }
            '&' => {
                out.flush(&mut piece);
                // "A&E", "D&C": one name, not two clauses.
                let joining =
                    prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric);
                out.joining = joining;
                out.push_word("and");
                out.joining = false;
            }
            '+' if digit_either_side => {
                out.flush(&mut piece);
                out.push_word("plus");
            }
            '.' | '!' | '?' | ';' | ':' | '\n' | '\u{2026}' => {
                out.flush(&mut piece);
                out.sentence_break();
            }
            ',' | '(' | ')' | '[' | ']' | '"' | '\u{201c}' | '\u{201d}' | '\u{2013}' | '\u{2014}' | '-'
            | '/' | '*' | '~' => {
                out.flush(&mut piece);
                out.clause_break();
            }
            _ => out.flush(&mut piece),
        }
        prev = Some(c);
    }
    out.flush(&mut piece);
    let mut tokens = out.tokens;
    spell_out_in_context(&mut tokens);
    tokens
}

/// Verbs after which text-speak "2" is "to": "scared 2 go home", "want 2 die".
const AFTER_TO: &[&str] = &[
    "be", "go", "die", "do", "live", "end", "hurt", "harm", "kill", "stay", "keep", "get", "wake", "take",
    "see", "leave", "sleep", "talk", "stop", "come", "make", "cope", "carry", "feel", "exist", "breathe",
    "stand", "walk", "move", "call", "ring", "tell", "say", "ask", "cut", "try", "bleed", "faint",
];

/// Words after which text-speak "b" is "be": "would b", "rather b dead".
const BEFORE_BE: &[&str] = &[
    "to", "would", "will", "could", "should", "rather", "might", "may", "must", "not", "better",
];

/// Past participles that no ending rule marks: "I'd gone" is "I had gone", not "I would gone".
const PARTICIPLES: &[&str] = &[
    "been", "gone", "done", "had", "seen", "taken", "given", "known", "lost", "got", "gotten", "told",
    "felt", "thought", "left", "bled", "woken", "eaten", "kept", "made", "found", "cut", "hit", "hurt",
    "never", "already", "just", "only",
];

/// Text-speak that depends on its neighbours: "2" is "to" before a verb ("2 go", not "2 pads"),
/// "b" is "be" after words such as "would" or "rather", and "would" spelled out from "I'd" is
/// "had" before a past participle ("I'd gone").
fn spell_out_in_context(tokens: &mut [Token]) {
    for i in 0..tokens.len() {
        if tokens[i].word == "would"
            && i + 1 < tokens.len()
            && tokens[i + 1].sentence == tokens[i].sentence
            && {
                let next = tokens[i + 1].word.as_str();
                // "bleed" and "need" are not past forms.
                PARTICIPLES.contains(&next)
                    || (next.len() > 4 && next.ends_with("ed") && !next.ends_with("eed"))
            }
        {
            tokens[i].word = "had".to_owned();
            continue;
        }
        let same_sentence = |j: usize| tokens[j].sentence == tokens[i].sentence;
        let to = tokens[i].word == "2"
            && i + 1 < tokens.len()
            && same_sentence(i + 1)
            && AFTER_TO.contains(&tokens[i + 1].word.as_str());
        let be = tokens[i].word == "b"
            && i > 0
            && same_sentence(i - 1)
            && BEFORE_BE.contains(&tokens[i - 1].word.as_str());
        if to || be {
            tokens[i].word = if to { "to" } else { "be" }.to_owned();
            tokens[i].number = None;
            tokens[i].rise = false;
        }
    }
}

#[derive(Default)]
struct Builder {
    tokens: Vec<Token>,
    sentence: u32,
    clause: u32,
    segment: u32,
    sentence_pending: bool,
    clause_pending: bool,
    /// The next word joins two others ("a and e"): it starts no clause.
    joining: bool,
    /// A list of examples is running ("signs such as fever, chills or a smell"): its commas
    /// start no clause, until the sentence ends.
    listing: bool,
    /// The word being read had an apostrophe inside it ("I'll", "we're").
    apostrophe: bool,
}

/// Words that carry a clause on past a comma: "signs to look out for, like a fever".
const CARRY_ON: &[&str] = &["like", "such", "including", "especially", "eg"];

impl Builder {
    fn sentence_break(&mut self) {
        self.sentence_pending = true;
    }

    fn clause_break(&mut self) {
        self.clause_pending = true;
    }

    fn flush(&mut self, piece: &mut String) {
        let apostrophe = std::mem::take(&mut self.apostrophe);
        if piece.is_empty() {
            return;
        }
        match CONTRACTED
            .iter()
            .find(|(written, _)| apostrophe && piece == written)
        {
            Some((_, spelled)) => self.push_spelled(spelled),
            None => self.push_piece(&squeeze(piece)),
        }
        piece.clear();
    }

    /// Words spelled out from one written word ("do not" from "dont").
    fn push_spelled(&mut self, spelled: &str) {
        for w in spelled.split(' ') {
            self.push_word(w);
        }
    }

    /// A run of letters and digits, as written.
    fn push_piece(&mut self, word: &str) {
        if let Some(spelled) = SPELLED_OUT.get(word) {
            self.push_spelled(spelled);
            return;
        }
        // "38c", "50p", "3cm", "2pads": a number and a word.
        let has_digit = word.chars().any(|c| c.is_ascii_digit());
        let has_letter = word.chars().any(char::is_alphabetic);
        if has_digit && has_letter {
            let mut run = String::new();
            let mut digits = None;
            for c in word.chars() {
                let is_digit = c.is_ascii_digit() || c == '.';
                if digits.is_some_and(|d| d != is_digit) {
                    self.push_run(&run);
                    run.clear();
                }
                digits = Some(is_digit);
                run.push(c);
            }
            self.push_run(&run);
        } else {
            self.push_word(word);
        }
    }

    fn push_run(&mut self, run: &str) {
        match SPELLED_OUT.get(run) {
            Some(spelled) => spelled.split(' ').for_each(|w| self.push_word(w)),
            None => self.push_word(run),
        }
    }

    fn push_word(&mut self, word: &str) {
        let word = word.trim_matches('.');
        if word.is_empty() {
            return;
        }
        if !self.tokens.is_empty() {
            if self.sentence_pending {
                self.sentence += 1;
                self.clause += 1;
                self.segment += 1;
                self.listing = false;
            } else if self.clause_pending && CARRY_ON.contains(&word) {
                self.listing = true;
            } else if self.clause_pending && !self.listing {
                self.clause += 1;
                self.segment += 1;
            } else if is_clause_word(word) && !self.joining {
                self.clause += 1;
            }
        }
        self.sentence_pending = false;
        self.clause_pending = false;
        // Only a word that starts with a digit or a point can read as a finite number.
        let number = NUMBER_WORDS.get(word).copied().or_else(|| {
            word.starts_with(|c: char| c.is_ascii_digit() || c == '.')
                .then(|| word.parse::<f64>().ok().filter(|n| n.is_finite()))
                .flatten()
        });
        let len = self.tokens.len();
        // "thirty eight" is one number: a tens word and a digit word.
        if let Some(unit) = number.filter(|n| (1.0..=9.0).contains(n) && n.fract() == 0.0)
            && !word.starts_with(|c: char| c.is_ascii_digit())
            && let Some(last) = self.tokens.last_mut()
            && last.sentence == self.sentence
            && TENS.contains(&last.word.as_str())
            && let Some(tens) = last.number
        {
            last.number = Some(tens + unit);
            last.word = format!("{}", tens + unit);
            return;
        }
        // "38 point 5" and "thirty eight point six" are one number.
        let after_point = len >= 2
            && self.tokens[len - 1].word == "point"
            && self.tokens[len - 1].sentence == self.sentence;
        let fraction = match number {
            Some(_) if after_point && word.bytes().all(|b| b.is_ascii_digit()) => Some(word.to_owned()),
            Some(n) if after_point && (0.0..=9.0).contains(&n) && n.fract() == 0.0 => Some(format!("{n}")),
            _ => None,
        };
        if let Some(fraction) = fraction
            && let Some(whole) = self.tokens[len - 2].number
            && let Ok(merged) = format!("{whole}.{fraction}").parse::<f64>()
        {
            self.tokens.truncate(len - 1);
            let last = self.tokens.last_mut().expect("two tokens were there");
            last.number = Some(merged);
            last.word = format!("{merged}");
            return;
        }
        // "from 400 to 950": a rise.
        let rise = number.is_some_and(|n| {
            len >= 2
                && self.tokens[len - 1].word == "to"
                && self.tokens[len - 1].sentence == self.sentence
                && self.tokens[len - 2].number.is_some_and(|before| n > before)
        });
        self.tokens.push(Token {
            word: word.to_owned(),
            number,
            rise,
            sentence: self.sentence,
            clause: self.clause,
            segment: self.segment,
        });
    }
}

/// "sooo" → "so", "heavyyy" → "heavy": letters repeated three or more times count once.
fn squeeze(word: &str) -> std::borrow::Cow<'_, str> {
    let b = word.as_bytes();
    if !b.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return word.into();
    }
    let mut out = String::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let run_of_three = c.is_alphabetic()
            && ((i >= 2 && chars[i - 1] == c && chars[i - 2] == c)
                || (i >= 1 && i + 1 < chars.len() && chars[i - 1] == c && chars[i + 1] == c)
                || (i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c));
        let first_of_run = i == 0 || chars[i - 1] != c;
        if !run_of_three || first_of_run {
            out.push(c);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenise(text).into_iter().map(|t| t.word).collect()
    }

    #[test]
    fn word_forms_meet_at_one_stem() {
        for group in [
            &["soak", "soaking", "soaked", "soaks"][..],
            &["collapse", "collapsed", "collapsing"],
            &["dizzy", "dizziness"],
            &["heavy", "heavily", "heavier"],
            &["clot", "clots", "clotted"],
            &["bleed", "bleeding", "bleeds", "bled"],
            &["faint", "fainted", "fainting", "faints"],
            &["breath", "breathe", "breathing"],
            &["plan", "planned", "planning", "plans"],
            &["die", "died", "dying"],
        ] {
            let stems: Vec<String> = group.iter().map(|w| stem(w)).collect();
            assert!(stems.iter().all(|s| *s == stems[0]), "{group:?} → {stems:?}");
        }
    }

    #[test]
    fn text_speak_and_contractions_are_spelled_out() {
        assert_eq!(
            words("I can't go on 2nite"),
            ["i", "can", "not", "go", "on", "tonight"]
        );
        assert_eq!(
            words("im soooo dizzy rn"),
            ["i", "am", "so", "dizzy", "right", "now"]
        );
        assert_eq!(words("Don’t"), ["do", "not"]);
        assert_eq!(words("better off w/o me"), ["better", "off", "without", "me"]);
        assert_eq!(words("thirty-eight point six"), ["38.6"]);
        assert_eq!(words("thirty eight, then forty"), ["38", "then", "forty"]);
    }

    #[test]
    fn contractions_that_spell_other_words_are_read_by_their_apostrophe() {
        assert_eq!(words("I'll be ill"), ["i", "will", "be", "ill"]);
        assert_eq!(words("we’re well"), ["we", "are", "well"]);
        assert_eq!(
            words("we'll see, they were kind"),
            ["we", "will", "see", "they", "were", "kind"]
        );
        // A closing quote is not an apostrophe.
        assert_eq!(words("'well' she said"), ["well", "she", "said"]);
    }

    #[test]
    fn text_speak_depends_on_its_neighbours() {
        assert_eq!(words("scared 2 go home"), ["scared", "to", "go", "home"]);
        assert_eq!(words("2 pads"), ["2", "pads"]);
        assert_eq!(words("wud rather b dead"), ["would", "rather", "be", "dead"]);
        assert_eq!(words("plan b"), ["plan", "b"]);
        assert_eq!(words("I'd gone"), ["i", "had", "gone"]);
        assert_eq!(words("I'd go"), ["i", "would", "go"]);
        assert_eq!(words("I'd bleed"), ["i", "would", "bleed"]);
    }

    #[test]
    fn a_number_rising_to_a_higher_one_is_marked() {
        let rises = |text: &str| tokenise(text).iter().filter(|t| t.rise).count();
        assert_eq!(rises("hcg from 400 to 950"), 1);
        assert_eq!(rises("hcg from 950 to 400"), 0);
        assert_eq!(rises("400 then 950"), 0);
    }

    #[test]
    fn numbers_and_units_are_read() {
        let tokens = tokenise("temp 38.5C, 38 point 9, two pads, 50p, 9/10");
        let numbers: Vec<(String, Option<f64>)> = tokens.iter().map(|t| (t.word.clone(), t.number)).collect();
        assert!(numbers.contains(&("38.5".into(), Some(38.5))));
        assert!(numbers.contains(&("c".into(), None)));
        assert!(numbers.contains(&("38.9".into(), Some(38.9))));
        assert!(numbers.contains(&("two".into(), Some(2.0))));
        assert!(numbers.contains(&("50".into(), Some(50.0))));
        assert!(numbers.contains(&("outof".into(), None)));
        assert_eq!(tokens[0].word, "temperature");
    }

    #[test]
    fn sentences_and_clauses_are_counted() {
        let tokens = tokenise("No fever, but heavy bleeding. Help");
        let at = |w: &str| tokens.iter().find(|t| t.word == w).unwrap();
        assert_eq!(at("no").clause, at("fever").clause);
        assert_ne!(at("fever").clause, at("heavy").clause);
        assert_eq!(at("but").clause, at("heavy").clause);
        assert_eq!(at("heavy").sentence, 0);
        assert_eq!(at("help").sentence, 1);
    }
}
