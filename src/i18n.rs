//! Translations: Fluent files under `locales/`, compiled in, looked up by key.

use crate::domain::language::Language;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};
use std::borrow::Cow;
use std::collections::HashMap;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "nb-NO",
        // Unicode isolation marks around arguments would end up in HTML and e-mail text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static NB: LanguageIdentifier = langid!("nb-NO");
static EN: LanguageIdentifier = langid!("en-GB");

fn id(lang: Language) -> &'static LanguageIdentifier {
    match lang {
        Language::Nb => &NB,
        Language::En => &EN,
    }
}

/// The text for `key` in `lang` (the key itself when missing, so gaps show up in tests).
pub fn t(lang: Language, key: &str) -> String {
    LOCALES.try_lookup(id(lang), key).unwrap_or_else(|| key.to_string())
}

/// A value for a named argument of a message.
pub type Arg = FluentValue<'static>;

/// The text for `key` with named arguments.
pub fn t_args(lang: Language, key: &str, args: &[(&str, Arg)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue<'static>> =
        args.iter().map(|(k, v)| (Cow::Owned(k.to_string()), v.clone())).collect();
    LOCALES.try_lookup_with_args(id(lang), key, &map).unwrap_or_else(|| key.to_string())
}

/// Whether `key` exists in `lang` itself (not only through the fallback).
pub fn has(lang: Language, key: &str) -> bool {
    LOCALES.lookup_single_language::<&str>(id(lang), key, None).is_ok()
}

/// A validation problem as a sentence.
pub fn field_error(lang: Language, e: &crate::domain::fields::FieldError) -> String {
    match e.n {
        Some(n) => t_args(lang, e.key, &[("n", FluentValue::from(n))]),
        None => t(lang, e.key),
    }
}
