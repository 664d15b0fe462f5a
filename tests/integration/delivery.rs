//! Alert delivery and metrics with the real components (docs/reference.md, Alert
//! delivery): Debian's `prometheus-alertmanager` and `prometheus-node-exporter` started on
//! 127.0.0.1 ports with folders of their own, and the test's own HTTP receiver
//! (`httpd.rs`) standing in for a webhook and for Alertmanager's own receivers.

use super::daemon::{Daemon, setup};
use super::httpd::{Fault, Server};
use super::*;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

/// Two commitments: `border` (a deadline far ahead: pending until a breach, fulfilled by
/// evidence) and `meet` (each party, yearly: a paper tiger for both by 2010).
const RULES: &str = r#"[agreement]
id = "a"
title = "Accord"
parties = ["KGZ", "TJK"]
signed = 2007-09-18

[[commitment]]
id = "border"
title = "Keep the border quiet"
deadline = 2030-12-31
severity = "high"
[[commitment.evidence]]
kinds = ["agreement"]
keywords = ["border"]
[[commitment.breach]]
cameo = ["19"]

[[commitment]]
id = "meet"
title = "Meet every year"
follow_up_by = "each"
window = "1y"
severity = "low"
[[commitment.evidence]]
kinds = ["meeting"]
"#;

const AS_OF: &str = "2010-01-01";

const BREACH: &str = r#"{"id": "b1", "date": "2009-12-01", "actors": ["KGZ", "TJK"], "cameo": "190", "title": "Border clash"}"#;
const EVIDENCE: &str = r#"{"id": "e1", "date": "2009-12-20", "actors": ["KGZ", "TJK"], "kind": "agreement", "title": "A border agreement"}"#;

/// A daemon's folders with [`RULES`] and `extra` config text.
fn daemon(extra: &str) -> Daemon {
    let d = Daemon::new(setup(extra));
    std::fs::remove_file(d.path("rules/kgz-tjk-2007.toml")).unwrap();
    std::fs::write(d.path("rules/a.toml"), RULES).unwrap();
    d
}

/// True when `binary` is here; else the test says so (and fails under CI).
fn have(test: &str, binary: &str) -> bool {
    let there = Path::new(binary).exists();
    if !there {
        skip(
            test,
            &format!(
                "{binary} is not installed (apt install prometheus-alertmanager prometheus-node-exporter)"
            ),
        );
    }
    there
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET http://127.0.0.1:PORT/PATH`: status and body, or `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut r = agent
        .get(&format!("http://127.0.0.1:{port}{path}"))
        .call()
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.body_mut().read_to_string().ok()?))
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A component's process, killed when the test ends.
struct Component {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Component {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Alertmanager on `port` with an empty storage folder, routing every alert to `hook` at
/// once (`group_wait` and `group_interval` 1 s), resolutions included.
fn alertmanager(port: u16, hook: &str) -> Component {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: hook\n  group_by: ['alertname', 'agreement', 'commitment', 'party']\n  \
             group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: hook\n    webhook_configs:\n      - url: {hook}\n        send_resolved: true\n"
        ),
    )
    .unwrap();
    let child = std::process::Command::new(ALERTMANAGER)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("Alertmanager to be ready", Duration::from_secs(20), || {
        get(port, "/-/ready").is_some_and(|(s, _)| s == 200)
    });
    Component {
        child,
        port,
        _dir: dir,
    }
}

/// The alerts Alertmanager holds as active.
fn active(am: &Component) -> Vec<serde_json::Value> {
    let (_, body) = get(
        am.port,
        "/api/v2/alerts?active=true&silenced=false&inhibited=false",
    )
    .unwrap_or_default();
    serde_json::from_str::<Vec<serde_json::Value>>(&body).unwrap_or_default()
}

fn label<'a>(alert: &'a serde_json::Value, name: &str) -> &'a str {
    alert["labels"][name].as_str().unwrap_or("")
}

