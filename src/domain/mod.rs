//! Pure domain types and rules: no Rocket, no Diesel, no I/O, no clock.

pub mod access;
pub mod appeal;
pub mod case;
pub mod catalogue;
pub mod deadlines;
pub mod ehf;
pub mod email;
pub mod federation;
pub mod fields;
pub mod files;
pub mod form;
pub mod interim;
pub mod language;
pub mod net;
pub mod notice;
pub mod org_number;
pub mod outbox;
pub mod password;
pub mod payment;
pub mod permit;
pub mod pricing;
pub mod reference;
pub mod release;
pub mod role;
pub mod text;
pub mod transfer;
