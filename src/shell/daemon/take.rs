//! One inbox file, start to end, in named steps: hash and dedupe → read and match (into
//! the file's one ledger transaction) → identity check → commit. Every step ends in an
//! [`Outcome`], and [`Worker::settle`] is the one place that turns it into a move, an
//! `.error` file and a log line. The caller's span names the file in every line.

use super::worker::Worker;
use crate::engine::marks::LatestMarks;
use crate::engine::matcher::{CompiledRules, Hit, Scratch};
use crate::engine::problem::{escape_controls, shown};
use crate::engine::report::{Item, Location, Rejection, Report};
use crate::engine::rules::RuleSet;
use crate::engine::tally::DailyTally;
use crate::shell::files::{ReadOptions, read_file_mapped};
use crate::shell::inbox::{self, Entry, EntryKind, Identity};
use crate::shell::ledger::{self, FileCounts, LedgerError, Standing, TakenFile};
use chrono::{SecondsFormat, Utc};
use rusqlite::Transaction;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Reports handed to the ledger at a time while a file is read (all in the file's one
/// transaction), so that a large file is never held in memory.
const WRITE_EVERY: usize = 5_000;

/// Refused records listed one by one in a file's `.error`; the rest are counted in one line,
/// so that a file of millions of bad lines cannot fill memory.
const MAX_LISTED_PROBLEMS: usize = 10_000;

/// What taking one inbox entry came to, for the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Took {
    /// Reports were added: evaluate.
    Reports,
    /// The entry is dealt with (moved, refused, gone) and added no report.
    Nothing,
    /// Nothing was kept and the file stays in the inbox, to be tried again later: the ledger
    /// could not be written, or the file changed while it was read.
    Later,
}

/// How taking a file ended.
enum Outcome {
    /// Refused without being read (not a regular file, too large, unreadable): moved to
    /// `rejected/` with why.
    Refused(String),
    /// Gone before it was opened: nothing to do.
    Gone,
    /// Its content was taken before (a re-drop, or a crash between commit and move).
    Twin(TakenFile),
    /// The ledger could not be read or written: nothing kept, the file stays.
    LedgerFailed(LedgerError),
    /// The daemon is stopping: nothing kept, the file stays.
    Stopping,
    /// Deleted while it was read: nothing kept; only its `.error` is left.
    Deleted,
    /// Written, truncated or replaced while it was read: nothing kept, read again later.
    Changed,
    /// In the ledger.
    Taken(Taken),
}

/// A file whose transaction was committed.
struct Taken {
    /// Nothing taken and something refused: the file as a whole goes to `rejected/`.
    rejected: bool,
    counts: FileCounts,
    /// The refused records listed (and a line counting those not listed).
    refusals: Vec<String>,
    /// The line that counts skipped rows, if any.
    skipped: Option<String>,
}

/// What one file adds to the tally and marks, held until its transaction is written: a
/// tally and marks of its own (bounded by commitments and days, not by reports), and the
/// earlier records its reports replace.
struct FileGain {
    standing: Standing,
    /// Ids whose earlier record was replaced, with the commitments that record hit.
    replaced: Vec<(String, Vec<u32>)>,
    /// Reports with an id not in the ledger before.
    new_reports: usize,
}

impl FileGain {
    fn new(rules: &RuleSet) -> FileGain {
        let tally = DailyTally::new(rules);
        let marks = LatestMarks::new(tally.len());
        FileGain {
            standing: Standing { tally, marks },
            replaced: Vec::new(),
            new_reports: 0,
        }
    }

    /// Counts `report` (stored in the file's transaction), taking back the record it
    /// replaced, if any (matched again: its hits under the current rules).
    fn add(
        &mut self,
        report: &Report,
        hits: &[Hit],
        replaced: Option<Report>,
        compiled: &CompiledRules,
        scratch: &mut Scratch,
    ) {
        match replaced {
            Some(old) => {
                let old_hits = compiled.match_report(&old, scratch);
                self.standing.tally.add(old.date, &old_hits, -1);
                let commitments: Vec<u32> = old_hits.iter().map(|h| h.commitment).collect();
                self.standing.marks.remove_from(&old.id, &commitments);
                self.replaced.push((old.id, commitments));
            }
            None => self.new_reports += 1,
        }
        self.standing.tally.add(report.date, hits, 1);
        self.standing.marks.add(report, hits);
    }

    /// Adds the file's gain to the daemon's `standing` and writes what changed, inside the
    /// file's transaction.
    fn apply(&mut self, tx: &Transaction<'_>, standing: &mut Standing) -> Result<(), LedgerError> {
        for (id, commitments) in &self.replaced {
            standing.marks.remove_from(id, commitments);
        }
        standing.tally.absorb(&mut self.standing.tally);
        standing
            .marks
            .absorb(std::mem::take(&mut self.standing.marks));
        let tally = standing.tally.take_changed();
        ledger::save_standing(tx, standing, &tally)
    }
}

