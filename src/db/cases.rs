//! Case handling: releases, decisions, case-state changes and the officers' inbox.

use super::applications::Application;
use super::prepared::KeepPreparedDsl;
use super::schema::{application_sources, applications, data_sources, decisions, helseklage_outcomes, releases, users};
use crate::domain::case::State;
use crate::domain::paging::Page;
use crate::domain::release::ReleaseState;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored release (utlevering): one requested source of one application.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = releases)]
pub struct Release {
    pub id: i64,
    pub application_id: i64,
    pub data_source_id: i64,
    pub decider: crate::domain::catalogue::DecisionAuthority,
    pub owner_organisation_id: i64,
    pub state: crate::domain::release::ReleaseState,
    pub conditions: String,
    pub reasons: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub delivered_by: Option<i64>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub environment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    pub reconsideration: Option<crate::domain::appeal::Reconsideration>,
    pub reconsidered_at: Option<DateTime<Utc>>,
    pub dispensation: bool,
}

/// A release with its source's code and names.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReleaseView {
    #[serde(flatten)]
    pub release: Release,
    pub code: String,
    pub name_nb: String,
    pub name_en: String,
}

/// Changes to an application's case columns; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = applications)]
pub struct CaseChanges {
    pub state: Option<&'static str>,
    pub assignee_id: Option<Option<i64>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub appeal_grounds: Option<String>,
    pub sent_to_helseklage_at: Option<DateTime<Utc>>,
    pub interim_reply_at: Option<DateTime<Utc>>,
    pub appealed_at: Option<DateTime<Utc>>,
    pub appeal_interim_reply_at: Option<Option<DateTime<Utc>>>,
    pub complete_submitted_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
}

