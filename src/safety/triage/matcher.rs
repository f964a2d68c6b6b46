//! Finding the list's phrases in a comment, and deciding which finds count.
//!
//! A find does not count when, within its clause, a negation stands just before it ("no heavy
//! bleeding"), a mild word does ("a bit dizzy"; not for thoughts of suicide or abuse), or it follows
//! a condition or question ("if the bleeding gets heavy", "what are the signs of sepsis"). Nor does
//! it count when its time is settled: in the same clause a long-ago or settled marker and no marker
//! of now ("at the time", "it has settled", but "again" or "tonight" keep it); before it in the
//! sentence a long-ago marker nearer than any marker of now; after it, when it is told in the past,
//! a settled or long-ago marker ("I fainted, years ago now"); or across sentences, a story in the
//! past that began long ago, or a past sentence followed by one that says it settled.

use std::{
    cell::RefCell,
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
};

use super::{
    Category,
    rules::{Elem, Phrase, Rules, ScopeKind, Step, WordId},
    words::{self, Token},
};

/// How far before a find a negation or a mild word reaches, in words.
const NEGATION_REACH: usize = 5;
const MILD_REACH: usize = 3;

#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    Scope(ScopeKind),
    Part {
        sign: u32,
        alt: u32,
        part: u32,
    },
    /// An `unless` of an alternative of `sign` (`Index::alternative` says which).
    Unless {
        sign: u32,
    },
}

/// Which phrases may start at a word: by word, at any number, or anywhere.
#[derive(Debug, Clone, Default)]
struct Triggers {
    /// (word, phrase) pairs sorted by word.
    by_word: Vec<(WordId, u32)>,
    numbers: Vec<u32>,
    always: Vec<u32>,
    /// Few enough phrases to try them all.
    all: Option<u32>,
    /// The words of `by_word`, a bit for each of the list's words.
    starts: Vec<u64>,
}

/// Groups with at most this many phrases try each one rather than look them up by word.
const TRY_ALL: usize = 6;

#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    targets: Vec<(Target, Phrase)>,
    /// For each target, sets of words such that every match contains a word of each set, the
    /// rarest set first: a sentence that lacks every word of one set is not searched for it.
    anchors: Vec<Vec<WordSet>>,
    /// For each target, what it may start with.
    starts: Vec<Start>,
    /// For each target of a sign, its alternative, numbered across the list.
    alternative: Vec<u32>,
    /// How many alternatives the list has, and how many parts each.
    parts: Vec<u32>,
    /// Which top-level phrases to consider in a sentence, by the words it has.
    scope: Keys,
    signs: Keys,
    /// For each group, which of its phrases may start at a word: a group tries only those.
    group_triggers: Vec<Triggers>,
    /// Groups of a few plain words, tried afresh each time (cheaper than remembering them).
    group_plain: Vec<bool>,
    /// Groups that are a choice of single words: the words, sorted.
    group_words: Vec<Option<Vec<WordId>>>,
    /// Groups used in more than one place: only their ends are worth remembering.
    group_shared: Vec<bool>,
    /// For each group that always starts with a word, the words it may start with: a sentence
    /// without any of them cannot hold it.
    group_first: Vec<Option<WordSet>>,
}

/// A set of the list's words as bits, kept by 64-word block: (block, bits) pairs.
#[derive(Debug, Clone, Default)]
struct WordSet(Vec<(u32, u64)>);

impl WordSet {
    fn new(words: &[WordId]) -> WordSet {
        let mut blocks: Vec<(u32, u64)> = Vec::new();
        for &w in words {
            let (block, bit) = (w / 64, 1u64 << (w % 64));
            match blocks.iter_mut().find(|(b, _)| *b == block) {
                Some((_, bits)) => *bits |= bit,
                None => blocks.push((block, bit)),
            }
        }
        blocks.sort_unstable();
        WordSet(blocks)
    }

    /// Whether `present` (a bit for each of the list's words) has a word of the set.
    fn meets(&self, present: &[u64]) -> bool {
        self.0.iter().any(|&(b, bits)| present[b as usize] & bits != 0)
    }

    /// Whether the set has one of `ids`.
    fn has_any(&self, ids: &[WordId]) -> bool {
        ids.iter().any(|&id| {
            self.0
                .iter()
                .any(|&(b, bits)| b == id / 64 && bits & (1 << (id % 64)) != 0)
        })
    }

    /// The words of the set that `present` has, in order.
    fn common<'a>(&'a self, present: &'a [u64]) -> impl Iterator<Item = WordId> + 'a {
        self.0.iter().flat_map(move |&(b, bits)| {
            let mut both = present[b as usize] & bits;
            std::iter::from_fn(move || {
                (both != 0).then(|| {
                    let w = b * 64 + both.trailing_zeros();
                    both &= both - 1;
                    w
                })
            })
        })
    }
}

/// What a top-level phrase may start with: one of its first words, any number, or anything.
#[derive(Debug, Clone, Default)]
struct Start {
    words: WordSet,
    number: bool,
    always: bool,
}

/// Top-level phrases by the rarest of the word sets they need (see `Index::anchors`): a sentence
/// is searched only for the phrases keyed by one of its words, and those that need no word.
#[derive(Debug, Clone, Default)]
struct Keys {
    by_word: Vec<Vec<u32>>,
    free: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
struct First {
    words: Vec<WordId>,
    number: bool,
    always: bool,
}

impl Triggers {
    fn add(&mut self, id: u32, mut first: First) {
        if first.always {
            self.always.push(id);
            return;
        }
        first.words.sort_unstable();
        first.words.dedup();
        self.by_word.extend(first.words.into_iter().map(|w| (w, id)));
        if first.number {
            self.numbers.push(id);
        }
    }

