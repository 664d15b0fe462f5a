#![no_main]
//! Durations and dates: parsing, and adding any duration to any date without overflow.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(d) = pledgewatch::engine::dates::Duration::parse(text) {
            for date in [chrono::NaiveDate::MIN, chrono::NaiveDate::MAX, chrono::NaiveDate::from_ymd_opt(2008, 2, 29).unwrap_or_default()] {
                assert!(d.add_to(date) >= date);
            }
        }
        let _ = pledgewatch::engine::dates::parse_date(text);
    }
});
