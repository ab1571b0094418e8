//! How an invoice is paid: the due date, the payee's bank account (a Norwegian account number
//! with its MOD11 check digit) and the KID payment reference (a MOD10 check digit, as the banks'
//! OCR giro reads it), and the postal code and address checks the invoicing details share.

use chrono::{Days, NaiveDate};

/// Days from issue to the due date (the published payment terms: 30 days net).
pub const PAYMENT_DAYS: u64 = 30;

/// The due date of an invoice issued on `issued_on`.
pub fn due_date(issued_on: NaiveDate) -> NaiveDate {
    issued_on.checked_add_days(Days::new(PAYMENT_DAYS)).unwrap_or(issued_on)
}

/// The Luhn (MOD10) check digit of a string of digits.
fn mod10(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { (d * 2) / 10 + (d * 2) % 10 } else { d })
        .sum();
    (10 - sum % 10) % 10
}

/// The KID of an invoice: its id zero-padded to nine digits and a MOD10 check digit, so the
/// payment can be matched to the invoice part it pays.
pub fn kid(invoice_id: i64) -> String {
    let base = format!("{:09}", invoice_id.unsigned_abs());
    format!("{base}{}", mod10(&base))
}

/// Whether `kid` carries a valid MOD10 check digit.
pub fn valid_kid(kid: &str) -> bool {
    kid.len() >= 2
        && kid.chars().all(|c| c.is_ascii_digit())
        && mod10(&kid[..kid.len() - 1]) == kid[kid.len() - 1..].parse::<u32>().unwrap_or(99)
}

/// A Norwegian bank account number without separators: eleven digits whose last is the MOD11
/// check digit of the first ten (weights 5 4 3 2 7 6 5 4 3 2). `None` when it is not one.
pub fn account_number(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != '.').collect();
    if digits.len() != 11 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2].iter().zip(&d).map(|(w, x)| w * x).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        c => c,
    };
    (check == d[10]).then_some(digits)
}

/// An account number as people write it: `1234.56.78903`.
pub fn format_account(account: &str) -> String {
    if account.len() == 11 {
        format!("{}.{}.{}", &account[..4], &account[4..6], &account[6..])
    } else {
        account.to_string()
    }
}

/// Whether a Norwegian postal code is four digits.
pub fn valid_postal_code(code: &str) -> bool {
    code.len() == 4 && code.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_due_date_is_thirty_days_after_issue() {
        let issued = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(due_date(issued), NaiveDate::from_ymd_opt(2027, 1, 5).unwrap());
    }

    #[test]
    fn a_kid_carries_a_mod10_check_digit() {
        // The bank's own example: 1234567 gives check digit 4.
        assert_eq!(mod10("1234567"), 4);
        assert_eq!(kid(42), "0000000422");
        assert!(valid_kid(&kid(42)) && valid_kid(&kid(987_654)));
        assert!(!valid_kid("0000000421"));
        assert!(!valid_kid("12a"));
    }

    #[test]
    fn account_numbers_are_checked_with_mod11() {
        assert_eq!(account_number("7694.05.12057").as_deref(), Some("76940512057"));
        assert_eq!(account_number("1234 56 78903").as_deref(), Some("12345678903"));
        assert_eq!(account_number("12345678904"), None, "wrong check digit");
        assert_eq!(account_number("1234567890"), None, "ten digits");
        assert_eq!(format_account("76940512057"), "7694.05.12057");
    }

    #[test]
    fn postal_codes_are_four_digits() {
        assert!(valid_postal_code("0213"));
        assert!(!valid_postal_code("213") && !valid_postal_code("02130") && !valid_postal_code("O213"));
    }
}
