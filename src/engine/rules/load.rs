//! Loading and validating rule files. Every problem of every file is collected.

use super::{Agreement, Commitment, FollowUp, MATCHER_KEYS, Matcher, RuleSet, Severity, Timing};
use crate::engine::dates::Duration;
use crate::engine::problem::Problem;
use crate::engine::report::Kind;
use crate::engine::schedule::Cron;
use crate::engine::toml_fields::{Problems, Section, parse_document};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

const AGREEMENT_KEYS: &[&str] = &["id", "title", "parties", "signed", "sources", "summary"];
const COMMITMENT_KEYS: &[&str] = &[
    "id",
    "title",
    "quote",
    "parties",
    "follow_up_by",
    "min_strength",
    "starts",
    "window",
    "cadence",
    "deadline",
    "grace",
    "breach_window",
    "severity",
    "tags",
    "evidence",
    "breach",
];

/// Upper bound on the parties of one commitment (per-party results are kept in a bit mask).
pub const MAX_PARTIES: usize = 64;

/// Bounds on a rules folder: rule files, commitments and distinct phrases over all files.
#[derive(Debug, Clone, Copy)]
pub struct RuleLimits {
    /// Most rule files.
    pub files: usize,
    /// Most commitments over all agreements.
    pub commitments: usize,
    /// Most phrases (keywords of every kind) over all rules.
    pub phrases: usize,
}

/// The limits in force: 10,000 files, 100,000 commitments, 1,000,000 phrases.
pub const RULE_LIMITS: RuleLimits = RuleLimits {
    files: 10_000,
    commitments: 100_000,
    phrases: 1_000_000,
};

