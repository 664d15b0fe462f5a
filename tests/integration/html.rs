//! The HTML scorecard (`--format html`) rendered by a real browser: Debian's chromium,
//! headless, prints the DOM it built; the tests assert on that DOM.

use super::*;

/// Chromium, or `None` (with a message) where it is not installed.
fn chromium(test: &str) -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        skip(test, "chromium is not installed (apt-get install chromium)");
    }
    found
}

/// The DOM chromium builds from `page` (scripts, if any, have run).
pub fn rendered_dom(browser: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn replay_html(rules: &Path, reports: &Path, as_of: &str, out: &Path) -> String {
    let r = run(pledgewatch()
        .arg("replay")
        .arg("--rules")
        .arg(rules)
        .arg("--reports")
        .arg(reports)
        .args(["--as-of", as_of, "--format", "html"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(out, &r.stdout).unwrap();
    r.stdout
}

#[test]
fn the_scorecard_in_a_browser_one_strip_per_commitment_with_labels_and_marks() {
    let Some(browser) =
        chromium("html::the_scorecard_in_a_browser_one_strip_per_commitment_with_labels_and_marks")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("card.html");
    let source = replay_html(
        &root().join("rules"),
        &root().join("examples/reports"),
        "2026-11-27",
        &page,
    );
    // self-contained: nothing fetched from elsewhere
    for outside in ["<script", "<link", "src=\"http", "@import", "url("] {
        assert!(!source.contains(outside), "{outside}");
    }
    let dom = rendered_dom(&browser, &page);
    let (v, _) = replay_json(
        &root().join("rules"),
        &[&root().join("examples/reports")],
        "2026-11-27",
    );
    let commitments = v["agreements"][0]["commitments"].as_array().unwrap();
    assert_eq!(
        dom.matches("<svg class=\"timeline\"").count(),
        commitments.len()
    );
    for c in commitments {
        let status = c["status"].as_str().unwrap();
        assert!(
            dom.contains(&format!(
                "<tr class=\"commitment\" data-status=\"{status}\""
            )),
            "{status}"
        );
        let label = status.replace('_', " ");
        assert!(
            dom.contains(&format!("</span> {label}</td>")),
            "a text label beside the colour: {label}"
        );
    }
    // one mark per report that counts, as the JSON counts them
    let count = |class: &str| dom.matches(&format!("class=\"mark {class}\"")).count() as u64;
    let total = |key: &str| {
        commitments
            .iter()
            .map(|c| c[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(count("evidence"), total("evidence"));
    assert_eq!(count("talk"), total("talk"));
    assert_eq!(count("breach"), total("breaches"));
    assert!(dom.contains("Parties: KGZ, TJK. Signed 2007-09-18."));
    assert!(dom.contains("<details>"));
    // every strip ends at the as-of marker
    assert_eq!(
        dom.matches("<line class=\"asof\"").count(),
        commitments.len()
    );
}

#[test]
fn hostile_titles_stay_text_and_only_web_addresses_are_links() {
    let Some(browser) = chromium("html::hostile_titles_stay_text_and_only_web_addresses_are_links")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let hostile = [
        (
            "a",
            "<script>document.title='pwned';document.body.setAttribute('data-pwned','1')</script>",
        ),
        (
            "b",
            "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">",
        ),
        (
            "c",
            "</title></svg><svg onload=\"document.body.setAttribute('data-pwned','3')\">",
        ),
    ];
    let mut lines = String::new();
    for (id, title) in hostile {
        lines.push_str(
            &serde_json::json!({
                "id": id, "date": "2008-05-16", "actors": ["KGZ", "TJK"], "kind": "meeting",
                "title": format!("border demarcation talks {title}"),
                "source": title, "url": "javascript:document.body.setAttribute('data-pwned','4')"
            })
            .to_string(),
        );
        lines.push('\n');
    }
    lines.push_str(
        &serde_json::json!({
            "id": "d", "date": "2008-06-16", "actors": ["KGZ", "TJK"], "kind": "meeting",
            "title": "border demarcation session", "url": "https://24.kg/english/1_border/"
        })
        .to_string(),
    );
    std::fs::write(reports.join("r.jsonl"), lines).unwrap();
    let page = dir.path().join("card.html");
    replay_html(&root().join("rules"), &reports, "2009-01-01", &page);
    let dom = rendered_dom(&browser, &page);
    assert!(!dom.contains("data-pwned=\""), "a hostile title ran");
    assert!(
        dom.contains("data-pwned'"),
        "the hostile text is there, as text"
    );
    assert!(dom.contains("<title>pledgewatch scorecard as of 2009-01-01</title>"));
    assert!(!dom.contains("<img"), "an element was injected");
    assert_eq!(dom.matches("<svg").count(), 16, "no svg injected");
    assert!(
        dom.contains("&lt;script&gt;document.title="),
        "the title is shown as text"
    );
    assert!(!dom.contains("href=\"javascript:"));
    assert!(dom.contains("href=\"https://24.kg/english/1_border/\""));
}

#[test]
fn two_hundred_commitments_render() {
    let Some(browser) = chromium("html::two_hundred_commitments_render") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut blocks = String::new();
    for i in 0..200 {
        blocks.push_str(&format!(
            "[[commitment]]\nid = \"c{i}\"\ntitle = \"Commitment {i}\"\nwindow = \"{}mo\"\n\
             [[commitment.evidence]]\nkeywords = [\"topic{}\"]\n\n",
            1 + i % 24,
            i % 10
        ));
    }
    let rules = write_rules(dir.path(), &blocks);
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let mut lines = String::new();
    for d in 0..300 {
        lines.push_str(&format!(
            "{{\"date\": \"{}\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"meeting\", \"title\": \"talks on topic{}\"}}\n",
            chrono::NaiveDate::from_ymd_opt(2008, 1, 1).unwrap() + chrono::Days::new(d * 20),
            d % 10
        ));
    }
    std::fs::write(reports.join("r.jsonl"), lines).unwrap();
    let page = dir.path().join("card.html");
    replay_html(&rules, &reports, "2026-11-27", &page);
    let dom = rendered_dom(&browser, &page);
    assert_eq!(dom.matches("<svg class=\"timeline\"").count(), 200);
    assert_eq!(dom.matches("<tr class=\"commitment\"").count(), 200);
}

#[test]
fn the_daemon_keeps_scorecard_html_and_status_writes_the_same_page() {
    use super::daemon::{Daemon, copy_examples};
    let d = Daemon::start("", "2026-11-27");
    let n = copy_examples(&d);
    d.wait_until(
        "every example taken",
        std::time::Duration::from_secs(30),
        |d| d.count("state/processed") + d.count("state/rejected") >= n,
    );
    let page = d.path("state/scorecard.html");
    let status = d.status_json("2026-11-27");
    let commitments = status["agreements"][0]["commitments"]
        .as_array()
        .unwrap()
        .clone();
    // the page follows the evaluations: wait until it shows every example's evidence
    let evidence: u64 = commitments
        .iter()
        .map(|c| c["evidence"].as_u64().unwrap())
        .sum();
    d.wait_until(
        "scorecard.html with every report",
        std::time::Duration::from_secs(20),
        |_| {
            std::fs::read_to_string(&page)
                .is_ok_and(|p| p.matches("class=\"mark evidence\"").count() as u64 == evidence)
        },
    );
    assert!(!d.path("state/.scorecard.html.tmp").exists());
    let from_daemon = std::fs::read_to_string(&page).unwrap();
    for c in &commitments {
        assert!(from_daemon.contains(&format!(
            "data-status=\"{}\"",
            c["status"].as_str().unwrap()
        )));
    }
    // `status --format html` draws the same page from the ledger
    let r = run(pledgewatch()
        .args([
            "status",
            "--as-of",
            "2026-11-27",
            "--format",
            "html",
            "--config",
        ])
        .arg(&d.config));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let strip = |p: &str| p.split("Made by").nth(1).map(str::to_string);
    assert_eq!(strip(&r.stdout), strip(&from_daemon));
    if let Some(browser) =
        chromium("html::the_daemon_keeps_scorecard_html_and_status_writes_the_same_page")
    {
        let dom = rendered_dom(&browser, &page);
        assert_eq!(
            dom.matches("<svg class=\"timeline\"").count(),
            commitments.len()
        );
    }
}
