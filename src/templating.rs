//! Handlebars helpers shared by pages and documents (letters, e-mails): `t` translates,
//! `loc` picks the bokmål or English text, `concat` builds keys. And the renderer for
//! documents that are fixed when an event happens, such as the decision letter.

use crate::domain::language::Language;
use crate::error::AppError;
use crate::i18n;
use handlebars::{Context, Handlebars, Helper, RenderContext, RenderError, ScopedJson};
use serde_json::Value;

fn root_lang(ctx: &Context) -> Language {
    ctx.data().get("lang").and_then(Value::as_str).and_then(Language::from_tag).unwrap_or_default()
}

/// `{{t "key" n=3}}`: the translation of `key` in the page's language (also as a subexpression).
struct TranslateHelper;

impl handlebars::HelperDef for TranslateHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let key = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(handlebars::RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = root_lang(ctx);
        let text = if h.hash().is_empty() {
            // Formatted once: a reference, not a new string on every call.
            if let Some(text) = i18n::plain_text(lang, key) {
                return Ok(ScopedJson::Constant(text));
            }
            i18n::t(lang, key)
        } else {
            let args: Vec<(&str, i18n::Arg)> = h
                .hash()
                .iter()
                .map(|(k, v)| {
                    let value = match v.value() {
                        Value::Number(n) => i18n::Arg::from(n.as_f64().unwrap_or_default()),
                        Value::String(s) => i18n::Arg::from(s.clone()),
                        other => i18n::Arg::from(other.to_string()),
                    };
                    (*k, value)
                })
                .collect();
            i18n::t_args(lang, key, &args)
        };
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// `{{loc name_nb name_en}}`: the first in bokmål, the second in English (falls back to the first).
struct LocaliseHelper;

impl handlebars::HelperDef for LocaliseHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let idx = usize::from(root_lang(ctx).english());
        let pick = h
            .param(idx)
            .map(|p| p.value().clone())
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .or_else(|| h.param(0).map(|p| p.value().clone()));
        Ok(ScopedJson::Derived(pick.unwrap_or(Value::Null)))
    }
}

/// `{{concat "a-" b}}`: joins its parameters into one string (for translation keys).
struct ConcatHelper;

impl handlebars::HelperDef for ConcatHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let text: String = h
            .params()
            .iter()
            .map(|p| match p.value() {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// `{{num x}}`: a number as the page's language writes it (bokmål and nynorsk: a decimal
/// comma, `43,5`); whole numbers without decimals. Anything else is shown as it is.
struct NumberHelper;

impl handlebars::HelperDef for NumberHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = h.param(0).map(|p| p.value().clone()).unwrap_or(Value::Null);
        Ok(ScopedJson::Derived(match value.as_f64() {
            Some(v) => Value::String(number(root_lang(ctx), v)),
            None => value,
        }))
    }
}

/// `{{field_label "invoice_recipient.postal_code"}}`: the label of a form field as the error
/// summary names it (`field-invoice-recipient-postal-code`, else the plain key such as
/// `email`), or nothing when the field has no label of its own.
struct FieldLabelHelper;

impl handlebars::HelperDef for FieldLabelHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let lang = root_lang(ctx);
        let field = h.param(0).and_then(|p| p.value().as_str()).unwrap_or_default();
        let plain: String =
            field.split('.').filter(|p| p.parse::<usize>().is_err()).collect::<Vec<_>>().join("-").replace('_', "-");
        let label = [format!("field-{plain}"), plain]
            .into_iter()
            .find(|k| !k.is_empty() && crate::i18n::has(lang, k))
            .map(|k| crate::i18n::t(lang, &k));
        Ok(ScopedJson::Derived(label.map(Value::String).unwrap_or(Value::Null)))
    }
}

/// A number as `lang` writes it: one decimal when it has any, a decimal comma in Norwegian.
pub fn number(lang: Language, v: f64) -> String {
    let text = if (v - v.round()).abs() < 1e-9 { format!("{}", v.round() as i64) } else { format!("{v:.1}") };
    if lang.english() { text } else { text.replace('.', ",") }
}

