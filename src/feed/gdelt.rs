//! The GDELT 2.0 feed without I/O (docs/reference.md, The GDELT feed): 15-minute slots, the lines of
//! `lastupdate.txt` / `masterfilelist.txt`, the row filter, and the record of which slots
//! are done, given up or waiting for a retry — with the decisions taken on them. Times are
//! arguments, never the clock.

use crate::engine::dates::Interval;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

/// One 15-minute publication slot of GDELT 2.0, by its start time (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(i64);

impl Slot {
    /// A slot's length in seconds.
    pub const SECONDS: i64 = 900;

    /// The slot named `YYYYMMDDHHMMSS` (minutes 00/15/30/45, seconds 00), as in file names.
    pub fn parse(stamp: &str) -> Option<Slot> {
        if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S").ok()?;
        let seconds = t.and_utc().timestamp();
        (seconds % Slot::SECONDS == 0).then_some(Slot(seconds / Slot::SECONDS))
    }

    /// The slot that holds time `t`.
    pub fn containing(t: DateTime<Utc>) -> Slot {
        Slot(t.timestamp().div_euclid(Slot::SECONDS))
    }

    /// The first slot that starts at or after `t`.
    pub fn at_or_after(t: DateTime<Utc>) -> Slot {
        let s = Slot::containing(t);
        if s.time() < t { s.next() } else { s }
    }

    /// When the slot starts.
    pub fn time(self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.0 * Slot::SECONDS, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The slot after this one.
    pub fn next(self) -> Slot {
        Slot(self.0 + 1)
    }

    /// `YYYYMMDDHHMMSS`, as in GDELT's file names.
    pub fn stamp(self) -> String {
        self.time().format("%Y%m%d%H%M%S").to_string()
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time().format("%Y-%m-%d %H:%M"))
    }
}

impl Serialize for Slot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.stamp())
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Slot, D::Error> {
        let text = String::deserialize(d)?;
        Slot::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not a GDELT slot YYYYMMDDHHMMSS"))
        })
    }
}

/// One of GDELT 2.0's event streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stream {
    /// The English-language events.
    Export,
    /// Events from translated news (`translation = true`).
    Translation,
}

impl Stream {
    /// The key of this stream in the state file, and its name in log lines.
    pub fn key(self) -> &'static str {
        match self {
            Stream::Export => "export",
            Stream::Translation => "translation",
        }
    }

    /// The list of the newest slot.
    pub fn lastupdate(self) -> &'static str {
        match self {
            Stream::Export => "lastupdate.txt",
            Stream::Translation => "lastupdate-translation.txt",
        }
    }

    /// The list of every slot.
    pub fn masterfilelist(self) -> &'static str {
        match self {
            Stream::Export => "masterfilelist.txt",
            Stream::Translation => "masterfilelist-translation.txt",
        }
    }

    /// What follows the slot's stamp in the name of its events file.
    fn zip_suffix(self) -> &'static str {
        match self {
            Stream::Export => ".export.CSV.zip",
            Stream::Translation => ".translation.export.CSV.zip",
        }
    }

    /// The name the slot's kept rows get in the inbox.
    pub fn inbox_name(self, slot: Slot) -> String {
        match self {
            Stream::Export => format!("gdelt-{}.export.CSV", slot.stamp()),
            Stream::Translation => format!("gdelt-{}.translation.export.CSV", slot.stamp()),
        }
    }
}

/// One events file named by a list: its slot, size, MD5 and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The slot it holds.
    pub slot: Slot,
    /// Its size in bytes, as listed.
    pub size: u64,
    /// Its MD5, as listed.
    pub md5: [u8; 16],
    /// Where to fetch it.
    pub url: String,
}

/// What one line of a list is.
#[derive(Debug, PartialEq, Eq)]
pub enum ListLine {
    /// An events file of the stream asked for.
    Entry(Entry),
    /// A blank line, or a file of another kind (mentions, gkg, another stream).
    Other,
    /// Not `SIZE MD5 URL`: the reason.
    Malformed(String),
}

