//! Case references: `HDS-<year>-<5 digits>`.

/// Formats the `number`th reference of `year`.
pub fn format(year: i32, number: i32) -> String {
    format!("HDS-{year:04}-{number:05}")
}

/// Whether `text` has the shape of a case reference.
pub fn is_reference(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 14
        && text.starts_with("HDS-")
        && b[4..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'-'
        && b[9..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shape() {
        assert_eq!(super::format(2026, 42), "HDS-2026-00042");
        assert!(super::is_reference("HDS-2026-00042"));
        assert!(!super::is_reference("HDS-2026-0042"));
        assert!(!super::is_reference("hds-2026-00042"));
    }
}
