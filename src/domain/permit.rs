//! Permits that end: a granted application's permit (tillatelse) runs to the project's end
//! date; an approved extension (a case of type `extension` naming the approved one) moves it
//! later; thirty days before the end the applicant is asked to confirm deletion; a permit whose
//! end has passed without a confirmed deletion is on the officers' overview.

use super::case::State;
use chrono::NaiveDate;

/// Whether the permit of a case has ended (its last day is before `today`).
pub fn ended(ends_on: NaiveDate, today: NaiveDate) -> bool {
    ends_on < today
}

/// Whether a case belongs on the officers' overview: its permit has ended and its data are not
/// confirmed deleted.
pub fn ended_without_deletion(ends_on: Option<NaiveDate>, deletion_confirmed: bool, today: NaiveDate) -> bool {
    ends_on.is_some_and(|end| ended(end, today)) && !deletion_confirmed
}

/// The permit's new last day when an extension ending on `requested` is granted for a permit
/// ending on `current`: only later, never earlier (`None`: nothing moves).
pub fn extended(current: NaiveDate, requested: NaiveDate) -> Option<NaiveDate> {
    (requested > current).then_some(requested)
}

/// Whether the applicant may ask for an extension of a case: it holds a permit whose data are
/// not confirmed deleted.
pub fn may_extend(state: State, ends_on: Option<NaiveDate>, deletion_confirmed: bool) -> bool {
    state.released_data() && ends_on.is_some() && !deletion_confirmed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_permit_ends_after_its_last_day() {
        assert!(!ended(day(2026, 12, 6), day(2026, 12, 6)), "the last day is still inside");
        assert!(ended(day(2026, 12, 5), day(2026, 12, 6)));
        assert!(ended_without_deletion(Some(day(2026, 1, 1)), false, day(2026, 12, 6)));
        assert!(!ended_without_deletion(Some(day(2026, 1, 1)), true, day(2026, 12, 6)), "deleted");
        assert!(!ended_without_deletion(None, false, day(2026, 12, 6)), "no permit");
    }

    #[test]
    fn an_extension_only_moves_the_end_later() {
        assert_eq!(extended(day(2027, 12, 31), day(2029, 6, 30)), Some(day(2029, 6, 30)));
        assert_eq!(extended(day(2027, 12, 31), day(2027, 12, 31)), None);
        assert_eq!(extended(day(2027, 12, 31), day(2026, 1, 1)), None);
        assert!(may_extend(State::Delivered, Some(day(2027, 1, 1)), false));
        assert!(!may_extend(State::Delivered, Some(day(2027, 1, 1)), true), "deleted");
        assert!(!may_extend(State::Rejected, None, false));
    }
}