/// Reads one line of `lastupdate.txt` or `masterfilelist.txt` (`SIZE MD5 URL`).
pub fn parse_list_line(line: &str, stream: Stream) -> ListLine {
    let mut fields = line.split_whitespace();
    let (Some(size), Some(md5), Some(url), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return if line.trim().is_empty() {
            ListLine::Other
        } else {
            ListLine::Malformed("expected three fields: SIZE MD5 URL".into())
        };
    };
    let name = url.rsplit('/').next().unwrap_or(url);
    let suffix = stream.zip_suffix();
    let Some(stamp) = name
        .len()
        .checked_sub(suffix.len())
        .filter(|&at| name.is_char_boundary(at) && name[at..].eq_ignore_ascii_case(suffix))
        .map(|at| &name[..at])
    else {
        return ListLine::Other;
    };
    if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return ListLine::Other; // another stream's file: 20150218230000.translation...
    }
    let Some(slot) = Slot::parse(stamp) else {
        return ListLine::Malformed(format!("{stamp:?} is not a slot time"));
    };
    let Ok(size) = size.parse::<u64>() else {
        return ListLine::Malformed(format!("size {size:?} is not a number"));
    };
    let Some(md5) = parse_md5(md5) else {
        return ListLine::Malformed(format!("{md5:?} is not an MD5 (32 hex digits)"));
    };
    ListLine::Entry(Entry {
        slot,
        size,
        md5,
        url: url.to_string(),
    })
}

fn parse_md5(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lower-case hex of an MD5, for messages.
pub fn md5_hex(md5: &[u8; 16]) -> String {
    md5.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which rows of an events file are kept (`parties`, `min_sources`, `root_events_only`).
#[derive(Debug, Clone)]
pub struct RowFilter {
    /// Actor countries a kept row names; `None` keeps every country (and rows with none).
    pub parties: Option<HashSet<String>>,
    /// Least NumSources kept.
    pub min_sources: u64,
    /// Keep only rows with IsRootEvent = 1.
    pub root_events_only: bool,
}

/// What the filter says of one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Written to the inbox, unchanged.
    Keep,
    /// Filtered out.
    Drop,
    /// A blank line or the header row: not a row at all.
    NotARow,
    /// Not a GDELT 2.0 row (column count, NumSources or IsRootEvent unreadable): the reason.
    Malformed(String),
}

use crate::engine::report::gdelt_columns::{
    ACTOR1_COUNTRY, ACTOR2_COUNTRY, COUNT_2_0 as COLUMNS, IS_ROOT_EVENT, NUM_SOURCES,
};

impl RowFilter {
    /// The verdict on one line of an events file (with or without its line end).
    pub fn verdict(&self, line: &[u8]) -> Verdict {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Verdict::NotARow;
        }
        if line.len() >= 13 && line[..13].eq_ignore_ascii_case(b"GLOBALEVENTID") {
            return Verdict::NotARow;
        }
        let mut cols: [&[u8]; COLUMNS] = [&[]; COLUMNS];
        let mut n = 0;
        for col in line.split(|&b| b == b'\t') {
            if n < COLUMNS {
                cols[n] = col;
            }
            n += 1;
        }
        if n != COLUMNS {
            return Verdict::Malformed(format!(
                "{n} tab-separated columns; a GDELT 2.0 row has {COLUMNS}"
            ));
        }
        let number = |i: usize| -> Option<u64> { std::str::from_utf8(cols[i]).ok()?.parse().ok() };
        let Some(sources) = number(NUM_SOURCES) else {
            return Verdict::Malformed("NumSources is not a number".into());
        };
        let Some(root) = number(IS_ROOT_EVENT) else {
            return Verdict::Malformed("IsRootEvent is not a number".into());
        };
        if sources < self.min_sources || (self.root_events_only && root != 1) {
            return Verdict::Drop;
        }
        match &self.parties {
            None => Verdict::Keep,
            Some(parties) => {
                let named = |i: usize| {
                    std::str::from_utf8(cols[i])
                        .is_ok_and(|c| !c.is_empty() && parties.contains(&c.to_ascii_uppercase()))
                };
                if named(ACTOR1_COUNTRY) || named(ACTOR2_COUNTRY) {
                    Verdict::Keep
                } else {
                    Verdict::Drop
                }
            }
        }
    }
}

