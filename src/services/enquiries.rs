//! Pre-application enquiries (forhåndsveiledning, `domain::enquiry`): a researcher asks about
//! sources before applying; case officers and the register owners of the sources named answer
//! in a thread; the researcher turns the enquiry into a draft application with its sources
//! filled in. Each change is an event of the enquiry (subject `enquiry`), told by notice and mail.

use super::Actor;
use crate::db::enquiries::{Enquiry, EnquiryMessage, Listed, Scope};
use crate::db::{self, applications::Application, catalogue::DataSource, users::User};
use crate::domain::enquiry::{self as rule, Reader, State};
use crate::domain::fields::FieldErrors;
use crate::domain::form::{ApplicationForm, SourceRequest};
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde_json::{Value, json};

/// A new enquiry.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnquiry {
    /// What it is about, in a line.
    #[serde(default)]
    pub subject: String,
    /// The question.
    #[serde(default)]
    pub question: String,
    /// The catalogue's sources it is about (may be empty).
    #[serde(default)]
    pub source_ids: Vec<i64>,
}

/// An enquiry with its sources and thread, as its reader sees it.
pub struct EnquiryFile {
    pub enquiry: Enquiry,
    pub reader: Reader,
    pub asker_name: String,
    pub sources: Vec<DataSource>,
    pub messages: Vec<EnquiryMessage>,
}

impl EnquiryFile {
    pub fn state(&self) -> State {
        State::from_code(&self.enquiry.state).unwrap_or(State::Open)
    }
}

fn refused(key: &'static str) -> AppError {
    match key {
        "err-enquiry-closed" | "err-enquiry-applied" => AppError::Conflict(key.into()),
        _ => AppError::Forbidden(key.into()),
    }
}

/// Records an event about an enquiry and tells whom it concerns (in the caller's transaction).
async fn record(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    enquiry: &Enquiry,
    kind: &str,
    payload: Value,
) -> AppResult<()> {
    let event = super::record_event(tx, actor, now, ("enquiry", Some(enquiry.id)), kind, payload).await?;
    super::notifications::notify_enquiry(tx, &event, enquiry, now).await?;
    Ok(())
}

/// A researcher asks.
pub async fn open(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    input: NewEnquiry,
    now: DateTime<Utc>,
) -> AppResult<Enquiry> {
    super::require(user, Permission::Apply)?;
    let mut errors = FieldErrors::new();
    let (subject, question, source_ids) =
        rule::check_new(&input.subject, &input.question, &input.source_ids, &mut errors);
    let known = db::catalogue::sources_by_ids(conn, &source_ids).await?;
    if known.len() != source_ids.len() {
        errors.add("source_ids", "err-no-such-source");
    }
    errors.into_result().map_err(AppError::Validation)?;
    let (user_id, actor) = (user.id, actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        let enquiry = db::enquiries::insert(tx, user_id, &subject, &source_ids, &question, now).await?;
        record(tx, &actor, now, &enquiry, "enquiry.opened", json!({"subject": subject, "source_ids": source_ids}))
            .await?;
        Ok(enquiry)
    })
    .await
}

/// How `user` relates to `enquiry`, if at all.
async fn reader(conn: &mut AsyncPgConnection, user: &User, enquiry: &Enquiry) -> AppResult<Option<Reader>> {
    if enquiry.asker_id == user.id {
        return Ok(Some(Reader::Asker));
    }
    Ok(match (user.role, user.organisation_id) {
        (Role::CaseOfficer, _) => Some(Reader::Officer),
        (Role::RegisterOwner, Some(org)) if db::enquiries::names_source_of(conn, enquiry.id, org).await? => {
            Some(Reader::Owner)
        }
        _ => None,
    })
}

