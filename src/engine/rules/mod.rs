//! Agreements and their commitments: the rules analysts write once (docs/reference.md, Rule files).
//!
//! `load` reads a rules folder into a [`RuleSet`], collecting every problem of every file
//! instead of stopping at the first.

mod load;
mod warnings;

pub use load::{RULE_LIMITS, RuleLimits, assemble, load_str};

use crate::engine::dates::Duration;
use crate::engine::report::Kind;
use crate::engine::schedule::Cron;
use chrono::NaiveDate;
use std::path::PathBuf;

/// Every agreement of a rules folder, in file-name order then rule-file order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The agreements.
    pub agreements: Vec<Agreement>,
}

impl RuleSet {
    /// The number of commitments over all agreements.
    pub fn commitment_count(&self) -> usize {
        self.agreements.iter().map(|a| a.commitments.len()).sum()
    }

    /// Each commitment's start `S` and whether it is followed up by each party (rule order
    /// over all agreements): what the tallies need to know of a commitment.
    pub fn scopes(&self) -> Vec<(NaiveDate, bool)> {
        self.agreements
            .iter()
            .flat_map(|a| &a.commitments)
            .map(|c| (c.starts, c.follow_up_by == FollowUp::Each))
            .collect()
    }

    /// Every agreement's warnings, in file order.
    pub fn warnings(&self) -> impl Iterator<Item = &crate::engine::problem::Problem> {
        self.agreements.iter().flat_map(|a| &a.warnings)
    }

    /// Looks a commitment up by `agreement/commitment` ids.
    pub fn find(&self, agreement: &str, commitment: &str) -> Option<(&Agreement, &Commitment)> {
        let a = self.agreements.iter().find(|a| a.id == agreement)?;
        let c = a.commitments.iter().find(|c| c.id == commitment)?;
        Some((a, c))
    }
}

/// One source document: who signed it, when, and what they undertook.
#[derive(Debug, Clone)]
pub struct Agreement {
    /// `[a-z0-9-]+`, unique across the rules folder.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Party codes (ISO 3166-1 alpha-3 / CAMEO), at least one.
    pub parties: Vec<String>,
    /// Date of signature; the default start of every commitment.
    pub signed: NaiveDate,
    /// Where the text comes from.
    pub sources: Vec<String>,
    /// Optional summary.
    pub summary: Option<String>,
    /// The undertakings, in file order.
    pub commitments: Vec<Commitment>,
    /// The rule file it was read from.
    pub path: PathBuf,
    /// What `check` warns about in that file: valid rules that are almost surely not what
    /// was meant (a phrase listed twice, an alternative that can never count...).
    pub warnings: Vec<crate::engine::problem::Problem>,
}

/// Who has to show follow-up for a commitment to count as kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// All parties together, in one report.
    Joint,
    /// Every party on its own; evaluated per party.
    Each,
    /// Any one party.
    Any,
}

impl FollowUp {
    /// The rule-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Joint => "joint",
            FollowUp::Each => "each",
            FollowUp::Any => "any",
        }
    }
}

/// How loudly a commitment's failure should be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Minor.
    Low,
    /// The default.
    Medium,
    /// Core undertakings.
    High,
}

impl Severity {
    /// The rule-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// When follow-up is expected.
#[derive(Debug, Clone)]
pub enum Timing {
    /// At least once per rolling window.
    Window(Duration),
    /// After every fire time of a cron schedule.
    Cadence(Box<Cron>),
    /// Once, by this date.
    Deadline(NaiveDate),
}

/// One undertaking inside an agreement.
#[derive(Debug, Clone)]
pub struct Commitment {
    /// `[a-z0-9-]+`, unique inside the agreement.
    pub id: String,
    /// Human title.
    pub title: String,
    /// The words of the source document, if given.
    pub quote: Option<String>,
    /// Obligated parties (a subset of the agreement's), in rule order.
    pub parties: Vec<String>,
    /// Joint, each or any.
    pub follow_up_by: FollowUp,
    /// The weakest kind of report that counts as evidence; weaker matches are talk.
    pub min_strength: Kind,
    /// First day that reports count.
    pub starts: NaiveDate,
    /// Window, cadence or deadline.
    pub timing: Timing,
    /// How long after the due date a commitment is `overdue` before it is a paper tiger.
    pub grace: Duration,
    /// How long a breach keeps the commitment `breached`.
    pub breach_window: Duration,
    /// How serious a failure is.
    pub severity: Severity,
    /// Free tags.
    pub tags: Vec<String>,
    /// What counts as follow-up: a report is evidence if any alternative holds.
    pub evidence: Vec<Matcher>,
    /// What contradicts the commitment.
    pub breach: Vec<Matcher>,
}

/// The fields of an evidence or breach alternative, in the order messages list them.
const MATCHER_KEYS: &[&str] = &[
    "cameo",
    "kinds",
    "topics",
    "all_topics",
    "keywords",
    "all_keywords",
    "not_keywords",
];

/// One alternative of an `evidence` or `breach` block: every given field must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    /// CAMEO code prefixes (digits).
    pub cameo: Vec<String>,
    /// Report kinds.
    pub kinds: Vec<Kind>,
    /// Topics, lower-cased: the report must have one of them.
    pub topics: Vec<String>,
    /// Topics, lower-cased: the report must have every one of them.
    pub all_topics: Vec<String>,
    /// At least one phrase must occur.
    pub keywords: Vec<String>,
    /// Every phrase must occur.
    pub all_keywords: Vec<String>,
    /// No phrase may occur.
    pub not_keywords: Vec<String>,
}

impl Matcher {
    /// True when no field is given (an error in a rule file).
    pub fn is_empty(&self) -> bool {
        *self == Matcher::default()
    }
}
