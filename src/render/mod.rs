//! Rendering the engine's results: [`status`] (text, JSON, Markdown of one as-of date),
//! [`explain`] (a commitment's timeline, a report taken apart), [`history`] (change points and the `--every` tables) and [`html`] (the scorecard page).
//! Pure: strings out.

pub mod explain;
pub mod history;
pub mod html;
pub mod status;

/// `value` as pretty JSON with a final newline (a serialisation error becomes an error
/// object rather than a panic).
pub(crate) fn to_json(value: &impl serde::Serialize) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
