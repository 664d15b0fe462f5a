//! `pledgewatch fetch gdelt` through the real binary against a GDELT folder served on
//! 127.0.0.1 by the test (tests/integration/httpd.rs), built from the real rows of
//! tests/data/gdelt/20191024143000.export.CSV.

use super::daemon::Daemon;
use super::httpd::{Fault, Server};
use super::*;
use chrono::{DateTime, Duration as Span, Utc};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

/// The real rows (2,111 GDELT 2.0 rows).
pub fn real_rows() -> Vec<String> {
    std::fs::read_to_string(root().join("tests/data/gdelt/20191024143000.export.CSV"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// A real row turned into one between Kyrgyzstan and Tajikistan, with a new id, code and
/// article address (the headline words of §3 are in its path).
pub fn kgz_tjk_row(real: &str, id: u64, code: &str, url: &str) -> String {
    kgz_tjk_row_on(real, id, code, url, "20191024")
}

/// [`kgz_tjk_row`] with the event dated `sqldate` (YYYYMMDD).
pub fn kgz_tjk_row_on(real: &str, id: u64, code: &str, url: &str, sqldate: &str) -> String {
    let mut cols: Vec<String> = real.split('\t').map(String::from).collect();
    cols[0] = id.to_string();
    cols[1] = sqldate.into();
    cols[5] = "KGZ".into();
    cols[6] = "KYRGYZSTAN".into();
    cols[7] = "KGZ".into();
    cols[15] = "TJK".into();
    cols[16] = "TAJIKISTAN".into();
    cols[17] = "TJK".into();
    cols[25] = "1".into();
    cols[26] = code.into();
    cols[27] = code[..3.min(code.len())].into();
    cols[28] = code[..2].into();
    cols[32] = "3".into();
    cols[60] = url.into();
    cols.join("\t")
}

/// The minute-precise stamp of a slot time.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// The newest published slot for tests that need recent slots: the one before now's.
pub fn recent_newest() -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    DateTime::from_timestamp(now - now.rem_euclid(900) - 900, 0).unwrap()
}

/// One slot's events file: 40 real rows (a different run of them per slot, with new ids)
/// and, in every fourth slot, two Kyrgyz-Tajik rows.
fn slot_csv(n: usize, rows: &[String]) -> String {
    let mut out = String::new();
    for j in 0..40 {
        let real = &rows[(n * 40 + j) % rows.len()];
        let (_, rest) = real.split_once('\t').unwrap();
        out.push_str(&format!("{}\t{rest}\n", 900_000_000 + n * 1000 + j));
    }
    if n.is_multiple_of(4) {
        let id = 950_000_000 + n as u64 * 10;
        out.push_str(&kgz_tjk_row(
            &rows[n],
            id,
            "190",
            "https://example.org/world/kyrgyz-tajik-border-clash-2019",
        ));
        out.push('\n');
        out.push_str(&kgz_tjk_row(
            &rows[n + 1],
            id + 1,
            "043",
            "https://24.kg/english/284361_Kyrgyzstan_Tajikistan_agree_border_demarcation/",
        ));
        out.push('\n');
    }
    out
}

pub fn zip_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(name, options).unwrap();
    zip.write_all(content).unwrap();
    zip.finish().unwrap().into_inner()
}

pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 2019-10-24 14:30 UTC, the time of the real slot.
fn real_slot_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2019-10-24T14:30:00Z")
        .unwrap()
        .to_utc()
}

/// A GDELT 2.0 folder on a test server: slots, their archives and the two lists.
pub struct Gdelt {
    pub server: Server,
    rows: Vec<String>,
    /// Published slots: stamp -> the CSV it holds.
    pub slots: BTreeMap<String, String>,
    /// Stamps left out of masterfilelist.txt.
    pub unlisted: HashSet<String>,
    /// Stamps whose list line gives another MD5.
    pub wrong_md5: HashSet<String>,
    /// Stamps whose archive (and list line) is cut in half.
    pub truncated: HashSet<String>,
}

