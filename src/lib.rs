//! pledgewatch holds parties to what they declared.
//!
//! Data flows one way: **file or feed → parse → match → ledger → evaluate (status,
//! history) → alert and render**. The folders say who does what:
//!
//! - [`engine`]: the functional core — rules, reports, matching, evaluation, history,
//!   dates, schedules. Synchronous and deterministic: no tokio, no file system, no clock;
//!   the as-of date is an argument, so every status can be reproduced and tested.
//! - [`shell`]: the imperative shell around it — reading report files, the config, the
//!   inbox watcher, the SQLite ledger, alerts and their delivery (Alertmanager, a
//!   webhook) over the HTTP client, logging and the daemon's runtime.
//! - [`render`]: what people and machines read — text, Markdown, JSON, CSV, the HTML
//!   scorecard and the Prometheus textfile, from the engine's results.
//! - [`feed`]: the GDELT 2.0 feed that fills the inbox by itself (its decisions pure in
//!   [`feed::gdelt`], downloads and files in [`feed::fetch`]).
//! - [`cli`]: the commands, thin wiring of the above for `main.rs`; [`exit`]: their exit
//!   codes.
//!
//! Dependencies point one way: `cli` → `feed`, `shell` → `render` → `engine`.

pub mod cli;
pub mod engine;
pub(crate) mod exit;
pub(crate) mod feed;
pub mod render;
pub mod shell;
