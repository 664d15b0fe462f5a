//! The event datasets analysts trust (docs/reference.md, "Event datasets"): ACLED, UCDP GED,
//! ICEWS and POLECAT, read as published. A table file is one of them when its first line
//! is a header holding the dataset's columns (any order, others ignored); every row is then
//! turned into one report by column name, or refused naming the file, the line and the
//! column, or skipped (counted) when its actors name no country of the table.

use super::countries;
use super::{Item, Kind, Location, MAX_ID_LEN, MAX_LIST_LEN, MAX_TEXT_LEN, Rejection, Report};
use crate::engine::dates::parse_date;
use chrono::NaiveDate;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// One of the event datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// ACLED export (comma-separated, RFC 4180 quotes).
    Acled,
    /// UCDP Georeferenced Event Dataset (comma-separated, RFC 4180 quotes).
    Ucdp,
    /// ICEWS coded events (tab-separated, no quoting).
    Icews,
    /// POLECAT, the PLOVER-coded successor of ICEWS (tab-separated, no quoting).
    Polecat,
}

impl Dataset {
    const ALL: [Dataset; 4] = [
        Dataset::Acled,
        Dataset::Ucdp,
        Dataset::Icews,
        Dataset::Polecat,
    ];

    /// The dataset's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Acled => "an ACLED export",
            Dataset::Ucdp => "a UCDP GED file",
            Dataset::Icews => "an ICEWS file",
            Dataset::Polecat => "a POLECAT file",
        }
    }

    /// The columns a header must hold to be this dataset's.
    fn required(self) -> &'static [&'static str] {
        match self {
            Dataset::Acled => &[
                "event_id_cnty",
                "event_date",
                "event_type",
                "sub_event_type",
                "actor1",
                "iso",
            ],
            Dataset::Ucdp => &[
                "relid",
                "type_of_violence",
                "date_start",
                "side_a",
                "side_b",
            ],
            Dataset::Icews => &[
                "Event ID",
                "Event Date",
                "CAMEO Code",
                "Source Country",
                "Target Country",
            ],
            Dataset::Polecat => &[
                "Event ID",
                "Event Date",
                "Event Type",
                "Actor Country",
                "Recipient Country",
            ],
        }
    }

    /// True for the comma-separated datasets (RFC 4180 quoting); the others are
    /// tab-separated with no quoting.
    pub fn is_csv(self) -> bool {
        matches!(self, Dataset::Acled | Dataset::Ucdp)
    }
}

/// A recognised header: the dataset and where its columns are.
#[derive(Debug, Clone)]
pub struct Header {
    /// Which dataset.
    pub dataset: Dataset,
    columns: HashMap<String, usize>,
}

/// What the first line of a table file says.
#[derive(Debug)]
pub enum Detected {
    /// The header of a dataset.
    Dataset(Header),
    /// Some, not all, of a dataset's required columns: the file is not that dataset, and a
    /// refusal of it says why.
    Partial(String),
    /// No dataset's header.
    None,
}

/// Recognises the header of a dataset in the first line of a file (its line end and a
/// UTF-8 byte-order mark allowed).
pub fn detect(line: &[u8]) -> Detected {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    let line = trim_line_end(line);
    let text = decode(line);
    let tab: Vec<String> = text.split('\t').map(str::to_string).collect();
    let comma = csv_fields(line);
    let mut partial = None;
    for dataset in Dataset::ALL {
        let names = if dataset.is_csv() { &comma } else { &tab };
        let missing: Vec<&str> = dataset
            .required()
            .iter()
            .copied()
            .filter(|r| !names.iter().any(|n| n == r))
            .collect();
        if missing.is_empty() {
            let mut columns = HashMap::new();
            for (i, n) in names.iter().enumerate() {
                columns.entry(n.clone()).or_insert(i);
            }
            return Detected::Dataset(Header { dataset, columns });
        }
        if missing.len() < dataset.required().len() - 1 && partial.is_none() {
            partial = Some(format!(
                "the first line names some columns of {} but not {}, so it is not read as one",
                dataset.name(),
                missing.join(", ")
            ));
        }
    }
    partial.map_or(Detected::None, Detected::Partial)
}