    fn finish(&mut self, phrases: usize) {
        self.by_word.sort_unstable();
        if phrases <= TRY_ALL {
            self.all = Some(phrases as u32);
        }
        if let Some(&(last, _)) = self.by_word.last() {
            self.starts = vec![0; last as usize / 64 + 1];
            for &(w, _) in &self.by_word {
                self.starts[w as usize / 64] |= 1 << (w % 64);
            }
        }
    }

    /// Whether any phrase may start at word `p`.
    fn any_at(&self, doc: &Doc, p: usize) -> bool {
        if self.all.is_some() || !self.always.is_empty() {
            return true;
        }
        p < doc.tokens.len()
            && ((!self.numbers.is_empty() && doc.tokens[p].number.is_some())
                || doc.ids(p).iter().any(|&id| {
                    self.starts
                        .get(id as usize / 64)
                        .is_some_and(|bits| bits & (1 << (id % 64)) != 0)
                }))
    }

    /// Calls `f` with each phrase that may start at word `p` (possibly more than once).
    fn each_at(&self, doc: &Doc, p: usize, mut f: impl FnMut(u32)) {
        if let Some(n) = self.all {
            (0..n).for_each(f);
            return;
        }
        self.always.iter().for_each(|&i| f(i));
        if p < doc.tokens.len() {
            for id in doc.ids(p) {
                let from = self.by_word.partition_point(|&(w, _)| w < *id);
                for &(w, i) in &self.by_word[from..] {
                    if w != *id {
                        break;
                    }
                    f(i);
                }
            }
            if doc.tokens[p].number.is_some() {
                self.numbers.iter().for_each(|&i| f(i));
            }
        }
    }
}

impl Index {
    pub fn build(rules: &Rules) -> Index {
        let mut index = Index::default();
        for group in &rules.groups {
            let mut triggers = Triggers::default();
            if group.phrases.len() > TRY_ALL {
                for (i, phrase) in group.phrases.iter().enumerate() {
                    let mut first = First::default();
                    if first_of(rules, &phrase.steps, &mut first, 0) {
                        first.always = true;
                    }
                    triggers.add(i as u32, first);
                }
            }
            triggers.finish(group.phrases.len());
            index.group_triggers.push(triggers);
            let plain = group.phrases.len() <= TRY_ALL
                && group.phrases.iter().all(|p| {
                    p.steps
                        .iter()
                        .all(|s| !matches!(s.elem, Elem::Group(_)) && !s.optional)
                });
            index.group_plain.push(plain);
            let mut first = First::default();
            let mut empty = false;
            for phrase in &group.phrases {
                empty |= first_of(rules, &phrase.steps, &mut first, 0);
            }
            index
                .group_first
                .push((!empty && !first.number).then(|| WordSet::new(&first.words)));
            let words: Option<Vec<WordId>> = group
                .phrases
                .iter()
                .map(|p| match p.steps.as_slice() {
                    [
                        Step {
                            elem: Elem::Word(id),
                            optional: false,
                            ..
                        },
                    ] => Some(*id),
                    _ => None,
                })
                .collect();
            index.group_words.push(words.map(|mut w| {
                w.sort_unstable();
                w.dedup();
                w
            }));
        }
        for kind in ScopeKind::ALL {
            if let Some(group) = rules.scope_group(kind) {
                for phrase in &rules.group(group).phrases {
                    index.add(rules, Target::Scope(kind), phrase.clone(), true);
                }
            }
        }
        for (s, sign) in rules.signs.iter().enumerate() {
            for (a, alternative) in sign.alternatives.iter().enumerate() {
                let (sign, alt) = (s as u32, a as u32);
                index.parts.push(alternative.parts.len() as u32);
                for (p, part) in alternative.parts.iter().enumerate() {
                    let target = Target::Part {
                        sign,
                        alt,
                        part: p as u32,
                    };
                    index.add(rules, target, part.phrase.clone(), false);
                }
                for phrase in &alternative.unless {
                    index.add(rules, Target::Unless { sign }, phrase.clone(), false);
                }
            }
        }
        let mut uses = vec![0u32; rules.groups.len()];
        let phrases = rules
            .groups
            .iter()
            .flat_map(|g| &g.phrases)
            .chain(index.targets.iter().map(|(_, p)| p));
        for step in phrases.flat_map(|p| &p.steps) {
            if let Elem::Group(g) = step.elem {
                uses[g as usize] += 1;
            }
        }
        index.group_shared = uses.into_iter().map(|n| n > 1).collect();
        index
    }

