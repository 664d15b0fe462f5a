//! Rule tests (docs/reference.md, Rule tests `pledgewatch test`): what a rule set must say on given reports, as
//! `promtool test rules` does for alert rules. Parsing a test file and checking its
//! expectations against statuses are pure; reading the files is the shell's.

use crate::engine::evaluate::{AgreementStatus, Status};
use crate::engine::problem::Problem;
use chrono::NaiveDate;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A parsed test file.
#[derive(Debug)]
pub struct TestFile {
    /// The rules folder, resolved against the test file's folder.
    pub rules: PathBuf,
    /// Report files and folders, resolved likewise.
    pub reports: Vec<PathBuf>,
    /// Inline reports: (line of the `[[report]]` table, the table as TOML text).
    pub inline: Vec<(usize, String)>,
    /// The expectations, in file order.
    pub expects: Vec<Expect>,
}

/// One `[[expect]]`.
#[derive(Debug, Clone)]
pub struct Expect {
    /// Its line in the file.
    pub line: usize,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// `AGREEMENT/COMMITMENT`.
    pub target: String,
    /// The status expected.
    pub status: Status,
    /// One party of an `each` commitment.
    pub party: Option<String>,
    /// Expected dates: `Some(None)` is "none".
    pub due: Option<Option<NaiveDate>>,
    /// Expected latest evidence.
    pub last_evidence: Option<Option<NaiveDate>>,
    /// Expected latest breach.
    pub last_breach: Option<Option<NaiveDate>>,
    /// Expected counts.
    pub evidence: Option<usize>,
    /// Expected talk count.
    pub talk: Option<usize>,
    /// Expected breach count.
    pub breaches: Option<usize>,
    /// Expected distinct days of evidence, talk and breaches.
    pub evidence_days: Option<usize>,
    /// Expected days of talk.
    pub talk_days: Option<usize>,
    /// Expected days of breaches.
    pub breach_days: Option<usize>,
    /// Expected score: `Some(None)` is "none".
    pub score: Option<Option<i8>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    rules: Spanned<String>,
    #[serde(default)]
    reports: Vec<Spanned<String>>,
    #[serde(default)]
    report: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    as_of: toml::value::Datetime,
    target: String,
    status: String,
    party: Option<String>,
    due: Option<toml::Value>,
    last_evidence: Option<toml::Value>,
    last_breach: Option<toml::Value>,
    evidence: Option<i64>,
    talk: Option<i64>,
    breaches: Option<i64>,
    evidence_days: Option<i64>,
    talk_days: Option<i64>,
    breach_days: Option<i64>,
    score: Option<toml::Value>,
}

