//! Text as it leaves the service (XML documents, CSV files, mail headers): characters that XML 1.0
//! forbids, and control characters a header or a spreadsheet would misread, are dropped.

use std::borrow::Cow;

/// Whether XML 1.0 allows `c` in a document (`#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
/// [#x10000-#x10FFFF]`).
pub fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `text` without the characters XML 1.0 forbids (borrowed when there are none).
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    if text.chars().all(xml_allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|c| xml_allowed(*c)).collect())
    }
}

/// `text` on one line without control characters (a mail header, a CSV cell): line breaks and
/// tabs become spaces, other control characters are dropped.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_are_dropped() {
        assert_eq!(xml_safe("Universitetet i Oslo"), "Universitetet i Oslo");
        assert!(matches!(xml_safe("Oslo"), Cow::Borrowed(_)));
        assert_eq!(xml_safe("a\u{1}b\u{b}c\u{fffe}d\te\nf"), "abcd\te\nf");
        assert_eq!(one_line("Emne\r\nBcc: x@y\u{7}"), "Emne  Bcc: x@y");
        assert_eq!(one_line("ø\u{85}å"), "øå");
    }
}
