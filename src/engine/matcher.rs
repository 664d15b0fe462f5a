//! Compiled evidence and breach matchers: every rule of a [`RuleSet`] is compiled once, so
//! that each report is examined once for all commitments.
//!
//! All phrases of all rules go into one index by their first word (the few that begin with
//! a sign into one Aho-Corasick automaton), so that a text is searched in one pass over its
//! words; each matcher alternative is indexed by one "anchor" (a phrase, a CAMEO prefix, a
//! topic or a kind) that any report it can hold for must have. A report therefore only
//! visits the alternatives it could satisfy, and the cost per report grows with what it
//! matches, not with the number of rules.

use crate::engine::report::{Kind, Report, TextNeed, party_code};
use crate::engine::rules::{FollowUp, Matcher, RuleSet};
use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::HashMap;

/// How a report bears on a commitment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Matches `evidence` and is at least as strong as `min_strength`.
    Evidence,
    /// Matches `evidence` but is weaker than `min_strength`.
    Talk,
    /// Matches `breach` (which takes precedence over evidence).
    Breach,
}

impl Class {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Evidence => "evidence",
            Class::Talk => "talk",
            Class::Breach => "breach",
        }
    }
}

/// One report's bearing on one commitment, within actor scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the commitment in rule order over all agreements.
    pub commitment: u32,
    /// Evidence, talk or breach.
    pub class: Class,
    /// Bit `i` set when the commitment's party `i` is among the report's actors.
    pub parties: u64,
}

/// Why a report matched an alternative, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchDetail {
    /// Index of the commitment in rule order.
    pub commitment: u32,
    /// True for a `breach` alternative, false for `evidence`.
    pub breach: bool,
    /// 1-based number of the alternative inside its block.
    pub alternative: usize,
    /// The phrases found in the report that the alternative uses.
    pub phrases: Vec<String>,
}

/// What, besides a phrase, a report must have for an alternative to be worth checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Anchor {
    /// A CAMEO prefix (see [`cameo_key`]).
    Cameo(u16),
    /// A report kind.
    Kind(Kind),
    /// Nothing: the alternative has only `not_keywords`.
    Always,
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Evidence,
    Breach,
}

#[derive(Debug)]
struct Alternative {
    commitment: u32,
    role: Role,
    number: usize,
    cameo: Vec<u16>,
    kinds: u8,
    topics: Vec<String>,
    all_topics: Vec<String>,
    any: Vec<u32>,
    all: Vec<u32>,
    none: Vec<u32>,
}

#[derive(Debug)]
struct Scope {
    /// The commitment's parties are `party_pool[first..first + count]`: kept flat, so that
    /// the scope check of a candidate touches no other allocation.
    first: u32,
    count: u32,
    follow_up: FollowUp,
    min_strength: Kind,
}

/// One phrase of the rules. Its text up to its first stem (`*`) is what the search looks
/// for; the rest is checked where the search found the start.
#[derive(Debug)]
struct Phrase {
    /// As the rule wrote it (normalized), for `explain`.
    text: String,
    /// What the search looks for: the text before the first `*`.
    head: String,
    /// The parts after each `*`: at a stem the word goes on (any word characters), then the
    /// part must follow. Empty for a phrase without stems.
    rest: Vec<String>,
    word_start: bool,
    /// The phrase ends in a word character that is not a stem: a word boundary must follow.
    word_end: bool,
}

impl Phrase {
    fn new(norm: String) -> Phrase {
        let mut parts = norm.split('*');
        let head = parts.next().unwrap_or("").to_string();
        let rest: Vec<String> = parts.map(str::to_string).collect();
        Phrase {
            word_start: norm.chars().next().is_some_and(is_word),
            word_end: !norm.ends_with('*') && norm.chars().next_back().is_some_and(is_word),
            head,
            rest,
            text: norm,
        }
    }

    /// Where the phrase, whose head the search found ending at byte `end`, ends when it
    /// goes on as the rule says, with a word boundary after it where one is needed.
    fn continues(&self, haystack: &str, end: usize) -> Option<usize> {
        let mut at = end;
        for part in &self.rest {
            // the stem's word goes on to its end
            at += haystack[at..]
                .char_indices()
                .find(|(_, c)| !is_word(*c))
                .map_or(haystack.len() - at, |(i, _)| i);
            let next = haystack[at..].get(..part.len());
            if !next.is_some_and(|n| n.eq_ignore_ascii_case(part)) {
                return None;
            }
            at += part.len();
        }
        (!self.word_end || !haystack[at..].chars().next().is_some_and(is_word)).then_some(at)
    }

    /// True when a word boundary comes before byte `start` where the phrase needs one.
    fn starts_at(&self, haystack: &str, start: usize) -> bool {
        !self.word_start || !haystack[..start].chars().next_back().is_some_and(is_word)
    }
}

