//! What can go wrong with the ledger, as one type: the daemon, `status`, `explain` and
//! `history` tell the kinds apart (a newer ledger is a configuration problem, exit 78).

use std::path::PathBuf;

/// A ledger that cannot be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite refused an operation on the database at `path`.
    #[error("{}: {source}", path.display())]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// `status` or `explain` before the daemon ever ran.
    #[error("{}: no ledger yet (has the daemon run?)", .0.display())]
    Missing(PathBuf),
    /// The database would not switch to write-ahead logging.
    #[error("{}: cannot switch to WAL mode (got {mode})", path.display())]
    NotWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// Written by a newer pledgewatch: refused, never modified.
    #[error(
        "{}: written by a newer pledgewatch (ledger schema {version}; this {} knows up to {known}); \
         it is left as it is — run the newer version, or restore the copy taken before its upgrade",
        path.display(), env!("CARGO_PKG_VERSION")
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        version: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// Not a pledgewatch ledger (or of no version this build knows): never replaced.
    #[error("{}: not a pledgewatch ledger of a known version (user_version {version}); it is left as it is", path.display())]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        version: i64,
    },
    /// Something stored cannot be decoded (a report, a mark, a tally).
    #[error("{}: {what}", path.display())]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What could not be read, and why.
        what: String,
    },
}

impl LedgerError {
    /// The exit code of a command that stops on this error: a ledger of a newer version is
    /// a configuration problem (EX_CONFIG), everything else a failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            LedgerError::Newer { .. } => crate::exit::CONFIG,
            _ => crate::exit::PROBLEMS,
        }
    }
}

/// Turns SQLite errors on the database at `path` into [`LedgerError::Sql`].
pub(super) fn sql(path: &std::path::Path) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |source| LedgerError::Sql {
        path: path.to_path_buf(),
        source,
    }
}

/// Turns SQLite errors inside a transaction into [`LedgerError::Sql`], naming the
/// connection's database.
pub(super) fn sql_in(
    conn: &rusqlite::Connection,
) -> impl Fn(rusqlite::Error) -> LedgerError + use<> {
    let path = PathBuf::from(conn.path().unwrap_or("pledgewatch.db"));
    move |source| LedgerError::Sql {
        path: path.clone(),
        source,
    }
}
