//! `.json` (one object, or an array of them, read element by element) and `.jsonl` /
//! `.ndjson` (one object per line) reports.

use super::{FieldError, RawReport, RawValue, Report, ReportBuilder};
use serde::de::{Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::io::Read;

/// A report object with the expected types, borrowed from the line where it can be. Most
/// records parse this way; one that does not (a wrong type, an unknown field) is parsed
/// again as a generic value, for a message naming the field.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedReport<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    date: Option<Cow<'a, str>>,
    #[serde(default)]
    actors: Option<Vec<String>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cameo: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(default)]
    topics: Option<Vec<String>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reported: Option<Cow<'a, str>>,
}

/// Parses one JSON object straight into a report. `None` when the object does not have the
/// expected shape; the caller then takes the slower path that names the bad field.
pub fn typed_report(text: &str) -> Option<Result<Report, FieldError>> {
    let t: TypedReport<'_> = serde_json::from_str(text).ok()?;
    let mut b = ReportBuilder::default();
    let strings = [
        ("id", t.id),
        ("date", t.date),
        ("kind", t.kind),
        ("cameo", t.cameo),
        ("title", t.title),
        ("body", t.body),
        ("source", t.source),
        ("url", t.url),
        ("reported", t.reported),
    ];
    let lists = [("actors", t.actors), ("topics", t.topics)];
    let err = |field: &str, message: String| FieldError {
        field: field.into(),
        line: 0,
        message,
    };
    for (name, value) in strings {
        if let Some(v) = value
            && let Err(e) = b.string_field(name, v.into_owned())
        {
            return Some(Err(err(name, e)));
        }
    }
    for (name, value) in lists {
        if let Some(v) = value
            && let Err(e) = b.list_field(name, v)
        {
            return Some(Err(err(name, e)));
        }
    }
    Some(b.finish(0))
}

/// Converts one parsed JSON value into raw fields; anything but an object is refused.
pub fn raw_report(value: Value) -> Result<RawReport, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "a report must be a JSON object, found {}",
            json_type(&value)
        ));
    };
    let fields = map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, raw_value(v), 0))
        .collect();
    Ok(RawReport { fields })
}

fn raw_value(value: Value) -> RawValue {
    match value {
        Value::String(s) => RawValue::Str(s),
        Value::Array(items) => RawValue::List(items.into_iter().map(raw_value).collect()),
        other => RawValue::Other(json_type(&other)),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a `.json` file: calls `each(record_number, value)` for a single object (record 1)
/// or for every element of a top-level array, without holding the whole array in memory.
/// A syntax error ends the file; records before it have been delivered.
pub fn read_document(reader: impl Read, each: &mut dyn FnMut(usize, Value)) -> Result<(), String> {
    struct Records<'a> {
        each: &'a mut dyn FnMut(usize, Value),
    }
    impl<'de> Visitor<'de> for Records<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a report object or an array of report objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut n = 0;
            while let Some(v) = seq.next_element::<Value>()? {
                n += 1;
                (self.each)(n, v);
            }
            Ok(())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
            let v: Value =
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            (self.each)(1, v);
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    de.deserialize_any(Records { each })
        .and_then(|()| de.end())
        .map_err(|e| format!("JSON error: {e}"))
}

/// The refusal for JSON nested deeper than `max` levels.
pub fn too_deep(max: usize) -> String {
    format!("JSON nested deeper than {max} levels (the limit inbox.max_json_depth); not parsed")
}

/// How deep the JSON text fed so far is nested, for refusing deep input before the parser
/// recurses into it. Brackets inside strings do not count.
#[derive(Debug, Default)]
pub struct Nesting {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    /// Feeds the next bytes; `Err(i)` at the first byte `i` that opens level `max + 1`.
    pub fn feed(&mut self, bytes: &[u8], max: usize) -> Result<(), usize> {
        for (i, &b) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > max {
                        return Err(i);
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }
}

/// A reader that fails, at the byte that goes too deep, on JSON nested deeper than a
/// limit; bytes before that byte are passed on, so records before it are still read.
pub struct DepthLimited<R> {
    inner: R,
    nesting: Nesting,
    max: usize,
    failed: bool,
}

impl<R> DepthLimited<R> {
    /// Wraps `inner`, allowing `max` levels.
    pub fn new(inner: R, max: usize) -> Self {
        DepthLimited {
            inner,
            nesting: Nesting::default(),
            max,
            failed: false,
        }
    }
}

impl<R: Read> Read for DepthLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.failed {
            return Err(std::io::Error::other(too_deep(self.max)));
        }
        let n = self.inner.read(buf)?;
        match self.nesting.feed(&buf[..n], self.max) {
            Ok(()) => Ok(n),
            // hand on what came before the offending byte; the next read fails
            Err(i) => {
                self.failed = true;
                if i == 0 {
                    Err(std::io::Error::other(too_deep(self.max)))
                } else {
                    Ok(i)
                }
            }
        }
    }
}

