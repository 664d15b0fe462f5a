//! One run of `pledgewatch fetch gdelt` (docs/reference.md, The GDELT feed): the I/O around [`super::gdelt`].
//!
//! Per slot, oldest first: download the events archive, check its size and MD5 against the
//! list, unpack it with a bound, keep the rows the filter wants, and write them into the
//! inbox so that no reader ever sees a partial file and no slot is ever written twice:
//!
//! 1. the rows go to `INBOX/.pledgewatch-fetch-NAME.tmp` (hidden: the daemon leaves it
//!    alone), which is synced;
//! 2. the slot is recorded as *staged* in the state file (written atomically);
//! 3. the file is renamed to `INBOX/NAME` (never over an existing file) and the folder
//!    synced;
//! 4. the slot is recorded as done.
//!
//! A run killed between 2 and 4 leaves the slot staged: the next run renames the temporary
//! file if it is still there, or sees that the rename happened, and records the slot done.
//! Temporary files of slots that are not staged were never promised to anyone: the next
//! run removes them. A lock file keeps two runs from working at once.

use super::gdelt::{
    AfterFailure, Entry, Failure, FeedState, ListLine, Range, RowFilter, Slot, Stream, Verdict,
    md5_hex, parse_list_line, plan,
};
use crate::shell::config::GdeltFeed;
use crate::shell::http::{BoundedError, Client, HttpError, read_bounded};
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// Prefix of the temporary files a run writes into the inbox.
const TEMP_PREFIX: &str = ".pledgewatch-fetch-";
/// Longest line of a list, and of the lists' bodies in all.
const MAX_LIST_LINE: u64 = 4096;
const MAX_LIST_SIZE: u64 = 4 << 30;
/// Bytes a slot takes in `masterfilelist.txt` (three lines of about 110 bytes), with room.
const LIST_BYTES_PER_SLOT: u64 = 3 * 200;

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another run holds the lock (exit 75).
    #[error("another run holds {}", .0.display())]
    Busy(PathBuf),
    /// A file or folder of the run's books, or the inbox, cannot be used (exit 1):
    /// `what` says what was tried (`cannot write PATH`, ...).
    #[error("{what}: {source}")]
    Io {
        /// What was tried, with the path.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The state file is damaged: never reset, a person decides (exit 1).
    #[error("{}: damaged state file: {why}; fix or remove it (removing it starts a new backfill)", path.display())]
    Damaged {
        /// `STATE/feed/gdelt.json`.
        path: PathBuf,
        /// Where and how it is damaged.
        why: String,
    },
    /// A thousand files of the slot's name are in the inbox already.
    #[error("{0}: 1000 files of that name in the inbox")]
    NoFreeName(String),
}

/// A [`RunError::Io`] for `what` (a verb and a path).
fn io_error(what: String) -> impl FnOnce(std::io::Error) -> RunError {
    move |source| RunError::Io { what, source }
}

/// Why a list (`lastupdate.txt`, `masterfilelist.txt`) could not be read: the stream's
/// slots are unknown this run, and a later run tries again.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The body could not be read to its end.
    #[error("{0}")]
    Read(std::io::Error),
    /// The body is longer than a list may be.
    #[error("more than {0} bytes")]
    TooLarge(u64),
    /// A line is longer than a list line may be.
    #[error("line {0} is longer than {MAX_LIST_LINE} bytes")]
    LongLine(usize),
    /// `lastupdate.txt` names no events file: its first line that is not understood.
    #[error("{url}: {why}")]
    Malformed {
        /// The list's address.
        url: String,
        /// `line N: why`.
        why: String,
    },
    /// `lastupdate.txt` names no events file of the stream.
    #[error("{url} names no events file of the {stream} stream")]
    NoEvents {
        /// The list's address.
        url: String,
        /// The stream's key.
        stream: &'static str,
    },
}

/// A list that could not be read, named.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {list}: {source}")]
pub struct ListFailure {
    /// The list's file name.
    list: &'static str,
    /// Why.
    #[source]
    source: ListError,
}

/// What a run did, for the exit code and the closing log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Slots written into the inbox.
    pub written: usize,
    /// Slots with no kept rows (nothing written).
    pub empty: usize,
    /// Slots left for a later run.
    pub retry: usize,
    /// Slots given up in this run.
    pub given_up: usize,
    /// A list could not be read: the stream's slots are unknown, so a later run must try.
    pub list_failed: bool,
    /// Rows read and kept, over all slots.
    pub rows_read: u64,
    /// Rows kept.
    pub rows_kept: u64,
}

