//! The daemon's configuration file (docs/reference.md, Configuration). `check --config` reads it to find the rules.

use crate::engine::dates::{Interval, parse_interval, parse_size};
use crate::engine::problem::Problem;
use crate::engine::schedule::Cron;
use serde::Deserialize;
use std::path::{Path, PathBuf};

mod delivery;

pub use delivery::{AlertmanagerConfig, WebhookConfig, read_secret};

/// Where the configuration is looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/pledgewatch/pledgewatch.toml";

/// The whole configuration, with relative paths already resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Rule files.
    pub rules_dir: PathBuf,
    /// Watched folder.
    pub inbox_dir: PathBuf,
    /// Ledger, processed/ and rejected/.
    pub state_dir: PathBuf,
    /// When to re-evaluate.
    pub evaluate: Cron,
    /// When to log a digest line per agreement.
    pub digest: Cron,
    /// How often an ongoing alert is repeated.
    pub repeat_interval: Interval,
    /// How long a status must last before it alerts (`alerts.hold`).
    pub hold: Interval,
    /// Alerts JSONL file, if any.
    pub alerts_file: Option<PathBuf>,
    /// `[alerts.alertmanager]`, when configured.
    pub alertmanager: Option<AlertmanagerConfig>,
    /// `[alerts.webhook]`, when configured.
    pub webhook: Option<WebhookConfig>,
    /// `metrics.textfile`: the Prometheus textfile written after each evaluation.
    pub metrics_textfile: Option<PathBuf>,
    /// auto | text | json | journald.
    pub log_format: String,
    /// tracing level filter.
    pub log_level: String,
    /// Largest inbox file taken.
    pub max_file_size: u64,
    /// Longest line of a JSON-lines or GDELT file; longer lines are refused.
    pub max_line_length: u64,
    /// Most records taken from one file.
    pub max_records_per_file: u64,
    /// Deepest nesting of JSON arrays and objects in a record.
    pub max_json_depth: u64,
    /// How long a file's size must be stable before it is taken.
    pub settle: std::time::Duration,
    /// Safety-net rescan period.
    pub rescan_interval: std::time::Duration,
    /// The GDELT feed (`[feed.gdelt]`, docs/reference.md, The GDELT feed).
    pub gdelt: GdeltFeed,
}

/// Which GDELT rows the feed keeps, by actor country (`feed.gdelt.parties`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyFilter {
    /// `[]`: the parties named in the rules (agreements and commitments).
    FromRules,
    /// `["*"]`: every row.
    All,
    /// Rows with an actor country among these codes.
    List(Vec<String>),
}

/// The settings of `pledgewatch fetch gdelt` (docs/reference.md, The GDELT feed).
#[derive(Debug, Clone)]
pub struct GdeltFeed {
    /// The folder holding `lastupdate.txt` and `masterfilelist.txt`, ending in `/`.
    pub url: String,
    /// Also fetch the translated stream.
    pub translation: bool,
    /// Actor-country filter.
    pub parties: PartyFilter,
    /// Keep rows with NumSources at least this.
    pub min_sources: u64,
    /// Keep only rows with IsRootEvent = 1.
    pub root_events_only: bool,
    /// On the first run, how long before the newest slot to start.
    pub backfill: Interval,
    /// Per HTTP request.
    pub timeout: std::time::Duration,
    /// A slot still missing or broken this long after its time is given up.
    pub give_up_after: Interval,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "d_rules")]
    rules_dir: String,
    #[serde(default = "d_inbox")]
    inbox_dir: String,
    #[serde(default = "d_state")]
    state_dir: String,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    alerts: RawAlerts,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    inbox: RawInbox,
    #[serde(default)]
    feed: RawFeed,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    #[serde(default)]
    gdelt: RawGdelt,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGdelt {
    #[serde(default = "d_gdelt_url")]
    url: toml::Spanned<String>,
    #[serde(default)]
    translation: bool,
    #[serde(default)]
    parties: Vec<toml::Spanned<String>>,
    #[serde(default = "d_min_sources")]
    min_sources: toml::Spanned<i64>,
    #[serde(default)]
    root_events_only: bool,
    #[serde(default = "d_backfill")]
    backfill: toml::Spanned<String>,
    #[serde(default = "d_timeout")]
    timeout: toml::Spanned<String>,
    #[serde(default = "d_give_up")]
    give_up_after: toml::Spanned<String>,
}

