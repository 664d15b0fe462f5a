//! The imperative shell: thin code around the engine that touches the world — report
//! files ([`files`]), the rules folder ([`rules_dir`]), the config file ([`config`]), the
//! inbox watcher ([`inbox`]), the SQLite ledger ([`ledger`]), alert sinks ([`alert`]),
//! logging ([`logging`]) and the daemon's runtime ([`daemon`]: worker thread, schedules,
//! signals, systemd).

pub mod alert;
pub mod config;
pub mod daemon;
pub mod files;
pub mod inbox;
pub mod ledger;
pub mod logging;
pub mod rules_dir;

/// Today's date in UTC: the default as-of date (the engine never reads the clock).
pub fn today_utc() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
