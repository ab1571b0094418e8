//! The applicant's commands on applications: create, save (with version), submit, withdraw,
//! copy; attachments; messages. Each command is one transaction with its event.

use super::Actor;
use super::catalogue::Catalogue;
use super::command::{Seen, on_case};
use super::invoices::Bill;
use super::notifications;
use super::pricing::Payment;
use super::transfers::TransferView;
use crate::db::{
    self,
    applications::{Application, Attachment, FormColumns, Message, Submission},
    billing::EstimateRow,
    cases::{Decision, ReleaseView},
    catalogue::Organisation,
    events::Event,
    users::User,
};
use crate::domain::case::{self, Command, Refusal, State};
use crate::domain::fields::FieldErrors;
use crate::domain::form::{self, ATTACHMENT_KINDS, ApplicationForm, Mode, SourceInfo};
use crate::domain::paging::{Page, Slice};
use crate::domain::pricing::Estimate;
use crate::domain::role::{Permission, Role};
use crate::domain::{deadlines, files, reference};
use crate::error::{AppError, AppResult};
use crate::storage::Storage;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};

pub use crate::domain::access::{Access, Audience};

/// `user` with `access` to a case, as the visibility of its parts needs it.
pub fn audience(access: Access, user: &User) -> Audience {
    Audience { access, organisation_id: user.organisation_id }
}