#[test]
fn alertmanager_gets_breaches_per_party_and_resolutions_and_restores_after_a_restart() {
    let test = "delivery::alertmanager_gets_breaches_per_party_and_resolutions_and_restores_after_a_restart";
    if !have(test, ALERTMANAGER) {
        return;
    }
    let hook = Server::start();
    let port = free_port();
    let am = alertmanager(port, &hook.url("/am-hook"));
    let mut d = daemon(&format!(
        "[alerts.alertmanager]\nurl = \"http://127.0.0.1:{port}\"\nresend = \"2s\"\nlabels = {{ team = \"analysts\" }}\n"
    ));
    d.spawn(AS_OF, &[]);
    // `meet`, followed up by each party, is a paper tiger for both: one alert per party
    wait_for(
        "two paper tigers in Alertmanager",
        Duration::from_secs(20),
        || active(&am).len() == 2,
    );
    let alerts = active(&am);
    let mut parties: Vec<&str> = alerts.iter().map(|a| label(a, "party")).collect();
    parties.sort();
    assert_eq!(parties, ["KGZ", "TJK"]);
    for a in &alerts {
        assert_eq!(label(a, "alertname"), "PledgePaperTiger");
        assert_eq!(label(a, "agreement"), "a");
        assert_eq!(label(a, "commitment"), "meet");
        assert_eq!(label(a, "severity"), "low");
        assert_eq!(label(a, "team"), "analysts");
        assert_eq!(a["annotations"]["summary"], "Accord: Meet every year");
        assert_eq!(a["annotations"]["due"], "2008-09-18");
        assert_eq!(a["annotations"]["as_of"], AS_OF);
        assert!(
            a["annotations"]["description"]
                .as_str()
                .is_some_and(|d| d.contains(label(a, "party"))),
            "{a}"
        );
    }
    // a breach fires, with the rule's severity and no party label
    d.drop_file("breach.json", BREACH);
    wait_for(
        "the breach in Alertmanager",
        Duration::from_secs(20),
        || {
            active(&am)
                .iter()
                .any(|a| label(a, "alertname") == "PledgeBreached")
        },
    );
    let breach = active(&am)
        .into_iter()
        .find(|a| label(a, "alertname") == "PledgeBreached")
        .unwrap();
    // Alertmanager tells of a resolution only after it told of the alert
    let told = |hook: &Server, status: &str| {
        hook.posts().iter().any(|p| {
            let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap_or_default();
            v["status"] == status
                && v["alerts"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| label(x, "alertname") == "PledgeBreached"))
        })
    };
    wait_for("the breach notified", Duration::from_secs(20), || {
        told(&hook, "firing")
    });
    assert_eq!(label(&breach, "commitment"), "border");
    assert_eq!(label(&breach, "severity"), "high");
    assert!(breach["labels"].get("party").is_none(), "{breach}");
    // later evidence resolves it: Alertmanager's own receiver is told "resolved"
    d.drop_file("evidence.json", EVIDENCE);
    wait_for("a resolved notification", Duration::from_secs(30), || {
        told(&hook, "resolved")
    });
    // Alertmanager killed and started again with empty state gets the active alerts back
    drop(am);
    let am = alertmanager(port, &hook.url("/am-hook"));
    wait_for(
        "the active alerts restored",
        Duration::from_secs(20),
        || {
            let names: Vec<String> = active(&am)
                .iter()
                .map(|a| format!("{}/{}", label(a, "alertname"), label(a, "party")))
                .collect();
            names.len() == 2 && names.iter().all(|n| n.starts_with("PledgePaperTiger/"))
        },
    );
    assert_eq!(d.stop(), 0);
}

