//! The watched folder: which files are ready to take, and where taken files go. Nothing here
//! deletes a file: a taken file is moved to `processed/` or `rejected/` (under a fresh name if
//! the name is already used there), with a `NAME.error` file beside it saying why.

use crate::shell::files::is_hidden_or_partial;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What an inbox entry is, from `lstat` (links are never followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file of this many bytes, within the size limit.
    File(u64),
    /// A regular file over the size limit.
    TooLarge(u64),
    /// Anything else: a directory, symlink, FIFO, socket or device.
    NotAFile(&'static str),
}

/// An inbox entry ready to be taken.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its name in the inbox.
    pub name: OsString,
    /// Its path.
    pub path: PathBuf,
    /// What it is.
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// The inbox and its two destination folders, with what has been seen of files still being
/// written.
pub struct Inbox {
    /// The watched folder.
    pub dir: PathBuf,
    /// Where taken files go.
    pub processed: PathBuf,
    /// Where unreadable files go.
    pub rejected: PathBuf,
    max_size: u64,
    settle: Duration,
    seen: HashMap<OsString, Seen>,
}

fn describe(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

impl Inbox {
    /// The inbox at `dir`, moving taken files under `state_dir`; creates the folders.
    pub fn new(
        dir: &Path,
        state_dir: &Path,
        max_size: u64,
        settle: Duration,
    ) -> Result<Inbox, (PathBuf, std::io::Error)> {
        let processed = state_dir.join("processed");
        let rejected = state_dir.join("rejected");
        for d in [dir, &processed, &rejected] {
            std::fs::create_dir_all(d).map_err(|e| (d.to_path_buf(), e))?;
        }
        Ok(Inbox {
            dir: dir.to_path_buf(),
            processed,
            rejected,
            max_size,
            settle,
            seen: HashMap::new(),
        })
    }

    /// Applies new limits from a reloaded config.
    pub fn set_limits(&mut self, max_size: u64, settle: Duration) {
        self.max_size = max_size;
        self.settle = settle;
    }

    /// True while some file is waiting for its size to settle.
    pub fn waiting(&self) -> bool {
        !self.seen.is_empty()
    }

    /// True when the file `name` has kept its size and modification time for the settle
    /// time (it is remembered from the first time it is seen).
    fn settled(&mut self, name: &OsStr, meta: &std::fs::Metadata, now: Instant) -> bool {
        let modified = meta.modified().ok();
        match self.seen.get(name) {
            Some(s) if s.len == meta.len() && s.modified == modified => {
                now.duration_since(s.since) >= self.settle
            }
            _ => {
                let seen = Seen {
                    len: meta.len(),
                    modified,
                    since: now,
                };
                self.seen.insert(name.to_os_string(), seen);
                self.settle.is_zero()
            }
        }
    }

    /// The entries ready to take, in name order. Names in `complete` (renamed into the
    /// folder, or closed after writing) are ready at once; other files once their size and
    /// modification time have not changed for the settle time. Hidden and partial names
    /// (`.x`, `*.tmp`, `*.part`) wait until renamed.
    pub fn ready(&mut self, complete: &HashSet<OsString>) -> std::io::Result<Vec<Entry>> {
        let now = Instant::now();
        let mut out = Vec::new();
        let mut present = HashSet::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if is_hidden_or_partial(&name.to_string_lossy()) {
                continue;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue; // gone since listing
            };
            let t = meta.file_type();
            if !t.is_file() {
                out.push(Entry {
                    name,
                    path,
                    kind: EntryKind::NotAFile(describe(t)),
                });
                continue;
            }
            if meta.len() > self.max_size {
                self.seen.remove(&name);
                out.push(Entry {
                    name,
                    path,
                    kind: EntryKind::TooLarge(meta.len()),
                });
                continue;
            }
            present.insert(name.clone());
            let settled = self.settled(&name, &meta, now);
            if settled || complete.contains(&name) {
                self.seen.remove(&name);
                out.push(Entry {
                    name,
                    path,
                    kind: EntryKind::File(meta.len()),
                });
            }
        }
        self.seen.retain(|name, _| present.contains(name));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// Longest file name (bytes) on Linux file systems.
const NAME_MAX: usize = 255;

/// A path in `dir` for `name` that is free, together with its `.error` companion: `NAME`,
/// else `NAME.1`, `NAME.2`... A name too long to take a suffix and a `.error` companion is
/// shortened.
fn free_name(dir: &Path, name: &OsStr) -> std::io::Result<PathBuf> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    for n in 0u32.. {
        let suffix = if n > 0 {
            format!(".{n}")
        } else {
            String::new()
        };
        let room = NAME_MAX - ".error".len() - suffix.len();
        let bytes = name.as_bytes();
        let mut candidate = OsString::from_vec(bytes[..bytes.len().min(room)].to_vec());
        candidate.push(&suffix);
        let target = dir.join(&candidate);
        let mut error_name = candidate.clone();
        error_name.push(".error");
        if std::fs::symlink_metadata(&target).is_ok()
            || std::fs::symlink_metadata(dir.join(error_name)).is_ok()
        {
            continue;
        }
        return Ok(target);
    }
    Err(std::io::Error::other("no free name"))
}

/// Moves `src` into `dir` under its own name, or `NAME.1`, `NAME.2`... if that is taken
/// (see `free_name`). Returns the new path. Never overwrites.
///
/// With `error`, `NAME.error` is written (and synced) first, so that a file gone from the
/// inbox always has its whole `.error` beside it. A failure to write it is returned as the
/// second value; the file is moved all the same.
pub fn move_unique(
    src: &Path,
    dir: &Path,
    name: &OsStr,
    error: Option<&str>,
) -> std::io::Result<(PathBuf, Option<std::io::Error>)> {
    let target = free_name(dir, name)?;
    let error_failed = error.and_then(|text| write_error(&target, text).err());
    if let Err(e) = std::fs::rename(src, &target) {
        if error.is_some() && error_failed.is_none() {
            let _ = std::fs::remove_file(error_path(&target));
        }
        return Err(e);
    }
    Ok((target, error_failed))
}

/// Writes `NAME.error` in `dir` for a file that is gone (deleted while it was read), under
/// a name no other file or `.error` uses. Returns the path the `.error` file stands for.
pub fn write_error_alone(dir: &Path, name: &OsStr, text: &str) -> std::io::Result<PathBuf> {
    let target = free_name(dir, name)?;
    write_error(&target, text)?;
    Ok(target)
}

/// The `.error` companion of `path`.
fn error_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".error");
    PathBuf::from(name)
}

