//! Turning bytes into reports: the format by a name's extension, and every record of a
//! reader delivered as a report, a refusal or a skip — nothing dropped. Opening files,
//! walking folders and unpacking archives is the shell's (`shell::files`).

use super::datasets::{self, Detected, Header};
use super::{Location, RawReport, Rejection, Report, TextNeed, gdelt, json, markdown};
use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

/// What one record of an input file became.
#[derive(Debug)]
pub enum Item {
    /// A valid report.
    Report(Report),
    /// A record (or the whole file) refused.
    Rejected(Rejection),
    /// A dataset row (GDELT, ACLED, UCDP, ICEWS, POLECAT) whose actors name no country.
    Skipped(Rejection),
}

/// The input formats of docs/reference.md, Reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.toml`: one report.
    Toml,
    /// `.json`: an object or an array of objects.
    Json,
    /// `.jsonl`, `.ndjson`: an object per line.
    JsonLines,
    /// `.md`, `.txt`: front matter and body (a `.txt` file that starts with the header of
    /// an event dataset is that dataset).
    Markdown,
    /// `.csv`, `.tsv`, `.tab`: GDELT export, unless the first line is the header of an
    /// event dataset (ACLED, UCDP GED, ICEWS, POLECAT).
    Gdelt,
}

impl Format {
    /// The format implied by a file name's extension (case-insensitive).
    pub fn from_path(path: &Path) -> Option<Format> {
        if Container::of(path) == Container::Gzip {
            return path
                .file_stem()
                .and_then(|stem| Format::from_path(Path::new(stem)));
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "toml" => Format::Toml,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::JsonLines,
            "md" | "txt" => Format::Markdown,
            "csv" | "tsv" | "tab" => Format::Gdelt,
            _ => return None,
        })
    }
}

/// Longest line of a line format (JSON lines, GDELT) unless configured: 16 MiB.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// Deepest nesting of JSON arrays and objects unless configured. A report needs 3 (an
/// array of objects holding lists).
pub const DEFAULT_MAX_JSON_DEPTH: usize = 64;

/// The hard ceiling for the JSON depth limit: the parser recurses once per level and stops
/// by itself past 127, so a configured limit cannot go past it.
pub const MAX_JSON_DEPTH_CEILING: usize = 127;

/// The per-record limits a reader applies while it reads, and which reports need a text.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest line of a line format.
    pub max_line: usize,
    /// Deepest nesting of JSON arrays and objects.
    pub max_depth: usize,
    /// When given (the reports only go to a matcher), GDELT rows get no source and
    /// address, and those none of whose actors it wants no title and body.
    pub text: Option<Arc<TextNeed>>,
}

/// Lines handed to a worker at once.
const BATCH_LINES: usize = 2048;
/// Bytes handed to a worker at once (a batch ends at whichever limit comes first).
const BATCH_BYTES: usize = 1 << 20;

/// Why a file of another type is refused.
pub const UNSUPPORTED: &str = "unsupported file type; reports are .toml, .json, .jsonl, .ndjson, .md, .txt, .csv, .tsv or .tab (also inside .gz or .zip)";

/// How a file is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// As it is.
    Plain,
    /// `NAME.EXT.gz`: one gzip stream of a file of format EXT.
    Gzip,
    /// `.zip`: an archive of supported files (GDELT publishes its exports so).
    Zip,
}

impl Container {
    /// The container implied by a file name (case-insensitive).
    pub fn of(path: &Path) -> Container {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("gz") => Container::Gzip,
            Some("zip") => Container::Zip,
            _ => Container::Plain,
        }
    }
}

/// Reads reports of `format` from bytes in memory; `path` only names them in messages. The
/// fuzz targets and tests use it.
pub fn read_bytes(path: &Path, format: Format, bytes: &[u8], each: &mut dyn FnMut(Item)) {
    read_from(
        path,
        format,
        bytes,
        1,
        Limits {
            max_line: DEFAULT_MAX_LINE,
            max_depth: DEFAULT_MAX_JSON_DEPTH,
            text: None,
        },
        &|| (),
        &|_: &mut (), item| item,
        each,
    );
}

