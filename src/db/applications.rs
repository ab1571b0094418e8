//! Applications, their members and sources, attachments, messages and case references.

use super::prepared::KeepPreparedDsl;
use super::schema::{
    application_members, application_sources, applications, attachments, messages, reference_counters, users,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

/// A stored application.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = applications)]
pub struct Application {
    pub id: i64,
    pub applicant_id: i64,
    pub reference: Option<String>,
    pub state: crate::domain::case::State,
    pub kind: String,
    pub application_type: String,
    pub title: String,
    pub form: Value,
    pub version: i32,
    pub assignee_id: Option<i64>,
    pub copied_from_id: Option<i64>,
    pub submit_count: i32,
    pub estimate_ore: Option<i64>,
    pub estimate_accepted_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub appeal_grounds: Option<String>,
    pub sent_to_helseklage_at: Option<DateTime<Utc>>,
    pub interim_reply_at: Option<DateTime<Utc>>,
    pub deletion_reminded_at: Option<DateTime<Utc>>,
    pub deletion_confirmed_at: Option<DateTime<Utc>>,
    pub appealed_at: Option<DateTime<Utc>>,
    pub appeal_interim_reply_at: Option<DateTime<Utc>>,
    pub complete_submitted_at: Option<DateTime<Utc>>,
    /// The last day of the permit (the project's end date once granted; an extension moves it).
    pub permit_ends_on: Option<chrono::NaiveDate>,
}

/// Which rows of a list newest first to read: `(offset, limit, below)`, the rows after the first
/// `offset` with ids below `below` (all when `None`), at most `limit` of them.
pub type Window = (i64, i64, Option<i64>);

/// An application as a list shows it: the columns, not the form (which lists never need, and
/// which is the largest part of a row to read and decode).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct Summary {
    pub id: i64,
    pub reference: Option<String>,
    pub state: crate::domain::case::State,
    pub kind: String,
    pub application_type: String,
    pub title: String,
    pub version: i32,
    pub due_date: Option<NaiveDate>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    /// The application as a list shows it.
    pub fn summary(&self) -> Summary {
        Summary {
            id: self.id,
            reference: self.reference.clone(),
            state: self.state,
            kind: self.kind.clone(),
            application_type: self.application_type.clone(),
            title: self.title.clone(),
            version: self.version,
            due_date: self.due_date,
            submitted_at: self.submitted_at,
            updated_at: self.updated_at,
        }
    }
}

