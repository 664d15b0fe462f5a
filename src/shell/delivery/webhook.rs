//! The webhook: every alert record, with its stable `id`, POSTed one request each in the
//! order made, signed with HMAC-SHA256 when a secret is set. A 2xx delivers it and moves
//! the cursor in the ledger; anything else is tried again with exponential back-off from
//! 1 s up to 5 min, and no record is sent before the ones made before it are delivered.
//! The queue is the ledger's table of records, so nothing is lost across `kill -9`,
//! restarts or a receiver down for days: delivery is at least once.

use super::outage::Outage;
use super::{Waiter, Woken};
use crate::shell::config::WebhookConfig;
use crate::shell::http::Client;
use crate::shell::ledger::Ledger;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::{Duration, Instant};

/// The first wait after a failure; each further failure doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often an idle sender looks at the ledger by itself (it is woken when records come).
const IDLE_LOOK: Duration = Duration::from_secs(30);

/// The webhook sender of one config.
pub(super) struct Sender {
    config: WebhookConfig,
    key: Option<Vec<u8>>,
    client: Client,
}

/// The body of record `id`: the record's JSON object (as the alerts file has it) with
/// `"id"` first.
pub(super) fn body(id: i64, record: &str) -> String {
    match record.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"id\":{id}}}"),
        Some(rest) => format!("{{\"id\":{id},{rest}"),
        None => format!("{{\"id\":{id}}}"),
    }
}

/// `sha256=<hex HMAC-SHA256 of body keyed with key>`.
pub(super) fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of any length
        Err(_) => return String::new(),
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The wait after `failures` failed attempts in a row.
pub(super) fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

impl Sender {
    pub(super) fn new(config: WebhookConfig, key: Option<Vec<u8>>) -> Sender {
        let client = Client::with_deadline(config.timeout);
        Sender {
            config,
            key,
            client,
        }
    }

    /// Delivers record after record, from the ledger's cursor on, until told to stop.
    pub(super) fn run(self, ledger: Ledger, waiter: &Waiter) {
        let mut outage = Outage::new("webhook", &self.config.url);
        let mut cursor = match ledger.webhook_cursor() {
            Ok(Some(c)) => c,
            Ok(None) | Err(_) => ledger.last_record().unwrap_or(0),
        };
        let mut failures = 0u32;
        let mut unsaved = false;
        loop {
            let next = match ledger.records_after(cursor, 1) {
                Ok(mut rows) => rows.pop(),
                Err(e) => {
                    outage.failed(&format!("cannot read the ledger: {e}"));
                    None
                }
            };
            let Some((id, record)) = next else {
                if waiter.until(Instant::now() + IDLE_LOOK, true) == Woken::Stop {
                    return;
                }
                continue;
            };
            if self.deliver(id, &record, &mut outage) {
                failures = 0;
                cursor = id;
                // a cursor that cannot be stored now (the ledger busy) is stored with the
                // next one; until then a restart delivers the record again (at least once)
                unsaved = ledger.set_webhook_cursor(Some(cursor)).is_err();
                continue;
            }
            failures = failures.saturating_add(1);
            if unsaved {
                unsaved = ledger.set_webhook_cursor(Some(cursor)).is_err();
            }
            if waiter.until(Instant::now() + backoff(failures), false) == Woken::Stop {
                return;
            }
        }
    }

    /// One attempt at record `id`; true when it was answered 2xx.
    fn deliver(&self, id: i64, record: &str, outage: &mut Outage) -> bool {
        let body = body(id, record);
        let delivery = id.to_string();
        let signed = self.key.as_deref().map(|k| signature(k, body.as_bytes()));
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("X-Pledgewatch-Delivery", delivery.as_str()),
        ];
        if let Some(s) = &signed {
            headers.push(("X-Pledgewatch-Signature", s.as_str()));
        }
        let answer = self
            .client
            .post(&self.config.url, &headers, body.as_bytes());
        super::delivered(answer, outage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_signatures_and_backoff() {
        assert_eq!(
            body(7, r#"{"ts":"x","alert":"breached"}"#),
            r#"{"id":7,"ts":"x","alert":"breached"}"#
        );
        // RFC 4231, test case 2
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let waits: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
