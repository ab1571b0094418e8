//! Norwegian organisation numbers (organisasjonsnummer) with the modulus-11 check digit.

use serde::{Serialize, Serializer};
use std::fmt;

/// A nine-digit organisation number whose check digit is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganisationNumber(String);

/// Why a text is not an organisation number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationNumberError {
    /// Not exactly nine digits (spaces are allowed and ignored).
    #[error("must be nine digits")]
    Format,
    /// Nine digits whose last one is not the modulus-11 check digit.
    #[error("the check digit is wrong")]
    CheckDigit,
}

const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

impl OrganisationNumber {
    /// Parses "971 035 854" or "971035854"; refuses anything else.
    pub fn parse(input: &str) -> Result<Self, OrganisationNumberError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OrganisationNumberError::Format);
        }
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = WEIGHTS.iter().zip(&values).map(|(w, d)| w * d).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return Err(OrganisationNumberError::CheckDigit),
            c => c,
        };
        if values[8] != check {
            return Err(OrganisationNumberError::CheckDigit);
        }
        Ok(Self(digits))
    }

    /// The nine digits without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganisationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for OrganisationNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_numbers() {
        for n in ["971035854", "983744516", "983544622", "974 767 880"] {
            assert!(OrganisationNumber::parse(n).is_ok(), "{n}");
        }
        assert_eq!(OrganisationNumber::parse("974 767 880").unwrap().as_str(), "974767880");
    }

    #[test]
    fn refuses_wrong_check_digit_and_format() {
        assert_eq!(OrganisationNumber::parse("971035855"), Err(OrganisationNumberError::CheckDigit));
        assert_eq!(OrganisationNumber::parse("97103585"), Err(OrganisationNumberError::Format));
        assert_eq!(OrganisationNumber::parse("97103585x"), Err(OrganisationNumberError::Format));
        assert_eq!(OrganisationNumber::parse(""), Err(OrganisationNumberError::Format));
    }

    #[test]
    fn remainder_one_is_never_valid() {
        // 8 digits whose weighted sum is 1 mod 11 would need check digit 10.
        // 100000000: sum = 3 -> check 8; find one with sum % 11 == 1: 000000050 -> 5*4=20 -> 9, so
        // search exhaustively over a small range instead of guessing.
        let found = (0..100_000_000u32)
            .step_by(9_973)
            .map(|n| format!("{n:08}"))
            .find(|p| {
                let s: u32 = p.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
                s % 11 == 1
            })
            .expect("a prefix with remainder 1 exists");
        for last in 0..10 {
            assert!(OrganisationNumber::parse(&format!("{found}{last}")).is_err());
        }
    }
}
