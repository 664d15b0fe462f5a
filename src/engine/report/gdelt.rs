//! GDELT event exports (docs/reference.md, Reports): 1.0 (57 or 58 columns) and 2.0 (61 columns), tab-separated
//! with no quoting, with or without a header row, read row by row.

use super::{Kind, Location, Rejection, Report, TextNeed};
use chrono::NaiveDate;
use std::path::Path;
use std::sync::OnceLock;

/// What became of one row.
pub enum Row {
    /// A report.
    Report(Report),
    /// Refused, with the reason.
    Rejected(Rejection),
    /// Skipped because neither actor has a country code (counted in `reports.skipped`).
    Skipped(Rejection),
}

/// Column numbers (0-based) of GDELT event exports; the first 35 are shared by 1.0 and 2.0.
pub mod columns {
    /// GLOBALEVENTID.
    pub const EVENT_ID: usize = 0;
    /// SQLDATE.
    pub const SQLDATE: usize = 1;
    /// Actor1Code.
    pub const ACTOR1_CODE: usize = 5;
    /// Actor1Name.
    pub const ACTOR1_NAME: usize = 6;
    /// Actor1CountryCode.
    pub const ACTOR1_COUNTRY: usize = 7;
    /// Actor2Code.
    pub const ACTOR2_CODE: usize = 15;
    /// Actor2Name.
    pub const ACTOR2_NAME: usize = 16;
    /// Actor2CountryCode.
    pub const ACTOR2_COUNTRY: usize = 17;
    /// IsRootEvent.
    pub const IS_ROOT_EVENT: usize = 25;
    /// EventCode.
    pub const EVENT_CODE: usize = 26;
    /// NumSources.
    pub const NUM_SOURCES: usize = 32;
    /// How many columns a GDELT 2.0 row has.
    pub const COUNT_2_0: usize = 61;
}
use columns::*;

/// Column layout of one GDELT version (the first 35 columns are shared).
struct Layout {
    version: &'static str,
    action_geo_name: usize,
    date_added: usize,
    url: Option<usize>,
}

fn layout(columns: usize) -> Option<Layout> {
    match columns {
        57 => Some(Layout {
            version: "GDELT 1.0",
            action_geo_name: 50,
            date_added: 56,
            url: None,
        }),
        58 => Some(Layout {
            version: "GDELT 1.0",
            action_geo_name: 50,
            date_added: 56,
            url: Some(57),
        }),
        61 => Some(Layout {
            version: "GDELT 2.0",
            action_geo_name: 53,
            date_added: 59,
            url: Some(60),
        }),
        _ => None,
    }
}

/// The outcome of file line `line` (1-based, with its line end), or `None` for a blank line
/// or the header row. With `need` (the reader feeds a matcher only), a row gets no source
/// and address, and one none of whose actors it wants no title and body either.
pub fn line(path: &Path, line: usize, bytes: &[u8], need: Option<&TextNeed>) -> Option<Row> {
    let mut bytes = bytes;
    if line == 1 {
        bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    }
    while let Some(rest) = bytes
        .strip_suffix(b"\n")
        .or_else(|| bytes.strip_suffix(b"\r"))
    {
        bytes = rest;
    }
    if bytes.is_empty() {
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Some(Row::Rejected(Rejection::new(
                path,
                Location::Line(line),
                None,
                format!("row is not valid UTF-8 (byte {})", e.valid_up_to()),
            )));
        }
    };
    if line == 1
        && text
            .get(..13)
            .is_some_and(|h| h.eq_ignore_ascii_case("GLOBALEVENTID"))
    {
        return None;
    }
    Some(row(path, line, text, need))
}

/// The most columns a row may have and still be a GDELT row (one more is counted, to tell
/// a row of too many).
const MAX_COLUMNS: usize = 61;

