//! Property: statuses never depend on the order in which reports arrive.

use chrono::NaiveDate;
use pledgewatch::engine::evaluate::evaluate_all;
use pledgewatch::engine::matcher::{CompiledRules, Scratch};
use pledgewatch::engine::replay::EvidenceSet;
use pledgewatch::engine::report::{Kind, Report};
use pledgewatch::engine::rules;
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "joint",
    "exercise",
    "border",
    "clash",
    "treaty",
    "water",
    "talks",
    "president",
    "minister",
    "energy",
];

fn arb_report() -> impl Strategy<Value = (u32, u8, u8, Option<u8>, Vec<u8>)> {
    (
        0u32..7000,
        0u8..7,
        0u8..5,
        proptest::option::of(0u8..20),
        proptest::collection::vec(0u8..10, 0..6),
    )
}

fn build(
    i: usize,
    (day, actors, kind, cameo, words): (u32, u8, u8, Option<u8>, Vec<u8>),
) -> Report {
    let all = ["KGZ", "TJK", "UZB"];
    let actors: Vec<String> = (0..3)
        .filter(|b| actors & (1 << b) != 0)
        .map(|b| all[b].to_string())
        .collect();
    Report {
        id: format!("r{i}"),
        date: NaiveDate::from_ymd_opt(2007, 1, 1).unwrap() + chrono::Days::new(u64::from(day)),
        actors: if actors.is_empty() {
            vec!["KGZ".into()]
        } else {
            actors
        },
        kind: Kind::ALL[kind as usize],
        cameo: cameo.map(|c| format!("{:02}", c + 1)),
        title: words
            .iter()
            .map(|&w| WORDS[w as usize])
            .collect::<Vec<_>>()
            .join(" "),
        body: String::new(),
        topics: vec![],
        source: None,
        url: None,
        reported: None,
    }
}

fn evaluate(
    set: &rules::RuleSet,
    compiled: &CompiledRules,
    reports: &[Report],
    as_of: NaiveDate,
) -> String {
    let mut evidence = EvidenceSet::default();
    let mut scratch = Scratch::default();
    for r in reports {
        evidence.add(r, compiled.match_report(r, &mut scratch));
    }
    let statuses = evaluate_all(set, &evidence.events(set.commitment_count()), as_of);
    pledgewatch::render::status::json(as_of, evidence.counts(), &statuses)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn statuses_do_not_depend_on_arrival_order(
        raw in proptest::collection::vec(arb_report(), 0..60),
        seed in any::<u64>(),
        as_of_day in 0u32..8000,
    ) {
        let set = pledgewatch::shell::rules_dir::load_dir(&super::root().join("rules")).unwrap();
        let compiled = CompiledRules::new(&set).unwrap();
        let reports: Vec<Report> = raw.into_iter().enumerate().map(|(i, r)| build(i, r)).collect();
        let mut shuffled = reports.clone();
        // Fisher-Yates with a small LCG: a permutation chosen by proptest's seed
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut reversed = reports.clone();
        reversed.reverse();
        let as_of = NaiveDate::from_ymd_opt(2007, 1, 1).unwrap() + chrono::Days::new(u64::from(as_of_day));
        let a = evaluate(&set, &compiled, &reports, as_of);
        prop_assert_eq!(&a, &evaluate(&set, &compiled, &shuffled, as_of));
        prop_assert_eq!(&a, &evaluate(&set, &compiled, &reversed, as_of));
    }
}
