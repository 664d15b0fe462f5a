//! Event reports (docs/reference.md, "Reports"): the model, its validation, and one reader
//! per input format (the event datasets ACLED, UCDP GED, ICEWS and POLECAT in `datasets`).
//!
//! Every format is first turned into a [`RawReport`] (field name, value, line), so that one
//! function, [`Report::from_raw`], decides what a valid report is for all of them and names
//! the field that is wrong.

mod countries;
mod datasets;
mod gdelt;
mod json;
mod markdown;
mod parse;
mod toml;

pub use gdelt::{cameo_description, columns as gdelt_columns, headline_words};
pub use parse::{
    Container, DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_LINE, Format, Item, Limits,
    MAX_JSON_DEPTH_CEILING, UNSUPPORTED, read_bytes, read_from,
};

use crate::engine::dates::parse_date;
use chrono::NaiveDate;
use std::fmt;
use std::path::{Path, PathBuf};

/// A 3-letter party code packed in an integer; any other length gets a value no rule party
/// (always three letters) can have.
pub fn party_code(code: &str) -> u32 {
    match code.as_bytes() {
        [a, b, c] => u32::from_le_bytes([*a, *b, *c, 0]),
        _ => u32::MAX,
    }
}

/// The parties for whose reports a title and body are worth building: a reader handed one
/// leaves both empty on a machine-coded row (GDELT) none of whose actors is among them.
/// For callers that only match reports (replay, history), where the matcher searches the
/// text of no other report; anything that shows or stores reports reads without it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextNeed {
    /// [`party_code`]s, sorted.
    parties: Vec<u32>,
}

impl TextNeed {
    /// The need for reports of these parties (codes from [`party_code`]).
    pub fn of_codes(mut parties: Vec<u32>) -> TextNeed {
        parties.sort_unstable();
        parties.dedup();
        TextNeed { parties }
    }

    /// True when a report of these actors needs its text.
    pub fn wants(&self, actors: &[String]) -> bool {
        actors.iter().any(|a| self.wants_code(party_code(a)))
    }

    /// True when a report of these actors ([`party_code`]s) needs its text.
    pub fn wants_codes(&self, actor_codes: &[u32]) -> bool {
        actor_codes.iter().any(|&code| self.wants_code(code))
    }

    fn wants_code(&self, code: u32) -> bool {
        self.parties.binary_search(&code).is_ok()
    }
}

/// The kind of act a report describes, in strength order: an incident is the weakest (never
/// evidence), an action the strongest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Something that happened to or between the parties; contradicts rather than supports.
    Incident,
    /// Words: declarations, appeals, comments.
    Statement,
    /// Consultations, visits, talks.
    Meeting,
    /// Signed or agreed texts.
    Agreement,
    /// Material cooperation on the ground.
    Action,
}

impl Kind {
    /// All kinds, weakest first.
    pub const ALL: [Kind; 5] = [
        Kind::Incident,
        Kind::Statement,
        Kind::Meeting,
        Kind::Agreement,
        Kind::Action,
    ];

