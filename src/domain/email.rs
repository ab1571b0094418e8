//! E-mail addresses, normalised so that uniqueness is case-insensitive.

use std::fmt;

/// A syntactically plausible e-mail address, trimmed and in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Trims, lower-cases and checks the address with `validator`'s HTML5 rule.
    pub fn parse(input: &str) -> Option<Self> {
        let normalised = input.trim().to_lowercase();
        if normalised.len() > 254 || !validator::ValidateEmail::validate_email(&normalised) {
            return None;
        }
        Some(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(EmailAddress::parse("  Kari.Nordmann@Example.NO ").unwrap().as_str(), "kari.nordmann@example.no");
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["", "kari", "kari@", "@example.no", "kari nordmann@example.no"] {
            assert!(EmailAddress::parse(bad).is_none(), "{bad}");
        }
    }
}
