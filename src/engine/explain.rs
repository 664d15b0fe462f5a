//! `explain`: what stands behind one commitment's status, and why a given report does or
//! does not count for it.
//!
//! [`Timeline`] collects, report by report (from files or from the ledger alike), the
//! reports that hit the commitment and which alternative and phrases did it. [`diagnose`]
//! takes one report apart against one commitment, field by field: actor scope, every
//! evidence and breach alternative, the strength verdict and the date window. It reads the
//! rule as written, independently of the compiled matcher, and a test holds the two to the
//! same verdict.

use crate::engine::evaluate::{CommitmentStatus, Event, evaluate_commitment};
use crate::engine::matcher::{Class, CompiledRules, Hit, Scratch, find_phrase};
use crate::engine::report::{Kind, Report};
use crate::engine::rules::{Agreement, Commitment, FollowUp, Matcher, RuleSet};
use chrono::NaiveDate;
use std::collections::HashMap;

/// One report on a commitment's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// The report's date.
    pub date: NaiveDate,
    /// Evidence, talk or breach.
    pub class: Class,
    /// The report's kind.
    pub kind: Kind,
    /// Its actors.
    pub actors: Vec<String>,
    /// Its title (may be empty).
    pub title: String,
    /// Its id.
    pub id: String,
    /// The alternatives of the deciding block that hold: (breach block?, 1-based number,
    /// the phrases found).
    pub alternatives: Vec<(bool, usize, Vec<String>)>,
    /// Dated inside the commitment's counted dates `[S, T]`.
    pub counted: bool,
}

/// Everything `explain` prints for one commitment.
#[derive(Debug)]
pub struct Explanation<'a> {
    /// The agreement.
    pub agreement: &'a Agreement,
    /// The commitment.
    pub commitment: &'a Commitment,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// Its status at `as_of`.
    pub status: Option<CommitmentStatus>,
    /// The reports that hit it, by date.
    pub timeline: Vec<TimelineEntry>,
}

/// Finds `AGREEMENT/COMMITMENT` in `set`: its index in rule order, the agreement and the
/// commitment; or the reason it cannot be found.
pub fn find_target<'a>(
    set: &'a RuleSet,
    target: &str,
) -> Result<(u32, &'a Agreement, &'a Commitment), String> {
    let Some((agreement_id, commitment_id)) = target.split_once('/') else {
        return Err(format!(
            "{target:?}: expected AGREEMENT/COMMITMENT, such as kgz-tjk-2007/military-cooperation"
        ));
    };
    let mut index = 0u32;
    for a in &set.agreements {
        for c in &a.commitments {
            if a.id == agreement_id && c.id == commitment_id {
                return Ok((index, a, c));
            }
            index += 1;
        }
    }
    Err(format!("{target}: no such commitment"))
}

/// Builds a commitment's timeline and the evidence for its status from a stream of
/// reports (a later report with the same id replaces the earlier one, as everywhere).
pub struct Timeline<'a> {
    compiled: &'a CompiledRules,
    index: u32,
    agreement: &'a Agreement,
    commitment: &'a Commitment,
    scratch: Scratch,
    /// Per report id that hits the commitment: its entry and its hit (for the status).
    entries: HashMap<Box<str>, (TimelineEntry, u64)>,
}