/// Parses the test file `path` (its text `text`); every problem is located.
pub fn parse(path: &Path, text: &str) -> Result<TestFile, Vec<Problem>> {
    let raw: RawTest =
        toml::from_str(text).map_err(|e| vec![Problem::from_toml(path, text, &e)])?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolve = |p: &str| base.join(p);
    let mut problems = Vec::new();
    let mut expects = Vec::new();
    for e in &raw.expect {
        match expectation(e.get_ref()) {
            Ok(mut x) => {
                x.line = crate::engine::problem::line_column(text, e.span().start).0;
                expects.push(x);
            }
            Err(message) => problems.push(Problem::at(path, text, e.span().start, message)),
        }
    }
    if expects.is_empty() && problems.is_empty() {
        problems.push(Problem::whole_file(path, "no [[expect]] in the test file"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let inline = raw
        .report
        .iter()
        .map(|t| {
            let line = crate::engine::problem::line_column(text, t.span().start).0;
            (line, toml::to_string(t.get_ref()).unwrap_or_default())
        })
        .collect();
    Ok(TestFile {
        rules: resolve(raw.rules.get_ref()),
        reports: raw.reports.iter().map(|r| resolve(r.get_ref())).collect(),
        inline,
        expects,
    })
}

/// An expected date: absent, `"none"`, or a date.
fn expected_date(v: &Option<toml::Value>, key: &str) -> Result<Option<Option<NaiveDate>>, String> {
    match v {
        None => Ok(None),
        Some(toml::Value::String(s)) if s == "none" => Ok(Some(None)),
        Some(toml::Value::Datetime(d)) => d
            .date
            .filter(|_| d.time.is_none())
            .and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
            .map(|d| Some(Some(d)))
            .ok_or_else(|| format!("`{key}` must be a date or \"none\"")),
        Some(_) => Err(format!("`{key}` must be a date or \"none\"")),
    }
}

/// An expected count: absent, or 0 or more.
fn expected_count(v: Option<i64>, key: &str) -> Result<Option<usize>, String> {
    v.map(|n| usize::try_from(n).map_err(|_| format!("`{key}` must be 0 or more")))
        .transpose()
}

fn expectation(e: &RawExpect) -> Result<Expect, String> {
    let (date, count) = (expected_date, expected_count);
    let as_of = match &e.as_of.date {
        Some(d) if e.as_of.time.is_none() => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .ok_or("`as_of` is not a date")?
        }
        _ => return Err("`as_of` must be a date such as 2009-12-31".into()),
    };
    if e.target.split_once('/').is_none() {
        return Err(format!(
            "`target` {:?} is not AGREEMENT/COMMITMENT",
            e.target
        ));
    }
    let status = Status::parse(&e.status).ok_or_else(|| {
        format!(
            "`status` {:?} is not one of fulfilled, on_track, pending, overdue, paper_tiger, breached",
            e.status
        )
    })?;
    let score = match &e.score {
        None => None,
        Some(toml::Value::String(s)) if s == "none" => Some(None),
        Some(toml::Value::Integer(n)) if (-1..=1).contains(n) => Some(Some(*n as i8)),
        Some(_) => return Err("`score` must be -1, 0, 1 or \"none\"".into()),
    };
    Ok(Expect {
        line: 0,
        as_of,
        target: e.target.clone(),
        status,
        party: e.party.clone(),
        due: date(&e.due, "due")?,
        last_evidence: date(&e.last_evidence, "last_evidence")?,
        last_breach: date(&e.last_breach, "last_breach")?,
        evidence: count(e.evidence, "evidence")?,
        talk: count(e.talk, "talk")?,
        breaches: count(e.breaches, "breaches")?,
        evidence_days: count(e.evidence_days, "evidence_days")?,
        talk_days: count(e.talk_days, "talk_days")?,
        breach_days: count(e.breach_days, "breach_days")?,
        score,
    })
}

fn shown_date(d: Option<NaiveDate>) -> String {
    d.map_or("none".into(), |d| d.to_string())
}

fn shown_score(s: Option<i8>) -> String {
    s.map_or("none".into(), |s| s.to_string())
}

/// What differs between `expect` and the statuses at its as-of date: one
/// `expected FIELD X, got Y (REASON)` per field; `Err` when the target does not exist.
pub fn check(expect: &Expect, statuses: &[AgreementStatus]) -> Result<Vec<String>, String> {
    let (agreement, commitment) = expect.target.split_once('/').unwrap_or(("", ""));
    let c = statuses
        .iter()
        .find(|a| a.id == agreement)
        .and_then(|a| a.commitments.iter().find(|c| c.id == commitment))
        .ok_or_else(|| format!("no commitment {} in the rules", expect.target))?;
    let (status, due, last_evidence, last_breach, reason) = match &expect.party {
        None => (c.status, c.due, c.last_evidence, c.last_breach, &c.reason),
        Some(party) => {
            let p = c
                .parties
                .iter()
                .find(|p| &p.party == party)
                .ok_or_else(|| {
                    format!(
                        "{} has no party {party} of its own (only `each` commitments do)",
                        expect.target
                    )
                })?;
            (p.status, p.due, p.last_evidence, p.last_breach, &p.reason)
        }
    };
    let mut diffs = Vec::new();
    let mut differ = |field: &str, want: String, got: String| {
        if want != got {
            diffs.push(format!("expected {field} {want}, got {got} ({reason})"));
        }
    };
    differ(
        "status",
        expect.status.as_str().into(),
        status.as_str().into(),
    );
    for (field, want, got) in [
        ("due", expect.due, due),
        ("last_evidence", expect.last_evidence, last_evidence),
        ("last_breach", expect.last_breach, last_breach),
    ] {
        if let Some(want) = want {
            differ(field, shown_date(want), shown_date(got));
        }
    }
    for (field, want, got) in [
        ("evidence", expect.evidence, c.evidence),
        ("talk", expect.talk, c.talk),
        ("breaches", expect.breaches, c.breaches),
        ("evidence_days", expect.evidence_days, c.evidence_days),
        ("talk_days", expect.talk_days, c.talk_days),
        ("breach_days", expect.breach_days, c.breach_days),
    ] {
        if let Some(want) = want {
            differ(field, want.to_string(), got.to_string());
        }
    }
    if let Some(want) = expect.score {
        differ("score", shown_score(want), shown_score(status.score()));
    }
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_locates_problems() {
        let text = "rules = \"../rules\"\nreports = [\"r\"]\n\n[[report]]\ndate = 2008-05-16\nactors = [\"KGZ\"]\nkind = \"meeting\"\n\n[[expect]]\nas_of = 2009-12-31\ntarget = \"a/b\"\nstatus = \"paper_tiger\"\ndue = \"none\"\nscore = -1\n";
        let t = parse(Path::new("/t/x.test.toml"), text).unwrap();
        assert_eq!(t.rules, PathBuf::from("/t/../rules"));
        assert_eq!(t.inline.len(), 1);
        assert_eq!(t.inline[0].0, 4);
        assert!(
            t.inline[0].1.contains("date = 2008-05-16"),
            "{}",
            t.inline[0].1
        );
        assert_eq!(t.expects[0].line, 9);
        assert_eq!(t.expects[0].due, Some(None));
        assert_eq!(t.expects[0].score, Some(Some(-1)));
        for (bad, line) in [
            (
                "rules = \"r\"\n[[expect]]\nas_of = 2009-12-31\ntarget = \"a/b\"\nstatus = \"lapsed\"\n",
                2,
            ),
            (
                "rules = \"r\"\n[[expect]]\nas_of = 2009-12-31\ntarget = \"ab\"\nstatus = \"pending\"\n",
                2,
            ),
            (
                "rules = \"r\"\n[[expect]]\nas_of = 2009-12-31\ntarget = \"a/b\"\nstatus = \"pending\"\nscore = 2\n",
                2,
            ),
            (
                "rules = \"r\"\n[[expect]]\nas_of = 2009-12-31\ntarget = \"a/b\"\nstatus = \"pending\"\nstauts = 1\n",
                6,
            ),
            ("rules = \"r\"\n", 0),
        ] {
            let e = parse(Path::new("x.toml"), bad).unwrap_err();
            assert_eq!(e[0].line, line, "{bad}: {e:?}");
        }
    }
}
