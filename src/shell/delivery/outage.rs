//! A receiver's failures are logged once per outage and once on recovery, never per
//! attempt: a receiver down for days writes two lines, not thousands.

use std::time::Instant;

/// Whether a receiver is failing, since when and how often.
pub(super) struct Outage {
    receiver: &'static str,
    url: String,
    failing: Option<(Instant, u64)>,
}

impl Outage {
    pub(super) fn new(receiver: &'static str, url: &str) -> Outage {
        Outage {
            receiver,
            url: url.to_string(),
            failing: None,
        }
    }

    /// An attempt failed: the first of an outage is logged.
    pub(super) fn failed(&mut self, why: &str) {
        match &mut self.failing {
            Some((_, attempts)) => *attempts += 1,
            None => {
                tracing::warn!(receiver = self.receiver, url = %self.url, error = %why,
                    "{} {}: delivery failed ({why}); retrying, and saying so again only when it works",
                    self.receiver, self.url);
                self.failing = Some((Instant::now(), 1));
            }
        }
    }

    /// An attempt worked: the end of an outage is logged.
    pub(super) fn delivered(&mut self) {
        if let Some((since, attempts)) = self.failing.take() {
            let seconds = since.elapsed().as_secs();
            tracing::info!(receiver = self.receiver, url = %self.url, failed_attempts = attempts, outage_s = seconds,
                "{} {}: delivering again after {attempts} failed attempt(s) over {seconds} s",
                self.receiver, self.url);
        }
    }
}