impl Summary {
    /// True when something is left for a later run (exit 75).
    pub fn incomplete(&self) -> bool {
        self.retry > 0 || self.list_failed
    }
}

/// Where the progress of a run is shown (a bar on a terminal; nothing otherwise).
pub trait Progress {
    /// `n` more slots to do.
    fn add_slots(&self, n: u64);
    /// One slot finished, with `kept` more rows kept in all so far.
    fn slot_done(&self, rows_kept: u64);
}

/// Everything one run needs.
pub struct Fetcher<'a> {
    /// `[feed.gdelt]`.
    pub feed: &'a GdeltFeed,
    /// The inbox the rows go to.
    pub inbox: PathBuf,
    /// `STATE/feed`: the state file and the lock.
    pub state_dir: PathBuf,
    /// Largest archive fetched and largest unpacked content (`inbox.max_file_size`).
    pub max_size: u64,
    /// Longest row kept (`inbox.max_line_length`).
    pub max_line: u64,
    /// Which rows are kept.
    pub filter: RowFilter,
    /// The HTTP client.
    pub client: Client,
    /// Where progress is shown.
    pub progress: &'a dyn Progress,
}

/// The rows of one slot, counted.
#[derive(Debug, Default)]
struct Rows {
    read: u64,
    kept: u64,
    malformed: u64,
    first_malformed: Option<String>,
}