/// The first place where `phrase` (as a rule writes it, stems included) occurs in `text`,
/// as the words of `text` it covers (lower-cased). The same test as the one-pass matcher,
/// one phrase at a time: for `explain`, which says what was found and where.
pub fn find_phrase(phrase: &str, text: &str) -> Option<String> {
    let mut norm = String::new();
    normalize(phrase.trim(), &mut norm);
    let p = Phrase::new(norm);
    if p.head.is_empty() {
        return None;
    }
    let mut haystack = String::new();
    normalize(text, &mut haystack);
    let mut from = 0;
    while let Some(i) = haystack[from..].find(&p.head) {
        let start = from + i;
        if p.starts_at(&haystack, start)
            && let Some(end) = p.continues(&haystack, start + p.head.len())
        {
            return Some(haystack[start..end].to_string());
        }
        from = start + haystack[start..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// All rules, compiled for one pass per report.
#[derive(Debug)]
pub struct CompiledRules {
    /// The phrases that begin with a word, by that word.
    words: WordIndex,
    /// The other phrases (those that begin with a sign), and their ids.
    automaton: Option<(AhoCorasick, Vec<u32>)>,
    phrases: Vec<Phrase>,
    alternatives: Vec<Alternative>,
    scopes: Vec<Scope>,
    party_pool: Vec<u32>,
    /// `alternatives[i].commitment`, kept dense for the candidate loop.
    alt_commitment: Vec<u32>,
    /// Per alternative, for the candidate loop: its role (1 evidence, 2 breach), and
    /// [`SUFFICIENT`] when what it is anchored by alone makes it hold (it has only
    /// `keywords`, only `cameo`, only `topics` or only `kinds`, so that being visited means
    /// it holds).
    alt_flags: Vec<u8>,
    /// Per phrase, the alternatives it anchors as (party, alternative), sorted: keyed by
    /// party like the structural anchors, so that a report visits only the alternatives
    /// of commitments its actors can be in scope for.
    by_phrase: PhraseAnchors,
    by_anchor: HashMap<(Anchor, u64), Vec<u32>, FnvBuild>,
    by_topic: HashMap<String, Vec<u32>, FnvBuild>,
    /// The parties (sorted) of every commitment with a phrase in any alternative: a
    /// report none of whose actors is one of them cannot be in scope of a commitment whose
    /// outcome depends on its text, so its text is not searched at all.
    text_parties: TextNeed,
}

/// FNV-1a for the matcher's small keys (an anchor and a party, a topic): a keyed hash
/// costs more than the lookup, and the keys are the rules', not an attacker's.
#[derive(Debug, Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

/// The alternatives each phrase anchors, by party, packed flat: phrase `p`'s parties are
/// `parties[starts[p]..starts[p + 1]]`, each with the end of its alternatives in `alts`
/// (its start is the previous party's end, or the phrase's first). One look-up of a found
/// phrase and an actor reads a few neighbouring words instead of searching a list.
#[derive(Debug, Default)]
struct PhraseAnchors {
    starts: Vec<u32>,
    /// (party, end in `alts`).
    parties: Vec<(u64, u32)>,
    alts: Vec<u32>,
    /// Per phrase, where its alternatives start in `alts`.
    first_alt: Vec<u32>,
}

impl PhraseAnchors {
    /// From per-phrase lists of (party, alternative), each sorted.
    fn new(lists: Vec<Vec<(u64, u32)>>) -> PhraseAnchors {
        let mut out = PhraseAnchors::default();
        for list in lists {
            let first = out.parties.len();
            out.starts.push(first as u32);
            out.first_alt.push(out.alts.len() as u32);
            for (party, alt) in list {
                out.alts.push(alt);
                let end = out.alts.len() as u32;
                let ours = out.parties.len() > first;
                match out.parties.last_mut() {
                    Some(last) if ours && last.0 == party => last.1 = end,
                    _ => out.parties.push((party, end)),
                }
            }
        }
        out.starts.push(out.parties.len() as u32);
        out
    }

    /// The alternatives phrase `p` anchors for `party`.
    fn get(&self, p: usize, party: u64) -> &[u32] {
        let (Some(&from), Some(&to)) = (self.starts.get(p), self.starts.get(p + 1)) else {
            return &[];
        };
        let parties = &self.parties[from as usize..to as usize];
        // sorted by party: a few are scanned, many searched
        let found = if parties.len() <= 16 {
            parties.iter().position(|&(q, _)| q == party)
        } else {
            parties.binary_search_by_key(&party, |&(q, _)| q).ok()
        };
        let Some(i) = found else {
            return &[];
        };
        let start = match i {
            0 => self.first_alt[p],
            _ => parties[i - 1].1,
        };
        &self.alts[start as usize..parties[i].1 as usize]
    }
}

/// The phrases that begin with a word, by that word: a phrase can only be found where a
/// word of the text begins, and then only if that word is its first word (or, for a
/// phrase whose first word is a stem, begins with the stem). One look-up per word of the
/// text replaces a search over every character.
#[derive(Debug, Default)]
struct WordIndex {
    /// Phrases whose first word is followed by a sign, a space or nothing, by that word;
    /// [`WHOLE`] marks a phrase that is that word alone (found when the word is).
    exact: HashMap<Box<str>, Vec<u32>, FnvBuild>,
    /// Phrases whose first word is a stem, by the stem.
    stems: HashMap<Box<str>, Vec<u32>, FnvBuild>,
    /// The byte lengths of the stems, each once.
    stem_lengths: Vec<usize>,
}

impl WordIndex {
    fn new(phrases: &[Phrase]) -> WordIndex {
        let mut index = WordIndex::default();
        for (id, p) in phrases.iter().enumerate().filter(|(_, p)| p.word_start) {
            let first = p.head.find(|c: char| !is_word(c)).unwrap_or(p.head.len());
            let word: Box<str> = p.head[..first].into();
            if first == p.head.len() && !p.rest.is_empty() {
                if !index.stem_lengths.contains(&first) {
                    index.stem_lengths.push(first);
                }
                index.stems.entry(word).or_default().push(id as u32);
            } else {
                let whole = if first == p.head.len() { WHOLE } else { 0 };
                index.exact.entry(word).or_default().push(id as u32 | whole);
            }
        }
        index.stem_lengths.sort_unstable();
        index
    }
}

/// See [`WordIndex::exact`] (phrase ids are far below 2^31).
const WHOLE: u32 = 1 << 31;

/// Reusable per-thread buffers, so matching allocates nothing per report in the common case.
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    phrase_seen: Vec<u32>,
    alt_seen: Vec<u32>,
    found: Vec<u32>,
    candidates: Vec<u32>,
    cameo_keys: [Option<u16>; 3],
    actor_codes: Vec<u32>,
    /// The report's [`party_key`]s: each actor, and each pair of actors.
    actor_keys: Vec<u64>,
    scope_stamp: Vec<u32>,
    scope_mask: Vec<u64>,
    roles: Vec<u8>,
    touched: Vec<u32>,
    stamp: u32,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when `text` is ASCII with no white space but single spaces, so that an ASCII
/// case-insensitive search over it equals a search over its normalized form.
fn is_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    // each test is a pass the compiler vectorizes: far cheaper than a branch per byte
    bytes.is_ascii()
        && !bytes
            .iter()
            .any(|&b| matches!(b, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        && !bytes.windows(2).any(|w| w == b"  ")
}

/// Lower-cases `text` and folds every run of white space into one space.
pub fn normalize(text: &str, out: &mut String) {
    out.clear();
    let mut space = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            space = false;
            if ch.is_ascii() {
                out.push(ch.to_ascii_lowercase());
            } else {
                out.extend(ch.to_lowercase());
            }
        }
    }
}

/// A dense index for a CAMEO prefix of 2-4 digits.
fn cameo_key(code: &str) -> Option<u16> {
    if !(2..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u16 = code.parse().ok()?;
    let offset = match code.len() {
        2 => 0,
        3 => 100,
        _ => 1100,
    };
    Some(offset + value)
}

/// The keys of a report code's 2-, 3- and 4-digit prefixes.
fn cameo_prefix_keys(code: Option<&str>) -> [Option<u16>; 3] {
    let mut keys = [None; 3];
    if let Some(code) = code {
        for (slot, len) in keys.iter_mut().zip(2..=4) {
            if let Some(prefix) = code.get(..len).filter(|_| len <= code.len()) {
                *slot = cameo_key(prefix);
            }
        }
    }
    keys
}

/// See `CompiledRules::alt_flags`.
const SUFFICIENT: u8 = 4;

impl Alternative {
    fn flags(&self) -> u8 {
        let role = match self.role {
            Role::Evidence => 1,
            Role::Breach => 2,
        };
        // The fields it has, one bit each: an alternative with only the field it is
        // anchored by (the first of these it has) holds whenever it is visited.
        let fields = [
            !self.any.is_empty(),
            !self.all.is_empty(),
            !self.none.is_empty(),
            !self.cameo.is_empty(),
            !self.topics.is_empty(),
            !self.all_topics.is_empty(),
            self.kinds != 0,
        ]
        .iter()
        .enumerate()
        .fold(0u8, |acc, (i, &has)| acc | (u8::from(has) << i));
        // keywords alone, cameo alone, topics alone, kinds alone
        let sufficient = matches!(fields, 0b000_0001 | 0b000_1000 | 0b001_0000 | 0b100_0000);
        if sufficient { role | SUFFICIENT } else { role }
    }
}

fn kind_bit(k: Kind) -> u8 {
    1 << (k as u8)
}

impl CompiledRules {
    /// Compiles every matcher of `rules`; fails only when the phrases exceed what the
    /// automaton can hold.
    #[allow(clippy::too_many_lines)] // one pass over every alternative; reworked with the matcher (issue 18)
    pub fn new(rules: &RuleSet) -> Result<CompiledRules, String> {
        let mut phrase_ids: HashMap<String, u32> = HashMap::new();
        let mut phrases: Vec<Phrase> = Vec::new();
        let mut intern = |p: &str| -> u32 {
            let mut norm = String::new();
            normalize(p.trim(), &mut norm);
            if let Some(&id) = phrase_ids.get(&norm) {
                return id;
            }
            let id = phrases.len() as u32;
            phrases.push(Phrase::new(norm.clone()));
            phrase_ids.insert(norm, id);
            id
        };
        let mut alternatives = Vec::new();
        let mut scopes = Vec::new();
        let mut party_pool: Vec<u32> = Vec::new();
        for agreement in &rules.agreements {
            for c in &agreement.commitments {
                let index = scopes.len() as u32;
                scopes.push(Scope {
                    first: party_pool.len() as u32,
                    count: c.parties.len() as u32,
                    follow_up: c.follow_up_by,
                    min_strength: c.min_strength,
                });
                party_pool.extend(c.parties.iter().map(|p| party_code(p)));
                let blocks = [(Role::Evidence, &c.evidence), (Role::Breach, &c.breach)];
                for (role, block) in blocks {
                    for (i, m) in block.iter().enumerate() {
                        alternatives.push(compile_alternative(index, role, i + 1, m, &mut intern));
                    }
                }
            }
        }
        let alt_commitment: Vec<u32> = alternatives.iter().map(|a| a.commitment).collect();
        let text_parties = text_parties(&alternatives, &scopes, &party_pool);
        let alt_flags: Vec<u8> = alternatives.iter().map(Alternative::flags).collect();
        let mut by_phrase = vec![Vec::new(); phrases.len()];
        let mut by_anchor: HashMap<(Anchor, u64), Vec<u32>, FnvBuild> = HashMap::default();
        let mut by_topic: HashMap<String, Vec<u32>, FnvBuild> = HashMap::default();
        for (i, alt) in alternatives.iter().enumerate() {
            let i = i as u32;
            // Anchors are also keyed by party, so that a report only visits the
            // alternatives of commitments it can be in scope for.
            let scope: &Scope = &scopes[alt.commitment as usize];
            let all = &party_pool[scope.first as usize..(scope.first + scope.count) as usize];
            let parties = scope_keys(scope.follow_up, all);
            let mut anchor = |a: Anchor| {
                for &party in &parties {
                    by_anchor.entry((a, party)).or_default().push(i);
                }
            };
            let mut phrase_anchor = |p: u32| {
                let list: &mut Vec<(u64, u32)> = &mut by_phrase[p as usize];
                list.extend(parties.iter().map(|&party| (party, i)));
            };
            if !alt.any.is_empty() {
                for &p in &alt.any {
                    phrase_anchor(p);
                }
            } else if let Some(&p) = alt.all.first() {
                phrase_anchor(p);
            } else if !alt.cameo.is_empty() {
                for &key in &alt.cameo {
                    anchor(Anchor::Cameo(key));
                }
            } else if !alt.topics.is_empty() {
                for t in &alt.topics {
                    by_topic.entry(t.clone()).or_default().push(i);
                }
            } else if let Some(t) = alt.all_topics.first() {
                by_topic.entry(t.clone()).or_default().push(i);
            } else if alt.kinds != 0 {
                for k in Kind::ALL {
                    if alt.kinds & kind_bit(k) != 0 {
                        anchor(Anchor::Kind(k));
                    }
                }
            } else {
                anchor(Anchor::Always);
            }
        }
        for list in by_anchor.values_mut().chain(by_topic.values_mut()) {
            list.dedup();
        }
        for list in &mut by_phrase {
            list.sort_unstable();
            list.dedup();
        }
        let words = WordIndex::new(&phrases);
        let signs: Vec<u32> = (0..phrases.len() as u32)
            .filter(|&p| !phrases[p as usize].word_start)
            .collect();
        let automaton = if signs.is_empty() {
            None
        } else {
            let built = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(signs.iter().map(|&p| phrases[p as usize].head.as_str()))
                .map_err(|e| format!("cannot compile the {} rule phrases: {e}", signs.len()))?;
            Some((built, signs))
        };
        Ok(CompiledRules {
            words,
            automaton,
            phrases,
            alternatives,
            scopes,
            party_pool,
            alt_commitment,
            alt_flags,
            by_phrase: PhraseAnchors::new(by_phrase),
            by_anchor,
            by_topic,
            text_parties,
        })
    }

    /// The parties whose reports' text can matter: the matcher searches no other report's
    /// text, and a reader may leave it out ([`TextNeed`]).
    pub fn text_need(&self) -> &TextNeed {
        &self.text_parties
    }

    /// The number of distinct phrases over all rules.
    pub fn phrase_count(&self) -> usize {
        self.phrases.len()
    }

    /// Classifies `report` against every commitment: one [`Hit`] per commitment it is
    /// evidence, talk or breach for, within that commitment's actor scope.
    pub fn match_report(&self, report: &Report, scratch: &mut Scratch) -> Vec<Hit> {
        self.candidates(report, scratch);
        self.hits(report, scratch)
    }

    /// The hits of the commitments `settle` left in `scratch.touched`.
    fn hits(&self, report: &Report, scratch: &Scratch) -> Vec<Hit> {
        scratch
            .touched
            .iter()
            .map(|&commitment| {
                let c = commitment as usize;
                let class = if scratch.roles[c] & 2 != 0 {
                    Class::Breach
                } else if report.kind >= self.scopes[c].min_strength {
                    Class::Evidence
                } else {
                    Class::Talk
                };
                Hit {
                    commitment,
                    class,
                    parties: scratch.scope_mask[c],
                }
            })
            .collect()
    }

    /// Which alternatives (and which of their phrases) hold for `report`, for `explain`.
    pub fn explain_report(&self, report: &Report, scratch: &mut Scratch) -> Vec<MatchDetail> {
        self.candidates(report, scratch);
        let found = scratch.found.clone();
        let mut out: Vec<MatchDetail> = scratch
            .candidates
            .iter()
            .filter(|&&a| self.holds(&self.alternatives[a as usize], report, scratch))
            .map(|&a| {
                let alt = &self.alternatives[a as usize];
                let phrases = alt
                    .any
                    .iter()
                    .chain(&alt.all)
                    .filter(|p| found.contains(p))
                    .map(|&p| self.phrases[p as usize].text.clone())
                    .collect();
                MatchDetail {
                    commitment: alt.commitment,
                    breach: matches!(alt.role, Role::Breach),
                    alternative: alt.number,
                    phrases,
                }
            })
            .collect();
        out.sort_by_key(|d| (d.commitment, d.breach, d.alternative));
        out
    }

    /// Fills `scratch.found` with the phrases present, `scratch.candidates` with the
    /// alternatives visited, and `scratch.touched`, `roles` and `scope_mask` with the
    /// in-scope commitments whose evidence (role 1) or breach (role 2) alternatives hold.
    fn candidates(&self, report: &Report, scratch: &mut Scratch) {
        self.search(report, scratch);
        self.visit(report, scratch);
        self.settle(report, scratch);
    }

    /// Starts a report: a new stamp, the report's actors as party codes and CAMEO prefix
    /// keys, and the phrases found in its title and body (`scratch.found`, in the order
    /// found, and `phrase_seen`).
    fn search(&self, report: &Report, scratch: &mut Scratch) {
        scratch.stamp = scratch.stamp.wrapping_add(1);
        if scratch.stamp == 0 {
            scratch.phrase_seen.fill(0);
            scratch.alt_seen.fill(0);
            scratch.scope_stamp.fill(0);
            scratch.stamp = 1;
        }
        scratch.phrase_seen.resize(self.phrases.len(), 0);
        scratch.alt_seen.resize(self.alternatives.len(), 0);
        scratch.scope_stamp.resize(self.scopes.len(), 0);
        scratch.scope_mask.resize(self.scopes.len(), 0);
        scratch.roles.resize(self.scopes.len(), 0);
        scratch.found.clear();
        scratch.candidates.clear();
        scratch.actor_codes.clear();
        scratch
            .actor_codes
            .extend(report.actors.iter().map(|a| party_code(a)));
        actor_keys(&scratch.actor_codes, &mut scratch.actor_keys);
        scratch.cameo_keys = cameo_prefix_keys(report.cameo.as_deref());
        if self.phrases.is_empty() || !self.text_parties.wants_codes(&scratch.actor_codes) {
            return;
        }
        for text in [&report.title, &report.body] {
            if text.is_empty() {
                continue;
            }
            // Plain ASCII text with single spaces only needs lower-casing; anything else is
            // normalized.
            let mut hay = std::mem::take(&mut scratch.text);
            if is_plain(text) {
                hay.clear();
                hay.push_str(text);
                hay.make_ascii_lowercase();
            } else {
                normalize(text, &mut hay);
            }
            self.find_words(&hay, scratch);
            if let Some((ac, ids)) = &self.automaton {
                for m in ac.find_overlapping_iter(hay.as_str()) {
                    let id = ids[m.pattern().as_usize()];
                    if self.phrases[id as usize].starts_at(&hay, m.start()) {
                        self.found_at(&hay, m.start(), id, scratch);
                    }
                }
            }
            scratch.text = hay;
        }
    }

    /// Finds the phrases that begin with a word in `hay` (normalized), word by word.
    fn find_words(&self, hay: &str, scratch: &mut Scratch) {
        let mut chars = hay.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if !is_word(c) {
                continue;
            }
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !is_word(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            let word = &hay[start..end];
            if let Some(ids) = self.words.exact.get(word) {
                for &id in ids {
                    if id & WHOLE != 0 {
                        found(id & !WHOLE, scratch);
                    } else {
                        self.found_at(hay, start, id, scratch);
                    }
                }
            }
            for &len in &self.words.stem_lengths {
                if let Some(ids) = word.get(..len).and_then(|w| self.words.stems.get(w)) {
                    for &id in ids {
                        self.found_at(hay, start, id, scratch);
                    }
                }
            }
        }
    }

    /// Notes phrase `id` as found when it occurs in `hay` at byte `start`, where a word
    /// boundary is (or where the phrase needs none).
    fn found_at(&self, hay: &str, start: usize, id: u32, scratch: &mut Scratch) {
        if scratch.phrase_seen[id as usize] == scratch.stamp {
            return;
        }
        let p = &self.phrases[id as usize];
        let end = start + p.head.len();
        if hay.as_bytes().get(start..end) == Some(p.head.as_bytes())
            && p.continues(hay, end).is_some()
        {
            found(id, scratch);
        }
    }

    /// Lists in `scratch.candidates` the alternatives anchored by what the report has: a
    /// phrase found, a CAMEO prefix, its kind or a topic (keyed by its actors).
    fn visit(&self, report: &Report, scratch: &mut Scratch) {
        let stamp = scratch.stamp;
        let visit = |alt: u32, scratch: &mut Scratch| {
            if scratch.alt_seen[alt as usize] != stamp {
                scratch.alt_seen[alt as usize] = stamp;
                scratch.candidates.push(alt);
            }
        };
        for i in 0..scratch.found.len() {
            let phrase = scratch.found[i] as usize;
            for a in 0..scratch.actor_keys.len() {
                for &alt in self.by_phrase.get(phrase, scratch.actor_keys[a]) {
                    visit(alt, scratch);
                }
            }
        }
        let keys = scratch.cameo_keys;
        let anchors = keys
            .iter()
            .flatten()
            .map(|&k| Anchor::Cameo(k))
            .chain([Anchor::Kind(report.kind), Anchor::Always]);
        for anchor in anchors {
            for i in 0..scratch.actor_keys.len() {
                if let Some(list) = self.by_anchor.get(&(anchor, scratch.actor_keys[i])) {
                    for &alt in list {
                        visit(alt, scratch);
                    }
                }
            }
        }
        if !self.by_topic.is_empty() {
            for topic in &report.topics {
                if let Some(list) = self.by_topic.get(&topic.to_lowercase()) {
                    for &alt in list {
                        visit(alt, scratch);
                    }
                }
            }
        }
    }

    /// Checks the candidates: fills `scratch.touched`, `roles` and `scope_mask` with the
    /// in-scope commitments whose evidence or breach alternatives hold.
    fn settle(&self, report: &Report, scratch: &mut Scratch) {
        let stamp = scratch.stamp;
        scratch.touched.clear();
        for i in 0..scratch.candidates.len() {
            let a = scratch.candidates[i] as usize;
            let c = self.alt_commitment[a] as usize;
            if scratch.scope_stamp[c] != stamp {
                scratch.scope_stamp[c] = stamp;
                let scope = &self.scopes[c];
                let parties =
                    &self.party_pool[scope.first as usize..(scope.first + scope.count) as usize];
                scratch.scope_mask[c] =
                    in_scope(scope.follow_up, parties, &scratch.actor_codes).unwrap_or(0);
                scratch.roles[c] = 0;
            }
            let flags = self.alt_flags[a];
            let role = flags & 3;
            // Out of actor scope, or this role already established: nothing to learn.
            if scratch.scope_mask[c] == 0 || scratch.roles[c] & role != 0 {
                continue;
            }
            // an alternative of phrases only is visited only through a phrase found
            if flags & SUFFICIENT != 0 || self.holds(&self.alternatives[a], report, scratch) {
                if scratch.roles[c] == 0 {
                    scratch.touched.push(c as u32);
                }
                scratch.roles[c] |= role;
            }
        }
    }

    fn holds(&self, alt: &Alternative, report: &Report, scratch: &Scratch) -> bool {
        let present = |p: &u32| scratch.phrase_seen[*p as usize] == scratch.stamp;
        if !alt.cameo.is_empty()
            && !scratch
                .cameo_keys
                .iter()
                .flatten()
                .any(|k| alt.cameo.contains(k))
        {
            return false;
        }
        if alt.kinds != 0 && alt.kinds & kind_bit(report.kind) == 0 {
            return false;
        }
        if !topics_hold(&alt.topics, &alt.all_topics, &report.topics) {
            return false;
        }
        (alt.any.is_empty() || alt.any.iter().any(present))
            && alt.all.iter().all(present)
            && !alt.none.iter().any(present)
    }
}

fn compile_alternative(
    commitment: u32,
    role: Role,
    number: usize,
    m: &Matcher,
    intern: &mut impl FnMut(&str) -> u32,
) -> Alternative {
    let mut ids = |list: &[String]| {
        let mut v: Vec<u32> = list.iter().map(|p| intern(p)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    Alternative {
        commitment,
        role,
        number,
        cameo: m.cameo.iter().filter_map(|c| cameo_key(c)).collect(),
        kinds: m.kinds.iter().fold(0, |acc, &k| acc | kind_bit(k)),
        topics: m.topics.iter().map(|t| t.to_lowercase()).collect(),
        all_topics: m.all_topics.iter().map(|t| t.to_lowercase()).collect(),
        any: ids(&m.keywords),
        all: ids(&m.all_keywords),
        none: ids(&m.not_keywords),
    }
}

/// True when the report's topics (any case) include one of `any` (unless it is empty)
/// and every one of `all`; both lists are lower case.
pub fn topics_hold(any: &[String], all: &[String], report: &[String]) -> bool {
    let has = |t: &String| report.iter().any(|r| r.to_lowercase() == *t);
    (any.is_empty() || any.iter().any(has)) && all.iter().all(has)
}

/// Notes phrase `id` as found in the report being matched (once).
fn found(id: u32, scratch: &mut Scratch) {
    if scratch.phrase_seen[id as usize] != scratch.stamp {
        scratch.phrase_seen[id as usize] = scratch.stamp;
        scratch.found.push(id);
    }
}

/// A party code as an anchor key: one party, or an unordered pair of parties.
fn party_key(a: u32, b: Option<u32>) -> u64 {
    match b {
        None => u64::from(a),
        Some(b) => 1 << 63 | u64::from(a.min(b)) << 32 | u64::from(a.max(b)),
    }
}

/// The keys a commitment's alternatives are anchored under: each party, when one of them
/// brings a report in scope; the first two (distinct) parties as a pair, for a joint
/// commitment (a report in its scope names both), so that a report of one of them alone
/// does not visit it.
fn scope_keys(follow_up: FollowUp, parties: &[u32]) -> Vec<u64> {
    match follow_up {
        FollowUp::Any | FollowUp::Each => parties.iter().map(|&p| party_key(p, None)).collect(),
        FollowUp::Joint => {
            let first = parties.first().copied();
            let second = parties.iter().copied().find(|&p| Some(p) != first);
            match (first, second) {
                (Some(a), Some(b)) => vec![party_key(a, Some(b))],
                (Some(a), None) => vec![party_key(a, None)],
                (None, _) => Vec::new(),
            }
        }
    }
}

/// A report's anchor keys: each actor, and each pair of distinct actors.
fn actor_keys(actors: &[u32], out: &mut Vec<u64>) {
    out.clear();
    out.extend(actors.iter().map(|&a| party_key(a, None)));
    for (i, &a) in actors.iter().enumerate() {
        for &b in &actors[i + 1..] {
            if a != b {
                out.push(party_key(a, Some(b)));
            }
        }
    }
}

/// The party mask of a report (its actors as party codes) for a commitment, or `None` when it is out of actor scope.
fn in_scope(follow_up: FollowUp, parties: &[u32], actors: &[u32]) -> Option<u64> {
    let mut mask = 0u64;
    for (i, party) in parties.iter().enumerate() {
        if actors.contains(party) {
            mask |= 1 << i;
        }
    }
    let full = if parties.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << parties.len()) - 1
    };
    match follow_up {
        FollowUp::Joint => (mask == full).then_some(mask),
        FollowUp::Any | FollowUp::Each => (mask != 0).then_some(mask),
    }
}

/// The parties of the commitments that have an alternative with a phrase (in
/// `keywords`, `all_keywords` or `not_keywords`).
fn text_parties(alternatives: &[Alternative], scopes: &[Scope], party_pool: &[u32]) -> TextNeed {
    let parties: Vec<u32> = alternatives
        .iter()
        .filter(|a| !(a.any.is_empty() && a.all.is_empty() && a.none.is_empty()))
        .flat_map(|a| {
            let scope = &scopes[a.commitment as usize];
            &party_pool[scope.first as usize..(scope.first + scope.count) as usize]
        })
        .copied()
        .collect();
    TextNeed::of_codes(parties)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::rules::load_str;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use std::path::Path;

    /// A one-agreement rule set (parties KGZ and TJK) with the given commitment blocks.
    pub(crate) fn rules(commitments: &str) -> RuleSet {
        let text = format!(
            "[agreement]\nid = \"a\"\ntitle = \"A\"\nparties = [\"KGZ\", \"TJK\"]\nsigned = 2007-09-18\n{commitments}"
        );
        let a = load_str(Path::new("t.toml"), &text).unwrap_or_else(|e| panic!("{e:?}"));
        RuleSet {
            agreements: vec![a],
        }
    }

    /// A report of 2010-01-01 with the topic "Border".
    pub(crate) fn report(
        kind: Kind,
        actors: &[&str],
        cameo: Option<&str>,
        title: &str,
        body: &str,
    ) -> Report {
        Report {
            id: "x".into(),
            date: NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            actors: actors.iter().map(|a| a.to_string()).collect(),
            kind,
            cameo: cameo.map(str::to_string),
            title: title.into(),
            body: body.into(),
            topics: vec!["Border".into()],
            source: None,
            url: None,
            reported: None,
        }
    }

    fn classes(rules: &RuleSet, r: &Report) -> Vec<(u32, Class, u64)> {
        let c = CompiledRules::new(rules).unwrap();
        c.match_report(r, &mut Scratch::default())
            .into_iter()
            .map(|h| (h.commitment, h.class, h.parties))
            .collect()
    }

    const KEYWORD: &str = "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n\
        [[commitment.evidence]]\nkeywords = [\"joint  exercise\", \"U.S.\", \"exercise\"]\n";

    #[test]
    fn keywords_respect_word_boundaries_and_white_space() {
        let set = rules(KEYWORD);
        let hit = |title: &str| {
            !classes(
                &set,
                &report(Kind::Action, &["KGZ", "TJK"], None, title, ""),
            )
            .is_empty()
        };
        assert!(hit("A JOINT\n\t EXERCISE was held"));
        assert!(hit("exercise."));
        assert!(hit("(exercise)"));
        assert!(!hit("exercises were held"), "plural is another word");
        assert!(!hit("pre-exercis"));
        assert!(!hit("counterexercise"));
        assert!(!hit("exercise_2"), "underscore joins words");
        assert!(hit("the U.S. and others"), "phrase ending in punctuation");
        assert!(hit("Übung exercise"));
    }

    #[test]
    fn stems_match_inflected_words_in_russian_tajik_kyrgyz_and_latin() {
        let set = rules(
            "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n[[commitment.evidence]]\n\
             keywords = [\"демаркац* границ*\", \"border demarcat*\", \"марзи давлат*\", \"чек ара*\", \"séance plénièr*\"]\n",
        );
        let compiled = CompiledRules::new(&set).unwrap();
        let hit = |title: &str| {
            let r = report(Kind::Meeting, &["KGZ", "TJK"], None, title, "");
            !compiled
                .match_report(&r, &mut Scratch::default())
                .is_empty()
        };
        for yes in [
            // Russian: the case endings of демаркация and граница
            "Стороны обсудили демаркацию границы",
            "Завершена ДЕМАРКАЦИЯ  ГРАНИЦЫ между странами",
            "о демаркации границ",
            "демаркац границ",
            // Latin, any case, the stem alone too
            "Kyrgyz-Tajik Border Demarcation talks",
            "border demarcat",
            "they are border demarcating",
            // Tajik (Cyrillic with extra letters) and Kyrgyz
            "Масъалаҳои марзи давлатӣ баррасӣ шуд",
            "Кыргыз-тажик чек арасы боюнча сүйлөшүүлөр",
            // Latin with diacritics, upper case folded
            "La SÉANCE PLÉNIÈRE s'est tenue",
        ] {
            assert!(hit(yes), "{yes}");
        }
        for no in [
            "демаркационная линия фронта", // the second word is missing
            "демаркация, границы",         // not a run of white space between the words
            "редемаркация границы",        // no word boundary before the stem
            "border demarc",               // shorter than the stem
        ] {
            assert!(!hit(no), "{no}");
        }
        assert!(
            hit("border demarcation-line"),
            "the stem ends at a non-word character"
        );
    }

    #[test]
    fn misplaced_stars_are_rule_errors() {
        for bad in ["d*", "*border", "demar*cation", "a b*", "border**", "x *"] {
            let text = format!(
                "[agreement]\nid = \"a\"\ntitle = \"A\"\nparties = [\"KGZ\"]\nsigned = 2007-09-18\n\
                 [[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n[[commitment.evidence]]\nkeywords = [{bad:?}]\n"
            );
            let e =
                crate::engine::rules::load_str(std::path::Path::new("r.toml"), &text).unwrap_err();
            assert!(e[0].message.contains('*'), "{bad}: {e:?}");
            assert_eq!(e[0].line, 11, "{bad}");
        }
    }

    /// Phrases of a few words from a small vocabulary (with stems, signs and non-ASCII
    /// letters), and texts of the same words in any case, spacing and punctuation.
    fn arb_phrase() -> impl Strategy<Value = String> {
        let word = prop::sample::select(vec![
            "border", "bord", "talks", "u.s.", "a", "ab", "ош", "Ош", "démarc", "x_y", "1999",
        ]);
        let stem = prop::bool::weighted(0.3);
        prop::collection::vec((word, stem), 1..3).prop_map(|words| {
            let last = words.len() - 1;
            let mut out = String::new();
            for (i, (w, stem)) in words.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(w);
                // a stem ends a word of two word characters or more
                if stem && (i == last) && w.chars().count() >= 2 && w.chars().all(is_word) {
                    out.push('*');
                }
            }
            out
        })
    }

    fn arb_text() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "border",
            "BORDERS",
            "bord",
            "talks",
            "U.S.",
            "u.s.a",
            "a",
            "ab",
            "abc",
            "ОШ",
            "ош",
            "Démarcation",
            "x_y",
            "1999",
            " ",
            "  ",
            "\n",
            ", ",
            "-",
            ".",
            "é",
        ]);
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The one-pass search (phrases looked up by the words of the text) finds exactly
        /// the phrases that a search for each phrase alone finds.
        #[test]
        fn one_pass_search_finds_what_each_phrase_alone_finds(
            phrases in prop::collection::vec(arb_phrase(), 1..6),
            text in arb_text(),
        ) {
            let list: Vec<String> = phrases.iter().map(|p| format!("{p:?}")).collect();
            let set = rules(&format!(
                "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n\
                 [[commitment.evidence]]\nkeywords = [{}]\n",
                list.join(", ")
            ));
            let compiled = CompiledRules::new(&set).unwrap();
            let r = report(Kind::Action, &["KGZ", "TJK"], None, &text, "");
            let mut scratch = Scratch::default();
            compiled.search(&r, &mut scratch);
            let mut found: Vec<&str> = scratch
                .found
                .iter()
                .map(|&p| compiled.phrases[p as usize].text.as_str())
                .collect();
            found.sort_unstable();
            let mut alone: Vec<&str> = compiled
                .phrases
                .iter()
                .map(|p| p.text.as_str())
                .filter(|p| find_phrase(p, &text).is_some())
                .collect();
            alone.sort_unstable();
            prop_assert_eq!(found, alone, "text {:?}", text);
        }
    }

    /// One alternative: keywords, all_keywords, not_keywords, cameo, kinds, topics, all_topics.
    type AltSpec = [Vec<&'static str>; 7];

    fn arb_alternative() -> impl Strategy<Value = AltSpec> {
        let phrases = || prop::collection::vec(arb_phrase_word(), 0..3);
        let cameo = prop::collection::vec(
            prop::sample::select(vec!["01", "19", "190", "1901", "04", "042"]),
            0..3,
        );
        let kinds = prop::collection::vec(
            prop::sample::select(Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()),
            0..3,
        );
        let topics = || prop::collection::vec(prop::sample::select(vec!["Border", "water"]), 0..2);
        (
            phrases(),
            phrases(),
            phrases(),
            cameo,
            kinds,
            topics(),
            topics(),
        )
            .prop_map(|(any, all, none, cameo, kinds, topics, all_topics)| {
                let mut alt = [any, all, none, cameo, kinds, topics, all_topics];
                for list in &mut alt {
                    list.sort_unstable();
                    list.dedup();
                }
                if alt.iter().all(Vec::is_empty) {
                    alt[0].push("border");
                }
                alt
            })
    }

    fn arb_phrase_word() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "border",
            "bord*",
            "talks",
            "u.s.",
            "ош",
            "border talks",
        ])
    }

    /// One commitment: its parties, follow_up_by, min_strength, evidence and breach.
    type CommitmentSpec = (
        Vec<&'static str>,
        &'static str,
        Kind,
        Vec<AltSpec>,
        Vec<AltSpec>,
    );

    fn arb_commitment() -> impl Strategy<Value = CommitmentSpec> {
        (
            // a subset of the agreement's parties, in any order
            Just(vec!["KGZ", "TJK", "UZB"])
                .prop_shuffle()
                .prop_flat_map(|p| (1..=3usize).prop_map(move |n| p[..n].to_vec())),
            prop::sample::select(vec!["any", "joint", "each"]),
            // incident is the weakest kind, not a strength to reach
            prop::sample::select(
                Kind::ALL
                    .into_iter()
                    .filter(|&k| k != Kind::Incident)
                    .collect::<Vec<_>>(),
            ),
            prop::collection::vec(arb_alternative(), 1..3),
            prop::collection::vec(arb_alternative(), 0..2),
        )
    }

    fn alternative_toml(block: &str, alt: &AltSpec) -> String {
        let names = [
            "keywords",
            "all_keywords",
            "not_keywords",
            "cameo",
            "kinds",
            "topics",
            "all_topics",
        ];
        let mut out = format!("[[commitment.{block}]]\n");
        for (name, list) in names.iter().zip(alt) {
            if !list.is_empty() {
                let quoted: Vec<String> = list.iter().map(|v| format!("{v:?}")).collect();
                out.push_str(&format!("{name} = [{}]\n", quoted.join(", ")));
            }
        }
        out
    }

    /// The documented semantics of one alternative, field by field, each phrase searched
    /// for alone: the oracle the compiled matcher is checked against.
    fn naive_holds(alt: &AltSpec, r: &Report) -> bool {
        let found = |p: &&str| {
            find_phrase(p, &r.title)
                .or_else(|| find_phrase(p, &r.body))
                .is_some()
        };
        let code = r.cameo.as_deref().unwrap_or("");
        let topic = |t: &&str| r.topics.iter().any(|x| x.eq_ignore_ascii_case(t));
        let [any, all, none, cameo, kinds, topics, all_topics] = alt;
        (any.is_empty() || any.iter().any(found))
            && all.iter().all(found)
            && !none.iter().any(found)
            && (cameo.is_empty() || cameo.iter().any(|c| code.starts_with(c)))
            && (kinds.is_empty() || kinds.contains(&r.kind.as_str()))
            && (topics.is_empty() || topics.iter().any(topic))
            && all_topics.iter().all(topic)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The compiled matcher (one pass, anchors, alternatives that hold by their anchor
        /// alone) classifies every report as the field-by-field semantics say.
        #[test]
        fn the_matcher_agrees_with_the_semantics_field_by_field(
            commitments in prop::collection::vec(arb_commitment(), 1..5),
            reports in prop::collection::vec((
                prop::sample::select(Kind::ALL.to_vec()),
                prop::sample::subsequence(vec!["KGZ", "TJK", "UZB", "AFG"], 1..=4).prop_shuffle(),
                prop::sample::select(vec![None, Some("0101"), Some("190"), Some("1901"), Some("04"), Some("0421")]),
                arb_text(),
                arb_text(),
                prop::collection::vec(prop::sample::select(vec!["border", "Water", "x"]), 0..3),
            ), 1..8),
        ) {
            let mut text = String::from(
                "[agreement]\nid = \"a\"\ntitle = \"A\"\nparties = [\"KGZ\", \"TJK\", \"UZB\"]\nsigned = 2007-09-18\n",
            );
            for (i, (parties, follow, strength, evidence, breach)) in commitments.iter().enumerate() {
                text.push_str(&format!(
                    "[[commitment]]\nid = \"c{i}\"\ntitle = \"C\"\nwindow = \"1y\"\nparties = {parties:?}\nfollow_up_by = \"{follow}\"\nmin_strength = \"{}\"\n",
                    strength.as_str()
                ));
                for alt in evidence {
                    text.push_str(&alternative_toml("evidence", alt));
                }
                for alt in breach {
                    text.push_str(&alternative_toml("breach", alt));
                }
            }
            let set = RuleSet {
                agreements: vec![load_str(Path::new("t.toml"), &text).unwrap_or_else(|e| panic!("{e:?}\n{text}"))],
            };
            let compiled = CompiledRules::new(&set).unwrap();
            let mut scratch = Scratch::default();
            for (kind, actors, cameo, title, body, topics) in reports {
                let mut r = report(kind, &actors, cameo, &title, &body);
                r.topics = topics.iter().map(|t| t.to_string()).collect();
                let mut got: Vec<(u32, Class, u64)> = compiled
                    .match_report(&r, &mut scratch)
                    .into_iter()
                    .map(|h| (h.commitment, h.class, h.parties))
                    .collect();
                got.sort_unstable();
                let mut want = Vec::new();
                for (i, (parties, follow, strength, evidence, breach)) in commitments.iter().enumerate() {
                    let mask = parties
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| actors.contains(p))
                        .fold(0u64, |m, (b, _)| m | 1 << b);
                    let full = (1u64 << parties.len()) - 1;
                    let in_scope = if *follow == "joint" { mask == full } else { mask != 0 };
                    let class = if breach.iter().any(|a| naive_holds(a, &r)) {
                        Class::Breach
                    } else if !evidence.iter().any(|a| naive_holds(a, &r)) {
                        continue;
                    } else if r.kind >= *strength {
                        Class::Evidence
                    } else {
                        Class::Talk
                    };
                    if in_scope {
                        want.push((i as u32, class, mask));
                    }
                }
                prop_assert_eq!(got, want, "report {:?}\nrules {}", r, text);
            }
        }
    }

    #[test]
    fn overlapping_phrases_are_all_found() {
        let set = rules(
            "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n[[commitment.evidence]]\n\
             all_keywords = [\"border\", \"border treaty\", \"treaty\"]\n",
        );
        let r = report(
            Kind::Action,
            &["KGZ", "TJK"],
            None,
            "Border treaty signed",
            "",
        );
        assert_eq!(classes(&set, &r).len(), 1);
        let r = report(Kind::Action, &["KGZ", "TJK"], None, "Borders treaty", "");
        assert!(classes(&set, &r).is_empty());
    }

    #[test]
    fn title_and_body_are_matched_separately() {
        let set = rules(KEYWORD);
        let r = report(
            Kind::Action,
            &["KGZ", "TJK"],
            None,
            "a joint",
            "exercise plan",
        );
        // "exercise" alone is in the body, so it matches; check the two-word phrase alone:
        let only_phrase = rules(
            "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n[[commitment.evidence]]\nkeywords = [\"joint exercise\"]\n",
        );
        assert_eq!(classes(&set, &r).len(), 1);
        assert!(
            classes(&only_phrase, &r).is_empty(),
            "a phrase must not span title and body"
        );
        let r = report(Kind::Action, &["KGZ", "TJK"], None, "", "a joint exercise");
        assert_eq!(classes(&only_phrase, &r).len(), 1);
    }

    #[test]
    fn every_field_of_an_alternative_must_hold() {
        let set = rules(
            "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n[[commitment.evidence]]\n\
             cameo = [\"06\"]\nkinds = [\"action\"]\ntopics = [\"border\"]\nkeywords = [\"patrol\"]\n\
             all_keywords = [\"joint\", \"border\"]\nnot_keywords = [\"cancelled\"]\n",
        );
        let ok = report(
            Kind::Action,
            &["KGZ", "TJK"],
            Some("0611"),
            "Joint border patrol",
            "",
        );
        assert_eq!(classes(&set, &ok).len(), 1);
        let mut r = ok.clone();
        r.cameo = Some("0711".into());
        assert!(classes(&set, &r).is_empty(), "cameo prefix");
        let mut r = ok.clone();
        r.cameo = None;
        assert!(classes(&set, &r).is_empty(), "cameo absent");
        let mut r = ok.clone();
        r.topics = vec!["water".into()];
        assert!(classes(&set, &r).is_empty(), "topic");
        let mut r = ok.clone();
        r.title = "Joint patrol".into();
        assert!(classes(&set, &r).is_empty(), "all_keywords");
        let mut r = ok.clone();
        r.body = "The patrol was cancelled".into();
        assert!(classes(&set, &r).is_empty(), "not_keywords");
        let mut r = ok.clone();
        r.kind = Kind::Agreement;
        assert!(classes(&set, &r).is_empty(), "kinds");
    }

    #[test]
    fn alternatives_are_ored() {
        let set = rules(
            "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n\
             [[commitment.evidence]]\ncameo = [\"062\"]\n[[commitment.evidence]]\ntopics = [\"BORDER\"]\n",
        );
        assert_eq!(
            classes(
                &set,
                &report(Kind::Action, &["KGZ", "TJK"], Some("0621"), "", "")
            )
            .len(),
            1
        );
        let mut r = report(Kind::Action, &["KGZ", "TJK"], None, "", "");
        assert_eq!(classes(&set, &r).len(), 1, "topic, case-insensitive");
        r.topics.clear();
        assert!(classes(&set, &r).is_empty());
    }

    #[test]
    fn actor_scope() {
        let rules_for = |follow: &str| {
            rules(&format!(
                "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\nfollow_up_by = \"{follow}\"\n\
                 [[commitment.evidence]]\nkinds = [\"action\"]\n"
            ))
        };
        let both = report(Kind::Action, &["TJK", "KGZ", "RUS"], None, "", "");
        let one = report(Kind::Action, &["TJK"], None, "", "");
        let none = report(Kind::Action, &["UZB"], None, "", "");
        let joint = rules_for("joint");
        assert_eq!(classes(&joint, &both), vec![(0, Class::Evidence, 0b11)]);
        assert!(classes(&joint, &one).is_empty());
        let any = rules_for("any");
        assert_eq!(classes(&any, &one), vec![(0, Class::Evidence, 0b10)]);
        assert!(classes(&any, &none).is_empty());
        let each = rules_for("each");
        assert_eq!(classes(&each, &one), vec![(0, Class::Evidence, 0b10)]);
        assert_eq!(classes(&each, &both), vec![(0, Class::Evidence, 0b11)]);
    }

    #[test]
    fn breach_wins_and_strength_splits_evidence_from_talk() {
        let set = rules(
            "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\nmin_strength = \"agreement\"\n\
             [[commitment.evidence]]\nkeywords = [\"border\"]\n[[commitment.breach]]\nkeywords = [\"clash\"]\n",
        );
        let at = |kind: Kind, title: &str| {
            classes(&set, &report(kind, &["KGZ", "TJK"], None, title, ""))
        };
        assert_eq!(
            at(Kind::Agreement, "border deal"),
            vec![(0, Class::Evidence, 3)]
        );
        assert_eq!(
            at(Kind::Action, "border posts"),
            vec![(0, Class::Evidence, 3)]
        );
        assert_eq!(at(Kind::Meeting, "border talks"), vec![(0, Class::Talk, 3)]);
        assert_eq!(
            at(Kind::Incident, "border"),
            vec![(0, Class::Talk, 3)],
            "an incident is never evidence"
        );
        assert_eq!(
            at(Kind::Agreement, "border clash"),
            vec![(0, Class::Breach, 3)]
        );
        assert!(at(Kind::Agreement, "nothing here").is_empty());
    }

    #[test]
    fn explain_names_alternative_and_phrases() {
        let set = rules(KEYWORD);
        let c = CompiledRules::new(&set).unwrap();
        let r = report(Kind::Action, &["KGZ", "TJK"], None, "joint exercise", "");
        let d = c.explain_report(&r, &mut Scratch::default());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].alternative, 1);
        assert!(!d[0].breach);
        assert_eq!(
            d[0].phrases,
            vec!["joint exercise".to_string(), "exercise".to_string()]
        );
    }

    #[test]
    fn text_is_searched_only_for_reports_a_phrase_commitment_can_scope() {
        let set = rules(
            "[[commitment]]\nid = \"words\"\ntitle = \"W\"\nparties = [\"KGZ\"]\nwindow = \"1y\"\n\
             [[commitment.evidence]]\nkeywords = [\"water\"]\n\
             [[commitment]]\nid = \"codes\"\ntitle = \"C\"\nparties = [\"TJK\"]\nwindow = \"1y\"\n\
             [[commitment.evidence]]\ncameo = [\"03\"]\n\
             [[commitment]]\nid = \"codes-unless\"\ntitle = \"U\"\nparties = [\"KGZ\"]\nwindow = \"1y\"\n\
             [[commitment.evidence]]\ncameo = [\"03\"]\nnot_keywords = [\"cancelled\"]\n",
        );
        let c = CompiledRules::new(&set).unwrap();
        assert_eq!(c.text_parties, TextNeed::of_codes(vec![party_code("KGZ")]));
        assert!(
            c.text_parties
                .wants_codes(&[party_code("TJK"), party_code("KGZ")])
        );
        assert!(
            !c.text_parties
                .wants_codes(&[party_code("TJK"), party_code("UZB")])
        );
        let at = |actors: &[&str], title: &str| {
            classes(&set, &report(Kind::Action, actors, Some("036"), title, ""))
        };
        // TJK only: the structural commitment holds whatever the text says
        assert_eq!(
            at(&["TJK"], "water cancelled"),
            vec![(1, Class::Evidence, 1)]
        );
        // KGZ: the text decides both of its commitments
        assert_eq!(
            at(&["KGZ"], "water"),
            vec![(0, Class::Evidence, 1), (2, Class::Evidence, 1)]
        );
        assert_eq!(at(&["KGZ"], "talks cancelled"), vec![]);
        let d = c.explain_report(
            &report(Kind::Action, &["TJK"], Some("036"), "water", ""),
            &mut Scratch::default(),
        );
        assert_eq!(d.len(), 1);
        assert!(d[0].phrases.is_empty());
    }
}