impl<'a> Timeline<'a> {
    /// A timeline of the commitment `target` (as [`find_target`] gives it).
    pub fn new(
        compiled: &'a CompiledRules,
        target: (u32, &'a Agreement, &'a Commitment),
    ) -> Timeline<'a> {
        let (index, agreement, commitment) = target;
        Timeline {
            compiled,
            index,
            agreement,
            commitment,
            scratch: Scratch::default(),
            entries: HashMap::new(),
        }
    }

    /// Takes one report.
    pub fn add(&mut self, report: &Report) {
        let hits = self.compiled.match_report(report, &mut self.scratch);
        match hits.iter().find(|h| h.commitment == self.index) {
            Some(hit) => {
                let parties = hit.parties;
                let entry = self.entry(report, hit);
                self.entries
                    .insert(report.id.as_str().into(), (entry, parties));
            }
            None => {
                self.entries.remove(report.id.as_str());
            }
        }
    }

    fn entry(&mut self, report: &Report, hit: &Hit) -> TimelineEntry {
        let breach = hit.class == Class::Breach;
        let alternatives = self
            .compiled
            .explain_report(report, &mut self.scratch)
            .into_iter()
            .filter(|d| d.commitment == self.index && d.breach == breach)
            .map(|d| (d.breach, d.alternative, d.phrases))
            .collect();
        TimelineEntry {
            date: report.date,
            class: hit.class,
            kind: report.kind,
            actors: report.actors.clone(),
            title: report.title.clone(),
            id: report.id.clone(),
            alternatives,
            counted: false,
        }
    }

    /// The explanation at `as_of`.
    pub fn finish(self, as_of: NaiveDate) -> Explanation<'a> {
        let (agreement, commitment) = (self.agreement, self.commitment);
        let events: Vec<Event> = self
            .entries
            .values()
            .map(|(e, parties)| Event {
                date: e.date,
                class: e.class,
                parties: *parties,
                reports: 1,
                days: 1,
            })
            .collect();
        let status = Some(evaluate_commitment(commitment, &events, as_of));
        let mut timeline: Vec<TimelineEntry> = self.entries.into_values().map(|(e, _)| e).collect();
        for e in &mut timeline {
            e.counted = e.date >= commitment.starts && e.date <= as_of;
        }
        timeline.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
        Explanation {
            agreement,
            commitment,
            as_of,
            status,
            timeline,
        }
    }
}

/// Where in a report a phrase was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In the title.
    Title,
    /// In the body.
    Body,
}

/// One phrase of an alternative and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseCheck {
    /// The phrase as the rule writes it.
    pub phrase: String,
    /// Where it was found first, and the words it covered there.
    pub found: Option<(Place, String)>,
}

/// Which phrase list of an alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhraseList {
    /// `keywords`: at least one must occur.
    Any,
    /// `all_keywords`: every one must occur.
    All,
    /// `not_keywords`: none may occur.
    None,
}

impl PhraseList {
    /// The rule-file key.
    pub fn key(self) -> &'static str {
        match self {
            PhraseList::Any => "keywords",
            PhraseList::All => "all_keywords",
            PhraseList::None => "not_keywords",
        }
    }
}

/// One given field of an alternative, checked against a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldCheck {
    /// `cameo`: the report's code must begin with one of the prefixes.
    Cameo {
        /// The rule's prefixes.
        prefixes: Vec<String>,
        /// The report's code.
        code: Option<String>,
        /// True when it held.
        held: bool,
    },
    /// `kinds`: the report's kind must be one of them.
    Kinds {
        /// The rule's kinds.
        kinds: Vec<Kind>,
        /// True when it held.
        held: bool,
    },
    /// `topics`: one of the report's topics must be among them; `all_topics`: every one
    /// of them must be among the report's.
    Topics {
        /// The rule's topics.
        topics: Vec<String>,
        /// True for `all_topics`.
        all: bool,
        /// True when it held.
        held: bool,
    },
    /// `keywords`, `all_keywords` or `not_keywords`.
    Phrases {
        /// Which list.
        list: PhraseList,
        /// Each phrase and where it was found.
        phrases: Vec<PhraseCheck>,
        /// True when it held.
        held: bool,
    },
}

impl FieldCheck {
    /// The rule-file key of the field.
    pub fn key(&self) -> &'static str {
        match self {
            FieldCheck::Cameo { .. } => "cameo",
            FieldCheck::Kinds { .. } => "kinds",
            FieldCheck::Topics { all: false, .. } => "topics",
            FieldCheck::Topics { all: true, .. } => "all_topics",
            FieldCheck::Phrases { list, .. } => list.key(),
        }
    }

    /// True when the field held.
    pub fn held(&self) -> bool {
        match self {
            FieldCheck::Cameo { held, .. }
            | FieldCheck::Kinds { held, .. }
            | FieldCheck::Topics { held, .. }
            | FieldCheck::Phrases { held, .. } => *held,
        }
    }
}

/// One alternative of an `evidence` or `breach` block, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeCheck {
    /// 1-based number inside its block.
    pub number: usize,
    /// Every given field, in rule-file key order.
    pub fields: Vec<FieldCheck>,
}

impl AlternativeCheck {
    /// True when every field held.
    pub fn holds(&self) -> bool {
        self.fields.iter().all(FieldCheck::held)
    }
}