impl Fetcher<'_> {
    /// The state file.
    pub fn state_path(&self) -> PathBuf {
        self.state_dir.join("gdelt.json")
    }

    /// Runs once over `range`.
    pub fn run(&self, range: Range) -> Result<Summary, RunError> {
        for dir in [&self.state_dir, &self.inbox] {
            std::fs::create_dir_all(dir)
                .map_err(io_error(format!("cannot create {}", dir.display())))?;
        }
        let _lock = self.lock()?;
        let mut state = load_state(&self.state_path())?;
        self.recover(&mut state)?;
        let mut summary = Summary::default();
        let mut streams = vec![Stream::Export];
        if self.feed.translation {
            streams.push(Stream::Translation);
        }
        for stream in streams {
            self.run_stream(&mut state, stream, range, &mut summary)?;
        }
        Ok(summary)
    }

    /// Takes `STATE/feed/gdelt.lock`, or says who holds it.
    fn lock(&self) -> Result<File, RunError> {
        let path = self.state_dir.join("gdelt.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(format!("cannot open {}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Busy(path)),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(io_error(format!("cannot lock {}", path.display()))(e))
            }
        }
    }

    /// Finishes a staged slot of a killed run and removes temporary files nobody will use.
    fn recover(&self, state: &mut FeedState) -> Result<(), RunError> {
        for stream in [Stream::Export, Stream::Translation] {
            let Some(slot) = state.streams.get(stream.key()).and_then(|s| s.staged) else {
                continue;
            };
            let name = stream.inbox_name(slot);
            let temp = self.inbox.join(format!("{TEMP_PREFIX}{name}.tmp"));
            if temp.exists() {
                let placed = self.place(&temp, &name)?;
                tracing::info!(slot = %slot.stamp(), stream = stream.key(), "slot {slot}: a killed run had staged it; renamed to {placed}");
            } else {
                tracing::info!(slot = %slot.stamp(), stream = stream.key(), "slot {slot}: a killed run had staged it and renamed it already");
            }
            state.stream(stream).mark_done(slot);
            self.save(state)?;
        }
        self.remove_stale_temps();
        Ok(())
    }

    fn remove_stale_temps(&self) {
        let Ok(entries) = std::fs::read_dir(&self.inbox) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp") {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::info!(file = %name, "removed a temporary file a killed run left")
                    }
                    Err(e) => {
                        tracing::warn!(file = %name, "cannot remove a stale temporary file: {e}")
                    }
                }
            }
        }
    }

    /// Writes the state file atomically (temporary file, sync, rename, sync of the folder).
    fn save(&self, state: &FeedState) -> Result<(), RunError> {
        let path = self.state_path();
        let temp = self.state_dir.join(".gdelt.json.tmp");
        write_synced(&temp, state.to_json().as_bytes())
            .and_then(|()| std::fs::rename(&temp, &path))
            .and_then(|()| sync_dir(&self.state_dir))
            .map_err(io_error(format!("cannot write {}", path.display())))
    }

    fn run_stream(
        &self,
        state: &mut FeedState,
        stream: Stream,
        range: Range,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let (plan, entries) = match self.read_lists(state, stream, range)? {
            Ok(Some(work)) => work,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::warn!(stream = stream.key(), "{e}; a later run tries again");
                summary.list_failed = true;
                return Ok(());
            }
        };
        self.progress.add_slots(plan.slots.len() as u64);
        for slot in plan.slots {
            let result = match entries.get(&slot) {
                Some(entry) => self.fetch_slot(state, stream, entry),
                None => Ok(Err(Failure::Missing(format!(
                    "not in {}",
                    stream.masterfilelist()
                )))),
            };
            self.record(state, stream, slot, result?, summary)?;
            self.progress.slot_done(summary.rows_kept);
        }
        Ok(())
    }

    /// The slots of this run and their list entries; `Ok(None)` when every slot is done,
    /// `Err(failure)` when a list cannot be read.
    #[allow(clippy::type_complexity)]
    fn read_lists(
        &self,
        state: &mut FeedState,
        stream: Stream,
        range: Range,
    ) -> Result<Result<Option<(super::gdelt::Plan, HashMap<Slot, Entry>)>, ListFailure>, RunError>
    {
        let newest = match self.newest(stream) {
            Ok(entry) => entry,
            Err(source) => {
                let list = stream.lastupdate();
                return Ok(Err(ListFailure { list, source }));
            }
        };
        let plan = plan(
            state.stream(stream),
            range,
            newest.slot,
            &self.feed.backfill,
        );
        self.save(state)?;
        if plan.slots.is_empty() {
            tracing::info!(
                stream = stream.key(),
                "nothing to fetch: every slot in range is done (newest published: {})",
                newest.slot
            );
            return Ok(Ok(None));
        }
        if plan.newest_only {
            let entries = HashMap::from([(newest.slot, newest)]);
            return Ok(Ok(Some((plan, entries))));
        }
        Ok(match self.entries(stream, &plan.slots, newest.slot) {
            Ok(entries) => Ok(Some((plan, entries))),
            Err(source) => Err(ListFailure {
                list: stream.masterfilelist(),
                source,
            }),
        })
    }

    /// Logs the outcome of one slot and keeps the books.
    fn record(
        &self,
        state: &mut FeedState,
        stream: Stream,
        slot: Slot,
        result: Result<(Rows, Option<String>), Failure>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let (stamp, key) = (slot.stamp(), stream.key());
        match result {
            Ok((rows, written)) => {
                summary.rows_read += rows.read;
                summary.rows_kept += rows.kept;
                if let Some(first) = &rows.first_malformed {
                    tracing::warn!(slot = %stamp, stream = key, rows_malformed = rows.malformed, "slot {slot}: {} rows are not GDELT 2.0 rows and were not kept (first: {first})", rows.malformed);
                }
                match written {
                    Some(name) => {
                        summary.written += 1;
                        tracing::info!(slot = %stamp, stream = key, outcome = "written", rows_read = rows.read, rows_kept = rows.kept, file = %name, "slot {slot}: written {name}, {} of {} rows kept", rows.kept, rows.read);
                    }
                    None => {
                        summary.empty += 1;
                        state.stream(stream).mark_done(slot);
                        self.save(state)?;
                        tracing::info!(slot = %stamp, stream = key, outcome = "empty", rows_read = rows.read, rows_kept = 0, "slot {slot}: empty, none of {} rows kept", rows.read);
                    }
                }
            }
            Err(failure) => {
                let after = state.stream(stream).mark_failed(
                    slot,
                    &failure,
                    Utc::now(),
                    &self.feed.give_up_after,
                );
                self.save(state)?;
                let reason = failure.reason();
                match after {
                    AfterFailure::Retry(n) => {
                        summary.retry += 1;
                        tracing::warn!(slot = %stamp, stream = key, outcome = "retry", attempts = n, "slot {slot}: retry later ({reason}; attempt {n})");
                    }
                    AfterFailure::GivenUp => {
                        summary.given_up += 1;
                        tracing::warn!(slot = %stamp, stream = key, outcome = "given_up", "slot {slot}: given up ({reason}); give_up_after has passed");
                    }
                }
            }
        }
        Ok(())
    }

    /// The newest slot, from `lastupdate.txt`.
    fn newest(&self, stream: Stream) -> Result<Entry, ListError> {
        let url = format!("{}{}", self.feed.url, stream.lastupdate());
        let mut response = self.client.get(&url, None)?;
        let mut newest = None;
        let mut bad = Vec::new();
        read_lines(
            &mut response,
            1 << 20,
            &mut |n, line| match parse_list_line(line, stream) {
                ListLine::Entry(e) => newest = Some(e),
                ListLine::Other => {}
                ListLine::Malformed(why) => bad.push(format!("line {n}: {why}")),
            },
        )?;
        newest.ok_or_else(|| match bad.into_iter().next() {
            Some(why) => ListError::Malformed { url, why },
            None => ListError::NoEvents {
                url,
                stream: stream.key(),
            },
        })
    }

    /// The list entries of `slots`, from `masterfilelist.txt`: its tail when the server
    /// honours a range request and the tail reaches back far enough, else the whole list,
    /// read as a stream.
    fn entries(
        &self,
        stream: Stream,
        slots: &[Slot],
        newest: Slot,
    ) -> Result<HashMap<Slot, Entry>, ListError> {
        let url = format!("{}{}", self.feed.url, stream.masterfilelist());
        let wanted: HashSet<Slot> = slots.iter().copied().collect();
        let earliest = slots.iter().min().copied().unwrap_or(newest);
        let span = ((newest.time() - earliest.time()).num_seconds() / Slot::SECONDS + 2) as u64;
        let tail = span * LIST_BYTES_PER_SLOT + 64 * 1024;
        if tail < 64 << 20 {
            let response = self.client.get(&url, Some(tail))?;
            let partial = response.status == 206;
            let (entries, reaches) =
                self.collect_entries(response, stream, &wanted, earliest, partial)?;
            if !partial || reaches {
                return Ok(entries);
            }
        }
        let response = self.client.get(&url, None)?;
        Ok(self
            .collect_entries(response, stream, &wanted, earliest, false)?
            .0)
    }

    /// Reads a list body, keeping the entries of `wanted`; also says whether the body
    /// starts before `earliest` (a tail that holds every wanted slot that is listed).
    fn collect_entries(
        &self,
        mut response: crate::shell::http::Response,
        stream: Stream,
        wanted: &HashSet<Slot>,
        earliest: Slot,
        partial: bool,
    ) -> Result<(HashMap<Slot, Entry>, bool), ListError> {
        let mut entries = HashMap::new();
        let mut first_slot = None;
        let (mut malformed, mut first_bad) = (0u64, None);
        read_lines(&mut response, MAX_LIST_SIZE, &mut |n, line| {
            if partial && n == 1 {
                return; // a range starts inside a line
            }
            if first_slot.is_none() {
                first_slot = Some(line_slot(line));
            }
            match parse_list_line(line, stream) {
                ListLine::Entry(e) if wanted.contains(&e.slot) => {
                    entries.insert(e.slot, e);
                }
                ListLine::Entry(_) | ListLine::Other => {}
                ListLine::Malformed(why) => {
                    malformed += 1;
                    first_bad.get_or_insert_with(|| format!("line {n}: {why}"));
                }
            }
        })?;
        if let Some(first) = first_bad {
            tracing::warn!(
                stream = stream.key(),
                "{}: {malformed} lines not understood (first: {first})",
                response.url
            );
        }
        let reaches = matches!(first_slot, Some(Some(s)) if s < earliest);
        Ok((entries, reaches))
    }

    /// Downloads, checks and unpacks one slot and writes its kept rows into the inbox.
    /// `Err` only when the books cannot be kept; the slot's own failure is `Ok(Err(..))`.
    #[allow(clippy::type_complexity)]
    fn fetch_slot(
        &self,
        state: &mut FeedState,
        stream: Stream,
        entry: &Entry,
    ) -> Result<Result<(Rows, Option<String>), Failure>, RunError> {
        let archive = match self.download(entry) {
            Ok(bytes) => bytes,
            Err(failure) => return Ok(Err(failure)),
        };
        let name = stream.inbox_name(entry.slot);
        let temp = self.inbox.join(format!("{TEMP_PREFIX}{name}.tmp"));
        let rows = match self.unpack_into(&archive, &temp) {
            Ok(rows) => rows,
            Err(failure) => {
                let _ = std::fs::remove_file(&temp);
                return Ok(Err(failure));
            }
        };
        if rows.kept == 0 {
            let _ = std::fs::remove_file(&temp);
            return Ok(Ok((rows, None)));
        }
        state.stream(stream).staged = Some(entry.slot);
        self.save(state)?;
        let placed = self.place(&temp, &name)?;
        state.stream(stream).mark_done(entry.slot);
        self.save(state)?;
        Ok(Ok((rows, Some(placed))))
    }

    /// The archive of `entry`, its size and MD5 checked against the list.
    fn download(&self, entry: &Entry) -> Result<Vec<u8>, Failure> {
        if entry.size > self.max_size {
            return Err(Failure::Broken(format!(
                "the list gives {} bytes, more than inbox.max_file_size ({})",
                entry.size, self.max_size
            )));
        }
        let url = if entry.url.contains("://") {
            entry.url.clone()
        } else {
            format!("{}{}", self.feed.url, entry.url)
        };
        let mut response = self.client.get(&url, None).map_err(|e| match e {
            HttpError::NotFound(_) => Failure::Missing(e.to_string()),
            HttpError::Status(..) | HttpError::Transport(_) => Failure::Transient(e.to_string()),
        })?;
        let mut bytes = Vec::with_capacity(entry.size as usize);
        let mut md5 = Md5::new();
        read_bounded(&mut response, entry.size, &mut |chunk| {
            md5.update(chunk);
            bytes.extend_from_slice(chunk);
        })
        .map_err(|e| match e {
            BoundedError::TooLarge(n) => {
                Failure::Broken(format!("{url}: more than the {n} bytes the list gives"))
            }
            BoundedError::Io(e) => Failure::Transient(format!("{url}: {e}")),
        })?;
        if bytes.len() as u64 != entry.size {
            return Err(Failure::Broken(format!(
                "{url}: {} bytes, the list gives {}",
                bytes.len(),
                entry.size
            )));
        }
        let digest: [u8; 16] = md5.finalize().into();
        if digest != entry.md5 {
            return Err(Failure::Broken(format!(
                "{url}: MD5 {}, the list gives {}",
                md5_hex(&digest),
                md5_hex(&entry.md5)
            )));
        }
        Ok(bytes)
    }

    /// Unpacks the CSV files of `archive` (their size bounded by `max_size` in all) and
    /// writes the kept rows, unchanged, to `temp`, synced.
    fn unpack_into(&self, archive: &[u8], temp: &Path) -> Result<Rows, Failure> {
        let broken = |e: String| Failure::Broken(format!("cannot unpack: {e}"));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive))
            .map_err(|e| broken(e.to_string()))?;
        let file = File::create(temp)
            .map_err(|e| Failure::Transient(format!("cannot write {}: {e}", temp.display())))?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        let mut rows = Rows::default();
        let budget = AtomicU64::new(self.max_size);
        let mut csv_files = 0;
        for i in 0..zip.len() {
            let entry = zip.by_index(i).map_err(|e| broken(e.to_string()))?;
            let name = entry
                .name()
                .map(|n| n.to_ascii_lowercase())
                .unwrap_or_default();
            if entry.is_dir() || !name.ends_with(".csv") {
                continue;
            }
            csv_files += 1;
            let limited = crate::shell::files::Limited {
                inner: entry,
                budget: &budget,
                limit: self.max_size,
            };
            self.filter_rows(limited, &mut out, &mut rows)?;
        }
        if csv_files == 0 {
            return Err(broken("the archive holds no .CSV file".into()));
        }
        let file = out
            .into_inner()
            .map_err(|e| Failure::Transient(format!("cannot write {}: {e}", temp.display())))?;
        file.sync_all()
            .map_err(|e| Failure::Transient(format!("cannot write {}: {e}", temp.display())))?;
        Ok(rows)
    }

    /// Passes each row of `reader` through the filter; kept rows go to `out` as they were.
    fn filter_rows(
        &self,
        reader: impl Read,
        out: &mut impl Write,
        rows: &mut Rows,
    ) -> Result<(), Failure> {
        let mut reader = BufReader::with_capacity(256 * 1024, reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = (&mut reader)
                .take(self.max_line + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| Failure::Broken(format!("cannot unpack: {e}")))?;
            if n == 0 {
                return Ok(());
            }
            if line.len() as u64 > self.max_line {
                skip_rest_of_line(&mut reader)?;
                rows.read += 1;
                rows.malformed += 1;
                rows.first_malformed.get_or_insert_with(|| {
                    format!("row {}: longer than inbox.max_line_length", rows.read)
                });
                continue;
            }
            match self.filter.verdict(&line) {
                Verdict::NotARow => continue,
                Verdict::Keep => {
                    if !line.ends_with(b"\n") {
                        line.push(b'\n');
                    }
                    out.write_all(&line)
                        .map_err(|e| Failure::Transient(format!("cannot write the inbox: {e}")))?;
                    rows.kept += 1;
                }
                Verdict::Drop => {}
                Verdict::Malformed(why) => {
                    rows.malformed += 1;
                    rows.first_malformed
                        .get_or_insert_with(|| format!("row {}: {why}", rows.read + 1));
                }
            }
            rows.read += 1;
        }
    }

    /// Renames `temp` to `name` in the inbox without replacing anything (`NAME` taken:
    /// `gdelt-STAMP-1.export.CSV`, ...), then syncs the folder. Returns the name used.
    fn place(&self, temp: &Path, name: &str) -> Result<String, RunError> {
        for n in 0..1000 {
            let candidate = if n == 0 {
                name.to_string()
            } else {
                name.replacen('.', &format!("-{n}."), 1)
            };
            match rename_no_replace(temp, &self.inbox.join(&candidate)) {
                Ok(()) => {
                    sync_dir(&self.inbox)
                        .map_err(io_error(format!("cannot sync {}", self.inbox.display())))?;
                    return Ok(candidate);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    let what = format!("cannot rename {} into the inbox", temp.display());
                    return Err(io_error(what)(e));
                }
            }
        }
        Err(RunError::NoFreeName(name.to_string()))
    }
}