/// Slots `first..=last`, inclusive, as kept in the state file: `["FIRST", "LAST"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRange(pub Slot, pub Slot);

/// Why a slot could not be written this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Not published: 404, or absent from the list. Retried until `give_up_after`.
    Missing(String),
    /// Published but wrong: size, MD5, or the archive cannot be unpacked. Retried until
    /// `give_up_after`.
    Broken(String),
    /// The server or the network failed (timeout, connection, 5xx): nothing is known about
    /// the slot, so it is retried by every later run and never given up.
    Transient(String),
}

impl Failure {
    /// The reason, for the log and the state file.
    pub fn reason(&self) -> &str {
        match self {
            Failure::Missing(r) | Failure::Broken(r) | Failure::Transient(r) => r,
        }
    }
}

/// A slot that failed and waits for a later run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// When it first failed.
    pub first_failed: DateTime<Utc>,
    /// How many runs tried it.
    pub attempts: u32,
    /// The last reason.
    pub last_error: String,
}

/// What became of a failed slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again by later runs; the number of attempts so far.
    Retry(u32),
    /// Given up: `give_up_after` has passed since the slot's time.
    GivenUp,
}

/// The bookkeeping of one stream: what is done, given up, waiting, or half-written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamState {
    /// The first slot regular runs cover (set by the first regular run: newest − backfill).
    #[serde(default)]
    pub since: Option<Slot>,
    /// Slots written (or found empty): sorted, disjoint, not touching.
    #[serde(default)]
    pub done: Vec<SlotRange>,
    /// Slots given up: sorted, disjoint, not touching.
    #[serde(default)]
    pub given_up: Vec<SlotRange>,
    /// Slots that failed and are tried again.
    #[serde(default)]
    pub retry: BTreeMap<Slot, Retry>,
    /// A slot whose file is complete in the inbox under its temporary name and is being
    /// renamed: a run that finds it here finishes the rename, or sees it was done.
    #[serde(default)]
    pub staged: Option<Slot>,
}

/// The whole state file, `STATE/feed/gdelt.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedState {
    /// Format version (1).
    pub version: u32,
    /// Per stream (`export`, `translation`).
    #[serde(default)]
    pub streams: BTreeMap<String, StreamState>,
}

impl Default for FeedState {
    fn default() -> Self {
        FeedState {
            version: 1,
            streams: BTreeMap::new(),
        }
    }
}

impl FeedState {
    /// Reads the state file's text; a damaged file is an error, never reset.
    pub fn parse(text: &str) -> Result<FeedState, String> {
        let state: FeedState = serde_json::from_str(text)
            .map_err(|e| format!("line {} column {}: {e}", e.line(), e.column()))?;
        if state.version != 1 {
            return Err(format!(
                "version {} is not known to this pledgewatch (1)",
                state.version
            ));
        }
        for (key, stream) in &state.streams {
            if key != "export" && key != "translation" {
                return Err(format!("unknown stream {key:?}"));
            }
            for (name, ranges) in [("done", &stream.done), ("given_up", &stream.given_up)] {
                if !well_formed(ranges) {
                    return Err(format!(
                        "streams.{key}.{name}: ranges are not in order or overlap"
                    ));
                }
            }
        }
        Ok(state)
    }

    /// The state as written to the file.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The bookkeeping of `stream`, created empty when missing.
    pub fn stream(&mut self, stream: Stream) -> &mut StreamState {
        self.streams.entry(stream.key().to_string()).or_default()
    }
}

fn well_formed(ranges: &[SlotRange]) -> bool {
    ranges.iter().all(|r| r.0 <= r.1) && ranges.windows(2).all(|w| w[0].1.next() < w[1].0)
}

fn contains(ranges: &[SlotRange], slot: Slot) -> bool {
    let i = ranges.partition_point(|r| r.1 < slot);
    ranges.get(i).is_some_and(|r| r.0 <= slot)
}