impl Default for RawGdelt {
    fn default() -> Self {
        RawGdelt {
            url: d_gdelt_url(),
            translation: false,
            parties: Vec::new(),
            min_sources: d_min_sources(),
            root_events_only: false,
            backfill: d_backfill(),
            timeout: d_timeout(),
            give_up_after: d_give_up(),
        }
    }
}

fn d_gdelt_url() -> toml::Spanned<String> {
    spanned("http://data.gdeltproject.org/gdeltv2/")
}
fn d_min_sources() -> toml::Spanned<i64> {
    toml::Spanned::new(0..0, 1)
}
fn d_backfill() -> toml::Spanned<String> {
    spanned("1d")
}
fn d_timeout() -> toml::Spanned<String> {
    spanned("60s")
}
fn d_give_up() -> toml::Spanned<String> {
    spanned("2d")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    #[serde(default = "d_evaluate")]
    evaluate: toml::Spanned<String>,
    #[serde(default = "d_digest")]
    digest: toml::Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    #[serde(default = "d_repeat")]
    repeat_interval: toml::Spanned<String>,
    #[serde(default)]
    file: String,
    #[serde(default = "d_hold")]
    hold: toml::Spanned<String>,
    #[serde(default)]
    alertmanager: Option<delivery::RawAlertmanager>,
    #[serde(default)]
    webhook: Option<delivery::RawWebhook>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    #[serde(default)]
    textfile: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default = "d_format")]
    format: toml::Spanned<String>,
    #[serde(default = "d_level")]
    level: toml::Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInbox {
    #[serde(default = "d_max")]
    max_file_size: toml::Spanned<String>,
    #[serde(default = "d_max_line")]
    max_line_length: toml::Spanned<String>,
    #[serde(default = "d_max_records")]
    max_records_per_file: toml::Spanned<i64>,
    #[serde(default = "d_max_json_depth")]
    max_json_depth: toml::Spanned<i64>,
    #[serde(default = "d_settle")]
    settle: toml::Spanned<String>,
    #[serde(default = "d_rescan")]
    rescan_interval: toml::Spanned<String>,
}

fn d_rules() -> String {
    "/etc/pledgewatch/rules".into()
}
fn d_inbox() -> String {
    "/var/lib/pledgewatch/inbox".into()
}
fn d_state() -> String {
    "/var/lib/pledgewatch".into()
}
fn spanned(s: &str) -> toml::Spanned<String> {
    toml::Spanned::new(0..0, s.to_string())
}
fn d_evaluate() -> toml::Spanned<String> {
    spanned("0 0 * * * *")
}
fn d_digest() -> toml::Spanned<String> {
    spanned("0 0 8 * * *")
}
fn d_repeat() -> toml::Spanned<String> {
    spanned("7d")
}
fn d_hold() -> toml::Spanned<String> {
    spanned("0s")
}
fn d_format() -> toml::Spanned<String> {
    spanned("auto")
}
fn d_level() -> toml::Spanned<String> {
    spanned("info")
}
fn d_max() -> toml::Spanned<String> {
    spanned("256MiB")
}
fn d_max_records() -> toml::Spanned<i64> {
    toml::Spanned::new(0..0, 10_000_000)
}
fn d_max_json_depth() -> toml::Spanned<i64> {
    toml::Spanned::new(0..0, crate::engine::report::DEFAULT_MAX_JSON_DEPTH as i64)
}
fn d_max_line() -> toml::Spanned<String> {
    spanned("16MiB")
}
fn d_settle() -> toml::Spanned<String> {
    spanned("500ms")
}
fn d_rescan() -> toml::Spanned<String> {
    spanned("30s")
}

impl Default for RawSchedule {
    fn default() -> Self {
        RawSchedule {
            evaluate: d_evaluate(),
            digest: d_digest(),
        }
    }
}
impl Default for RawAlerts {
    fn default() -> Self {
        RawAlerts {
            repeat_interval: d_repeat(),
            file: String::new(),
            hold: d_hold(),
            alertmanager: None,
            webhook: None,
        }
    }
}
impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: d_format(),
            level: d_level(),
        }
    }
}
impl Default for RawInbox {
    fn default() -> Self {
        RawInbox {
            max_file_size: d_max(),
            max_line_length: d_max_line(),
            max_records_per_file: d_max_records(),
            max_json_depth: d_max_json_depth(),
            settle: d_settle(),
            rescan_interval: d_rescan(),
        }
    }
}