/// Loads an application if `user` may see it; otherwise 404 (never someone else's data).
pub async fn load(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<(Application, Access)> {
    let app = db::applications::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
    let access = access(conn, user, &app).await?.ok_or(AppError::NotFound)?;
    Ok((app, access))
}

/// What `user` may do with `app` (already read), or not found.
pub async fn access_to(conn: &mut AsyncPgConnection, user: &User, app: &Application) -> AppResult<Access> {
    access(conn, user, app).await?.ok_or(AppError::NotFound)
}

async fn access(conn: &mut AsyncPgConnection, user: &User, app: &Application) -> AppResult<Option<Access>> {
    use crate::domain::access::{self, Lookup};
    let viewer = access::Viewer {
        id: user.id,
        role: user.role,
        organisation_id: user.organisation_id,
        email_verified: user.email_verified_at.is_some(),
    };
    let seen = access::Seen { applicant_id: app.applicant_id, submitted: app.first_submitted_at.is_some() };
    let found = match access::lookup(viewer, seen) {
        Lookup::Nothing => false,
        Lookup::Membership => db::applications::is_member(conn, app.id, &user.email).await?,
        Lookup::RequestsSourceOf(org) => db::applications::requests_source_of(conn, app.id, org).await?,
    };
    Ok(access::access(viewer, seen, found))
}

/// The applications a user may list, all of them (the search).
pub async fn list(conn: &mut AsyncPgConnection, user: &User) -> AppResult<Vec<db::applications::Summary>> {
    visible(conn, user, (0, i64::MAX, None)).await
}

/// A slice of the applications a user may list, newest first (the API's list), and the cursor
/// of the next slice when more follow.
pub async fn list_slice(
    conn: &mut AsyncPgConnection,
    user: &User,
    slice: Slice,
) -> AppResult<(Vec<db::applications::Summary>, Option<i64>)> {
    let mut rows = visible(conn, user, slice.window()).await?;
    let next = slice.cut(&mut rows, |a| a.id);
    Ok((rows, next))
}

/// One page of the applications a user may list, newest first, and whether more follow.
pub async fn list_page(
    conn: &mut AsyncPgConnection,
    user: &User,
    page: Page,
) -> AppResult<(Vec<db::applications::Summary>, bool)> {
    // One row beyond the page tells whether there is a next one, without counting them all.
    let mut rows = visible(conn, user, (page.offset, page.size + 1, None)).await?;
    let more = rows.len() as i64 > page.size;
    rows.truncate(page.size as usize);
    Ok((rows, more))
}

/// The applications a user may list in a window (see [`db::applications::Window`]).
async fn visible(
    conn: &mut AsyncPgConnection,
    user: &User,
    window: db::applications::Window,
) -> AppResult<Vec<db::applications::Summary>> {
    Ok(match user.role {
        Role::Applicant => {
            // Only a confirmed address brings the applications that name it as a member.
            let email = if user.email_verified_at.is_some() { user.email.as_str() } else { "" };
            db::applications::of_person(conn, user.id, email, window).await?
        }
        Role::CaseOfficer => db::applications::all_submitted(conn, window).await?,
        Role::RegisterOwner => match user.organisation_id {
            Some(org) => db::applications::for_organisation(conn, org, window).await?,
            None => vec![],
        },
        Role::Admin | Role::Reviewer => vec![],
    })
}

/// The stored form of an application.
pub fn form_of(app: &Application) -> ApplicationForm {
    serde_json::from_value(app.form.clone()).unwrap_or_default()
}

fn columns(form: &ApplicationForm) -> FormColumns {
    FormColumns {
        kind: if form::KINDS.contains(&form.kind.as_str()) { form.kind.clone() } else { "identifiable".into() },
        application_type: if form::TYPES.contains(&form.application_type.as_str()) {
            form.application_type.clone()
        } else {
            "new".into()
        },
        title: form.title.chars().take(200).collect(),
        form: serde_json::to_value(form).unwrap_or(Value::Null),
    }
}

/// A lifecycle refusal as the HTTP error it is (403 or 409).
pub(crate) fn refusal(r: Refusal) -> AppError {
    match r {
        Refusal::Forbidden(m) => AppError::Forbidden(m.into()),
        Refusal::Conflict(m) => AppError::Conflict(m.into()),
    }
}

/// The user as the lifecycle sees an actor.
pub(crate) fn case_actor(user: &User) -> case::Actor {
    case::Actor { id: user.id, role: user.role }
}

/// Appends an event about an application and notifies whoever must act or should know (inside
/// the caller's transaction, after the change it records has been written).
pub(crate) async fn record(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    application_id: i64,
    kind: &str,
    payload: Value,
) -> AppResult<()> {
    match db::applications::by_id(tx, application_id).await? {
        Some(app) => record_on(tx, actor, now, &app, kind, payload).await,
        None => {
            super::record_event(tx, actor, now, ("application", Some(application_id)), kind, payload).await?;
            Ok(())
        }
    }
}

/// [`record`] for the application as the caller has just written it. Who is told is read
/// first; then the chain's lock with the last hash, the event, and what it tells take three round
/// trips, so the event chain's lock is held as briefly as possible.
pub(crate) async fn record_on(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    app: &Application,
    kind: &str,
    payload: Value,
) -> AppResult<()> {
    let pending = notifications::Pending { kind, actor_id: actor.user_id, payload: &payload };
    let plan = notifications::plan(tx, app, pending).await?;
    let event = super::record_event(tx, actor, now, ("application", Some(app.id)), kind, payload).await?;
    notifications::deliver(tx, &plan, app, &event, now).await?;
    Ok(())
}

/// What the validator needs from the database.
pub struct ValidationFacts {
    pub sources: Vec<SourceInfo>,
    pub attachment_kinds: Vec<String>,
    pub own_references: Vec<String>,
}

/// Reads what checking `form` needs: the sources it names with their variables, the
/// application's attachments, and whether the earlier case it names (if any) is the applicant's
/// own.
pub async fn facts(
    conn: &AsyncPgConnection,
    applicant_id: i64,
    application_id: Option<i64>,
    form: &ApplicationForm,
) -> AppResult<ValidationFacts> {
    // Only the sources the form names (and their variables), the attachments and the earlier
    // case it names are read, all at once (pipelined).
    let ids = form.source_ids();
    let catalogue = async {
        if ids.is_empty() {
            return Ok((vec![], vec![]));
        }
        tokio::try_join!(db::catalogue::sources_by_ids(conn, &ids), db::catalogue::variables_of(conn, &ids))
    };
    let attachments = async {
        match application_id {
            Some(id) => db::applications::attachments_of(conn, id).await,
            None => Ok(vec![]),
        }
    };
    let references = async {
        match &form.previous_reference {
            Some(r) => db::applications::own_reference(conn, applicant_id, r, application_id).await,
            None => Ok(vec![]),
        }
    };
    let ((sources, variables), attachments, own_references) =
        tokio::try_join!(biased; catalogue, attachments, references)?;
    let sources = sources
        .iter()
        .map(|s| SourceInfo {
            id: s.id,
            on_common_form: s.on_common_form,
            variables: variables.iter().filter(|v| v.data_source_id == s.id).map(|v| v.name.clone()).collect(),
        })
        .collect();
    let attachment_kinds = attachments.into_iter().map(|a| a.kind).collect();
    Ok(ValidationFacts { sources, attachment_kinds, own_references })
}

/// Checks a form in `mode` against the catalogue and the application's attachments.
pub fn check(form: &ApplicationForm, mode: Mode, facts: &ValidationFacts) -> FieldErrors {
    let ctx = form::Context {
        sources: &facts.sources,
        attachment_kinds: &facts.attachment_kinds,
        own_references: &facts.own_references,
    };
    form::validate(form, mode, &ctx)
}

/// Creates a draft from a (partial) form.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    form: ApplicationForm,
    copied_from: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    super::require(user, Permission::Apply)?;
    let form = form.normalised();
    let facts = facts(conn, user.id, None, &form).await?;
    check(&form, Mode::Draft, &facts).into_result().map_err(AppError::Validation)?;
    let cols = columns(&form);
    let (user_id, actor) = (user.id, actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        let app = db::applications::insert(tx, user_id, &cols, copied_from, now).await?;
        db::applications::sync_members_and_sources(tx, app.id, &form.members, &form.source_ids()).await?;
        let payload = json!({"kind": app.kind, "type": app.application_type, "copied_from": copied_from});
        record(
            tx,
            &actor,
            now,
            app.id,
            if copied_from.is_some() { "application.copied" } else { "application.created" },
            payload,
        )
        .await?;
        Ok(app)
    })
    .await
}