/// A record after matching, with what the ledger and the tally need.
enum Matched {
    Report(Report, Vec<Hit>),
    Rejected(Rejection),
    Skipped,
}

/// What reading a file needs besides the transaction: the rules, the read limits and the
/// stop flag.
struct Matching<'a> {
    rules: &'a RuleSet,
    compiled: &'a CompiledRules,
    options: ReadOptions,
    threads: usize,
    stop: &'a AtomicBool,
}

/// One file's reading into its transaction: reports written in batches, refusals listed
/// (bounded), and what the tally gains.
struct Reading {
    name: String,
    batch: Vec<(Report, Vec<Hit>)>,
    gain: FileGain,
    scratch: Scratch,
    counts: FileCounts,
    problems: Vec<String>,
    /// A refusal concerns the whole file (it could not be read as a report file).
    unreadable: bool,
    /// The ledger failed: the rest of the file is not read.
    failed: Option<LedgerError>,
}

impl Reading {
    fn new(name: String, rules: &RuleSet) -> Reading {
        Reading {
            name,
            batch: Vec::new(),
            gain: FileGain::new(rules),
            scratch: Scratch::default(),
            counts: FileCounts::default(),
            problems: Vec::new(),
            unreadable: false,
            failed: None,
        }
    }

    /// Takes one matched record.
    fn take(&mut self, tx: &Transaction<'_>, m: Matched, compiled: &CompiledRules) {
        match m {
            Matched::Report(r, hits) => {
                self.counts.reports += 1;
                self.batch.push((r, hits));
                if self.batch.len() >= WRITE_EVERY {
                    self.write(tx, compiled);
                }
            }
            Matched::Rejected(rej) => {
                self.counts.rejected += 1;
                let whole_file = rej.location == Location::File;
                self.unreadable |= whole_file;
                // what concerns the whole file is always listed
                if self.problems.len() < MAX_LISTED_PROBLEMS || whole_file {
                    self.problems.push(rej.to_string());
                }
            }
            Matched::Skipped => self.counts.skipped += 1,
        }
    }

    /// Writes the batch into the transaction and counts it.
    fn write(&mut self, tx: &Transaction<'_>, compiled: &CompiledRules) {
        if self.failed.is_some() {
            return;
        }
        for (r, hits) in self.batch.drain(..) {
            match ledger::put_report(tx, &self.name, &r) {
                Ok(old) => self.gain.add(&r, &hits, old, compiled, &mut self.scratch),
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
    }
}

/// Reads and matches `path` into `reading`, file order kept, on the worker threads.
fn read_and_match(
    path: &Path,
    matching: &Matching<'_>,
    tx: &Transaction<'_>,
    reading: &mut Reading,
) {
    let compiled = matching.compiled;
    let map = |scratch: &mut Scratch, item: Item| match item {
        Item::Report(r) => {
            let hits = compiled.match_report(&r, scratch);
            Matched::Report(r, hits)
        }
        Item::Rejected(rej) => Matched::Rejected(rej),
        Item::Skipped(_) => Matched::Skipped,
    };
    read_file_mapped(
        path,
        &matching.options,
        matching.threads,
        &Scratch::default,
        &map,
        &mut |m| {
            if reading.failed.is_none() && !matching.stop.load(Ordering::SeqCst) {
                reading.take(tx, m, compiled);
            }
        },
    );
    reading.write(tx, compiled);
}

/// The file must be the one that was hashed and read, unchanged: otherwise what was read
/// may be half of one version and half of another.
fn check_identity(path: &Path, identity: Identity) -> Result<(), Outcome> {
    match inbox::identity(path) {
        Ok(now) if now == identity => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Outcome::Deleted),
        _ => Err(Outcome::Changed),
    }
}

/// Commits the file's reading: its gain into `standing` and the ledger, the count of new
/// reports and the file itself, in its one transaction. On failure `standing` is ahead of
/// the ledger and must be read back.
fn commit(
    tx: Transaction<'_>,
    mut reading: Reading,
    standing: &mut Standing,
    key: &str,
) -> Result<(Taken, usize), LedgerError> {
    let counts = reading.counts;
    let rejected = counts.reports == 0 && (reading.unreadable || counts.rejected > 0);
    let outcome = if rejected { "rejected" } else { "processed" };
    let taken = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    reading.gain.apply(&tx, standing)?;
    ledger::count_new_reports(&tx, reading.gain.new_reports)?;
    ledger::put_file(&tx, key, &reading.name, outcome, &taken, counts)?;
    let new_reports = reading.gain.new_reports;
    let refusals = reading.problems;
    ledger::commit(tx)?;
    let mut refusals = refusals;
    if counts.rejected > refusals.len() {
        refusals.push(format!(
            "... and {} more refused record(s), not listed ({} in all)",
            counts.rejected - refusals.len(),
            counts.rejected
        ));
    }
    let skipped = (counts.skipped > 0).then(|| format!(
        "{} row(s) skipped: no Actor1CountryCode or Actor2CountryCode (GDELT), or actors that name no country of the table (event datasets)",
        counts.skipped
    ));
    let taken = Taken {
        rejected,
        counts,
        refusals,
        skipped,
    };
    Ok((taken, new_reports))
}

/// The ledger's key of a file: its content hash and its extension (the same bytes under
/// another extension are another file, and may be read differently).
fn file_key(path: &Path, hash: &str) -> String {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    format!("{hash}.{}", escape_controls(&extension))
}

impl Worker {
    /// Takes one inbox entry (inside the caller's span for the file).
    pub(super) fn take(&mut self, entry: &Entry) -> Took {
        let outcome = match &entry.kind {
            EntryKind::NotAFile(what) => Outcome::Refused(format!(
                "{what}: only regular files are taken; it was not opened or followed"
            )),
            EntryKind::TooLarge(len) => Outcome::Refused(format!(
                "{len} bytes, over the limit inbox.max_file_size ({} bytes); not read",
                self.config.max_file_size
            )),
            EntryKind::File(_) => self.take_file(entry).unwrap_or_else(|o| o),
        };
        self.settle(entry, outcome)
    }

