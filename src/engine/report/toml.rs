//! One report as a TOML document: a `.toml` file, or the front matter of a `.md`/`.txt` file.

use super::{RawReport, RawValue};
use crate::engine::problem::line_column;
use ::toml::de::{DeTable, DeValue};

/// Reads the top-level keys of `text` as report fields. `first_line` is the file line that
/// `text` starts on (front matter starts below its `+++`). Errors carry their file line.
pub fn raw_report(text: &str, first_line: usize) -> Result<RawReport, (usize, String)> {
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_column(text, s.start).0);
        (
            line + first_line - 1,
            format!("TOML syntax error: {}", e.message().trim()),
        )
    })?;
    let mut fields: Vec<(String, RawValue, usize)> = doc
        .get_ref()
        .iter()
        .map(|(key, value)| {
            let line = line_column(text, key.span().start).0 + first_line - 1;
            (key.get_ref().to_string(), raw_value(value.get_ref()), line)
        })
        .collect();
    // Report in file order, not key order.
    fields.sort_by_key(|f| f.2);
    Ok(RawReport { fields })
}

fn raw_value(value: &DeValue<'_>) -> RawValue {
    match value {
        DeValue::String(s) => RawValue::Str(s.to_string()),
        DeValue::Datetime(d) => RawValue::Date(d.to_string()),
        DeValue::Array(items) => {
            RawValue::List(items.iter().map(|i| raw_value(i.get_ref())).collect())
        }
        other => RawValue::Other(crate::engine::toml_fields::type_name(other)),
    }
}
