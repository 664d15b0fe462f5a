//! Rendering the engine's results: [`status`] (text, JSON, Markdown of one as-of date),
//! [`history`] (change points and the `--every` tables) and [`html`] (the scorecard page).
//! Pure: strings out.

pub mod history;
pub mod html;
pub mod status;
