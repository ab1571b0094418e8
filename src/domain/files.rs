//! Uploaded files: safe names and content types sniffed from the bytes (never trusted from
//! the client).

/// A file name without folders or control characters, at most 200 characters; `None` if nothing usable remains.
pub fn sanitise_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        return None;
    }
    Some(cleaned.chars().take(200).collect())
}

fn extension(name: &str) -> String {
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// The content type of a PDF or office document judged from its first bytes (and, for the
/// container formats, its extension); `None` for anything else.
pub fn sniff_document(head: &[u8], name: &str) -> Option<&'static str> {
    let ext = extension(name);
    if head.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if head.starts_with(b"PK\x03\x04") {
        return match ext.as_str() {
            "docx" => Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "xlsx" => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "pptx" => Some("application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            "odt" => Some("application/vnd.oasis.opendocument.text"),
            "ods" => Some("application/vnd.oasis.opendocument.spreadsheet"),
            _ => None,
        };
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return match ext.as_str() {
            "doc" => Some("application/msword"),
            "xls" => Some("application/vnd.ms-excel"),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(sanitise_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitise_name("C:\\Users\\x\\protokoll.pdf").as_deref(), Some("protokoll.pdf"));
        assert_eq!(sanitise_name("..").as_deref(), None);
        assert_eq!(sanitise_name("a\u{0}b\n.pdf").as_deref(), Some("ab.pdf"));
        assert_eq!(sanitise_name(&"x".repeat(300)).unwrap().len(), 200);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_document(b"%PDF-1.7 ...", "x.bin"), Some("application/pdf"));
        assert!(sniff_document(b"PK\x03\x04....", "a.docx").is_some());
        assert_eq!(sniff_document(b"PK\x03\x04....", "a.zip"), None);
        assert_eq!(sniff_document(b"<html>", "a.pdf"), None);
        assert_eq!(sniff_document(b"MZ\x90\x00", "a.pdf"), None);
    }
}
