//! Turning bytes into reports: the format by a name's extension, and every record of a
//! reader delivered as a report, a refusal or a skip — nothing dropped. Opening files,
//! walking folders and unpacking archives is the shell's (`shell::files`).

use super::{Location, RawReport, Rejection, Report, gdelt, json, markdown};
use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::{Mutex, mpsc};

/// What one record of an input file became.
#[derive(Debug)]
pub enum Item {
    /// A valid report.
    Report(Report),
    /// A record (or the whole file) refused.
    Rejected(Rejection),
    /// A GDELT row without any actor country code.
    Skipped(Rejection),
}

/// The input formats of SPEC §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.toml`: one report.
    Toml,
    /// `.json`: an object or an array of objects.
    Json,
    /// `.jsonl`, `.ndjson`: an object per line.
    JsonLines,
    /// `.md`, `.txt`: front matter and body.
    Markdown,
    /// `.csv`, `.tsv`: GDELT export.
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
            "csv" | "tsv" => Format::Gdelt,
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

/// The per-record limits a reader applies while it reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line of a line format.
    pub max_line: usize,
    /// Deepest nesting of JSON arrays and objects.
    pub max_depth: usize,
}

/// Lines handed to a worker at once.
const BATCH_LINES: usize = 2048;
/// Bytes handed to a worker at once (a batch ends at whichever limit comes first).
const BATCH_BYTES: usize = 1 << 20;

/// Why a file of another type is refused.
pub const UNSUPPORTED: &str = "unsupported file type; reports are .toml, .json, .jsonl, .ndjson, .md, .txt, .csv or .tsv (also inside .gz or .zip)";

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
        },
        &|| (),
        &|_: &mut (), item| item,
        each,
    );
}

/// Reads every record of `reader` (of `format`), mapping each with `map`; line formats are
/// parsed on `threads` worker threads, results still in order. `path` names the records in
/// messages.
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
    let mut state = init();
    let reject_file =
        |message: String| Item::Rejected(Rejection::new(path, Location::File, None, message));
    let result = match format {
        Format::Toml | Format::Markdown => {
            read_single(path, format, reader).map(|item| each(map(&mut state, item)))
        }
        Format::Json => {
            let mut on_value = |n: usize, v: serde_json::Value| {
                each(map(
                    &mut state,
                    from_raw(path, Location::Record(n), json::raw_report(v)),
                ));
            };
            json::read_document(
                json::DepthLimited::new(reader, limits.max_depth),
                &mut on_value,
            )
        }
        Format::JsonLines | Format::Gdelt if threads > 1 => {
            read_lines_parallel(path, format, reader, threads, limits, init, map, each)
        }
        Format::JsonLines | Format::Gdelt => {
            let mut buf = Vec::new();
            let mut n = 0;
            loop {
                buf.clear();
                match read_line_bounded(&mut reader, &mut buf, limits.max_line) {
                    Ok(Line::End) => break Ok(()),
                    Ok(Line::Read) => {
                        n += 1;
                        if let Some(item) = line_item(path, format, n, &buf, limits.max_depth) {
                            each(map(&mut state, item));
                        }
                    }
                    Ok(Line::TooLong(len)) => {
                        n += 1;
                        each(map(&mut state, too_long(path, n, len, limits.max_line)));
                    }
                    Err(e) => break Err(format!("read error after line {n}: {e}")),
                }
            }
        }
    };
    if let Err(message) = result {
        each(map(&mut state, reject_file(message)));
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
    bytes.iter().position(|&b| b == b'\n')
}

fn too_long(path: &Path, n: usize, len: usize, max: usize) -> Item {
    Item::Rejected(Rejection::new(
        path,
        Location::Line(n),
        None,
        format!("line of {len} bytes is longer than the limit of {max} bytes; skipped"),
    ))
}

/// The item of one line of a line format, or `None` for a line that holds no record.
fn line_item(
    path: &Path,
    format: Format,
    n: usize,
    bytes: &[u8],
    max_depth: usize,
) -> Option<Item> {
    if format == Format::Gdelt {
        return gdelt::line(path, n, bytes).map(|row| match row {
            gdelt::Row::Report(r) => Item::Report(r),
            gdelt::Row::Rejected(r) => Item::Rejected(r),
            gdelt::Row::Skipped(r) => Item::Skipped(r),
        });
    }
    json_line_item(path, n, bytes, max_depth)
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

struct Batch {
    seq: usize,
    first_line: usize,
    data: Vec<u8>,
    ends: Vec<usize>,
    /// Lines over the length limit: (index in the batch, length).
    too_long: Vec<(usize, usize)>,
}

#[allow(clippy::too_many_arguments)]
fn read_lines_parallel<S, T: Send>(
    path: &Path,
    format: Format,
    mut reader: impl BufRead + Send,
    threads: usize,
    limits: Limits,
    init: &(dyn Fn() -> S + Sync),
    map: &(dyn Fn(&mut S, Item) -> T + Sync),
    each: &mut dyn FnMut(T),
) -> Result<(), String> {
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(threads * 2);
    let batch_rx = Mutex::new(batch_rx);
    let (result_tx, result_rx) = mpsc::sync_channel::<(usize, Vec<T>)>(threads * 2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> Result<(), String> {
            let mut seq = 0;
            let mut line = 0;
            loop {
                let mut batch = Batch {
                    seq,
                    first_line: line + 1,
                    data: Vec::with_capacity(BATCH_BYTES + 4096),
                    ends: Vec::with_capacity(BATCH_LINES),
                    too_long: Vec::new(),
                };
                let mut eof = false;
                while batch.ends.len() < BATCH_LINES && batch.data.len() < BATCH_BYTES {
                    match read_line_bounded(&mut reader, &mut batch.data, limits.max_line) {
                        Ok(Line::End) => {
                            eof = true;
                            break;
                        }
                        Ok(Line::Read) => {
                            line += 1;
                            batch.ends.push(batch.data.len());
                        }
                        Ok(Line::TooLong(len)) => {
                            // An empty slot stands for the line; the worker reports it.
                            line += 1;
                            batch.too_long.push((batch.ends.len(), len));
                            batch.ends.push(batch.data.len());
                        }
                        Err(e) => return Err(format!("read error after line {line}: {e}")),
                    }
                }
                if !batch.ends.is_empty() && batch_tx.send(batch).is_err() {
                    return Ok(());
                }
                if eof {
                    return Ok(());
                }
                seq += 1;
            }
        });
        for _ in 0..threads {
            let result_tx = result_tx.clone();
            let batch_rx = &batch_rx;
            scope.spawn(move || {
                let mut state = init();
                loop {
                    let next = batch_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(batch)) = next else { return };
                    let mut out = Vec::with_capacity(batch.ends.len());
                    let mut start = 0;
                    for (i, &end) in batch.ends.iter().enumerate() {
                        let n = batch.first_line + i;
                        let item = match batch.too_long.iter().find(|(at, _)| *at == i) {
                            Some(&(_, len)) => Some(too_long(path, n, len, limits.max_line)),
                            None => line_item(
                                path,
                                format,
                                n,
                                &batch.data[start..end],
                                limits.max_depth,
                            ),
                        };
                        if let Some(item) = item {
                            out.push(map(&mut state, item));
                        }
                        start = end;
                    }
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
