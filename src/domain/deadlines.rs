//! Due dates in working days, skipping weekends and Norwegian public holidays, and the appeal
//! deadline as forvaltningsloven §§ 29–30 count it with domstolloven §§ 148–149.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

/// Easter Sunday of `year` (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("a valid Easter date")
}

/// Whether `date` is a Norwegian public holiday (helligdag or 1 and 17 May).
pub fn is_public_holiday(date: NaiveDate) -> bool {
    let (m, d) = (date.month(), date.day());
    if matches!((m, d), (1, 1) | (5, 1) | (5, 17) | (12, 25) | (12, 26)) {
        return true;
    }
    let easter = easter_sunday(date.year());
    let offset = (date - easter).num_days();
    // Maundy Thursday, Good Friday, Easter Sunday and Monday, Ascension, Whit Sunday and Monday.
    matches!(offset, -3 | -2 | 0 | 1 | 39 | 49 | 50)
}

/// Whether `date` is a working day.
pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_public_holiday(date)
}

/// The date `n` working days after `start` (the start day itself does not count).
pub fn add_working_days(start: NaiveDate, n: u32) -> NaiveDate {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date = date + Days::new(1);
        if is_working_day(date) {
            left -= 1;
        }
    }
    date
}

/// The working days after `start` up to and including `end` (none when `end` is not after
/// `start`): the `n` for which [`add_working_days`]`(start, n)` is `end`, when `end` is a
/// working day.
pub fn working_days_between(start: NaiveDate, end: NaiveDate) -> u32 {
    start.iter_days().skip(1).take_while(|d| *d <= end).filter(|d| is_working_day(*d)).count() as u32
}

/// The due date of an appeal that came in on `appealed_on`. The law sets none (forvaltningsloven
/// § 33: without undue delay; an interim reply after a month); the service gives the appeal the
/// time the case itself was given, the working days from its last submission to its due date,
/// counted again from the appeal. Before, an appeal kept the case's old due date and was
/// overdue from its first day.
pub fn appeal_due_date(
    submitted_on: NaiveDate,
    due_date: Option<NaiveDate>,
    appealed_on: NaiveDate,
) -> Option<NaiveDate> {
    due_date.map(|due| add_working_days(appealed_on, working_days_between(submitted_on, due)))
}

/// The calendar date in Norway (Europe/Oslo) at `at`: deadlines end at the end of a Norwegian day.
pub fn oslo_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::Oslo).date_naive()
}

/// The time in Norway (Europe/Oslo) at `at`, as pages and documents show it to the minute
/// (`%d.%m.%Y %H:%M`; `seconds`: with the seconds). Times are stored in UTC; shown in UTC they
/// were an hour (two in summer) off for everyone using the service.
pub fn oslo_time(at: DateTime<Utc>, seconds: bool) -> String {
    at.with_timezone(&chrono_tz::Europe::Oslo)
        .format(if seconds { "%d.%m.%Y %H:%M:%S" } else { "%d.%m.%Y %H:%M" })
        .to_string()
}

/// The date in Norway at `at`, as pages and documents show it (`%d.%m.%Y`).
pub fn oslo_day(at: DateTime<Utc>) -> String {
    oslo_date(at).format("%d.%m.%Y").to_string()
}

/// `date` itself when it is a working day, else the next working day (domstolloven § 149: a
/// deadline whose last day is a Saturday, Sunday or public holiday runs to the next working day).
pub fn next_working_day(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    while !is_working_day(day) {
        day = day + Days::new(1);
    }
    day
}

/// The weeks an appeal may be lodged in (forvaltningsloven § 29).
pub const APPEAL_WEEKS: u64 = 3;

/// The last day to appeal a decision made available to the applicant on `made_available` (an
/// Oslo date): three weeks counted in days end on the same weekday (domstolloven § 148), moved
/// to the next working day when that is a weekend or public holiday (§ 149). The deadline ends
/// at the end of that day.
pub fn appeal_deadline(made_available: NaiveDate) -> NaiveDate {
    next_working_day(made_available + Days::new(7 * APPEAL_WEEKS))
}

/// Whether something done at `at` is in time for a deadline whose last day is `deadline`.
pub fn in_time(deadline: NaiveDate, at: DateTime<Utc>) -> bool {
    oslo_date(at) <= deadline
}

