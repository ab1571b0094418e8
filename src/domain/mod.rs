//! Pure domain types and rules: no Rocket, no Diesel, no I/O, no clock.

pub mod catalogue;
pub mod email;
pub mod fields;
pub mod language;
pub mod org_number;
pub mod password;
pub mod role;