/// Writes `TARGET.error` beside a (moved or about to be moved) file, saying why.
fn write_error(target: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create_new(true).write(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    let mut f = options.open(error_path(target))?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    f.sync_all()
}

/// What tells one state of a file from another without reading it: device, inode, size,
/// and the modification and change times. Writing, truncating, replacing, renaming or
/// linking a file changes it (the change time cannot be set back by a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// The identity of the file at `path` now (the link itself, never its target).
pub fn identity(path: &Path) -> std::io::Result<Identity> {
    std::fs::symlink_metadata(path).map(|m| Identity::of(&m))
}

/// The BLAKE3 hash of a file's content, hex, and the identity of the file it was read from,
/// taken before the first byte was read.
pub fn hash_file(path: &Path) -> std::io::Result<(String, Identity)> {
    let mut f = crate::shell::files::open_for_reading(path, true)?;
    let identity = Identity::of(&f.metadata()?);
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok((h.finalize().to_hex().to_string(), identity))
}

/// Makes a rename or a new file durable: fsync of the folder.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_and_classifies() {
        let dir = tempfile::tempdir().unwrap();
        let inbox_dir = dir.path().join("inbox");
        let mut inbox = Inbox::new(&inbox_dir, dir.path(), 10, Duration::from_millis(50)).unwrap();
        std::fs::write(inbox_dir.join("a.json"), "{}").unwrap();
        std::fs::write(inbox_dir.join("big.json"), "01234567890").unwrap();
        std::fs::write(inbox_dir.join(".hidden.json"), "{}").unwrap();
        std::fs::write(inbox_dir.join("x.json.part"), "{}").unwrap();
        std::fs::create_dir(inbox_dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", inbox_dir.join("link.json")).unwrap();
        let none = HashSet::new();
        let first: Vec<_> = inbox
            .ready(&none)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.kind))
            .collect();
        assert_eq!(
            first,
            vec![
                ("big.json".into(), EntryKind::TooLarge(11)),
                ("link.json".into(), EntryKind::NotAFile("a symbolic link")),
                ("sub".into(), EntryKind::NotAFile("a directory")),
            ]
        );
        assert!(inbox.waiting(), "a.json waits to settle");
        std::thread::sleep(Duration::from_millis(60));
        let later: Vec<_> = inbox
            .ready(&none)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(later.contains(&OsString::from("a.json")));
        // a file named as complete is ready at once
        std::fs::write(inbox_dir.join("b.json"), "{}").unwrap();
        let complete: HashSet<OsString> = [OsString::from("b.json")].into();
        let now: Vec<_> = inbox
            .ready(&complete)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(now.contains(&OsString::from("b.json")));
    }

    #[test]
    fn long_names_are_shortened_to_leave_room_for_error_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let name = format!("{}.json", "x".repeat(250));
        for _ in 0..2 {
            std::fs::write(a.join(&name), "{}").unwrap();
            let (_, failed) =
                move_unique(&a.join(&name), &b, OsStr::new(&name), Some("why")).unwrap();
            assert!(failed.is_none());
        }
        assert_eq!(std::fs::read_dir(&b).unwrap().count(), 4);
    }

    #[test]
    fn moves_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        for i in 0..3 {
            std::fs::write(a.join("r.json"), format!("{i}")).unwrap();
            let (to, _) = move_unique(&a.join("r.json"), &b, OsStr::new("r.json"), None).unwrap();
            assert_eq!(std::fs::read_to_string(&to).unwrap(), format!("{i}"));
        }
        let mut names: Vec<_> = std::fs::read_dir(&b)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["r.json", "r.json.1", "r.json.2"]);
    }

    #[test]
    fn the_error_file_is_there_before_the_move_and_gone_if_the_move_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        // the source does not exist: the move fails, and no .error is left behind
        let missing = move_unique(&a.join("gone.json"), &b, OsStr::new("gone.json"), Some("x"));
        assert!(missing.is_err());
        assert_eq!(std::fs::read_dir(&b).unwrap().count(), 0);
        std::fs::write(a.join("r.json"), "x").unwrap();
        let (to, failed) =
            move_unique(&a.join("r.json"), &b, OsStr::new("r.json"), Some("why\n")).unwrap();
        assert!(failed.is_none());
        assert_eq!(std::fs::read_to_string(error_path(&to)).unwrap(), "why\n");
    }

    #[test]
    fn an_error_alone_takes_a_free_name_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let alone = write_error_alone(&b, OsStr::new("r.json"), "gone\n").unwrap();
        assert_eq!(alone, b.join("r.json"));
        assert!(!alone.exists());
        // a later file of that name does not take the name of the lone .error
        std::fs::write(a.join("r.json"), "x").unwrap();
        let (to, _) = move_unique(&a.join("r.json"), &b, OsStr::new("r.json"), None).unwrap();
        assert_eq!(to, b.join("r.json.1"));
        assert_eq!(
            std::fs::read_to_string(b.join("r.json.error")).unwrap(),
            "gone\n"
        );
    }

    #[test]
    fn identity_sees_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "0123456789").unwrap();
        let (_, first) = hash_file(&path).unwrap();
        assert_eq!(identity(&path).unwrap(), first);
        // same length, same modification time set back: the change time still moves
        std::thread::sleep(Duration::from_millis(20));
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::write(&path, "9876543210").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_ne!(identity(&path).unwrap(), first);
        // truncated
        let (_, second) = hash_file(&path).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(3)
            .unwrap();
        assert_ne!(identity(&path).unwrap(), second);
        // replaced by another file
        let (_, third) = hash_file(&path).unwrap();
        std::fs::write(dir.path().join("other"), "abc").unwrap();
        std::fs::rename(dir.path().join("other"), &path).unwrap();
        assert_ne!(identity(&path).unwrap(), third);
        // deleted
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            identity(&path).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    }
}
