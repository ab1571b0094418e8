//! Vocabulary of the catalogue of data sources (datakilder) and variables.

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used in the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses a stored code.
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }

        impl std::fmt::Display for $name {
            /// The stable code (as stored and in translation keys such as `release-{code}`).
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// The kind of a data source.
    SourceKind {
        /// Sentralt helseregister.
        CentralHealthRegister => "central_health_register",
        /// Medisinsk kvalitetsregister.
        QualityRegister => "quality_register",
        /// Befolkningsbasert helseundersøkelse.
        HealthSurvey => "health_survey",
    }
}

code_enum! {
    /// Who decides releases from a source (vedtaksmyndighet).
    DecisionAuthority {
        /// The register owner decides.
        Owner => "owner",
        /// Helsedataservice decides.
        Hds => "hds",
    }
}

code_enum! {
    /// Whether a variable identifies a person.
    Identifying {
        /// Directly identifying (e.g. the national identity number).
        Direct => "direct",
        /// Indirectly identifying (e.g. birth year, municipality).
        Indirect => "indirect",
        /// Not identifying.
        None => "none",
    }
}

/// Checks a data source code: 2–12 upper-case ASCII letters or digits.
pub fn is_valid_source_code(code: &str) -> bool {
    (2..=12).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Checks a variable name: a lower-case letter, then up to 62 lower-case letters, digits or `_`.
pub fn is_valid_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 63
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(DecisionAuthority::from_code("hds"), Some(DecisionAuthority::Hds));
        assert_eq!(SourceKind::from_code("health_survey"), Some(SourceKind::HealthSurvey));
        assert_eq!(Identifying::from_code("maybe"), None);
        assert!(is_valid_source_code("NPR") && !is_valid_source_code("npr") && !is_valid_source_code("N"));
        assert!(is_valid_variable_name("lopenr") && !is_valid_variable_name("1x") && !is_valid_variable_name("Lop"));
    }
}