fn insert(ranges: &mut Vec<SlotRange>, slot: Slot) {
    if contains(ranges, slot) {
        return;
    }
    let i = ranges.partition_point(|r| r.1 < slot);
    let joins_before = i > 0 && ranges[i - 1].1.next() == slot;
    let joins_after = ranges.get(i).is_some_and(|r| slot.next() == r.0);
    match (joins_before, joins_after) {
        (true, true) => {
            ranges[i - 1].1 = ranges[i].1;
            ranges.remove(i);
        }
        (true, false) => ranges[i - 1].1 = slot,
        (false, true) => ranges[i].0 = slot,
        (false, false) => ranges.insert(i, SlotRange(slot, slot)),
    }
}

impl StreamState {
    /// Written or found empty.
    #[cfg(test)]
    pub fn is_done(&self, slot: Slot) -> bool {
        contains(&self.done, slot)
    }

    /// Given up.
    #[cfg(test)]
    pub fn is_given_up(&self, slot: Slot) -> bool {
        contains(&self.given_up, slot)
    }

    /// Records `slot` as done (no longer waiting, no longer staged).
    pub fn mark_done(&mut self, slot: Slot) {
        insert(&mut self.done, slot);
        self.retry.remove(&slot);
        if self.staged == Some(slot) {
            self.staged = None;
        }
    }

    /// Records a failure of `slot` at `now`, and decides whether it is tried again.
    pub fn mark_failed(
        &mut self,
        slot: Slot,
        failure: &Failure,
        now: DateTime<Utc>,
        give_up_after: &Interval,
    ) -> AfterFailure {
        let retry = self.retry.entry(slot).or_insert_with(|| Retry {
            first_failed: now,
            attempts: 0,
            last_error: String::new(),
        });
        retry.attempts += 1;
        retry.last_error = failure.reason().to_string();
        let attempts = retry.attempts;
        let expired = give_up_after.after(slot.time()) <= now;
        if expired && !matches!(failure, Failure::Transient(_)) {
            self.retry.remove(&slot);
            insert(&mut self.given_up, slot);
            AfterFailure::GivenUp
        } else {
            AfterFailure::Retry(attempts)
        }
    }

    /// The slots of `first..=last` that are neither done nor given up, oldest first.
    pub fn open_slots(&self, first: Slot, last: Slot) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut s = first;
        while s <= last {
            // jump over done and given-up ranges instead of stepping through them
            let skip = [&self.done, &self.given_up].into_iter().find_map(|ranges| {
                let i = ranges.partition_point(|r| r.1 < s);
                ranges.get(i).filter(|r| r.0 <= s).map(|r| r.1)
            });
            match skip {
                Some(end) => s = end.next(),
                None => {
                    out.push(s);
                    s = s.next();
                }
            }
        }
        out
    }

    /// The newest slot done, if any.
    pub fn last_done(&self) -> Option<Slot> {
        self.done.last().map(|r| r.1)
    }

    /// How many slots were given up.
    pub fn given_up_count(&self) -> i64 {
        self.given_up.iter().map(|r| r.1.0 - r.0.0 + 1).sum()
    }
}

/// One line per stream saying where the feed stands, for `pledgewatch status`.
pub fn describe(state: &FeedState) -> Vec<String> {
    state
        .streams
        .iter()
        .map(|(key, s)| {
            let last = s.last_done().map_or("no slot done yet".to_string(), |l| {
                format!("last slot done {l} UTC")
            });
            let retry = match s.retry.iter().next() {
                None => "no slot waiting for a retry".to_string(),
                Some((slot, r)) => format!(
                    "{} slot{} waiting for a retry (oldest {slot}, {} attempt{}: {})",
                    s.retry.len(),
                    if s.retry.len() == 1 { "" } else { "s" },
                    r.attempts,
                    if r.attempts == 1 { "" } else { "s" },
                    r.last_error
                ),
            };
            let given_up = match s.given_up.last() {
                None => "none given up".to_string(),
                Some(range) => format!("{} given up (latest {} UTC)", s.given_up_count(), range.1),
            };
            format!("feed gdelt ({key}): {last}; {retry}; {given_up}")
        })
        .collect()
}