fn row(path: &Path, line: usize, text: &str, need: Option<&TextNeed>) -> Row {
    let mut columns = [""; MAX_COLUMNS + 1];
    let n = cut_columns(text, &mut columns);
    let cols: &[&str] = &columns[..n.min(MAX_COLUMNS + 1)];
    let reject = |field: Option<&str>, message: String| {
        Row::Rejected(Rejection::new(path, Location::Line(line), field, message))
    };
    let Some(layout) = layout(n) else {
        return reject(
            None,
            format!("row has {n} tab-separated columns; GDELT 1.0 has 57 or 58, GDELT 2.0 has 61"),
        );
    };
    let (id, date, code, kind) = match row_event(cols) {
        Ok(event) => event,
        Err((field, message)) => return reject(Some(field), message),
    };
    let actors = match row_actors(cols) {
        Ok(actors) => actors,
        Err((field, message)) => return reject(Some(field), message),
    };
    if actors.is_empty() {
        return Row::Skipped(Rejection::new(
            path,
            Location::Line(line),
            None,
            "skipped: neither Actor1CountryCode nor Actor2CountryCode is given",
        ));
    }
    let url = layout.url.map(|i| cols[i].trim()).filter(|u| !u.is_empty());
    let (title, body) = if need.is_none_or(|need| need.wants(&actors)) {
        row_text(cols, &layout, code, url)
    } else {
        (String::new(), String::new())
    };
    let reported = cols[layout.date_added].get(..8).and_then(gdelt_date);
    Row::Report(Report {
        id: ["gdelt-", id].concat(),
        date,
        actors,
        kind,
        cameo: Some(code.to_string()),
        title,
        body,
        topics: Vec::new(),
        // a reader for a matcher only (`need`) leaves out what is only shown
        source: need.is_none().then(|| layout.version.to_string()),
        url: url.filter(|_| need.is_none()).map(str::to_string),
        reported,
    })
}

/// Cuts `text` at its tabs into `columns` (the first `MAX_COLUMNS + 1`) and returns how
/// many columns it has, with no allocation: one pass over the bytes, which costs less than
/// a search per field on rows of short columns.
fn cut_columns<'a>(text: &'a str, columns: &mut [&'a str; MAX_COLUMNS + 1]) -> usize {
    let mut n = 0;
    let mut start = 0;
    // The tabs of 32 bytes at a time as the bits of a mask (a loop the compiler turns into
    // vector compares), then each set bit: with a tab every few bytes, cheaper than a
    // branch per byte or a memchr call per tab.
    let bytes = text.as_bytes();
    let mut base = 0;
    let chunks = bytes.chunks_exact(32);
    let tail = chunks.remainder();
    let masks = chunks
        // always 32 bytes: a fixed length is what lets the compiler compare them at once
        .map(|c| {
            let c: &[u8; 32] = c.try_into().unwrap_or(&[0; 32]);
            (tab_mask(c), 32)
        })
        .chain(std::iter::once((tab_mask(tail), tail.len())));
    for (mut mask, len) in masks {
        while mask != 0 {
            let i = base + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if let Some(slot) = columns.get_mut(n) {
                // a tab is ASCII: both ends are character boundaries
                *slot = text.get(start..i).unwrap_or_default();
            }
            n += 1;
            start = i + 1;
        }
        base += len;
    }
    if let Some(slot) = columns.get_mut(n) {
        *slot = text.get(start..).unwrap_or_default();
    }
    n + 1
}

/// Bit `j` set where the `j`th byte is a tab (at most 64 bytes; generic, so that a
/// fixed-length array keeps its length known to the compiler).
fn tab_mask<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u64 {
    bytes
        .into_iter()
        .enumerate()
        .fold(0u64, |m, (j, &b)| m | u64::from(b == b'\t') << j)
}

/// A row's GLOBALEVENTID, SQLDATE, EventCode and the kind of the code, or the column
/// that is wrong.
fn row_event<'a>(
    cols: &[&'a str],
) -> Result<(&'a str, NaiveDate, &'a str, Kind), (&'static str, String)> {
    let id = cols[EVENT_ID];
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(("GLOBALEVENTID", format!("{id:?} is not a number")));
    }
    let Some(date) = gdelt_date(cols[SQLDATE]) else {
        let message = format!("{:?} is not a date YYYYMMDD", cols[SQLDATE]);
        return Err(("SQLDATE", message));
    };
    let code = cols[EVENT_CODE];
    let digits = (2..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit());
    match digits.then(|| Kind::from_cameo(code)).flatten() {
        Some(kind) => Ok((id, date, code, kind)),
        None => Err(("EventCode", format!("{code:?} is not a CAMEO event code"))),
    }
}