    fn add(&mut self, rules: &Rules, target: Target, phrase: Phrase, scope: bool) {
        let id = u32::try_from(self.targets.len()).expect("fewer than 4 billion phrases");
        let mut first = First::default();
        if first_of(rules, &phrase.steps, &mut first, 0) {
            first.always = true;
        }
        self.starts.push(Start {
            words: WordSet::new(&first.words),
            number: first.number,
            always: first.always,
        });
        self.alternative.push(match target {
            Target::Scope(_) => u32::MAX,
            Target::Part { .. } | Target::Unless { .. } => self.parts.len() as u32 - 1,
        });
        let mut anchor = required_sets(rules, &phrase.steps);
        anchor.sort_by_key(|words| cost(rules, words));
        let keys = if scope { &mut self.scope } else { &mut self.signs };
        match anchor.first() {
            Some(words) => {
                for &w in words {
                    if keys.by_word.len() <= w as usize {
                        keys.by_word
                            .resize(rules.lexicon.len().max(w as usize + 1), Vec::new());
                    }
                    keys.by_word[w as usize].push(id);
                }
            }
            None => keys.free.push(id),
        }
        self.anchors
            .push(anchor.iter().map(|words| WordSet::new(words)).collect());
        self.targets.push((target, phrase));
    }
}

/// Words too common to anchor a phrase on.
const COMMON: &[&str] = &[
    "i", "am", "my", "me", "the", "a", "an", "is", "are", "was", "and", "to", "not", "it", "so", "can", "do",
    "be", "have", "has", "had", "feel", "feeling", "going", "like", "get", "in", "on", "at", "of", "for",
    "with", "that", "this", "what", "when", "if", "she", "he", "her", "his", "we", "you", "they", "just",
    "really", "very", "all", "no", "been", "will", "go", "up", "out", "now", "but", "or", "one", "there",
];

/// How common a set of words is, roughly: a set with a common word in it anchors little.
fn cost(rules: &Rules, words: &[WordId]) -> usize {
    words
        .iter()
        .map(|&w| {
            if COMMON.contains(&rules.lexicon.word(w)) {
                50
            } else {
                1
            }
        })
        .sum()
}

/// For each step every match of `steps` needs, the words one of which that step's match
/// contains (steps that may match numbers or clause ends alone give no set).
fn required_sets(rules: &Rules, steps: &[Step]) -> Vec<Vec<WordId>> {
    steps
        .iter()
        .filter(|s| !s.optional)
        .filter_map(|s| {
            let mut words = match &s.elem {
                Elem::Word(id) => vec![*id],
                Elem::Group(g) => group_words(rules, *g, 0)?,
                Elem::Number { .. } | Elem::Rise | Elem::ClauseEnd => return None,
            };
            words.sort_unstable();
            words.dedup();
            Some(words)
        })
        .collect()
}

/// Words one of which every match of group `g` contains, chosen to be as rare as possible;
/// `None` when a match could consist of numbers or clause ends alone.
fn group_words(rules: &Rules, g: u32, depth: usize) -> Option<Vec<WordId>> {
    let mut all = Vec::new();
    for p in &rules.group(g).phrases {
        all.extend(required(rules, &p.steps, depth + 1)?);
    }
    Some(all)
}

/// Words one of which every match of `steps` contains, chosen to be as rare as possible; `None`
/// when a match could consist of numbers or clause ends alone.
fn required(rules: &Rules, steps: &[Step], depth: usize) -> Option<Vec<WordId>> {
    if depth > 32 {
        return None;
    }
    steps
        .iter()
        .filter(|s| !s.optional)
        .filter_map(|s| match &s.elem {
            Elem::Word(id) => Some(vec![*id]),
            Elem::Number { .. } | Elem::Rise | Elem::ClauseEnd => None,
            Elem::Group(g) => group_words(rules, *g, depth),
        })
        .min_by_key(|words| cost(rules, words))
}

/// Collects the words a phrase may start with; true when it may match nothing at all.
fn first_of(rules: &Rules, steps: &[Step], first: &mut First, depth: usize) -> bool {
    if depth > 32 {
        first.always = true;
        return false;
    }
    for step in steps {
        let may_be_empty = match &step.elem {
            Elem::Word(id) => {
                first.words.push(*id);
                false
            }
            Elem::Number { .. } | Elem::Rise => {
                first.number = true;
                false
            }
            Elem::ClauseEnd => true,
            Elem::Group(g) => {
                let mut any_empty = false;
                for p in &rules.group(*g).phrases {
                    any_empty |= first_of(rules, &p.steps, first, depth + 1);
                }
                any_empty
            }
        };
        if !(may_be_empty || step.optional) {
            return false;
        }
    }
    true
}

/// A comment read for matching.
pub(super) struct Doc {
    tokens: Vec<Token>,
    /// For each word, which distinct word it is; for each distinct word, the list's words it
    /// matches.
    distinct: Vec<u32>,
    matches: Vec<Vec<WordId>>,
    /// For each sentence, which of the list's words it has (a bit for each).
    present: Vec<Vec<u64>>,
    sentence_end: Vec<usize>,
    clause_end: Vec<usize>,
    segment_end: Vec<usize>,
}

impl Doc {
    /// Whether sentence `sentence` has a word of each set.
    fn has_all(&self, sentence: usize, sets: &[WordSet]) -> bool {
        sets.iter().all(|set| set.meets(&self.present[sentence]))
    }

    /// The list's words that word `p` matches.
    fn ids(&self, p: usize) -> &[WordId] {
        &self.matches[self.distinct[p] as usize]
    }

