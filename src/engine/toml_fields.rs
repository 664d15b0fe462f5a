//! Reading a spanned TOML tree field by field, so that every problem (not only the first)
//! is reported with its line and column, and unknown keys are never accepted silently.

use crate::engine::problem::Problem;
use chrono::NaiveDate;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where problems about one TOML document are collected.
pub struct Problems<'a> {
    /// The file being read.
    pub path: &'a Path,
    /// Its text, to turn byte offsets into lines and columns.
    pub text: &'a str,
    /// Everything found so far.
    pub list: Vec<Problem>,
    /// Valid but doubtful rules (`check` prints them; `--strict` fails on them).
    pub warnings: Vec<Problem>,
}

impl<'a> Problems<'a> {
    /// An empty collection for `text`, the content of `path`.
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        Problems {
            path,
            text,
            list: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records a warning at the start of `span`.
    pub fn warn(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.warnings
            .push(Problem::at(self.path, self.text, span.start, message));
    }

    /// Records a problem at the start of `span`.
    pub fn add(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.list
            .push(Problem::at(self.path, self.text, span.start, message));
    }
}

/// One TOML table under inspection, with a name for messages (`[agreement]`, `commitment "x"`).
pub struct Section<'t, 'i> {
    /// The table itself.
    pub table: &'t DeTable<'i>,
    /// Where the table starts, for "missing key" problems.
    pub span: Range<usize>,
    /// How messages name this table.
    pub name: String,
}

/// The TOML type name of a value, for "expected X, found Y" messages.
pub fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'t, 'i> Section<'t, 'i> {
    /// A named view of `table`.
    pub fn new(table: &'t DeTable<'i>, span: Range<usize>, name: impl Into<String>) -> Self {
        Section {
            table,
            span,
            name: name.into(),
        }
    }

    /// Reports every key not in `known`.
    pub fn check_keys(&self, problems: &mut Problems<'_>, known: &[&str]) {
        for (key, _) in self.table.iter() {
            let k: &str = key.get_ref();
            if !known.contains(&k) {
                let hint = closest(k, known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                problems.add(
                    &key.span(),
                    format!(
                        "unknown key `{k}` in {}{hint}; known keys: {}",
                        self.name,
                        known.join(", ")
                    ),
                );
            }
        }
    }

    /// The raw value of `key`, if present.
    pub fn value(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    /// Reports that `key` is required.
    pub fn missing(&self, problems: &mut Problems<'_>, key: &str) {
        problems.add(&self.span, format!("{} is missing `{key}`", self.name));
    }

    /// A string field.
    pub fn string(&self, problems: &mut Problems<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            other => {
                problems.add(
                    &v.span(),
                    format!(
                        "`{key}` in {} must be a string, found {}",
                        self.name,
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    /// A required string field.
    pub fn required_string(
        &self,
        problems: &mut Problems<'_>,
        key: &str,
    ) -> Option<(String, Range<usize>)> {
        if self.value(key).is_none() {
            self.missing(problems, key);
            return None;
        }
        self.string(problems, key)
    }

    /// An array of strings; each element keeps its own span.
    pub fn strings(
        &self,
        problems: &mut Problems<'_>,
        key: &str,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let v = self.value(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            problems.add(
                &v.span(),
                format!(
                    "`{key}` in {} must be an array of strings, found {}",
                    self.name,
                    type_name(v.get_ref())
                ),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                other => {
                    ok = false;
                    problems.add(
                        &item.span(),
                        format!(
                            "`{key}` in {} must hold strings only, found {}",
                            self.name,
                            type_name(other)
                        ),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// A calendar date: a TOML local date (`2007-09-18`) or the same as a string.
    pub fn date(
        &self,
        problems: &mut Problems<'_>,
        key: &str,
    ) -> Option<(NaiveDate, Range<usize>)> {
        let v = self.value(key)?;
        let span = v.span();
        let parsed = match v.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                        .ok_or_else(|| format!("{dt} is not a calendar date"))
                }
                _ => Err(format!(
                    "{dt} has a time; a date alone is expected, like 2007-09-18"
                )),
            },
            DeValue::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("{s:?} is not a date like 2007-09-18")),
            other => Err(format!(
                "found {}, expected a date like 2007-09-18",
                type_name(other)
            )),
        };
        match parsed {
            Ok(d) => Some((d, span)),
            Err(e) => {
                problems.add(&span, format!("`{key}` in {}: {e}", self.name));
                None
            }
        }
    }

    /// An array of tables (`[[key]]`), each as a section named `name` with `{n}` replaced by
    /// its 1-based number.
    pub fn tables(
        &self,
        problems: &mut Problems<'_>,
        key: &str,
        name: &str,
    ) -> Vec<Section<'t, 'i>> {
        let Some(v) = self.value(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            problems.add(
                &v.span(),
                format!(
                    "`{key}` in {} must be an array of tables ([[{key}]]), found {}",
                    self.name,
                    type_name(v.get_ref())
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Section::new(
                    t,
                    item.span(),
                    name.replace("{n}", &(i + 1).to_string()),
                )),
                other => problems.add(
                    &item.span(),
                    format!("`{key}` must hold tables, found {}", type_name(other)),
                ),
            }
        }
        out
    }
}

/// The known key nearest to a misspelt one, when it is near enough to be a likely typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Parses `text` into a spanned table, or records the syntax error.
pub fn parse_document<'i>(
    problems: &mut Problems<'_>,
    text: &'i str,
) -> Option<Spanned<DeTable<'i>>> {
    match DeTable::parse(text) {
        Ok(t) => Some(t),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            problems.add(&span, format!("TOML syntax error: {}", e.message().trim()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(closest("windw", &["window", "cadence"]), Some("window"));
        assert_eq!(closest("zzz", &["window", "cadence"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
