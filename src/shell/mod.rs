//! The imperative shell: thin code around the engine that touches the world — report
//! files ([`files`]), the rules folder ([`rules_dir`]), the config file ([`config`]), the
//! inbox watcher ([`inbox`]), the SQLite ledger ([`ledger`]), alert sinks ([`alert`]),
//! alert delivery to Alertmanager and a webhook ([`delivery`]) over the HTTP client
//! ([`http`], the feed's too), logging ([`logging`]) and the daemon ([`daemon`]: its
//! loop, its worker and the per-file pipeline).

pub(crate) mod alert;
pub(crate) mod config;
pub(crate) mod daemon;
pub(crate) mod delivery;
pub(crate) mod files;
pub(crate) mod http;
pub(crate) mod inbox;
pub(crate) mod ledger;
pub(crate) mod logging;
pub mod rules_dir;

/// Today's date in UTC: the default as-of date (the engine never reads the clock).
pub fn today_utc() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
