//! The files the service serves and renders (page, mail and document templates; the style sheet
//! and images) are compiled into the binary, so an installed binary needs nothing beside it and
//! runs from any working folder. Pages are rendered by `rocket_dyn_templates`, which reads its
//! templates from a folder: they are written to a private temporary folder at start-up (removed
//! when the service stops). Translations (`fluent-templates`) and migrations (`diesel_migrations`)
//! are compiled in by their own crates.

use include_dir::{Dir, include_dir};
use rocket_dyn_templates::handlebars::Handlebars;
use std::path::{Path, PathBuf};

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static STATIC: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/static");

/// The embedded files written out for the parts that read folders; removed when dropped.
pub struct Assets {
    _dir: tempfile::TempDir,
    pub templates: PathBuf,
    pub static_files: PathBuf,
}

impl Assets {
    /// Writes the embedded templates and static files to a fresh private folder.
    pub fn extract() -> Result<Assets, String> {
        let dir = tempfile::Builder::new()
            .prefix("helsedataservice-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the templates: {e}"))?;
        let templates = dir.path().join("templates");
        let static_files = dir.path().join("static");
        for (embedded, to) in [(&TEMPLATES, &templates), (&STATIC, &static_files)] {
            std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
            embedded.extract(to).map_err(|e| format!("writing {}: {e}", to.display()))?;
        }
        Ok(Assets { _dir: dir, templates, static_files })
    }
}

/// Registers every embedded template in `folder` (e.g. `mail`) whose name ends in `suffix`,
/// named by what comes before it.
pub fn register(hb: &mut Handlebars<'_>, folder: &str, suffix: &str) -> Result<(), String> {
    let dir = TEMPLATES.get_dir(folder).ok_or_else(|| format!("no templates/{folder} in the binary"))?;
    for file in dir.files() {
        let path: &Path = file.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(suffix)) else {
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
        assert!(assets.templates.join("layout.html.hbs").is_file());
        assert!(assets.templates.join("pages/applicant/status.html.hbs").is_file());
        assert!(assets.static_files.join("app.css").is_file());
        let mut hb = rocket_dyn_templates::handlebars::Handlebars::new();
        super::register(&mut hb, "documents", ".hbs").unwrap();
        assert!(hb.has_template("decision"));
    }
}
