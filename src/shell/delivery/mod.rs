//! Alert delivery beyond the journal and the alerts file (docs/reference.md, Alert
//! delivery): Prometheus Alertmanager and a signed webhook. Each receiver has a thread of
//! its own with its own connection to the ledger, where what is to be delivered waits
//! (the worker writes it there with the alert states): a receiver that hangs, refuses or
//! answers slowly holds up nothing but itself — not ingest, not evaluation, not the
//! journal. One request per receiver is in flight at a time.

mod alertmanager;
mod outage;
mod webhook;

use crate::shell::config::Config;
use crate::shell::ledger::{Ledger, LedgerError};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// Why delivery could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// A secret file (bearer token, webhook secret) cannot be read. Its content is never
    /// shown.
    #[error("{}: cannot read the {what}: {source}", path.display())]
    Secret {
        /// The file.
        path: PathBuf,
        /// `bearer_token_file` or `secret_file`.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The ledger cannot be opened for delivery.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A thread cannot be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What a receiver thread is told.
enum Wake {
    /// Something new waits in the ledger: send now.
    Now,
    /// Stop after the request in hand.
    Stop,
}

/// A receiver's thread and the way to wake it.
struct Running {
    wake: Sender<Wake>,
    done: Receiver<()>,
}

/// The running receivers.
#[derive(Default)]
pub struct Delivery {
    receivers: Vec<Running>,
}

/// Whether a request delivered (a 2xx), noting the outcome in the receiver's `outage`; a
/// refusal is described by its status and the start of its answer.
fn delivered(
    result: Result<crate::shell::http::Answer, crate::shell::http::HttpError>,
    outage: &mut outage::Outage,
) -> bool {
    match result {
        Ok(answer) if (200..300).contains(&answer.status) => {
            outage.delivered();
            true
        }
        Ok(answer) => {
            let text: String = String::from_utf8_lossy(&answer.body)
                .chars()
                .take(200)
                .collect();
            let text = text.trim();
            match text {
                "" => outage.failed(&format!("HTTP status {}", answer.status)),
                _ => outage.failed(&format!("HTTP status {}: {text}", answer.status)),
            }
            false
        }
        Err(e) => {
            outage.failed(&e.to_string());
            false
        }
    }
}

/// Reads a secret file for delivery.
fn secret(path: &Option<PathBuf>, what: &'static str) -> Result<Option<Vec<u8>>, DeliveryError> {
    path.as_ref()
        .map(|p| {
            crate::shell::config::read_secret(p).map_err(|source| DeliveryError::Secret {
                path: p.clone(),
                what,
                source,
            })
        })
        .transpose()
}

/// Starts a receiver thread running `body` with its own ledger connection.
fn spawn(
    what: &'static str,
    state_dir: &std::path::Path,
    body: impl FnOnce(Ledger, &Waiter) + Send + 'static,
) -> Result<Running, DeliveryError> {
    let ledger = Ledger::open(state_dir)?;
    let (wake, wakes) = channel();
    let (finished, done) = channel();
    std::thread::Builder::new()
        .name(format!("pledgewatch-{what}"))
        .spawn(move || {
            body(ledger, &Waiter { wakes });
            let _ = finished.send(());
        })
        .map_err(|source| DeliveryError::Thread { what, source })?;
    Ok(Running { wake, done })
}

/// What a receiver thread waits on: a wake-up, a stop, or its own deadline.
struct Waiter {
    wakes: Receiver<Wake>,
}

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
enum Woken {
    /// Something new to send.
    Now,
    /// The deadline passed.
    Due,
    /// Stop.
    Stop,
}

impl Waiter {
    /// Waits until `deadline` (or a wake-up, or a stop). With `wake_early` false, a
    /// wake-up does not cut the wait short (a back-off runs its course).
    fn until(&self, deadline: Instant, wake_early: bool) -> Woken {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.wakes.recv_timeout(wait) {
                Ok(Wake::Now) if wake_early => return Woken::Now,
                Ok(Wake::Now) => continue,
                Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return Woken::Stop,
                Err(RecvTimeoutError::Timeout) => return Woken::Due,
            }
        }
    }
}

/// Reads every secret file the config names, so that a daemon that could not send signed
/// or authorised requests does not start (exit 78).
pub fn check_secrets(config: &Config) -> Result<(), DeliveryError> {
    if let Some(am) = &config.alertmanager {
        secret(&am.bearer_token_file, "bearer_token_file")?;
    }
    if let Some(hook) = &config.webhook {
        secret(&hook.secret_file, "secret_file")?;
    }
    Ok(())
}

impl Delivery {
    /// Starts a thread for each receiver `config` has. Secret files are read now: a file
    /// that cannot be read stops the start (nothing is ever sent unsigned or without its
    /// token).
    pub fn start(config: &Config) -> Result<Delivery, DeliveryError> {
        let mut receivers = Vec::new();
        if let Some(am) = &config.alertmanager {
            let token = secret(&am.bearer_token_file, "bearer_token_file")?;
            let sender = alertmanager::Sender::new(am.clone(), token);
            receivers.push(spawn("alertmanager", &config.state_dir, move |l, w| {
                sender.run(l, w)
            })?);
        }
        if let Some(hook) = &config.webhook {
            let key = secret(&hook.secret_file, "secret_file")?;
            let sender = webhook::Sender::new(hook.clone(), key);
            receivers.push(spawn("webhook", &config.state_dir, move |l, w| {
                sender.run(l, w)
            })?);
        }
        Ok(Delivery { receivers })
    }

    /// Something new waits in the ledger (records, or a change of what Alertmanager is to
    /// be told): every receiver sends now. Never blocks.
    pub fn wake(&self) {
        for r in &self.receivers {
            let _ = r.wake.send(Wake::Now);
        }
    }

    /// Stops the receivers, waiting at most `grace` for requests in hand (what they did
    /// not deliver waits in the ledger).
    pub fn stop(self, grace: Duration) {
        for r in &self.receivers {
            let _ = r.wake.send(Wake::Stop);
        }
        let deadline = Instant::now() + grace;
        for r in self.receivers {
            let _ = r
                .done
                .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        }
    }
}
