//! Permits that end (`domain::permit`): the permit is set by a granting decision, moved by a
//! granted extension, and listed for officers once ended without a confirmed deletion. The
//! deletion prompt thirty days before the end is `reminders::deletion_reminders`.

use super::Actor;
use super::applications::{self as apps, Access, record};
use crate::db::{self, applications::Application, users::User};
use crate::domain::permit;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

/// At a decision that grants `app` (inside its transaction): the permit runs to the project's
/// end date. A granted extension moves the permit of the case it names (the applicant's own)
/// to its own end date, if later, and that is an event of the extended case. Returns the
/// permit's last day.
pub async fn grant(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    app: &Application,
    now: DateTime<Utc>,
) -> AppResult<Option<NaiveDate>> {
    let form = apps::form_of(app);
    let ends_on = NaiveDate::parse_from_str(&form.end_date, "%Y-%m-%d").ok();
    db::permits::set_end(tx, app.id, ends_on).await?;
    if let (Some(end), Some(reference)) = (ends_on, form.previous_reference.as_deref())
        && form.application_type == "extension"
        && let Some(original) = db::permits::own_by_reference(tx, app.applicant_id, reference).await?
        && let Some(current) = original.permit_ends_on
        && let Some(new_end) = permit::extended(current, end)
    {
        db::permits::set_end(tx, original.id, Some(new_end)).await?;
        let payload =
            json!({"from": current, "to": new_end, "extension_id": app.id, "extension_reference": app.reference});
        record(tx, actor, now, original.id, "permit.extended", payload).await?;
    }
    Ok(ends_on)
}

/// The applicant asks for an extension of case `id`: a draft of type `extension` that names it
/// and carries its form over (sources, variables, people), for the new end date to be entered.
pub async fn extension_draft(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, access) = apps::load(conn, user, id).await?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-applicant-extends".into()));
    }
    if !permit::may_extend(app.state, app.permit_ends_on, app.deletion_confirmed_at.is_some()) {
        return Err(AppError::Conflict("err-no-permit-to-extend".into()));
    }
    let mut form = apps::form_of(&app);
    form.application_type = "extension".into();
    form.previous_reference = app.reference.clone();
    apps::create(conn, user, actor, form, Some(id), now).await
}

/// A permit on the officers' overview.
pub struct EndedPermit {
    pub app: Application,
    pub applicant_name: String,
    pub applicant_email: String,
    /// Days since the permit's last day.
    pub days_ended: i64,
}

/// The permits that ended before `today` without a confirmed deletion (case officers: admins
/// see no cases).
pub async fn ended_without_deletion(
    conn: &mut AsyncPgConnection,
    user: &User,
    today: NaiveDate,
) -> AppResult<Vec<EndedPermit>> {
    if user.role != Role::CaseOfficer {
        return Err(AppError::Forbidden("err-role-may-not".into()));
    }
    Ok(db::permits::ended_without_deletion(conn, today)
        .await?
        .into_iter()
        .filter(|(a, _, _)| permit::ended_without_deletion(a.permit_ends_on, a.deletion_confirmed_at.is_some(), today))
        .map(|(app, applicant_name, applicant_email)| {
            let days_ended = app.permit_ends_on.map(|end| (today - end).num_days()).unwrap_or_default();
            EndedPermit { app, applicant_name, applicant_email, days_ended }
        })
        .collect())
}