/// The fields of one comma-separated line, RFC 4180 quotes removed (for the header).
fn csv_fields(line: &[u8]) -> Vec<String> {
    let mut reader = csv_core::Reader::new();
    let mut out = vec![0u8; line.len() + 1];
    let mut ends = vec![0usize; line.len() + 1];
    let (_, _, nout, nend) = reader.read_record(line, &mut out, &mut ends);
    let (_, _, _, last) = reader.read_record(&[], &mut out[nout..], &mut ends[nend..]);
    let mut fields = Vec::new();
    let mut start = 0;
    for &end in &ends[..nend + last] {
        fields.push(decode(&out[start..end]).into_owned());
        start = end;
    }
    fields
}

fn trim_line_end(mut bytes: &[u8]) -> &[u8] {
    while let Some(rest) = bytes
        .strip_suffix(b"\n")
        .or_else(|| bytes.strip_suffix(b"\r"))
    {
        bytes = rest;
    }
    bytes
}

/// UTF-8, or else ISO-8859-1 (each byte one character), as some releases are written.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// The report of one tab-separated row (ICEWS, POLECAT): file line `line` with its line
/// end, or `None` for a blank line.
pub fn tsv_row(header: &Header, path: &Path, line: usize, bytes: &[u8]) -> Option<Item> {
    let bytes = trim_line_end(bytes);
    if bytes.is_empty() {
        return None;
    }
    let text = decode(bytes);
    let fields: Vec<&str> = text.split('\t').collect();
    Some(row(header, path, line, &fields))
}

/// The report of one comma-separated record (ACLED, UCDP), as [`encode_record`] packed it.
pub fn csv_row(header: &Header, path: &Path, line: usize, packed: &[u8]) -> Option<Item> {
    let fields = unpack_record(packed);
    let utf8 = fields.iter().all(|f| std::str::from_utf8(f).is_ok());
    let texts: Vec<Cow<'_, str>> = if utf8 {
        fields.iter().map(|f| decode(f)).collect()
    } else {
        // the whole record read as ISO-8859-1, as one line would be
        fields
            .iter()
            .map(|f| Cow::Owned(f.iter().map(|&b| char::from(b)).collect()))
            .collect()
    };
    if texts.iter().all(|t| t.trim().is_empty()) {
        return None;
    }
    let fields: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
    Some(row(header, path, line, &fields))
}

/// Appends to `buf` the trailer that makes the field bytes written since `start` (field
/// `i` ends at `ends[i]`, relative to `start`) one packed record.
pub fn encode_record(buf: &mut Vec<u8>, ends: &[usize]) {
    for &end in ends {
        buf.extend_from_slice(&(end as u32).to_le_bytes());
    }
    buf.extend_from_slice(&(ends.len() as u32).to_le_bytes());
}

fn unpack_record(packed: &[u8]) -> Vec<&[u8]> {
    let word = |at: usize| {
        packed
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let Some(count_at) = packed.len().checked_sub(4) else {
        return Vec::new();
    };
    let count = word(count_at);
    let Some(ends_at) = count_at.checked_sub(count * 4) else {
        return Vec::new();
    };
    let mut fields = Vec::with_capacity(count);
    let mut start = 0;
    for i in 0..count {
        let end = word(ends_at + i * 4).min(ends_at);
        fields.push(packed.get(start..end).unwrap_or(&[]));
        start = end;
    }
    fields
}

/// One row's values by column name.
struct Values<'a> {
    header: &'a Header,
    fields: &'a [&'a str],
}

impl<'a> Values<'a> {
    /// The value of `column`, or `None` when the column is absent or the value blank or
    /// the literal `None`.
    fn get(&self, column: &str) -> Option<&'a str> {
        let i = *self.header.columns.get(column)?;
        let v = self.fields.get(i)?.trim();
        (!v.is_empty() && v != "None").then_some(v)
    }

    fn or_blank(&self, column: &str) -> &'a str {
        self.get(column).unwrap_or("")
    }

    /// The non-blank values of `columns`, joined with `, ` (a place).
    fn place(&self, columns: &[&str]) -> String {
        let parts: Vec<&str> = columns.iter().filter_map(|c| self.get(c)).collect();
        parts.join(", ")
    }
}