/// The config path: `--config`, else `$PLEDGEWATCH_CONFIG`, else [`DEFAULT_PATH`].
pub fn locate(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os("PLEDGEWATCH_CONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_PATH),
    }
}

/// A config file that cannot be used: every problem found, located.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// Each problem as `path:line:column: message` (the whole file when it cannot be read).
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// The problems found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl From<Vec<Problem>> for ConfigError {
    fn from(problems: Vec<Problem>) -> ConfigError {
        ConfigError { problems }
    }
}

/// Collects the problems of a config's values, each located at its key, while the values
/// are turned into their types.
pub(super) struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn new(path: &'a Path, text: &'a str) -> Checker<'a> {
        Checker {
            path,
            text,
            problems: Vec::new(),
        }
    }

    /// Records a problem at `span`.
    pub(super) fn fail(&mut self, span: std::ops::Range<usize>, message: String) {
        self.problems
            .push(Problem::at(self.path, self.text, span.start, message));
    }

    /// `parse` applied to a string value; a failure is recorded as `KEY: why`.
    pub(super) fn value<T, E: std::fmt::Display>(
        &mut self,
        field: &toml::Spanned<String>,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(field.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(field.span(), format!("{key}: {e}"));
                None
            }
        }
    }

    /// A string value that must be one of `choices`; `expected` words them for the message.
    fn one_of(
        &mut self,
        field: &toml::Spanned<String>,
        key: &str,
        choices: &[&str],
        expected: &str,
    ) -> Option<String> {
        let value = field.get_ref();
        if choices.contains(&value.as_str()) {
            return Some(value.clone());
        }
        self.fail(
            field.span(),
            format!("{key} {value:?}: expected {expected}"),
        );
        None
    }

    /// An integer value inside `range`; `why` words the range for the message.
    fn within(
        &mut self,
        field: &toml::Spanned<i64>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        why: &str,
    ) -> Option<u64> {
        let value = *field.get_ref();
        if range.contains(&value) {
            return u64::try_from(value).ok();
        }
        self.fail(field.span(), format!("{key}: {value} {why}"));
        None
    }

    /// The values, when no problem was found.
    fn finish<T>(self, values: Option<T>) -> Result<T, ConfigError> {
        match values {
            Some(values) if self.problems.is_empty() => Ok(values),
            _ => Err(self.problems.into()),
        }
    }
}

/// The `[inbox]` limits, validated.
struct InboxLimits {
    max_file_size: u64,
    max_line_length: u64,
    max_records_per_file: u64,
    max_json_depth: u64,
    settle: std::time::Duration,
    rescan_interval: std::time::Duration,
}

impl RawInbox {
    fn check(&self, c: &mut Checker<'_>) -> Option<InboxLimits> {
        let ceiling = crate::engine::report::MAX_JSON_DEPTH_CEILING as i64;
        let max_line_length = c.value(&self.max_line_length, "inbox.max_line_length", parse_size);
        let max_records_per_file = c.within(
            &self.max_records_per_file,
            "inbox.max_records_per_file",
            1..=i64::MAX,
            "must be at least 1",
        );
        let max_json_depth = c.within(
            &self.max_json_depth,
            "inbox.max_json_depth",
            1..=ceiling,
            &format!("must be between 1 and {ceiling}"),
        );
        let max_file_size = c.value(&self.max_file_size, "inbox.max_file_size", parse_size);
        let settle = c.value(&self.settle, "inbox.settle", parse_interval);
        let rescan = c.value(
            &self.rescan_interval,
            "inbox.rescan_interval",
            parse_interval,
        );
        Some(InboxLimits {
            max_file_size: max_file_size?,
            max_line_length: max_line_length?,
            max_records_per_file: max_records_per_file?,
            max_json_depth: max_json_depth?,
            settle: settle?,
            rescan_interval: rescan?,
        })
    }
}

