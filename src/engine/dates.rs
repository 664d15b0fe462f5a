//! Calendar dates and the `<n><unit>` durations of docs/reference.md, Rule files.
//!
//! Durations mix calendar units (months, years) with fixed ones (weeks, days), so they are
//! kept as two counts and added to a date the way the spec fixes: months first, clamped to
//! the end of the month, then days.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use std::fmt;

/// A span of time as written in rule files: `"45d"`, `"1y6mo"`, `"2w"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    /// Years and months, as one count of calendar months.
    pub months: u32,
    /// Weeks and days, as one count of days.
    pub days: u32,
}

/// Upper bound on any single term, so that date arithmetic can never overflow.
const MAX_MONTHS: u32 = 12 * 1000;
const MAX_DAYS: u32 = 366 * 1000;

impl Duration {
    /// A duration of `months` calendar months and `days` days.
    pub fn new(months: u32, days: u32) -> Self {
        Duration { months, days }
    }

    /// Parses one or more `<n><unit>` terms (units `d`, `w`, `mo`, `y`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "invalid duration {text:?}: {why} (expected terms like \"45d\", \"2w\", \"6mo\", \"1y6mo\")"
            )
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        let mut months: u64 = 0;
        let mut days: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad("a number must come before each unit"));
            }
            if digits > 7 {
                return Err(bad("number too large"));
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad("bad number"))?;
            rest = &rest[digits..];
            let (unit_len, add_months, add_days) = if rest.starts_with("mo") {
                (2, n, 0)
            } else if rest.starts_with('y') {
                (1, n * 12, 0)
            } else if rest.starts_with('w') {
                (1, 0, n * 7)
            } else if rest.starts_with('d') {
                (1, 0, n)
            } else {
                return Err(bad("unknown or missing unit; units are d, w, mo, y"));
            };
            rest = &rest[unit_len..];
            months += add_months;
            days += add_days;
            if months > u64::from(MAX_MONTHS) || days > u64::from(MAX_DAYS) {
                return Err(bad("longer than 1000 years"));
            }
        }
        Ok(Duration {
            months: months as u32,
            days: days as u32,
        })
    }

    /// True for `"0d"` and the like.
    pub fn is_zero(&self) -> bool {
        self.months == 0 && self.days == 0
    }

    /// `date + self`: months first (clamped to the month's end), then days.
    /// Saturates at the largest date chrono can represent.
    pub fn add_to(&self, date: NaiveDate) -> NaiveDate {
        let with_months = date
            .checked_add_months(Months::new(self.months))
            .unwrap_or(NaiveDate::MAX);
        with_months
            .checked_add_days(Days::new(u64::from(self.days)))
            .unwrap_or(NaiveDate::MAX)
    }
}

impl Duration {
    /// `date` minus this duration: months first (clamped to the month's end), then days.
    pub fn sub_from(&self, date: NaiveDate) -> NaiveDate {
        date.checked_sub_months(Months::new(self.months))
            .and_then(|d| d.checked_sub_days(Days::new(u64::from(self.days))))
            .unwrap_or(NaiveDate::MIN)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return write!(f, "0d");
        }
        let (y, mo) = (self.months / 12, self.months % 12);
        if y > 0 {
            write!(f, "{y}y")?;
        }
        if mo > 0 {
            write!(f, "{mo}mo")?;
        }
        if self.days > 0 {
            if self.days.is_multiple_of(7) {
                write!(f, "{}w", self.days / 7)?;
            } else {
                write!(f, "{}d", self.days)?;
            }
        }
        Ok(())
    }
}

/// Parses a report or command-line date: `YYYY-MM-DD`, or RFC 3339 (whose UTC date counts).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = t.as_bytes()
        && [y1, y2, y3, y4, m1, m2, d1, d2]
            .iter()
            .all(|b| b.is_ascii_digit())
    {
        let num = |digits: &[&u8]| {
            digits
                .iter()
                .fold(0u32, |acc, &&b| acc * 10 + u32::from(b - b'0'))
        };
        let (y, m, d) = (num(&[y1, y2, y3, y4]), num(&[m1, m2]), num(&[d1, d2]));
        return NaiveDate::from_ymd_opt(y as i32, m, d)
            .ok_or_else(|| format!("invalid date {text:?}: no such day (expected YYYY-MM-DD)"))
            .and_then(check_year);
    }
    if t.len() == 10 {
        return NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|e| format!("invalid date {text:?}: {e} (expected YYYY-MM-DD)"))
            .and_then(check_year);
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|dt| dt.with_timezone(&chrono::Utc).date_naive())
        .map_err(|e| {
            format!("invalid date {text:?}: {e} (expected YYYY-MM-DD or an RFC 3339 timestamp)")
        })
        .and_then(check_year)
}

fn check_year(d: NaiveDate) -> Result<NaiveDate, String> {
    if (1..=9999).contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!("date {d} is outside the years 1-9999"))
    }
}

/// Parses a byte size: `"256MiB"`, `"10MB"`, `"4096"`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = t[..digits]
        .parse()
        .map_err(|_| format!("invalid size {text:?}"))?;
    let mult: u64 = match t[digits..].trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "invalid size {text:?}: unknown unit {other:?} (use B, KiB, MiB, GiB, kB, MB, GB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