/// Registers the helpers on an engine.
fn register_helpers(hb: &mut Handlebars<'_>) {
    hb.register_helper("t", Box::new(TranslateHelper));
    hb.register_helper("loc", Box::new(LocaliseHelper));
    hb.register_helper("concat", Box::new(ConcatHelper));
    hb.register_helper("num", Box::new(NumberHelper));
    hb.register_helper("field_label", Box::new(FieldLabelHelper));
    hb.set_strict_mode(false);
    // A partial on a line of its own would otherwise have every line of its output indented to
    // that line's indentation: text typed into a `<textarea>` gained the spaces on each save.
    hb.set_prevent_indent(true);
}

/// An engine with the helpers and the templates under `templates/<folder>` ending in `suffix`
/// (see `assets::register` for their names).
pub fn engine(folder: &str, suffix: &str) -> Result<Handlebars<'static>, String> {
    let mut hb = Handlebars::new();
    register_helpers(&mut hb);
    crate::assets::register(&mut hb, folder, suffix)?;
    Ok(hb)
}

/// The pages: every `*.html.hbs` of `templates/` compiled into the binary, named by its path
/// without the suffix (`pages/public/catalogue`, `layout`, `partials/field`).
pub struct Pages {
    hb: Handlebars<'static>,
}

impl Pages {
    /// Loads and compiles every page template once, at start-up.
    pub fn load() -> Result<Pages, String> {
        Ok(Pages { hb: engine("", ".html.hbs")? })
    }

    /// Renders page `name` with `context`, which the engine takes as it is (not copied or
    /// converted: a page's context is built once, as JSON, by its view).
    pub fn render(&self, name: &str, context: Value) -> Result<String, AppError> {
        self.hb
            .render_with_context(name, &Context::from(context))
            .map_err(|e| AppError::Internal(format!("rendering {name}: {e}")))
    }
}

/// Documents rendered to text at the moment of an event, from `templates/documents/`.
pub struct Documents {
    hb: Handlebars<'static>,
}

impl Documents {
    /// Loads every `*.hbs` of `templates/documents` compiled into the binary (named by stem).
    pub fn load() -> Result<Documents, String> {
        Ok(Documents { hb: engine("documents", ".hbs")? })
    }

    /// Renders document `name` in `lang` with `data` (which gets `lang` set).
    pub fn render(&self, name: &str, lang: Language, mut data: Value) -> Result<String, AppError> {
        if let Value::Object(m) = &mut data {
            m.insert("lang".into(), Value::String(lang.code().into()));
        }
        self.hb.render(name, &data).map_err(|e| AppError::Internal(format!("rendering {name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::language::Language;

    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { walk(&p, out) } else { out.push(p) }
        }
    }

    /// Every key written literally as `t "key"` in a template exists in bokmål and in English.
    #[test]
    fn every_literal_key_is_translated_in_both_languages() {
        let mut files = vec![];
        walk(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")), &mut files);
        let mut missing = vec![];
        let mut seen = 0;
        let root = env!("CARGO_MANIFEST_DIR");
        let catalogues: Vec<(Language, String)> =
            [(Language::Nb, "nb-NO"), (Language::Nn, "nn-NO"), (Language::En, "en-GB")]
                .into_iter()
                .map(|(l, dir)| {
                    let mut ftl = vec![];
                    walk(std::path::Path::new(&format!("{root}/locales/{dir}")), &mut ftl);
                    (l, ftl.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect::<Vec<_>>().join("\n"))
                })
                .collect();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let pieces: Vec<&str> = text.split("t \"").collect();
            for (before, part) in pieces.iter().zip(pieces.iter().skip(1)) {
                // Only the `t` helper itself (`{{t "…"` or `(t "…"`), not `concat "…"`.
                if !(before.ends_with("{{") || before.ends_with('(')) {
                    continue;
                }
                let key: String =
                    part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
                if key.is_empty() || !part[key.len()..].starts_with('"') {
                    continue;
                }
                seen += 1;
                for (lang, ftl) in &catalogues {
                    if !ftl.lines().any(|l| l.strip_prefix(key.as_str()).is_some_and(|rest| rest.starts_with(" ="))) {
                        missing.push(format!("{} {key} ({})", lang.code(), f.display()));
                    }
                }
            }
        }
        assert!(seen > 100, "the scan found the keys ({seen})");
        assert!(missing.is_empty(), "missing translations:\n{}", missing.join("\n"));
    }
}