impl RawLog {
    /// `log.format` and `log.level`, each one of its words.
    fn check(&self, c: &mut Checker<'_>) -> (Option<String>, Option<String>) {
        let format = c.one_of(
            &self.format,
            "log.format",
            &["auto", "text", "json", "journald"],
            "auto, text, json or journald",
        );
        let level = c.one_of(
            &self.level,
            "log.level",
            &["error", "warn", "info", "debug", "trace"],
            "error, warn, info, debug or trace",
        );
        (format, level)
    }
}

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::from(vec![Problem::whole_file(
                path,
                format!("cannot read config: {e}"),
            )])
        })?;
        Config::parse(path, &text)
    }

    /// Validates config `text`; `path` names it and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::from(vec![Problem::from_toml(path, text, &e)]))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { base.join(p) }
        };
        let mut c = Checker::new(path, text);
        let evaluate = c.value(&raw.schedule.evaluate, "schedule.evaluate", Cron::parse);
        let digest = c.value(&raw.schedule.digest, "schedule.digest", Cron::parse);
        let repeat = c.value(
            &raw.alerts.repeat_interval,
            "alerts.repeat_interval",
            Interval::parse,
        );
        let (log_format, log_level) = raw.log.check(&mut c);
        let hold = c.value(&raw.alerts.hold, "alerts.hold", Interval::parse);
        let inbox = raw.inbox.check(&mut c);
        let gdelt = gdelt_feed(raw.feed.gdelt, &mut c);
        let alertmanager = raw.alerts.alertmanager.map(|am| am.check(&mut c, &resolve));
        let webhook = raw.alerts.webhook.map(|w| w.check(&mut c, &resolve));
        let values = (|| {
            let inbox = inbox?;
            Some(Config {
                path: path.to_path_buf(),
                rules_dir: resolve(&raw.rules_dir),
                inbox_dir: resolve(&raw.inbox_dir),
                state_dir: resolve(&raw.state_dir),
                evaluate: evaluate?,
                digest: digest?,
                repeat_interval: repeat?,
                hold: hold?,
                alerts_file: (!raw.alerts.file.is_empty()).then(|| resolve(&raw.alerts.file)),
                alertmanager: alertmanager.map(|a| a.ok_or(())).transpose().ok()?,
                webhook: webhook.map(|w| w.ok_or(())).transpose().ok()?,
                metrics_textfile: (!raw.metrics.textfile.is_empty())
                    .then(|| resolve(&raw.metrics.textfile)),
                log_format: log_format?,
                log_level: log_level?,
                max_file_size: inbox.max_file_size,
                max_line_length: inbox.max_line_length,
                max_records_per_file: inbox.max_records_per_file,
                max_json_depth: inbox.max_json_depth,
                settle: inbox.settle,
                rescan_interval: inbox.rescan_interval,
                gdelt: gdelt?,
            })
        })();
        c.finish(values)
    }
}

/// `feed.gdelt.parties`: `[]` (the rules' parties), `["*"]` (every row), or country codes.
fn party_filter(parties: &[toml::Spanned<String>], c: &mut Checker<'_>) -> PartyFilter {
    let codes: Vec<&str> = parties.iter().map(|p| p.get_ref().as_str()).collect();
    if codes.is_empty() {
        return PartyFilter::FromRules;
    }
    if codes == ["*"] {
        return PartyFilter::All;
    }
    for p in parties {
        let code = p.get_ref();
        if code == "*" {
            c.fail(
                p.span(),
                "feed.gdelt.parties: \"*\" (every row) must stand alone".into(),
            );
        } else if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            c.fail(
                p.span(),
                format!("feed.gdelt.parties: {code:?} is not a 3-letter upper-case country code"),
            );
        }
    }
    PartyFilter::List(codes.iter().map(|c| c.to_string()).collect())
}

/// An interval that must be more than zero.
pub(super) fn positive_interval(text: &str) -> Result<std::time::Duration, String> {
    match parse_interval(text)? {
        t if t.is_zero() => Err("must be more than 0".into()),
        t => Ok(t),
    }
}

