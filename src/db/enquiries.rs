//! Pre-application enquiries (forhåndsveiledning): the enquiry, the sources it names and its
//! thread of messages.

use super::catalogue::DataSource;
use super::schema::{data_sources, enquiries, enquiry_messages, enquiry_sources, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored enquiry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enquiries)]
pub struct Enquiry {
    pub id: i64,
    pub asker_id: i64,
    pub subject: String,
    pub state: String,
    /// The draft application made from it, once.
    pub application_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One message of a thread, with its author's name and role.
#[derive(Debug, Clone, Queryable)]
pub struct EnquiryMessage {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_role: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// An enquiry on a list, with the researcher's name.
#[derive(Debug, Clone)]
pub struct Listed {
    pub enquiry: Enquiry,
    pub asker_name: String,
}

/// Which enquiries a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// One researcher's own.
    Asker(i64),
    /// Those naming a source of this organisation.
    Organisation(i64),
    /// Every one (case officers).
    All,
}

/// Stores a new enquiry with its sources and first message.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    asker_id: i64,
    subject: &str,
    sources: &[i64],
    question: &str,
    now: DateTime<Utc>,
) -> QueryResult<Enquiry> {
    let enquiry: Enquiry = diesel::insert_into(enquiries::table)
        .values((
            enquiries::asker_id.eq(asker_id),
            enquiries::subject.eq(subject),
            enquiries::state.eq("open"),
            enquiries::created_at.eq(now),
            enquiries::updated_at.eq(now),
        ))
        .returning(Enquiry::as_returning())
        .get_result(conn)
        .await?;
    let rows: Vec<_> = sources
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                enquiry_sources::enquiry_id.eq(enquiry.id),
                enquiry_sources::data_source_id.eq(*id),
                enquiry_sources::position.eq(i as i32),
            )
        })
        .collect();
    diesel::insert_into(enquiry_sources::table).values(&rows).execute(conn).await?;
    insert_message(conn, enquiry.id, asker_id, question, now).await?;
    Ok(enquiry)
}

pub async fn insert_message(
    conn: &mut AsyncPgConnection,
    enquiry_id: i64,
    author_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(enquiry_messages::table)
        .values((
            enquiry_messages::enquiry_id.eq(enquiry_id),
            enquiry_messages::author_id.eq(author_id),
            enquiry_messages::body.eq(body),
            enquiry_messages::created_at.eq(now),
        ))
        .returning(enquiry_messages::id)
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Enquiry>> {
    enquiries::table.find(id).select(Enquiry::as_select()).first(conn).await.optional()
}

/// The enquiry, locked for a change.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Enquiry>> {
    enquiries::table.find(id).for_update().select(Enquiry::as_select()).first(conn).await.optional()
}

/// Sets the state (and the draft made from it, when given).
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    state: &str,
    application_id: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let target = enquiries::table.find(id);
    match application_id {
        Some(a) => {
            diesel::update(target)
                .set((enquiries::state.eq(state), enquiries::application_id.eq(a), enquiries::updated_at.eq(now)))
                .execute(conn)
                .await
        }
        None => {
            diesel::update(target).set((enquiries::state.eq(state), enquiries::updated_at.eq(now))).execute(conn).await
        }
    }
}

/// The sources an enquiry names, in the order given.
pub async fn sources_of(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<DataSource>> {
    enquiry_sources::table
        .inner_join(data_sources::table)
        .filter(enquiry_sources::enquiry_id.eq(id))
        .order(enquiry_sources::position)
        .select(DataSource::as_select())
        .load(conn)
        .await
}

/// The thread, oldest first.
pub async fn messages_of(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<EnquiryMessage>> {
    enquiry_messages::table
        .inner_join(users::table)
        .filter(enquiry_messages::enquiry_id.eq(id))
        .order(enquiry_messages::id)
        .select((
            enquiry_messages::id,
            enquiry_messages::author_id,
            users::name,
            users::role,
            enquiry_messages::body,
            enquiry_messages::created_at,
        ))
        .load(conn)
        .await
}

/// Whether the enquiry names a source of organisation `org`.
pub async fn names_source_of(conn: &mut AsyncPgConnection, id: i64, org: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        enquiry_sources::table
            .inner_join(data_sources::table)
            .filter(enquiry_sources::enquiry_id.eq(id))
            .filter(data_sources::owner_id.eq(org)),
    ))
    .get_result(conn)
    .await
}

/// The organisations owning the sources an enquiry names.
pub async fn organisations_named(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<i64>> {
    enquiry_sources::table
        .inner_join(data_sources::table)
        .filter(enquiry_sources::enquiry_id.eq(id))
        .select(data_sources::owner_id)
        .distinct()
        .load(conn)
        .await
}

/// The enquiries in `scope`, the most recently changed first (at most `limit`).
pub async fn list(conn: &mut AsyncPgConnection, scope: Scope, limit: i64) -> QueryResult<Vec<Listed>> {
    let mut q = enquiries::table
        .inner_join(users::table.on(users::id.eq(enquiries::asker_id)))
        .select((Enquiry::as_select(), users::name))
        .order((enquiries::updated_at.desc(), enquiries::id.desc()))
        .limit(limit)
        .into_boxed();
    q = match scope {
        Scope::Asker(id) => q.filter(enquiries::asker_id.eq(id)),
        Scope::All => q,
        Scope::Organisation(org) => q.filter(
            enquiries::id.eq_any(
                enquiry_sources::table
                    .inner_join(data_sources::table)
                    .filter(data_sources::owner_id.eq(org))
                    .select(enquiry_sources::enquiry_id),
            ),
        ),
    };
    let rows: Vec<(Enquiry, String)> = q.load(conn).await?;
    Ok(rows.into_iter().map(|(enquiry, asker_name)| Listed { enquiry, asker_name }).collect())
}