/// Reads enquiry `id` for `user`: the researcher who asked, the case officers and the register
/// owners of a source it names; 404 for anyone else.
pub async fn read(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<EnquiryFile> {
    let enquiry = db::enquiries::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
    let reader = reader(conn, user, &enquiry).await?.ok_or(AppError::NotFound)?;
    let sources = db::enquiries::sources_of(conn, id).await?;
    let messages = db::enquiries::messages_of(conn, id).await?;
    let asker_name = db::users::by_id(conn, enquiry.asker_id).await?.map(|u| u.name).unwrap_or_default();
    Ok(EnquiryFile { enquiry, reader, asker_name, sources, messages })
}

/// Writes in the thread: an answer (officer, owner) gives the turn to the researcher, a
/// researcher's message asks again.
pub async fn post(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<Enquiry> {
    let file = read(conn, user, id).await?;
    let mut errors = FieldErrors::new();
    let body = rule::check_message(body, &mut errors);
    errors.into_result().map_err(AppError::Validation)?;
    let (author, actor, reader) = (user.id, actor.clone(), file.reader);
    conn.transaction::<_, AppError, _>(async move |tx| {
        let enquiry = db::enquiries::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        let state = State::from_code(&enquiry.state).unwrap_or(State::Open);
        rule::may_post(state).map_err(refused)?;
        let message_id = db::enquiries::insert_message(tx, id, author, &body, now).await?;
        let next = rule::after_message(reader);
        db::enquiries::update(tx, id, next.code(), None, now).await?;
        let payload = json!({"message_id": message_id, "answer": reader.answers()});
        record(tx, &actor, now, &enquiry, "enquiry.message_posted", payload).await?;
        Ok(Enquiry { state: next.code().into(), updated_at: now, ..enquiry })
    })
    .await
}

/// The researcher or an officer closes the enquiry.
pub async fn close(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Enquiry> {
    let file = read(conn, user, id).await?;
    let (actor, reader) = (actor.clone(), file.reader);
    conn.transaction::<_, AppError, _>(async move |tx| {
        let enquiry = db::enquiries::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        let state = State::from_code(&enquiry.state).unwrap_or(State::Open);
        rule::may_close(reader, state).map_err(refused)?;
        db::enquiries::update(tx, id, State::Closed.code(), None, now).await?;
        record(tx, &actor, now, &enquiry, "enquiry.closed", json!({})).await?;
        Ok(Enquiry { state: State::Closed.code().into(), updated_at: now, ..enquiry })
    })
    .await
}

/// The researcher turns the enquiry into a draft application: its subject as the title, its
/// sources chosen (variables, period and selection to be filled in). Once; the enquiry stays
/// readable and names the draft.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let file = read(conn, user, id).await?;
    rule::may_apply(file.reader, file.enquiry.application_id.is_some()).map_err(refused)?;
    let form = ApplicationForm {
        title: file.enquiry.subject.clone(),
        data_sources: file
            .sources
            .iter()
            .filter(|s| s.on_common_form)
            .map(|s| SourceRequest { data_source_id: Some(s.id), ..SourceRequest::default() })
            .collect(),
        ..ApplicationForm::default()
    };
    let (user, actor) = (user.clone(), actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        let enquiry = db::enquiries::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        rule::may_apply(Reader::Asker, enquiry.application_id.is_some()).map_err(refused)?;
        let app = super::applications::create(tx, &user, &actor, form, None, now).await?;
        db::enquiries::update(tx, id, &enquiry.state, Some(app.id), now).await?;
        record(tx, &actor, now, &enquiry, "enquiry.applied", json!({"application_id": app.id})).await?;
        Ok(app)
    })
    .await
}

/// The enquiries on `user`'s list: a researcher's own, every one for officers, those naming
/// their organisation's sources for register owners.
pub async fn list(conn: &mut AsyncPgConnection, user: &User) -> AppResult<Vec<Listed>> {
    let scope = match (user.role, user.organisation_id) {
        (Role::CaseOfficer, _) => Scope::All,
        (Role::RegisterOwner, Some(org)) => Scope::Organisation(org),
        (Role::Applicant, _) => Scope::Asker(user.id),
        _ => return Err(AppError::Forbidden("err-role-may-not".into())),
    };
    Ok(db::enquiries::list(conn, scope, 500).await?)
}