/// What the daemon sends Alertmanager, seen by the test's receiver in its place: the
/// bearer token, the lease of active alerts, and a resolution sent again until a request
/// holding it was answered 2xx, then no more.
#[test]
fn resolutions_are_sent_until_accepted_with_the_bearer_token() {
    let am = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let mut d = daemon(&format!(
        "[alerts.alertmanager]\nurl = \"{}\"\nresend = \"1s\"\nbearer_token_file = \"{}\"\n",
        am.url(""),
        token.display()
    ));
    d.spawn(AS_OF, &[]);
    // (status, alerts, whether it held the breach's resolution: an end before the
    // send, where an active alert's lease ends 4 s after it)
    let sends = |am: &Server| -> Vec<(u16, Vec<serde_json::Value>, bool)> {
        am.posts()
            .iter()
            .filter(|p| p.path == "/api/v2/alerts")
            .map(|p| {
                let alerts: Vec<serde_json::Value> = serde_json::from_slice(&p.body).unwrap();
                let at = chrono::DateTime::<chrono::Utc>::from(p.received);
                let resolution = alerts.iter().any(|a| {
                    let ends = chrono::DateTime::parse_from_rfc3339(a["endsAt"].as_str().unwrap())
                        .unwrap();
                    label(a, "alertname") == "PledgeBreached"
                        && ends < at + chrono::Duration::seconds(1)
                });
                (p.answered, alerts, resolution)
            })
            .collect()
    };
    wait_for("a first send", Duration::from_secs(10), || {
        !sends(&am).is_empty()
    });
    let first = am.posts().into_iter().next().unwrap();
    assert_eq!(first.headers["authorization"], "Bearer s3cret");
    assert_eq!(first.headers["content-type"], "application/json");
    let (_, alerts, _) = &sends(&am)[0];
    assert_eq!(alerts.len(), 2);
    for a in alerts {
        let starts = chrono::DateTime::parse_from_rfc3339(a["startsAt"].as_str().unwrap()).unwrap();
        let ends = chrono::DateTime::parse_from_rfc3339(a["endsAt"].as_str().unwrap()).unwrap();
        let lease = (ends - chrono::Utc::now().fixed_offset()).num_milliseconds();
        assert!(
            (0..=4_500).contains(&lease),
            "lease of 4 x resend: {lease} ms; {a}"
        );
        assert!(starts < ends);
    }
    // the breach and its resolution while Alertmanager answers 503
    am.fault("/api/v2/alerts", Some(Fault::Status(503)));
    d.drop_file("breach.json", BREACH);
    d.wait_until("the breach alert", Duration::from_secs(10), |d| {
        d.alerts().len() == 3
    });
    d.drop_file("evidence.json", EVIDENCE);
    d.wait_until("the resolution", Duration::from_secs(10), |d| {
        d.alerts().len() == 4
    });
    wait_for(
        "the resolution refused twice",
        Duration::from_secs(10),
        || {
            sends(&am)
                .iter()
                .filter(|(status, _, resolution)| *status == 503 && *resolution)
                .count()
                >= 2
        },
    );
    am.fault("/api/v2/alerts", None);
    wait_for("the resolution accepted", Duration::from_secs(10), || {
        sends(&am)
            .iter()
            .any(|(status, _, resolution)| *status == 200 && *resolution)
    });
    let accepted_at = sends(&am)
        .iter()
        .position(|(status, _, resolution)| *status == 200 && *resolution)
        .unwrap();
    wait_for("two more sends", Duration::from_secs(10), || {
        sends(&am).len() >= accepted_at + 3
    });
    let after = &sends(&am)[accepted_at + 1..];
    assert!(
        after
            .iter()
            .all(|(_, a, resolution)| !resolution && a.len() == 2),
        "a resolution sent after it was accepted: {after:?}"
    );
    assert_eq!(d.stop(), 0);
}