    /// The steps of a regular file: hash and dedupe, read and match, identity check,
    /// commit.
    fn take_file(&mut self, entry: &Entry) -> Result<Outcome, Outcome> {
        let (key, identity) = self.hash_and_dedupe(entry)?;
        let matching = Matching {
            rules: &self.rules,
            compiled: &self.compiled,
            options: self.read_options(),
            threads: self.threads,
            stop: &self.stop,
        };
        // One transaction for the whole file: a file is in the ledger entirely or not at
        // all, whatever happens while it is read (a crash, a full disk, the file changing).
        let tx = self.ledger.begin().map_err(Outcome::LedgerFailed)?;
        let name = entry.name.to_string_lossy().into_owned();
        let mut reading = Reading::new(name, matching.rules);
        read_and_match(&entry.path, &matching, &tx, &mut reading);
        if let Some(e) = reading.failed.take() {
            return Err(Outcome::LedgerFailed(e));
        }
        if self.stop.load(Ordering::SeqCst) {
            return Err(Outcome::Stopping);
        }
        check_identity(&entry.path, identity)?;
        match commit(tx, reading, &mut self.standing, &key) {
            Ok((taken, new_reports)) => {
                self.reports += new_reports;
                Ok(Outcome::Taken(taken))
            }
            Err(e) => {
                // the tally in memory went ahead of the ledger: read it back
                if let Err(e) = self.load_standing() {
                    tracing::error!(error = %e, "cannot read the ledger's tally back");
                }
                Err(Outcome::LedgerFailed(e))
            }
        }
    }