/// Replaces the form of a draft (or a returned application) if `version` is current.
pub async fn save(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    version: i32,
    form: ApplicationForm,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, access) = load(conn, user, id).await?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-applicant-edits".into()));
    }
    if !app.state.editable() {
        return Err(AppError::Conflict("err-submitted-not-editable".into()));
    }
    let form = form.normalised();
    let facts = facts(conn, user.id, Some(id), &form).await?;
    check(&form, Mode::Draft, &facts).into_result().map_err(AppError::Validation)?;
    let cols = columns(&form);
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let saved = db::applications::update_form(tx, id, version, &cols, now).await?.ok_or_else(stale)?;
        db::applications::sync_members_and_sources(tx, id, &form.members, &form.source_ids()).await?;
        record(tx, &actor, now, id, "application.saved", json!({"version": saved.version})).await?;
        Ok(saved)
    })
    .await
}

/// The answer to an edit based on an old version.
pub fn stale() -> AppError {
    AppError::Conflict("err-stale".into())
}

/// Submits: every rule runs (422 with every problem), a reference is assigned (kept on
/// resubmission), the estimate is recorded as accepted, the due date set.
/// What the submitter saw, checked before the submission goes through: the version edited (a
/// later change is a conflict) and the price estimate accepted (a changed estimate is one too).
#[derive(Debug, Clone, Copy, Default)]
pub struct Expected {
    pub version: Option<i32>,
    pub estimate_ore: Option<i64>,
}

