//! Log output: human-readable text on a terminal, journald fields under systemd, or one JSON
//! object per line. Alerts are ordinary log records with target `alert`.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::prelude::*;

/// The chosen output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Text lines.
    Text,
    /// One JSON object per line, fields flattened.
    Json,
    /// Native journald records (fields without prefix: `ALERT=`, `AGREEMENT=`, ...).
    Journald,
}

/// True when stderr is the journal: systemd sets `$JOURNAL_STREAM` to its device:inode.
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    dev.parse::<u64>().ok() == Some(meta.dev()) && ino.parse::<u64>().ok() == Some(meta.ino())
}

/// Resolves `auto`: journald when stderr is the journal, text on a terminal, JSON otherwise.
pub fn resolve(format: &str) -> LogFormat {
    match format {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        "journald" => LogFormat::Journald,
        _ if stderr_is_journal() => LogFormat::Journald,
        _ if std::io::stderr().is_terminal() => LogFormat::Text,
        _ => LogFormat::Json,
    }
}

/// Installs the global subscriber, writing text and JSON to stderr. Journald falls back to
/// JSON on stderr when no journal socket exists (and says so).
pub fn init(format: LogFormat, level: &str) {
    init_with(format, level, BoxMakeWriter::new(std::io::stderr));
}

/// Like [`init`], with text and JSON lines going to `writer` (the fetcher writes them above
/// its progress bar).
pub fn init_with(format: LogFormat, level: &str, writer: BoxMakeWriter) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let json = |writer: BoxMakeWriter| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
    };
    match format {
        LogFormat::Journald => match tracing_journald::layer() {
            Ok(layer) => registry.with(layer.with_field_prefix(None)).init(),
            Err(e) => {
                registry.with(json(writer)).init();
                tracing::warn!(error = %e, "no journald socket; logging JSON to stderr instead");
            }
        },
        LogFormat::Json => registry.with(json(writer)).init(),
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .init(),
    }
}