/// A refusal of one row, naming its column.
struct Refusal {
    column: &'static str,
    message: String,
}

fn refuse(column: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        column,
        message: message.into(),
    }
}

/// What a dataset row says, before the checks every report gets.
struct Draft {
    id: String,
    date: NaiveDate,
    actors: Vec<&'static str>,
    kind: Kind,
    cameo: Option<String>,
    topics: Vec<String>,
    title: String,
    body: String,
    source: Option<String>,
    reported: Option<NaiveDate>,
    /// The columns the actors came from, for the skip message.
    actor_columns: &'static str,
}

fn row(header: &Header, path: &Path, line: usize, fields: &[&str]) -> Item {
    let v = Values { header, fields };
    let draft = match header.dataset {
        Dataset::Acled => acled(&v),
        Dataset::Ucdp => ucdp(&v),
        Dataset::Icews => icews(&v),
        Dataset::Polecat => polecat(&v),
    };
    let at = Location::Line(line);
    let draft = match draft {
        Ok(d) => d,
        Err(r) => return Item::Rejected(Rejection::new(path, at, Some(r.column), r.message)),
    };
    if draft.actors.is_empty() {
        return Item::Skipped(Rejection::new(
            path,
            at,
            None,
            format!(
                "skipped: no country of the table in {}",
                draft.actor_columns
            ),
        ));
    }
    match finish(draft) {
        Ok(report) => Item::Report(report),
        Err(r) => Item::Rejected(Rejection::new(path, at, Some(r.column), r.message)),
    }
}

/// The limits every report keeps (id, text and list lengths).
fn finish(d: Draft) -> Result<Report, Refusal> {
    if d.id.len() > MAX_ID_LEN || d.id.chars().any(char::is_control) {
        return Err(refuse(
            "id",
            format!("must be 1 to {MAX_ID_LEN} bytes without control characters"),
        ));
    }
    for (column, text) in [("title", &d.title), ("body", &d.body)] {
        if text.len() > MAX_TEXT_LEN {
            return Err(refuse(
                column,
                format!(
                    "is {} bytes long; the limit is {MAX_TEXT_LEN} bytes",
                    text.len()
                ),
            ));
        }
    }
    let mut topics = d.topics;
    topics.truncate(MAX_LIST_LEN);
    Ok(Report {
        id: d.id,
        date: d.date,
        actors: d.actors.into_iter().map(str::to_string).collect(),
        kind: d.kind,
        cameo: d.cameo,
        title: d.title,
        body: d.body,
        topics,
        source: d.source,
        url: None,
        reported: d.reported,
    })
}

fn required<'a>(v: &Values<'a>, column: &'static str) -> Result<&'a str, Refusal> {
    v.get(column).ok_or_else(|| refuse(column, "is required"))
}

fn date_column(v: &Values<'_>, column: &'static str) -> Result<NaiveDate, Refusal> {
    let text = required(v, column)?;
    let ten = text.get(..10).unwrap_or(text);
    parse_date(ten).map_err(|e| refuse(column, e))
}

/// A date written as a date (its first 10 characters), else none.
fn optional_date(v: &Values<'_>, column: &str) -> Option<NaiveDate> {
    let text = v.get(column)?;
    parse_date(text.get(..10).unwrap_or(text)).ok()
}

/// `A / B: WHAT`, where a blank side is left out with its ` / ` and a blank WHAT with
/// its `: `.
fn title(a: &str, b: &str, what: &str) -> String {
    let who = match (a.is_empty(), b.is_empty()) {
        (false, false) => format!("{a} / {b}"),
        (false, true) => a.to_string(),
        (true, _) => b.to_string(),
    };
    match (who.is_empty(), what.is_empty()) {
        (_, true) => who,
        (true, false) => what.to_string(),
        (false, false) => format!("{who}: {what}"),
    }
}