/// Working days allowed for a case: statistics 30 for one source and 60 for several;
/// person-identifiable data the configured target.
pub fn allowed_working_days(aggregated: bool, sources: usize, identifiable_target: u32) -> u32 {
    match (aggregated, sources) {
        (true, 0 | 1) => 30,
        (true, _) => 60,
        (false, _) => identifiable_target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn an_appeal_is_given_the_time_the_case_was_given() {
        // 30 working days from Friday 4 December 2026: over Christmas and New Year.
        let due = add_working_days(d(2026, 12, 4), 30);
        assert_eq!(working_days_between(d(2026, 12, 4), due), 30);
        assert_eq!(working_days_between(due, d(2026, 12, 4)), 0, "not after the start");
        // Appealed on 1 March 2027: 30 working days from then, not the old date.
        let appealed = d(2027, 3, 1);
        assert_eq!(appeal_due_date(d(2026, 12, 4), Some(due), appealed), Some(add_working_days(appealed, 30)));
        assert_eq!(appeal_due_date(d(2026, 12, 4), None, appealed), None);
    }

    #[test]
    fn easter() {
        assert_eq!(easter_sunday(2024), d(2024, 3, 31));
        assert_eq!(easter_sunday(2026), d(2026, 4, 5));
        assert_eq!(easter_sunday(2027), d(2027, 3, 28));
    }

    #[test]
    fn holidays() {
        for h in [
            d(2026, 4, 2),
            d(2026, 4, 3),
            d(2026, 4, 6),
            d(2026, 5, 14),
            d(2026, 5, 25),
            d(2026, 5, 17),
            d(2026, 12, 26),
        ] {
            assert!(is_public_holiday(h), "{h}");
        }
        assert!(!is_public_holiday(d(2026, 4, 7)));
    }

    /// Times and days are shown as in Norway: an hour ahead of UTC in winter, two in summer,
    /// and the date changes at Norwegian midnight.
    #[test]
    fn times_and_days_are_shown_in_norwegian_time() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(oslo_time(at("2026-12-07T21:36:05Z"), false), "07.12.2026 22:36");
        assert_eq!(oslo_time(at("2026-07-01T21:36:05Z"), true), "01.07.2026 23:36:05");
        assert_eq!(oslo_day(at("2026-12-07T23:30:00Z")), "08.12.2026", "after Norwegian midnight");
        assert_eq!(oslo_day(at("2026-12-07T22:59:00Z")), "07.12.2026");
    }

    /// (decision made available, last day to appeal): three weeks to the same weekday, moved past
    /// weekends and holidays.
    #[test]
    fn appeal_deadlines_as_the_law_counts_them() {
        for (made_available, last_day) in [
            // An ordinary Monday: three weeks later, a Monday.
            (d(2026, 3, 2), d(2026, 3, 23)),
            // Easter 2026: 12 March + 21 = Thursday 2 April (Maundy Thursday), Good Friday,
            // the weekend and Easter Monday follow: Tuesday 7 April.
            (d(2026, 3, 12), d(2026, 4, 7)),
            // Ends on Saturday 28 March 2026: Monday 30 March.
            (d(2026, 3, 7), d(2026, 3, 30)),
            // 17 May 2027 is a Monday: Tuesday 18 May.
            (d(2027, 4, 26), d(2027, 5, 18)),
            // 1 May 2026 is a Friday: Monday 4 May.
            (d(2026, 4, 10), d(2026, 5, 4)),
            // Christmas 2026: Friday 25 and Saturday 26 December, Sunday 27: Monday 28.
            (d(2026, 12, 4), d(2026, 12, 28)),
            // Across the year end: 11 December 2026 + 21 = Friday 1 January 2027 (holiday):
            // Monday 4 January.
            (d(2026, 12, 11), d(2027, 1, 4)),
            // Christmas Eve and New Year's Eve are working days by law.
            (d(2026, 12, 3), d(2026, 12, 24)),
            (d(2026, 12, 10), d(2026, 12, 31)),
            // Ascension Day 2026 (Thursday 14 May) and Whit Monday (25 May).
            (d(2026, 4, 23), d(2026, 5, 15)),
            (d(2026, 5, 4), d(2026, 5, 26)),
            // A leap year: 8 February 2028 + 21 = Tuesday 29 February.
            (d(2028, 2, 8), d(2028, 2, 29)),
        ] {
            assert_eq!(appeal_deadline(made_available), last_day, "made available {made_available}");
        }
    }

    #[test]
    fn a_deadline_ends_at_the_end_of_the_norwegian_day() {
        let last = d(2026, 3, 23);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 15:00 on the last day is in time (the bug the issue names).
        assert!(in_time(last, at("2026-03-23T15:00:00+01:00")));
        // 23:59 Oslo time is 22:59 UTC (winter): still in time.
        assert!(in_time(last, at("2026-03-23T22:59:59Z")));
        // Midnight in Oslo is 23:00 UTC the day before: too late.
        assert!(!in_time(last, at("2026-03-23T23:00:00Z")));
        // In summer Oslo is two hours ahead.
        assert!(in_time(d(2026, 6, 30), at("2026-06-30T21:59:59Z")));
        assert!(!in_time(d(2026, 6, 30), at("2026-06-30T22:00:00Z")));
        // A decision at 00:30 on 2 March in Oslo is made on 2 March, though UTC still says 1 March.
        assert_eq!(oslo_date(at("2026-03-01T23:30:00Z")), d(2026, 3, 2));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // Friday 27 March 2026 + 5 working days: Mon 30, Tue 31, Wed 1 Apr, (Thu 2, Fri 3 holidays,
        // weekend, Mon 6 holiday) Tue 7, Wed 8.
        assert_eq!(add_working_days(d(2026, 3, 27), 5), d(2026, 4, 8));
        assert_eq!(add_working_days(d(2026, 11, 23), 30), d(2027, 1, 6));
        assert_eq!(allowed_working_days(true, 1, 90), 30);
        assert_eq!(allowed_working_days(true, 3, 90), 60);
        assert_eq!(allowed_working_days(false, 3, 90), 90);
    }
}
