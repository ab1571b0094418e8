//! Due dates in working days, skipping weekends and Norwegian public holidays.

use chrono::{Datelike, Days, NaiveDate, Weekday};

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