/// `Location: PLACE` and the other lines that have something to say, joined with `\n`.
fn body(place: String, rest: &[&str]) -> String {
    let mut lines: Vec<String> = Vec::new();
    if !place.is_empty() {
        lines.push(format!("Location: {place}"));
    }
    lines.extend(rest.iter().filter(|l| !l.is_empty()).map(|l| l.to_string()));
    lines.join("\n")
}

fn push_unique(actors: &mut Vec<&'static str>, code: Option<&'static str>) {
    if let Some(code) = code
        && !actors.contains(&code)
    {
        actors.push(code);
    }
}

fn acled(v: &Values<'_>) -> Result<Draft, Refusal> {
    let id = required(v, "event_id_cnty")?;
    let date_text = required(v, "event_date")?;
    let date = acled_date(date_text).map_err(|e| refuse("event_date", e))?;
    let mut actors = Vec::new();
    push_unique(&mut actors, v.get("iso").and_then(countries::by_numeric));
    for column in ["actor1", "assoc_actor_1", "actor2", "assoc_actor_2"] {
        if let Some(name) = v.get(column) {
            let mut found = Vec::new();
            countries::named_in(name, &mut found);
            for code in found {
                push_unique(&mut actors, Some(code));
            }
        }
    }
    let (event_type, sub_event) = (v.or_blank("event_type"), v.or_blank("sub_event_type"));
    let topics = ["disorder_type", "event_type", "sub_event_type"]
        .iter()
        .filter_map(|c| v.get(c))
        .map(str::to_string)
        .collect();
    Ok(Draft {
        id: format!("acled-{id}"),
        date,
        actors,
        kind: acled_kind(event_type, sub_event),
        cameo: None,
        topics,
        title: title(v.or_blank("actor1"), v.or_blank("actor2"), sub_event),
        body: body(
            v.place(&["location", "admin1", "country"]),
            &[v.or_blank("notes")],
        ),
        source: v.get("source").map(str::to_string),
        reported: None,
        actor_columns: "iso, actor1, assoc_actor_1, actor2, assoc_actor_2",
    })
}

