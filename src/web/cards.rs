//! Tables that a phone shows as cards: each row a card, each cell after the name of its column,
//! instead of a table scrolling sideways with its last columns (often the state) out of sight.
//!
//! A table says it is one with `data-cards="name"`; the names of its columns are written once,
//! at start-up, into a style sheet for each language (`/static/cards-nb.css`, linked by the
//! layout for the page's language) as `::before` content of the cells by position. Writing
//! them into every cell as `data-label` (as the release queue did first) made each inbox page
//! 9 KB larger and cost about 65 µs to render, for words a desktop never shows (issue 25).
//! A test checks each table's headings against its entry here, so the two cannot drift apart.

use crate::domain::language::Language;
use crate::i18n;
use std::fmt::Write;

/// Each table by its `data-cards` name, with the translation key of each column's heading in
/// order (`""`: a column whose cells speak for themselves, shown without a name).
pub const TABLES: &[(&str, &[&str])] = &[
    ("inbox", &["reference", "title", "state", "submitted", "due-date", "assignee"]),
    ("applications", &["reference", "title", "state", "due-date", "updated"]),
    ("release-queue", &["reference", "title", "field-source", "source-authority", "state", "waiting-days", "to-do"]),
    ("releases", &["field-source", "source-authority", "state", "letter-conditions-reasons"]),
    ("requested-sources", &["field-source", "field-variables", "print-period", "field-selection"]),
    ("case-statements", &["statement-reviewer", "statement-question", "statement-due", "state"]),
    ("case-transfers", &["transfer", "state", "transfer-expires", "transfer-files"]),
    ("estimate", &["organisation", "price-item", "quantity", "unit-price", "amount"]),
    ("invoice-lines", &["price-item", "quantity", "unit-price", "amount"]),
    ("letter", &["field-source", "letter-outcome", "letter-decided-by", "letter-conditions-reasons"]),
    ("time", &["date", "organisation", "who", "hours", "note"]),
    ("invoice-parts", &["invoice-number", "organisation", "state", "amount", "invoice-actions"]),
    ("invoices", &["invoice-number", "reference", "organisation", "state", "amount", "date"]),
    ("permits", &["reference", "project", "role-applicant", "permit-ends", "permits-days-ended", "permits-reminded"]),
    ("statements", &["reference", "project", "statement-due", "state"]),
    ("statements-officer", &["reference", "project", "statement-reviewer", "statement-due", "state"]),
    (
        "projects",
        &[
            "reference",
            "projects-project",
            "projects-institution",
            "projects-sources",
            "projects-period",
            "projects-decided",
        ],
    ),
    ("prices", &["price-item", "unit", "price-nok", "conditions"]),
    ("users", &["email", "name", "role", "organisation", "active"]),
    ("sources", &["code", "name", "source-owner", "source-authority", "source-common-form"]),
    ("organisations", &["name", "org-number"]),
    ("price-lists", &["organisation", "valid-from", "state"]),
    ("price-items", &["code", "price-item", "unit", "price-nok", "minimum-quantity", "free-for"]),
    ("variables", &["variable-name", "variable-description", "variable-identifying", ""]),
    ("audit", &["", "time", "audit-what-happened", "details", "hash"]),
    (
        "outbox",
        &[
            "",
            "time",
            "webhooks-channel",
            "admin-mail-recipient",
            "admin-mail-what",
            "admin-mail-state",
            "admin-mail-attempts",
            "admin-mail-next",
            "admin-mail-error",
            "",
        ],
    ),
    ("mail-files", &["admin-mail-file", "admin-mail-size", "time"]),
];

