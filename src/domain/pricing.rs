//! Prices in integer øre (never floating point). The intake fee for now; the price-list issue
//! brings versioned lists, hourly work and invoices.

/// Intake fee for an application to one data source (NOK 1 500, from 2023-01-01).
pub const INTAKE_ONE_SOURCE_ORE: i64 = 150_000;
/// Intake fee for an application to several data sources (NOK 3 000).
pub const INTAKE_SEVERAL_SOURCES_ORE: i64 = 300_000;

/// The intake fee for an application with `sources` data sources, or 0 when exempt.
pub fn intake_fee_ore(sources: usize, exempt: bool) -> i64 {
    match (exempt, sources) {
        (true, _) | (false, 0) => 0,
        (false, 1) => INTAKE_ONE_SOURCE_ORE,
        (false, _) => INTAKE_SEVERAL_SOURCES_ORE,
    }
}

/// Formats øre as Norwegian kroner, e.g. "1 500,00".
pub fn format_nok(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let ore = ore.unsigned_abs();
    let kroner = (ore / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in kroner.chars().enumerate() {
        if i > 0 && (kroner.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}", ore % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake() {
        assert_eq!(intake_fee_ore(1, false), 150_000);
        assert_eq!(intake_fee_ore(4, false), 300_000);
        assert_eq!(intake_fee_ore(4, true), 0);
        assert_eq!(format_nok(150_000), "1\u{a0}500,00");
        assert_eq!(format_nok(123_456_789), "1\u{a0}234\u{a0}567,89");
        assert_eq!(format_nok(5), "0,05");
    }
}
