#![no_main]
//! Cron expressions (6/7 fields, shorthands and translated 5-field crontab lines).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(cron) = pledgewatch::engine::schedule::Cron::parse(text)
        && let Some(d) = chrono::NaiveDate::from_ymd_opt(2007, 9, 18)
        && let Some(next) = cron.first_day_after(d)
    {
        assert!(next > d);
    }
});