pub async fn submit(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    expected: Expected,
    target_working_days: u32,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, _) = load(conn, user, id).await?;
    case::apply(&super::cases::case_from(&app, &[], None, None), Command::Submit, case_actor(user), now)
        .map_err(refusal)?;
    if expected.version.is_some_and(|v| v != app.version) {
        return Err(stale());
    }
    let form = form_of(&app).normalised();
    // The estimate from the price lists in force today (SPEC §8), as the review page showed it.
    let estimate = super::pricing::estimate_form(conn, &form, deadlines::oslo_date(now)).await?;
    let (estimate_ore, exemption) = (estimate.total_ore, estimate.exemption.clone());
    let sources = form.source_ids().len();
    let allowed = deadlines::allowed_working_days(!form.is_identifiable(), sources, target_working_days);
    let due_date = deadlines::add_working_days(deadlines::oslo_date(now), allowed);
    let actor = actor.clone();
    let seen = Seen { version: Some(app.version), state: None };
    on_case(conn, id, seen, async move |tx, current| {
        if !current.state.editable() {
            return Err(stale());
        }
        // Checked under the lock: attachments change without a version.
        let facts = self::facts(tx, current.applicant_id, Some(id), &form).await?;
        check(&form, Mode::Submit, &facts).into_result().map_err(AppError::Validation)?;
        if expected.estimate_ore.is_some_and(|accepted| accepted != estimate_ore) {
            return Err(AppError::Conflict("err-estimate-changed".into()));
        }
        let reference = match &current.reference {
            Some(r) => r.clone(),
            None => {
                let year = now.year();
                reference::format(year, db::applications::next_reference_number(tx, year).await?)
            }
        };
        let submission = Submission { reference: &reference, estimate_ore, due_date, now };
        let submitted = db::applications::mark_submitted(tx, &current, &submission).await?;
        let payload = json!({
            "reference": reference, "estimate_ore": estimate_ore, "estimate_accepted": true,
            "fee_exemption": exemption, "due_date": due_date, "resubmission": current.submit_count > 0,
        });
        record_on(tx, &actor, now, &submitted, "application.submitted", payload).await?;
        super::members::invite_new(tx, &actor, &submitted, &form.members, now).await?;
        Ok(submitted)
    })
    .await
}

/// The application `user` may withdraw now, with the transition (refused as withdrawing would
/// be): for the page that asks first.
pub async fn withdrawable(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<(Application, case::Transition)> {
    let (app, _) = load(conn, user, id).await?;
    let t = case::apply(&super::cases::case_from(&app, &[], None, None), Command::Withdraw, case_actor(user), now)
        .map_err(refusal)?;
    Ok((app, t))
}

/// Withdraws an application before a decision.
pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, t) = withdrawable(conn, user, id, now).await?;
    let actor = actor.clone();
    on_case(conn, id, Seen { version: None, state: Some(app.state) }, async move |tx, current| {
        let updated = db::applications::set_state(tx, &current, t.to.code(), now).await?;
        // Its open releases go with it; the owners hear of it (`notifications`, from the list).
        let mut releases: Vec<i64> = db::cases::withdraw_releases(tx, id).await?.iter().map(|r| r.id).collect();
        releases.sort_unstable();
        record(tx, &actor, now, id, t.event, json!({"from": current.state, "releases_withdrawn": releases})).await?;
        super::cases::wind_up(tx, &actor, now, &updated).await?;
        Ok(updated)
    })
    .await
}

/// Copies a submitted or withdrawn application into a new draft of the same applicant.
pub async fn copy(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, access) = load(conn, user, id).await?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-applicant-copies".into()));
    }
    if app.state == State::Draft {
        return Err(AppError::Conflict("err-draft-not-copied".into()));
    }
    create(conn, user, actor, form_of(&app), Some(id), now).await
}