    /// Parses the spelling used in rules and reports.
    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The spelling used in rules and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Incident => "incident",
            Kind::Statement => "statement",
            Kind::Meeting => "meeting",
            Kind::Agreement => "agreement",
            Kind::Action => "action",
        }
    }

    /// The kind implied by a CAMEO code's root (01-03 statement, 04 meeting, 05 agreement,
    /// 06-08 action, 09-20 incident); `None` for a code outside 01-20.
    pub fn from_cameo(code: &str) -> Option<Kind> {
        let root: u32 = code.get(..2)?.parse().ok()?;
        match root {
            1..=3 => Some(Kind::Statement),
            4 => Some(Kind::Meeting),
            5 => Some(Kind::Agreement),
            6..=8 => Some(Kind::Action),
            9..=20 => Some(Kind::Incident),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dated event, validated. Serialized as JSON in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Stable id: given, or derived from the content.
    pub id: String,
    /// The event's date (UTC).
    pub date: NaiveDate,
    /// Party codes involved, upper-cased, in the order given, without repeats.
    pub actors: Vec<String>,
    /// Given, or implied by the CAMEO code.
    pub kind: Kind,
    /// CAMEO event code, 2-4 digits.
    pub cameo: Option<String>,
    /// Headline; keywords match it.
    pub title: String,
    /// Text; keywords match it.
    pub body: String,
    /// Tags.
    pub topics: Vec<String>,
    /// Outlet.
    pub source: Option<String>,
    /// Address.
    pub url: Option<String>,
    /// Publication date.
    pub reported: Option<NaiveDate>,
}

/// A field value as read from any format, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// A string.
    Str(String),
    /// A TOML date or date-time, in its TOML spelling.
    Date(String),
    /// An array.
    List(Vec<RawValue>),
    /// Anything else, by type name ("a number", "a table"...).
    Other(&'static str),
}

/// A report's fields as read, with the line each was on where the format has lines.
#[derive(Debug, Clone, Default)]
pub struct RawReport {
    /// Field name, value, 1-based line (0 = unknown).
    pub fields: Vec<(String, RawValue, usize)>,
}

/// Why a field is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// Its line in the file, where known (0 = unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const FIELDS: &[&str] = &[
    "id", "date", "actors", "kind", "cameo", "title", "body", "topics", "source", "url", "reported",
];

/// Longest accepted explicit id, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// Longest accepted text field (title, body, source, url, a topic), in bytes: 1 MiB.
pub const MAX_TEXT_LEN: usize = 1 << 20;

/// Most entries in `actors` or `topics`.
pub const MAX_LIST_LEN: usize = 1000;

/// Report fields collected one by one and validated as they come; every reader feeds one.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    id: Option<String>,
    date: Option<NaiveDate>,
    actors: Option<Vec<String>>,
    kind: Option<Kind>,
    cameo: Option<String>,
    title: String,
    body: String,
    topics: Vec<String>,
    source: Option<String>,
    url: Option<String>,
    reported: Option<NaiveDate>,
}

/// Fields whose value is a list of strings; all others are single strings (or dates).
const LIST_FIELDS: &[&str] = &["actors", "topics"];