/// The kind of an ACLED event by its type and sub-event type.
pub fn acled_kind(event_type: &str, sub_event: &str) -> Kind {
    match event_type {
        "Battles" | "Explosions/Remote violence" | "Violence against civilians" | "Riots" => {
            Kind::Incident
        }
        "Strategic developments" => match sub_event {
            "Agreement" => Kind::Agreement,
            "Non-violent transfer of territory"
            | "Headquarters or base established"
            | "Disrupted weapons use" => Kind::Action,
            "Arrests" | "Looting/property destruction" => Kind::Incident,
            _ => Kind::Statement,
        },
        _ => Kind::Statement,
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// An ACLED date: `YYYY-MM-DD` (the API), `DD/MM/YYYY` (the export tool, day first) or
/// `D Month YYYY` (English month name).
pub fn acled_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let expected = "expected YYYY-MM-DD, DD/MM/YYYY or D Month YYYY";
    let bad = || format!("invalid date {t:?} ({expected})");
    let num = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (day, month, year) = if let [d, m, y] = t.split('/').collect::<Vec<_>>()[..] {
        (num(d), num(m), num(y).filter(|_| y.len() == 4))
    } else if let [d, m, y] = t.split_whitespace().collect::<Vec<_>>()[..] {
        let m = m.to_lowercase();
        let month = MONTHS
            .iter()
            .position(|name| *name == m || (m.len() >= 3 && name.starts_with(&m)))
            .map(|i| i as u32 + 1);
        (num(d), month, num(y).filter(|_| y.len() == 4))
    } else {
        return parse_date(t).map_err(|_| bad());
    };
    let (Some(d), Some(m), Some(y)) = (day, month, year) else {
        return Err(bad());
    };
    let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(bad)?;
    parse_date(&date.to_string()).map_err(|_| bad())
}

fn ucdp(v: &Values<'_>) -> Result<Draft, Refusal> {
    let id = match v.get("id") {
        Some(id) => id,
        None => required(v, "relid")?,
    };
    let date = date_column(v, "date_start")?;
    let violence = match required(v, "type_of_violence")? {
        "1" => "state-based",
        "2" => "non-state",
        "3" => "one-sided",
        other => {
            return Err(refuse(
                "type_of_violence",
                format!("{other:?} is not 1 (state-based), 2 (non-state) or 3 (one-sided)"),
            ));
        }
    };
    let best: u64 = match v.get("best") {
        None => 0,
        Some(n) => n
            .parse()
            .map_err(|_| refuse("best", format!("{n:?} is not a number of deaths")))?,
    };
    let deaths = if best == 1 {
        "1 death".to_string()
    } else {
        format!("{best} deaths")
    };
    let mut actors = Vec::new();
    for column in ["gwnoa", "gwnob", "country_id"] {
        for code in v.or_blank(column).split(',') {
            push_unique(&mut actors, countries::by_gw(code));
        }
    }
    Ok(Draft {
        id: format!("ucdp-{id}"),
        date,
        actors,
        kind: Kind::Incident,
        cameo: None,
        topics: vec![violence.to_string()],
        title: title(
            v.or_blank("side_a"),
            v.or_blank("side_b"),
            &format!("{violence} violence, {deaths}"),
        ),
        body: body(
            v.place(&["where_description", "adm_1", "country"]),
            &[v.or_blank("source_headline")],
        ),
        source: v.get("source_office").map(str::to_string),
        reported: optional_date(v, "source_date"),
        actor_columns: "gwnoa, gwnob, country_id",
    })
}

fn icews(v: &Values<'_>) -> Result<Draft, Refusal> {
    let id = required(v, "Event ID")?;
    let date = date_column(v, "Event Date")?;
    let code = required(v, "CAMEO Code")?;
    let kind = (code.len() <= 4 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| Kind::from_cameo(code))
        .flatten()
        .filter(|_| code.len() >= 2)
        .ok_or_else(|| {
            refuse(
                "CAMEO Code",
                format!("{code:?} is not a CAMEO event code (2 to 4 digits, root 01-20)"),
            )
        })?;
    let mut actors = Vec::new();
    for column in ["Source Country", "Target Country"] {
        push_unique(&mut actors, v.get(column).and_then(countries::by_name));
    }
    let what = format!("{} ({code})", v.or_blank("Event Text"));
    Ok(Draft {
        id: format!("icews-{id}"),
        date,
        actors,
        kind,
        cameo: Some(code.to_string()),
        topics: Vec::new(),
        title: title(
            v.or_blank("Source Name"),
            v.or_blank("Target Name"),
            what.trim_start(),
        ),
        body: body(v.place(&["City", "District", "Province", "Country"]), &[]),
        source: v.get("Publisher").map(str::to_string),
        reported: None,
        actor_columns: "Source Country, Target Country",
    })
}

fn polecat(v: &Values<'_>) -> Result<Draft, Refusal> {
    let id = required(v, "Event ID")?;
    let date = date_column(v, "Event Date")?;
    let event_type = v.or_blank("Event Type");
    let mut actors = Vec::new();
    for column in ["Actor Country", "Recipient Country"] {
        if let Some(value) = v.get(column) {
            push_unique(
                &mut actors,
                countries::by_alpha3(value).or_else(|| countries::by_name(value)),
            );
        }
    }
    let mut topics: Vec<String> = ["Event Type", "Event Mode"]
        .iter()
        .filter_map(|c| v.get(c))
        .map(str::to_string)
        .collect();
    topics.extend(
        v.or_blank("Contexts")
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "None")
            .map(str::to_string),
    );
    Ok(Draft {
        id: format!("polecat-{id}"),
        date,
        actors,
        kind: polecat_kind(event_type),
        cameo: None,
        topics,
        title: title(
            v.or_blank("Actor Name"),
            v.or_blank("Recipient Name"),
            event_type,
        ),
        body: body(v.place(&["Placename", "Province", "Country"]), &[]),
        source: v.get("Source").map(str::to_string),
        reported: optional_date(v, "Publication Date"),
        actor_columns: "Actor Country, Recipient Country",
    })
}