/// Stores an attachment (while the application is editable), sniffing its type. No database
/// connection is held while the body streams in: one is taken for the checks and returned, and
/// another for the short transaction that records the attachment.
#[allow(clippy::too_many_arguments)]
pub async fn add_attachment<R: tokio::io::AsyncRead + Unpin>(
    pool: &crate::db::Pool,
    storage: &Storage,
    user: &User,
    actor: &Actor,
    id: i64,
    kind: &str,
    raw_name: &str,
    body: R,
    max_bytes: u64,
    now: DateTime<Utc>,
) -> AppResult<Attachment> {
    let (app, access) = load(&mut *super::conn(pool).await?, user, id).await?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-applicant-attaches".into()));
    }
    if !app.state.editable() {
        return Err(AppError::Conflict("err-submitted-not-editable".into()));
    }
    let mut errors = FieldErrors::new();
    if !ATTACHMENT_KINDS.contains(&kind) {
        errors.add("kind", "err-choice");
    }
    let name = files::sanitise_name(raw_name);
    if name.is_none() {
        errors.add("name", "err-file-name");
    }
    errors.into_result().map_err(AppError::Validation)?;
    let name = name.unwrap_or_default();
    let stored = storage.put(body, max_bytes).await.map_err(super::storage_error)?;
    let Some(content_type) = files::sniff_document(&stored.head, &name) else {
        let _ = storage.delete(&stored.key).await;
        return Err(AppError::field("file", "err-file-type"));
    };
    let attachment = Attachment {
        id: uuid::Uuid::new_v4(),
        application_id: id,
        kind: kind.to_string(),
        name,
        content_type: content_type.to_string(),
        size: stored.size as i64,
        sha256: stored.sha256.clone(),
        storage_key: stored.key.clone(),
        uploaded_by: user.id,
        created_at: now,
        deleted_at: None,
    };
    let (a, actor) = (attachment.clone(), actor.clone());
    let mut conn = match super::conn(pool).await {
        Ok(conn) => conn,
        Err(e) => {
            let _ = storage.delete(&stored.key).await;
            return Err(e);
        }
    };
    let result = on_case(&mut conn, id, Seen::ANY, async move |tx, current| {
        if !current.state.editable() {
            return Err(AppError::Conflict("err-submitted-not-editable".into()));
        }
        db::applications::insert_attachment(tx, &a).await?;
        record(
            tx,
            &actor,
            now,
            id,
            "attachment.added",
            json!({"id": a.id, "kind": a.kind, "name": a.name, "size": a.size, "sha256": a.sha256}),
        )
        .await?;
        Ok(())
    })
    .await;
    if let Err(e) = result {
        let _ = storage.delete(&stored.key).await;
        return Err(e);
    }
    Ok(attachment)
}

/// Removes an attachment while the application is editable.
pub async fn remove_attachment(
    conn: &mut AsyncPgConnection,
    storage: &Storage,
    user: &User,
    actor: &Actor,
    id: i64,
    attachment_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (app, access) = load(conn, user, id).await?;
    let attachment = db::applications::attachment(conn, id, attachment_id).await?.ok_or(AppError::NotFound)?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-applicant-removes-attachments".into()));
    }
    if !app.state.editable() {
        return Err(AppError::Conflict("err-attachments-kept".into()));
    }
    let (a, actor) = (attachment.clone(), actor.clone());
    on_case(conn, id, Seen::ANY, async move |tx, current| {
        if !current.state.editable() {
            return Err(AppError::Conflict("err-attachments-kept".into()));
        }
        if db::applications::mark_attachment_deleted(tx, a.id, now).await? != 1 {
            return Err(AppError::NotFound);
        }
        record(tx, &actor, now, id, "attachment.removed", json!({"id": a.id, "kind": a.kind, "name": a.name})).await?;
        Ok(())
    })
    .await?;
    storage.delete(&attachment.storage_key).await.map_err(|e| AppError::Internal(e.to_string()))
}

