//! The interface languages: Norwegian bokmål and nynorsk (språklova: the state's self-service
//! solutions in both written standards) and English.

use serde::Serialize;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Norsk bokmål (the default).
    #[default]
    Nb,
    /// Norsk nynorsk.
    Nn,
    /// English.
    En,
}

impl Language {
    /// Every language.
    pub const ALL: [Language; 3] = [Language::Nb, Language::Nn, Language::En];

    /// The short code used in cookies, URLs and the database.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::Nn => "nn",
            Language::En => "en",
        }
    }

    /// Parses "nb", "no", "nn", "nb-NO", "en", "en-GB", … (case-insensitive).
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "nb" | "no" => Some(Language::Nb),
            "nn" => Some(Language::Nn),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    /// Whether texts kept in two versions (bokmål and English, as the catalogue's names) take
    /// the English one; nynorsk takes the Norwegian.
    pub fn english(self) -> bool {
        self == Language::En
    }

    /// Picks the first supported language from an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Language> {
        let mut tags: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        tags.sort_by(|a, b| b.0.total_cmp(&a.0));
        tags.into_iter().find_map(|(_, t)| Language::from_tag(t))
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn accept_language() {
        assert_eq!(Language::from_accept_language("en-GB,en;q=0.9,nb;q=0.8"), Some(Language::En));
        assert_eq!(Language::from_accept_language("de;q=1,nn;q=0.5"), Some(Language::Nn));
        assert_eq!(Language::from_accept_language("de;q=1,no;q=0.5"), Some(Language::Nb));
        assert_eq!(Language::from_accept_language("fr"), None);
    }
}
