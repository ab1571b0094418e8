//! Lists in pages: which rows a page holds and how many pages there are.

/// Rows on a page of a list: the officers' inbox, the lists of applications.
pub const PAGE_SIZE: i64 = 50;

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

#[cfg(test)]
mod tests {
    use super::*;

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