    pub fn new(rules: &Rules, text: &str) -> Doc {
        let tokens = words::tokenise(text);
        let mut seen: HashMap<&str, u32, BuildHasherDefault<super::rules::WordHasher>> =
            HashMap::with_capacity_and_hasher(tokens.len(), BuildHasherDefault::default());
        let mut matches = Vec::new();
        let mut distinct = Vec::with_capacity(tokens.len());
        for t in &tokens {
            let next = matches.len() as u32;
            let d = *seen.entry(t.word.as_str()).or_insert_with(|| {
                let (stem, inflected) = words::stem_and_ending(&t.word);
                let mut out = Vec::new();
                rules.lexicon.ids(&t.word, &stem, inflected, &mut out);
                matches.push(out);
                next
            });
            distinct.push(d);
        }
        let n = tokens.len();
        let sentences = tokens.last().map_or(0, |t| t.sentence as usize + 1);
        let mut present = vec![vec![0u64; rules.lexicon.len().div_ceil(64)]; sentences];
        for (t, &d) in tokens.iter().zip(&distinct) {
            for &id in &matches[d as usize] {
                present[t.sentence as usize][id as usize / 64] |= 1 << (id % 64);
            }
        }
        let mut sentence_end = vec![n; n];
        let mut clause_end = vec![n; n];
        let mut segment_end = vec![n; n];
        for i in (0..n.saturating_sub(1)).rev() {
            sentence_end[i] = if tokens[i + 1].sentence != tokens[i].sentence {
                i + 1
            } else {
                sentence_end[i + 1]
            };
            clause_end[i] = if tokens[i + 1].clause != tokens[i].clause {
                i + 1
            } else {
                clause_end[i + 1]
            };
            segment_end[i] = if tokens[i + 1].segment != tokens[i].segment {
                i + 1
            } else {
                segment_end[i + 1]
            };
        }
        Doc {
            tokens,
            distinct,
            matches,
            present,
            sentence_end,
            clause_end,
            segment_end,
        }
    }
}

/// Where each phrase was found: (first word, end) pairs.
type Hits = Vec<Vec<(usize, usize)>>;

/// For each alternative, the sentences where one of its `unless` phrases was found.
type Excluded = Vec<Vec<u32>>;

fn unless_sentences(index: &Index, doc: &Doc, hits: &Hits) -> Excluded {
    let mut excluded = vec![Vec::new(); index.parts.len()];
    for (t, ((target, _), found)) in index.targets.iter().zip(hits).enumerate() {
        if let Target::Unless { .. } = target {
            let sentences: &mut Vec<u32> = &mut excluded[index.alternative[t] as usize];
            sentences.extend(found.iter().map(|&(s, _)| doc.tokens[s].sentence));
        }
    }
    excluded
}

/// Whether a find (first word `s`, end `e`) of part `t` is in scope, or needs not be (a part
/// that is context only).
fn in_scope(rules: &Rules, index: &Index, doc: &Doc, scope: &Scope, t: u32, s: usize, e: usize) -> bool {
    let Target::Part { sign, alt, part } = index.targets[t as usize].0 else {
        return false;
    };
    let rule_sign = &rules.signs[sign as usize];
    rule_sign.alternatives[alt as usize].parts[part as usize].context
        || scope.counts(&doc.tokens, s, e, rule_sign.category)
}

/// Whether a find of part `t` counts: in scope, and not in a sentence where its alternative has
/// an `unless`.
#[allow(clippy::too_many_arguments)]
fn part_counts(
    rules: &Rules,
    index: &Index,
    doc: &Doc,
    scope: &Scope,
    excluded: &Excluded,
    t: u32,
    s: usize,
    e: usize,
) -> bool {
    !excluded[index.alternative[t as usize] as usize].contains(&doc.tokens[s].sentence)
        && in_scope(rules, index, doc, scope, t, s, e)
}

/// A quick hash for the memo's small integer keys (the default hasher is built to resist attack,
/// which these keys, made by the matcher, do not need).
#[derive(Default)]
struct QuickHasher(u64);

impl Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Where remembered group ends are kept: (start, length) in `Matcher::arena`.
type Memo = HashMap<(u32, u32), (u32, u32), BuildHasherDefault<QuickHasher>>;

/// Where a phrase may end: usually one or two places, kept inline.
#[derive(Default)]
struct Ends {
    inline: [usize; 6],
    len: usize,
    more: Vec<usize>,
}

impl Ends {
    fn push(&mut self, e: usize) {
        if self.inline[..self.len.min(6)].contains(&e) || self.more.contains(&e) {
            return;
        }
        if self.len < 6 {
            self.inline[self.len] = e;
        } else {
            self.more.push(e);
        }
        self.len += 1;
    }

    fn clear(&mut self) {
        self.len = 0;
        self.more.clear();
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.inline[..self.len.min(6)].iter().chain(&self.more).copied()
    }
}

struct Matcher<'a> {
    rules: &'a Rules,
    index: &'a Index,
    doc: &'a Doc,
    /// Words a gap may not step over (negations).
    guard: Option<&'a [bool]>,
    /// Where each group, tried at a word, ends: groups are shared by many phrases.
    memo: RefCell<Memo>,
    arena: RefCell<Vec<usize>>,
}