/// Parses file line `line` (1-based) of a JSON-lines file, or `None` for a blank line.
pub fn line(line: usize, bytes: &[u8]) -> Option<Result<Value, String>> {
    let bytes = if line == 1 {
        bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
    } else {
        bytes
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str::<Value>(text).map_err(|e| format!("JSON error: {e}")),
        Err(e) => Err(format!(
            "line is not valid UTF-8 (byte {})",
            e.valid_up_to()
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_or_array() {
        let mut seen = Vec::new();
        read_document(&b"{\"a\": 1}"[..], &mut |n, _| seen.push(n)).unwrap();
        assert_eq!(seen, vec![1]);
        seen.clear();
        read_document(&b"[{}, 2, {}]"[..], &mut |n, _| seen.push(n)).unwrap();
        assert_eq!(seen, vec![1, 2, 3]);
        seen.clear();
        let err = read_document(&b"[{}, {}, {"[..], &mut |n, _| seen.push(n)).unwrap_err();
        assert_eq!(seen, vec![1, 2]);
        assert!(err.contains("JSON error"), "{err}");
        assert!(read_document(&b"\"text\""[..], &mut |_, _| {}).is_err());
        assert!(read_document(&b"{} {}"[..], &mut |_, _| {}).is_err());
    }

    #[test]
    fn lines() {
        assert!(line(1, b"\xef\xbb\xbf{}\n").unwrap().is_ok());
        assert!(line(2, b"  \r\n").is_none());
        assert!(line(3, b"not json\n").unwrap().is_err());
        assert!(
            line(4, b"{\"a\": \"\xff\"}")
                .unwrap()
                .unwrap_err()
                .contains("UTF-8")
        );
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        let mut n = Nesting::default();
        assert!(n.feed(br#"{"a": ["[[[{{{", "\"[[", "\\"]}"#, 2).is_ok());
        let mut n = Nesting::default();
        assert!(n.feed(b"[[", 2).is_ok());
        assert_eq!(n.feed(b" [", 2), Err(1));
        // at the limit and one past it, split across reads
        let deep = |d: usize| "[".repeat(d) + &"]".repeat(d);
        let read = |text: String, max: usize| {
            let mut seen = 0;
            let r = read_document(DepthLimited::new(text.as_bytes(), max), &mut |_, _| {
                seen += 1
            });
            (r, seen)
        };
        assert!(read(deep(5), 5).0.is_ok());
        let (err, _) = read(deep(6), 5);
        assert!(err.unwrap_err().contains("deeper than 5 levels"));
        // the parser itself takes the ceiling, and the limit answers past it
        let ceiling = crate::engine::report::MAX_JSON_DEPTH_CEILING;
        assert!(read(deep(ceiling), ceiling).0.is_ok());
        let err = read(deep(ceiling + 1), ceiling).0.unwrap_err();
        assert!(
            err.contains(&format!("deeper than {ceiling} levels")),
            "{err}"
        );
        // records before the deep one are delivered
        let text = format!("[{{}}, {{}}, {{\"a\": {}}}]", deep(100_000));
        let (err, seen) = read(text, 64);
        assert_eq!(seen, 2);
        assert!(err.unwrap_err().contains("deeper than 64 levels"));
    }

    #[test]
    fn nulls_are_absent() {
        let raw = raw_report(serde_json::json!({"title": null, "date": "2020-01-01"})).unwrap();
        assert_eq!(raw.fields.len(), 1);
    }
}