    /// The read limits of the config, for a file of the inbox.
    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            max_line_length: usize::try_from(self.config.max_line_length).ok(),
            regular_files_only: true,
            max_uncompressed: Some(self.config.max_file_size),
            max_records: usize::try_from(self.config.max_records_per_file).ok(),
            max_json_depth: usize::try_from(self.config.max_json_depth).ok(),
            ..ReadOptions::default()
        }
    }

    /// Hashes the file (its identity taken before the first byte is read) and looks its
    /// content up in the ledger: the ledger's key and the identity, or how it ends.
    fn hash_and_dedupe(&self, entry: &Entry) -> Result<(String, Identity), Outcome> {
        let (hash, identity) = match inbox::hash_file(&entry.path) {
            Ok(found) => found,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Outcome::Gone),
            Err(e) => return Err(Outcome::Refused(format!("cannot be read: {e}"))),
        };
        let key = file_key(&entry.path, &hash);
        match self.ledger.taken_file(&key) {
            Ok(Some(twin)) => Err(Outcome::Twin(twin)),
            Ok(None) => Ok((key, identity)),
            Err(e) => Err(Outcome::LedgerFailed(e)),
        }
    }

    /// The one place where a file's outcome becomes a move, an `.error` file and a log
    /// line.
    fn settle(&self, entry: &Entry, outcome: Outcome) -> Took {
        match outcome {
            Outcome::Refused(why) => {
                self.reject(entry, &why);
                Took::Nothing
            }
            Outcome::Gone => {
                tracing::info!("file gone before it was opened; nothing to take");
                Took::Nothing
            }
            Outcome::Twin(twin) => {
                self.put_beside_twin(entry, &twin);
                Took::Nothing
            }
            Outcome::LedgerFailed(e) => {
                tracing::error!(error = %e, "ledger error; nothing of the file was kept; it stays in the inbox and will be taken again");
                Took::Later
            }
            Outcome::Stopping => {
                tracing::info!(
                    "stopping: nothing of the file was kept; it stays in the inbox and will be taken again"
                );
                Took::Nothing
            }
            Outcome::Deleted => {
                self.deleted_while_read(entry);
                Took::Nothing
            }
            Outcome::Changed => {
                tracing::warn!(
                    "changed while being read (written, truncated or replaced); nothing of this reading was kept; it will be read again"
                );
                Took::Later
            }
            Outcome::Taken(taken) => self.file_taken(entry, taken),
        }
    }

    /// Moves a file refused unread to `rejected/`, its `.error` saying why.
    fn reject(&self, entry: &Entry, why: &str) {
        let dir = &self.inbox.rejected;
        let text = format!("{why}\n");
        match inbox::move_unique(&entry.path, dir, &entry.name, Some(&text)) {
            Ok((to, error_failed)) => {
                error_file_failed(&to, error_failed);
                let _ = inbox::sync_dir(dir);
                tracing::warn!(moved_to = %shown(&to), reason = %why, "file rejected");
            }
            Err(e) => tracing::error!(error = %e, "cannot move a rejected file"),
        }
    }

    /// Identical content was taken before: nothing changes; the file is put where its twin
    /// went.
    fn put_beside_twin(&self, entry: &Entry, twin: &TakenFile) {
        let rejected = twin.outcome == "rejected";
        let dir = if rejected {
            &self.inbox.rejected
        } else {
            &self.inbox.processed
        };
        let why = rejected.then(|| {
            format!(
                "identical to {}, taken {} and rejected; see its .error file\n",
                escape_controls(&twin.name),
                twin.taken
            )
        });
        match inbox::move_unique(&entry.path, dir, &entry.name, why.as_deref()) {
            Ok((to, error_failed)) => {
                error_file_failed(&to, error_failed);
                tracing::info!(
                    moved_to = %shown(&to), first_taken = %twin.taken, first_name = %twin.name,
                    "file already taken (identical content); nothing counted again"
                );
            }
            Err(e) => tracing::error!(error = %e, "cannot move a file"),
        }
    }

    /// A file deleted while it was read leaves only `rejected/NAME.error`.
    fn deleted_while_read(&self, entry: &Entry) {
        let why = "deleted while being read; nothing of it was kept\n";
        match inbox::write_error_alone(&self.inbox.rejected, &entry.name, why) {
            Ok(to) => {
                let _ = inbox::sync_dir(&self.inbox.rejected);
                tracing::warn!(error_file = %shown(&to), reason = why.trim_end(), "file rejected");
            }
            Err(e) => {
                tracing::error!(error = %e, "deleted while being read; nothing of it was kept; cannot write the .error file")
            }
        }
    }

    /// A committed file goes to `processed/` (or, when nothing of it was taken, to
    /// `rejected/`), with an `.error` listing what was refused or skipped.
    fn file_taken(&self, entry: &Entry, taken: Taken) -> Took {
        let counts = taken.counts;
        let dir = if taken.rejected {
            &self.inbox.rejected
        } else {
            &self.inbox.processed
        };
        let lines: Vec<&str> = taken
            .refusals
            .iter()
            .chain(&taken.skipped)
            .map(String::as_str)
            .collect();
        let why = (!lines.is_empty()).then(|| lines.join("\n") + "\n");
        match inbox::move_unique(&entry.path, dir, &entry.name, why.as_deref()) {
            Ok((to, error_failed)) => {
                error_file_failed(&to, error_failed);
                let _ = inbox::sync_dir(dir);
                for p in taken.refusals.iter().take(20) {
                    tracing::warn!(problem = %p, "record refused");
                }
                if let Some(p) = &taken.skipped {
                    tracing::info!(problem = %p, "rows skipped");
                }
                tracing::info!(
                    moved_to = %shown(&to), reports = counts.reports,
                    rejected = counts.rejected, skipped = counts.skipped, "file taken"
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot move a taken file; it is known by its hash and will be moved at the next scan")
            }
        }
        if counts.reports > 0 {
            Took::Reports
        } else {
            Took::Nothing
        }
    }
}

/// Logs a `.error` file that could not be written beside a moved file.
fn error_file_failed(moved_to: &Path, failed: Option<std::io::Error>) {
    if let Some(e) = failed {
        tracing::error!(file = %shown(moved_to), error = %e, "cannot write the .error file");
    }
}