impl Gdelt {
    pub fn new() -> Gdelt {
        let server = Server::start();
        server.site.lock().unwrap().ranges = true;
        Gdelt {
            server,
            rows: real_rows(),
            slots: BTreeMap::new(),
            unlisted: HashSet::new(),
            wrong_md5: HashSet::new(),
            truncated: HashSet::new(),
        }
    }

    pub fn url(&self) -> String {
        self.server.url("gdeltv2/")
    }

    /// Publishes the `count` slots ending at `newest` (numbered from `first_n` for content).
    pub fn add_slots(&mut self, newest: DateTime<Utc>, count: i64) {
        for k in (0..count).rev() {
            let t = newest - Span::minutes(15 * k);
            let n = (t.timestamp() / 900) as usize % 50;
            self.slots.insert(stamp(t), slot_csv(n, &self.rows));
        }
        self.publish();
    }

    /// Sets one slot's CSV.
    pub fn set_slot(&mut self, stamp: &str, csv: String) {
        self.slots.insert(stamp.to_string(), csv);
        self.publish();
    }

    /// Writes the archives and both lists (with mentions and gkg lines) to the server.
    pub fn publish(&self) {
        let mut master = String::new();
        for (s, csv) in &self.slots {
            let mut archive = zip_of(&format!("{s}.export.CSV"), csv.as_bytes());
            if self.truncated.contains(s) {
                archive.truncate(archive.len() / 2);
            }
            let md5 = if self.wrong_md5.contains(s) {
                "0123456789abcdef0123456789abcdef".to_string()
            } else {
                md5_hex(&archive)
            };
            let lines = format!(
                "{} {md5} {}\n{} {md5} {}\n{} {md5} {}\n",
                archive.len(),
                self.server.url(&format!("gdeltv2/{s}.export.CSV.zip")),
                archive.len() * 3,
                self.server.url(&format!("gdeltv2/{s}.mentions.CSV.zip")),
                archive.len() * 9,
                self.server.url(&format!("gdeltv2/{s}.gkg.csv.zip")),
            );
            if !self.unlisted.contains(s) {
                master.push_str(&lines);
            }
            if Some(s) == self.slots.keys().next_back() {
                self.server.put("/gdeltv2/lastupdate.txt", lines.clone());
            }
            self.server
                .put(&format!("/gdeltv2/{s}.export.CSV.zip"), archive);
        }
        self.server.put("/gdeltv2/masterfilelist.txt", master);
    }

    /// Serves every slot's archive slowly: 1 KiB, then `pause`, and so on.
    pub fn slow_down(&self, pause: Duration) {
        for s in self.slots.keys() {
            self.server.fault(
                &format!("/gdeltv2/{s}.export.CSV.zip"),
                Some(Fault::Slow(pause)),
            );
        }
    }

    /// Requests for `path` so far.
    pub fn requested(&self, path: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.split(' ').nth(1).is_some_and(|p| p.ends_with(path)))
            .count()
    }
}

/// A fetcher's folder: rules, config (`[feed.gdelt]` pointing at `gdelt`), inbox, state.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Site {
    pub fn new(url: &str, feed_keys: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::copy(
            root().join("rules/kgz-tjk-2007.toml"),
            dir.path().join("rules/kgz-tjk-2007.toml"),
        )
        .unwrap();
        let config = dir.path().join("pw.toml");
        let site = Site { dir, config };
        site.write_config(url, feed_keys);
        site
    }

    pub fn write_config(&self, url: &str, feed_keys: &str) {
        let timeout = if feed_keys.contains("timeout") {
            ""
        } else {
            "timeout = \"2s\"\n"
        };
        std::fs::write(
            &self.config,
            format!(
                "rules_dir = \"rules\"\ninbox_dir = \"inbox\"\nstate_dir = \"state\"\n\
                 [log]\nformat = \"json\"\n[inbox]\nmax_file_size = \"4MiB\"\n\
                 [feed.gdelt]\nurl = \"{url}\"\n{timeout}{feed_keys}\n"
            ),
        )
        .unwrap();
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn fetch(&self, args: &[&str]) -> Run {
        run(fetch_command(&self.config).args(args))
    }

    /// Visible files in the inbox, by name, with their content.
    pub fn inbox(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(self.path("inbox")).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                out.insert(name, std::fs::read_to_string(e.path()).unwrap());
            }
        }
        out
    }

    pub fn hidden(&self) -> Vec<String> {
        std::fs::read_dir(self.path("inbox"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("state/feed/gdelt.json")).unwrap())
            .unwrap()
    }
}

