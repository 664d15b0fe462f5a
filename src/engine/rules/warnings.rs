//! What `check` warns about: rules that are valid but almost surely not what the analyst
//! meant. Each warning is located like an error (`path:line:column`) and says what the rule
//! does as written.

use super::{Commitment, MATCHER_KEYS, Matcher, Timing};
use crate::engine::matcher::normalize;
use crate::engine::toml_fields::{Problems, Section};
use std::collections::HashMap;
use std::ops::Range;

/// Warns about one valid commitment `c`, read from `s`; `evidence` and `breach` are the
/// sections its alternatives were read from (same order).
pub(super) fn commitment(
    p: &mut Problems<'_>,
    s: &Section<'_, '_>,
    c: &Commitment,
    evidence: &[Section<'_, '_>],
    breach: &[Section<'_, '_>],
) {
    for section in evidence.iter().chain(breach) {
        repeats(p, section);
        contradictions(p, section);
        topics_overlap(p, section);
    }
    for (section, m) in evidence.iter().zip(&c.evidence) {
        talk_only(p, section, m, c);
        outweighed(p, section, m, c);
    }
    timing(p, s, c);
}

/// Folds a list entry as matching does (case, white space), so that "Border  Talks" and
/// "border talks" count as one.
fn folded(text: &str) -> String {
    let mut out = String::new();
    normalize(text.trim(), &mut out);
    out
}

/// The entries of a list with their spans (the list is known to be valid).
fn entries(p: &mut Problems<'_>, s: &Section<'_, '_>, key: &str) -> Vec<(String, Range<usize>)> {
    s.strings(p, key).unwrap_or_default()
}

/// An entry listed twice in one list.
fn repeats(p: &mut Problems<'_>, s: &Section<'_, '_>) {
    for key in MATCHER_KEYS {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (entry, span) in entries(p, s, key) {
            let line = crate::engine::problem::line_column(p.text, span.start).0;
            if let Some(first) = seen.insert(folded(&entry), line) {
                p.warn(
                    &span,
                    format!(
                        "{entry:?} is listed twice in `{key}` of {} (first on line {first}); once is enough",
                        s.name
                    ),
                );
            }
        }
    }
}

/// A phrase in `keywords` or `all_keywords` that is also in `not_keywords`.
fn contradictions(p: &mut Problems<'_>, s: &Section<'_, '_>) {
    let not: HashMap<String, String> = entries(p, s, "not_keywords")
        .into_iter()
        .map(|(e, _)| (folded(&e), e))
        .collect();
    if not.is_empty() {
        return;
    }
    for key in ["keywords", "all_keywords"] {
        for (entry, span) in entries(p, s, key) {
            if !not.contains_key(&folded(&entry)) {
                continue;
            }
            let means = if key == "all_keywords" {
                "the alternative can never hold (the phrase is required and forbidden)"
            } else {
                "a report with it never counts through this alternative"
            };
            p.warn(
                &span,
                format!(
                    "{entry:?} is in both `{key}` and `not_keywords` of {}: {means}",
                    s.name
                ),
            );
        }
    }
}

/// A topic in both `topics` and `all_topics`: `all_topics` already requires it, so the
/// `topics` list holds for every report the alternative can take.
fn topics_overlap(p: &mut Problems<'_>, s: &Section<'_, '_>) {
    let all: HashMap<String, String> = entries(p, s, "all_topics")
        .into_iter()
        .map(|(e, _)| (folded(&e), e))
        .collect();
    if all.is_empty() {
        return;
    }
    for (entry, span) in entries(p, s, "topics") {
        if all.contains_key(&folded(&entry)) {
            p.warn(
                &span,
                format!(
                    "{entry:?} is in both `topics` and `all_topics` of {}: `all_topics` already requires it, so `topics` holds whenever the alternative can",
                    s.name
                ),
            );
        }
    }
}

/// An evidence alternative that only takes kinds weaker than `min_strength`: what it
/// matches is talk, never follow-up.
fn talk_only(p: &mut Problems<'_>, s: &Section<'_, '_>, m: &Matcher, c: &Commitment) {
    if m.kinds.is_empty() || m.kinds.iter().any(|k| *k >= c.min_strength) {
        return;
    }
    let kinds: Vec<&str> = m.kinds.iter().map(|k| k.as_str()).collect();
    let span = s.value("kinds").map_or(s.span.clone(), |v| v.span());
    p.warn(
        &span,
        format!(
            "{} only takes kinds [{}], all weaker than the commitment's min_strength {}: every report it matches is talk, never evidence of follow-up",
            s.name,
            kinds.join(", "),
            c.min_strength.as_str(),
        ),
    );
}

/// An evidence alternative equal to a breach alternative: the breach always wins, so it
/// never yields evidence or talk.
fn outweighed(p: &mut Problems<'_>, s: &Section<'_, '_>, m: &Matcher, c: &Commitment) {
    if let Some(n) = c.breach.iter().position(|b| b == m) {
        p.warn(
            &s.span,
            format!(
                "{} is the same as breach alternative {}: a breach outweighs evidence, so it can never count as follow-up",
                s.name,
                n + 1,
            ),
        );
    }
}

/// A grace longer than the window; a breach window of zero.
fn timing(p: &mut Problems<'_>, s: &Section<'_, '_>, c: &Commitment) {
    let text =
        |v: &toml::Spanned<toml::de::DeValue<'_>>| v.get_ref().as_str().unwrap_or("").to_string();
    if let Timing::Window(window) = c.timing
        && let Some(grace) = s.value("grace")
        && c.grace.add_to(c.starts) > window.add_to(c.starts)
    {
        let window_text = s.value("window").map(text).unwrap_or_default();
        p.warn(
            &grace.span(),
            format!(
                "`grace` {:?} of {} is longer than its `window` {window_text:?}: it would stay overdue longer than it had to act before becoming a paper tiger",
                text(grace),
                s.name
            ),
        );
    }
    if c.breach_window.is_zero()
        && let Some(v) = s.value("breach_window")
    {
        p.warn(
            &v.span(),
            format!(
                "`breach_window` {:?} of {} is zero: a breach shows as `breached` on its own day only",
                text(v),
                s.name
            ),
        );
    }
}