/// Finds an attachment for download by someone who may see the application; the access is logged.
pub async fn open_attachment(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    attachment_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> AppResult<Attachment> {
    load(conn, user, id).await?;
    let attachment = db::applications::attachment(conn, id, attachment_id).await?.ok_or(AppError::NotFound)?;
    record_download(conn, actor, &attachment, json!({}), now).await?;
    Ok(attachment)
}

/// Logs that an attachment was opened (an event of its case), with `extra` details (an object)
/// beside its id and name.
pub(crate) async fn record_download(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    a: &Attachment,
    extra: Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut payload = json!({"id": a.id, "name": a.name});
    if let (Value::Object(p), Value::Object(e)) = (&mut payload, extra) {
        p.extend(e);
    }
    let (id, actor) = (a.application_id, actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        record(tx, &actor, now, id, "attachment.downloaded", payload).await
    })
    .await
}

/// Posts a message on a case; internal notes only from case officers and register owners.
pub async fn post_message(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    body: &str,
    internal: bool,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let (app, access) = load(conn, user, id).await?;
    if access == Access::Member {
        return Err(AppError::Forbidden("err-members-read-only".into()));
    }
    if internal && !access.sees_internal() {
        return Err(AppError::Forbidden("err-notes-staff-only".into()));
    }
    if access == Access::RegisterOwner && !internal {
        return Err(AppError::Forbidden("err-owners-write-notes".into()));
    }
    // Not on a draft, nor on one withdrawn before it was sent: officers never saw it.
    if app.first_submitted_at.is_none() {
        return Err(AppError::Conflict("err-messages-after-submit".into()));
    }
    let mut errors = FieldErrors::new();
    let body = errors.text("body", body, 1, 10_000);
    errors.into_result().map_err(AppError::Validation)?;
    let actor = actor.clone();
    let author = user.id;
    on_case(conn, id, Seen::ANY, async move |tx, _| {
        let message_id = db::applications::insert_message(tx, id, author, internal, &body, now).await?;
        let kind = if internal { "note.posted" } else { "message.posted" };
        record(tx, &actor, now, id, kind, json!({"message_id": message_id})).await?;
        Ok(message_id)
    })
    .await
}

/// Everything the JSON of an application shows besides its row, read at once.
pub struct CaseFile {
    pub attachments: Vec<Attachment>,
    /// The events about the application that the reader may see.
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    pub releases: Vec<ReleaseView>,
    pub decision: Option<Decision>,
    /// Helseklage's outcome, when an upheld appeal has been answered.
    pub helseklage: Option<crate::db::cases::HelseklageOutcome>,
    /// The revised estimates.
    pub revised: Vec<EstimateRow>,
    /// The current estimate (intake fee and revised estimates).
    pub estimate: Estimate,
    pub bill: Option<Bill>,
    pub transfers: Vec<TransferView>,
}

/// The case file of `app` as `who` sees it.
pub async fn case_file(conn: &AsyncPgConnection, app: &Application, who: Audience) -> AppResult<CaseFile> {
    let access = who.access;
    let form = form_of(app);
    // Independent reads, sent together on the one connection (diesel-async pipelines queries
    // polled at once over a shared reference) instead of one round trip each.
    let (
        attachments,
        events,
        messages,
        releases,
        decision,
        helseklage,
        orgs,
        revised,
        (versions, facts),
        bill,
        all_transfers,
    ) = tokio::try_join!(
        biased;
        super::read(db::applications::attachments_of(conn, app.id)),
        super::read(db::events::for_subject(conn, "application", app.id)),
        super::read(db::applications::messages_of(conn, app.id, access.sees_internal())),
        super::read(db::cases::releases_of(conn, app.id)),
        super::read(db::cases::latest_decision(conn, app.id)),
        super::read(db::cases::helseklage_of(conn, app.id)),
        super::read(db::catalogue::organisations(conn)),
        super::read(db::billing::estimates_of(conn, app.id)),
        super::pricing::pricing_inputs(conn, &form),
        super::invoices::bill(conn, app.id),
        super::read(db::transfers::of_application(conn, app.id)),
    )?;
    let events = super::transfers::visible_events(events, who, &all_transfers);
    let transfers = super::transfers::visible_with_files(conn, &all_transfers, who).await?;
    let estimate = super::pricing::estimate_application_of(app, &versions, &facts, &orgs, &revised);
    Ok(CaseFile { attachments, events, messages, releases, decision, helseklage, revised, estimate, bill, transfers })
}