/// `pledgewatch fetch gdelt --config CONFIG` with no proxy from the environment.
pub fn fetch_command(config: &Path) -> assert_cmd::Command {
    let mut cmd = pledgewatch();
    cmd.args(["fetch", "gdelt", "--config"]).arg(config);
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The JSON log records of one slot's outcome: slot stamp -> outcome.
fn outcomes(stderr: &str) -> BTreeMap<String, String> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["slot"].as_str()?.to_string(),
                v["outcome"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn name(s: &str) -> String {
    format!("gdelt-{s}.export.CSV")
}

#[test]
fn backfill_then_newest_only_then_catch_up_after_hours() {
    let mut g = Gdelt::new();
    let newest = recent_newest();
    g.add_slots(newest, 8);
    let site = Site::new(&g.url(), "parties = [\"*\"]\nbackfill = \"1h\"");
    let r = site.fetch(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inbox = site.inbox();
    let expected: Vec<String> = g.slots.keys().skip(4).cloned().collect();
    assert_eq!(
        inbox.keys().cloned().collect::<Vec<_>>(),
        expected.iter().map(|s| name(s)).collect::<Vec<_>>()
    );
    for s in &expected {
        assert_eq!(inbox[&name(s)], g.slots[s], "rows are written unchanged");
    }
    let o = outcomes(&r.stderr);
    assert_eq!(o.len(), 4, "{}", r.stderr);
    assert!(o.values().all(|v| v == "written"), "{o:?}");
    // the tail of the long list was asked for, and nothing but export files fetched
    assert!(
        g.server
            .requests()
            .iter()
            .any(|r| r.contains("masterfilelist.txt") && r.contains("Range: bytes=-"))
    );
    assert_eq!(
        g.requested(".mentions.CSV.zip") + g.requested(".gkg.csv.zip"),
        0
    );
    assert_eq!(g.requested("masterfilelist.txt"), 1);
    let agents = g.server.site.lock().unwrap().user_agents.clone();
    assert!(
        agents
            .iter()
            .all(|a| *a == format!("pledgewatch/{}", env!("CARGO_PKG_VERSION"))),
        "{agents:?}"
    );

    // the next slot only: lastupdate.txt is enough
    g.add_slots(newest + Span::minutes(15), 1);
    let r = site.fetch(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(site.inbox().len(), 5);
    assert_eq!(
        g.requested("masterfilelist.txt"),
        1,
        "the long list was read again"
    );

    // stopped for six hours; this server ignores ranges, so the whole list is streamed
    g.server.site.lock().unwrap().ranges = false;
    g.add_slots(newest + Span::hours(6) + Span::minutes(15), 24);
    let r = site.fetch(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(site.inbox().len(), 5 + 24);
    assert_eq!(outcomes(&r.stderr).len(), 24);
    let state = site.state();
    let done = &state["streams"]["export"]["done"];
    assert_eq!(done.as_array().unwrap().len(), 1, "{state}");
    assert_eq!(done[0][0], expected[0].as_str());
    assert_eq!(
        done[0][1],
        stamp(newest + Span::hours(6) + Span::minutes(15))
    );
    // nothing new: nothing fetched, exit 0
    let before = g.server.requests().len();
    let r = site.fetch(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to fetch"), "{}", r.stderr);
    assert_eq!(g.server.requests().len(), before + 1, "only lastupdate.txt");
    assert!(site.hidden().is_empty());
}

#[test]
fn failures_are_retried_then_given_up() {
    let mut g = Gdelt::new();
    let newest = recent_newest();
    g.add_slots(newest, 16);
    // s[15] is the newest, 15 to 30 minutes old; s[k] is (15 - k) slots older
    let s: Vec<String> = g.slots.keys().cloned().collect();
    let at = |k: usize| format!("/gdeltv2/{}.export.CSV.zip", s[k]);
    g.server.fault(&at(1), Some(Fault::Status(404))); // 3h45 old: given up at once
    g.unlisted.insert(s[2].clone()); // not listed, 3h30 old: given up at once
    g.server.fault(&at(8), Some(Fault::StatusOnce(500)));
    g.server.fault(&at(9), Some(Fault::Stall));
    let mut bomb = String::new();
    while bomb.len() < 6 << 20 {
        bomb.push_str(&"0\t".repeat(60));
        bomb.push_str("0\n");
    }
    g.slots.insert(s[10].clone(), bomb);
    g.truncated.insert(s[11].clone());
    g.wrong_md5.insert(s[12].clone());
    g.server.fault(&at(13), Some(Fault::Status(404)));
    g.publish();
    let keys = |give_up: &str| {
        format!(
            "parties = [\"*\"]\nbackfill = \"4h\"\ntimeout = \"1s\"\ngive_up_after = \"{give_up}\""
        )
    };
    let site = Site::new(&g.url(), &keys("3h"));
    let r = site.fetch(&[]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    let o = outcomes(&r.stderr);
    let want = |k: usize| o.get(&s[k]).map(String::as_str);
    assert_eq!(want(1), Some("given_up"), "{}", r.stderr);
    assert_eq!(want(2), Some("given_up"));
    for k in 8..=13 {
        assert_eq!(want(k), Some("retry"), "slot {k}: {}", r.stderr);
    }
    for k in [0, 3, 4, 5, 6, 7, 14, 15] {
        assert_eq!(want(k), Some("written"), "slot {k}");
    }
    for (needle, k) in [
        ("500", 8),
        ("timeout", 9),
        ("inbox.max_file_size", 10),
        ("cannot unpack", 11),
        ("MD5", 12),
        ("404", 13),
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&s[k]) && l.contains("retry"))
            .unwrap();
        assert!(
            line.to_lowercase().contains(&needle.to_lowercase()),
            "slot {k}: {line}"
        );
    }
    assert_eq!(site.inbox().len(), 8);
    let state = site.state();
    let retry = state["streams"]["export"]["retry"].as_object().unwrap();
    assert_eq!(retry.len(), 6, "{state}");

    // the server is mended for three of them: the next run takes those, the others wait
    g.server.fault(&at(9), None);
    g.server.fault(&at(13), None);
    let r = site.fetch(&[]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    let o = outcomes(&r.stderr);
    for k in [8, 9, 13] {
        assert_eq!(
            o.get(&s[k]).map(String::as_str),
            Some("written"),
            "slot {k}: {}",
            r.stderr
        );
    }
    for k in [10, 11, 12] {
        assert_eq!(o.get(&s[k]).map(String::as_str), Some("retry"), "slot {k}");
    }
    assert!(
        !o.contains_key(&s[1]) && !o.contains_key(&s[0]),
        "done and given-up slots are not tried again"
    );
    assert_eq!(
        site.state()["streams"]["export"]["retry"][&s[10]]["attempts"],
        2
    );
    // once give_up_after has passed for the broken ones, they are given up: exit 0
    site.write_config(&g.url(), &keys("30m"));
    let r = site.fetch(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = outcomes(&r.stderr);
    for k in [10, 11, 12] {
        assert_eq!(
            o.get(&s[k]).map(String::as_str),
            Some("given_up"),
            "slot {k}"
        );
    }
    assert_eq!(site.inbox().len(), 11);
    assert!(site.hidden().is_empty(), "{:?}", site.hidden());
}

/// The rows the filter should keep, decided here independently of the binary.
fn expected_rows(csv: &str, parties: Option<&[&str]>, min_sources: u64, root_only: bool) -> String {
    let mut out = String::new();
    for line in csv.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let sources: u64 = c[32].parse().unwrap();
        let party_ok = parties.is_none_or(|p| p.contains(&c[7]) || p.contains(&c[17]));
        if party_ok && sources >= min_sources && (!root_only || c[25] == "1") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn filters_keep_exactly_the_rows_counted_independently() {
    let mut g = Gdelt::new();
    let t = real_slot_time();
    let rows = real_rows();
    let mut csv = rows
        .iter()
        .take(600)
        .map(|r| format!("{r}\n"))
        .collect::<String>();
    csv.push_str(&kgz_tjk_row(
        &rows[700],
        990_000_001,
        "190",
        "https://x.org/clash",
    ));
    csv.push('\n');
    csv.push_str(&kgz_tjk_row(
        &rows[701],
        990_000_002,
        "042",
        "https://x.org/visit",
    ));
    csv.push('\n');
    g.set_slot(&stamp(t), csv.clone());
    g.add_slots(t + Span::minutes(15), 1);
    let cases: [(&str, Option<&[&str]>, u64, bool); 5] = [
        ("parties = []", Some(&["KGZ", "TJK"]), 1, false),
        (
            "parties = [\"RUS\", \"SYR\"]",
            Some(&["RUS", "SYR"]),
            1,
            false,
        ),
        ("parties = [\"*\"]", None, 1, false),
        ("parties = [\"*\"]\nmin_sources = 2", None, 2, false),
        (
            "parties = [\"USA\"]\nroot_events_only = true",
            Some(&["USA"]),
            1,
            true,
        ),
    ];
    for (keys, parties, min_sources, root_only) in cases {
        let site = Site::new(&g.url(), keys);
        let r = site.fetch(&["--from", "2019-10-24T14:30", "--to", "2019-10-24T14:30"]);
        assert_eq!(r.code, 0, "{keys}: {}", r.stderr);
        let want = expected_rows(&csv, parties, min_sources, root_only);
        assert!(!want.is_empty(), "{keys}: a test that cannot fail");
        assert_eq!(
            want.len() == csv.len(),
            parties.is_none() && min_sources == 1,
            "{keys}"
        );
        assert_eq!(site.inbox().get(&name(&stamp(t))), Some(&want), "{keys}");
        let kept = want.lines().count();
        assert!(
            r.stderr.contains(&format!("{kept} of 602 rows kept")),
            "{keys}: {}",
            r.stderr
        );
    }
    // a slot with no kept rows writes nothing and is done
    let site = Site::new(&g.url(), "parties = [\"ATA\"]");
    let r = site.fetch(&["--from", "2019-10-24T14:30"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(site.inbox().is_empty());
    let o = outcomes(&r.stderr);
    assert_eq!(
        o.values().collect::<Vec<_>>(),
        ["empty", "empty"],
        "{}",
        r.stderr
    );
    assert_eq!(
        site.state()["streams"]["export"]["done"][0][1],
        stamp(t + Span::minutes(15))
    );
    assert!(
        site.state()["streams"]["export"]["since"].is_null(),
        "a range run sets no start"
    );
}

#[test]
fn translation_stream_redirects_and_a_proxy_from_the_environment() {
    let mut g = Gdelt::new();
    let t = real_slot_time();
    g.add_slots(t, 2);
    // the translated stream: its own lists and names
    let s = stamp(t);
    let csv = g.slots[&s].clone();
    let archive = zip_of(&format!("{s}.translation.export.CSV"), csv.as_bytes());
    let line = format!(
        "{} {} {}\n",
        archive.len(),
        md5_hex(&archive),
        g.server
            .url(&format!("gdeltv2/{s}.translation.export.CSV.zip"))
    );
    g.server
        .put(&format!("/gdeltv2/{s}.translation.export.CSV.zip"), archive);
    g.server
        .put("/gdeltv2/lastupdate-translation.txt", line.clone());
    g.server
        .put("/gdeltv2/masterfilelist-translation.txt", line);
    // lastupdate.txt moved: a redirect within http is followed
    let lastupdate = g.server.site.lock().unwrap().files["/gdeltv2/lastupdate.txt"].clone();
    g.server.put("/mirror/lastupdate.txt", lastupdate);
    g.server.fault(
        "/gdeltv2/lastupdate.txt",
        Some(Fault::Redirect("/mirror/lastupdate.txt".into())),
    );
    let site = Site::new(&g.url(), "parties = [\"*\"]\ntranslation = true");
    let r = site.fetch(&["--from", "2019-10-24"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inbox = site.inbox();
    assert_eq!(inbox.len(), 3, "{inbox:?}");
    assert_eq!(inbox[&format!("gdelt-{s}.translation.export.CSV")], csv);
    assert!(site.state()["streams"]["translation"]["done"].is_array());
    // a redirect to another scheme is not followed
    g.server.fault(
        "/gdeltv2/lastupdate.txt",
        Some(Fault::Redirect("https://127.0.0.1:1/x".into())),
    );
    let r = site.fetch(&[]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(r.stderr.contains("changes the scheme"), "{}", r.stderr);
    g.server.fault("/gdeltv2/lastupdate.txt", None);

    // through a proxy named by http_proxy: the feed's host is never resolved here
    let proxy = Server::start();
    for (path, body) in g.server.site.lock().unwrap().files.iter() {
        proxy.put(path, body.clone());
    }
    let site = Site::new("http://gdelt.invalid/gdeltv2/", "parties = [\"*\"]");
    let r = run(fetch_command(&site.config)
        .args(["--from", "2019-10-24"])
        .env("http_proxy", format!("http://{}", proxy.addr)));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        proxy.requests().iter().any(|r| r.contains("gdelt.invalid")),
        "{:?}",
        proxy.requests()
    );
    assert_eq!(site.inbox().len(), 2);
}

#[test]
fn kill_9_never_leaves_a_partial_file_or_writes_a_slot_twice() {
    let mut g = Gdelt::new();
    let newest = real_slot_time();
    g.add_slots(newest, 12);
    g.slow_down(Duration::from_millis(60));
    let site = Site::new(&g.url(), "parties = [\"*\"]");
    let check_inbox = |site: &Site| {
        for (name, content) in site.inbox() {
            let s = &name["gdelt-".len()..name.len() - ".export.CSV".len()];
            assert_eq!(content, g.slots[s], "{name} is partial or foreign");
        }
    };
    let mut seed = 0x2545_f491_u64;
    let mut kills = 0;
    for _ in 0..16 {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pledgewatch"))
            .args(["fetch", "gdelt", "--from", "2019-10-24T11:45", "--config"])
            .arg(&site.config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(50 + seed % 400));
        if child.try_wait().unwrap().is_none() {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            kills += 1;
        }
        let _ = child.wait();
        check_inbox(&site);
    }
    assert!(
        kills >= 8,
        "only {kills} runs were killed: the test did not test"
    );
    let r = site.fetch(&["--from", "2019-10-24T11:45"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_inbox(&site);
    assert_eq!(
        site.inbox().len(),
        12,
        "every slot written exactly once: {:?}",
        site.inbox().keys()
    );
    assert!(
        site.hidden().is_empty(),
        "stale temporary files: {:?}",
        site.hidden()
    );
}

#[test]
fn a_run_killed_between_stage_and_done_is_finished_by_the_next() {
    let mut g = Gdelt::new();
    let t = real_slot_time();
    g.add_slots(t, 2);
    let (s0, s1) = (stamp(t - Span::minutes(15)), stamp(t));
    let site = Site::new(&g.url(), "parties = [\"*\"]");
    std::fs::create_dir_all(site.path("state/feed")).unwrap();
    std::fs::create_dir_all(site.path("inbox")).unwrap();
    // killed after staging s0, before its rename: its temporary file is complete
    let temp = site.path(&format!("inbox/.pledgewatch-fetch-{}.tmp", name(&s0)));
    std::fs::write(&temp, &g.slots[&s0]).unwrap();
    // and a stale temporary file of a slot that was never staged
    std::fs::write(
        site.path(&format!("inbox/.pledgewatch-fetch-{}.tmp", name(&s1))),
        "half a ro",
    )
    .unwrap();
    let state =
        format!("{{\"version\": 1, \"streams\": {{\"export\": {{\"staged\": \"{s0}\"}}}}}}");
    std::fs::write(site.path("state/feed/gdelt.json"), state).unwrap();
    let r = site.fetch(&["--from", "2019-10-24"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("a killed run had staged it; renamed"),
        "{}",
        r.stderr
    );
    assert_eq!(site.inbox().len(), 2);
    assert_eq!(site.inbox()[&name(&s1)], g.slots[&s1]);
    assert_eq!(
        g.requested(&format!("{s0}.export.CSV.zip")),
        0,
        "a staged slot is not fetched again"
    );
    assert!(site.hidden().is_empty());

    // killed after the rename, before the slot was recorded done: the daemon may have taken
    // the file already; the slot is done, not written again
    let t2 = t + Span::minutes(15);
    g.add_slots(t2, 1);
    let s2 = stamp(t2);
    let mut state = site.state();
    state["streams"]["export"]["staged"] = serde_json::json!(s2);
    std::fs::write(site.path("state/feed/gdelt.json"), state.to_string()).unwrap();
    let r = site.fetch(&["--from", "2019-10-24"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("renamed it already"), "{}", r.stderr);
    assert_eq!(g.requested(&format!("{s2}.export.CSV.zip")), 0);
    assert!(!site.inbox().contains_key(&name(&s2)));
}

#[test]
fn a_damaged_state_file_is_an_error_and_two_runs_do_not_both_fetch() {
    let mut g = Gdelt::new();
    let t = real_slot_time();
    g.add_slots(t, 4);
    let site = Site::new(&g.url(), "parties = [\"*\"]");
    std::fs::create_dir_all(site.path("state/feed")).unwrap();
    let damaged = "{\"version\": 1, \"streams\": {\"export\": {\"done\": [[\"2019\"";
    std::fs::write(site.path("state/feed/gdelt.json"), damaged).unwrap();
    let r = site.fetch(&["--from", "2019-10-24"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("gdelt.json: damaged state file"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(site.path("state/feed/gdelt.json")).unwrap(),
        damaged
    );
    assert!(
        g.server.requests().is_empty(),
        "nothing fetched with damaged books"
    );
    std::fs::remove_file(site.path("state/feed/gdelt.json")).unwrap();

    // the first run holds the lock while it downloads slowly; a second one exits 75
    g.slow_down(Duration::from_millis(3));
    let first = std::process::Command::new(assert_cmd::cargo::cargo_bin("pledgewatch"))
        .args(["fetch", "gdelt", "--from", "2019-10-24", "--config"])
        .arg(&site.config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while g.requested(".export.CSV.zip") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first run did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = site.fetch(&["--from", "2019-10-24"]);
    assert_eq!(second.code, 75, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("another `pledgewatch fetch gdelt` is running"),
        "{}",
        second.stderr
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(site.inbox().len(), 4);
    assert_eq!(g.requested(".export.CSV.zip"), 4, "each slot fetched once");
}

#[test]
fn config_errors_are_located_and_exit_78() {
    let site = Site::new(
        "http://127.0.0.1:9/",
        "parties = [\"KG\"]\nbackfil = \"1d\"",
    );
    let r = site.fetch(&[]);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("pw.toml:"), "{}", r.stderr);
    let r = run(pledgewatch().args(["check", "--config"]).arg(&site.config));
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("backfil"), "{}", r.stderr);
    site.write_config("http://127.0.0.1:9/", "parties = [\"KG\"]");
    let r = run(pledgewatch().args(["check", "--config"]).arg(&site.config));
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(":11:12: feed.gdelt.parties: \"KG\" is not a 3-letter"),
        "{}",
        r.stderr
    );
    let r = site.fetch(&["--to", "2019-10-24"]);
    assert_eq!(r.code, 2, "--to needs --from: {}", r.stderr);
    let r = site.fetch(&["--from", "yesterday"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn fetched_rows_reach_the_daemon_and_raise_an_alert() {
    let mut g = Gdelt::new();
    let t = real_slot_time();
    g.add_slots(t, 4);
    let extra = format!("[feed.gdelt]\nurl = \"{}\"\ntimeout = \"2s\"\n", g.url());
    let d = Daemon::start(&extra, "2019-10-25");
    let r = run(fetch_command(&d.config).args(["--from", "2019-10-24T13:45"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("written gdelt-"), "{}", r.stderr);
    d.wait_until(
        "a breach alert from a fetched row",
        Duration::from_secs(20),
        |d| {
            d.alerts()
                .iter()
                .any(|a| a["alert"] == "breached" && a["commitment"] == "military-cooperation")
        },
    );
    let v = d.status_json("2019-10-25");
    let mc = commitment(&v, "military-cooperation");
    assert_eq!(mc["status"], "breached");
    assert_eq!(mc["last_breach"], "2019-10-24");
    // evidence from the headline words of the article address (docs/reference.md, Reports)
    let bc = commitment(&v, "border-commission");
    assert_eq!(bc["last_evidence"], "2019-10-24", "{bc}");
    assert_eq!(bc["status"], "on_track");
    // `status` says where the feed stands (text and Markdown; the JSON keeps its shape)
    let r = run(pledgewatch()
        .args(["status", "--as-of", "2019-10-25", "--config"])
        .arg(&d.config));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("feed gdelt (export): last slot done 2019-10-24 14:30 UTC; no slot waiting for a retry; none given up"),
        "{}",
        r.stdout
    );
    let r = run(pledgewatch()
        .args(["status", "--format", "markdown", "--config"])
        .arg(&d.config));
    assert!(
        r.stdout
            .contains("## Feed\n\n- feed gdelt (export): last slot done"),
        "{}",
        r.stdout
    );
    // the daemon took the fetched files whole, and nothing else
    d.wait_until("the inbox emptied", Duration::from_secs(20), |d| {
        d.count("inbox") == 0
    });
    assert_eq!(
        d.count("state/processed"),
        1,
        "only the slots with Kyrgyz-Tajik rows are kept"
    );
}

#[test]
fn a_terminal_gets_a_progress_bar_and_log_lines_above_it() {
    let mut g = Gdelt::new();
    let t = real_slot_time();
    g.add_slots(t, 8);
    g.slow_down(Duration::from_millis(30));
    let site = Site::new(&g.url(), "parties = [\"*\"]");
    let config = std::fs::read_to_string(&site.config).unwrap();
    std::fs::write(
        &site.config,
        config.replace("format = \"json\"", "format = \"auto\""),
    )
    .unwrap();
    let command = format!(
        "{} fetch gdelt --from 2019-10-24T12:45 --config {}",
        assert_cmd::cargo::cargo_bin("pledgewatch").display(),
        site.config.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("http_proxy")
        .env_remove("all_proxy")
        .output()
        .expect("util-linux `script` is installed (.ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("/8 slots"), "no progress bar: {text:?}");
    assert!(text.contains("rows kept"), "{text:?}");
    assert_eq!(
        text.matches("written gdelt-").count(),
        8,
        "one plain line per slot: {text:?}"
    );
    assert!(
        !text.contains("{\"timestamp\""),
        "text, not JSON, on a terminal: {text:?}"
    );
}
