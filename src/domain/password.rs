//! Password rules (minimum strength) for local accounts.

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_LENGTH`] characters.
    #[error("too short")]
    TooShort,
    /// More than [`MAX_LENGTH`] characters (bounds the hashing work).
    #[error("too long")]
    TooLong,
    /// Letters only or digits only.
    #[error("too simple")]
    TooSimple,
    /// A common or easily guessed password (a breached-password list, words, names, dates,
    /// keyboard patterns, or the person's own name or address).
    #[error("too common")]
    TooCommon,
}

/// Minimum number of characters.
pub const MIN_LENGTH: usize = 10;
/// Maximum number of characters.
pub const MAX_LENGTH: usize = 256;

/// Common Norwegian bases of passwords, which zxcvbn's English lists do not hold.
const NORWEGIAN: [&str; 14] = [
    "passord",
    "hemmelig",
    "sommer",
    "vinter",
    "høsten",
    "våren",
    "norge",
    "velkommen",
    "hallo",
    "kjærlighet",
    "fotball",
    "sjokolade",
    "elsker",
    "jegelskerdeg",
];

/// The least zxcvbn score accepted (0–4): 3 is "safely unguessable" (about 10^8 guesses or more),
/// out of reach of common-password lists and their usual variations.
pub const MIN_SCORE: u8 = 3;

/// Checks a new password: at least 10 characters, at most 256, not only letters or only digits,
/// and not common or guessable from the lists (nor from `personal`: the person's name, address).
pub fn check_for(password: &str, personal: &[&str]) -> Result<(), PasswordError> {
    check(password)?;
    // The person's own words count as known: each word of a name or an address, and the words
    // run together ("Kari Nordmann" → "kari", "nordmann", "karinordmann").
    let mut words: Vec<String> = vec![];
    for value in personal {
        let parts: Vec<String> = value
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect();
        words.push(parts.concat());
        words.extend(parts);
    }
    let mut known: Vec<&str> = NORWEGIAN.to_vec();
    known.extend(words.iter().map(String::as_str));
    if u8::from(zxcvbn::zxcvbn(password, &known).score()) < MIN_SCORE {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// The length and variety rules of [`check_for`] alone.
pub fn check(password: &str) -> Result<(), PasswordError> {
    let count = password.chars().count();
    if count < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if count > MAX_LENGTH {
        return Err(PasswordError::TooLong);
    }
    let all_letters = password.chars().all(char::is_alphabetic);
    let all_digits = password.chars().all(|c| c.is_ascii_digit());
    if all_letters || all_digits {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check("kort1"), Err(PasswordError::TooShort));
        assert_eq!(check("bareBokstaver"), Err(PasswordError::TooSimple));
        assert_eq!(check("12345678901"), Err(PasswordError::TooSimple));
        assert_eq!(check(&"a1".repeat(200)), Err(PasswordError::TooLong));
        assert_eq!(check("Helsedata-2026"), Ok(()));
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        for common in ["Password12", "password123", "Passord123!", "qwertyuiop1", "1q2w3e4r5t", "Sommer2026!"] {
            assert_eq!(check_for(common, &[]), Err(PasswordError::TooCommon), "{common}");
        }
        assert_eq!(check_for("KariNordmann1", &["Kari Nordmann", "kari@example.no"]), Err(PasswordError::TooCommon));
        for fine in [
            "Test-passord-2026",
            "Sterkt-passord-1",
            "Demo-forsker-2026",
            "Demo-fhi-2026",
            "Helsedata-2026",
            "grøt-tak-ferje-71",
        ] {
            assert_eq!(check_for(fine, &[]), Ok(()), "{fine}: {}", u8::from(zxcvbn::zxcvbn(fine, &[]).score()));
        }
    }
}