/// The parts of the form kept in columns.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = applications)]
pub struct FormColumns {
    pub kind: String,
    pub application_type: String,
    pub title: String,
    pub form: Value,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    applicant_id: i64,
    columns: &FormColumns,
    copied_from: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<Application> {
    diesel::insert_into(applications::table)
        .values((
            columns,
            applications::applicant_id.eq(applicant_id),
            applications::copied_from_id.eq(copied_from),
            applications::created_at.eq(now),
            applications::updated_at.eq(now),
        ))
        .returning(Application::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Application>> {
    applications::table.find(id).select(Application::as_select()).first(conn).await.optional()
}

/// Locks the row for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Application>> {
    applications::table.find(id).for_update().select(Application::as_select()).first(conn).await.optional()
}

/// Replaces the form if the row still has `version` and is editable; `None` otherwise.
pub async fn update_form(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    columns: &FormColumns,
    now: DateTime<Utc>,
) -> QueryResult<Option<Application>> {
    diesel::update(
        applications::table.filter(
            applications::id
                .eq(id)
                .and(applications::version.eq(version))
                .and(applications::state.eq_any(["draft", "returned"])),
        ),
    )
    .set((columns, applications::version.eq(applications::version + 1), applications::updated_at.eq(now)))
    .returning(Application::as_returning())
    .keep_prepared()
    .get_result(conn)
    .await
    .optional()
}

/// Keeps the member and source tables in step with the form.
pub async fn sync_members_and_sources(
    conn: &mut AsyncPgConnection,
    id: i64,
    members: &[String],
    sources: &[i64],
) -> QueryResult<()> {
    diesel::delete(application_members::table.filter(application_members::application_id.eq(id))).execute(conn).await?;
    if !members.is_empty() {
        let rows: Vec<_> = members
            .iter()
            .map(|m| (application_members::application_id.eq(id), application_members::email.eq(m)))
            .collect();
        diesel::insert_into(application_members::table)
            .values(rows)
            .on_conflict_do_nothing()
            .keep_prepared()
            .execute(conn)
            .await?;
    }
    diesel::delete(application_sources::table.filter(application_sources::application_id.eq(id))).execute(conn).await?;
    if !sources.is_empty() {
        let rows: Vec<_> = sources
            .iter()
            .map(|s| (application_sources::application_id.eq(id), application_sources::data_source_id.eq(s)))
            .collect();
        diesel::insert_into(application_sources::table)
            .values(rows)
            .on_conflict_do_nothing()
            .keep_prepared()
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Whether `email` is named as a member of the application.
pub async fn is_member(conn: &mut AsyncPgConnection, id: i64, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        application_members::table
            .filter(application_members::application_id.eq(id).and(application_members::email.eq(email))),
    ))
    .get_result(conn)
    .await
}

/// Whether the application requests a source owned by `organisation_id`, or has a release routed
/// to it (the owner at completion keeps access if the catalogue changes later).
pub async fn requests_source_of(conn: &mut AsyncPgConnection, id: i64, organisation_id: i64) -> QueryResult<bool> {
    use super::schema::{data_sources, releases};
    let requested: bool = diesel::select(diesel::dsl::exists(
        application_sources::table
            .inner_join(data_sources::table)
            .filter(application_sources::application_id.eq(id).and(data_sources::owner_id.eq(organisation_id))),
    ))
    .get_result(conn)
    .await?;
    if requested {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        releases::table
            .filter(releases::application_id.eq(id).and(releases::owner_organisation_id.eq(organisation_id))),
    ))
    .get_result(conn)
    .await
}

/// The applications a person applied for or is a member of, newest first.
pub async fn of_person(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    email: &str,
    (offset, limit, below): Window,
) -> QueryResult<Vec<Summary>> {
    // The member ids first: with them as a list the database combines two index scans, where a
    // subquery beside the OR made it read every application (issue 25).
    let member_of: Vec<i64> = if email.is_empty() {
        vec![]
    } else {
        application_members::table
            .filter(application_members::email.eq(email.to_string()))
            .select(application_members::application_id)
            .load(conn)
            .await?
    };
    let mut query = applications::table
        .filter(applications::applicant_id.eq(user_id).or(applications::id.eq_any(member_of)))
        .order(applications::id.desc())
        .offset(offset)
        .limit(limit)
        .select(Summary::as_select())
        .into_boxed();
    if let Some(below) = below {
        query = query.filter(applications::id.lt(below));
    }
    query.load(conn).await
}

/// Submitted (non-draft) applications, newest first (case officers), in a [`Window`].
pub async fn all_submitted(conn: &mut AsyncPgConnection, (offset, limit, below): Window) -> QueryResult<Vec<Summary>> {
    let mut query = applications::table
        .filter(applications::first_submitted_at.is_not_null())
        .order(applications::id.desc())
        .offset(offset)
        .limit(limit)
        .select(Summary::as_select())
        .into_boxed();
    if let Some(below) = below {
        query = query.filter(applications::id.lt(below));
    }
    query.load(conn).await
}

/// Non-draft applications that request a source of the organisation (register owners).
pub async fn for_organisation(
    conn: &mut AsyncPgConnection,
    organisation_id: i64,
    (offset, limit, below): Window,
) -> QueryResult<Vec<Summary>> {
    use super::schema::data_sources;
    let mut ids = application_sources::table
        .inner_join(data_sources::table)
        .filter(data_sources::owner_id.eq(organisation_id))
        .select(application_sources::application_id)
        .into_boxed();
    if let Some(below) = below {
        // The cursor bounds both sides: else PostgreSQL's merge join reads the organisation's
        // sources from the newest case down to the cursor for every slice.
        ids = ids.filter(application_sources::application_id.lt(below));
    }
    let mut query = applications::table
        .filter(applications::first_submitted_at.is_not_null().and(applications::id.eq_any(ids)))
        .order(applications::id.desc())
        .offset(offset)
        .limit(limit)
        .select(Summary::as_select())
        .into_boxed();
    if let Some(below) = below {
        query = query.filter(applications::id.lt(below));
    }
    query.load(conn).await
}

/// `reference` if it is one of the applicant's earlier cases (none otherwise): what a change,
/// extension or update may name. One look-up by the unique reference, whatever the number of
/// the applicant's cases.
pub async fn own_reference(
    mut conn: &AsyncPgConnection,
    applicant_id: i64,
    reference: &str,
    except: Option<i64>,
) -> QueryResult<Vec<String>> {
    applications::table
        .filter(applications::reference.eq(reference).and(applications::applicant_id.eq(applicant_id)))
        .filter(applications::id.ne(except.unwrap_or(0)))
        .select(applications::reference.assume_not_null())
        .load(&mut conn)
        .await
}

/// The next number of `year`: gapless and unique, because the counter row stays locked until
/// the submitting transaction ends (and a rollback undoes the increment).
pub async fn next_reference_number(conn: &mut AsyncPgConnection, year: i32) -> QueryResult<i32> {
    diesel::insert_into(reference_counters::table)
        .values((reference_counters::year.eq(year), reference_counters::last.eq(1)))
        .on_conflict(reference_counters::year)
        .do_update()
        .set(reference_counters::last.eq(reference_counters::last + 1))
        .returning(reference_counters::last)
        .keep_prepared()
        .get_result(conn)
        .await
}

/// What changes when an application is submitted.
pub struct Submission<'a> {
    pub reference: &'a str,
    pub estimate_ore: i64,
    pub due_date: NaiveDate,
    pub now: DateTime<Utc>,
}

