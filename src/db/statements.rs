//! Statements (uttalelser) asked of reviewers on a case.

use super::schema::{applications, statements, users};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored statement request, with its answer once given.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = statements)]
pub struct Statement {
    pub id: i64,
    pub application_id: i64,
    pub requested_by: i64,
    pub reviewer_id: i64,
    pub question: String,
    pub due_on: NaiveDate,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Not answered when its case ended.
    pub lapsed_at: Option<DateTime<Utc>>,
    /// Not shown to the applicant's side (`domain::statement::may_set_party_access`).
    pub withheld: bool,
    pub withheld_reason: Option<String>,
    /// When the applicant's side could last begin to read its answer (set on answering and on
    /// sharing; counts only while answered and not withheld).
    pub shared_at: Option<DateTime<Utc>>,
}

impl Statement {
    /// Whether it still waits for its answer.
    pub fn progress(&self) -> crate::domain::statement::Progress {
        crate::domain::statement::Progress::of(self.answered_at.is_some(), self.lapsed_at.is_some())
    }

    /// The last day for the applicant's side to comment on it, if they can read its answer.
    pub fn comment_by(&self) -> Option<NaiveDate> {
        let shared_on = self.shared_at.map(crate::domain::deadlines::oslo_date);
        crate::domain::statement::comment_period(self.answered_at.is_some(), self.withheld, shared_on)
    }

    /// [`Self::comment_by`] while its case (in `state`) awaits a decision: the time to comment
    /// is before the decision.
    pub fn comment_by_before_decision(&self, state: crate::domain::case::State) -> Option<NaiveDate> {
        self.comment_by().filter(|_| state.awaiting_decision())
    }
}

/// A statement with the names and addresses of the reviewer and of the officer who asked.
#[derive(Debug, Clone)]
pub struct StatementRow {
    pub statement: Statement,
    pub reviewer_name: String,
    pub reviewer_email: String,
    pub requester_name: String,
    /// The case's reference and title.
    pub reference: Option<String>,
    pub title: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = statements)]
pub struct NewStatement<'a> {
    pub application_id: i64,
    pub requested_by: i64,
    pub reviewer_id: i64,
    pub question: &'a str,
    pub due_on: NaiveDate,
    pub invite_token_hash: Option<&'a str>,
    pub invite_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewStatement<'_>) -> QueryResult<Statement> {
    diesel::insert_into(statements::table).values(new).returning(Statement::as_returning()).get_result(conn).await
}

/// The statement `id`, locked for a change.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Statement>> {
    statements::table.find(id).for_update().select(Statement::as_select()).first(conn).await.optional()
}

/// Whether the statement of the row read still waits for its answer: neither answered nor
/// lapsed (`Statement::progress` on a row already read).
#[diesel::dsl::auto_type]
fn still_open() -> _ {
    statements::answered_at.is_null().and(statements::lapsed_at.is_null())
}

/// The statements still waiting for their answers.
#[diesel::dsl::auto_type]
fn open_statements() -> _ {
    statements::table.filter(still_open())
}

