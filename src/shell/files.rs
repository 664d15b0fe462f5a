//! Report files: folders walked recursively in path order, files opened safely, `.gz` and
//! `.zip` unpacked with their size bounded, and every record handed to the engine's parser
//! (`engine::report::read_from`); [`ingest`] turns a list of files into evidence.

use crate::engine::evaluate::Event;
use crate::engine::matcher::{CompiledRules, Hit, Scratch};
use crate::engine::replay::{
    EvidenceSet, IdDigest, LaterWins, Offer, ReportCounts, Tally, contribution, id_digest,
};
use crate::engine::report::{
    Container, DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_LINE, Format, Item, Limits, Location,
    MAX_JSON_DEPTH_CEILING, Rejection, Report, TextNeed, UNSUPPORTED, read_from,
};
use chrono::NaiveDate;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Options for reading.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Incremented by the number of bytes read, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Longest accepted line of a line format; longer lines are skipped and refused.
    pub max_line_length: Option<usize>,
    /// Refuse to open a symbolic link or anything but a regular file (the daemon's inbox).
    pub regular_files_only: bool,
    /// Largest uncompressed content of a `.gz` or `.zip` file (all entries together).
    pub max_uncompressed: Option<u64>,
    /// Most records taken from one file; the rest is refused with one message.
    pub max_records: Option<usize>,
    /// Deepest nesting of JSON arrays and objects; deeper records are refused unparsed.
    pub max_json_depth: Option<usize>,
    /// Only the reports of these parties need a title and body (see [`TextNeed`]), and no
    /// report needs what is only shown (a GDELT row's source and address); for a caller
    /// that only matches what it reads.
    pub text_need: Option<Arc<TextNeed>>,
}

/// True for names that are being written or are hidden: `.x`, `x.tmp`, `x.part`.
pub fn is_hidden_or_partial(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || lower.ends_with(".tmp") || lower.ends_with(".part")
}

/// A report file or folder that cannot be listed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct InputError {
    /// The file or folder named.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Expands files and folders (recursively) into the list of files to read, sorted by path
