//! Validation problems per field, as message keys that the interface translates.

use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One problem with one field: a translation key and an optional number for it (`$n`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The Fluent message id, e.g. `err-required`.
    pub key: &'static str,
    /// A number the message mentions (a length limit, a count).
    pub n: Option<i64>,
}

/// Every problem found, by field name (dotted paths for nested fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<FieldError>>);

impl FieldErrors {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem.
    pub fn add(&mut self, field: impl Into<String>, key: &'static str) {
        self.0.entry(field.into()).or_default().push(FieldError { key, n: None });
    }

    /// Records a problem that mentions a number.
    pub fn add_n(&mut self, field: impl Into<String>, key: &'static str, n: i64) {
        self.0.entry(field.into()).or_default().push(FieldError { key, n: Some(n) });
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when empty, else the problems.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Checks a day that has come (`YYYY-MM-DD`, not after `today`); the day, or `None` with the
    /// problem recorded.
    pub fn past_day(&mut self, field: &str, value: &str, today: NaiveDate) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Err(_) => {
                self.add(field, "err-date");
                None
            }
            Ok(day) if day > today => {
                self.add(field, "err-date-future");
                None
            }
            Ok(day) => Some(day),
        }
    }

    /// Checks a required text's length (in characters) after trimming; returns the trimmed text.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let trimmed = value.trim().to_string();
        let len = trimmed.chars().count();
        if len == 0 && min > 0 {
            self.add(field, "err-required");
        } else if len < min {
            self.add_n(field, "err-too-short", min as i64);
        } else if len > max {
            self.add_n(field, "err-too-long", max as i64);
        }
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::FieldErrors;

    #[test]
    fn text_limits() {
        let mut e = FieldErrors::new();
        assert_eq!(e.text("a", "  ok  ", 1, 5), "ok");
        e.text("b", "   ", 1, 5);
        e.text("c", "toolong", 1, 5);
        e.text("d", "x", 2, 5);
        let keys: Vec<_> = e.0.iter().map(|(k, v)| (k.as_str(), v[0].key)).collect();
        assert_eq!(keys, vec![("b", "err-required"), ("c", "err-too-long"), ("d", "err-too-short")]);
    }

    #[test]
    fn a_past_day_is_a_date_not_after_today() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut e = FieldErrors::new();
        assert_eq!(e.past_day("a", "2026-12-07", today), Some(today));
        assert_eq!(e.past_day("b", "2026-12-08", today), None);
        assert_eq!(e.past_day("c", "7.12.2026", today), None);
        assert_eq!(e.past_day("d", "", today), None);
        let keys: Vec<_> = e.0.iter().map(|(k, v)| (k.as_str(), v[0].key)).collect();
        assert_eq!(keys, [("b", "err-date-future"), ("c", "err-date"), ("d", "err-date")]);
    }
}