/// Reads every record of `reader` (of `format`), mapping each with `map`; line formats are
/// parsed on `threads` worker threads, results still in order. `path` names the records in
/// messages. A table or text file whose first line is the header of an event dataset is
/// read as that dataset.
#[allow(clippy::too_many_arguments)]
pub fn read_from<S, T: Send>(
    path: &Path,
    format: Format,
    mut reader: impl BufRead + Send,
    threads: usize,
    limits: Limits,
    init: &(dyn Fn() -> S + Sync),
    map: &(dyn Fn(&mut S, Item) -> T + Sync),
    each: &mut dyn FnMut(T),
) {
    let r = Reading {
        path,
        threads,
        limits,
        init,
        map,
    };
    if !may_be_dataset(path, format) {
        return r.read_format(format, reader, each);
    }
    let mut first = Vec::new();
    let first_line = match read_line_bounded(&mut reader, &mut first, r.limits.max_line) {
        Ok(line) => line,
        Err(e) => return r.refuse_file(Err(format!("read error in line 1: {e}")), each),
    };
    if let Line::TooLong(len) = first_line {
        // the first line is gone (never held): it is refused, and the rest read as usual
        each(map(&mut init(), too_long(path, 1, len, r.limits.max_line)));
        if format == Format::Markdown {
            return;
        }
        let source = LineSource::new(reader, r.limits.max_line, 1);
        let result = r.read_records(Records::Gdelt, source, each);
        return r.refuse_file(result, each);
    }
    match datasets::detect(&first) {
        Detected::Dataset(header) => {
            let records = Records::Dataset(&header);
            let result = if header.dataset.is_csv() {
                let source = CsvSource::new(reader, r.limits.max_line, 1);
                r.read_records(records, source, each)
            } else {
                let source = LineSource::new(reader, r.limits.max_line, 1);
                r.read_records(records, source, each)
            };
            r.refuse_file(result, each);
        }
        Detected::Partial(note) => {
            // a refusal of the file or its first line says why it was not read as a dataset
            let noted = |state: &mut S, item: Item| map(state, with_note(item, &note));
            let reader = std::io::Cursor::new(first).chain(reader);
            Reading { map: &noted, ..r }.read_format(format, reader, each);
        }
        Detected::None => {
            let reader = std::io::Cursor::new(first).chain(reader);
            r.read_format(format, reader, each);
        }
    }
}

/// One file's reading: its name in messages, the threads and limits, and how each item
/// becomes a `T` (with per-thread state `S`).
struct Reading<'a, S, T> {
    path: &'a Path,
    threads: usize,
    limits: Limits,
    init: &'a (dyn Fn() -> S + Sync),
    map: &'a (dyn Fn(&mut S, Item) -> T + Sync),
}

impl<S, T: Send> Reading<'_, S, T> {
    /// Reads `reader` as `format`, with no look at a dataset header.
    fn read_format(&self, format: Format, reader: impl BufRead + Send, each: &mut dyn FnMut(T)) {
        let (path, map) = (self.path, self.map);
        let result = match format {
            Format::Toml | Format::Markdown => {
                read_single(path, format, reader).map(|item| each(map(&mut (self.init)(), item)))
            }
            Format::Json => {
                let mut state = (self.init)();
                let mut on_value = |n: usize, v: serde_json::Value| {
                    let item = from_raw(path, Location::Record(n), json::raw_report(v));
                    each(map(&mut state, item));
                };
                let depth_limited = json::DepthLimited::new(reader, self.limits.max_depth);
                json::read_document(depth_limited, &mut on_value)
            }
            Format::JsonLines | Format::Gdelt => {
                let records = if format == Format::Gdelt {
                    Records::Gdelt
                } else {
                    Records::JsonLines
                };
                let source = LineSource::new(reader, self.limits.max_line, 0);
                self.read_records(records, source, each)
            }
        };
        self.refuse_file(result, each);
    }

    /// A read that failed part way refuses the file (what was read before stays read).
    fn refuse_file(&self, result: Result<(), String>, each: &mut dyn FnMut(T)) {
        if let Err(message) = result {
            let item = Item::Rejected(Rejection::new(self.path, Location::File, None, message));
            each((self.map)(&mut (self.init)(), item));
        }
    }

    /// Reads every record of `source` as `records` says, on `threads` threads when more
    /// than one.
    fn read_records(
        &self,
        records: Records<'_>,
        mut source: impl Source + Send,
        each: &mut dyn FnMut(T),
    ) -> Result<(), String> {
        if self.threads > 1 {
            return self.read_parallel(records, source, each);
        }
        let mut state = (self.init)();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let item = match source.next(&mut buf)? {
                Next::End => return Ok(()),
                Next::Read(n) => record_item(self.path, records, n, &buf, &self.limits),
                Next::Refused(n, why) => Some(Item::Rejected(Rejection::new(
                    self.path,
                    Location::Line(n),
                    None,
                    why,
                ))),
            };
            if let Some(item) = item {
                each((self.map)(&mut state, item));
            }
        }
    }
}

