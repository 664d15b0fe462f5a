//! Rendering the engine's results: [`status`] (text, JSON, Markdown of one as-of date),
//! [`explain`] (a commitment's timeline, a report taken apart), [`history`] (change points and the `--every` tables), [`html`] (the scorecard page) and
//! [`metrics`] (the Prometheus textfile).
//! Pure: strings out.

pub(crate) mod explain;
pub(crate) mod history;
pub(crate) mod html;
pub(crate) mod metrics;
pub mod status;

/// `value` as pretty JSON with a final newline (a serialisation error becomes an error
/// object rather than a panic).
pub(crate) fn to_json(value: &impl serde::Serialize) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// A count with its days, as pages and tables speak of incidents: "0", "1 on 1 day",
/// "13 on 4 days" (one event that many outlets report is one day).
pub(crate) fn on_days(reports: usize, days: usize) -> String {
    match (reports, days) {
        (0, _) => "0".into(),
        (n, 1) => format!("{n} on 1 day"),
        (n, d) => format!("{n} on {d} days"),
    }
}
