//! Every text parser of the domain on arbitrary input: none may panic, and what they accept
//! must be well-formed (checked where the rule is simple to state).

#![no_main]

use helsedataservice_fuzz::domain::{email, files, org_number, password, pricing, reference, transfer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = files::sniff_document(data, "x.pdf");
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(n) = org_number::OrganisationNumber::parse(text) {
        assert_eq!(n.as_str().len(), 9);
        assert!(n.as_str().bytes().all(|b| b.is_ascii_digit()));
    }
    if let Some(e) = email::EmailAddress::parse(text) {
        assert!(e.as_str().len() <= 254 && e.as_str().contains('@'));
        assert_eq!(e.as_str(), e.as_str().trim());
    }
    let _ = reference::is_reference(text);
    if let Some(name) = files::sanitise_name(text) {
        assert!(!name.contains('/') && !name.chars().any(char::is_control));
        assert!(name.chars().count() <= 200);
    }
    if let Some(sum) = transfer::parse_checksum(text) {
        assert_eq!(sum.len(), 64);
    }
    let _ = password::check(text);
    if let Some(minutes) = pricing::parse_duration(text) {
        let _ = pricing::started_hours(minutes);
    }
    if let Some(ore) = pricing::parse_nok(text) {
        let _ = pricing::format_nok(ore);
        let _ = pricing::vat_ore(ore, 2500);
    }
    if let Some(bp) = pricing::parse_vat_rate(text) {
        assert!(bp <= 10_000);
    }
    let _ = pricing::Unit::from_code(text);
    let _ = transfer::TransferState::from_code(text);
});