/// `sha256=<hex HMAC-SHA256 of body keyed with key>`, as a receiver checks it.
fn signed(key: &[u8], body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// The webhook answers 503 while alerts are made; the daemon is killed with -9 and
/// started again; the webhook recovers: every record of the alerts file arrives, in
/// order, signed, with stable ids.
#[test]
fn the_webhook_gets_every_record_in_order_signed_across_kill_9() {
    let hook = Server::start();
    hook.fault("/hook", Some(Fault::Status(503)));
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "k3y\n").unwrap();
    let d = daemon(&format!(
        "[alerts.webhook]\nurl = \"{}\"\ntimeout = \"2s\"\nsecret_file = \"{}\"\n",
        hook.url("/hook"),
        secret.display()
    ));
    let mut child = d.spawn_to_kill(AS_OF);
    wait_for(
        "the daemon's first records",
        Duration::from_secs(20),
        || d.alerts().len() == 2,
    );
    d.drop_file("breach.json", BREACH);
    wait_for("the breach record", Duration::from_secs(20), || {
        d.alerts().len() == 3
    });
    wait_for("attempts refused", Duration::from_secs(20), || {
        hook.posts().len() >= 2
    });
    // in order: nothing after the first record is tried before it is delivered
    let tried: Vec<String> = hook
        .posts()
        .iter()
        .map(|p| p.headers["x-pledgewatch-delivery"].clone())
        .collect();
    assert!(tried.iter().all(|id| *id == tried[0]), "{tried:?}");
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let mut d = d;
    d.spawn(AS_OF, &[]);
    d.drop_file("evidence.json", EVIDENCE);
    d.wait_until("the resolution", Duration::from_secs(20), |d| {
        d.alerts().len() == 4
    });
    hook.fault("/hook", None);
    let delivered = |hook: &Server| -> Vec<super::httpd::Post> {
        hook.posts()
            .into_iter()
            .filter(|p| p.answered == 200)
            .collect()
    };
    wait_for("every record delivered", Duration::from_secs(30), || {
        delivered(&hook).len() >= 4
    });
    let mut seen = std::collections::BTreeMap::new();
    for p in delivered(&hook) {
        let id: i64 = p.headers["x-pledgewatch-delivery"].parse().unwrap();
        assert_eq!(p.headers["content-type"], "application/json");
        assert_eq!(
            p.headers["x-pledgewatch-signature"],
            signed(b"k3y", &p.body),
            "signed with the secret less its final newline"
        );
        let mut v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(v["id"], id);
        v.as_object_mut().unwrap().remove("id");
        if let Some(earlier) = seen.insert(id, v.clone()) {
            assert_eq!(earlier, v, "a repeat of {id} is the same record");
        }
    }
    let records: Vec<serde_json::Value> = seen.into_values().collect();
    assert_eq!(records, d.alerts(), "the alerts file's records, in order");
    // first deliveries came in id order
    let order: Vec<i64> = delivered(&hook)
        .iter()
        .map(|p| p.headers["x-pledgewatch-delivery"].parse().unwrap())
        .collect();
    let mut firsts = order.clone();
    firsts.dedup();
    assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // one line for the outage, one for the recovery: not one per attempt
    let log = d.log.lock().unwrap().join("\n");
    assert!(log.contains("delivering again after"), "{log}");
    assert_eq!(log.matches("delivery failed").count(), 1, "{log}");
    assert_eq!(d.stop(), 0);
}

/// Receivers that hang (Alertmanager and the webhook accept the connection and never
/// answer) hold up neither ingest, nor evaluation, nor the journal's alerts.
#[test]
fn hanging_receivers_hold_up_nothing() {
    let hook = Server::start();
    hook.fault("/hook", Some(Fault::Stall));
    let am = Server::start();
    am.fault("/api/v2/alerts", Some(Fault::Stall));
    let mut d = daemon(&format!(
        "[alerts.alertmanager]\nurl = \"{}\"\nresend = \"1s\"\ntimeout = \"60s\"\n\
         [alerts.webhook]\nurl = \"{}\"\ntimeout = \"60s\"\n",
        am.url(""),
        hook.url("/hook")
    ));
    d.spawn(AS_OF, &[]);
    d.wait_until("the first records", Duration::from_secs(10), |d| {
        d.alerts().len() == 2
    });
    for (n, report) in [BREACH, EVIDENCE].iter().enumerate() {
        let dropped = Instant::now();
        d.drop_file(&format!("r{n}.json"), report);
        d.wait_until("the alert", Duration::from_secs(10), |d| {
            d.alerts().len() == 3 + n
        });
        let took = dropped.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "drop-to-alert {took:?} behind hanging receivers"
        );
    }
    let started = Instant::now();
    for n in 0..50 {
        d.drop_file(
            &format!("m{n}.json"),
            &format!(r#"{{"date": "2009-06-0{}", "actors": ["KGZ"], "kind": "meeting", "title": "m{n}"}}"#, n % 9 + 1),
        );
    }
    d.wait_until("50 files taken", Duration::from_secs(20), |d| {
        d.count("inbox") == 0
    });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        hook.posts().is_empty() && am.posts().is_empty(),
        "nobody answered"
    );
    assert_eq!(d.stop(), 0);
}