/// What an application's status page shows, read for `user` (404 unless they may see it).
pub struct StatusFile {
    pub app: Application,
    pub access: Access,
    /// The name of the case officer the case is assigned to (officers' names stand in the
    /// case's letters too).
    pub assignee: Option<String>,
    /// The events about the application that `access` may see.
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    pub attachments: Vec<Attachment>,
    pub payment: Payment,
    pub releases: Vec<ReleaseView>,
    pub decision: Option<Decision>,
    pub helseklage: Option<crate::db::cases::HelseklageOutcome>,
    pub transfers: Vec<TransferView>,
    /// The catalogue rows of the sources the form asks for.
    pub sources: Vec<crate::db::catalogue::DataSource>,
    /// For a register owner of a case whose data are to be linked: the other organisations an
    /// extract may go to for linkage (empty otherwise).
    pub linkage_holders: Vec<crate::db::catalogue::Organisation>,
    /// The statements asked on the case (`statements::of_application`).
    pub statements: Vec<crate::db::statements::StatementRow>,
    /// For the applicant and the members: the granted sources whose data-use terms they have
    /// not accepted yet (their files stay closed to them until they do).
    pub terms_outstanding: Vec<i64>,
}

/// Reads the status page of application `id` for `user`.
pub async fn status_file(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<StatusFile> {
    let (app, access) = load(conn, user, id).await?;
    let who = audience(access, user);
    // The case's own rows do not depend on each other: sent together (pipelined, issue 25).
    let shared: &AsyncPgConnection = conn;
    let source_ids = form_of(&app).source_ids();
    let assignee = async {
        match app.assignee_id {
            Some(officer) => super::read(db::users::name_of(shared, officer)).await,
            None => Ok(None),
        }
    };
    let ((events, releases, all_transfers), messages, attachments, decision, helseklage, sources, payment, assignee) =
        tokio::try_join!(
            biased;
            timeline(shared, id, who),
            super::read(db::applications::messages_of(shared, id, access.sees_internal())),
            super::read(db::applications::attachments_of(shared, id)),
            super::read(db::cases::latest_decision(shared, id)),
            super::read(db::cases::helseklage_of(shared, id)),
            super::read(db::catalogue::sources_by_ids(shared, &source_ids)),
            super::pricing::payment(shared, &app, access),
            assignee,
        )?;
    // From the organisations the payment has read.
    let linkage_holders: Vec<_> = if access == Access::RegisterOwner && form_of(&app).linkage == Some(true) {
        payment.organisations.iter().filter(|o| Some(o.id) != user.organisation_id && !o.is_hds).cloned().collect()
    } else {
        vec![]
    };
    // Then what depends on the timeline's transfers and the releases, sent together too.
    // Everyone who sees the case reads its statements (`statements::of_application`).
    let statements = db::statements::rows(shared, db::statements::Scope::Application(id));
    let granted = super::members::granted_sources(&releases);
    let terms_outstanding = async {
        if matches!(access, Access::Applicant | Access::Member) {
            // From the releases already read for the page.
            super::members::outstanding_among(shared, id, user.id, &granted).await
        } else {
            Ok(vec![])
        }
    };
    let (transfers, statements, terms_outstanding) = tokio::try_join!(
        biased;
        super::transfers::visible_with_files(shared, &all_transfers, who),
        super::read(statements),
        terms_outstanding,
    )?;
    Ok(StatusFile {
        app,
        access,
        assignee,
        events,
        messages,
        attachments,
        payment,
        releases,
        decision,
        helseklage,
        transfers,
        sources,
        linkage_holders,
        statements,
        terms_outstanding,
    })
}

/// What the form page shows besides the form: the catalogue, the application's attachments and
/// the estimate of the form from the price lists in force on `day`.
pub struct FormSupport {
    pub catalogue: Catalogue,
    pub attachments: Vec<Attachment>,
    pub estimate: Estimate,
}

/// Reads what the form page of application `id` shows besides `form`.
pub async fn form_support(
    conn: &AsyncPgConnection,
    id: i64,
    form: &ApplicationForm,
    day: NaiveDate,
) -> AppResult<FormSupport> {
    let catalogue = super::catalogue::catalogue(conn, None).await?;
    let attachments = db::applications::attachments_of(conn, id).await?;
    let estimate = super::pricing::estimate_form(conn, form, day).await?;
    Ok(FormSupport { catalogue, attachments, estimate })
}

/// What the review page shows: the form as it would be submitted, its problems, every
/// organisation and the estimate from the price lists in force on `day`.
pub struct Review {
    pub form: ApplicationForm,
    pub errors: FieldErrors,
    pub organisations: Vec<Organisation>,
    pub estimate: Estimate,
}

/// Checks `app`'s form as a submission would and estimates its price.
pub async fn review(conn: &AsyncPgConnection, app: &Application, day: NaiveDate) -> AppResult<Review> {
    let form = form_of(app).normalised();
    let facts = facts(conn, app.applicant_id, Some(app.id), &form).await?;
    let errors = check(&form, Mode::Submit, &facts);
    let organisations = db::catalogue::organisations(conn).await?;
    let estimate = super::pricing::estimate_form_among(conn, &form, day, &organisations).await?;
    Ok(Review { form, errors, organisations, estimate })
}

/// What still stands between the saved form of `app` and its submission (for the progress per
/// section on the form page).
pub async fn progress(conn: &AsyncPgConnection, app: &Application) -> AppResult<FieldErrors> {
    let form = form_of(app).normalised();
    let facts = facts(conn, app.applicant_id, Some(app.id), &form).await?;
    Ok(check(&form, Mode::Submit, &facts))
}

/// What the printable page of an application shows, read for `user` (404 unless they may see it).
pub struct Printout {
    pub app: Application,
    pub releases: Vec<ReleaseView>,
    pub decision: Option<Decision>,
    /// The events about the application that the reader may see.
    pub events: Vec<Event>,
    /// The catalogue rows of the sources the form asks for.
    pub sources: Vec<crate::db::catalogue::DataSource>,
}

/// Reads the printable page of application `id` for `user`.
pub async fn printout(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<Printout> {
    let (app, access) = load(conn, user, id).await?;
    let (events, releases, _) = timeline(conn, id, audience(access, user)).await?;
    let decision = db::cases::latest_decision(conn, id).await?;
    let sources = requested_sources(conn, &app).await?;
    Ok(Printout { app, releases, decision, events, sources })
}

/// The catalogue rows of the sources an application's form asks for.
pub async fn requested_sources(
    conn: &mut AsyncPgConnection,
    app: &Application,
) -> AppResult<Vec<crate::db::catalogue::DataSource>> {
    Ok(db::catalogue::sources_by_ids(conn, &form_of(app).source_ids()).await?)
}

/// The events of application `id` that `who` may see, with the releases and transfers of the
/// case that the visibility rule looked at.
async fn timeline(
    conn: &AsyncPgConnection,
    id: i64,
    who: Audience,
) -> AppResult<(Vec<Event>, Vec<ReleaseView>, Vec<crate::db::transfers::Transfer>)> {
    let (events, releases, transfers) = tokio::try_join!(
        biased;
        super::read(db::events::for_subject(conn, "application", id)),
        super::read(db::cases::releases_of(conn, id)),
        super::read(db::transfers::of_application(conn, id)),
    )?;
    let events = super::transfers::visible_events(events, who, &transfers);
    Ok((events, releases, transfers))
}