/// The slot of the file a list line names, whatever its kind.
fn line_slot(line: &str) -> Option<Slot> {
    let name = line.split_whitespace().nth(2)?.rsplit('/').next()?;
    Slot::parse(name.get(..14)?)
}

/// Calls `each` with every line (number, text without line end) of a body of at most
/// `limit` bytes; lines longer than [`MAX_LIST_LINE`] fail the read.
fn read_lines(
    reader: &mut dyn Read,
    limit: u64,
    each: &mut dyn FnMut(usize, &str),
) -> Result<(), ListError> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader.take(limit + 1));
    let mut line = Vec::new();
    let (mut n, mut total) = (0usize, 0u64);
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LIST_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(ListError::Read)?;
        if read == 0 {
            return Ok(());
        }
        total += read as u64;
        n += 1;
        if total > limit {
            return Err(ListError::TooLarge(limit));
        }
        if line.len() as u64 > MAX_LIST_LINE {
            return Err(ListError::LongLine(n));
        }
        each(n, String::from_utf8_lossy(&line).trim_end());
    }
}

fn skip_rest_of_line(reader: &mut impl BufRead) -> Result<(), Failure> {
    loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| Failure::Broken(format!("cannot unpack: {e}")))?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let len = buf.len();
                reader.consume(len);
            }
        }
    }
}

