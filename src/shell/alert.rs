//! Where alerts go: [`Sinks`] writes the records that the engine's
//! [`transitions`](crate::engine::alert::transitions) decides on to the log (target
//! `alert`) and to the alerts file.

use crate::engine::alert::AlertRecord;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where alerts go: always the log (target `alert`), and the alerts file when configured.
pub struct Sinks {
    file: Option<PathBuf>,
}

impl Sinks {
    /// Sinks writing to the log and, if given, appending to `file`.
    pub fn new(file: Option<PathBuf>) -> Sinks {
        Sinks { file }
    }

    /// Writes every record to every sink. A failing alerts file is logged, never fatal: the
    /// log still has the alert.
    pub fn emit(&self, alerts: &[AlertRecord]) {
        for a in alerts {
            log_alert(a);
        }
        if alerts.is_empty() {
            return;
        }
        if let Some(path) = &self.file
            && let Err(e) = append_jsonl(path, alerts)
        {
            tracing::error!(path = %path.display(), error = %e, "cannot append to the alerts file");
        }
    }
}

fn append_jsonl(path: &Path, alerts: &[AlertRecord]) -> std::io::Result<()> {
    let mut text = String::new();
    for a in alerts {
        text.push_str(&serde_json::to_string(a).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_data()
}

fn log_alert(a: &AlertRecord) {
    let party = a.party.as_deref().unwrap_or("");
    let previous = a.previous.as_deref().unwrap_or("");
    let due = a.due.as_deref().unwrap_or("");
    let last_evidence = a.last_evidence.as_deref().unwrap_or("");
    let who = if party.is_empty() {
        String::new()
    } else {
        format!(" ({party})")
    };
    if a.alert == "resolved" {
        tracing::info!(
            target: "alert",
            alert = %a.alert, agreement = %a.agreement, commitment = %a.commitment, party,
            status = %a.status, previous, due, last_evidence, as_of = %a.as_of, reason = %a.reason,
            "resolved: {}/{}{who} is now {}: {}", a.agreement, a.commitment, a.status, a.reason
        );
    } else {
        tracing::warn!(
            target: "alert",
            alert = %a.alert, agreement = %a.agreement, commitment = %a.commitment, party,
            status = %a.status, previous, due, last_evidence, as_of = %a.as_of, reason = %a.reason,
            "{}: {}/{}{who}: {}", a.alert, a.agreement, a.commitment, a.reason
        );
    }
}
