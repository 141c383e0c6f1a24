//! Business hours: a weekly schedule in an IANA time zone, with holidays, and whether it is open at an instant.
//!
//! Ranges are local wall-clock time, so a DST change moves them with the clock rather than with
//! UTC; a range a spring-forward skips never opens that day, and one a fall-back repeats opens twice.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use chrono_tz::Tz;

/// The template keys of the week, Monday first, in the order of [`Hours::new`]'s `week`.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MINUTES_PER_DAY: u16 = 24 * 60;

/// A weekly schedule: for each day, sorted non-overlapping `(start, end)` minutes from local
/// midnight, end exclusive, 1440 allowed as an end so a day can be open to its very last minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Hours {
    tz: Tz,
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

pub fn parse_time_zone(s: &str) -> Result<Tz, String> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| format!("'{s}' is not an IANA time zone such as America/New_York"))
}

/// One day's value: "closed" or "" for no hours, else comma-separated "HH:MM-HH:MM" ranges.
/// Touching ranges ("09:00-12:00, 12:00-13:00") are allowed; overlapping ones are refused
/// because they almost always mean a typo.
pub fn parse_day(s: &str) -> Result<Vec<(u16, u16)>, String> {
    let trimmed = s.trim();
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let mut ranges = trimmed
        .split(',')
        .map(parse_range)
        .collect::<Result<Vec<_>, _>>()?;
    ranges.sort_unstable();
    if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(format!("'{trimmed}': ranges overlap"));
    }
    Ok(ranges)
}

fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let s = s.trim();
    let shape = || format!("'{s}' is not HH:MM-HH:MM");
    let (a, b) = s.split_once('-').ok_or_else(shape)?;
    let (a, b) = (a.trim(), b.trim());
    if !is_hhmm(a) || !is_hhmm(b) {
        return Err(shape());
    }
    let (start, end) = (minutes(a)?, minutes(b)?);
    if end <= start {
        return Err(format!(
            "'{s}': the end is not after the start (a range cannot pass midnight: \
             end the day at 24:00 and start the next at 00:00)"
        ));
    }
    Ok((start, end))
}

// Checked on bytes so that no input, however odd its UTF-8, can make a slice panic.
fn is_hhmm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
}

fn minutes(hhmm: &str) -> Result<u16, String> {
    let b = hhmm.as_bytes();
    let digit = |i: usize| u16::from(b[i] - b'0');
    let (h, m) = (digit(0) * 10 + digit(1), digit(3) * 10 + digit(4));
    let total = h * 60 + m;
    if m > 59 || total > MINUTES_PER_DAY {
        return Err(format!("'{hhmm}' is not a time"));
    }
    Ok(total)
}

pub fn parse_holiday(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    let err = || format!("'{s}' is not a date YYYY-MM-DD");
    // chrono alone would take "2026-1-5" or "+2026-01-05"; the template says YYYY-MM-DD.
    let b = t.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(err());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| err())
}

/// Reads `SWITCHBOARD_CLOCK` style overrides: an RFC 3339 instant like "2026-11-25T18:00:00Z" -> unix ms.
pub fn parse_instant(s: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("'{s}' is not an RFC 3339 instant such as 2026-11-25T18:00:00Z"))
}

impl Hours {
    pub fn new(tz: Tz, week: [Vec<(u16, u16)>; 7], holidays: BTreeSet<NaiveDate>) -> Hours {
        Hours { tz, week, holidays }
    }

    /// Holidays are matched on the local date, not the UTC one: 23:30 on Christmas in Los Angeles
    /// is already the 26th in UTC but still Christmas for the caller.
    pub fn is_open(&self, at_unix_ms: i64) -> bool {
        // An instant chrono cannot represent is centuries away; closed is the safe answer.
        let Some(utc) = DateTime::from_timestamp_millis(at_unix_ms) else {
            return false;
        };
        let local = utc.with_timezone(&self.tz);
        if self.holidays.contains(&local.date_naive()) {
            return false;
        }
        let day = local.weekday().num_days_from_monday() as usize;
        // Minutes only: a range is HH:MM, so 16:59:59 is still inside 09:00-17:00.
        let now = (local.hour() * 60 + local.minute()) as u16;
        self.week[day].iter().any(|&(s, e)| s <= now && now < e)
    }

    pub fn time_zone(&self) -> &'static str {
        self.tz.name()
    }

    /// One line, consecutive days with the same hours grouped:
    /// "America/Los_Angeles: Mon-Fri 09:00-17:00, Sat-Sun closed; 2 holidays".
    pub fn describe(&self) -> String {
        let mut groups: Vec<String> = Vec::new();
        let mut first = 0;
        for (day, name) in DAY_NAMES.iter().enumerate() {
            if self.week.get(day + 1) != Some(&self.week[first]) {
                let days = if first == day {
                    name.to_string()
                } else {
                    format!("{}-{name}", DAY_NAMES[first])
                };
                groups.push(format!("{days} {}", describe_day(&self.week[first])));
                first = day + 1;
            }
        }
        let mut line = format!("{}: {}", self.time_zone(), groups.join(", "));
        match self.holidays.len() {
            0 => {}
            1 => line.push_str("; 1 holiday"),
            n => line.push_str(&format!("; {n} holidays")),
        }
        line
    }
}