/// Reads the state file; a missing file is a first run, a damaged one an error.
pub fn load_state(path: &Path) -> Result<FeedState, RunError> {
    match std::fs::read_to_string(path) {
        Ok(text) => FeedState::parse(&text).map_err(|why| RunError::Damaged {
            path: path.to_path_buf(),
            why,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FeedState::default()),
        Err(e) => Err(io_error(format!("cannot read {}", path.display()))(e)),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("a path with a NUL byte"))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths; renameat2 does not keep the pointers.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Parses `--from`/`--to`: `YYYY-MM-DD` (start of the day; for `--to`, its end) or
/// `YYYY-MM-DDTHH:MM`, UTC.
pub fn parse_when(text: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        return Ok(t.and_utc());
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"))?;
    let time = if end_of_day {
        chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default()
    } else {
        chrono::NaiveTime::MIN
    };
    Ok(date.and_time(time).and_utc())
}

/// The newest slot each feed has done, from the state folder (`STATE/feed/gdelt.json`):
/// what the daemon's metrics report as `pledgewatch_feed_last_slot_timestamp_seconds`.
/// A feed that never ran, or whose state cannot be read, has none.
pub fn newest_slots(state_dir: &Path) -> Vec<(String, DateTime<Utc>)> {
    let path = state_dir.join("feed").join("gdelt.json");
    if !path.exists() {
        return Vec::new();
    }
    let Ok(state) = load_state(&path) else {
        return Vec::new();
    };
    state
        .streams
        .values()
        .filter_map(|s| s.done.last().map(|r| r.1))
        .max()
        .map(|slot| vec![("gdelt".to_string(), slot.time())])
        .unwrap_or_default()
}