/// One report taken apart against one commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// Each obligated party and whether it is among the report's actors.
    pub parties: Vec<(String, bool)>,
    /// Joint, each or any.
    pub follow_up: FollowUp,
    /// True when the report is in the commitment's actor scope.
    pub in_scope: bool,
    /// The evidence alternatives.
    pub evidence: Vec<AlternativeCheck>,
    /// The breach alternatives.
    pub breach: Vec<AlternativeCheck>,
    /// The report's kind and the commitment's `min_strength`.
    pub kind: Kind,
    /// The weakest kind that counts as evidence.
    pub min_strength: Kind,
    /// What the report is for the commitment (none: it does not bear on it).
    pub class: Option<Class>,
    /// The counted dates `[S, T]`.
    pub window: (NaiveDate, NaiveDate),
    /// The report's date.
    pub date: NaiveDate,
}

impl Diagnosis {
    /// True when the report's date is inside the counted dates.
    pub fn dated_inside(&self) -> bool {
        self.window.0 <= self.date && self.date <= self.window.1
    }

    /// The parties the actor scope misses: for `joint` every absent party; for `any` and
    /// `each` all of them when none is present; empty when in scope.
    pub fn missing(&self) -> Vec<&str> {
        if self.in_scope {
            return Vec::new();
        }
        self.parties
            .iter()
            .filter(|(_, present)| !present)
            .map(|(p, _)| p.as_str())
            .collect()
    }
}

/// Takes `report` apart against `commitment` as of `as_of` (see [`Diagnosis`]).
pub fn diagnose(commitment: &Commitment, report: &Report, as_of: NaiveDate) -> Diagnosis {
    let parties: Vec<(String, bool)> = commitment
        .parties
        .iter()
        .map(|p| (p.clone(), report.actors.iter().any(|a| a == p)))
        .collect();
    let present = parties.iter().filter(|(_, here)| *here).count();
    let in_scope = match commitment.follow_up_by {
        FollowUp::Joint => present == parties.len(),
        FollowUp::Any | FollowUp::Each => present > 0,
    };
    let check_block = |block: &[Matcher]| -> Vec<AlternativeCheck> {
        block
            .iter()
            .enumerate()
            .map(|(i, m)| AlternativeCheck {
                number: i + 1,
                fields: check_fields(m, report),
            })
            .collect()
    };
    let evidence = check_block(&commitment.evidence);
    let breach = check_block(&commitment.breach);
    let class = if !in_scope {
        None
    } else if breach.iter().any(AlternativeCheck::holds) {
        Some(Class::Breach)
    } else if evidence.iter().any(AlternativeCheck::holds) {
        Some(if report.kind >= commitment.min_strength {
            Class::Evidence
        } else {
            Class::Talk
        })
    } else {
        None
    };
    Diagnosis {
        parties,
        follow_up: commitment.follow_up_by,
        in_scope,
        evidence,
        breach,
        kind: report.kind,
        min_strength: commitment.min_strength,
        class,
        window: (commitment.starts, as_of),
        date: report.date,
    }
}

/// Every given field of `m` against `report`.
fn check_fields(m: &Matcher, report: &Report) -> Vec<FieldCheck> {
    let mut fields = Vec::new();
    if !m.cameo.is_empty() {
        let code = report.cameo.clone();
        let held = code
            .as_deref()
            .is_some_and(|c| m.cameo.iter().any(|p| c.starts_with(p.as_str())));
        fields.push(FieldCheck::Cameo {
            prefixes: m.cameo.clone(),
            code,
            held,
        });
    }
    if !m.kinds.is_empty() {
        fields.push(FieldCheck::Kinds {
            kinds: m.kinds.clone(),
            held: m.kinds.contains(&report.kind),
        });
    }
    for (all, topics) in [(false, &m.topics), (true, &m.all_topics)] {
        if topics.is_empty() {
            continue;
        }
        let held = if all {
            crate::engine::matcher::topics_hold(&[], topics, &report.topics)
        } else {
            crate::engine::matcher::topics_hold(topics, &[], &report.topics)
        };
        fields.push(FieldCheck::Topics {
            topics: topics.clone(),
            all,
            held,
        });
    }
    fields.extend(phrase_checks(m, report));
    fields
}