impl Matcher<'_> {
    fn steps(&self, steps: &[Step], at: usize, limit: usize, anchored: bool, ends: &mut Ends) {
        let Some((step, rest)) = steps.split_first() else {
            ends.push(at);
            return;
        };
        if step.optional {
            self.steps(rest, at, limit, anchored, ends);
        }
        let doc = self.doc;
        let max_skip = if anchored || matches!(step.elem, Elem::ClauseEnd) {
            0
        } else {
            usize::from(step.gap)
        };
        if max_skip > 0 && !self.in_sentence(&step.elem, at) {
            return;
        }
        for skip in 0..=max_skip {
            let p = at + skip;
            if skip > 0 && (p > limit || self.guard.is_some_and(|g| g[p - 1])) {
                break;
            }
            match &step.elem {
                Elem::Word(id) => {
                    if p < limit && doc.ids(p).contains(id) {
                        self.steps(rest, p + 1, limit, false, ends);
                    }
                }
                Elem::Number { min, max } => {
                    if p < limit && doc.tokens[p].number.is_some_and(|n| n >= *min && n <= *max) {
                        self.steps(rest, p + 1, limit, false, ends);
                    }
                }
                Elem::Rise => {
                    if p < limit && doc.tokens[p].rise {
                        self.steps(rest, p + 1, limit, false, ends);
                    }
                }
                Elem::ClauseEnd => {
                    let tokens = &doc.tokens;
                    if p == limit || (p > 0 && p < tokens.len() && tokens[p].clause != tokens[p - 1].clause) {
                        self.steps(rest, p, limit, false, ends);
                    }
                }
                Elem::Group(g) if self.index.group_words[*g as usize].is_some() => {
                    let words = self.index.group_words[*g as usize].as_deref().unwrap_or_default();
                    if p < limit && doc.ids(p).iter().any(|id| words.binary_search(id).is_ok()) {
                        self.steps(rest, p + 1, limit, false, ends);
                    }
                }
                Elem::Group(g) if self.index.group_plain[*g as usize] => {
                    // A few plain words: match each choice straight away, without remembering,
                    // where one may start.
                    let first = &self.index.group_first[*g as usize];
                    if p < limit && first.as_ref().is_some_and(|words| !words.has_any(doc.ids(p))) {
                        continue;
                    }
                    for phrase in &self.rules.group(*g).phrases {
                        if let Some(e) = self.plain_end(&phrase.steps, p, limit) {
                            self.steps(rest, e, limit, false, ends);
                        }
                    }
                }
                Elem::Group(g) => {
                    for e in self.group_ends(*g, p, limit).iter() {
                        self.steps(rest, e, limit, false, ends);
                    }
                }
            }
        }
    }

    /// Whether the sentence of word `at` may hold `elem` at all: a gap need not be searched
    /// word by word for a word the sentence does not have.
    fn in_sentence(&self, elem: &Elem, at: usize) -> bool {
        let Some(token) = self.doc.tokens.get(at) else {
            return true;
        };
        let present = &self.doc.present[token.sentence as usize];
        match elem {
            Elem::Word(id) => present[*id as usize / 64] & (1 << (id % 64)) != 0,
            Elem::Group(g) => self.index.group_first[*g as usize]
                .as_ref()
                .is_none_or(|words| words.meets(present)),
            Elem::Number { .. } | Elem::Rise | Elem::ClauseEnd => true,
        }
    }

    /// Where a phrase of plain words (no groups) starting at `p` ends, taking the first way
    /// it fits.
    fn plain_end(&self, steps: &[Step], p: usize, limit: usize) -> Option<usize> {
        let doc = self.doc;
        let mut at = p;
        for (i, step) in steps.iter().enumerate() {
            let max_skip = if i == 0 || matches!(step.elem, Elem::ClauseEnd) {
                0
            } else {
                usize::from(step.gap)
            };
            let mut found = None;
            for skip in 0..=max_skip {
                let q = at + skip;
                if skip > 0 && (q > limit || self.guard.is_some_and(|g| g[q - 1])) {
                    break;
                }
                let fits = match &step.elem {
                    Elem::Word(id) => q < limit && doc.ids(q).contains(id),
                    Elem::Number { min, max } => {
                        q < limit && doc.tokens[q].number.is_some_and(|n| n >= *min && n <= *max)
                    }
                    Elem::Rise => q < limit && doc.tokens[q].rise,
                    Elem::ClauseEnd => {
                        q == limit
                            || (q > 0
                                && q < doc.tokens.len()
                                && doc.tokens[q].clause != doc.tokens[q - 1].clause)
                    }
                    Elem::Group(_) => return None,
                };
                if fits {
                    found = Some(if matches!(step.elem, Elem::ClauseEnd) {
                        q
                    } else {
                        q + 1
                    });
                    break;
                }
            }
            match found {
                Some(next) => at = next,
                None if step.optional => {}
                None => return None,
            }
        }
        Some(at)
    }

    /// Where group `g` ends when it starts at `p` (remembered: groups are shared by many phrases).
    fn group_ends(&self, g: u32, p: usize, limit: usize) -> Ends {
        let mut ends = Ends::default();
        if !self.index.group_triggers[g as usize].any_at(self.doc, p) {
            return ends;
        }
        let shared = self.index.group_shared[g as usize];
        let key = (g, p as u32);
        if shared && let Some(&(start, len)) = self.memo.borrow().get(&key) {
            let arena = self.arena.borrow();
            for &e in &arena[start as usize..(start + len) as usize] {
                ends.push(e);
            }
            return ends;
        }
        let phrases = &self.rules.group(g).phrases;
        let mut last = u32::MAX;
        self.index.group_triggers[g as usize].each_at(self.doc, p, |i| {
            if i != last {
                last = i;
                self.steps(&phrases[i as usize].steps, p, limit, true, &mut ends);
            }
        });
        if !shared {
            return ends;
        }
        let mut arena = self.arena.borrow_mut();
        let start = arena.len() as u32;
        arena.extend(ends.iter());
        self.memo.borrow_mut().insert(key, (start, ends.len as u32));
        ends
    }

    /// Finds every wanted phrase (all when `wanted` is `None`). A phrase stops being wanted once
    /// `enough` says a find of it (target, first word, end) settles what it is looked for.
    ///
    /// Sentence by sentence: only the phrases keyed by a word the sentence has, and that have
    /// every word they need there, are tried, each at the words it may start with.
    fn find_all(
        &self,
        keys: &Keys,
        mut wanted: Option<&mut [bool]>,
        enough: &dyn Fn(u32, usize, usize) -> bool,
        hits: &mut Hits,
    ) {
        let index = self.index;
        let doc = self.doc;
        let n = doc.tokens.len();
        let mut ends = Ends::default();
        // The sentence (+ 1) each target was last considered for.
        let mut seen = vec![0u32; index.targets.len()];
        let mut live = Vec::new();
        let (mut occurs, mut numbers, mut at) = (Vec::new(), Vec::new(), Vec::new());
        let mut start = 0;
        while start < n {
            let end = doc.sentence_end[start];
            let sentence = doc.tokens[start].sentence as usize;
            let stamp = sentence as u32 + 1;
            live.clear();
            let mut consider = |t: u32| {
                if seen[t as usize] != stamp {
                    seen[t as usize] = stamp;
                    if wanted.as_deref().is_none_or(|w| w[t as usize])
                        && doc.has_all(sentence, &index.anchors[t as usize])
                    {
                        live.push(t);
                    }
                }
            };
            keys.free.iter().for_each(|&t| consider(t));
            for (block, &bits) in doc.present[sentence].iter().enumerate() {
                let mut bits = bits;
                while bits != 0 {
                    let w = block * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if let Some(targets) = keys.by_word.get(w) {
                        targets.iter().for_each(|&t| consider(t));
                    }
                }
            }
            if live.is_empty() {
                start = end;
                continue;
            }
            // Where each of the sentence's list words is, by word.
            occurs.clear();
            numbers.clear();
            for p in start..end {
                occurs.extend(doc.ids(p).iter().map(|&id| u64::from(id) << 32 | p as u64));
                if doc.tokens[p].number.is_some() {
                    numbers.push(p);
                }
            }
            occurs.sort_unstable();
            for &t in &live {
                let first = &index.starts[t as usize];
                at.clear();
                if first.always {
                    at.extend(start..end);
                } else {
                    let present = &doc.present[sentence];
                    for w in first.words.common(present) {
                        let from = occurs.partition_point(|&o| o >> 32 < u64::from(w));
                        at.extend(
                            occurs[from..]
                                .iter()
                                .take_while(|&&o| o >> 32 == u64::from(w))
                                .map(|&o| (o & u64::from(u32::MAX)) as usize),
                        );
                    }
                    if first.number {
                        at.extend_from_slice(&numbers);
                    }
                    // Usually one word's places, already in order.
                    if !at.is_sorted() {
                        at.sort_unstable();
                    }
                    at.dedup();
                }
                for &p in &at {
                    if wanted.as_deref().is_some_and(|w| !w[t as usize]) {
                        break;
                    }
                    ends.clear();
                    self.steps(&index.targets[t as usize].1.steps, p, end, true, &mut ends);
                    if let Some(e) = ends.iter().max()
                        && e > p
                    {
                        hits[t as usize].push((p, e));
                        if let Some(wanted) = wanted.as_deref_mut()
                            && enough(t, p, e)
                        {
                            wanted[t as usize] = false;
                        }
                    }
                }
            }
            start = end;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    LongAgo,
    /// Long ago for a symptom, not for abuse ("last month").
    Recent,
    Settled,
    Now,
}

/// What the scope words say about each part of a comment.
struct Scope {
    negation: Vec<bool>,
    mild: Vec<bool>,
    hypothetical: Vec<bool>,
    /// Time markers of each sentence, in order.
    marks: Vec<Vec<(usize, Mark)>>,
    present_clause: Vec<bool>,
    past_sentence: Vec<bool>,
    now_sentence: Vec<bool>,
    /// The sentence says something has come back ("I've started again").
    again_sentence: Vec<bool>,
    /// The story so far, before this sentence, is set long ago (`LongAgo`), or last month
    /// (`Recent`).
    carried_past: Vec<Option<Mark>>,
}

impl Scope {
    fn new(doc: &Doc, index: &Index, hits: &Hits) -> Scope {
        let tokens = &doc.tokens;
        let n = tokens.len();
        let sentences = tokens.last().map_or(0, |t| t.sentence as usize + 1);
        let clauses = tokens.last().map_or(0, |t| t.clause as usize + 1);
        let of = |kind: ScopeKind| {
            index
                .targets
                .iter()
                .zip(hits)
                .filter(move |((t, _), _)| matches!(t, Target::Scope(k) if *k == kind))
                .flat_map(|(_, h)| h.iter().copied())
        };
        let idioms: Vec<(usize, usize)> = of(ScopeKind::NotNegation).collect();
        let mut negation = vec![false; n];
        for (s, e) in of(ScopeKind::Negation) {
            if !idioms.iter().any(|&(a, b)| a < e && s < b) {
                negation[s..e].iter_mut().for_each(|x| *x = true);
            }
        }
        let mut mild = vec![false; n];
        for (s, e) in of(ScopeKind::Mild) {
            mild[s..e].iter_mut().for_each(|x| *x = true);
        }
        let not_hypothetical: Vec<(usize, usize)> = of(ScopeKind::NotHypothetical).collect();
        let mut hypothetical = vec![false; n];
        // From just after the marker starts: "what does shoulder tip pain feel like"; a sign
        // starting with the marker's first word ("scared of what I might do") is not inside it.
        // A report or question reaches to the end of its clause; a condition to the end of its
        // segment ("call 999 if you bleed heavily and feel faint").
        let reaches: Vec<(usize, usize, usize)> = of(ScopeKind::Hypothetical)
            .map(|(s, e)| (s, e, doc.clause_end[s]))
            .chain(of(ScopeKind::Condition).map(|(s, e)| (s, e, doc.segment_end[s])))
            .collect();
        for (s, _, end) in reaches {
            // "as if", "if I'm honest": a phrase that is not a condition cancels one starting
            // inside it ("asked if I've had" is still a report).
            if not_hypothetical.iter().any(|&(a, b)| a <= s && s < b) {
                continue;
            }
            hypothetical[(s + 1).min(end)..end]
                .iter_mut()
                .for_each(|x| *x = true);
        }
        // A question about how common a sign is covers its whole clause, before it too.
        for (s, _) in of(ScopeKind::GeneralQuestion) {
            let clause = tokens[s].clause;
            let start = (0..s)
                .rev()
                .take_while(|&k| tokens[k].clause == clause)
                .last()
                .unwrap_or(s);
            hypothetical[start..doc.clause_end[s]]
                .iter_mut()
                .for_each(|x| *x = true);
        }
        let negated = |s: usize| looks_back(tokens, &negation, s, NEGATION_REACH);
        let mut spans: Vec<(usize, usize, Mark)> = Vec::new();
        for (s, e) in of(ScopeKind::LongAgo) {
            spans.push((s, e, Mark::LongAgo));
        }
        for (s, e) in of(ScopeKind::Recent) {
            spans.push((s, e, Mark::Recent));
        }
        // "it had almost stopped" has not settled, nor has "she stopped breathing".
        let nearly = |s: usize| {
            (s > 0 && matches!(tokens[s - 1].word.as_str(), "almost" | "nearly" | "not"))
                || tokens.get(s + 1).is_some_and(|t| {
                    t.sentence == tokens[s].sentence
                        && matches!(
                            t.word.as_str(),
                            "breathing" | "responding" | "moving" | "answering" | "talking" | "making"
                        )
                })
        };
        for (s, e) in of(ScopeKind::Settled) {
            if !negated(s) && !nearly(s) {
                spans.push((s, e, Mark::Settled));
            }
        }
        // "now" inside or just after a long-ago or settled phrase ("it's calmed down now") is part
        // of it.
        let taken: Vec<(usize, usize)> = spans.iter().map(|&(s, e, _)| (s, e)).collect();
        for (s, e) in of(ScopeKind::Now) {
            // "again" in "I'm scared it will happen again" is not happening now.
            if !taken.iter().any(|&(a, b)| a < e && s <= b) && !negated(s) && !hypothetical[s] {
                spans.push((s, e, Mark::Now));
            }
        }
        let mut marks = vec![Vec::new(); sentences];
        for &(s, _, mark) in &spans {
            marks[tokens[s].sentence as usize].push((s, mark));
        }
        for m in &mut marks {
            m.sort_by_key(|&(p, _)| p);
            m.dedup();
        }
        let mut present_clause = vec![false; clauses];
        for (s, _) in of(ScopeKind::Present) {
            present_clause[tokens[s].clause as usize] = true;
        }
        let mut past_sentence = vec![false; sentences];
        for (s, _) in of(ScopeKind::Past) {
            past_sentence[tokens[s].sentence as usize] = true;
        }
        let mut present_sentence = vec![false; sentences];
        for t in tokens {
            if present_clause[t.clause as usize] {
                present_sentence[t.sentence as usize] = true;
            }
        }
        let now_sentence: Vec<bool> = marks
            .iter()
            .map(|m| m.iter().any(|&(_, k)| k == Mark::Now))
            .collect();
        let mut again_sentence = vec![false; sentences];
        for (s, _) in of(ScopeKind::Again) {
            if !negated(s) && !hypothetical[s] {
                again_sentence[tokens[s].sentence as usize] = true;
            }
        }
        let mut carried_past = vec![None; sentences];
        let mut story = None;
        for s in 0..sentences {
            carried_past[s] = story;
            match marks[s].iter().rev().find(|&&(_, k)| k != Mark::Settled) {
                Some(&(_, k)) => story = (k != Mark::Now).then_some(k),
                None if present_sentence[s] => story = None,
                None => {}
            }
        }
        Scope {
            negation,
            mild,
            hypothetical,
            marks,
            present_clause,
            past_sentence,
            now_sentence,
            again_sentence,
            carried_past,
        }
    }

    /// Whether a find at `start..end` counts for a sign of `category`.
    fn counts(&self, tokens: &[Token], start: usize, end: usize, category: Option<Category>) -> bool {
        let mild_applies = !matches!(category, Some(Category::MentalHealth | Category::DomesticAbuse));
        let negated = looks_back(tokens, &self.negation, start, NEGATION_REACH);
        let mild = mild_applies && looks_back(tokens, &self.mild, start, MILD_REACH);
        // Abuse last month is not over: a recent marker does not settle it.
        let recent_counts = category == Some(Category::DomesticAbuse);
        !(negated || mild || self.hypothetical[start] || self.settled(tokens, start, end, recent_counts))
    }

    fn settled(&self, tokens: &[Token], start: usize, end: usize, recent_counts: bool) -> bool {
        let sentence = tokens[start].sentence as usize;
        let (c0, c1) = (tokens[start].clause, tokens[end - 1].clause);
        if self.again_sentence[sentence] {
            return false;
        }
        let heeded = |k: Mark| !(recent_counts && k == Mark::Recent);
        let marks = || self.marks[sentence].iter().copied().filter(|&(_, k)| heeded(k));
        let in_clauses = |p: usize| (c0..=c1).contains(&tokens[p].clause);
        if marks().any(|(p, k)| k == Mark::Now && in_clauses(p)) {
            return false;
        }
        if marks().any(|(p, k)| k != Mark::Now && in_clauses(p)) {
            return true;
        }
        if let Some((_, k)) = marks().rev().find(|&(p, k)| p < start && k != Mark::Settled) {
            return matches!(k, Mark::LongAgo | Mark::Recent);
        }
        let present = (c0..=c1).any(|c| self.present_clause[c as usize]);
        if !present && let Some((_, k)) = marks().find(|&(p, _)| p >= end) {
            return k != Mark::Now;
        }
        if present || self.now_sentence[sentence] || !self.past_sentence[sentence] {
            return false;
        }
        if self.carried_past[sentence].is_some_and(heeded) {
            return true;
        }
        self.marks
            .get(sentence + 1)
            .and_then(|m| m.iter().find(|&&(_, k)| heeded(k)))
            .is_some_and(|&(_, k)| k != Mark::Now)
    }
}

/// A flagged word within `reach` words before `start`, in the same clause.
fn looks_back(tokens: &[Token], flags: &[bool], start: usize, reach: usize) -> bool {
    let clause = tokens[start].clause;
    (start.saturating_sub(reach)..start)
        .rev()
        .take_while(|&k| tokens[k].clause == clause)
        .any(|k| flags[k])
}

/// The signs found in `text`: indices into `rules.signs`, in list order.
pub(super) fn find_signs(rules: &Rules, index: &Index, text: &str) -> Vec<usize> {
    find_signs_explained(rules, index, text, None)
}

/// The signs found when every find of every phrase is looked for, as explaining does.
#[cfg(test)]
pub(super) fn find_signs_everywhere(rules: &Rules, index: &Index, text: &str) -> Vec<usize> {
    find_signs_explained(rules, index, text, Some(&mut String::new()))
}

/// Every find of every phrase, and whether it counted: for people editing a list.
pub(super) fn explain(rules: &Rules, index: &Index, text: &str) -> String {
    let mut out = String::new();
    find_signs_explained(rules, index, text, Some(&mut out));
    out
}

fn find_signs_explained(
    rules: &Rules,
    index: &Index,
    text: &str,
    explain: Option<&mut String>,
) -> Vec<usize> {
    use std::fmt::Write;
    let doc = Doc::new(rules, text);
    if doc.tokens.is_empty() {
        return Vec::new();
    }
    let mut hits: Hits = vec![Vec::new(); index.targets.len()];
    let never = |_: u32, _: usize, _: usize| false;
    Matcher {
        rules,
        index,
        doc: &doc,
        guard: None,
        memo: RefCell::new(Memo::with_capacity_and_hasher(
            1024,
            BuildHasherDefault::default(),
        )),
        arena: RefCell::default(),
    }
    .find_all(&index.scope, None, &never, &mut hits);
    let scope = Scope::new(&doc, index, &hits);
    let signs = Matcher {
        rules,
        index,
        doc: &doc,
        guard: Some(&scope.negation),
        memo: RefCell::new(Memo::with_capacity_and_hasher(
            4096,
            BuildHasherDefault::default(),
        )),
        arena: RefCell::default(),
    };
    // The first phrase of each alternative everywhere; the rest (and `unless`) only for
    // alternatives whose first phrase counts. Explaining looks for everything.
    let mut first: Vec<bool> = index
        .targets
        .iter()
        .map(|(t, _)| matches!(t, Target::Part { part: 0, .. }))
        .collect();
    let everything = explain.is_some();
    // One find in scope is enough to start an alternative.
    let in_scope = |t: u32, s: usize, e: usize| in_scope(rules, index, &doc, &scope, t, s, e);
    signs.find_all(
        &index.signs,
        (!everything).then_some(&mut first[..]),
        &in_scope,
        &mut hits,
    );
    // The sentences each alternative's `unless` rules out; the quick search needs them midway.
    let mut excluded = None;
    if !everything {
        let mut started = vec![false; index.parts.len()];
        for (t, ((target, _), found)) in index.targets.iter().zip(&hits).enumerate() {
            if let Target::Part { part: 0, .. } = *target
                && found.iter().any(|&(s, e)| in_scope(t as u32, s, e))
            {
                started[index.alternative[t] as usize] = true;
            }
        }
        let started = |t: usize| index.alternative[t] != u32::MAX && started[index.alternative[t] as usize];
        // Every `unless` of those alternatives, then their other parts, each only until one find
        // counts: that is all the verdict needs.
        let mut unless: Vec<bool> = index
            .targets
            .iter()
            .enumerate()
            .map(|(t, (target, _))| matches!(target, Target::Unless { .. }) && started(t))
            .collect();
        if unless.iter().any(|&u| u) {
            signs.find_all(&index.signs, Some(&mut unless), &never, &mut hits);
        }
        let found_excluded = unless_sentences(index, &doc, &hits);
        let counts =
            |t: u32, s: usize, e: usize| part_counts(rules, index, &doc, &scope, &found_excluded, t, s, e);
        // A first part whose find fell in a sentence its `unless` rules out is looked for again,
        // this time until a find counts.
        let mut again: Vec<bool> = index
            .targets
            .iter()
            .zip(&hits)
            .enumerate()
            .map(|(t, ((target, _), found))| {
                matches!(*target, Target::Part { part: 0, .. })
                    && started(t)
                    && !found.iter().any(|&(s, e)| counts(t as u32, s, e))
            })
            .collect();
        if again.iter().any(|&a| a) {
            for (t, _) in again.iter().enumerate().filter(|(_, a)| **a) {
                hits[t].clear();
            }
            signs.find_all(&index.signs, Some(&mut again), &counts, &mut hits);
        }
        let mut rest: Vec<bool> = index
            .targets
            .iter()
            .enumerate()
            .map(|(t, (target, _))| matches!(*target, Target::Part { part, .. } if part > 0) && started(t))
            .collect();
        if rest.iter().any(|&r| r) {
            signs.find_all(&index.signs, Some(&mut rest), &counts, &mut hits);
        }
        excluded = Some(found_excluded);
    }

    if let Some(out) = explain {
        let words: Vec<String> = doc
            .tokens
            .iter()
            .map(|t| {
                format!(
                    "{}{}",
                    t.word,
                    if words::stem_and_ending(&t.word).1 {
                        "~"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        let _ = writeln!(out, "words: {}", words.join(" "));
        for ((target, _), found) in index.targets.iter().zip(&hits) {
            for &(s, e) in found {
                let what = match target {
                    Target::Scope(kind) => format!("@{}", kind.group_name()),
                    Target::Part { sign, part, .. } => {
                        let sign = &rules.signs[*sign as usize];
                        let ok = scope.counts(&doc.tokens, s, e, sign.category);
                        format!(
                            "{} (part {part}){}",
                            sign.label,
                            if ok { "" } else { " [does not count]" }
                        )
                    }
                    Target::Unless { sign, .. } => {
                        format!("unless, for {}", rules.signs[*sign as usize].label)
                    }
                };
                let _ = writeln!(out, "  {what}: {}", words[s..e].join(" "));
            }
        }
    }
    // Which parts of which alternatives hold.
    let excluded = excluded.unwrap_or_else(|| unless_sentences(index, &doc, &hits));
    // For each alternative, a bit for each part that holds.
    let mut holds = vec![0u64; index.parts.len()];
    let mut sign_of = vec![0u32; index.parts.len()];
    for (t, ((target, _), found)) in index.targets.iter().zip(&hits).enumerate() {
        let Target::Part { sign, part, .. } = *target else {
            continue;
        };
        let alternative = index.alternative[t] as usize;
        sign_of[alternative] = sign;
        if found
            .iter()
            .any(|&(s, e)| part_counts(rules, index, &doc, &scope, &excluded, t as u32, s, e))
        {
            holds[alternative] |= 1 << part;
        }
    }
    let mut found: Vec<usize> = holds
        .iter()
        .zip(&index.parts)
        .zip(&sign_of)
        .filter(|((bits, parts), _)| bits.count_ones() == **parts)
        .map(|(_, &sign)| sign as usize)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}