/// The style sheet with the column names of every such table in `lang`.
pub fn style_sheet(lang: Language) -> String {
    let mut css = String::from("@media (max-width: 40rem) {\n");
    for (table, columns) in TABLES {
        for (i, key) in columns.iter().enumerate().filter(|(_, key)| !key.is_empty()) {
            let name = css_string(&i18n::t(lang, key));
            // A row of one cell across all columns ("none yet") is a message, not a column.
            let _ = writeln!(
                css,
                "[data-cards=\"{table}\"] tbody>tr>:nth-child({}):not([colspan])::before{{content:\"{name}: \"}}",
                i + 1
            );
        }
    }
    css.push_str("}\n");
    css
}

/// The file name of `lang`'s style sheet under `/static`.
pub fn file_name(lang: Language) -> String {
    format!("cards-{}.css", lang.code())
}

/// `text` as the inside of a CSS string: quotes, backslashes and line breaks escaped.
fn css_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' | '\n' | '\r' | '<' => {
                let _ = write!(out, "\\{:x} ", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn a_heading_quote_cannot_end_the_css_string() {
        assert_eq!(css_string(r#"A "b" \ c"#), r"A \22 b\22  \5c  c");
        assert_eq!(css_string("Frist</style>"), r"Frist\3c /style>");
    }

    #[test]
    fn each_language_names_every_labelled_column() {
        for lang in Language::ALL {
            let css = style_sheet(lang);
            let labelled: usize = TABLES.iter().map(|(_, c)| c.iter().filter(|k| !k.is_empty()).count()).sum();
            assert_eq!(css.matches("::before").count(), labelled);
        }
        assert!(style_sheet(Language::Nb).contains(r#"{content:"Saksnummer: "}"#));
        assert!(
            style_sheet(Language::En).contains(
                r#"[data-cards="inbox"] tbody>tr>:nth-child(1):not([colspan])::before{content:"Reference: "}"#
            )
        );
    }

    /// The translation keys of the headings in `html`, in order (`""` for a heading without one,
    /// or with one only for screen readers: the cells below it say what they are).
    fn headings(html: &str) -> Vec<String> {
        let th = Regex::new(r#"(?s)<th\b[^>]*>(.*?)</th>"#).unwrap();
        let key = Regex::new(r#"\{\{t "([a-z0-9-]+)"\}\}"#).unwrap();
        th.captures_iter(html)
            .map(|c| match key.captures(&c[1]) {
                Some(k) if !c[1].contains("visually-hidden") => k[1].to_string(),
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn every_card_table_in_the_templates_has_the_headings_named_here() {
        let table = Regex::new(r#"(?s)<table\b[^>]*data-cards="([^"]*)"[^>]*>.*?<thead>(.*?)</thead>"#).unwrap();
        // `{{#if officer}}a{{else}}b{{/if}}`: the first table with the condition's columns, the
        // second without them.
        let choice = Regex::new(r#"^\{\{#if (\w+)\}\}([a-z-]+)\{\{else\}\}([a-z-]+)\{\{/if\}\}$"#).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for (path, text) in crate::assets::template_texts() {
            for t in table.captures_iter(&text) {
                let (name, thead) = (&t[1], &t[2]);
                let variants: Vec<(String, String)> = match choice.captures(name) {
                    Some(c) => {
                        let with = Regex::new(&format!(r"(?s)\{{\{{#if {}\}}\}}(.*?)\{{\{{/if\}}\}}", &c[1])).unwrap();
                        vec![
                            (c[2].to_string(), with.replace_all(thead, "$1").into_owned()),
                            (c[3].to_string(), with.replace_all(thead, "").into_owned()),
                        ]
                    }
                    None => vec![(name.to_string(), thead.to_string())],
                };
                for (name, thead) in variants {
                    let expected = TABLES
                        .iter()
                        .find(|(n, _)| *n == name)
                        .unwrap_or_else(|| panic!("{path}: no entry for data-cards=\"{name}\""));
                    assert_eq!(headings(&thead), expected.1, "{path}: the headings of data-cards=\"{name}\"");
                    seen.insert(name);
                }
            }
        }
        let listed: std::collections::BTreeSet<String> = TABLES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(seen, listed, "every entry is used by a template");
    }
}