/// Builds the rule set of a rules folder from its `*.toml` files, read by the shell:
/// `(path, text or the problem reading it)` in file-name order. Every problem of every
/// file is collected; agreement ids must be unique; the folder's limits hold.
pub fn assemble(
    dir: &Path,
    files: &[(PathBuf, Result<String, Problem>)],
    limits: RuleLimits,
) -> Result<RuleSet, Vec<Problem>> {
    if files.is_empty() {
        return Err(vec![Problem::whole_file(
            dir,
            "no rule files (*.toml) in the rules folder",
        )]);
    }
    if files.len() > limits.files {
        return Err(vec![Problem::whole_file(
            dir,
            format!("{} rule files; the limit is {}", files.len(), limits.files),
        )]);
    }
    let mut problems = Vec::new();
    let mut set = RuleSet::default();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (path, text) in files {
        let loaded = match text {
            Ok(text) => load_str(path, text),
            Err(problem) => Err(vec![problem.clone()]),
        };
        match loaded {
            Ok(agreement) => {
                if let Some(first) = seen.get(&agreement.id) {
                    problems.push(Problem::whole_file(
                        path,
                        format!(
                            "agreement id `{}` is already used by {}",
                            agreement.id,
                            first.display()
                        ),
                    ));
                } else {
                    seen.insert(agreement.id.clone(), path.clone());
                    set.agreements.push(agreement);
                }
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    problems.extend(over_limits(dir, &set, limits));
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(problems)
    }
}

/// The folder-wide limits a rule set goes over: commitments and phrases.
fn over_limits(dir: &Path, set: &RuleSet, limits: RuleLimits) -> Vec<Problem> {
    let mut problems = Vec::new();
    let commitments = set.commitment_count();
    if commitments > limits.commitments {
        problems.push(Problem::whole_file(
            dir,
            format!(
                "{commitments} commitments; the limit is {}",
                limits.commitments
            ),
        ));
    }
    let phrases: usize = set
        .agreements
        .iter()
        .flat_map(|a| &a.commitments)
        .flat_map(|c| c.evidence.iter().chain(&c.breach))
        .map(|m| m.keywords.len() + m.all_keywords.len() + m.not_keywords.len())
        .sum();
    if phrases > limits.phrases {
        problems.push(Problem::whole_file(
            dir,
            format!("{phrases} phrases; the limit is {}", limits.phrases),
        ));
    }
    problems
}

/// Loads one agreement from `text`; `path` names it in problems.
pub fn load_str(path: &Path, text: &str) -> Result<Agreement, Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Problems::new(path, text);
    let agreement = parse_document(&mut problems, text).and_then(|doc| {
        let root = Section::new(doc.get_ref(), 0..0, "the file");
        read_agreement(&mut problems, &root, path)
    });
    match agreement {
        Some(mut a) if problems.list.is_empty() => {
            a.warnings = problems.warnings;
            a.warnings.sort();
            Ok(a)
        }
        _ => {
            let mut list = problems.list;
            list.sort();
            list.dedup();
            Err(list)
        }
    }
}

fn read_agreement(p: &mut Problems<'_>, root: &Section<'_, '_>, path: &Path) -> Option<Agreement> {
    root.check_keys(p, &["agreement", "commitment"]);
    let Some(value) = root.value("agreement") else {
        p.add(&(0..0), "the file has no [agreement] table");
        return None;
    };
    let toml::de::DeValue::Table(table) = value.get_ref() else {
        p.add(&value.span(), "`agreement` must be a table ([agreement])");
        return None;
    };
    let a = Section::new(table, value.span(), "[agreement]");
    a.check_keys(p, AGREEMENT_KEYS);
    let id = a
        .required_string(p, "id")
        .and_then(|(s, span)| checked_id(p, s, &span));
    let title = a.required_string(p, "title").map(|(s, _)| s);
    let parties = match a.strings(p, "parties") {
        Some(list) => {
            if list.is_empty() {
                p.add(
                    &a.value("parties").map_or(a.span.clone(), |v| v.span()),
                    "[agreement] `parties` must name at least one party",
                );
            }
            Some(checked_parties(p, list, "[agreement]"))
        }
        None => {
            if a.value("parties").is_none() {
                a.missing(p, "parties");
            }
            None
        }
    };
    let signed = match a.date(p, "signed") {
        Some((d, _)) => Some(d),
        None => {
            if a.value("signed").is_none() {
                a.missing(p, "signed");
            }
            None
        }
    };
    let sources = a
        .strings(p, "sources")
        .map(|l| l.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    let summary = a.string(p, "summary").map(|(s, _)| s);

    let commitments = read_commitments(p, root, &a, parties.as_deref(), signed);
    Some(Agreement {
        id: id?,
        title: title?,
        parties: parties?,
        signed: signed?,
        sources,
        summary,
        commitments,
        path: path.to_path_buf(),
        warnings: Vec::new(),
    })
}

/// Every `[[commitment]]` of the file (ids unique inside the agreement).
fn read_commitments(
    p: &mut Problems<'_>,
    root: &Section<'_, '_>,
    agreement: &Section<'_, '_>,
    parties: Option<&[String]>,
    signed: Option<chrono::NaiveDate>,
) -> Vec<Commitment> {
    let sections = root.tables(p, "commitment", "commitment {n}");
    if sections.is_empty() && root.value("commitment").is_none() {
        p.add(&agreement.span, "the agreement has no [[commitment]]");
    }
    let mut commitments = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for section in &sections {
        if let Some(id) = section.value("id")
            && let Some(text) = id.get_ref().as_str()
            && let Some(first) = ids.insert(
                text.to_string(),
                crate::engine::problem::line_column(p.text, id.span().start).0,
            )
        {
            p.add(
                &id.span(),
                format!("commitment id `{text}` is already used on line {first}"),
            );
        }
        if let Some(c) = read_commitment(p, section, parties, signed) {
            commitments.push(c);
        }
    }
    commitments
}

fn checked_id(p: &mut Problems<'_>, id: String, span: &Range<usize>) -> Option<String> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Some(id)
    } else {
        p.add(
            span,
            format!("id {id:?} must be made of a-z, 0-9 and '-' only, and not be empty"),
        );
        None
    }
}

fn checked_parties(
    p: &mut Problems<'_>,
    list: Vec<(String, Range<usize>)>,
    owner: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (party, span) in list {
        if party.len() != 3 || !party.bytes().all(|b| b.is_ascii_uppercase()) {
            p.add(
                &span,
                format!(
                    "party {party:?} in {owner} must be a 3-letter upper-case code such as \"KGZ\""
                ),
            );
        } else if out.contains(&party) {
            p.add(&span, format!("party {party:?} is listed twice in {owner}"));
        } else {
            out.push(party);
        }
    }
    if out.len() > MAX_PARTIES {
        p.add(
            &(0..0),
            format!("{owner} lists more than {MAX_PARTIES} parties"),
        );
    }
    out
}

fn duration(p: &mut Problems<'_>, s: &Section<'_, '_>, key: &str) -> Option<Duration> {
    let (text, span) = s.string(p, key)?;
    match Duration::parse(&text) {
        Ok(d) => Some(d),
        Err(e) => {
            p.add(&span, format!("`{key}` in {}: {e}", s.name));
            None
        }
    }
}

fn choice<T: Copy>(
    p: &mut Problems<'_>,
    s: &Section<'_, '_>,
    key: &str,
    options: &[(&str, T)],
    default: T,
) -> T {
    let Some((text, span)) = s.string(p, key) else {
        return default;
    };
    match options.iter().find(|(name, _)| *name == text) {
        Some((_, v)) => *v,
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            p.add(
                &span,
                format!(
                    "`{key}` in {} is {text:?}; expected one of: {}",
                    s.name,
                    names.join(", ")
                ),
            );
            default
        }
    }
}