/// Applies case changes and bumps the version. (Kept prepared once for each set of columns a
/// command changes: a handful.)
pub async fn update_case(
    conn: &mut AsyncPgConnection,
    app: &Application,
    changes: &CaseChanges,
    now: DateTime<Utc>,
) -> QueryResult<Application> {
    diesel::update(applications::table.find(app.id))
        .set((changes, applications::version.eq(applications::version + 1), applications::updated_at.eq(now)))
        .returning(Application::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

/// The requested sources with their decision authority and owner right now.
pub async fn routing(
    conn: &mut AsyncPgConnection,
    application_id: i64,
) -> QueryResult<Vec<(i64, String, i64, String)>> {
    application_sources::table
        .inner_join(data_sources::table)
        .filter(application_sources::application_id.eq(application_id))
        .select((data_sources::id, data_sources::decision_authority, data_sources::owner_id, data_sources::code))
        .order(data_sources::code)
        .load(conn)
        .await
}

pub async fn insert_release(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    source_id: i64,
    decider: &str,
    owner: i64,
    now: DateTime<Utc>,
) -> QueryResult<Release> {
    diesel::insert_into(releases::table)
        .values((
            releases::application_id.eq(application_id),
            releases::data_source_id.eq(source_id),
            releases::decider.eq(decider),
            releases::owner_organisation_id.eq(owner),
            releases::created_at.eq(now),
        ))
        .returning(Release::as_returning())
        .get_result(conn)
        .await
}

pub async fn releases_of(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<ReleaseView>> {
    let rows: Vec<(Release, String, String, String)> = releases::table
        .inner_join(data_sources::table)
        .filter(releases::application_id.eq(application_id))
        .order(data_sources::code)
        .select((Release::as_select(), data_sources::code, data_sources::name_nb, data_sources::name_en))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(release, code, name_nb, name_en)| ReleaseView { release, code, name_nb, name_en })
        .collect())
}

pub async fn release(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Release>> {
    releases::table.find(id).select(Release::as_select()).first(conn).await.optional()
}

pub async fn lock_release(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Release>> {
    releases::table.find(id).for_update().select(Release::as_select()).first(conn).await.optional()
}

/// Records a decision on a pending release.
#[allow(clippy::too_many_arguments)]
pub async fn decide_release(
    conn: &mut AsyncPgConnection,
    id: i64,
    to: crate::domain::release::ReleaseState,
    conditions: &str,
    reasons: &str,
    dispensation: bool,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<Release> {
    diesel::update(releases::table.find(id))
        .set((
            releases::state.eq(to.code()),
            releases::conditions.eq(conditions),
            releases::reasons.eq(reasons),
            releases::dispensation.eq(dispensation),
            releases::decided_by.eq(by),
            releases::decided_at.eq(now),
            releases::version.eq(releases::version + 1),
        ))
        .returning(Release::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

/// Records a delivery (files downloaded, or access granted in an analysis environment).
pub async fn deliver_release(
    conn: &mut AsyncPgConnection,
    id: i64,
    environment: Option<&str>,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<Release> {
    diesel::update(releases::table.find(id))
        .set((
            releases::state.eq("delivered"),
            releases::environment.eq(environment),
            releases::delivered_by.eq(by),
            releases::delivered_at.eq(now),
            releases::version.eq(releases::version + 1),
        ))
        .returning(Release::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

/// Withdraws the releases of a withdrawn application that are still open
/// (`ReleaseState::withdrawn_with_case`); returns them.
pub async fn withdraw_releases(conn: &mut AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Release>> {
    use crate::domain::release::ReleaseState;
    let open: Vec<&str> = ReleaseState::ALL.iter().filter(|s| s.withdrawn_with_case()).map(|s| s.code()).collect();
    diesel::update(
        releases::table.filter(releases::application_id.eq(application_id)).filter(releases::state.eq_any(open)),
    )
    .set((releases::state.eq(ReleaseState::Withdrawn.code()), releases::version.eq(releases::version + 1)))
    .returning(Release::as_returning())
    .get_results(conn)
    .await
}

/// On reconsideration the rejected releases are decided again.
/// The refused releases of an appealed decision wait for their deciders' reconsideration.
pub async fn mark_under_appeal(conn: &mut AsyncPgConnection, application_id: i64) -> QueryResult<usize> {
    diesel::update(
        releases::table.filter(releases::application_id.eq(application_id).and(releases::state.eq("rejected"))),
    )
    .set((releases::reconsideration.eq("pending"), releases::version.eq(releases::version + 1)))
    .keep_prepared()
    .execute(conn)
    .await
}

/// A decider's reconsideration of a refused release: reversed (granted, with conditions) or
/// upheld (with reasons).
#[allow(clippy::too_many_arguments)]
pub async fn reconsider_release(
    conn: &mut AsyncPgConnection,
    id: i64,
    to: crate::domain::release::ReleaseState,
    reconsideration: crate::domain::appeal::Reconsideration,
    conditions: &str,
    reasons: &str,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<Release> {
    diesel::update(releases::table.find(id))
        .set((
            releases::state.eq(to.code()),
            releases::reconsideration.eq(reconsideration.code()),
            releases::conditions.eq(conditions),
            releases::reasons.eq(reasons),
            releases::reconsidered_by.eq(by),
            releases::reconsidered_at.eq(now),
            releases::version.eq(releases::version + 1),
        ))
        .returning(Release::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

/// Grants releases (Helseklage reversed their refusal).
pub async fn grant_releases(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<usize> {
    diesel::update(releases::table.filter(releases::id.eq_any(ids).and(releases::state.eq("rejected"))))
        .set((releases::state.eq("approved"), releases::version.eq(releases::version + 1)))
        .keep_prepared()
        .execute(conn)
        .await
}

/// Helseklage's outcome on an appeal sent on to it.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = helseklage_outcomes)]
pub struct HelseklageOutcome {
    pub application_id: i64,
    pub outcome: crate::domain::appeal::HelseklageOutcome,
    pub decided_on: NaiveDate,
    pub reference: String,
    pub recorded_by: i64,
    pub recorded_at: DateTime<Utc>,
}

/// Records Helseklage's outcome (once: the key is the application).
pub async fn record_helseklage(conn: &mut AsyncPgConnection, outcome: &HelseklageOutcome) -> QueryResult<usize> {
    diesel::insert_into(helseklage_outcomes::table)
        .values((
            helseklage_outcomes::application_id.eq(outcome.application_id),
            helseklage_outcomes::outcome.eq(outcome.outcome.code()),
            helseklage_outcomes::decided_on.eq(outcome.decided_on),
            helseklage_outcomes::reference.eq(&outcome.reference),
            helseklage_outcomes::recorded_by.eq(outcome.recorded_by),
            helseklage_outcomes::recorded_at.eq(outcome.recorded_at),
        ))
        .execute(conn)
        .await
}

/// Helseklage's outcome for an application, if recorded.
pub async fn helseklage_of(mut conn: &AsyncPgConnection, id: i64) -> QueryResult<Option<HelseklageOutcome>> {
    helseklage_outcomes::table.find(id).select(HelseklageOutcome::as_select()).first(&mut conn).await.optional()
}

/// A release as a register owner's queue shows it: with its source's code and its case's
/// columns (not the form).
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub release: Release,
    pub code: String,
    pub application_id: i64,
    pub reference: Option<String>,
    pub title: String,
    pub case_state: State,
    /// Whether a revised estimate waits for the applicant (read with the row, as the inbox's).
    pub estimate_pending: bool,
}

/// One page of an organisation's releases, of one state or all, in the queue's order: by state,
/// then oldest first. The page's releases are found in the index `releases_queue` before
/// anything is joined to them, so a page costs the same at any depth.
pub async fn release_queue(
    conn: &mut AsyncPgConnection,
    organisation_id: i64,
    state: Option<ReleaseState>,
    (offset, limit): (i64, i64),
) -> QueryResult<Vec<QueueRow>> {
    let mut page = releases::table.filter(releases::owner_organisation_id.eq(organisation_id)).into_boxed();
    if let Some(state) = state {
        page = page.filter(releases::state.eq(state.code()));
    }
    let ids: Vec<i64> = page
        .order((releases::state, releases::created_at, releases::id))
        .offset(offset)
        .limit(limit)
        .select(releases::id)
        .load(conn)
        .await?;
    let rows = releases::table
        .inner_join(data_sources::table)
        .inner_join(applications::table)
        .filter(releases::id.eq_any(ids))
        .order((releases::state, releases::created_at, releases::id))
        .select((
            Release::as_select(),
            data_sources::code,
            applications::id,
            applications::reference,
            applications::title,
            applications::state,
            super::billing::estimate_waiting(),
        ))
        .load::<(Release, String, i64, Option<String>, String, State, bool)>(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(release, code, application_id, reference, title, case_state, estimate_pending)| QueueRow {
            release,
            code,
            application_id,
            reference,
            title,
            case_state,
            estimate_pending,
        })
        .collect())
}

/// How many releases an organisation has in each state (states without any left out).
pub async fn release_counts(
    conn: &mut AsyncPgConnection,
    organisation_id: i64,
) -> QueryResult<Vec<(ReleaseState, i64)>> {
    releases::table
        .filter(releases::owner_organisation_id.eq(organisation_id))
        .group_by(releases::state)
        .select((releases::state, diesel::dsl::count_star()))
        .order(releases::state)
        .load(conn)
        .await
}

/// A stored decision (vedtak) with its letter as sent.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = decisions)]
pub struct Decision {
    pub id: i64,
    pub application_id: i64,
    pub outcome: String,
    pub reasons: String,
    pub language: String,
    #[serde(skip)]
    pub letter_html: String,
    pub decided_by: i64,
    pub decided_at: DateTime<Utc>,
    pub appeal_deadline: NaiveDate,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_decision(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    outcome: &str,
    reasons: &str,
    language: &str,
    letter: &str,
    by: i64,
    now: DateTime<Utc>,
    deadline: NaiveDate,
) -> QueryResult<Decision> {
    diesel::insert_into(decisions::table)
        .values((
            decisions::application_id.eq(application_id),
            decisions::outcome.eq(outcome),
            decisions::reasons.eq(reasons),
            decisions::language.eq(language),
            decisions::letter_html.eq(letter),
            decisions::decided_by.eq(by),
            decisions::decided_at.eq(now),
            decisions::appeal_deadline.eq(deadline),
        ))
        .returning(Decision::as_returning())
        .get_result(conn)
        .await
}

pub async fn latest_decision(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Option<Decision>> {
    decisions::table
        .filter(decisions::application_id.eq(application_id))
        .order(decisions::id.desc())
        .select(Decision::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// Filters of the officers' inbox.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub states: InboxStates,
    /// `Some(None)` for unassigned, `Some(Some(id))` for one officer.
    pub assignee: Option<Option<i64>>,
    pub data_source_id: Option<i64>,
    pub overdue_on: Option<NaiveDate>,
    /// The order, and whether reversed.
    pub sort: InboxSort,
    pub descending: bool,
}

impl InboxFilter {
    /// Whether the filter narrows by state at most: then the counts per state say how many match.
    pub fn by_state_only(&self) -> bool {
        self.assignee.is_none() && self.data_source_id.is_none() && self.overdue_on.is_none()
    }
}

/// Which cases the inbox shows by their state: those waiting for a decision (the default: the
/// cases whose due date still means something; decided, delivered and closed cases, whose old
/// due dates put them first, are a click away), every case, or the cases in one state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InboxStates {
    #[default]
    Awaiting,
    All,
    One(State),
}

impl InboxStates {
    /// From the page's `?state=`: empty for the cases waiting for a decision, `all`, or a
    /// state's code (an unknown one, or a draft, which is never in the inbox, shows the default).
    pub fn from_code(code: Option<&str>) -> Self {
        match code {
            Some("all") => InboxStates::All,
            Some(code) => match State::from_code(code) {
                Some(state) if state != State::Draft => InboxStates::One(state),
                _ => InboxStates::Awaiting,
            },
            None => InboxStates::Awaiting,
        }
    }

    /// Whether a case in `state` (its code) is shown.
    pub fn shows(self, state: &str) -> bool {
        match self {
            InboxStates::All => true,
            InboxStates::Awaiting => State::from_code(state).is_some_and(State::awaiting_decision),
            InboxStates::One(one) => one.code() == state,
        }
    }
}

/// The condition of the cases waiting for a decision as SQL with the states written out: a
/// partial index (`applications_inbox_awaiting`) serves it only when the planner sees the states
/// themselves, not a parameter. The codes are the domain's own constants.
fn awaiting_states_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let states: Vec<String> =
            crate::domain::case::AWAITING_DECISION.iter().map(|s| format!("'{}'", s.code())).collect();
        format!("applications.state IN ({})", states.join(", "))
    })
}

/// The inbox's orders: by due date (the default), by first submission, by reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InboxSort {
    #[default]
    Due,
    Submitted,
    Reference,
}

impl InboxSort {
    pub const ALL: [InboxSort; 3] = [InboxSort::Due, InboxSort::Submitted, InboxSort::Reference];

    /// The code in the page's address (`?sort=`).
    pub fn code(self) -> &'static str {
        match self {
            InboxSort::Due => "due",
            InboxSort::Submitted => "submitted",
            InboxSort::Reference => "reference",
        }
    }

    pub fn from_code(code: &str) -> Option<InboxSort> {
        InboxSort::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// One line of the inbox: what the list shows, without the form (hundreds of rows a page).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct InboxRow {
    pub id: i64,
    pub reference: Option<String>,
    pub title: String,
    pub state: crate::domain::case::State,
    pub assignee_id: Option<i64>,
    pub due_date: Option<NaiveDate>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether a revised estimate waits for the applicant: read with the row, so that the
    /// inbox asks only about the cases it shows.
    #[diesel(select_expression = super::billing::estimate_waiting(), select_expression_type = super::billing::estimate_waiting)]
    pub estimate_pending: bool,
}

/// Submitted applications matching the filter, oldest due first.
/// The submitted applications that match `filter`, with `select` (the same filter for the
/// rows and for their count).
macro_rules! inbox_matching {
    ($filter:expr, $select:expr) => {
        inbox_matching!($filter, applications::table, $select)
    };
    ($filter:expr, $from:expr, $select:expr) => {{
        let filter: &InboxFilter = $filter;
        let mut q = $from.filter(applications::first_submitted_at.is_not_null()).select($select).into_boxed();
        match filter.states {
            InboxStates::Awaiting => q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(awaiting_states_sql())),
            InboxStates::One(state) => q = q.filter(applications::state.eq(state.code())),
            InboxStates::All => {}
        }
        match filter.assignee {
            Some(None) => q = q.filter(applications::assignee_id.is_null()),
            Some(Some(id)) => q = q.filter(applications::assignee_id.eq(id)),
            None => {}
        }
        if let Some(source) = filter.data_source_id {
            let ids = application_sources::table
                .filter(application_sources::data_source_id.eq(source))
                .select(application_sources::application_id);
            q = q.filter(applications::id.eq_any(ids));
        }
        if let Some(day) = filter.overdue_on {
            q = q.filter(
                applications::due_date
                    .lt(day)
                    .and(applications::state.eq_any(crate::domain::case::AWAITING_DECISION.map(|s| s.code()))),
            );
        }
        q
    }};
}

/// A boxed query of the inbox in `filter`'s order.
macro_rules! inbox_ordered {
    ($q:expr, $filter:expr) => {{
        let q = $q;
        match ($filter.sort, $filter.descending) {
            (InboxSort::Due, false) => q.order((applications::due_date.asc().nulls_last(), applications::id)),
            (InboxSort::Due, true) => q.order((applications::due_date.desc().nulls_last(), applications::id)),
            (InboxSort::Submitted, false) => q.order((applications::first_submitted_at.asc(), applications::id)),
            (InboxSort::Submitted, true) => q.order((applications::first_submitted_at.desc(), applications::id.desc())),
            (InboxSort::Reference, false) => q.order(applications::id.asc()),
            (InboxSort::Reference, true) => q.order(applications::id.desc()),
        }
    }};
}

/// One page of the cases that match `filter`, in its order.
pub async fn inbox(mut conn: &AsyncPgConnection, filter: &InboxFilter, page: Page) -> QueryResult<Vec<InboxRow>> {
    let q = inbox_ordered!(inbox_matching!(filter, InboxRow::as_select()), filter);
    q.offset(page.offset).limit(page.size).load(&mut conn).await
}

/// A case of the inbox's export, with the name of the officer it is assigned to (also when
/// that officer's account has since been closed: the case is still theirs).
pub type ExportRow = (InboxRow, Option<String>);

/// Every case that matches `filter`, in its order, as the database sends them: the export,
/// read as a stream so that neither the service nor the database holds them all at once.
pub async fn inbox_export<'c>(
    conn: &'c mut AsyncPgConnection,
    filter: &InboxFilter,
) -> QueryResult<impl rocket::futures::Stream<Item = QueryResult<ExportRow>> + Send + 'c> {
    let assignee = users::table.on(applications::assignee_id.eq(users::id.nullable()));
    let q = inbox_matching!(
        filter,
        applications::table.left_join(assignee),
        (InboxRow::as_select(), users::name.nullable())
    );
    inbox_ordered!(q, filter).load_stream(conn).await
}

/// How many cases match `filter`.
pub async fn inbox_count(mut conn: &AsyncPgConnection, filter: &InboxFilter) -> QueryResult<i64> {
    inbox_matching!(filter, diesel::dsl::count_star()).first(&mut conn).await
}

#[derive(diesel::QueryableByName)]
struct StateCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Submitted applications per state, as the database keeps them (`case_counts`, updated by the
/// trigger on applications in the same transaction as each change).
pub async fn counts_by_state(mut conn: &AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<StateCount> = diesel::sql_query(
        "SELECT state, sum(n)::bigint AS n FROM case_counts GROUP BY state HAVING sum(n) <> 0 ORDER BY state",
    )
    .keep_prepared()
    .load(&mut conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.state, r.n)).collect())
}

/// Records that an interim reply went out (the application's, or its appeal's); no version change:
/// nobody's edit is made stale.
pub async fn mark_interim_reply(
    conn: &mut AsyncPgConnection,
    id: i64,
    appeal: bool,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let row = applications::table.find(id);
    if appeal {
        diesel::update(row).set(applications::appeal_interim_reply_at.eq(now)).execute(conn).await
    } else {
        diesel::update(row).set(applications::interim_reply_at.eq(now)).execute(conn).await
    }
}

/// Submitted (or appealed) more than `waited` ago and not answered: the candidates for an
/// interim reply (the domain's `interim::due` decides on each).
pub async fn due_for_interim_reply(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<Vec<Application>> {
    let waiting = applications::state
        .eq_any([State::Submitted.code(), State::InReview.code()])
        .and(applications::first_submitted_at.lt(before))
        .and(applications::interim_reply_at.is_null());
    let appeal = applications::state
        .eq(State::Appealed.code())
        .and(applications::appealed_at.lt(before))
        .and(applications::appeal_interim_reply_at.is_null());
    applications::table.filter(waiting.or(appeal)).select(Application::as_select()).load(conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_shows_the_cases_waiting_for_a_decision_unless_told_otherwise() {
        assert_eq!(InboxStates::from_code(None), InboxStates::Awaiting);
        assert_eq!(InboxStates::from_code(Some("nonsense")), InboxStates::Awaiting);
        assert_eq!(InboxStates::from_code(Some("draft")), InboxStates::Awaiting, "drafts are never in the inbox");
        assert_eq!(InboxStates::from_code(Some("all")), InboxStates::All);
        assert_eq!(InboxStates::from_code(Some("closed")), InboxStates::One(State::Closed));
        assert!(InboxStates::Awaiting.shows("appealed") && InboxStates::Awaiting.shows("returned"));
        assert!(!InboxStates::Awaiting.shows("delivered") && !InboxStates::Awaiting.shows("closed"));
        assert!(!InboxStates::Awaiting.shows("approved") && !InboxStates::Awaiting.shows("withdrawn"));
        assert!(InboxStates::All.shows("closed"));
        assert!(InboxStates::One(State::Closed).shows("closed") && !InboxStates::One(State::Closed).shows("rejected"));
    }

    #[test]
    fn the_awaiting_cases_index_is_written_as_the_query_asks() {
        // The partial index serves the query only if its condition is the query's own.
        let migration = include_str!("../../migrations/2026-12-09-000036_inbox_awaiting/up.sql");
        let condition = awaiting_states_sql().trim_start_matches("applications.");
        assert!(migration.contains(condition), "{condition}");
    }
}
