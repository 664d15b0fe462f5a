#![no_main]
//! The rule loader on arbitrary text: it must return an agreement or located problems, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match pledgewatch::engine::rules::load_str(std::path::Path::new("fuzz.toml"), text) {
            Ok(a) => {
                let set = pledgewatch::engine::rules::RuleSet { agreements: vec![a] };
                let _ = pledgewatch::engine::matcher::CompiledRules::new(&set);
            }
            Err(problems) => assert!(!problems.is_empty()),
        }
    }
});
