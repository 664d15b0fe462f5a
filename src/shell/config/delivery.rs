//! `[alerts.alertmanager]` and `[alerts.webhook]` (docs/reference.md, Alert delivery):
//! where alerts go besides the journal and the alerts file. A section that is present
//! turns its receiver on.

use super::{Checker, positive_interval};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Labels that pledgewatch sets itself: `labels` may not replace them.
const OWN_LABELS: [&str; 5] = ["alertname", "agreement", "commitment", "party", "severity"];

/// Prometheus Alertmanager (API v2).
#[derive(Debug, Clone)]
pub struct AlertmanagerConfig {
    /// The base address; alerts are POSTed to `URL/api/v2/alerts`.
    pub url: String,
    /// Active alerts are sent again this often (and their lease is four times this).
    pub resend: Duration,
    /// Per request.
    pub timeout: Duration,
    /// Extra labels on every alert.
    pub labels: BTreeMap<String, String>,
    /// `Authorization: Bearer <its content>`, when set.
    pub bearer_token_file: Option<PathBuf>,
}

/// A webhook that gets every alert record.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Where the records are POSTed.
    pub url: String,
    /// Per request.
    pub timeout: Duration,
    /// Signs each body (`X-Pledgewatch-Signature`), when set.
    pub secret_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlertmanager {
    #[serde(default = "d_am_url")]
    url: toml::Spanned<String>,
    #[serde(default = "d_resend")]
    resend: toml::Spanned<String>,
    #[serde(default = "d_timeout")]
    timeout: toml::Spanned<String>,
    #[serde(default)]
    labels: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    bearer_token_file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    url: toml::Spanned<String>,
    #[serde(default = "d_timeout")]
    timeout: toml::Spanned<String>,
    #[serde(default)]
    secret_file: String,
}

fn d_am_url() -> toml::Spanned<String> {
    super::spanned("http://127.0.0.1:9093")
}
fn d_resend() -> toml::Spanned<String> {
    super::spanned("1m")
}
fn d_timeout() -> toml::Spanned<String> {
    super::spanned("10s")
}

/// An `http://` or `https://` address, without a final `/`.
fn http_url(c: &mut Checker<'_>, field: &toml::Spanned<String>, key: &str) -> Option<String> {
    let url = field.get_ref().trim();
    let ok = (url.starts_with("http://") || url.starts_with("https://")) && url.len() > 8;
    if !ok {
        c.fail(
            field.span(),
            format!("{key} {url:?}: expected an http:// or https:// address"),
        );
        return None;
    }
    Some(url.trim_end_matches('/').to_string())
}

/// A Prometheus label name of our own choosing: `[a-zA-Z_][a-zA-Z0-9_]*`, not `__...`,
/// not one of the labels pledgewatch sets.
fn label_name(c: &mut Checker<'_>, name: &toml::Spanned<String>) -> bool {
    let text = name.get_ref();
    let mut chars = text.chars();
    let well_formed = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !text.starts_with("__");
    let why = if !well_formed {
        "is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
    } else if OWN_LABELS.contains(&text.as_str()) {
        "is set by pledgewatch itself"
    } else {
        return true;
    };
    c.fail(
        name.span(),
        format!("alerts.alertmanager.labels: {text:?} {why}"),
    );
    false
}

impl RawAlertmanager {
    pub(super) fn check(
        self,
        c: &mut Checker<'_>,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Option<AlertmanagerConfig> {
        let url = http_url(c, &self.url, "alerts.alertmanager.url");
        let resend = c.value(
            &self.resend,
            "alerts.alertmanager.resend",
            positive_interval,
        );
        let timeout = c.value(
            &self.timeout,
            "alerts.alertmanager.timeout",
            positive_interval,
        );
        let mut labels = BTreeMap::new();
        let mut labels_ok = true;
        for (name, value) in self.labels {
            labels_ok &= label_name(c, &name);
            labels.insert(name.into_inner(), value.into_inner());
        }
        let bearer = (!self.bearer_token_file.is_empty()).then(|| resolve(&self.bearer_token_file));
        labels_ok.then_some(())?;
        Some(AlertmanagerConfig {
            url: url?,
            resend: resend?,
            timeout: timeout?,
            labels,
            bearer_token_file: bearer,
        })
    }
}

impl RawWebhook {
    pub(super) fn check(
        self,
        c: &mut Checker<'_>,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Option<WebhookConfig> {
        let url = http_url(c, &self.url, "alerts.webhook.url");
        let timeout = c.value(&self.timeout, "alerts.webhook.timeout", positive_interval);
        let secret = (!self.secret_file.is_empty()).then(|| resolve(&self.secret_file));
        Some(WebhookConfig {
            url: url?,
            timeout: timeout?,
            secret_file: secret,
        })
    }
}

/// The content of a secret file (a bearer token, a webhook secret) less a final newline.
/// The error names the file, never its content.
pub fn read_secret(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    Ok(bytes)
}