/// The distinct actor countries of a row (upper-cased), or the column that is not a
/// country code.
fn row_actors(cols: &[&str]) -> Result<Vec<String>, (&'static str, String)> {
    let mut actors = Vec::with_capacity(2);
    for (col, field) in [
        (ACTOR1_COUNTRY, "Actor1CountryCode"),
        (ACTOR2_COUNTRY, "Actor2CountryCode"),
    ] {
        let c = cols[col].trim();
        if c.is_empty() {
            continue;
        }
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err((field, format!("{c:?} is not a 3-letter country code")));
        }
        let c = c.to_ascii_uppercase();
        if !actors.contains(&c) {
            actors.push(c);
        }
    }
    Ok(actors)
}

/// A row's title (`WHO: WHAT (CODE)`) and body (the place, then the headline words of
/// the article address), as docs/reference.md, Reports says; each built in one allocation.
fn row_text(cols: &[&str], layout: &Layout, code: &str, url: Option<&str>) -> (String, String) {
    let name = |name_col: usize, code_col: usize| {
        let n = cols[name_col].trim();
        if n.is_empty() {
            cols[code_col].trim()
        } else {
            n
        }
    };
    let (a1, a2) = (
        name(ACTOR1_NAME, ACTOR1_CODE),
        name(ACTOR2_NAME, ACTOR2_CODE),
    );
    let what = cameo_description(code).unwrap_or("event");
    let mut title = String::with_capacity(a1.len() + a2.len() + what.len() + code.len() + 8);
    match (a1.is_empty(), a2.is_empty()) {
        (false, false) => {
            title.push_str(a1);
            title.push_str(" / ");
            title.push_str(a2);
        }
        (false, true) => title.push_str(a1),
        (true, _) => title.push_str(a2),
    }
    for piece in [": ", what, " (", code, ")"] {
        title.push_str(piece);
    }
    let place = cols[layout.action_geo_name].trim();
    let mut body = String::with_capacity(place.len() + url.map_or(0, str::len) + 12);
    if !place.is_empty() {
        body.push_str("Location: ");
        body.push_str(place);
    }
    if let Some(url) = url {
        let before = body.len();
        if !body.is_empty() {
            body.push('\n');
        }
        if !push_headline_words(url, &mut body) {
            body.truncate(before);
        }
    }
    (title, body)
}

/// Pieces of an address path that are not headline words (docs/reference.md, Reports).
const NOT_HEADLINE: [&str; 10] = [
    "html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cms", "amp", "index",
];

/// The headline words of an article address (docs/reference.md, Reports): the path after the host, before any
/// `?` or `#`, percent-decoded, split at every character that is not a word character or is
/// `_`; pieces of digits only and file-type words dropped; the rest joined by single spaces.
/// Most news addresses carry the headline, so keyword rules can match machine-coded events.
pub fn headline_words(url: &str) -> String {
    let mut words = String::new();
    push_headline_words(url, &mut words);
    words
}

/// Appends the headline words of `url` to `out`, separated by single spaces; false when
/// it has none (and nothing was appended). An address with no `%` is split as it is,
/// without a decoded copy.
fn push_headline_words(url: &str, out: &mut String) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .map_or("", |slash| &after_scheme[slash..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let decoded;
    let path = if path.contains('%') {
        decoded = percent_decode(path);
        decoded.as_str()
    } else {
        path
    };
    let mut any = false;
    let mut push = |piece: &str| {
        if piece.is_empty()
            || piece.chars().all(char::is_numeric)
            || NOT_HEADLINE.iter().any(|w| piece.eq_ignore_ascii_case(w))
        {
            return;
        }
        if any {
            out.push(' ');
        }
        out.push_str(piece);
        any = true;
    };
    if path.is_ascii() {
        // the same split, by byte positions: no character decoding
        let bytes = path.as_bytes();
        let mut start = 0;
        for (i, b) in bytes.iter().enumerate() {
            if !b.is_ascii_alphanumeric() {
                push(path.get(start..i).unwrap_or_default());
                start = i + 1;
            }
        }
        push(path.get(start..).unwrap_or_default());
    } else {
        path.split(|c: char| !c.is_alphanumeric()).for_each(push);
    }
    any
}

/// `%XX` escapes to bytes (a `%` not followed by two hex digits stays as it is), then UTF-8,
/// with invalid sequences replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn gdelt_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(number(0..4) as i32, number(4..6), number(6..8))
}