/// Validates `[feed.gdelt]`, reporting each problem at its key; `None` when any was found.
fn gdelt_feed(raw: RawGdelt, c: &mut Checker<'_>) -> Option<GdeltFeed> {
    let before = c.problems.len();
    let mut url = raw.url.get_ref().trim().to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 9 {
        c.fail(
            raw.url.span(),
            format!("feed.gdelt.url {url:?}: expected an http:// or https:// address"),
        );
    }
    if !url.ends_with('/') {
        url.push('/');
    }
    let parties = party_filter(&raw.parties, c);
    let min_sources = c.within(
        &raw.min_sources,
        "feed.gdelt.min_sources",
        0..=i64::MAX,
        "must be 0 or more",
    );
    let backfill = c.value(&raw.backfill, "feed.gdelt.backfill", Interval::parse);
    let give_up_after = c.value(
        &raw.give_up_after,
        "feed.gdelt.give_up_after",
        Interval::parse,
    );
    let timeout = c.value(&raw.timeout, "feed.gdelt.timeout", positive_interval);
    let feed = GdeltFeed {
        url,
        translation: raw.translation,
        parties,
        min_sources: min_sources?,
        root_events_only: raw.root_events_only,
        backfill: backfill?,
        timeout: timeout?,
        give_up_after: give_up_after?,
    };
    (c.problems.len() == before).then_some(feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_relative_paths() {
        let c = Config::parse(Path::new("/etc/pw/pw.toml"), "rules_dir = \"rules\"\n").unwrap();
        assert_eq!(c.rules_dir, PathBuf::from("/etc/pw/rules"));
        assert_eq!(c.inbox_dir, PathBuf::from("/var/lib/pledgewatch/inbox"));
        assert_eq!(c.max_file_size, 256 << 20);
        assert_eq!(c.settle.as_millis(), 500);
        assert_eq!(c.alerts_file, None);
    }

    #[test]
    fn errors_are_located() {
        let e = Config::parse(
            Path::new("c.toml"),
            "rules_dir = \"r\"\nrules_dri = \"x\"\n",
        )
        .unwrap_err();
        assert_eq!((e.problems[0].line, e.problems[0].column), (2, 1), "{e:?}");
        let e =
            Config::parse(Path::new("c.toml"), "[inbox]\nsettle = \"5 parsecs\"\n").unwrap_err();
        assert_eq!(e.problems[0].line, 2);
        assert!(e.problems[0].message.contains("inbox.settle"));
        for (depth, ok) in [(0, false), (1, true), (127, true), (128, false)] {
            let r = Config::parse(
                Path::new("c.toml"),
                &format!("[inbox]\nmax_json_depth = {depth}\n"),
            );
            assert_eq!(r.is_ok(), ok, "{depth}: {r:?}");
            if let Err(e) = r {
                assert_eq!(e.problems[0].line, 2);
                assert!(e.problems[0].message.contains("between 1 and 127"), "{e:?}");
            }
        }
    }

    /// Every key the packaged config shows (set, or commented out).
    const SHOWN_KEYS: &[&str] = &[
        "rules_dir",
        "inbox_dir",
        "state_dir",
        "evaluate",
        "digest",
        "repeat_interval",
        "file",
        "hold",
        "format",
        "level",
        "max_file_size",
        "max_line_length",
        "max_records_per_file",
        "max_json_depth",
        "settle",
        "rescan_interval",
        "url",
        "translation",
        "parties",
        "min_sources",
        "root_events_only",
        "backfill",
        "timeout",
        "give_up_after",
        "resend",
        "labels",
        "bearer_token_file",
        "secret_file",
        "textfile",
    ];

    #[test]
    fn shipped_config_holds_every_default() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/pledgewatch.toml"
        ));
        let text = std::fs::read_to_string(path).unwrap();
        let shipped = Config::parse(path, &text).unwrap();
        // the package holds alerts for 15 minutes (it says why); every other key is the default
        assert_eq!(
            format!("{:?}", shipped.hold),
            format!("{:?}", Interval::parse("15m").unwrap())
        );
        let defaults = Config::parse(path, "[alerts]\nhold = \"15m\"\n").unwrap();
        assert_eq!(format!("{shipped:?}"), format!("{defaults:?}"));
        let line = |key: &str| {
            text.lines().any(|l| {
                l.starts_with(&format!("{key} = ")) || l.starts_with(&format!("# {key} = "))
            })
        };
        for key in SHOWN_KEYS {
            assert!(line(key), "{key} missing");
        }
        // the delivery sections, shown commented out, are valid once uncommented
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# [")
                    .map_or(l.to_string(), |rest| format!("[{rest}"))
            })
            .map(|l| {
                let key = l
                    .strip_prefix("# ")
                    .filter(|r| r.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')));
                key.map_or(l.clone(), str::to_string)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let on = Config::parse(path, &uncommented).unwrap();
        assert!(on.alertmanager.is_some() && on.webhook.is_some());
    }

    #[test]
    fn delivery_sections() {
        let c = Config::parse(Path::new("/etc/pw/pw.toml"), "").unwrap();
        assert!(c.alertmanager.is_none() && c.webhook.is_none() && c.metrics_textfile.is_none());
        let c = Config::parse(
            Path::new("/etc/pw/pw.toml"),
            "[alerts]\nhold = \"15m\"\n[alerts.alertmanager]\nlabels = { team = \"analysts\" }\nbearer_token_file = \"token\"\n[metrics]\ntextfile = \"m/p.prom\"\n",
        )
        .unwrap();
        let am = c.alertmanager.unwrap();
        assert_eq!(am.url, "http://127.0.0.1:9093");
        assert_eq!(am.resend.as_secs(), 60);
        assert_eq!(am.labels["team"], "analysts");
        assert_eq!(am.bearer_token_file, Some(PathBuf::from("/etc/pw/token")));
        assert_eq!(c.metrics_textfile, Some(PathBuf::from("/etc/pw/m/p.prom")));
        for (text, line, needle) in [
            ("[alerts]\nhold = \"soon\"\n", 2, "alerts.hold"),
            (
                "[alerts.webhook]\ntimeout = \"1s\"\n",
                1,
                "missing field `url`",
            ),
            (
                "[alerts.webhook]\nurl = \"ftp://x/y\"\n",
                2,
                "alerts.webhook.url",
            ),
            (
                "[alerts.alertmanager]\nresend = \"0s\"\n",
                2,
                "alerts.alertmanager.resend",
            ),
            (
                "[alerts.alertmanager]\nlabels = { severity = \"x\" }\n",
                2,
                "set by pledgewatch itself",
            ),
            (
                "[alerts.alertmanager]\nlabels = { \"a-b\" = \"x\" }\n",
                2,
                "is not a label name",
            ),
            ("[alerts.alertmanager]\nurll = \"x\"\n", 2, "unknown field"),
            ("[metrics]\ntextfil = \"x\"\n", 2, "unknown field"),
        ] {
            let e = Config::parse(Path::new("c.toml"), text).unwrap_err();
            assert_eq!(e.problems[0].line, line, "{text}: {e:?}");
            assert!(e.problems[0].message.contains(needle), "{text}: {e:?}");
        }
    }

    #[test]
    fn gdelt_feed_section() {
        let c = Config::parse(Path::new("/etc/pw/pw.toml"), "").unwrap();
        assert_eq!(c.gdelt.url, "http://data.gdeltproject.org/gdeltv2/");
        assert_eq!(c.gdelt.parties, PartyFilter::FromRules);
        assert_eq!(c.gdelt.min_sources, 1);
        assert_eq!(c.gdelt.timeout.as_secs(), 60);
        let c = Config::parse(
            Path::new("c.toml"),
            "[feed.gdelt]\nurl = \"http://127.0.0.1:8080/g\"\nparties = [\"*\"]\nbackfill = \"6h\"\n",
        )
        .unwrap();
        assert_eq!(c.gdelt.url, "http://127.0.0.1:8080/g/");
        assert_eq!(c.gdelt.parties, PartyFilter::All);
        let c = Config::parse(
            Path::new("c.toml"),
            "[feed.gdelt]\nparties = [\"KGZ\", \"TJK\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.gdelt.parties,
            PartyFilter::List(vec!["KGZ".into(), "TJK".into()])
        );
        for (text, line, needle) in [
            ("[feed.gdelt]\nurll = \"x\"\n", 2, "unknown field"),
            ("[feed.gdelt]\nurl = \"ftp://x/\"\n", 2, "feed.gdelt.url"),
            (
                "[feed.gdelt]\nparties = [\"KGZ\", \"*\"]\n",
                2,
                "must stand alone",
            ),
            ("[feed.gdelt]\nparties = [\"kg\"]\n", 2, "3-letter"),
            ("[feed.gdelt]\n\nmin_sources = -1\n", 3, "min_sources"),
            ("[feed.gdelt]\ntimeout = \"0s\"\n", 2, "timeout"),
            (
                "[feed.gdelt]\ngive_up_after = \"soon\"\n",
                2,
                "give_up_after",
            ),
            ("[feed.gdelt]\nbackfill = \"1 day\"\n", 2, "backfill"),
            ("[feed.rss]\n", 1, "unknown field"),
        ] {
            let e = Config::parse(Path::new("c.toml"), text).unwrap_err();
            assert_eq!(e.problems[0].line, line, "{text}: {e:?}");
            assert!(e.problems[0].message.contains(needle), "{text}: {e:?}");
        }
    }

    #[test]
    fn sizes_and_intervals() {
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("1KiB").unwrap(), 1024);
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_interval("30s").unwrap().as_secs(), 30);
        assert!(parse_interval("30").is_err());
    }
}