fn read_commitment(
    p: &mut Problems<'_>,
    s: &Section<'_, '_>,
    agreement_parties: Option<&[String]>,
    signed: Option<chrono::NaiveDate>,
) -> Option<Commitment> {
    // Name the commitment by id in messages once it is known.
    let named;
    let s = match s.value("id").and_then(|v| v.get_ref().as_str()) {
        Some(id) => {
            named = Section::new(s.table, s.span.clone(), format!("commitment \"{id}\""));
            &named
        }
        None => s,
    };
    s.check_keys(p, COMMITMENT_KEYS);
    let id = s
        .required_string(p, "id")
        .and_then(|(v, span)| checked_id(p, v, &span));
    let title = s.required_string(p, "title").map(|(v, _)| v);
    let quote = s.string(p, "quote").map(|(v, _)| v);
    let parties = commitment_parties(p, s, agreement_parties);
    let (follow_up_by, min_strength, severity) = commitment_choices(p, s);
    let starts = match s.value("starts") {
        Some(_) => s.date(p, "starts").map(|(d, _)| d),
        None => signed,
    };
    let (timing, window) = commitment_timing(p, s, starts);
    let grace = if s.value("grace").is_some() {
        duration(p, s, "grace")
    } else {
        Some(Duration::default())
    };
    let breach_window = if s.value("breach_window").is_some() {
        duration(p, s, "breach_window")
    } else {
        Some(window.unwrap_or(Duration::new(12, 0)))
    };
    let tags = s
        .strings(p, "tags")
        .map(|l| l.into_iter().map(|(v, _)| v).collect())
        .unwrap_or_default();
    let alternatives = commitment_alternatives(p, s);
    let (evidence, breach, evidence_sections, breach_sections) = alternatives?;
    let c = Commitment {
        id: id?,
        title: title?,
        quote,
        parties: parties?,
        follow_up_by,
        min_strength,
        starts: starts?,
        timing: timing?,
        grace: grace?,
        breach_window: breach_window?,
        severity,
        tags,
        evidence,
        breach,
    };
    super::warnings::commitment(p, s, &c, &evidence_sections, &breach_sections);
    Some(c)
}

/// A commitment's `parties`: checked codes that are all the agreement's, or by default
/// the agreement's own.
fn commitment_parties(
    p: &mut Problems<'_>,
    s: &Section<'_, '_>,
    agreement_parties: Option<&[String]>,
) -> Option<Vec<String>> {
    let Some(list) = s.strings(p, "parties") else {
        return match s.value("parties") {
            None => agreement_parties.map(<[String]>::to_vec),
            Some(_) => None,
        };
    };
    let span = s.value("parties").map_or(s.span.clone(), |v| v.span());
    let checked = checked_parties(p, list, &s.name);
    if checked.is_empty() {
        p.add(
            &span,
            format!("`parties` in {} must name at least one party", s.name),
        );
    }
    if let Some(all) = agreement_parties {
        for party in checked.iter().filter(|party| !all.contains(party)) {
            p.add(
                &span,
                format!(
                    "party {party:?} of {} is not a party of the agreement ({})",
                    s.name,
                    all.join(", ")
                ),
            );
        }
    }
    Some(checked)
}

