//! Located problems: every error about a user's file says where it is.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in one file, printed as `path:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The file the problem is in.
    pub path: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column in characters; 0 when the problem concerns the whole file.
    pub column: usize,
    /// What is wrong, and where possible what would be right.
    pub message: String,
}

impl Problem {
    /// The problem a TOML parser found in `text`, the content of `path`, at its place.
    pub fn from_toml(path: &Path, text: &str, e: &toml::de::Error) -> Problem {
        Problem::at(
            path,
            text,
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_string(),
        )
    }

    /// A problem at byte `offset` of `text`, the content of `path`.
    pub fn at(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> Problem {
        let (line, column) = line_column(text, offset);
        Problem {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A problem with the file as a whole (unreadable, missing, empty folder).
    pub fn whole_file(path: &Path, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", shown(&self.path), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                shown(&self.path),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// `text` with control characters (newlines, escapes, NUL...) written as escapes, so that a
/// file name or a report's text can never forge or break a log line.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A path for messages and logs: lossy UTF-8, control characters escaped.
pub fn shown(path: &Path) -> String {
    escape_controls(&path.to_string_lossy()).into_owned()
}

/// 1-based line and character column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_column(t, 0), (1, 1));
        assert_eq!(line_column(t, 3), (2, 1));
        assert_eq!(line_column(t, 7), (2, 4));
        assert_eq!(line_column(t, 8), (3, 1));
        assert_eq!(line_column(t, 999), (3, 2));
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(
            escape_controls("a\nb\x1b[31m\u{0}"),
            "a\\nb\\u{1b}[31m\\u{0}"
        );
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(shown(Path::new("x\ny.json")), "x\\ny.json");
    }

    #[test]
    fn display() {
        let p = Problem::at(Path::new("r/a.toml"), "x\ny = 1", 2, "unknown key `y`");
        assert_eq!(p.to_string(), "r/a.toml:2:1: unknown key `y`");
    }
}
