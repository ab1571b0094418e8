//! Permits: the last day of a granted application's permit, and the permits that have ended
//! without a confirmed deletion.

use super::applications::Application;
use super::schema::{applications, releases, users};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Whether data of the application of the row read have reached its project (a release
/// delivered): only then is there anything to delete, and a deletion to confirm
/// (`services::reminders::data_delivered` on a case already read).
#[diesel::dsl::auto_type]
pub fn data_delivered() -> _ {
    diesel::dsl::exists(
        releases::table
            .filter(releases::application_id.eq(applications::id))
            .filter(releases::delivered_at.is_not_null()),
    )
}

/// Sets the permit's last day (and, when it moves, asks again for deletion before the new end).
pub async fn set_end(conn: &mut AsyncPgConnection, id: i64, ends_on: Option<NaiveDate>) -> QueryResult<usize> {
    diesel::update(applications::table.find(id))
        .set((
            applications::permit_ends_on.eq(ends_on),
            applications::deletion_reminded_at.eq(None::<chrono::DateTime<chrono::Utc>>),
        ))
        .execute(conn)
        .await
}

/// The applicant's own application with `reference`, locked for the change.
pub async fn own_by_reference(
    conn: &mut AsyncPgConnection,
    applicant_id: i64,
    reference: &str,
) -> QueryResult<Option<Application>> {
    applications::table
        .filter(applications::applicant_id.eq(applicant_id))
        .filter(applications::reference.eq(reference))
        .for_update()
        .select(Application::as_select())
        .first(conn)
        .await
        .optional()
}

/// Permits whose last day is before `today` with data delivered and no confirmed deletion, the
/// longest ended first, with the applicant's name and e-mail.
pub async fn ended_without_deletion(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
) -> QueryResult<Vec<(Application, String, String)>> {
    applications::table
        .inner_join(users::table.on(users::id.eq(applications::applicant_id)))
        .filter(applications::permit_ends_on.lt(today))
        .filter(applications::deletion_confirmed_at.is_null())
        .filter(data_delivered())
        .order((applications::permit_ends_on, applications::id))
        .select((Application::as_select(), users::name, users::email))
        .load(conn)
        .await
}