impl ReportBuilder {
    /// Sets a string-valued field, validating it.
    pub fn string_field(&mut self, name: &str, s: String) -> Result<(), String> {
        if s.len() > MAX_TEXT_LEN {
            return Err(format!(
                "is {} bytes long; the limit is {MAX_TEXT_LEN} bytes",
                s.len()
            ));
        }
        match name {
            "id" => {
                if s.is_empty() || s.len() > MAX_ID_LEN || s.chars().any(char::is_control) {
                    return Err(format!(
                        "must be 1 to {MAX_ID_LEN} bytes without control characters"
                    ));
                }
                self.id = Some(s);
            }
            "date" => self.date = Some(parse_date(&s)?),
            "reported" => self.reported = Some(parse_date(&s)?),
            "kind" => {
                self.kind = Some(Kind::parse(&s).ok_or_else(|| {
                    format!("{s:?} is not one of: statement, meeting, agreement, action, incident")
                })?);
            }
            "cameo" => {
                if !(2..=4).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "{s:?} is not a CAMEO code (2 to 4 digits, such as \"042\")"
                    ));
                }
                if Kind::from_cameo(&s).is_none() {
                    return Err(format!(
                        "{s:?} has no CAMEO root code (the first two digits must be 01-20)"
                    ));
                }
                self.cameo = Some(s);
            }
            "title" => self.title = s,
            "body" => self.body = s,
            "source" => self.source = Some(s),
            "url" => self.url = Some(s),
            other if LIST_FIELDS.contains(&other) => {
                return Err("must be a list of strings, found a string".into());
            }
            other => return Err(unknown_field(other)),
        }
        Ok(())
    }

    /// Sets a list-valued field, validating it.
    pub fn list_field(&mut self, name: &str, list: Vec<String>) -> Result<(), String> {
        if list.len() > MAX_LIST_LEN {
            return Err(format!(
                "has {} entries; the limit is {MAX_LIST_LEN}",
                list.len()
            ));
        }
        if let Some(long) = list.iter().find(|x| x.len() > MAX_TEXT_LEN) {
            return Err(format!(
                "has an entry of {} bytes; the limit is {MAX_TEXT_LEN} bytes",
                long.len()
            ));
        }
        match name {
            "actors" => {
                let mut out: Vec<String> = Vec::with_capacity(list.len());
                for a in list {
                    let code = a.trim().to_ascii_uppercase();
                    if code.len() < 2
                        || code.len() > 16
                        || !code.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        return Err(format!(
                            "actor {a:?} is not a party code (2-16 letters or digits, such as \"KGZ\")"
                        ));
                    }
                    if !out.contains(&code) {
                        out.push(code);
                    }
                }
                if out.is_empty() {
                    return Err("must list at least one party code".into());
                }
                self.actors = Some(out);
            }
            "topics" => self.topics = list,
            other if FIELDS.contains(&other) => {
                return Err("must be a string, found a list".into());
            }
            other => return Err(unknown_field(other)),
        }
        Ok(())
    }

    /// Checks the required fields and derives kind and id. `line` locates a missing field.
    pub fn finish(self, line: usize) -> Result<Report, FieldError> {
        let missing = |field: &str, message: &str| FieldError {
            field: field.into(),
            line,
            message: message.into(),
        };
        let date = self.date.ok_or_else(|| missing("date", "is required"))?;
        let actors = self
            .actors
            .ok_or_else(|| missing("actors", "is required"))?;
        let kind = match (self.kind, &self.cameo) {
            (Some(k), _) => k,
            (None, Some(code)) => {
                Kind::from_cameo(code).ok_or_else(|| missing("kind", "is required"))?
            }
            (None, None) => return Err(missing("kind", "is required unless `cameo` is given")),
        };
        let mut report = Report {
            id: String::new(),
            date,
            actors,
            kind,
            cameo: self.cameo,
            title: self.title,
            body: self.body,
            topics: self.topics,
            source: self.source,
            url: self.url,
            reported: self.reported,
        };
        report.id = match self.id {
            Some(id) => id,
            None => report.content_id(),
        };
        Ok(report)
    }
}

fn unknown_field(name: &str) -> String {
    format!(
        "unknown field `{name}`; report fields are: {}",
        FIELDS.join(", ")
    )
}

impl Report {
    /// Validates raw fields into a report, or names the first bad field.
    pub fn from_raw(raw: RawReport) -> Result<Report, FieldError> {
        let mut builder = ReportBuilder::default();
        let first_line = raw
            .fields
            .iter()
            .map(|f| f.2)
            .find(|&l| l != 0)
            .unwrap_or(0);
        for (name, value, line) in raw.fields {
            let result = match value {
                RawValue::Str(s) => builder.string_field(&name, s),
                RawValue::Date(s) if name == "date" || name == "reported" => {
                    builder.string_field(&name, s)
                }
                RawValue::List(items) if LIST_FIELDS.contains(&name.as_str()) => {
                    strings(items).and_then(|list| builder.list_field(&name, list))
                }
                _ if !FIELDS.contains(&name.as_str()) => Err(unknown_field(&name)),
                other => {
                    let expected = if LIST_FIELDS.contains(&name.as_str()) {
                        "a list of strings"
                    } else if name == "date" || name == "reported" {
                        "a date (YYYY-MM-DD or RFC 3339)"
                    } else {
                        "a string"
                    };
                    Err(format!("must be {expected}, found {}", describe(&other)))
                }
            };
            result.map_err(|message| FieldError {
                field: name.clone(),
                line,
                message,
            })?;
        }
        builder.finish(first_line)
    }