/// `follow_up_by`, `min_strength` and `severity`, with their defaults.
fn commitment_choices(p: &mut Problems<'_>, s: &Section<'_, '_>) -> (FollowUp, Kind, Severity) {
    let follow_up_by = choice(
        p,
        s,
        "follow_up_by",
        &[
            ("joint", FollowUp::Joint),
            ("each", FollowUp::Each),
            ("any", FollowUp::Any),
        ],
        FollowUp::Joint,
    );
    let min_strength = choice(
        p,
        s,
        "min_strength",
        &[
            ("statement", Kind::Statement),
            ("meeting", Kind::Meeting),
            ("agreement", Kind::Agreement),
            ("action", Kind::Action),
        ],
        Kind::Meeting,
    );
    let severity = choice(
        p,
        s,
        "severity",
        &[
            ("low", Severity::Low),
            ("medium", Severity::Medium),
            ("high", Severity::High),
        ],
        Severity::Medium,
    );
    (follow_up_by, min_strength, severity)
}

/// Exactly one of `window`, `cadence` and `deadline` (a deadline not before the start):
/// the timing, and the window when there is one (the default breach window).
fn commitment_timing(
    p: &mut Problems<'_>,
    s: &Section<'_, '_>,
    starts: Option<chrono::NaiveDate>,
) -> (Option<Timing>, Option<Duration>) {
    let window = s.value("window").and_then(|_| duration(p, s, "window"));
    if let Some(w) = window
        && w.is_zero()
    {
        let span = s.value("window").map_or(s.span.clone(), |v| v.span());
        p.add(
            &span,
            format!("`window` in {} must be longer than 0d", s.name),
        );
    }
    let cadence = s.value("cadence").and_then(|_| {
        s.string(p, "cadence")
            .and_then(|(text, span)| match Cron::parse(&text) {
                Ok(c) => Some(c),
                Err(e) => {
                    p.add(&span, format!("`cadence` in {}: {e}", s.name));
                    None
                }
            })
    });
    let deadline = s.value("deadline").and_then(|_| s.date(p, "deadline"));
    let given: Vec<_> = ["window", "cadence", "deadline"]
        .iter()
        .filter_map(|k| s.value(k))
        .collect();
    let timing = match given.len() {
        0 => {
            p.add(
                &s.span,
                format!("{} needs one of `window`, `cadence` or `deadline`", s.name),
            );
            None
        }
        1 => window
            .map(Timing::Window)
            .or(cadence.map(|c| Timing::Cadence(Box::new(c))))
            .or(deadline.clone().map(|(d, _)| Timing::Deadline(d))),
        _ => {
            p.add(
                &given[1].span(),
                format!(
                    "{} must have exactly one of `window`, `cadence` or `deadline`, not several",
                    s.name
                ),
            );
            None
        }
    };
    if let (Some((d, span)), Some(start)) = (&deadline, starts)
        && *d < start
    {
        p.add(
            span,
            format!("`deadline` {d} in {} is before its start {start}", s.name),
        );
    }
    (timing, window)
}

/// The evidence and breach alternatives and their sections (for the warnings); `None`
/// when any alternative is invalid.
#[allow(clippy::type_complexity)]
fn commitment_alternatives<'t, 'd>(
    p: &mut Problems<'_>,
    s: &Section<'t, 'd>,
) -> Option<(
    Vec<Matcher>,
    Vec<Matcher>,
    Vec<Section<'t, 'd>>,
    Vec<Section<'t, 'd>>,
)> {
    let evidence_sections = s.tables(
        p,
        "evidence",
        &format!("evidence alternative {{n}} of {}", s.name),
    );
    if evidence_sections.is_empty() && s.value("evidence").is_none() {
        p.add(
            &s.span,
            format!(
                "{} needs at least one [[commitment.evidence]] alternative",
                s.name
            ),
        );
    }
    let read = |p: &mut Problems<'_>, sections: &[Section<'_, '_>]| -> Vec<Matcher> {
        sections.iter().filter_map(|m| read_matcher(p, m)).collect()
    };
    let evidence = read(p, &evidence_sections);
    let breach_sections = s.tables(
        p,
        "breach",
        &format!("breach alternative {{n}} of {}", s.name),
    );
    let breach = read(p, &breach_sections);
    let all_valid =
        evidence.len() == evidence_sections.len() && breach.len() == breach_sections.len();
    all_valid.then_some((evidence, breach, evidence_sections, breach_sections))
}