/// True for the files whose first line may be an event dataset's header: `.csv`, `.tsv`,
/// `.tab` and `.txt` (not `.md`), also inside `.gz` or `.zip`.
fn may_be_dataset(path: &Path, format: Format) -> bool {
    match format {
        Format::Gdelt => true,
        Format::Markdown => {
            let name = path.to_string_lossy().to_ascii_lowercase();
            let name = name.strip_suffix(".gz").unwrap_or(&name);
            name.ends_with(".txt")
        }
        _ => false,
    }
}

/// Adds `note` to the refusal of a whole file or of its first line.
fn with_note(item: Item, note: &str) -> Item {
    match item {
        Item::Rejected(mut r) if matches!(r.location, Location::File | Location::Line(1)) => {
            r.message = format!("{} ({note})", r.message);
            Item::Rejected(r)
        }
        other => other,
    }
}

/// How the records of a line or table file are read.
#[derive(Clone, Copy)]
enum Records<'h> {
    /// One JSON object per line.
    JsonLines,
    /// One GDELT row per line.
    Gdelt,
    /// One dataset row per line (ICEWS, POLECAT) or per CSV record (ACLED, UCDP).
    Dataset(&'h Header),
}

/// What a [`Source`] found next.
enum Next {
    /// End of input.
    End,
    /// A record starting on this line was appended to the buffer.
    Read(usize),
    /// The record starting on this line is refused (too long, unterminated); nothing of it
    /// was kept.
    Refused(usize, String),
}

/// Cuts a file into records, bounded in size.
trait Source {
    /// Appends the next record to `buf`.
    fn next(&mut self, buf: &mut Vec<u8>) -> Result<Next, String>;
}

/// One record per line.
struct LineSource<R> {
    reader: R,
    max: usize,
    /// Lines read so far.
    line: usize,
}

impl<R> LineSource<R> {
    fn new(reader: R, max: usize, lines_before: usize) -> Self {
        LineSource {
            reader,
            max,
            line: lines_before,
        }
    }
}

impl<R: BufRead> Source for LineSource<R> {
    fn next(&mut self, buf: &mut Vec<u8>) -> Result<Next, String> {
        let line = read_line_bounded(&mut self.reader, buf, self.max)
            .map_err(|e| format!("read error after line {}: {e}", self.line))?;
        Ok(match line {
            Line::End => Next::End,
            Line::Read => {
                self.line += 1;
                Next::Read(self.line)
            }
            Line::TooLong(len) => {
                self.line += 1;
                Next::Refused(self.line, too_long_message(len, self.max))
            }
        })
    }
}

/// One record per RFC 4180 record (quoted fields may hold separators, quotes and line
/// ends), packed as its fields (see [`datasets::encode_record`]); a record's fields are
/// bounded by `max` bytes together, so that a huge quoted field is never held.
struct CsvSource<R> {
    reader: R,
    csv: csv_core::Reader,
    max: usize,
    /// Lines read so far.
    line: usize,
    out: Vec<u8>,
    ends_out: Vec<usize>,
    ends: Vec<usize>,
}