    /// The id derived from the content: equal content, equal id, whatever the file format.
    pub fn content_id(&self) -> String {
        let mut h = blake3::Hasher::new();
        let mut field = |s: &str| {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        field(&self.date.to_string());
        field(&self.actors.join(","));
        field(self.kind.as_str());
        field(self.cameo.as_deref().unwrap_or(""));
        field(&self.title);
        field(&self.body);
        field(&self.topics.join("\u{1f}"));
        field(self.source.as_deref().unwrap_or(""));
        field(self.url.as_deref().unwrap_or(""));
        field(&self.reported.map(|d| d.to_string()).unwrap_or_default());
        let hash = h.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(34);
        id.push_str("r-");
        for b in &hash.as_bytes()[..16] {
            id.push(char::from(HEX[usize::from(b >> 4)]));
            id.push(char::from(HEX[usize::from(b & 15)]));
        }
        id
    }
}

fn strings(items: Vec<RawValue>) -> Result<Vec<String>, String> {
    items
        .into_iter()
        .map(|v| match v {
            RawValue::Str(s) => Ok(s),
            other => Err(format!(
                "must be a list of strings, found {} in it",
                describe(&other)
            )),
        })
        .collect()
}

fn describe(value: &RawValue) -> &'static str {
    match value {
        RawValue::Str(_) => "a string",
        RawValue::Date(_) => "a date",
        RawValue::List(_) => "a list",
        RawValue::Other(t) => t,
    }
}

/// Where in a file a refused or skipped record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line.
    Line(usize),
    /// A 1-based record number (JSON array element).
    Record(usize),
}

