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
}

/// Minimum number of characters.
pub const MIN_LENGTH: usize = 10;
/// Maximum number of characters.
pub const MAX_LENGTH: usize = 256;

/// Checks a new password: at least 10 characters, at most 256, and not only letters or only digits.
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
}
