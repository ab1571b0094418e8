//! Scheduled reminders: to deciders of releases that have waited more than N days (again every N
//! days), and to applicants 30 days before their project's end date asking them to confirm that
//! the data have been deleted. Each reminder is an event (and so a notice and a mail).

use super::Actor;
use super::applications::record;
use crate::db::schema::{applications, releases};
use crate::domain::release::ReleaseState;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

/// A release as the reminder checks it: application, state, created, last reminded, decider.
type WaitingRelease = (i64, String, DateTime<Utc>, Option<DateTime<Utc>>, String);

/// Days before the project's end date that the applicant is asked to confirm deletion.
pub const DELETION_NOTICE_DAYS: i64 = 30;

/// Reminds the deciders of releases pending for more than `days` days (once per `days`).
pub async fn release_reminders(conn: &mut AsyncPgConnection, now: DateTime<Utc>, days: u32) -> AppResult<usize> {
    let cutoff = now - Duration::days(days.into());
    let due: Vec<i64> = releases::table
        .filter(releases::state.eq("pending"))
        .filter(releases::created_at.lt(cutoff))
        .filter(releases::reminded_at.is_null().or(releases::reminded_at.lt(cutoff)))
        .select(releases::id)
        .load(conn)
        .await?;
    let mut sent = 0;
    for id in due {
        let done = conn
            .transaction::<_, AppError, _>(async move |tx| {
                // Another instance may hold or have handled it: skip it then.
                let row: Option<WaitingRelease> = releases::table
                    .find(id)
                    .for_update()
                    .skip_locked()
                    .select((
                        releases::application_id,
                        releases::state,
                        releases::created_at,
                        releases::reminded_at,
                        releases::decider,
                    ))
                    .first(tx)
                    .await
                    .optional()?;
                let Some((application_id, state, created, reminded, decider)) = row else { return Ok(false) };
                if state != ReleaseState::Pending.code() || created >= cutoff || reminded.is_some_and(|r| r >= cutoff) {
                    return Ok(false);
                }
                diesel::update(releases::table.find(id)).set(releases::reminded_at.eq(now)).execute(tx).await?;
                let payload = json!({"release_id": id, "decider": decider, "days_waiting": (now - created).num_days()});
                record(tx, &Actor::system(), now, application_id, "release.reminder", payload).await?;
                Ok(true)
            })
            .await?;
        sent += usize::from(done);
    }
    Ok(sent)
}

/// Asks applicants to confirm deletion when their permit ends within [`DELETION_NOTICE_DAYS`]
/// (asked again after an extension moves the end); only where data reached the project, since
/// only there is anything to delete and a deletion they can confirm.
pub async fn deletion_reminders(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let horizon = crate::domain::deadlines::oslo_date(now + Duration::days(DELETION_NOTICE_DAYS));
    let candidates: Vec<(i64, Option<NaiveDate>)> = applications::table
        .filter(applications::permit_ends_on.le(horizon))
        .filter(applications::deletion_reminded_at.is_null())
        .filter(applications::deletion_confirmed_at.is_null())
        .filter(crate::db::permits::data_delivered())
        .select((applications::id, applications::permit_ends_on))
        .load(conn)
        .await?;
    let mut sent = 0;
    for (id, end) in candidates {
        let Some(end) = end else { continue };
        let done = conn
            .transaction::<_, AppError, _>(async move |tx| {
                // As read: an extension may have moved the end (and asked again) or the applicant
                // confirmed the deletion since.
                let still = applications::table
                    .find(id)
                    .filter(applications::deletion_reminded_at.is_null())
                    .filter(applications::deletion_confirmed_at.is_null())
                    .filter(applications::permit_ends_on.eq(end));
                let changed = diesel::update(still).set(applications::deletion_reminded_at.eq(now)).execute(tx).await?;
                if changed == 0 {
                    return Ok(false);
                }
                record(tx, &Actor::system(), now, id, "application.deletion_reminder", json!({"end_date": end}))
                    .await?;
                Ok(true)
            })
            .await?;
        sent += usize::from(done);
    }
    Ok(sent)
}

/// Whether data of the case have reached the project: a release delivered (by a transfer the
/// researcher downloaded, or access given in an analysis environment).
pub fn data_delivered(releases: &[crate::db::cases::ReleaseView]) -> bool {
    releases.iter().any(|r| r.release.delivered_at.is_some())
}

/// The application whose deletion `user` may confirm now: the applicant's, with data delivered
/// and deletion not yet confirmed (for the page that asks first, and the confirmation itself).
pub async fn deletion_confirmable(
    conn: &mut AsyncPgConnection,
    user: &crate::db::users::User,
    id: i64,
) -> AppResult<crate::db::applications::Application> {
    let (app, _) = super::applications::load(conn, user, id).await?;
    if app.applicant_id != user.id {
        return Err(AppError::Forbidden("err-deletion-applicant".into()));
    }
    if !data_delivered(&crate::db::cases::releases_of(conn, id).await?) {
        return Err(AppError::Conflict("err-no-released-data".into()));
    }
    if app.deletion_confirmed_at.is_some() {
        return Err(AppError::Conflict("err-deletion-confirmed".into()));
    }
    Ok(app)
}

/// The applicant confirms that the project's data have been deleted.
pub async fn confirm_deletion(
    conn: &mut AsyncPgConnection,
    user: &crate::db::users::User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    deletion_confirmable(conn, user, id).await?;
    let actor = actor.clone();
    super::command::on_case(conn, id, super::command::Seen::ANY, async move |tx, _| {
        let changed =
            diesel::update(applications::table.find(id).filter(applications::deletion_confirmed_at.is_null()))
                .set(applications::deletion_confirmed_at.eq(now))
                .execute(tx)
                .await?;
        if changed == 0 {
            return Err(AppError::Conflict("err-deletion-confirmed".into()));
        }
        record(tx, &actor, now, id, "application.deletion_confirmed", json!({})).await
    })
    .await
}