/// Records the answer (only if it still waits for one: `None` otherwise).
pub async fn answer(
    conn: &mut AsyncPgConnection,
    id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Statement>> {
    diesel::update(open_statements().filter(statements::id.eq(id)))
        .set((statements::answer.eq(text), statements::answered_at.eq(now), statements::shared_at.eq(now)))
        .returning(Statement::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Lapses the statements of an application still waiting for their answers, and their
/// invitation links; returns them.
pub async fn lapse(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Statement>> {
    diesel::update(open_statements().filter(statements::application_id.eq(application_id)))
        .set((
            statements::lapsed_at.eq(now),
            statements::invite_token_hash.eq(None::<String>),
            statements::invite_expires_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(Statement::as_returning())
        .get_results(conn)
        .await
}

/// Withholds statement `id` with `reason`, or shares it (`None`); `shared_at`: the applicant's
/// side begins to read it then (a statement shared again after being withheld).
pub async fn set_withheld(
    conn: &mut AsyncPgConnection,
    id: i64,
    reason: Option<&str>,
    shared_at: Option<DateTime<Utc>>,
) -> QueryResult<Statement> {
    let row = diesel::update(statements::table.find(id));
    let withheld = (statements::withheld.eq(reason.is_some()), statements::withheld_reason.eq(reason));
    match shared_at {
        None => row.set(withheld).returning(Statement::as_returning()).get_result(conn).await,
        Some(at) => {
            row.set((withheld, statements::shared_at.eq(at)))
                .returning(Statement::as_returning())
                .get_result(conn)
                .await
        }
    }
}

pub async fn set_reminded(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(statements::table.find(id)).set(statements::reminded_at.eq(now)).execute(conn).await
}

/// A fresh invitation link for the statement (an earlier one stops working).
pub async fn set_invitation(
    conn: &mut AsyncPgConnection,
    id: i64,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(statements::table.find(id))
        .set((statements::invite_token_hash.eq(token_hash), statements::invite_expires_at.eq(expires)))
        .execute(conn)
        .await
}

/// Takes the invitation with this token's hash if it has not expired: the link works once.
pub async fn take_invitation(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Statement>> {
    diesel::update(
        statements::table
            .filter(statements::invite_token_hash.eq(token_hash))
            .filter(statements::invite_expires_at.gt(now)),
    )
    .set((statements::invite_token_hash.eq(None::<String>), statements::invite_expires_at.eq(None::<DateTime<Utc>>)))
    .returning(Statement::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Whether an unexpired invitation has this token's hash (to show its page).
pub async fn invitation_of(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<(Statement, String, String)>> {
    statements::table
        .inner_join(users::table.on(users::id.eq(statements::reviewer_id)))
        .filter(statements::invite_token_hash.eq(token_hash))
        .filter(statements::invite_expires_at.gt(now))
        .select((Statement::as_select(), users::name, users::email))
        .first(conn)
        .await
        .optional()
}

/// Which statements: of one case, asked of one reviewer, or every one still waiting.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Application(i64),
    Reviewer(i64),
    Outstanding,
    One(i64),
}

/// The statements in `scope` with names, the newest request first (outstanding: soonest due).
pub async fn rows(mut conn: &AsyncPgConnection, scope: Scope) -> QueryResult<Vec<StatementRow>> {
    let (reviewers, requesters) = diesel::alias!(users as reviewers, users as requesters);
    let mut q = statements::table
        .inner_join(reviewers.on(reviewers.field(users::id).eq(statements::reviewer_id)))
        .inner_join(requesters.on(requesters.field(users::id).eq(statements::requested_by)))
        .inner_join(applications::table)
        .select((
            Statement::as_select(),
            reviewers.field(users::name),
            reviewers.field(users::email),
            requesters.field(users::name),
            applications::reference,
            applications::title,
        ))
        .into_boxed();
    q = match scope {
        Scope::Application(id) => q.filter(statements::application_id.eq(id)).order(statements::id.desc()),
        Scope::Reviewer(id) => q.filter(statements::reviewer_id.eq(id)).order(statements::id.desc()),
        Scope::Outstanding => q.filter(still_open()).order((statements::due_on, statements::id)),
        Scope::One(id) => q.filter(statements::id.eq(id)),
    };
    let rows: Vec<(Statement, String, String, String, Option<String>, String)> = q.load(&mut conn).await?;
    Ok(rows
        .into_iter()
        .map(|(statement, reviewer_name, reviewer_email, requester_name, reference, title)| StatementRow {
            statement,
            reviewer_name,
            reviewer_email,
            requester_name,
            reference,
            title,
        })
        .collect())
}

/// Open statements due within `days` of `today` that were not reminded: (statement, case).
pub async fn to_remind(conn: &mut AsyncPgConnection, today: NaiveDate, days: i64) -> QueryResult<Vec<(i64, i64)>> {
    open_statements()
        .filter(statements::reminded_at.is_null())
        .filter(statements::due_on.ge(today))
        .filter(statements::due_on.le(today + chrono::Duration::days(days)))
        .select((statements::id, statements::application_id))
        .load(conn)
        .await
}
