//! A page as a response: the template's name and its context, rendered by [`Pages`] when Rocket
//! sends it. The context goes to Handlebars as the JSON the view built; nothing converts it on
//! the way (`rocket_dyn_templates`, used before, turned every page's context into figment's
//! value tree and back into JSON, two deep copies per page: issue 25).

use crate::templating::Pages;
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use serde_json::Value;
use std::borrow::Cow;

/// A page to render: `templates/<name>.html.hbs` with `context`.
pub struct Template {
    name: Cow<'static, str>,
    context: Value,
}

impl Template {
    /// The page `name` (`pages/public/catalogue`) with its context.
    pub fn render(name: impl Into<Cow<'static, str>>, context: Value) -> Template {
        Template { name: name.into(), context }
    }
}

impl<'r> Responder<'r, 'static> for Template {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let pages = req.rocket().state::<Pages>().ok_or(Status::InternalServerError)?;
        let landed = self.context["flash"]["at"].is_string();
        let mut html = pages.render(&self.name, self.context).map_err(|e| {
            tracing::error!("{e}");
            Status::InternalServerError
        })?;
        if landed {
            html = keep_one_flash(html);
        }
        (ContentType::HTML, html).respond_to(req)
    }
}

/// A message for a section of the page ([`crate::web::context::Back`]) is shown in that
/// section when the page has it (`<!--landed-->`, which escaped text cannot contain), and then
/// not again at the top; when the section is not on the page (nothing to show in it now), the
/// top keeps it.
fn keep_one_flash(html: String) -> String {
    const TOP: &str = "<!--top-flash-->";
    const END: &str = "<!--/top-flash-->";
    let (Some(start), Some(end)) = (html.find(TOP), html.find(END)) else { return html };
    if !html.contains("<!--landed-->") || end < start {
        return html;
    }
    let mut out = String::with_capacity(html.len());
    out.push_str(&html[..start]);
    out.push_str(&html[end + END.len()..]);
    out
}

#[cfg(test)]
mod tests {
    use super::keep_one_flash;

    #[test]
    fn a_message_shown_in_its_section_leaves_the_top() {
        let top = "<main><!--top-flash--><div class=\"flash\">Lagret</div><!--/top-flash-->";
        let shown = format!(
            "{top}<h2 id=\"items\">Items</h2><div class=\"flash\" data-landed>Lagret</div><!--landed--></main>"
        );
        assert_eq!(
            keep_one_flash(shown),
            "<main><h2 id=\"items\">Items</h2><div class=\"flash\" data-landed>Lagret</div><!--landed--></main>"
        );
        // The section is not on the page: the top keeps the message, also when a text on the
        // page (escaped) speaks of "data-landed".
        let missing = format!("{top}<p>Nothing</p><p>&lt;div data-landed&gt;</p></main>");
        assert_eq!(keep_one_flash(missing.clone()), missing);
    }
}
