//! Lists in pages: which rows a page holds and how many pages there are; and the slices of a
//! list that the API hands out (a limit and a cursor).

use super::fields::FieldErrors;

/// Rows on a page of a list: the officers' inbox, the lists of applications.
pub const PAGE_SIZE: i64 = 50;

/// Most rows one slice of an API list may ask for (`limit`).
pub const MAX_LIMIT: i64 = 1000;

/// A page of a list: its number (from 1) and the rows it skips and holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub offset: i64,
    pub size: i64,
}

impl Page {
    /// Page `number` (1 when absent or below 1) of `size` rows.
    pub fn new(number: Option<i64>, size: i64) -> Page {
        let number = number.unwrap_or(1).max(1);
        Page { number, offset: (number - 1).saturating_mul(size), size }
    }

    /// How many pages `total` rows fill (at least one, empty as it may be).
    pub fn count(total: i64, size: i64) -> i64 {
        ((total + size - 1) / size).max(1)
    }

    /// The pages either side of this one a pager links to: the previous one unless this is the
    /// first, the next one when `more` rows follow.
    pub fn neighbours(&self, more: bool) -> (Option<i64>, Option<i64>) {
        ((self.number > 1).then(|| self.number - 1), more.then(|| self.number + 1))
    }
}

/// A slice of a list that is ordered by id, newest first, as the API asks for it: at most
/// `limit` rows, those with ids below `before`. Unlike a page number, the cursor costs the same
/// at any depth and neither skips nor repeats a row when new ones arrive meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// How many rows; `None`: all of them.
    pub limit: Option<i64>,
    /// Only the rows with ids below this one (the last id of the slice before).
    pub before: Option<i64>,
}

impl Slice {
    /// The whole list.
    pub const ALL: Slice = Slice { limit: None, before: None };

    /// The slice the query parameters `limit` (1 to [`MAX_LIMIT`]) and `before` (an id) ask
    /// for, or the problems with them by parameter name.
    pub fn parse(limit: Option<&str>, before: Option<&str>) -> Result<Slice, FieldErrors> {
        let mut errors = FieldErrors::new();
        let limit = limit.and_then(|text| match text.trim().parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
            _ => {
                errors.add_n("limit", "err-limit", MAX_LIMIT);
                None
            }
        });
        let before = before.and_then(|text| match text.trim().parse::<i64>() {
            Ok(id) if id >= 1 => Some(id),
            _ => {
                errors.add("before", "err-cursor");
                None
            }
        });
        errors.into_result().map(|()| Slice { limit, before })
    }

    /// The `(offset, rows, below)` to read: one row beyond the limit tells whether more follow.
    pub fn window(&self) -> (i64, i64, Option<i64>) {
        (0, self.limit.map_or(i64::MAX, |n| n + 1), self.before)
    }

    /// Cuts `rows` (read through [`Slice::window`], newest first) to the slice and returns the
    /// cursor of the next slice: the last id kept, when more rows follow.
    pub fn cut<T>(&self, rows: &mut Vec<T>, id: impl Fn(&T) -> i64) -> Option<i64> {
        let limit = usize::try_from(self.limit?).ok()?;
        if rows.len() <= limit {
            return None;
        }
        rows.truncate(limit);
        rows.last().map(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_slice_takes_a_limit_and_a_cursor() {
        assert_eq!(Slice::parse(None, None), Ok(Slice::ALL));
        assert_eq!(Slice::parse(Some("100"), Some("42")), Ok(Slice { limit: Some(100), before: Some(42) }));
        assert_eq!(Slice::parse(Some("1"), None).unwrap().limit, Some(1));
        assert_eq!(Slice::parse(Some("1000"), None).unwrap().limit, Some(MAX_LIMIT));
        for bad in ["0", "-5", "1001", "ti", "", "1.5"] {
            let errors = Slice::parse(Some(bad), None).unwrap_err();
            assert_eq!(errors.0.keys().collect::<Vec<_>>(), ["limit"], "{bad}");
            assert_eq!(errors.0["limit"][0].n, Some(MAX_LIMIT));
        }
        for bad in ["0", "-1", "abc", "9223372036854775808"] {
            let errors = Slice::parse(None, Some(bad)).unwrap_err();
            assert_eq!(errors.0.keys().collect::<Vec<_>>(), ["before"], "{bad}");
        }
        assert_eq!(Slice::parse(Some("x"), Some("y")).unwrap_err().0.len(), 2, "both named at once");
    }

    #[test]
    fn a_slice_reads_one_row_more_and_cuts_to_its_limit() {
        assert_eq!(Slice::ALL.window(), (0, i64::MAX, None));
        let slice = Slice { limit: Some(3), before: Some(10) };
        assert_eq!(slice.window(), (0, 4, Some(10)));
        let mut rows = vec![9, 8, 7, 6];
        assert_eq!(slice.cut(&mut rows, |r| *r), Some(7), "more follow: the next slice starts below 7");
        assert_eq!(rows, [9, 8, 7]);
        let mut rows = vec![9, 8, 7];
        assert_eq!(slice.cut(&mut rows, |r| *r), None, "the last slice");
        assert_eq!(rows, [9, 8, 7]);
        let mut rows = vec![5, 4, 3, 2, 1];
        assert_eq!(Slice::ALL.cut(&mut rows, |r| *r), None, "no limit: every row, no next slice");
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn pages_hold_their_rows() {
        assert_eq!(Page::new(None, 50), Page { number: 1, offset: 0, size: 50 });
        assert_eq!(Page::new(Some(3), 50).offset, 100);
        assert_eq!(Page::new(Some(-2), 50).number, 1, "no page before the first");
        assert_eq!(Page::count(0, 50), 1);
        assert_eq!((Page::count(50, 50), Page::count(51, 50), Page::count(120, 50)), (1, 2, 3));
    }

    #[test]
    fn a_pager_links_to_the_pages_either_side() {
        assert_eq!(Page::new(None, 50).neighbours(true), (None, Some(2)));
        assert_eq!(Page::new(Some(3), 50).neighbours(true), (Some(2), Some(4)));
        assert_eq!(Page::new(Some(3), 50).neighbours(false), (Some(2), None));
        assert_eq!(Page::new(None, 50).neighbours(false), (None, None));
    }
}
