//! Nothing typed is lost on the case page: a form there that is refused (invalid, the case
//! changed meanwhile, not allowed now) answers with the case page again, its text back in the
//! form and the reason at the top of the page and in the form, instead of a redirect that would
//! drop what was typed.

use super::auth::PageOr;
use crate::error::{AppError, AppResult};
use crate::web::context::Ctx;
use diesel_async::AsyncPgConnection;
use rocket::response::{Flash, Redirect};
use serde_json::{Value, json};

/// A refused form of the case page: which form (its element id is `form-<form>`), what was in
/// its fields, and why it was refused.
pub struct Kept {
    pub form: String,
    pub fields: Value,
    pub error: String,
    /// After a refusal because the case moved on (409) or the user may no longer do it (403),
    /// the form may be gone from the page: its text, to be copied from the top of the page.
    pub unsent: Option<String>,
}

impl Kept {
    /// Whether anything was typed into the refused form (only then does the page say it is kept).
    pub fn typed(&self) -> bool {
        !texts_of(&self.fields).is_empty()
    }

    /// What form `form` shows again: its fields and `error`, or null when another form (or none)
    /// was refused.
    pub fn in_form(kept: Option<&Kept>, form: &str) -> Value {
        match kept {
            Some(k) if k.form == form => {
                let mut shown = k.fields.clone();
                shown["error"] = json!(k.error);
                // As the field partial shows a field's errors.
                shown["errors"] = if k.error.is_empty() { json!([]) } else { json!([k.error]) };
                shown
            }
            _ => Value::Null,
        }
    }
}

/// A case-page form as sent: the case, the form's name, its fields, and the prefix of the message
/// keys naming its fields in a validation error (`""`: the messages alone).
pub struct Sent {
    pub case_id: i64,
    pub form: String,
    pub fields: Value,
    pub labels: &'static str,
}

impl Sent {
    /// Done: back to the case with `done_key` as the flash. Refused: the case page,
    /// with the refusal's status and this form's text kept. Anything else is the error page.
    pub async fn answer<T>(
        self,
        ctx: &Ctx,
        conn: &mut AsyncPgConnection,
        result: AppResult<T>,
        done_key: &str,
    ) -> AppResult<PageOr> {
        match result {
            // To the top of the case page, where the confirmation is shown with the state and the
            // next step (at the form's own section the confirmation was out of sight on a phone).
            Ok(_) => Ok(PageOr::Flash(Flash::success(
                Redirect::to(format!("/applications/{}", self.case_id)),
                ctx.t(done_key),
            ))),
            Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
                let unsent = match e {
                    AppError::Validation(_) => None,
                    _ => Some(texts_of(&self.fields)).filter(|t| !t.is_empty()),
                };
                let kept =
                    Kept { error: refusal_text(ctx, &e, self.labels), form: self.form, fields: self.fields, unsent };
                let page = super::applicant::status_page(ctx, conn, self.case_id, Some(&kept)).await?;
                Ok(PageOr::Page((e.status(), page)))
            }
            Err(e) => Err(e),
        }
    }
}

/// The texts typed into a form's fields, one after the other.
fn texts_of(fields: &Value) -> String {
    let texts = fields.as_object().into_iter().flat_map(|m| m.values()).filter_map(Value::as_str);
    texts.map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n\n")
}

/// A refusal in words: a validation error's messages, each after its field's name when `labels`
/// names them (`labels` + field), or the refusal's message.
pub fn refusal_text(ctx: &Ctx, e: &AppError, labels: &str) -> String {
    match e {
        AppError::Validation(_) => e
            .fields(ctx.lang)
            .into_iter()
            .map(|(k, v)| match labels {
                "" => v.join(" "),
                _ => format!("{}: {}", ctx.t(&format!("{labels}{k}")), v.join(" ")),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.public_message(ctx.lang),
    }
}