/// A record or file refused (or, for GDELT rows without a country, skipped), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The file.
    pub path: PathBuf,
    /// Where in it.
    pub location: Location,
    /// The field at fault, if one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Rejection {
    /// A refusal at `location` of `path`.
    pub fn new(
        path: &Path,
        location: Location,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Rejection {
            path: path.to_path_buf(),
            location,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// A refusal from a field error, located at its line when known, else at `fallback`.
    pub fn from_field(path: &Path, fallback: Location, e: FieldError) -> Self {
        let location = match (e.line, fallback) {
            (0, l) => l,
            (_, Location::Record(_)) => fallback,
            (line, _) => Location::Line(line),
        };
        Rejection::new(path, location, Some(&e.field), e.message)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = crate::engine::problem::shown(&self.path);
        match self.location {
            Location::File => write!(f, "{path}: ")?,
            Location::Line(n) => write!(f, "{path}:{n}: ")?,
            Location::Record(n) => write!(f, "{path}: record {n}: ")?,
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&crate::engine::problem::escape_controls(&self.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(fields: &[(&str, RawValue)]) -> RawReport {
        RawReport {
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone(), 0))
                .collect(),
        }
    }

    fn s(v: &str) -> RawValue {
        RawValue::Str(v.into())
    }

    fn list(v: &[&str]) -> RawValue {
        RawValue::List(v.iter().map(|x| s(x)).collect())
    }

    #[test]
    fn kind_from_cameo_roots() {
        assert_eq!(Kind::from_cameo("010"), Some(Kind::Statement));
        assert_eq!(Kind::from_cameo("036"), Some(Kind::Statement));
        assert_eq!(Kind::from_cameo("042"), Some(Kind::Meeting));
        assert_eq!(Kind::from_cameo("057"), Some(Kind::Agreement));
        assert_eq!(Kind::from_cameo("0611"), Some(Kind::Action));
        assert_eq!(Kind::from_cameo("08"), Some(Kind::Action));
        assert_eq!(Kind::from_cameo("190"), Some(Kind::Incident));
        assert_eq!(Kind::from_cameo("20"), Some(Kind::Incident));
        assert_eq!(Kind::from_cameo("21"), None);
        assert_eq!(Kind::from_cameo("00"), None);
        assert!(Kind::Incident < Kind::Statement && Kind::Agreement < Kind::Action);
    }

    #[test]
    fn validates_and_derives() {
        let r = Report::from_raw(raw(&[
            ("date", s("2011-02-08")),
            ("actors", list(&["kgz", "TJK", "KGZ"])),
            ("cameo", s("043")),
            ("title", s("Defence ministers meet")),
        ]))
        .unwrap();
        assert_eq!(r.actors, vec!["KGZ", "TJK"]);
        assert_eq!(r.kind, Kind::Meeting);
        assert!(r.id.starts_with("r-") && r.id.len() == 34);
        let again = Report::from_raw(raw(&[
            ("title", s("Defence ministers meet")),
            ("cameo", s("043")),
            ("actors", list(&["KGZ", "TJK"])),
            ("date", RawValue::Date("2011-02-08".into())),
        ]))
        .unwrap();
        assert_eq!(
            r.id, again.id,
            "field order and format do not change the id"
        );
    }

    #[test]
    fn text_and_list_limits_at_and_past_the_edge() {
        let base = || {
            vec![
                ("date", s("2010-01-01")),
                ("actors", list(&["KGZ"])),
                ("kind", s("action")),
            ]
        };
        let mut at = base();
        at.push(("body", s(&"x".repeat(MAX_TEXT_LEN))));
        assert!(Report::from_raw(raw(&at)).is_ok());
        let mut past = base();
        past.push(("body", s(&"x".repeat(MAX_TEXT_LEN + 1))));
        assert_eq!(Report::from_raw(raw(&past)).unwrap_err().field, "body");
        let topics: Vec<String> = (0..MAX_LIST_LEN).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut at = base();
        at.push(("topics", list(&refs)));
        assert!(Report::from_raw(raw(&at)).is_ok());
        let mut more = refs.clone();
        more.push("one more");
        let mut past = base();
        past.push(("topics", list(&more)));
        assert_eq!(Report::from_raw(raw(&past)).unwrap_err().field, "topics");
    }

    #[test]
    fn content_id_is_stable() {
        // Ids are kept in ledgers: this value must never change.
        let r = Report::from_raw(raw(&[
            ("date", s("2013-05-27")),
            ("actors", list(&["TJK", "KGZ"])),
            ("kind", s("agreement")),
            ("title", s("Joint statement")),
        ]))
        .unwrap();
        // Checked independently with the Python blake3 package over the same encoding
        // (each field as a little-endian u64 length, then its bytes).
        assert_eq!(r.id, "r-e8fdaa5327ab46054b6f2a62f32e8e14");
    }

    #[test]
    #[allow(clippy::too_many_lines)] // a table of cases
    fn names_the_bad_field() {
        let cases: Vec<(Vec<(&str, RawValue)>, &str)> = vec![
            (
                vec![("actors", list(&["KGZ"])), ("kind", s("meeting"))],
                "date",
            ),
            (
                vec![
                    ("date", s("2023-02-30")),
                    ("actors", list(&["KGZ"])),
                    ("kind", s("meeting")),
                ],
                "date",
            ),
            (
                vec![("date", s("2023-02-03")), ("kind", s("meeting"))],
                "actors",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", list(&[])),
                    ("kind", s("meeting")),
                ],
                "actors",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", list(&["KGZ"])),
                    ("kind", s("talks")),
                ],
                "kind",
            ),
            (
                vec![("date", s("2023-02-03")), ("actors", list(&["KGZ"]))],
                "kind",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", list(&["KGZ"])),
                    ("cameo", s("04a")),
                ],
                "cameo",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", list(&["KGZ"])),
                    ("cameo", s("04211")),
                ],
                "cameo",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", list(&["KGZ"])),
                    ("cameo", s("990")),
                ],
                "cameo",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", list(&["KGZ"])),
                    ("kind", s("action")),
                    ("titel", s("x")),
                ],
                "titel",
            ),
            (
                vec![
                    ("date", s("2023-02-03")),
                    ("actors", s("KGZ")),
                    ("kind", s("action")),
                ],
                "actors",
            ),
            (
                vec![
                    ("date", RawValue::Other("a number")),
                    ("actors", list(&["KGZ"])),
                    ("kind", s("action")),
                ],
                "date",
            ),
        ];
        for (fields, field) in cases {
            let e = Report::from_raw(raw(&fields)).unwrap_err();
            assert_eq!(e.field, field, "{e:?}");
        }
    }
}