pub async fn mark_submitted(
    conn: &mut AsyncPgConnection,
    app: &Application,
    s: &Submission<'_>,
) -> QueryResult<Application> {
    diesel::update(applications::table.find(app.id))
        .set((
            applications::state.eq("submitted"),
            applications::reference.eq(s.reference),
            applications::submitted_at.eq(s.now),
            applications::first_submitted_at.eq(app.first_submitted_at.unwrap_or(s.now)),
            applications::submit_count.eq(app.submit_count + 1),
            applications::estimate_ore.eq(s.estimate_ore),
            applications::estimate_accepted_at.eq(s.now),
            applications::due_date.eq(s.due_date),
            applications::version.eq(applications::version + 1),
            applications::updated_at.eq(s.now),
        ))
        .returning(Application::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

pub async fn set_state(
    conn: &mut AsyncPgConnection,
    app: &Application,
    state: &str,
    now: DateTime<Utc>,
) -> QueryResult<Application> {
    diesel::update(applications::table.find(app.id))
        .set((
            applications::state.eq(state),
            applications::version.eq(applications::version + 1),
            applications::updated_at.eq(now),
        ))
        .returning(Application::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

// Attachments

/// A stored attachment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: uuid::Uuid,
    pub application_id: i64,
    pub kind: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub uploaded_by: i64,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub deleted_at: Option<DateTime<Utc>>,
}

pub async fn insert_attachment(conn: &mut AsyncPgConnection, a: &Attachment) -> QueryResult<usize> {
    diesel::insert_into(attachments::table).values(a).execute(conn).await
}

pub async fn attachments_of(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::application_id.eq(application_id).and(attachments::deleted_at.is_null()))
        .order(attachments::created_at)
        .select(Attachment::as_select())
        .load(&mut conn)
        .await
}

pub async fn attachment(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    id: uuid::Uuid,
) -> QueryResult<Option<Attachment>> {
    attachments::table
        .filter(
            attachments::id
                .eq(id)
                .and(attachments::application_id.eq(application_id))
                .and(attachments::deleted_at.is_null()),
        )
        .select(Attachment::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn mark_attachment_deleted(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(attachments::table.find(id).filter(attachments::deleted_at.is_null()))
        .set(attachments::deleted_at.eq(now))
        .execute(conn)
        .await
}

// Messages

/// A message with its author's name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Message {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_role: String,
    pub internal: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_message(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    author_id: i64,
    internal: bool,
    body: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(messages::table)
        .values((
            messages::application_id.eq(application_id),
            messages::author_id.eq(author_id),
            messages::internal.eq(internal),
            messages::body.eq(body),
            messages::created_at.eq(now),
        ))
        .returning(messages::id)
        .get_result(conn)
        .await
}

/// Messages of an application, oldest first; internal notes only when `with_internal`.
pub async fn messages_of(
    mut conn: &AsyncPgConnection,
    application_id: i64,
    with_internal: bool,
) -> QueryResult<Vec<Message>> {
    let mut q = messages::table
        .inner_join(users::table)
        .filter(messages::application_id.eq(application_id))
        .order(messages::id)
        .select((
            messages::id,
            messages::author_id,
            users::name,
            users::role,
            messages::internal,
            messages::body,
            messages::created_at,
        ))
        .into_boxed();
    if !with_internal {
        q = q.filter(messages::internal.eq(false));
    }
    type Row = (i64, i64, String, String, bool, String, DateTime<Utc>);
    let rows: Vec<Row> = q.load(&mut conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, author_id, author_name, author_role, internal, body, created_at)| Message {
            id,
            author_id,
            author_name,
            author_role,
            internal,
            body,
            created_at,
        })
        .collect())
}

/// How many applications there are (any state).
pub async fn count_all(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    applications::table.count().get_result(conn).await
}
