//! `.md` / `.txt` reports: TOML front matter between `+++` lines, then the body text.

use super::{RawReport, RawValue};

/// Splits `text` into front matter and body and reads the front matter's fields; the text
/// after the closing `+++` becomes `body`. Errors carry their file line.
pub fn raw_report(text: &str) -> Result<RawReport, (usize, String)> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "+++" {
        return Err((
            1,
            "a report file must start with a `+++` line, then TOML fields, then `+++`".into(),
        ));
    }
    let front_start = first.len();
    let mut offset = front_start;
    let mut closing = None;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == "+++" {
            closing = Some((offset, offset + line.len(), i + 2));
            break;
        }
        offset += line.len();
    }
    let Some((front_end, body_start, _closing_line)) = closing else {
        return Err((
            1,
            "the front matter opened on line 1 is never closed by a `+++` line".into(),
        ));
    };
    let mut raw = super::toml::raw_report(&text[front_start..front_end], 2)?;
    let body = text[body_start..].trim();
    if !body.is_empty() {
        if let Some((_, _, line)) = raw.fields.iter().find(|f| f.0 == "body") {
            return Err((
                *line,
                "field `body`: given in the front matter and as text after it; keep one".into(),
            ));
        }
        raw.fields
            .push(("body".into(), RawValue::Str(body.to_string()), 0));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter() {
        let t = "+++\ndate = 2013-05-27\nactors = [\"KGZ\"]\n+++\n\nThe body.\n";
        let raw = raw_report(t).unwrap();
        assert_eq!(raw.fields[0].0, "date");
        assert_eq!(raw.fields[0].2, 2);
        assert_eq!(raw.fields[1].2, 3);
        assert_eq!(
            raw.fields[2],
            ("body".into(), RawValue::Str("The body.".into()), 0)
        );
    }

    #[test]
    fn crlf_and_errors() {
        let t = "+++\r\nkind = \"meeting\"\r\n+++\r\nbody\r\n";
        assert!(raw_report(t).is_ok());
        assert_eq!(raw_report("no front matter").unwrap_err().0, 1);
        assert!(
            raw_report("+++\ndate = 2013-05-27\n")
                .unwrap_err()
                .1
                .contains("never closed")
        );
        assert_eq!(raw_report("+++\nok = 1\nbad = \n+++\n").unwrap_err().0, 3);
    }
}
