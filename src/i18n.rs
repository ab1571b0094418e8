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
static NN: LanguageIdentifier = langid!("nn-NO");
static EN: LanguageIdentifier = langid!("en-GB");

fn id(lang: Language) -> &'static LanguageIdentifier {
    match lang {
        Language::Nb => &NB,
        Language::Nn => &NN,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every message a user can see comes from a key: each `"err-…"` key written in the code
    /// (refusals, validation problems) has a text in both languages.
    #[test]
    fn every_error_key_in_the_code_is_translated() {
        let mut files = vec![];
        rust_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut missing = vec![];
        let mut seen = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for piece in text.split('"').skip(1).step_by(2) {
                let is_key = piece.starts_with("err-")
                    && piece.len() > 4
                    && piece.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !is_key {
                    continue;
                }
                seen += 1;
                for lang in Language::ALL {
                    // Messages that take a number (`{ $n }`) are looked up with one.
                    let args: HashMap<Cow<'static, str>, FluentValue<'static>> =
                        [(Cow::Borrowed("n"), FluentValue::from(1))].into_iter().collect();
                    if LOCALES.lookup_single_language(id(lang), piece, Some(&args)).is_err() {
                        missing.push(format!("{piece} ({lang:?}, {})", file.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "the scan found the keys ({seen})");
        assert!(missing.is_empty(), "untranslated: {missing:#?}");
    }
}