impl<R> CsvSource<R> {
    fn new(reader: R, max: usize, lines_before: usize) -> Self {
        CsvSource {
            reader,
            csv: csv_core::Reader::new(),
            max,
            line: lines_before,
            out: vec![0; 64 * 1024],
            ends_out: vec![0; 1024],
            ends: Vec::new(),
        }
    }
}

impl<R: BufRead> CsvSource<R> {
    /// Passes over the line ends between records (blank lines hold no record).
    fn skip_blank_lines(&mut self) -> Result<(), String> {
        loop {
            let line = self.line;
            let chunk = self.reader.fill_buf().map_err(|e| read_error(line, e))?;
            let n = chunk
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            if n == 0 {
                return Ok(());
            }
            self.line += chunk[..n].iter().filter(|&&b| b == b'\n').count();
            self.reader.consume(n);
        }
    }
}

impl<R: BufRead> Source for CsvSource<R> {
    fn next(&mut self, buf: &mut Vec<u8>) -> Result<Next, String> {
        use csv_core::ReadRecordResult as R;
        self.skip_blank_lines()?;
        let first = self.line + 1;
        let start = buf.len();
        self.ends.clear();
        let (mut fields_len, mut quotes, mut consumed, mut at_end) =
            (0usize, 0usize, 0usize, false);
        loop {
            let line = self.line;
            let chunk = self.reader.fill_buf().map_err(|e| read_error(line, e))?;
            at_end = at_end || chunk.is_empty();
            let (result, nin, nout, nend) =
                self.csv
                    .read_record(chunk, &mut self.out, &mut self.ends_out);
            let used = &chunk[..nin];
            self.line += used.iter().filter(|&&b| b == b'\n').count();
            quotes += used.iter().filter(|&&b| b == b'"').count();
            consumed += nin;
            fields_len += nout;
            if fields_len <= self.max {
                buf.extend_from_slice(&self.out[..nout]);
                self.ends.extend_from_slice(&self.ends_out[..nend]);
            }
            self.reader.consume(nin);
            match result {
                R::InputEmpty | R::OutputFull | R::OutputEndsFull => continue,
                R::End if consumed == 0 => return Ok(Next::End),
                R::Record | R::End => break,
            }
        }
        if fields_len > self.max {
            buf.truncate(start);
            let message = format!(
                "record of {fields_len} bytes is longer than the limit of {} bytes; skipped",
                self.max
            );
            return Ok(Next::Refused(first, message));
        }
        if at_end && quotes % 2 == 1 {
            buf.truncate(start);
            let message = format!(
                "unterminated quote: the record that starts here runs to the end of the file (line {}); refused",
                self.line.max(first)
            );
            return Ok(Next::Refused(first, message));
        }
        datasets::encode_record(buf, &self.ends);
        Ok(Next::Read(first))
    }
}

/// What [`read_line_bounded`] found.
enum Line {
    /// End of input.
    End,
    /// A line (with its newline, if any) appended to the buffer.
    Read,
    /// A line longer than the limit: it was skipped, not kept.
    TooLong(usize),
}

/// Appends one line to `buf`, unless it is longer than `max` bytes, in which case the rest
/// of it is read and dropped, so that one huge line never sits in memory.
fn read_line_bounded(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    let start = buf.len();
    let mut total = 0usize;
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(if too_long {
                Line::TooLong(total)
            } else if total == 0 {
                Line::End
            } else {
                Line::Read
            });
        }
        let (take, done) = match memchr_newline(chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        total += take;
        if !too_long && total > max {
            too_long = true;
            buf.truncate(start);
        }
        if !too_long {
            buf.extend_from_slice(&chunk[..take]);
        }
        reader.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong(total)
            } else {
                Line::Read
            });
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

fn read_error(line: usize, e: std::io::Error) -> String {
    format!("read error after line {line}: {e}")
}