fn read_matcher(p: &mut Problems<'_>, s: &Section<'_, '_>) -> Option<Matcher> {
    s.check_keys(p, MATCHER_KEYS);
    let before = p.list.len();
    let mut m = Matcher::default();
    if let Some(list) = s.strings(p, "cameo") {
        for (code, span) in list {
            if (2..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
                m.cameo.push(code);
            } else {
                p.add(
                    &span,
                    format!(
                        "cameo prefix {code:?} in {} must be 2 to 4 digits, such as \"062\"",
                        s.name
                    ),
                );
            }
        }
    }
    if let Some(list) = s.strings(p, "kinds") {
        for (kind, span) in list {
            match Kind::parse(&kind) {
                Some(k) => m.kinds.push(k),
                None => p.add(&span, format!(
                    "kind {kind:?} in {} is not one of: statement, meeting, agreement, action, incident",
                    s.name
                )),
            }
        }
    }
    for (key, target) in [("topics", &mut m.topics), ("all_topics", &mut m.all_topics)] {
        if let Some(list) = s.strings(p, key) {
            *target = phrases(p, s, list, key)
                .into_iter()
                .map(|t| t.to_lowercase())
                .collect();
        }
    }
    for (key, target) in [
        ("keywords", &mut m.keywords),
        ("all_keywords", &mut m.all_keywords),
        ("not_keywords", &mut m.not_keywords),
    ] {
        if let Some(list) = s.strings(p, key) {
            *target = phrases(p, s, list, key);
        }
    }
    let given = MATCHER_KEYS.iter().any(|k| s.value(k).is_some());
    if !given {
        p.add(
            &s.span,
            format!(
                "{} has no field; give at least one of: {}",
                s.name,
                MATCHER_KEYS.join(", ")
            ),
        );
        return None;
    }
    (p.list.len() == before).then_some(m)
}

fn phrases(
    p: &mut Problems<'_>,
    s: &Section<'_, '_>,
    list: Vec<(String, Range<usize>)>,
    key: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    if list.is_empty() {
        let span = s.value(key).map_or(s.span.clone(), |v| v.span());
        p.add(
            &span,
            format!(
                "`{key}` in {} is an empty list; remove it or give at least one entry",
                s.name
            ),
        );
    }
    for (phrase, span) in list {
        if phrase.trim().is_empty() {
            p.add(
                &span,
                format!("`{key}` in {} holds an empty phrase", s.name),
            );
        } else if let Err(why) = check_stems(&phrase) {
            p.add(&span, format!("`{key}` in {}: {phrase:?}: {why}", s.name));
        } else {
            out.push(phrase);
        }
    }
    out
}

/// A `*` may only end a word of at least two word characters (a stem, docs/reference.md, Rule files).
fn check_stems(phrase: &str) -> Result<(), String> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = phrase.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != '*' {
            continue;
        }
        let stem = chars[..i].iter().rev().take_while(|c| is_word(**c)).count();
        if stem < 2 {
            return Err(format!(
                "a `*` must follow at least two letters or digits of a word (a stem such as \"demarcat*\"); found one after {stem}"
            ));
        }
        if chars.get(i + 1).is_some_and(|n| is_word(*n) || *n == '*') {
            return Err(
                "a `*` may only end a word (\"demarcat* line\", not \"demar*cation\")".into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_at_and_past_the_edge() {
        let text = "[agreement]\nid = \"ID\"\ntitle = \"A\"\nparties = [\"KGZ\"]\nsigned = 2007-09-18\n\
            [[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n[[commitment.evidence]]\nkeywords = [\"a\", \"b\"]\n";
        let files: Vec<(PathBuf, Result<String, Problem>)> = (0..2)
            .map(|i| {
                (
                    PathBuf::from(format!("{i}.toml")),
                    Ok(text.replace("ID", &format!("a{i}"))),
                )
            })
            .collect();
        let dir = Path::new("rules");
        let at = RuleLimits {
            files: 2,
            commitments: 2,
            phrases: 4,
        };
        assert!(assemble(dir, &files, at).is_ok());
        for past in [
            RuleLimits { files: 1, ..at },
            RuleLimits {
                commitments: 1,
                ..at
            },
            RuleLimits { phrases: 3, ..at },
        ] {
            let e = assemble(dir, &files, past).unwrap_err();
            assert!(e[0].message.contains("the limit is"), "{e:?}");
        }
        assert!(assemble(dir, &[], at).is_err(), "an empty folder");
    }
}