/// `name{labels} value` lines of the families `prefix…`, from Prometheus text.
fn samples(text: &str, prefix: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, v)| (series.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn node_exporter_serves_the_metrics_and_they_equal_status() {
    let test = "delivery::node_exporter_serves_the_metrics_and_they_equal_status";
    if !have(test, NODE_EXPORTER) {
        return;
    }
    let textfiles = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = std::process::Command::new(NODE_EXPORTER)
        .arg("--collector.disable-defaults")
        .arg("--collector.textfile")
        .arg(format!(
            "--collector.textfile.directory={}",
            textfiles.path().display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _exporter = Component {
        child,
        port,
        _dir: tempfile::tempdir().unwrap(),
    };
    let textfile = textfiles.path().join("pledgewatch.prom");
    let mut d = Daemon::start(
        &format!("[metrics]\ntextfile = \"{}\"\n", textfile.display()),
        "2026-11-27",
    );
    super::daemon::copy_examples(&d);
    d.wait_until("the inbox to empty", Duration::from_secs(30), |d| {
        d.count("inbox") == 0
    });
    let status = d.status_json("2026-11-27");
    let want: Vec<(String, String)> = status["agreements"][0]["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let scraped = || {
        get(port, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default()
    };
    // at rest (the last file's evaluation done): the statuses, and every record counted
    wait_for(
        "the metrics to equal status",
        Duration::from_secs(20),
        || {
            let text = scraped();
            let records: f64 = samples(&text, "pledgewatch_alerts_total{")
                .iter()
                .map(|(_, v)| v)
                .sum();
            records == d.alerts().len() as f64
            && want.iter().all(|(c, s)| {
                let series = format!(
                    "pledgewatch_commitment_status{{agreement=\"kgz-tjk-2007\",commitment=\"{c}\",party=\"\",status=\"{s}\"}}"
                );
                samples(&text, &series) == [(series.clone(), 1.0)]
            })
        },
    );
    let text = scraped();
    // one status is 1, the other five 0, for every commitment and party
    let status_lines = samples(&text, "pledgewatch_commitment_status{");
    let ones = status_lines.iter().filter(|(_, v)| *v == 1.0).count();
    assert_eq!(status_lines.len(), ones * 6, "{text}");
    for c in status["agreements"][0]["commitments"].as_array().unwrap() {
        let series = format!(
            "pledgewatch_commitment_score{{agreement=\"kgz-tjk-2007\",commitment=\"{}\"}}",
            c["id"].as_str().unwrap()
        );
        let got = samples(&text, &series);
        match c["score"].as_f64() {
            Some(score) => assert_eq!(got, [(series, score)]),
            None => assert!(got.is_empty(), "a pending commitment has no score: {got:?}"),
        }
    }
    let score = status["agreements"][0]["score"].as_f64().unwrap();
    let got = samples(
        &text,
        "pledgewatch_agreement_score{agreement=\"kgz-tjk-2007\"}",
    );
    assert!((got[0].1 - score).abs() < 1e-9, "{got:?} vs {score}");
    let processed = samples(&text, "pledgewatch_files_total{outcome=\"processed\"}");
    let taken = std::fs::read_dir(d.path("state/processed"))
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".error"))
        .count();
    assert_eq!(processed[0].1, taken as f64);
    let alerts = samples(&text, "pledgewatch_alerts_total{");
    let total: f64 = alerts.iter().map(|(_, v)| v).sum();
    assert_eq!(total, d.alerts().len() as f64, "{alerts:?}");
    let reports = samples(&text, "pledgewatch_reports{agreement=\"kgz-tjk-2007\"}");
    assert!(reports[0].1 > 0.0 && reports[0].1 <= 49.0, "{reports:?}");
    let evaluated = samples(&text, "pledgewatch_last_evaluation_timestamp_seconds");
    let now = chrono::Utc::now().timestamp() as f64;
    assert!((now - evaluated[0].1).abs() < 120.0, "{evaluated:?}");
    // node_exporter read the file without complaint
    assert!(
        samples(&text, "node_textfile_scrape_error")
            .iter()
            .all(|(_, v)| *v == 0.0),
        "{text}"
    );
    assert_eq!(d.stop(), 0);
}

/// With a hold, a breach undone within it makes no record anywhere (journal, alerts file,
/// webhook, Alertmanager); one that lasts alerts once the hold ends.
#[test]
fn a_hold_keeps_a_short_breach_quiet_everywhere_and_alerts_a_lasting_one() {
    let hook = Server::start();
    let am = Server::start();
    let mut d = Daemon::new(setup(&format!(
        "hold = \"4s\"\n[alerts.alertmanager]\nurl = \"{}\"\nresend = \"1s\"\n[alerts.webhook]\nurl = \"{}\"\n",
        am.url(""),
        hook.url("/hook")
    )));
    std::fs::remove_file(d.path("rules/kgz-tjk-2007.toml")).unwrap();
    // `border` only: pending until the breach
    std::fs::write(
        d.path("rules/a.toml"),
        &RULES[..RULES.find("[[commitment]]\nid = \"meet\"").unwrap()],
    )
    .unwrap();
    d.spawn(AS_OF, &[]);
    d.drop_file("breach.json", BREACH);
    d.wait_log("file taken", Duration::from_secs(10));
    d.drop_file("evidence.json", EVIDENCE);
    d.wait_until("both files taken", Duration::from_secs(10), |d| {
        d.count("state/processed") == 2
    });
    std::thread::sleep(Duration::from_secs(6));
    let am_alerts = |am: &Server| -> usize {
        am.posts()
            .iter()
            .map(|p| {
                serde_json::from_slice::<Vec<serde_json::Value>>(&p.body)
                    .unwrap()
                    .len()
            })
            .sum()
    };
    assert!(d.alerts().is_empty(), "{:?}", d.alerts());
    assert!(hook.posts().is_empty(), "{:?}", hook.posts());
    assert_eq!(am_alerts(&am), 0);
    let log = d.log.lock().unwrap().join("\n");
    assert!(!log.contains("\"target\":\"alert\""), "{log}");
    // a breach after the evidence lasts: one record when the hold ends, everywhere
    let dropped = Instant::now();
    d.drop_file(
        "breach2.json",
        r#"{"id": "b2", "date": "2009-12-28", "actors": ["KGZ", "TJK"], "cameo": "193", "title": "Border clash again"}"#,
    );
    d.wait_until("the held alert", Duration::from_secs(15), |d| {
        d.alerts().len() == 1
    });
    assert!(
        dropped.elapsed() >= Duration::from_secs(3),
        "alerted before the hold ended"
    );
    let record = &d.alerts()[0];
    assert_eq!(record["alert"], "breached");
    assert_eq!(record["previous"], "fulfilled");
    wait_for(
        "the webhook and Alertmanager",
        Duration::from_secs(10),
        || hook.posts().len() == 1 && am_alerts(&am) >= 1,
    );
    assert_eq!(d.stop(), 0);
}

/// A secret file that cannot be read stops `check --config` and the daemon (exit 78),
/// naming the file, never a secret.
#[test]
fn an_unreadable_secret_is_a_config_error() {
    let d = daemon(
        "[alerts.webhook]\nurl = \"http://127.0.0.1:9/hook\"\nsecret_file = \"missing.secret\"\n",
    );
    let r = run(pledgewatch().arg("check").arg("--config").arg(&d.config));
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(
        r.stderr.contains("missing.secret") && r.stderr.contains("secret_file"),
        "{}",
        r.stderr
    );
    let r = run(pledgewatch()
        .args(["run", "--as-of", AS_OF, "--log-format", "json", "--config"])
        .arg(&d.config));
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("missing.secret"), "{}", r.stderr);
}
