//! The application form page's own parser (`src/web/pages/form_fields.rs`): any URL-encoded
//! body (up to the `form` limit, 64 KiB) into the form's JSON, then the form model and both
//! validations, as `POST /applications/<id>/edit` runs them. Nothing may panic or overflow a
//! worker's stack.

#![no_main]

use helsedataservice_fuzz::domain::form::{self, ApplicationForm, Context, Mode, SourceInfo};
use helsedataservice_fuzz::{form_fields, on_worker_stack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The page reads the body as UTF-8 text; anything else is refused before parsing.
    let Ok(body) = std::str::from_utf8(data) else { return };
    let body = body.to_string();
    on_worker_stack(move || {
        let value = form_fields::to_json(&body);
        let _ = form_fields::field(&body, "version");
        let _ = form_fields::field(&body, "action");
        let Ok(form) = serde_json::from_value::<ApplicationForm>(value) else { return };
        let form = form.normalised();
        let sources = [SourceInfo { id: 3, on_common_form: true, variables: vec!["lopenr".into(), "kjonn".into()] }];
        let kinds = ["protocol".to_string()];
        let ctx = Context { sources: &sources, attachment_kinds: &kinds, own_references: &[] };
        let _ = form::validate(&form, Mode::Draft, &ctx);
        let _ = form::validate(&form, Mode::Submit, &ctx);
    });
});