fn too_long_message(len: usize, max: usize) -> String {
    format!("line of {len} bytes is longer than the limit of {max} bytes; skipped")
}

fn too_long(path: &Path, n: usize, len: usize, max: usize) -> Item {
    Item::Rejected(Rejection::new(
        path,
        Location::Line(n),
        None,
        too_long_message(len, max),
    ))
}

/// The item of one record, or `None` for a record that holds none (a blank line, a
/// header row).
fn record_item(
    path: &Path,
    records: Records<'_>,
    n: usize,
    bytes: &[u8],
    limits: &Limits,
) -> Option<Item> {
    match records {
        Records::Gdelt => {
            gdelt::line(path, n, bytes, limits.text.as_deref()).map(|row| match row {
                gdelt::Row::Report(r) => Item::Report(r),
                gdelt::Row::Rejected(r) => Item::Rejected(r),
                gdelt::Row::Skipped(r) => Item::Skipped(r),
            })
        }
        Records::JsonLines => json_line_item(path, n, bytes, limits.max_depth),
        Records::Dataset(h) if h.dataset.is_csv() => datasets::csv_row(h, path, n, bytes),
        Records::Dataset(h) => datasets::tsv_row(h, path, n, bytes),
    }
}

/// A JSON line as a report: the typed fast path, else the generic one. A line the typed
/// path took is at most 2 deep; any other line is checked against the depth limit before
/// it is parsed.
fn json_line_item(path: &Path, n: usize, bytes: &[u8], max_depth: usize) -> Option<Item> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Some(result) = json::typed_report(text)
    {
        return Some(match result {
            Ok(r) => Item::Report(r),
            Err(e) => Item::Rejected(Rejection::from_field(path, Location::Line(n), e)),
        });
    }
    if json::Nesting::default().feed(bytes, max_depth).is_err() {
        return Some(Item::Rejected(Rejection::new(
            path,
            Location::Line(n),
            None,
            json::too_deep(max_depth),
        )));
    }
    json::line(n, bytes).map(|v| from_raw(path, Location::Line(n), v.and_then(json::raw_report)))
}

/// Records handed to a worker at once.
struct Batch {
    seq: usize,
    data: Vec<u8>,
    /// Per record: where it ends in `data` and the line it starts on.
    ends: Vec<(usize, usize)>,
    /// Records refused by the source: (index in the batch, why).
    refused: Vec<(usize, String)>,
}

impl Batch {
    fn new(seq: usize) -> Batch {
        Batch {
            seq,
            data: Vec::with_capacity(BATCH_BYTES + 4096),
            ends: Vec::with_capacity(BATCH_LINES),
            refused: Vec::new(),
        }
    }

    fn is_full(&self) -> bool {
        self.ends.len() >= BATCH_LINES || self.data.len() >= BATCH_BYTES
    }

    /// Fills the batch from `source`; true at the end of input.
    fn fill(&mut self, source: &mut impl Source) -> Result<bool, String> {
        while !self.is_full() {
            match source.next(&mut self.data)? {
                Next::End => return Ok(true),
                Next::Read(line) => self.ends.push((self.data.len(), line)),
                Next::Refused(line, why) => {
                    // an empty slot stands for the record; the worker reports it
                    self.refused.push((self.ends.len(), why));
                    self.ends.push((self.data.len(), line));
                }
            }
        }
        Ok(false)
    }

    /// The items of the batch's records, in order.
    fn items(&self, path: &Path, records: Records<'_>, limits: &Limits) -> Vec<Item> {
        let mut out = Vec::with_capacity(self.ends.len());
        let mut start = 0;
        for (i, &(end, line)) in self.ends.iter().enumerate() {
            let item = match self.refused.iter().find(|(at, _)| *at == i) {
                Some((_, why)) => Some(Item::Rejected(Rejection::new(
                    path,
                    Location::Line(line),
                    None,
                    why.clone(),
                ))),
                None => record_item(path, records, line, &self.data[start..end], limits),
            };
            out.extend(item);
            start = end;
        }
        out
    }
}

