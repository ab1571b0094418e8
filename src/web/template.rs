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
        let html = pages.render(&self.name, self.context).map_err(|e| {
            tracing::error!("{e}");
            Status::InternalServerError
        })?;
        (ContentType::HTML, html).respond_to(req)
    }
}