/// The slots one run works on, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Every slot to fetch.
    pub slots: Vec<Slot>,
    /// True when the only slot is the newest one, which `lastupdate.txt` names: the long
    /// list need not be read.
    pub newest_only: bool,
}

/// What a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// A regular (timer) run: from the state's start (or newest − backfill on the first run)
    /// to the newest slot, and every slot waiting for a retry.
    Regular,
    /// `--from`/`--to`: the slots starting in `from..=to`, once.
    Between(DateTime<Utc>, DateTime<Utc>),
}

/// Decides the slots of one run, given the newest published slot; a regular run records
/// its start in the state the first time.
pub fn plan(state: &mut StreamState, range: Range, newest: Slot, backfill: &Interval) -> Plan {
    let slots: Vec<Slot> = match range {
        Range::Regular => {
            let since = *state.since.get_or_insert_with(|| {
                let start = Slot::containing(backfill.before(newest.time())).next();
                start.min(newest)
            });
            let mut wanted: BTreeSet<Slot> = state.open_slots(since, newest).into_iter().collect();
            wanted.extend(state.retry.keys().copied().filter(|s| *s <= newest));
            wanted.into_iter().collect()
        }
        Range::Between(from, to) => {
            let last = Slot::containing(to).min(newest);
            state.open_slots(Slot::at_or_after(from), last)
        }
    };
    let newest_only = slots == [newest];
    Plan { slots, newest_only }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(stamp: &str) -> Slot {
        Slot::parse(stamp).unwrap()
    }

    fn interval(text: &str) -> Interval {
        Interval::parse(text).unwrap()
    }

    #[test]
    fn slots() {
        let s = slot("20191024143000");
        assert_eq!(s.stamp(), "20191024143000");
        assert_eq!(s.to_string(), "2019-10-24 14:30");
        assert_eq!(s.next().stamp(), "20191024144500");
        assert_eq!(Slot::parse("20191024143100"), None);
        assert_eq!(Slot::parse("2019102414300"), None);
        assert_eq!(Slot::parse("20191324143000"), None);
        let t = s.time() + chrono::Duration::seconds(1);
        assert_eq!(Slot::containing(t), s);
        assert_eq!(Slot::at_or_after(t), s.next());
        assert_eq!(Slot::at_or_after(s.time()), s);
    }

    #[test]
    fn list_lines() {
        let line = "150383 297a16b493de7cf6ca809a7cc31d0b93 http://data.gdeltproject.org/gdeltv2/20150218230000.export.CSV.zip";
        let ListLine::Entry(e) = parse_list_line(line, Stream::Export) else {
            panic!("not an entry")
        };
        assert_eq!(e.slot, slot("20150218230000"));
        assert_eq!(e.size, 150383);
        assert_eq!(md5_hex(&e.md5), "297a16b493de7cf6ca809a7cc31d0b93");
        assert_eq!(parse_list_line(line, Stream::Translation), ListLine::Other);
        let translated =
            "9 297a16b493de7cf6ca809a7cc31d0b93 http://x/20150218230000.translation.export.CSV.zip";
        assert_eq!(parse_list_line(translated, Stream::Export), ListLine::Other);
        assert!(matches!(
            parse_list_line(translated, Stream::Translation),
            ListLine::Entry(_)
        ));
        for other in [
            "",
            "  ",
            "1 297a16b493de7cf6ca809a7cc31d0b93 http://x/20150218230000.mentions.CSV.zip",
            "1 297a16b493de7cf6ca809a7cc31d0b93 http://x/20150218230000.gkg.csv.zip",
        ] {
            assert_eq!(
                parse_list_line(other, Stream::Export),
                ListLine::Other,
                "{other}"
            );
        }
        for bad in [
            "150383 http://x/20150218230000.export.CSV.zip",
            "x 297a16b493de7cf6ca809a7cc31d0b93 http://x/20150218230000.export.CSV.zip",
            "1 297a16b493de7cf6ca809a7cc31d0b9 http://x/20150218230000.export.CSV.zip",
            "1 297a16b493de7cf6ca809a7cc31d0b93 http://x/20150218230100.export.CSV.zip",
            "1 2 3 4",
        ] {
            assert!(
                matches!(parse_list_line(bad, Stream::Export), ListLine::Malformed(_)),
                "{bad}"
            );
        }
    }

    fn row(c1: &str, c2: &str, root: &str, sources: &str) -> String {
        let mut cols = vec![""; 61];
        cols[0] = "1";
        cols[7] = c1;
        cols[17] = c2;
        cols[25] = root;
        cols[32] = sources;
        cols.join("\t") + "\n"
    }

    #[test]
    fn filter() {
        let parties = |p: &[&str]| Some(p.iter().map(|s| s.to_string()).collect());
        let f = RowFilter {
            parties: parties(&["KGZ", "TJK"]),
            min_sources: 2,
            root_events_only: true,
        };
        assert_eq!(
            f.verdict(row("KGZ", "", "1", "2").as_bytes()),
            Verdict::Keep
        );
        assert_eq!(
            f.verdict(row("", "tjk", "1", "5").as_bytes()),
            Verdict::Keep
        );
        assert_eq!(
            f.verdict(row("USA", "RUS", "1", "5").as_bytes()),
            Verdict::Drop
        );
        assert_eq!(
            f.verdict(row("KGZ", "", "0", "5").as_bytes()),
            Verdict::Drop
        );
        assert_eq!(
            f.verdict(row("KGZ", "", "1", "1").as_bytes()),
            Verdict::Drop
        );
        assert_eq!(f.verdict(b"\n"), Verdict::NotARow);
        assert!(matches!(f.verdict(b"1\t2\n"), Verdict::Malformed(_)));
        assert!(matches!(
            f.verdict(row("KGZ", "", "1", "many").as_bytes()),
            Verdict::Malformed(_)
        ));
        let all = RowFilter {
            parties: None,
            min_sources: 1,
            root_events_only: false,
        };
        assert_eq!(all.verdict(row("", "", "0", "1").as_bytes()), Verdict::Keep);
        assert_eq!(all.verdict(row("", "", "0", "0").as_bytes()), Verdict::Drop);
    }

    #[test]
    fn ranges_merge_and_open_slots_skip_them() {
        let base = slot("20191024000000");
        let nth = |n: i64| Slot(base.0 + n);
        let mut s = StreamState::default();
        for n in [3, 1, 2, 7, 5] {
            s.mark_done(nth(n));
        }
        assert_eq!(
            s.done,
            vec![
                SlotRange(nth(1), nth(3)),
                SlotRange(nth(5), nth(5)),
                SlotRange(nth(7), nth(7))
            ]
        );
        s.mark_done(nth(6));
        assert_eq!(
            s.done,
            vec![SlotRange(nth(1), nth(3)), SlotRange(nth(5), nth(7))]
        );
        assert!(s.is_done(nth(2)) && !s.is_done(nth(4)) && !s.is_done(nth(8)));
        assert_eq!(
            s.open_slots(nth(0), nth(9)),
            vec![nth(0), nth(4), nth(8), nth(9)]
        );
        let text = FeedState {
            version: 1,
            streams: [("export".to_string(), s.clone())].into(),
        }
        .to_json();
        assert_eq!(FeedState::parse(&text).unwrap().streams["export"], s);
    }

    #[test]
    fn damaged_state_is_an_error() {
        for (text, needle) in [
            ("{", "line 1"),
            ("{\"version\": 2}", "version 2"),
            (
                "{\"version\": 1, \"streams\": {\"rss\": {}}}",
                "unknown stream",
            ),
            ("{\"version\": 1, \"extra\": 1}", "unknown field"),
            (
                "{\"version\": 1, \"streams\": {\"export\": {\"done\": [[\"20191024000000\", \"20191024001500\"], [\"20191024001500\", \"20191024003000\"]]}}}",
                "overlap",
            ),
            (
                "{\"version\": 1, \"streams\": {\"export\": {\"staged\": \"2019\"}}}",
                "not a GDELT slot",
            ),
        ] {
            let e = FeedState::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn failures_retry_until_give_up_after_but_transient_ones_never_give_up() {
        let give_up = interval("2d");
        let s0 = slot("20191024000000");
        let mut s = StreamState::default();
        let soon = s0.time() + chrono::Duration::hours(1);
        let late = s0.time() + chrono::Duration::days(2);
        let missing = Failure::Missing("404".into());
        assert_eq!(
            s.mark_failed(s0, &missing, soon, &give_up),
            AfterFailure::Retry(1)
        );
        assert_eq!(
            s.mark_failed(s0, &missing, soon, &give_up),
            AfterFailure::Retry(2)
        );
        let transient = Failure::Transient("timed out".into());
        assert_eq!(
            s.mark_failed(s0, &transient, late, &give_up),
            AfterFailure::Retry(3)
        );
        assert_eq!(s.retry[&s0].first_failed, soon);
        assert_eq!(
            s.mark_failed(s0, &missing, late, &give_up),
            AfterFailure::GivenUp
        );
        assert!(s.retry.is_empty() && s.is_given_up(s0) && s.given_up_count() == 1);
    }

    #[test]
    fn describes_where_the_feed_stands() {
        let mut state = FeedState::default();
        let s = state.stream(Stream::Export);
        s.mark_done(slot("20191024143000"));
        let give_up = interval("2d");
        let now = slot("20191024150000").time();
        s.mark_failed(
            slot("20191024120000"),
            &Failure::Missing("404".into()),
            now,
            &give_up,
        );
        s.mark_failed(
            slot("20191020120000"),
            &Failure::Missing("404".into()),
            now,
            &give_up,
        );
        assert_eq!(
            describe(&state),
            [
                "feed gdelt (export): last slot done 2019-10-24 14:30 UTC; 1 slot waiting for a retry \
              (oldest 2019-10-24 12:00, 1 attempt: 404); 1 given up (latest 2019-10-20 12:00 UTC)"
            ]
        );
    }

    #[test]
    fn plans() {
        let newest = slot("20191024143000");
        let backfill = interval("1d");
        let mut s = StreamState::default();
        let p = plan(&mut s, Range::Regular, newest, &backfill);
        assert_eq!(p.slots.len(), 96);
        assert_eq!(p.slots[0], slot("20191023144500"));
        assert_eq!(*p.slots.last().unwrap(), newest);
        assert!(!p.newest_only);
        for &x in &p.slots[..95] {
            s.mark_done(x);
        }
        let p = plan(&mut s, Range::Regular, newest, &backfill);
        assert_eq!(
            p,
            Plan {
                slots: vec![newest],
                newest_only: true
            }
        );
        s.mark_done(newest);
        // a slot waiting for a retry is tried again, with the new ones
        let old = slot("20191023150000");
        s.done.clear();
        s.mark_done(newest);
        s.retry.insert(
            old,
            Retry {
                first_failed: newest.time(),
                attempts: 1,
                last_error: "404".into(),
            },
        );
        let later = newest.next().next();
        let p = plan(&mut s, Range::Regular, later, &backfill);
        assert!(p.slots.contains(&old) && p.slots.contains(&later) && !p.slots.contains(&newest));
        // zero backfill: the newest slot alone
        let mut fresh = StreamState::default();
        let p = plan(&mut fresh, Range::Regular, newest, &interval("0d"));
        assert_eq!(p.slots, vec![newest]);
        // --from/--to: the slots starting in the range, not past the newest
        let mut s = StreamState::default();
        let from = slot("20191024120000").time() + chrono::Duration::minutes(1);
        let to = newest.time() + chrono::Duration::days(1);
        let p = plan(&mut s, Range::Between(from, to), newest, &backfill);
        assert_eq!(p.slots.first(), Some(&slot("20191024121500")));
        assert_eq!(p.slots.len(), 10);
        assert_eq!(s.since, None);
    }
}