/// inside each folder. Inside folders, hidden and partial files (`.x`, `*.tmp`, `*.part`) are
/// passed over; a file named explicitly is always read. A path that does not exist is an error.
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for path in paths {
        let failed = |source| InputError {
            path: path.clone(),
            source,
        };
        if std::fs::metadata(path).map_err(failed)?.is_dir() {
            walk(path, &mut out).map_err(failed)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<(PathBuf, bool)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if is_hidden_or_partial(&name.to_string_lossy()) {
            continue;
        }
        let is_dir = std::fs::metadata(entry.path())
            .map(|m| m.is_dir())
            .unwrap_or(false);
        entries.push((entry.path(), is_dir));
    }
    entries.sort();
    for (path, is_dir) in entries {
        if is_dir {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Opens `path` for reading. With `regular_only`, a symbolic link is refused without being
/// followed (O_NOFOLLOW), a FIFO is not waited on (O_NONBLOCK), and anything that is not a
/// regular file once open is refused: no race between a check and the open.
pub fn open_for_reading(path: &Path, regular_only: bool) -> std::io::Result<File> {
    if !regular_only {
        return File::open(path);
    }
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

struct Counting<R> {
    inner: R,
    counter: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = &self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Reads one file, calling `each` for every record. Never fails: a file that cannot be read
/// at all becomes one [`Item::Rejected`] for the whole file.
pub fn read_file(path: &Path, options: &ReadOptions, each: &mut dyn FnMut(Item)) {
    read_file_mapped(path, options, 1, &|| (), &|_: &mut (), item| item, each);
}

/// Like [`read_file`], but `map` turns each item into a `T` first. For the line formats
/// (JSON lines, GDELT, the event datasets) lines are parsed and mapped on `threads` worker
/// threads, each with its own state from `init`; `each` still sees the results on the
/// calling thread, in file order. Memory stays bounded: only a few batches are in flight
/// at once.
pub fn read_file_mapped<S, T: Send>(
    path: &Path,
    options: &ReadOptions,
    threads: usize,
    init: &(dyn Fn() -> S + Sync),
    map: &(dyn Fn(&mut S, Item) -> T + Sync),
    each: &mut dyn FnMut(T),
) {
    let mapper = Mapper { init, map };
    let container = Container::of(path);
    let format = match container {
        // Format::from_path already looks through a .gz suffix
        Container::Plain | Container::Gzip => Format::from_path(path),
        Container::Zip => Some(Format::Json), // decided per entry below
    };
    let Some(format) = format else {
        each(mapper.refusal(path, UNSUPPORTED.into()));
        return;
    };
    let file = match open_for_reading(path, options.regular_files_only) {
        Ok(f) => f,
        Err(e) => {
            each(mapper.refusal(path, format!("cannot open: {e}")));
            return;
        }
    };
    // Records past the per-file limit are counted and dropped, then refused in one message.
    let max_records = options.max_records.unwrap_or(usize::MAX);
    let mut records = 0usize;
    let mut limited = |t: T| {
        records += 1;
        if records <= max_records {
            each(t);
        }
    };
    let counted = Counting {
        inner: file,
        counter: options.progress.clone(),
    };
    let unpack = Unpack::of(options, threads, mapper);
    match container {
        Container::Plain => {
            let reader = BufReader::with_capacity(256 * 1024, counted);
            unpack.read(path, format, reader, unpack.threads, &mut limited);
        }
        Container::Gzip => {
            let budget = AtomicU64::new(unpack.max_size);
            let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(counted));
            let reader = unpack.bounded(decoder, &budget);
            // one thread: the decompressing reader is not shared between threads
            unpack.read(path, format, reader, 1, &mut limited);
        }
        Container::Zip => unpack.zip(path, counted.inner, &mut limited),
    }
    if records > max_records {
        each(mapper.refusal(path, over_the_limit(records - max_records, max_records)));
    }
}

/// The refusal of the records past `inbox.max_records_per_file`.
fn over_the_limit(over: usize, max_records: usize) -> String {
    format!(
        "{over} record(s) past the limit of {max_records} per file (inbox.max_records_per_file) were not taken"
    )
}

/// The caller's per-thread state and mapping of [`read_file_mapped`].
struct Mapper<'a, S, T> {
    init: &'a (dyn Fn() -> S + Sync),
    map: &'a (dyn Fn(&mut S, Item) -> T + Sync),
}

impl<S, T> Clone for Mapper<'_, S, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S, T> Copy for Mapper<'_, S, T> {}

impl<S, T> Mapper<'_, S, T> {
    /// The refusal of the whole file (or archive entry) at `path`, mapped.
    fn refusal(&self, path: &Path, message: String) -> T {
        let item = Item::Rejected(Rejection::new(path, Location::File, None, message));
        (self.map)(&mut (self.init)(), item)
    }
}

/// How one file's content is read: its limits, the threads and the caller's mapping.
struct Unpack<'a, S, T> {
    limits: Limits,
    /// Largest uncompressed content of a `.gz` or `.zip` file.
    max_size: u64,
    threads: usize,
    mapper: Mapper<'a, S, T>,
}

impl<'a, S, T: Send> Unpack<'a, S, T> {
    fn of(options: &ReadOptions, threads: usize, mapper: Mapper<'a, S, T>) -> Self {
        Unpack {
            limits: Limits {
                max_line: options.max_line_length.unwrap_or(DEFAULT_MAX_LINE),
                max_depth: options
                    .max_json_depth
                    .unwrap_or(DEFAULT_MAX_JSON_DEPTH)
                    .min(MAX_JSON_DEPTH_CEILING),
                text: options.text_need.clone(),
            },
            max_size: options.max_uncompressed.unwrap_or(DEFAULT_MAX_UNCOMPRESSED),
            threads,
            mapper,
        }
    }

    /// Hands `reader` to the engine's parser for `format`.
    fn read(
        &self,
        path: &Path,
        format: Format,
        reader: impl std::io::BufRead + Send,
        threads: usize,
        each: &mut dyn FnMut(T),
    ) {
        let Mapper { init, map } = self.mapper;
        read_from(
            path,
            format,
            reader,
            threads,
            self.limits.clone(),
            init,
            map,
            each,
        );
    }

    /// A buffered reader of decompressed content that fails past the shared `budget`.
    fn bounded<R: Read>(&self, inner: R, budget: &'a AtomicU64) -> BufReader<Limited<'a, R>> {
        BufReader::with_capacity(
            256 * 1024,
            Limited {
                inner,
                budget,
                limit: self.max_size,
            },
        )
    }

    /// Every entry of a zip archive, each read by its own extension as `ARCHIVE:ENTRY`; the
    /// entries share one uncompressed-size budget.
    fn zip(&self, path: &Path, file: File, each: &mut dyn FnMut(T)) {
        let mut archive = match zip::ZipArchive::new(file) {
            Ok(a) => a,
            Err(e) => {
                each(
                    self.mapper
                        .refusal(path, format!("not a readable zip archive: {e}")),
                );
                return;
            }
        };
        let budget = AtomicU64::new(self.max_size);
        for i in 0..archive.len() {
            let entry = match archive.by_index(i) {
                Ok(e) => e,
                Err(e) => {
                    each(
                        self.mapper
                            .refusal(path, format!("zip entry {}: {e}", i + 1)),
                    );
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let name = match entry.name() {
                Ok(n) => n.into_owned(),
                Err(_) => format!("entry {}", i + 1),
            };
            let mut entry_path = path.as_os_str().to_os_string();
            entry_path.push(":");
            entry_path.push(&name);
            let entry_path = PathBuf::from(entry_path);
            let Some(format) = Format::from_path(Path::new(&name)) else {
                each(self.mapper.refusal(&entry_path, UNSUPPORTED.into()));
                continue;
            };
            let reader = self.bounded(entry, &budget);
            self.read(&entry_path, format, reader, 1, each);
            if budget.load(Ordering::Relaxed) == 0 {
                break;
            }
        }
    }
}

/// Largest uncompressed content of a compressed file unless configured (replay): 4 GiB.
pub const DEFAULT_MAX_UNCOMPRESSED: u64 = 4 << 30;

/// A reader that fails once more than `limit` bytes (shared `budget`) have come through:
/// decompression bombs are stopped, never unpacked.
pub struct Limited<'a, R> {
    /// The decompressing reader.
    pub inner: R,
    /// Bytes still allowed (shared by the entries of one archive).
    pub budget: &'a AtomicU64,
    /// The whole allowance, for the message.
    pub limit: u64,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.budget.load(Ordering::Relaxed);
        if left == 0 {
            // One more byte would be over the limit: check whether there is one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "uncompressed content exceeds the limit of {} bytes (inbox.max_file_size); not unpacked further",
                    self.limit
                ))),
            };
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.store(left - n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What [`ingest`] tells its caller about records it did not take.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A refused record or file.
    Rejected(&'a Rejection),
    /// A summary of one file's skipped GDELT rows.
    Skipped(&'a Rejection),
}

/// A record after the worker threads' part: what the calling thread keeps of it.
enum Matched<R> {
    Report(R),
    Rejected(Rejection),
    Skipped(Rejection),
}

/// Reads `files` in order, turning each report into an `R` with `map` on `threads` worker
/// threads (each with its own matcher scratch) and handing it to `take` on the calling
/// thread, in file order; refusals and skip summaries go to `on_notice`, and are counted
/// in the returned (rejected, skipped).
fn read_all<R: Send>(
    files: &[PathBuf],
    options: &ReadOptions,
    threads: usize,
    map: &(dyn Fn(&mut Scratch, Report) -> R + Sync),
    take: &mut dyn FnMut(R),
    on_notice: &mut dyn FnMut(Notice<'_>),
) -> (usize, usize) {
    let (mut rejected, mut skipped) = (0, 0);
    let map = |scratch: &mut Scratch, item: Item| match item {
        Item::Report(r) => Matched::Report(map(scratch, r)),
        Item::Rejected(rej) => Matched::Rejected(rej),
        Item::Skipped(why) => Matched::Skipped(why),
    };
    for path in files {
        let mut skipped_here = 0usize;
        let mut first_skip: Option<Rejection> = None;
        read_file_mapped(
            path,
            options,
            threads,
            &Scratch::default,
            &map,
            &mut |m| match m {
                Matched::Report(r) => take(r),
                Matched::Rejected(rej) => {
                    rejected += 1;
                    on_notice(Notice::Rejected(&rej));
                }
                Matched::Skipped(why) => {
                    skipped_here += 1;
                    first_skip.get_or_insert(why);
                }
            },
        );
        if skipped_here > 0 {
            skipped += skipped_here;
            let summary = skip_summary(path, skipped_here, first_skip.as_ref());
            on_notice(Notice::Skipped(&summary));
        }
    }
    (rejected, skipped)
}

/// Reads `files` in order into an evidence set that keeps every report's id and hits (the
/// simple path: rule tests, which add inline reports afterwards).
pub fn ingest(
    rules: &CompiledRules,
    files: &[PathBuf],
    options: &ReadOptions,
    threads: usize,
    on_notice: &mut dyn FnMut(Notice<'_>),
) -> EvidenceSet {
    let mut set = EvidenceSet::default();
    let map = |scratch: &mut Scratch, r: Report| {
        let hits = rules.match_report(&r, scratch);
        (r.id.into_boxed_str(), r.date, hits)
    };
    let (rejected, skipped) = read_all(
        files,
        options,
        threads,
        &map,
        &mut |(id, date, hits)| set.insert(id, date, hits),
        on_notice,
    );
    set.count_refused(rejected, skipped);
    set
}

/// Reads `files` in order into `tally` (made for the rules and the as-of date) and returns
/// its per-commitment events, with memory bounded by the number of distinct reports and
/// of (commitment, day) pairs, not by hits (see [`Tally`] and [`LaterWins`]). A record
/// superseded by a later one of the same id with other content is taken back in a second
/// reading of the files — only when there is one. Fails when the files changed between the
/// two readings.
pub fn ingest_bounded(
    rules: &CompiledRules,
    mut tally: Tally,
    files: &[PathBuf],
    options: &ReadOptions,
    threads: usize,
    on_notice: &mut dyn FnMut(Notice<'_>),
) -> Result<(Vec<Vec<Event>>, ReportCounts), FilesChanged> {
    let mut later = LaterWins::default();
    // only matched, never shown: reports the matcher would not search need no text
    let options = &ReadOptions {
        text_need: Some(Arc::new(rules.text_need().clone())),
        ..options.clone()
    };
    let map = |scratch: &mut Scratch, r: Report| {
        let hits = rules.match_report(&r, scratch);
        (id_digest(&r.id), contribution(r.date, &hits), r.date, hits)
    };
    let take =
        &mut |(digest, contribution, date, hits): (IdDigest, u32, NaiveDate, Vec<Hit>)| match later
            .offer(digest, contribution)
        {
            Offer::New | Offer::Replaces => tally.add(date, &hits, 1),
            Offer::Same => {}
        };
    let (rejected, skipped) = read_all(files, options, threads, &map, take, on_notice);
    let superseded = later.superseded();
    if !superseded.is_empty() {
        take_back(rules, files, options, superseded, &mut tally)?;
    }
    let counts = ReportCounts {
        read: later.distinct(),
        rejected,
        skipped,
    };
    // the digests' memory is given back before the events are made
    drop(later);
    Ok((tally.into_events(), counts))
}

/// The report files changed between the two readings of a bounded replay.
#[derive(Debug, thiserror::Error)]
#[error("the report files changed while they were read ({0}); run again")]
pub struct FilesChanged(String);

/// The second reading: the records in `superseded` (ordinal, id digest; by ordinal) are
/// matched again and taken back from `tally`.
fn take_back(
    rules: &CompiledRules,
    files: &[PathBuf],
    options: &ReadOptions,
    superseded: &[(u32, IdDigest)],
    tally: &mut Tally,
) -> Result<(), FilesChanged> {
    let options = ReadOptions {
        progress: None,
        ..options.clone()
    };
    let mut ordinal = 0u32;
    let mut next = superseded.iter().peekable();
    let mut scratch = Scratch::default();
    let mut changed = None;
    read_all(
        files,
        &options,
        1,
        &|_, r: Report| r,
        &mut |r| {
            if next.peek().is_some_and(|(o, _)| *o == ordinal) {
                let (_, digest) = next.next().copied().unwrap_or_default();
                if id_digest(&r.id) == digest {
                    let hits = rules.match_report(&r, &mut scratch);
                    tally.add(r.date, &hits, -1);
                } else if changed.is_none() {
                    changed = Some(r.id.clone());
                }
            }
            ordinal += 1;
        },
        &mut |_| {},
    );
    match (changed, next.next()) {
        (None, None) => Ok(()),
        (Some(id), _) => Err(FilesChanged(format!("report {id:?} is not where it was"))),
        (None, Some(_)) => Err(FilesChanged("fewer reports".into())),
    }
}

/// One line for a file's skipped rows, worded by the first: GDELT's country columns, or
/// the dataset's actor columns.
fn skip_summary(path: &Path, n: usize, first: Option<&Rejection>) -> Rejection {
    let message = match first.map(|r| r.message.as_str()) {
        Some(m) if !m.contains("Actor1CountryCode") => {
            let why = m.strip_prefix("skipped: ").unwrap_or(m);
            format!("{n} dataset row(s) skipped: {why}")
        }
        _ => format!("{n} GDELT row(s) without Actor1CountryCode or Actor2CountryCode"),
    };
    Rejection::new(path, Location::File, None, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names() {
        assert!(is_hidden_or_partial(".x.json"));
        assert!(is_hidden_or_partial("x.json.TMP"));
        assert!(is_hidden_or_partial("x.part"));
        assert!(!is_hidden_or_partial("x.json"));
    }
}
