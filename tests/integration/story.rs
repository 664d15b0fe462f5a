//! The seed rules against the example reports tell the true story of 2007–2025.

use super::*;

fn statuses(as_of: &str) -> serde_json::Value {
    replay_json(Path::new("rules"), &[Path::new("examples/reports")], as_of).0
}

fn status(v: &serde_json::Value, id: &str) -> String {
    commitment(v, id)["status"].as_str().unwrap().to_string()
}

#[test]
fn paper_tigers_by_the_end_of_2009() {
    let v = statuses("2009-12-31");
    for id in [
        "military-cooperation",
        "border-commission",
        "border-security",
        "security-services",
        "presidential-meetings",
        "ministerial-talks",
    ] {
        assert_eq!(status(&v, id), "paper_tiger", "{id}");
    }
    // one meeting in May 2008, then silence
    assert_eq!(
        commitment(&v, "presidential-meetings")["last_evidence"],
        "2008-05-16"
    );
    // the statement itself is talk, not follow-up
    let s = commitment(&v, "security-services");
    assert_eq!(
        (s["evidence"].as_u64(), s["talk"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        s["reason"],
        "no joint agreement or action by KGZ and TJK since 2007-09-18; due 2008-09-18, grace 6mo ended 2009-03-18; 1 report of talk only"
    );
    assert_eq!(status(&v, "border-settled"), "pending");
}

#[test]
fn the_kyrgyz_french_training_does_not_count() {
    let v = replay_json(
        Path::new("rules"),
        &[Path::new(
            "examples/reports/2007-09-12-kyrgyz-french-mountain-training.txt",
        )],
        "2008-01-01",
    )
    .0;
    assert_eq!(v["reports"]["read"], 1);
    for c in v["agreements"][0]["commitments"].as_array().unwrap() {
        assert_eq!(
            (
                c["evidence"].as_u64(),
                c["talk"].as_u64(),
                c["breaches"].as_u64()
            ),
            (Some(0), Some(0), Some(0)),
            "{}",
            c["id"]
        );
    }
}

#[test]
fn breached_after_the_2014_clash() {
    let v = statuses("2014-02-01");
    assert_eq!(status(&v, "military-cooperation"), "breached");
    assert_eq!(
        commitment(&v, "military-cooperation")["last_breach"],
        "2014-01-11"
    );
    assert_eq!(status(&v, "border-settled"), "breached");
    // the joint investigation agreed on 28 January already counts as border-security follow-up
    assert_eq!(status(&v, "border-security"), "on_track");
    let v = statuses("2014-01-20");
    assert_eq!(status(&v, "border-security"), "breached");
    assert_eq!(
        commitment(&v, "border-security")["last_breach"],
        "2014-01-16"
    );
}

#[test]
fn breached_after_the_2021_clashes() {
    let v = statuses("2021-05-25");
    for id in ["military-cooperation", "border-settled", "border-security"] {
        assert_eq!(status(&v, id), "breached", "{id}");
    }
    assert_eq!(
        commitment(&v, "border-security")["last_breach"],
        "2021-05-21",
        "the closure of five crossings"
    );
    assert_eq!(
        commitment(&v, "military-cooperation")["last_breach"],
        "2021-04-29"
    );
}

#[test]
fn breached_after_the_2022_clashes_until_the_protocol() {
    let v = statuses("2022-09-15");
    for id in ["military-cooperation", "border-settled", "border-security"] {
        assert_eq!(status(&v, id), "breached", "{id}");
    }
    // the ceasefire the presidents agreed at Samarkand on 16 September is border-security
    // follow-up later than the breach; the clash still stands for the other two
    let v = statuses("2022-09-20");
    assert_eq!(status(&v, "border-security"), "on_track");
    assert_eq!(
        commitment(&v, "border-security")["last_evidence"],
        "2022-09-16"
    );
    assert_eq!(status(&v, "border-settled"), "breached");
    let v = statuses("2022-10-01");
    assert_eq!(
        commitment(&v, "border-security")["last_evidence"],
        "2022-09-25",
        "Protocol No. 42"
    );
    assert_eq!(status(&v, "military-cooperation"), "breached");
    let v = statuses("2022-10-10");
    assert_eq!(
        commitment(&v, "military-cooperation")["last_breach"],
        "2022-10-07",
        "cancelled CSTO exercises"
    );
}

#[test]
fn border_work_fulfilled_in_2025() {
    let v = statuses("2025-02-28");
    // the protocol initialled in February is not yet the treaty
    assert_eq!(status(&v, "border-settled"), "paper_tiger");
    assert_eq!(status(&v, "border-commission"), "on_track");
    let v = statuses("2025-06-30");
    let s = commitment(&v, "border-settled");
    assert_eq!(
        (s["status"].as_str(), s["last_evidence"].as_str()),
        (Some("fulfilled"), Some("2025-03-13"))
    );
    assert_eq!(
        s["reason"],
        "fulfilled: joint agreement or action by KGZ and TJK on 2025-03-13, after the deadline 2012-12-31"
    );
    // ratification is counted party by party, from single-party reports
    let r = commitment(&v, "border-treaty-ratified");
    assert_eq!(r["status"], "fulfilled");
    assert_eq!(
        r["parties"],
        serde_json::json!([
            {"party": "KGZ", "status": "fulfilled", "due": "2025-12-31", "last_evidence": "2025-03-25"},
            {"party": "TJK", "status": "fulfilled", "due": "2025-12-31", "last_evidence": "2025-03-19"}
        ])
    );
    // between the two ratifications, Kyrgyzstan is the one still pending
    let v = statuses("2025-03-20");
    let r = commitment(&v, "border-treaty-ratified");
    assert_eq!(r["status"], "pending");
    assert_eq!(r["parties"][1]["status"], "fulfilled");
    assert!(
        r["reason"].as_str().unwrap().contains("by KGZ"),
        "{}",
        r["reason"]
    );
}

/// Reports in Russian count through the seed rules' stems: делимитации, делимитацию,
/// Договор о государственной границе, Жапаров... (docs/reference.md, Rule files).
#[test]
fn russian_reports_count_through_stems() {
    let (v, _) = replay_json(
        &root().join("rules"),
        &[&root().join("examples/reports-ru")],
        "2025-06-30",
    );
    assert_eq!(v["reports"]["read"], 3);
    let bc = commitment(&v, "border-commission");
    assert_eq!(
        (bc["evidence"].as_u64(), bc["last_evidence"].as_str()),
        (Some(2), Some("2023-10-08"))
    );
    let bs = commitment(&v, "border-settled");
    assert_eq!(bs["status"], "fulfilled");
    assert_eq!(bs["last_evidence"], "2025-03-13");
    let pm = commitment(&v, "presidential-meetings");
    assert_eq!(pm["evidence"], 2);
}