/// The kind of a PLOVER event type (case-insensitive).
pub fn polecat_kind(event_type: &str) -> Kind {
    match event_type.to_ascii_uppercase().as_str() {
        "CONSULT" => Kind::Meeting,
        "AGREE" | "CONCEDE" => Kind::Agreement,
        "COOPERATE" | "AID" | "RETREAT" => Kind::Action,
        "PROTEST" | "SANCTION" | "MOBILIZE" | "COERCE" | "ASSAULT" => Kind::Incident,
        _ => Kind::Statement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> Header {
        match detect(line.as_bytes()) {
            Detected::Dataset(h) => h,
            other => panic!("not a dataset header: {other:?}"),
        }
    }

    fn report(item: Option<Item>) -> Report {
        match item {
            Some(Item::Report(r)) => r,
            other => panic!("not a report: {other:?}"),
        }
    }

    fn refusal(item: Option<Item>) -> Rejection {
        match item {
            Some(Item::Rejected(r)) => r,
            other => panic!("not refused: {other:?}"),
        }
    }

    fn packed(fields: &[&str]) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut ends = Vec::new();
        for f in fields {
            buf.extend_from_slice(f.as_bytes());
            ends.push(buf.len());
        }
        encode_record(&mut buf, &ends);
        buf
    }

    const ACLED: &str = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n";

    #[test]
    fn headers_are_recognised_by_column_names() {
        assert_eq!(header(ACLED).dataset, Dataset::Acled);
        assert_eq!(
            header("\u{feff}\"relid\",\"date_start\",side_a,side_b,type_of_violence\r\n").dataset,
            Dataset::Ucdp,
            "quoted names, any order, a byte-order mark"
        );
        assert_eq!(
            header("Event ID\tEvent Date\tSource Name\tSource Country\tCAMEO Code\tTarget Country")
                .dataset,
            Dataset::Icews
        );
        assert_eq!(
            header("Event ID\tEvent Date\tEvent Type\tActor Country\tRecipient Country\n").dataset,
            Dataset::Polecat
        );
        match detect(b"event_id_cnty,event_date,event_type,sub_event_type,actor1\n") {
            Detected::Partial(note) => assert!(note.contains("ACLED") && note.contains("iso")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(detect(b"123\t20210429\tKGZ"), Detected::None));
        assert!(matches!(detect(b"+++\n"), Detected::None));
    }

    #[test]
    fn acled_row_becomes_a_report() {
        let h = header(ACLED);
        let mut fields = vec![""; 31];
        fields[0] = "KGZ1234";
        fields[1] = "29/04/2021";
        fields[4] = "Political violence";
        fields[5] = "Battles";
        fields[6] = "Armed clash";
        fields[7] = "Military Forces of Kyrgyzstan (2021-)";
        fields[10] = "Military Forces of Tajikistan (1994-) Border Service";
        fields[15] = "417";
        fields[17] = "Kyrgyzstan";
        fields[18] = "Batken";
        fields[21] = "Kok-Tash";
        fields[25] = "Written for this test";
        fields[27] = "Border guards exchanged fire, \"heavy\" losses.\nA second line.";
        let r = report(csv_row(&h, Path::new("a.csv"), 2, &packed(&fields)));
        assert_eq!(r.id, "acled-KGZ1234");
        assert_eq!(r.date.to_string(), "2021-04-29");
        assert_eq!(r.actors, ["KGZ", "TJK"]);
        assert_eq!(r.kind, Kind::Incident);
        assert_eq!(r.topics, ["Political violence", "Battles", "Armed clash"]);
        assert_eq!(
            r.title,
            "Military Forces of Kyrgyzstan (2021-) / Military Forces of Tajikistan (1994-) Border Service: Armed clash"
        );
        assert_eq!(
            r.body,
            "Location: Kok-Tash, Batken, Kyrgyzstan\nBorder guards exchanged fire, \"heavy\" losses.\nA second line."
        );
        assert_eq!(r.source.as_deref(), Some("Written for this test"));
    }

    #[test]
    fn acled_dates_and_kinds() {
        let d = |s: &str| acled_date(s).map(|d| d.to_string());
        assert_eq!(d("2021-04-29").unwrap(), "2021-04-29");
        assert_eq!(d("11/01/2020").unwrap(), "2020-01-11", "day first");
        assert_eq!(d("1 May 2021").unwrap(), "2021-05-01");
        assert_eq!(d("14 september 2022").unwrap(), "2022-09-14");
        assert_eq!(d("14 Sept 2022").unwrap(), "2022-09-14");
        assert!(d("31/02/2021").is_err());
        assert!(d("13/13/2021").is_err());
        assert!(d("1 Mayo 2021").is_err());
        assert!(d("yesterday").is_err());
        assert_eq!(acled_kind("Battles", "Armed clash"), Kind::Incident);
        assert_eq!(acled_kind("Protests", "Peaceful protest"), Kind::Statement);
        assert_eq!(
            acled_kind("Strategic developments", "Agreement"),
            Kind::Agreement
        );
        assert_eq!(
            acled_kind("Strategic developments", "Headquarters or base established"),
            Kind::Action
        );
        assert_eq!(
            acled_kind("Strategic developments", "Arrests"),
            Kind::Incident
        );
        assert_eq!(
            acled_kind("Strategic developments", "Other"),
            Kind::Statement
        );
        assert_eq!(acled_kind("Something new", ""), Kind::Statement);
    }

    #[test]
    fn ucdp_row_becomes_a_report() {
        let h = header(
            "id,relid,type_of_violence,side_a,side_b,source_office,source_date,source_headline,where_description,adm_1,country,country_id,date_start,best,gwnoa,gwnob\n",
        );
        let fields = [
            "400001",
            "KGZ-2021-1-1",
            "1",
            "Government of Kyrgyzstan",
            "Government of Tajikistan",
            "Written for this test",
            "2021-04-30 00:00:00.000",
            "Clash on the border",
            "Kok-Tash village",
            "Batken province",
            "Kyrgyzstan",
            "703",
            "2021-04-29 00:00:00.000",
            "1",
            "703",
            "702",
        ];
        let r = report(csv_row(&h, Path::new("g.csv"), 2, &packed(&fields)));
        assert_eq!(r.id, "ucdp-400001");
        assert_eq!(r.actors, ["KGZ", "TJK"]);
        assert_eq!(r.kind, Kind::Incident);
        assert_eq!(r.topics, ["state-based"]);
        assert_eq!(
            r.title,
            "Government of Kyrgyzstan / Government of Tajikistan: state-based violence, 1 death"
        );
        assert_eq!(
            r.body,
            "Location: Kok-Tash village, Batken province, Kyrgyzstan\nClash on the border"
        );
        assert_eq!(
            r.reported.map(|d| d.to_string()).as_deref(),
            Some("2021-04-30")
        );
        let mut bad = fields;
        bad[2] = "4";
        let e = refusal(csv_row(&h, Path::new("g.csv"), 7, &packed(&bad)));
        assert_eq!(e.field.as_deref(), Some("type_of_violence"));
        assert_eq!(e.location, Location::Line(7));
        let mut list = fields;
        (list[13], list[14], list[15], list[11]) = ("", "702, 703", "", "");
        let r = report(csv_row(&h, Path::new("g.csv"), 2, &packed(&list)));
        assert_eq!(r.actors, ["TJK", "KGZ"], "a list of G-W numbers");
        assert!(r.title.ends_with("0 deaths"));
    }

    #[test]
    fn icews_and_polecat_rows() {
        let h = header(
            "Event ID\tEvent Date\tSource Name\tSource Sectors\tSource Country\tEvent Text\tCAMEO Code\tIntensity\tTarget Name\tTarget Sectors\tTarget Country\tStory ID\tSentence Number\tPublisher\tCity\tDistrict\tProvince\tCountry\tLatitude\tLongitude\n",
        );
        let line = "1\t2021-04-29\tKyrgyzstan\t\tKyrgyzstan\tFight with small arms and light weapons\t190\t-10\tTajikistan\t\tTajikistan\t9\t1\tWritten for this test\t\t\tBatken\tKyrgyzstan\t0\t0\n";
        let r = report(tsv_row(&h, Path::new("i.tab"), 2, line.as_bytes()));
        assert_eq!(r.id, "icews-1");
        assert_eq!(r.actors, ["KGZ", "TJK"]);
        assert_eq!(r.cameo.as_deref(), Some("190"));
        assert_eq!(r.kind, Kind::Incident);
        assert_eq!(
            r.title,
            "Kyrgyzstan / Tajikistan: Fight with small arms and light weapons (190)"
        );
        assert_eq!(r.body, "Location: Batken, Kyrgyzstan");
        let e = refusal(tsv_row(
            &h,
            Path::new("i.tab"),
            3,
            line.replace("\t190\t", "\t99\t").as_bytes(),
        ));
        assert_eq!(e.field.as_deref(), Some("CAMEO Code"));
        let unknown = line
            .replace("\tKyrgyzstan\tFight", "\tAtlantis\tFight")
            .replace("\tTajikistan\t9", "\tNone\t9");
        assert!(matches!(
            tsv_row(&h, Path::new("i.tab"), 4, unknown.as_bytes()),
            Some(Item::Skipped(_))
        ));

        let h = header(
            "Event ID\tEvent Date\tEvent Type\tEvent Mode\tContexts\tActor Name\tActor Country\tRecipient Name\tRecipient Country\tPlacename\tProvince\tCountry\tSource\tPublication Date\n",
        );
        let mut latin1 = b"p1\t2025-09-10\tcooperate\tNone\tmilitary; territory\tKyrgyz Armed Forces\tKGZ\tTajik Armed Forces\tTajikistan\tIssyk-Kul\tIssyk-Kul\tKyrgyzstan\tPrensa Espa".to_vec();
        latin1.extend_from_slice(b"\xf1ola\t2025-09-11\n");
        let r = report(tsv_row(&h, Path::new("p.txt"), 2, &latin1));
        assert_eq!(r.id, "polecat-p1");
        assert_eq!(r.actors, ["KGZ", "TJK"]);
        assert_eq!(r.kind, Kind::Action, "types compare case-insensitively");
        assert_eq!(
            r.topics,
            ["cooperate", "military", "territory"],
            "None is absent"
        );
        assert_eq!(
            r.title,
            "Kyrgyz Armed Forces / Tajik Armed Forces: cooperate"
        );
        assert_eq!(r.source.as_deref(), Some("Prensa Española"), "ISO-8859-1");
        assert_eq!(
            r.reported.map(|d| d.to_string()).as_deref(),
            Some("2025-09-11")
        );
        assert_eq!(polecat_kind("CONSULT"), Kind::Meeting);
        assert_eq!(polecat_kind("Agree"), Kind::Agreement);
        assert_eq!(polecat_kind("ASSAULT"), Kind::Incident);
        assert_eq!(polecat_kind("ACCUSE"), Kind::Statement);
    }

    #[test]
    fn missing_values_are_refused_naming_the_column() {
        let h = header(ACLED);
        let mut fields = vec![""; 31];
        fields[1] = "2021-04-29";
        fields[15] = "417";
        let e = refusal(csv_row(&h, Path::new("a.csv"), 5, &packed(&fields)));
        assert_eq!(e.field.as_deref(), Some("event_id_cnty"));
        fields[0] = "KGZ1";
        fields[1] = "29-04-2021";
        let e = refusal(csv_row(&h, Path::new("a.csv"), 5, &packed(&fields)));
        assert_eq!(e.field.as_deref(), Some("event_date"));
        assert_eq!(
            e.to_string(),
            "a.csv:5: field `event_date`: invalid date \"29-04-2021\" (expected YYYY-MM-DD, DD/MM/YYYY or D Month YYYY)"
        );
    }
}