fn describe_day(ranges: &[(u16, u16)]) -> String {
    if ranges.is_empty() {
        return "closed".to_string();
    }
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    ranges
        .iter()
        .map(|&(s, e)| format!("{}-{}", hhmm(s), hhmm(e)))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn la(days: [&str; 7], holidays: &[&str]) -> Hours {
        let week = days.map(|d| parse_day(d).unwrap());
        let holidays = holidays.iter().map(|h| parse_holiday(h).unwrap()).collect();
        Hours::new(
            parse_time_zone("America/Los_Angeles").unwrap(),
            week,
            holidays,
        )
    }

    fn office() -> Hours {
        let nine_to_five = "09:00-17:00";
        la(
            [
                nine_to_five,
                "09:00-12:00, 13:00-17:00",
                nine_to_five,
                nine_to_five,
                nine_to_five,
                "closed",
                "",
            ],
            &["2026-12-25", "2027-01-01"],
        )
    }

    fn open(h: &Hours, at: &str) -> bool {
        h.is_open(parse_instant(at).unwrap())
    }

    #[test]
    fn boundaries_start_inclusive_end_exclusive() {
        // 2026-11-25 is a Wednesday, PST (-08:00).
        let h = office();
        assert!(!open(&h, "2026-11-25T08:59:59-08:00"));
        assert!(open(&h, "2026-11-25T09:00:00-08:00"));
        assert!(open(&h, "2026-11-25T17:00:00Z"));
        assert!(open(&h, "2026-11-25T16:59:00-08:00"));
        assert!(open(&h, "2026-11-25T16:59:59-08:00"));
        assert!(!open(&h, "2026-11-25T17:00:00-08:00"));
        // 16:00 UTC is 08:00 local: a schedule read in UTC would say open.
        assert!(!open(&h, "2026-11-25T16:30:00Z"));
    }

    #[test]
    fn split_day_closed_day_and_missing_day() {
        let h = office();
        // Tuesday 2026-11-24: lunch break 12:00-13:00.
        assert!(open(&h, "2026-11-24T11:59:00-08:00"));
        assert!(!open(&h, "2026-11-24T12:00:00-08:00"));
        assert!(!open(&h, "2026-11-24T12:59:00-08:00"));
        assert!(open(&h, "2026-11-24T13:00:00-08:00"));
        // Saturday "closed", Sunday "" (as a day not given).
        assert!(!open(&h, "2026-11-28T10:00:00-08:00"));
        assert!(!open(&h, "2026-11-29T10:00:00-08:00"));
    }

    #[test]
    fn all_day_covers_the_last_minute() {
        assert_eq!(parse_day("00:00-24:00").unwrap(), vec![(0, 1440)]);
        let h = la(["00:00-24:00", "", "", "", "", "", ""], &[]);
        assert!(open(&h, "2026-11-23T00:00:00-08:00"));
        assert!(open(&h, "2026-11-23T23:59:59-08:00"));
        assert!(!open(&h, "2026-11-24T00:00:00-08:00"));
        assert!(!open(&h, "2026-11-22T23:59:59-08:00"));
    }

    #[test]
    fn holidays_are_local_dates() {
        // Christmas 2026 is a Friday; Saturday is open here so only the holiday can close it.
        let all = "00:00-24:00";
        let h = la([all, all, all, all, all, all, all], &["2026-12-25"]);
        assert!(!open(&h, "2026-12-25T17:00:00Z"));
        // 23:30 PST on the 25th is 07:30 UTC on the 26th: still the holiday.
        assert!(!open(&h, "2026-12-26T07:30:00Z"));
        // 00:30 PST on the 26th is not.
        assert!(open(&h, "2026-12-26T08:30:00Z"));
        // 16:30 PST on the 24th is 00:30 UTC on the 25th: not yet the holiday.
        assert!(open(&h, "2026-12-25T00:30:00Z"));
    }

    #[test]
    fn dst_spring_forward() {
        // Sunday 2026-03-08: 02:00 PST jumps to 03:00 PDT.
        let h = la(["", "", "", "", "", "", "09:00-17:00"], &[]);
        assert!(!open(&h, "2026-03-08T15:59:00Z")); // 08:59 PDT
        assert!(open(&h, "2026-03-08T16:00:00Z")); // 09:00 PDT (08:00 if read as PST)
        assert!(open(&h, "2026-03-08T23:59:00Z")); // 16:59 PDT
        assert!(!open(&h, "2026-03-09T00:00:00Z")); // 17:00 PDT
        // The skipped hour never opens.
        let skipped = la(["", "", "", "", "", "", "02:00-03:00"], &[]);
        assert!(!open(&skipped, "2026-03-08T09:59:00Z")); // 01:59 PST
        assert!(!open(&skipped, "2026-03-08T10:00:00Z")); // 03:00 PDT
    }

    #[test]
    fn dst_fall_back() {
        // Sunday 2026-11-01: 02:00 PDT falls back to 01:00 PST.
        let h = la(["", "", "", "", "", "", "09:00-17:00"], &[]);
        assert!(!open(&h, "2026-11-01T16:00:00Z")); // 08:00 PST (09:00 if read as PDT)
        assert!(open(&h, "2026-11-01T17:00:00Z")); // 09:00 PST
        assert!(open(&h, "2026-11-02T00:59:00Z")); // 16:59 PST
        assert!(!open(&h, "2026-11-02T01:00:00Z")); // 17:00 PST
        // The repeated hour is open both times round.
        let repeated = la(["", "", "", "", "", "", "01:00-02:00"], &[]);
        assert!(open(&repeated, "2026-11-01T08:30:00Z")); // 01:30 PDT
        assert!(open(&repeated, "2026-11-01T09:30:00Z")); // 01:30 PST
        assert!(!open(&repeated, "2026-11-01T10:00:00Z")); // 02:00 PST
    }

    #[test]
    fn parse_day_sorts_and_allows_touching() {
        assert_eq!(
            parse_day(" 13:00-17:00 ,09:00 - 12:00 ").unwrap(),
            vec![(540, 720), (780, 1020)]
        );
        assert_eq!(
            parse_day("09:00-12:00, 12:00-13:00").unwrap(),
            vec![(540, 720), (720, 780)]
        );
        assert_eq!(parse_day("Closed").unwrap(), vec![]);
        assert_eq!(parse_day("  ").unwrap(), vec![]);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let cases: [(Result<(), String>, &str); 12] = [
            (
                parse_day("9am-5pm").map(drop),
                "'9am-5pm' is not HH:MM-HH:MM",
            ),
            (
                parse_day("9:00-17:00").map(drop),
                "'9:00-17:00' is not HH:MM-HH:MM",
            ),
            (parse_day("09:00-12:00,").map(drop), "'' is not HH:MM-HH:MM"),
            (parse_day("open").map(drop), "'open' is not HH:MM-HH:MM"),
            (
                parse_time_zone("America/Nowhere").map(drop),
                "'America/Nowhere' is not an IANA time zone such as America/New_York",
            ),
            (
                parse_day("17:00-09:00").map(drop),
                "'17:00-09:00': the end is not after the start",
            ),
            (
                parse_day("09:00-09:00").map(drop),
                "'09:00-09:00': the end is not after the start",
            ),
            (
                parse_day("09:00-12:00, 11:00-13:00").map(drop),
                "'09:00-12:00, 11:00-13:00': ranges overlap",
            ),
            (
                parse_holiday("2026-02-30").map(drop),
                "'2026-02-30' is not a date YYYY-MM-DD",
            ),
            (
                parse_holiday("2026-2-3").map(drop),
                "'2026-2-3' is not a date YYYY-MM-DD",
            ),
            (parse_day("25:00-26:00").map(drop), "'25:00' is not a time"),
            (parse_day("09:00-24:30").map(drop), "'24:30' is not a time"),
        ];
        for (got, want) in cases {
            let e = got.unwrap_err();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
        assert!(
            parse_day("09:60-10:00")
                .unwrap_err()
                .contains("'09:60' is not a time")
        );
        assert!(parse_instant("tomorrow").is_err());
        assert!(parse_instant("2026-11-25 18:00").is_err());
    }

    #[test]
    fn instants_and_holidays_parse() {
        assert_eq!(parse_instant("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(
            parse_instant("2026-11-25T10:00:00-08:00"),
            parse_instant("2026-11-25T18:00:00Z")
        );
        assert_eq!(
            parse_holiday("2026-12-25"),
            Ok(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap())
        );
    }

    #[test]
    fn describe_groups_days() {
        let h = office();
        assert_eq!(h.time_zone(), "America/Los_Angeles");
        assert_eq!(
            h.describe(),
            "America/Los_Angeles: Mon 09:00-17:00, Tue 09:00-12:00 & 13:00-17:00, \
             Wed-Fri 09:00-17:00, Sat-Sun closed; 2 holidays"
        );
        let all = la(["00:00-24:00"; 7], &["2026-12-25"]);
        assert_eq!(
            all.describe(),
            "America/Los_Angeles: Mon-Sun 00:00-24:00; 1 holiday"
        );
    }

    proptest! {
        #[test]
        fn parse_day_never_panics(s in ".*") {
            let _ = parse_day(&s);
        }

        #[test]
        fn parsed_days_are_sorted_disjoint_and_in_range(
            parts in prop::collection::vec((0u16..=25, 0u16..=61, 0u16..=25, 0u16..=61), 0..4)
        ) {
            let s = parts
                .iter()
                .map(|(h1, m1, h2, m2)| format!("{h1:02}:{m1:02}-{h2:02}:{m2:02}"))
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(ranges) = parse_day(&s) {
                prop_assert_eq!(ranges.len(), parts.len());
                for &(a, b) in &ranges {
                    prop_assert!(a < b && b <= 1440, "{s:?} gave {ranges:?}");
                }
                for w in ranges.windows(2) {
                    prop_assert!(w[0].1 <= w[1].0, "{s:?} gave {ranges:?}");
                }
            }
        }
    }
}
