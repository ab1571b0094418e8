//! The files the service serves and renders (page, mail and document templates; the style sheet
//! and images) are compiled into the binary, so an installed binary needs nothing beside it and
//! runs from any working folder. Templates are registered on their engines straight from the
//! binary; the static files are served by Rocket's `FileServer`, which reads a folder, so they
//! are written to a private temporary folder at start-up (removed when the service stops).
//! Translations (`fluent-templates`) and migrations (`diesel_migrations`) are compiled in by
//! their own crates.

use handlebars::Handlebars;
use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static STATIC: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/static");

/// The embedded static files written out for the file server; removed when dropped.
pub struct Assets {
    _dir: tempfile::TempDir,
    pub static_files: PathBuf,
}

impl Assets {
    /// Writes the embedded static files to a fresh private folder.
    pub fn extract() -> Result<Assets, String> {
        let dir = tempfile::Builder::new()
            .prefix("helsedataservice-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the static files: {e}"))?;
        let static_files = dir.path().join("static");
        std::fs::create_dir_all(&static_files).map_err(|e| format!("{}: {e}", static_files.display()))?;
        STATIC.extract(&static_files).map_err(|e| format!("writing {}: {e}", static_files.display()))?;
        for lang in crate::domain::language::Language::ALL {
            let path = static_files.join(crate::web::cards::file_name(lang));
            std::fs::write(&path, crate::web::cards::style_sheet(lang))
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        Ok(Assets { _dir: dir, static_files })
    }
}

/// A short fingerprint of the static files this binary serves: the embedded ones and the phone
/// cards' style sheets written at start-up. Every page links them with it
/// (`/static/app.css?v=…`), so after an upgrade a browser fetches the new ones at once instead
/// of keeping the old style sheet for up to an hour beside the new pages; a URL with the
/// current fingerprint never changes and may be kept for a year (`web::security`).
pub fn fingerprint() -> &'static str {
    static FINGERPRINT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        let mut files = vec![];
        walk(&STATIC, &mut files);
        files.sort_by_key(|f| f.path());
        let mut hash = Sha256::new();
        for f in files {
            hash.update(f.path().to_string_lossy().as_bytes());
            hash.update([0]);
            hash.update(f.contents());
            hash.update([0]);
        }
        for lang in crate::domain::language::Language::ALL {
            hash.update(crate::web::cards::style_sheet(lang).as_bytes());
            hash.update([0]);
        }
        hex::encode(&hash.finalize()[..6])
    });
    &FINGERPRINT
}

/// Every file in `dir` and below.
fn walk<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    out.extend(dir.files());
    for d in dir.dirs() {
        walk(d, out);
    }
}

/// Every embedded template as its path and text, for checks across the templates.
#[cfg(test)]
pub fn template_texts() -> Vec<(String, String)> {
    let mut files = vec![];
    walk(&TEMPLATES, &mut files);
    files.iter().filter_map(|f| Some((f.path().display().to_string(), f.contents_utf8()?.to_string()))).collect()
}

/// Registers every embedded template under `templates/<folder>` (`""`: the whole tree) whose
/// name ends in `suffix`, named by its path below the folder without the suffix: `notice-html`
/// in `mail`, `pages/public/catalogue` in the whole tree.
pub fn register(hb: &mut Handlebars<'_>, folder: &str, suffix: &str) -> Result<(), String> {
    let root = match folder {
        "" => &TEMPLATES,
        _ => TEMPLATES.get_dir(folder).ok_or_else(|| format!("no templates/{folder} in the binary"))?,
    };
    let mut files = vec![];
    walk(root, &mut files);
    for file in files {
        let path: &Path = file.path();
        let below = path.strip_prefix(folder).unwrap_or(path);
        let Some(name) = below.to_str().and_then(|n| n.strip_suffix(suffix)) else {
            continue;
        };
        let text = file.contents_utf8().ok_or_else(|| format!("{} is not UTF-8", path.display()))?;
        hb.register_template_string(name, text).map_err(|e| format!("template {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_and_static_file_is_in_the_binary() {
        let assets = super::Assets::extract().unwrap();
        assert!(assets.static_files.join("app.css").is_file());
        let cards = std::fs::read_to_string(assets.static_files.join("cards-nb.css")).unwrap();
        assert!(cards.contains("Saksnummer"), "the phone cards' column names, written at start-up");
        let mut hb = handlebars::Handlebars::new();
        super::register(&mut hb, "documents", ".hbs").unwrap();
        assert!(hb.has_template("decision"));
        let mut pages = handlebars::Handlebars::new();
        super::register(&mut pages, "", ".html.hbs").unwrap();
        for name in ["layout", "error", "pages/applicant/status", "partials/field"] {
            assert!(pages.has_template(name), "{name}");
        }
        assert!(!pages.has_template("decision"), "documents are not pages");
    }
}