impl<S, T: Send> Reading<'_, S, T> {
    /// Cuts records on this thread and parses and maps them on `threads` workers, handing
    /// the results on in file order; a few batches are in flight at once.
    fn read_parallel(
        &self,
        records: Records<'_>,
        mut source: impl Source + Send,
        each: &mut dyn FnMut(T),
    ) -> Result<(), String> {
        let threads = self.threads;
        let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(threads * 2);
        let batch_rx = Mutex::new(batch_rx);
        let (result_tx, result_rx) = mpsc::sync_channel::<(usize, Vec<T>)>(threads * 2);
        std::thread::scope(|scope| {
            let producer = scope.spawn(move || -> Result<(), String> {
                for seq in 0.. {
                    let mut batch = Batch::new(seq);
                    let eof = batch.fill(&mut source)?;
                    if (!batch.ends.is_empty() && batch_tx.send(batch).is_err()) || eof {
                        break;
                    }
                }
                Ok(())
            });
            for _ in 0..threads {
                let result_tx = result_tx.clone();
                let batch_rx = &batch_rx;
                scope.spawn(move || {
                    let mut state = (self.init)();
                    loop {
                        let next = batch_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok(batch)) = next else { return };
                        let out = batch
                            .items(self.path, records, &self.limits)
                            .into_iter()
                            .map(|item| (self.map)(&mut state, item))
                            .collect();
                        if result_tx.send((batch.seq, out)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(result_tx);
            // Hand results on in batch order.
            let mut pending: BTreeMap<usize, Vec<T>> = BTreeMap::new();
            let mut next = 0;
            for (seq, out) in result_rx.iter() {
                pending.insert(seq, out);
                while let Some(out) = pending.remove(&next) {
                    out.into_iter().for_each(&mut *each);
                    next += 1;
                }
            }
            producer
                .join()
                .unwrap_or_else(|_| Err("reader thread failed".into()))
        })
    }
}

fn from_raw(path: &Path, location: Location, raw: Result<RawReport, String>) -> Item {
    match raw {
        Ok(raw) => match Report::from_raw(raw) {
            Ok(r) => Item::Report(r),
            Err(e) => Item::Rejected(Rejection::from_field(path, location, e)),
        },
        Err(message) => Item::Rejected(Rejection::new(path, location, None, message)),
    }
}

fn read_single(path: &Path, format: Format, mut reader: impl Read) -> Result<Item, String> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read error: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "file is not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let raw = match format {
        Format::Toml => super::toml::raw_report(text, 1),
        _ => markdown::raw_report(text),
    };
    Ok(match raw {
        Ok(raw) => from_raw(path, Location::File, Ok(raw)),
        Err((line, message)) => {
            let loc = if line == 0 {
                Location::File
            } else {
                Location::Line(line)
            };
            Item::Rejected(Rejection::new(path, loc, None, message))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_table_and_text_files_may_be_datasets() {
        assert!(may_be_dataset(Path::new("a/x.CSV"), Format::Gdelt));
        assert!(may_be_dataset(Path::new("x.tab"), Format::Gdelt));
        assert!(may_be_dataset(Path::new("x.TXT"), Format::Markdown));
        assert!(may_be_dataset(Path::new("x.txt.gz"), Format::Markdown));
        assert!(may_be_dataset(Path::new("a.zip:w/x.txt"), Format::Markdown));
        assert!(!may_be_dataset(Path::new("x.md"), Format::Markdown));
        assert!(!may_be_dataset(Path::new("x.json"), Format::Json));
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/20191024143000.export.CSV")),
            Some(Format::Gdelt)
        );
        assert_eq!(
            Format::from_path(Path::new("a.NDJSON")),
            Some(Format::JsonLines)
        );
        assert_eq!(Format::from_path(Path::new("a.Md")), Some(Format::Markdown));
        assert_eq!(Format::from_path(Path::new("a.pdf")), None);
        assert_eq!(Format::from_path(Path::new("README")), None);
    }
}