/// Parses a short interval: `"500ms"`, `"30s"`, `"5m"`, `"1h"`.
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = t[..digits].parse().map_err(|_| {
        format!("invalid interval {text:?} (expected e.g. \"500ms\", \"30s\", \"5m\")")
    })?;
    let ms = match &t[digits..] {
        "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        other => {
            return Err(format!(
                "invalid interval {text:?}: unknown unit {other:?} (use ms, s, m, h)"
            ));
        }
    };
    Ok(std::time::Duration::from_millis(ms))
}

/// A span of time given in config: calendar terms (`7d`, `1mo`) plus an exact part (`30s`,
/// `12h`): how long an alert waits before it repeats, how far a feed backfills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Calendar part.
    pub calendar: Duration,
    /// Exact part.
    pub exact: std::time::Duration,
}

impl Interval {
    /// Parses `"7d"`, `"1mo"` (calendar) or `"90s"`, `"5m"`, `"2h"`, `"500ms"` (exact).
    pub fn parse(text: &str) -> Result<Interval, String> {
        if let Ok(calendar) = Duration::parse(text) {
            return Ok(Interval {
                calendar,
                exact: std::time::Duration::ZERO,
            });
        }
        parse_interval(text)
            .map(|exact| Interval { calendar: Duration::default(), exact })
            .map_err(|_| {
                format!("invalid interval {text:?}: expected a duration like \"7d\", \"1mo\", \"12h\" or \"30s\"")
            })
    }

    /// The time this long before `t` (months and days first, then the exact part).
    pub fn before(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let date = self.calendar.sub_from(t.date_naive());
        let base = date.and_time(t.time()).and_utc();
        chrono::Duration::from_std(self.exact)
            .ok()
            .and_then(|d| base.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The time this long after `last` (when the next repeat of an alert is due).
    pub fn after(&self, last: DateTime<Utc>) -> DateTime<Utc> {
        let date = self.calendar.add_to(last.date_naive());
        let base = date.and_time(last.time()).and_utc();
        base + chrono::Duration::from_std(self.exact).unwrap_or(chrono::Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_terms() {
        assert_eq!(Duration::parse("45d").unwrap(), Duration::new(0, 45));
        assert_eq!(Duration::parse("2w").unwrap(), Duration::new(0, 14));
        assert_eq!(Duration::parse("1y6mo").unwrap(), Duration::new(18, 0));
        assert_eq!(Duration::parse("1y2mo3w4d").unwrap(), Duration::new(14, 25));
        assert_eq!(Duration::parse("0d").unwrap(), Duration::new(0, 0));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "",
            "d",
            "5",
            "5m",
            "5 d",
            "-5d",
            "5dd",
            "1.5y",
            "5D",
            "99999999d",
            "1001y",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn month_addition_clamps_to_month_end() {
        assert_eq!(
            Duration::parse("1mo").unwrap().add_to(d("2008-01-31")),
            d("2008-02-29")
        );
        assert_eq!(
            Duration::parse("1y6mo").unwrap().add_to(d("2008-02-29")),
            d("2009-08-29")
        );
        assert_eq!(
            Duration::parse("1y").unwrap().add_to(d("2008-02-29")),
            d("2009-02-28")
        );
        assert_eq!(
            Duration::parse("1mo").unwrap().add_to(d("2009-01-31")),
            d("2009-02-28")
        );
        // months first, then days: 01-31 + 1mo = 02-29, + 1d = 03-01
        assert_eq!(
            Duration::parse("1mo1d").unwrap().add_to(d("2008-01-31")),
            d("2008-03-01")
        );
        assert_eq!(
            Duration::parse("6mo").unwrap().add_to(d("2007-09-18")),
            d("2008-03-18")
        );
        assert_eq!(
            Duration::parse("30d").unwrap().add_to(d("2008-03-18")),
            d("2008-04-17")
        );
    }

    #[test]
    fn displays_compactly() {
        for s in ["45d", "2w", "1y6mo", "0d", "1y"] {
            assert_eq!(Duration::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2008-05-16").unwrap(), d("2008-05-16"));
        assert_eq!(
            parse_date("2008-05-16T23:30:00-02:00").unwrap(),
            d("2008-05-17")
        );
        assert_eq!(parse_date("2008-05-16T10:00:00Z").unwrap(), d("2008-05-16"));
        assert!(parse_date("2023-02-30").is_err());
        assert!(parse_date("16/05/2008").is_err());
        assert!(parse_date("").is_err());
    }

    #[test]
    fn repeat_intervals() {
        let r = Interval::parse("1mo").unwrap();
        assert_eq!(
            r.after(at("2020-01-31T10:00:00Z")),
            at("2020-02-29T10:00:00Z")
        );
        let r = Interval::parse("90s").unwrap();
        assert_eq!(
            r.after(at("2020-01-31T10:00:00Z")),
            at("2020-01-31T10:01:30Z")
        );
        assert!(Interval::parse("soon").is_err());
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }
}