/// The phrase lists of `m` (any, all, none) against `report`, each phrase located.
fn phrase_checks(m: &Matcher, report: &Report) -> Vec<FieldCheck> {
    let mut fields = Vec::new();
    let lists = [
        (PhraseList::Any, &m.keywords),
        (PhraseList::All, &m.all_keywords),
        (PhraseList::None, &m.not_keywords),
    ];
    for (list, phrases) in lists {
        if phrases.is_empty() {
            continue;
        }
        let checks: Vec<PhraseCheck> = phrases
            .iter()
            .map(|p| PhraseCheck {
                phrase: p.clone(),
                found: locate(p, report),
            })
            .collect();
        let found = checks.iter().filter(|c| c.found.is_some()).count();
        let held = match list {
            PhraseList::Any => found > 0,
            PhraseList::All => found == checks.len(),
            PhraseList::None => found == 0,
        };
        fields.push(FieldCheck::Phrases {
            list,
            phrases: checks,
            held,
        });
    }
    fields
}

/// Where `phrase` occurs in `report`: the title first, then the body.
fn locate(phrase: &str, report: &Report) -> Option<(Place, String)> {
    [(Place::Title, &report.title), (Place::Body, &report.body)]
        .into_iter()
        .find_map(|(place, text)| find_phrase(phrase, text).map(|words| (place, words)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::matcher::tests::{report, rules as set};
    use proptest::prelude::*;

    const RULES: &str = "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"1y\"\n\
        min_strength = \"meeting\"\n\
        [[commitment.evidence]]\nkeywords = [\"демаркац* границ*\", \"border talks\"]\n\
        not_keywords = [\"парафир*\"]\n\
        [[commitment.evidence]]\ncameo = [\"04\"]\nkinds = [\"meeting\"]\n\
        [[commitment.breach]]\ncameo = [\"19\"]\ntopics = [\"border\"]\n";

    #[test]
    fn says_which_field_held_and_where_each_phrase_was_found() {
        let rules = set(RULES);
        let c = &rules.agreements[0].commitments[0];
        let r = report(
            Kind::Statement,
            &["KGZ", "TJK"],
            None,
            "Заявление",
            "Стороны обсудили демаркацию границы.",
        );
        let d = diagnose(c, &r, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert!(d.in_scope);
        assert_eq!(d.class, Some(Class::Talk));
        let FieldCheck::Phrases { phrases, held, .. } = &d.evidence[0].fields[0] else {
            panic!("{:?}", d.evidence[0]);
        };
        assert!(held);
        assert_eq!(
            phrases[0].found,
            Some((Place::Body, "демаркацию границы".to_string()))
        );
        assert_eq!(phrases[1].found, None);
        assert!(!d.evidence[1].holds());
        assert!(d.dated_inside());
    }

    #[test]
    fn a_joint_commitment_names_the_missing_party() {
        let rules = set(RULES);
        let c = &rules.agreements[0].commitments[0];
        let r = report(Kind::Meeting, &["KGZ"], Some("043"), "Border talks", "");
        let d = diagnose(c, &r, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert!(!d.in_scope);
        assert_eq!(d.missing(), ["TJK"]);
        assert_eq!(d.class, None);
        assert!(d.evidence.iter().all(AlternativeCheck::holds));
    }

    fn arb_report() -> impl Strategy<Value = Report> {
        let words = prop::sample::select(vec![
            "демаркацию",
            "границы",
            "парафирован",
            "border",
            "talks",
            "Border Talks",
            "ДЕМАРКАЦИЯ ГРАНИЦ",
            "x",
        ]);
        (
            prop::sample::select(Kind::ALL.to_vec()),
            prop::sample::subsequence(vec!["KGZ", "TJK", "UZB"], 0..=3),
            prop::option::of(prop::sample::select(vec!["043", "04", "190", "0211"])),
            prop::collection::vec(words.clone(), 0..4),
            prop::collection::vec(words, 0..4),
        )
            .prop_map(|(kind, actors, cameo, title, body)| {
                report(kind, &actors, cameo, &title.join(" "), &body.join(" "))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// The diagnosis reads the rule as written; the matcher compiles it. They must agree.
        #[test]
        fn the_diagnosis_agrees_with_the_matcher(r in arb_report(), follow in 0usize..3) {
            let follow_up = ["joint", "any", "each"][follow];
            let rules = set(&RULES.replace(
                "window = \"1y\"\n",
                &format!("window = \"1y\"\nfollow_up_by = \"{follow_up}\"\n"),
            ));
            let compiled = CompiledRules::new(&rules).unwrap();
            let hit = compiled
                .match_report(&r, &mut Scratch::default())
                .into_iter()
                .find(|h| h.commitment == 0)
                .map(|h| h.class);
            let d = diagnose(&rules.agreements[0].commitments[0], &r, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
            prop_assert_eq!(d.class, hit);
        }
    }
}
