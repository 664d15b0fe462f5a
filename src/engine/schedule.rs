//! Cron expressions for `cadence` and the daemon's schedules (docs/reference.md, Rule files).
//!
//! The `cron` crate's grammar is the reference (seconds first, day-of-week 1-7 = Sunday to
//! Saturday). A classic 5-field crontab line is accepted too and translated: second 0 is
//! prepended and its day-of-week numbers (0 and 7 = Sunday) are rewritten as names. A
//! 5-field line that restricts both day-of-month and day-of-week is refused, because crontab
//! and the `cron` crate disagree on what it means.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::str::FromStr;

/// A parsed cron schedule, evaluated in UTC.
#[derive(Debug, Clone)]
pub struct Cron {
    source: String,
    schedule: cron::Schedule,
}

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    /// Parses a 6/7-field `cron` crate expression, a `@shorthand`, or a 5-field crontab line.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let trimmed = text.trim();
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        let expression = if fields.len() == 5 {
            translate_crontab(&fields)
                .map_err(|e| format!("invalid cron expression {text:?}: {e}"))?
        } else {
            fields.join(" ")
        };
        let schedule = cron::Schedule::from_str(&expression).map_err(|e| {
            format!(
                "invalid cron expression {text:?}: {e} (expected 5 crontab fields, or 6-7 fields \
                 with seconds first, or @daily/@weekly/@monthly/@yearly/@hourly)"
            )
        })?;
        Ok(Cron {
            source: trimmed.to_string(),
            schedule,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&t).next()
    }

    /// The date of the first fire time that falls on a day after `date` (docs/reference.md, Statuses cadence due).
    pub fn first_day_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        let end_of_day = date
            .and_time(NaiveTime::from_hms_opt(23, 59, 59)?)
            .and_utc();
        self.next_after(end_of_day).map(|t| t.date_naive())
    }
}

/// Rewrites a 5-field crontab line in the `cron` crate's 6-field grammar.
fn translate_crontab(fields: &[&str]) -> Result<String, String> {
    let (dom, dow) = (fields[2], fields[4]);
    if dom != "*" && dom != "?" && dow != "*" && dow != "?" {
        return Err(format!(
            "day-of-month ({dom}) and day-of-week ({dow}) are both restricted; crontab runs when \
             either matches but the cron crate only when both do, so write one of them as *"
        ));
    }
    let dow = translate_day_of_week(dow)?;
    Ok(format!(
        "0 {} {} {} {} {}",
        fields[0], fields[1], fields[2], fields[3], dow
    ))
}

/// Expands a crontab day-of-week field (0-7, 0 and 7 = Sunday, names, ranges, steps) into a
/// list of day names, which mean the same in both grammars.
fn translate_day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_string());
    }
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("bad step {s:?} in day-of-week"))?;
                if step == 0 {
                    return Err("day-of-week step must be at least 1".into());
                }
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (crontab_day(a)?, crontab_day(b)?)
        } else {
            let d = crontab_day(range)?;
            // "5/2" in crontab means from 5 to the end of the range.
            (d, if step > 1 { 7 } else { d })
        };
        if lo > hi {
            return Err(format!("day-of-week range {range:?} runs backwards"));
        }
        let mut d = lo;
        while d <= hi {
            days[(d % 7) as usize] = true;
            d += step;
        }
    }
    if days.iter().all(|&d| d) {
        return Ok("*".into());
    }
    let names: Vec<&str> = (0..7).filter(|&i| days[i]).map(|i| DAY_NAMES[i]).collect();
    Ok(names.join(","))
}

fn crontab_day(text: &str) -> Result<u32, String> {
    if let Ok(n) = text.parse::<u32>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("day-of-week {n} is out of range 0-7"))
        };
    }
    DAY_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
        .map(|i| i as u32)
        .ok_or_else(|| format!("unknown day-of-week {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn six_field_day_of_week_is_one_based_sunday() {
        // 2024-06-02 is a Sunday.
        let c = Cron::parse("0 0 0 * * 1").unwrap();
        assert_eq!(c.first_day_after(d("2024-05-30")), Some(d("2024-06-02")));
        let c = Cron::parse("0 0 0 * * 7").unwrap();
        assert_eq!(c.first_day_after(d("2024-05-30")), Some(d("2024-06-01")));
    }

    #[test]
    fn five_field_day_of_week_keeps_crontab_meaning() {
        // crontab 0 and 7 are Sunday, 1 is Monday.
        for sunday in ["0 0 * * 0", "0 0 * * 7", "0 0 * * sun"] {
            let c = Cron::parse(sunday).unwrap();
            assert_eq!(
                c.first_day_after(d("2024-05-30")),
                Some(d("2024-06-02")),
                "{sunday}"
            );
        }
        let c = Cron::parse("0 0 * * 1").unwrap();
        assert_eq!(c.first_day_after(d("2024-05-30")), Some(d("2024-06-03")));
        // Friday to Sunday, crossing the wrap.
        assert_eq!(translate_day_of_week("5-7").unwrap(), "SUN,FRI,SAT");
        assert_eq!(translate_day_of_week("1-5/2").unwrap(), "MON,WED,FRI");
        assert_eq!(translate_day_of_week("0-7").unwrap(), "*");
        assert_eq!(
            translate_day_of_week("mon-fri").unwrap(),
            "MON,TUE,WED,THU,FRI"
        );
        assert!(translate_day_of_week("8").is_err());
        assert!(translate_day_of_week("5-1").is_err());
    }

    #[test]
    fn five_field_gets_second_zero() {
        let c = Cron::parse("30 6 1 */3 *").unwrap();
        let t = c
            .next_after(d("2024-01-01").and_hms_opt(12, 0, 0).unwrap().and_utc())
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2024-04-01T06:30:00+00:00");
    }

    #[test]
    fn five_field_with_both_day_fields_is_rejected() {
        let err = Cron::parse("0 0 1 * 1").unwrap_err();
        assert!(err.contains("both restricted"), "{err}");
        // the cron crate's own grammar allows it (both must match)
        assert!(Cron::parse("0 0 0 1 * 2").is_ok());
    }

    #[test]
    fn shorthands() {
        let c = Cron::parse("@weekly").unwrap();
        assert_eq!(c.first_day_after(d("2024-05-30")), Some(d("2024-06-02")));
        let c = Cron::parse("@monthly").unwrap();
        assert_eq!(c.first_day_after(d("2024-05-01")), Some(d("2024-06-01")));
        let c = Cron::parse("@yearly").unwrap();
        assert_eq!(c.first_day_after(d("2024-01-01")), Some(d("2025-01-01")));
        let c = Cron::parse("@daily").unwrap();
        assert_eq!(c.first_day_after(d("2024-01-01")), Some(d("2024-01-02")));
    }

    #[test]
    fn first_day_after_skips_same_day_fires() {
        let c = Cron::parse("0 0 0 1 */3 *").unwrap();
        assert_eq!(c.first_day_after(d("2008-01-01")), Some(d("2008-04-01")));
        assert_eq!(c.first_day_after(d("2007-12-31")), Some(d("2008-01-01")));
    }

    #[test]
    fn exhausted_schedule_has_no_next_day() {
        let c = Cron::parse("0 0 0 1 1 * 2010").unwrap();
        assert_eq!(c.first_day_after(d("2011-01-01")), None);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "* *",
            "61 * * * * *",
            "0 0 * * * * * *",
            "@fortnightly",
            "0 0 * * 0 extra x",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad:?}");
        }
    }
}
