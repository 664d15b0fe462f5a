//! `STATE/scorecard.html`: redrawn after evaluations, when the worker is idle, and spaced
//! by what drawing it costs, so that files and alerts never wait long behind the page.

use super::worker::Worker;
use crate::engine::problem::shown;
use crate::engine::replay::ReportCounts;
use std::time::{Duration, Instant};

/// The page is drawn at most once per this many times the time the last one took: a
/// page that takes a second to draw (a ledger of millions of reports under a thousand
/// commitments) holds up the files and alerts behind it at most 1/20 of the time.
const SPACING: u32 = 20;

/// Whether the page is older than the last evaluation, and when it may be drawn next.
#[derive(Debug)]
pub(super) struct Pacing {
    due: bool,
    next: Instant,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            due: false,
            next: Instant::now(),
        }
    }
}

impl Pacing {
    /// An evaluation made the page old.
    pub(super) fn evaluated(&mut self) {
        self.due = true;
    }

    /// True when the page is due and may be drawn now.
    pub(super) fn ready(&self) -> bool {
        self.due && Instant::now() >= self.next
    }

    /// How long until a due page may be drawn; `None` when none is due.
    pub(super) fn due_in(&self) -> Option<Duration> {
        self.due
            .then(|| self.next.saturating_duration_since(Instant::now()))
    }

    /// A page was drawn, taking `took`.
    fn drawn(&mut self, took: Duration) {
        self.due = false;
        self.next = Instant::now() + took * SPACING;
    }
}

impl Worker {
    /// Replaces `STATE/scorecard.html` (docs/reference.md, The daemon) with the last
    /// evaluation's: written to a hidden name and renamed, so a reader never sees half a
    /// page.
    pub(super) fn write_scorecard(&mut self) {
        let started = Instant::now();
        if let Some(page) = self.draw_scorecard() {
            let path = self.config.state_dir.join("scorecard.html");
            let temp = self.config.state_dir.join(".scorecard.html.tmp");
            let written = std::fs::write(&temp, page).and_then(|()| std::fs::rename(&temp, &path));
            if let Err(e) = written {
                tracing::error!(error = %e, path = %shown(&path), "cannot write the scorecard");
            }
        }
        let took = started.elapsed();
        self.scorecard.drawn(took);
        tracing::debug!(
            scorecard_ms = took.as_millis() as u64,
            "scorecard.html written"
        );
    }

    /// The page of the last evaluation, or `None` (logged) when the ledger cannot be read.
    fn draw_scorecard(&mut self) -> Option<String> {
        let totals = match self.ledger.counts() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot count the ledger's reports; scorecard.html not written");
                return None;
            }
        };
        let counts = ReportCounts {
            read: totals.reports,
            rejected: totals.rejected,
            skipped: totals.skipped,
        };
        let as_of = self.statuses_as_of;
        let history = self.standing.tally.history(&self.rules, as_of);
        Some(crate::render::html::scorecard(
            &crate::render::html::Scorecard {
                as_of,
                counts,
                rules: &self.rules,
                statuses: &self.statuses,
                history: &history,
                marks: self.standing.marks.lists(),
            },
        ))
    }
}
