//! The application form as the API and the pages receive it: arbitrary JSON into the form,
//! normalised and validated for a draft and for a submit, and the derived facts. Nothing may
//! panic on any input.

#![no_main]

use helsedataservice_fuzz::domain::form::{self, ApplicationForm, Context, Mode, SourceInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(form) = serde_json::from_slice::<ApplicationForm>(data) else { return };
    let form = form.normalised();
    let sources = [
        SourceInfo { id: 1, on_common_form: true, variables: vec!["diagnose".into(), "kjonn".into()] },
        SourceInfo { id: 2, on_common_form: false, variables: vec![] },
    ];
    let kinds = ["protocol".to_string(), "rek_approval".to_string()];
    let own = ["2026/00001".to_string()];
    let ctx = Context { sources: &sources, attachment_kinds: &kinds, own_references: &own };
    let _ = form::validate(&form, Mode::Draft, &ctx);
    let _ = form::validate(&form, Mode::Submit, &ctx);
    let _ = form.source_ids();
    let _ = form.fee_exemption();
    let _ = form.is_identifiable();
    let _ = form.required_attachments();
    let again = serde_json::to_vec(&form).expect("a form serialises");
    let back: ApplicationForm = serde_json::from_slice(&again).expect("a form reads back");
    assert_eq!(back.normalised(), form, "normalising is stable");
});