/// The CAMEO description of an event code ("042" -> "Make a visit"), from the GDELT table.
pub fn cameo_description(code: &str) -> Option<&'static str> {
    static TABLE: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        include_str!("../../../data/cameo-eventcodes.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once('\t'))
            .collect()
    });
    table
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| table[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        assert_eq!(cameo_description("042"), Some("Make a visit"));
        assert_eq!(
            cameo_description("044"),
            Some("Meet at a \"third\" location")
        );
        assert_eq!(
            cameo_description("20"),
            Some("USE UNCONVENTIONAL MASS VIOLENCE")
        );
        assert_eq!(cameo_description("999"), None);
    }

    fn rows_of(text: &str) -> Vec<Row> {
        text.split_inclusive('\n')
            .enumerate()
            .filter_map(|(i, l)| line(Path::new("x.tsv"), i + 1, l.as_bytes(), None))
            .collect()
    }

    fn outcomes(text: &str) -> Vec<&'static str> {
        rows_of(text)
            .into_iter()
            .map(|r| match r {
                Row::Report(_) => "report",
                Row::Rejected(_) => "rejected",
                Row::Skipped(_) => "skipped",
            })
            .collect()
    }

    fn row61(country1: &str, country2: &str, code: &str, date: &str) -> String {
        let mut cols = vec![""; 61];
        cols[0] = "881990833";
        cols[1] = date;
        cols[6] = "KYRGYZSTAN";
        cols[7] = country1;
        cols[16] = "TAJIKISTAN";
        cols[17] = country2;
        cols[26] = code;
        cols[59] = "20191024143000";
        cols[60] = "https://example.org/a\"b";
        cols.join("\t")
    }

    #[test]
    fn rows() {
        let good = row61("KGZ", "TJK", "042", "20191024");
        let text = format!(
            "{good}\n{}\n{}\n{}\n{}\nshort\trow\n",
            row61("", "", "042", "20191024"),
            row61("KGZ", "", "04x", "20191024"),
            row61("KGZ", "", "042", "20190230"),
            row61("KG", "", "042", "20191024"),
        );
        assert_eq!(
            outcomes(&text),
            vec![
                "report", "skipped", "rejected", "rejected", "rejected", "rejected"
            ]
        );
        let Some(Row::Report(r)) = rows_of(&good).pop() else {
            panic!("not a report")
        };
        assert_eq!(r.id, "gdelt-881990833");
        assert_eq!(r.actors, vec!["KGZ", "TJK"]);
        assert_eq!(r.kind, Kind::Meeting);
        assert_eq!(r.title, "KYRGYZSTAN / TAJIKISTAN: Make a visit (042)");
        assert_eq!(r.url.as_deref(), Some("https://example.org/a\"b"));
        assert_eq!(r.reported, NaiveDate::from_ymd_opt(2019, 10, 24));
    }

    #[test]
    fn headline_words_of_addresses() {
        for (url, words) in [
            (
                "https://24.kg/english/284361_Kyrgyzstan_Tajikistan_agree_border_demarcation/",
                "english Kyrgyzstan Tajikistan agree border demarcation",
            ),
            (
                "http://www.example.com/2019/10/24/news/index.html?id=7#top",
                "news",
            ),
            ("https://example.org/", ""),
            ("https://example.org", ""),
            (
                "https://ru.example.org/%D0%B4%D0%B5%D0%BC%D0%B0%D1%80%D0%BA%D0%B0%D1%86%D0%B8%D1%8F-border.AMP.php",
                "демаркация border",
            ),
            ("https://x.org/a%ZZb/100%/c", "a ZZb c"),
            ("https://x.org/Talks-in-Dushanbe.shtml", "Talks in Dushanbe"),
        ] {
            assert_eq!(headline_words(url), words, "{url}");
        }
    }

    /// The columns of [`row61`], to be changed one by one.
    fn cols61(country1: &str, country2: &str, code: &str, date: &str) -> Vec<String> {
        row61(country1, country2, code, date)
            .split('\t')
            .map(String::from)
            .collect()
    }

    #[test]
    fn body_holds_place_and_headline() {
        let mut cols = cols61("KGZ", "TJK", "042", "20191024");
        cols[53] = "Batken, Kyrgyzstan".into();
        cols[60] =
            "https://24.kg/english/284361_Kyrgyzstan_Tajikistan_agree_border_demarcation/".into();
        let Some(Row::Report(r)) = rows_of(&cols.join("\t")).pop() else {
            panic!("not a report")
        };
        assert_eq!(
            r.body,
            "Location: Batken, Kyrgyzstan\nenglish Kyrgyzstan Tajikistan agree border demarcation"
        );
        cols[53] = String::new();
        let Some(Row::Report(r)) = rows_of(&cols.join("\t")).pop() else {
            panic!("not a report")
        };
        assert_eq!(
            r.body,
            "english Kyrgyzstan Tajikistan agree border demarcation"
        );
    }

    #[test]
    fn text_is_built_only_for_the_parties_that_need_it() {
        use crate::engine::report::party_code;
        let mut cols = cols61("KGZ", "USA", "042", "20191024");
        cols[53] = "Batken, Kyrgyzstan".into();
        let text = cols.join("\t");
        let read = |need: &TextNeed| match line(Path::new("x.tsv"), 1, text.as_bytes(), Some(need))
        {
            Some(Row::Report(r)) => r,
            _ => panic!("not a report"),
        };
        let kgz = read(&TextNeed::of_codes(vec![
            party_code("TJK"),
            party_code("KGZ"),
        ]));
        assert!(kgz.title.ends_with("Make a visit (042)"), "{}", kgz.title);
        assert!(
            kgz.body.starts_with("Location: Batken, Kyrgyzstan\n"),
            "{}",
            kgz.body
        );
        let other = read(&TextNeed::of_codes(vec![party_code("TJK")]));
        assert_eq!((other.title.as_str(), other.body.as_str()), ("", ""));
        // everything but the text is read as before
        assert_eq!(
            (
                &other.id,
                other.date,
                &other.actors,
                &other.cameo,
                other.kind
            ),
            (&kgz.id, kgz.date, &kgz.actors, &kgz.cameo, kgz.kind)
        );
        // what is only shown is left out for a matcher, and read without one
        assert_eq!((&kgz.source, &kgz.url), (&None, &None));
        let Some(Row::Report(shown)) = line(Path::new("x.tsv"), 1, text.as_bytes(), None) else {
            panic!("not a report");
        };
        assert_eq!(shown.source.as_deref(), Some("GDELT 2.0"));
        assert!(shown.url.is_some());
        assert_eq!((shown.title, shown.body), (kgz.title, kgz.body));
    }

    proptest::proptest! {
        /// An ASCII address is split into the same headline words as by characters.
        #[test]
        fn ascii_addresses_split_as_by_characters(path in "[a-zA-Z0-9/_.%-]{0,60}") {
            let url = format!("https://example.org/{path}");
            // the path after the host (no `?` or `#` in these), decoded
            let decoded = percent_decode(&path);
            let words: Vec<&str> = decoded
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| {
                    !p.is_empty()
                        && !p.chars().all(char::is_numeric)
                        && !NOT_HEADLINE.iter().any(|w| p.eq_ignore_ascii_case(w))
                })
                .collect();
            proptest::prop_assert_eq!(headline_words(&url), words.join(" "));
        }

        /// Columns are cut at every tab, as `split` cuts them, at any length and position.
        #[test]
        fn columns_are_cut_at_every_tab(text in "[a\\t\u{e9}]{0,200}") {
            let mut columns = [""; MAX_COLUMNS + 1];
            let n = cut_columns(&text, &mut columns);
            let want: Vec<&str> = text.split('\t').collect();
            proptest::prop_assert_eq!(n, want.len());
            let kept = n.min(MAX_COLUMNS + 1);
            proptest::prop_assert_eq!(&columns[..kept], &want[..kept]);
        }
    }

    #[test]
    fn header_row_is_not_data() {
        let header = ["GLOBALEVENTID"; 61].join("\t");
        let text = format!("{header}\n{}\n", row61("KGZ", "TJK", "042", "20191024"));
        assert_eq!(outcomes(&text), vec!["report"]);
    }
}
