//! Translations: Fluent files under `locales/`, compiled in, looked up by key.

use crate::domain::language::Language;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, langid};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::LazyLock;

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

/// The catalogues' sources once more, for their message ids (the loader keeps its bundles to
/// itself).
static SOURCES: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/locales");

/// Every message that takes no arguments, formatted once for each language at first use. A page
/// asks for a hundred or more of them, and fluent formats each afresh into a new `String`. Kept
/// as the JSON strings the templates take, so the `t` helper hands out a reference.
static PLAIN: LazyLock<[HashMap<&'static str, Value>; 3]> = LazyLock::new(|| {
    let mut ids = std::collections::BTreeSet::new();
    for file in SOURCES.dirs().flat_map(|language| language.files()) {
        ids.extend(file.contents_utf8().unwrap_or_default().lines().filter_map(message_id));
    }
    // Indexed by `lang as usize`: `Language::ALL` is in the enum's order (a test checks).
    Language::ALL.map(|lang| ids.iter().filter_map(|id| Some((*id, Value::String(lookup(lang, id, None)?)))).collect())
});

/// The id of the message a catalogue line starts (`key = …`), if it starts one.
fn message_id(line: &str) -> Option<&str> {
    let (id, _) = line.split_once(" =")?;
    let mut bytes = id.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then_some(id)
}

/// The text of `key` in `lang` (the fallback's where `lang` lacks it) as a JSON string, if the
/// message takes no arguments: formatted once.
pub fn plain_text(lang: Language, key: &str) -> Option<&'static Value> {
    PLAIN[lang as usize].get(key)
}

/// The text for `key` in `lang` (the key itself when missing, so gaps show up in tests).
pub fn t(lang: Language, key: &str) -> String {
    match plain_text(lang, key).and_then(Value::as_str) {
        Some(text) => text.to_owned(),
        None => lookup(lang, key, None).unwrap_or_else(|| key.to_string()),
    }
}

/// A value for a named argument of a message.
pub type Arg = FluentValue<'static>;

/// The text for `key` with named arguments.
pub fn t_args(lang: Language, key: &str, args: &[(&str, Arg)]) -> String {
    let map: HashMap<&str, FluentValue<'static>> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
    lookup(lang, key, Some(&map)).unwrap_or_else(|| key.to_string())
}

/// The text for `key` in `lang`, else in bokmål (the fallback), else none.
///
/// The languages are known, so each is looked up directly. `Loader::try_lookup` would
/// negotiate the requested language against the loaded ones on every call (a list of the
/// languages, likely subtags, several passes): more than the look-up itself, and a page makes
/// a hundred or more of them (issue 25).
fn lookup(lang: Language, key: &str, args: Option<&HashMap<&str, FluentValue<'static>>>) -> Option<String> {
    LOCALES
        .lookup_single_language(id(lang), key, args)
        .ok()
        .or_else(|| (lang != Language::Nb).then(|| LOCALES.lookup_single_language(&NB, key, args).ok()).flatten())
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
    use fluent_templates::Loader;
    use std::borrow::Cow;

    /// The direct look-up gives what the loader's negotiating look-up gives, for every message
    /// of every catalogue in every language, with and without an argument, and for a missing key.
    /// (Today every catalogue holds every message, so the fall-back to bokmål is not reached.)
    #[test]
    fn the_direct_lookup_matches_the_loaders() {
        let mut keys = std::collections::BTreeSet::new();
        for dir in ["nb-NO", "nn-NO", "en-GB"] {
            let mut ftl = vec![];
            files_ending(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(dir), "ftl", &mut ftl);
            for text in ftl.iter().map(|p| std::fs::read_to_string(p).unwrap()) {
                keys.extend(text.lines().filter_map(message_id).map(str::to_string));
            }
        }
        keys.insert("no-such-message".into());
        assert!(keys.len() > 500, "the scan found the messages ({})", keys.len());
        let with_n: HashMap<Cow<'static, str>, FluentValue<'static>> =
            [(Cow::Borrowed("n"), FluentValue::from(3))].into_iter().collect();
        for lang in Language::ALL {
            for key in &keys {
                let loader = LOCALES.try_lookup(id(lang), key).unwrap_or_else(|| key.clone());
                assert_eq!(t(lang, key), loader, "{key} in {lang:?}");
                let loader = LOCALES.try_lookup_with_args(id(lang), key, &with_n).unwrap_or_else(|| key.clone());
                assert_eq!(t_args(lang, key, &[("n", FluentValue::from(3))]), loader, "{key} with n in {lang:?}");
            }
        }
    }

    /// The texts formatted once are the messages without arguments, in the right language: as
    /// many as the catalogue has, each what fluent gives, and none of the messages that need an
    /// argument (those are formatted on each call, with it).
    #[test]
    fn the_plain_texts_are_the_messages_without_arguments() {
        for (i, lang) in Language::ALL.into_iter().enumerate() {
            assert_eq!(i, lang as usize, "the slots follow Language::ALL");
            let plain: HashMap<&str, &str> =
                PLAIN[lang as usize].iter().map(|(k, v)| (*k, v.as_str().unwrap_or_default())).collect();
            assert!(plain.len() > 1000, "{lang:?}: {}", plain.len());
            for (key, text) in &plain {
                assert_eq!(
                    LOCALES.lookup_single_language::<&str>(id(lang), key, None).ok().as_deref(),
                    Some(*text),
                    "{key}"
                );
            }
            assert!(!plain.contains_key("cases-count"), "takes $n");
            assert!(plain.contains_key("inbox"));
        }
        assert_eq!(t(Language::En, "inbox"), "Inbox");
        assert_eq!(t(Language::Nb, "inbox"), "Innboks");
        assert_eq!(t_args(Language::En, "cases-count", &[("n", FluentValue::from(2))]), "2 cases");
        // No source chosen yet reads as words, not "0 datakilder".
        let fee = |lang, n: u32| t_args(lang, "estimate-text", &[("n", FluentValue::from(n))]);
        assert!(fee(Language::Nb, 0).contains("ingen datakilder ennå"), "{}", fee(Language::Nb, 0));
        assert!(fee(Language::Nb, 1).contains("én datakilde") && fee(Language::En, 0).contains("no data sources yet"));
    }

    /// Every file under `dir` whose name ends in `.{ext}`.
    fn files_ending(dir: &std::path::Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_ending(&path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }

    /// Every message a user can see comes from a key: each `"err-…"` key written in the code
    /// (refusals, validation problems) has a text in both languages.
    #[test]
    fn every_error_key_in_the_code_is_translated() {
        let mut files = vec![];
        files_ending(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "rs", &mut files);
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
