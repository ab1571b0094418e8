//! Statements (uttalelser, `domain::statement`): a case officer asks a register owner or an
//! outside expert for a statement on a case. The reviewer is the account of the address asked
//! (linked), or one made for it with the role `reviewer`; an address without a confirmed account
//! gets an invitation link to set a password instead of a notice it could not open. The reviewer
//! sees only the case asked about (the application as submitted and its attachments), answers
//! once, and the request, the reminder and the answer are events of the case.

use super::Actor;
use super::accounts::{end_access, new_secret, secret_hash};
use super::applications::{self as apps, Access, record};
use super::command::{Seen, on_case};
use crate::db::statements::{NewStatement, Scope, Statement, StatementRow};
use crate::db::{self, applications::Application, applications::Attachment, users::NewUser, users::User};
use crate::domain::deadlines;
use crate::domain::email::EmailAddress;
use crate::domain::fields::FieldErrors;
use crate::domain::language::Language;
use crate::domain::role::Role;
use crate::domain::statement::{self as rule, Status};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde_json::json;

/// A request for a statement.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The reviewer's e-mail address: a register owner, an outside expert.
    #[serde(default)]
    pub email: String,
    /// The reviewer's name, for an address without an account (default: the address).
    #[serde(default)]
    pub name: Option<String>,
    /// The language of the invitation for an address without an account (`nb`, `nn`, `en`).
    #[serde(default)]
    pub language: Option<String>,
    /// What the reviewer is asked.
    #[serde(default)]
    pub question: String,
    /// The last day for the answer (`YYYY-MM-DD`).
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
}

/// How the person reading a statement relates to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The reviewer asked.
    Reviewer,
    /// A case officer, or a register owner of the case.
    Handler,
}

/// A statement as its reader sees it, with the case it is about.
pub struct StatementFile {
    pub row: StatementRow,
    pub reader: Reader,
    pub app: Application,
    pub sources: Vec<db::catalogue::DataSource>,
    pub attachments: Vec<Attachment>,
}

impl StatementFile {
    /// Whether this reader may answer it now.
    pub fn may_answer(&self) -> bool {
        rule::may_answer(self.reader == Reader::Reviewer, self.row.statement.progress())
    }
}

/// Where a statement stands today.
pub fn status(s: &Statement, now: DateTime<Utc>) -> Status {
    Status::of(s.due_on, s.progress(), deadlines::oslo_date(now))
}

/// The reviewer's name as the applicant's side is shown it: none where the officer gave no name
/// and only the address names the account (the address is not theirs to see).
pub fn name_for_party(row: &StatementRow) -> Option<&str> {
    (row.reviewer_name != row.reviewer_email && !row.reviewer_name.contains('@')).then_some(row.reviewer_name.as_str())
}

/// A reviewer's address is theirs once confirmed: until then, invitations go by link.
fn confirmed(user: &User) -> bool {
    user.email_verified_at.is_some()
}

/// A case officer asks for a statement on case `application_id`.
pub async fn request(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    application_id: i64,
    input: NewRequest,
    now: DateTime<Utc>,
) -> AppResult<StatementRow> {
    let (app, access) = apps::load(conn, user, application_id).await?;
    if access != Access::CaseOfficer {
        return Err(AppError::Forbidden("err-officers-ask-statements".into()));
    }
    let mut errors = FieldErrors::new();
    let email = EmailAddress::parse(&input.email);
    if email.is_none() {
        errors.add("email", if input.email.trim().is_empty() { "err-required" } else { "err-email" });
    }
    let question = rule::check_request(&input.question, input.due_on, deadlines::oslo_date(now), &mut errors);
    // The name is optional (an address without an account is then named by itself).
    let name = match input.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => errors.text("name", n, 1, 200),
        None => input.email.trim().to_lowercase(),
    };
    let language = match input.language.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => Language::Nb,
        Some(code) => Language::from_tag(code).unwrap_or_else(|| {
            errors.add("language", "err-choose-one");
            Language::Nb
        }),
    };
    let email = match (email, errors.into_result()) {
        (Some(e), Ok(())) => e,
        (_, Err(errors)) => return Err(AppError::Validation(errors)),
        (None, Ok(())) => unreachable!("a missing address is an error"),
    };
    // The parties of the case do not give statements on it.
    let applicant = db::users::by_id(conn, app.applicant_id).await?;
    if applicant.is_some_and(|a| a.email == email.as_str())
        || db::applications::is_member(conn, app.id, email.as_str()).await?
    {
        return Err(AppError::field("email", "err-reviewer-is-party"));
    }
    let requester = user.id;
    let statement_id = on_case(conn, application_id, Seen::ANY, async move |tx, app| {
        if !rule::may_request(Role::CaseOfficer, app.state) {
            return Err(AppError::Conflict("err-statement-not-now".into()));
        }
        let reviewer = match db::users::by_email(tx, email.as_str()).await? {
            Some(u) if !u.active => return Err(AppError::field("email", "err-account-inactive")),
            Some(u) => u,
            None => {
                let new = NewUser {
                    email: email.as_str(),
                    name: &name,
                    password_hash: None,
                    role: Role::Reviewer.code(),
                    organisation_id: None,
                    language: language.code(),
                };
                let u = db::users::insert(tx, &new).await.map_err(|e| super::accounts::unique_violation(e, "email"))?;
                let payload = json!({"email": u.email, "role": u.role, "organisation_id": null, "by": "statement"});
                super::record_event(tx, actor, now, ("user", Some(u.id)), "user.created", payload).await?;
                u
            }
        };
        let invited = !confirmed(&reviewer);
        let statement = db::statements::insert(
            tx,
            &NewStatement {
                application_id: app.id,
                requested_by: requester,
                reviewer_id: reviewer.id,
                question: &question,
                due_on: input.due_on.unwrap_or_default(),
                invite_token_hash: None,
                invite_expires_at: None,
                created_at: now,
            },
        )
        .await?;
        if invited {
            invite(tx, &statement, &reviewer, &app, false, now).await?;
        }
        let payload = json!({"statement_id": statement.id, "reviewer_id": reviewer.id, "due_on": statement.due_on, "invited": invited});
        record(tx, actor, now, app.id, "statement.requested", payload).await?;
        Ok(statement.id)
    })
    .await?;
    one(conn, statement_id).await
}

/// Writes an invitation link for the statement to the outbox (an earlier link stops working):
/// opening it lets whoever reads the address's mail set the account's name and password.
async fn invite(
    tx: &mut AsyncPgConnection,
    statement: &Statement,
    reviewer: &User,
    app: &Application,
    reminder: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (secret, hash) = new_secret();
    db::statements::set_invitation(tx, statement.id, &hash, now + Duration::days(rule::INVITATION_DAYS)).await?;
    let context = json!({
        "name": reviewer.name,
        "path": format!("/statements/accept?token={secret}"),
        "reference": app.reference.clone().unwrap_or_else(|| format!("#{}", app.id)),
        "due_on": statement.due_on.format("%d.%m.%Y").to_string(),
        "reminder": reminder,
    });
    let message = db::notifications::NewOutboxMessage {
        user_id: Some(reviewer.id),
        recipient: &reviewer.email,
        language: &reviewer.language,
        template: "statement_invitation",
        context: &context,
        next_attempt_at: now,
        created_at: now,
    };
    db::notifications::enqueue(tx, &message).await?;
    Ok(())
}

async fn one(conn: &mut AsyncPgConnection, id: i64) -> AppResult<StatementRow> {
    db::statements::rows(conn, Scope::One(id)).await?.pop().ok_or(AppError::NotFound)
}

/// Reads statement `id` for `user`: the reviewer (once their address is confirmed) or someone
/// who handles the case (officers, the case's register owners); 404 for anyone else.
pub async fn read(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<StatementFile> {
    let row = one(conn, id).await?;
    let s = &row.statement;
    let reader = reader_of(conn, user, s).await?;
    let app = db::applications::by_id(conn, s.application_id).await?.ok_or(AppError::NotFound)?;
    let sources = apps::requested_sources(conn, &app).await?;
    let attachments = db::applications::attachments_of(conn, app.id).await?;
    Ok(StatementFile { row, reader, app, sources, attachments })
}

/// How `user` stands to statement `s`: the reviewer (once their address is confirmed), someone
/// who handles its case, or nobody (404).
async fn reader_of(conn: &mut AsyncPgConnection, user: &User, s: &Statement) -> AppResult<Reader> {
    if s.reviewer_id == user.id && confirmed(user) {
        return Ok(Reader::Reviewer);
    }
    match apps::load(conn, user, s.application_id).await {
        Ok((_, a)) if a.sees_internal() => Ok(Reader::Handler),
        Ok(_) | Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e),
    }
}

/// The reviewer answers statement `id` (once).
pub async fn answer(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<StatementRow> {
    let row = one(conn, id).await?;
    if reader_of(conn, user, &row.statement).await? != Reader::Reviewer {
        return Err(AppError::Forbidden("err-reviewer-answers".into()));
    }
    let mut errors = FieldErrors::new();
    let text = rule::check_answer(text, &mut errors);
    errors.into_result().map_err(AppError::Validation)?;
    let application_id = row.statement.application_id;
    // Under the case's lock, as the end of the case that lapses it.
    on_case(conn, application_id, Seen::ANY, async move |tx, app| {
        let Some(s) = db::statements::answer(tx, id, &text, now).await? else {
            let lapsed = db::statements::lock(tx, id).await?.is_some_and(|s| s.lapsed_at.is_some());
            return Err(AppError::Conflict(
                if lapsed { "err-statement-lapsed" } else { "err-statement-answered" }.into(),
            ));
        };
        let mut payload = json!({"statement_id": s.id, "reviewer_id": s.reviewer_id, "requested_by": s.requested_by, "shared": !s.withheld});
        if let Some(by) = s.comment_by_before_decision(app.state) {
            payload["comment_by"] = json!(by);
        }
        record(tx, actor, now, app.id, "statement.answered", payload).await?;
        Ok(())
    })
    .await?;
    one(conn, id).await
}

/// A case officer withholds statement `id` from the applicant's side, with the reason they are
/// shown (`Some`), or shares it with them (`None`): an event either way, and sharing an answered
/// statement tells the applicant, as its answer would have (`rule::may_set_party_access`).
pub async fn set_party_access(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    withhold: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<StatementRow> {
    let row = one(conn, id).await?;
    let application_id = row.statement.application_id;
    let (_, access) = apps::load(conn, user, application_id).await?;
    if !rule::may_set_party_access(access) {
        return Err(AppError::Forbidden("err-officers-party-access".into()));
    }
    let reason = match withhold {
        None => None,
        Some(text) => {
            let mut errors = FieldErrors::new();
            let reason = rule::check_withheld_reason(text, &mut errors);
            errors.into_result().map_err(AppError::Validation)?;
            Some(reason)
        }
    };
    on_case(conn, application_id, Seen::ANY, async move |tx, app| {
        // Shared again after being withheld: the applicant's side begins to read it now.
        let was_withheld = db::statements::lock(tx, id).await?.is_some_and(|s| s.withheld);
        let shared_at = (reason.is_none() && was_withheld).then_some(now);
        let s = db::statements::set_withheld(tx, id, reason.as_deref(), shared_at).await?;
        let mut payload =
            json!({"statement_id": s.id, "reviewer_id": s.reviewer_id, "answered": s.answered_at.is_some()});
        if let Some(by) = s.comment_by_before_decision(app.state) {
            payload["comment_by"] = json!(by);
        }
        let kind = match reason {
            Some(reason) => {
                payload["reason"] = json!(reason);
                "statement.withheld"
            }
            None => "statement.shared",
        };
        record(tx, actor, now, app.id, kind, payload).await?;
        Ok(())
    })
    .await?;
    one(conn, id).await
}

/// The statements of an ended case still waiting for their answers lapse, each with its event
/// (the reviewer is told), and their invitation links stop working. Called by
/// `cases::wind_up`, inside the transaction that ends the case.
pub async fn lapse(tx: &mut AsyncPgConnection, actor: &Actor, now: DateTime<Utc>, case_id: i64) -> AppResult<()> {
    for s in db::statements::lapse(tx, case_id, now).await? {
        let payload = json!({"statement_id": s.id, "reviewer_id": s.reviewer_id, "requested_by": s.requested_by});
        record(tx, actor, now, case_id, "statement.lapsed", payload).await?;
    }
    Ok(())
}

/// The statements of case `application_id`, with how `user` sees the case. Everyone who sees
/// the case reads its statements: those who handle it, and the applicant's side, since a
/// statement is a document of the case the party may read (forvaltningsloven § 18) and what the
/// service learns from others before deciding is shown to the party, who may comment on it
/// (§ 17 second paragraph). The applicant's side is not shown the reviewer's address.
pub async fn of_application(
    conn: &mut AsyncPgConnection,
    user: &User,
    application_id: i64,
) -> AppResult<(Vec<StatementRow>, Access)> {
    let (_, access) = apps::load(conn, user, application_id).await?;
    Ok((db::statements::rows(conn, Scope::Application(application_id)).await?, access))
}

/// The statements on `user`'s list: for a case officer every outstanding one (all cases); for
/// anyone else, those asked of them.
pub async fn listed(conn: &mut AsyncPgConnection, user: &User) -> AppResult<Vec<StatementRow>> {
    let scope = match user.role {
        Role::CaseOfficer => Scope::Outstanding,
        _ if confirmed(user) => Scope::Reviewer(user.id),
        _ => return Ok(vec![]),
    };
    Ok(db::statements::rows(conn, scope).await?)
}

/// The reviewer opens an attachment of the case they were asked about.
pub async fn open_attachment(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    attachment_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> AppResult<Attachment> {
    let file = read(conn, user, id).await?;
    let attachment = file.attachments.into_iter().find(|a| a.id == attachment_id).ok_or(AppError::NotFound)?;
    apps::record_download(conn, actor, &attachment, json!({"statement_id": id}), now).await?;
    Ok(attachment)
}

/// The invitation of this link, if it still works: the statement and the account's name and
/// address (for the page that sets the password).
pub async fn invitation(
    conn: &mut AsyncPgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<(Statement, String, String)> {
    db::statements::invitation_of(conn, &secret_hash(token.trim()), now)
        .await?
        .ok_or_else(|| AppError::Conflict("err-link-expired".into()))
}

/// The invited reviewer sets their name and password from the link: the address is confirmed
/// (whoever reads its mail owns it), and anything an earlier holder of an unconfirmed account
/// at the address had open stops working. Returns the account and the statement to open.
pub async fn accept_invitation(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    token: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<(User, i64)> {
    let (_, _, email) = invitation(conn, token, now).await?;
    let (name, hash) = super::accounts::chosen_name_and_password(name, &email, password).await?;
    let token_hash = secret_hash(token.trim());
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let s = db::statements::take_invitation(tx, &token_hash, now)
            .await?
            .ok_or_else(|| AppError::Conflict("err-link-expired".into()))?;
        end_access(tx, s.reviewer_id, now).await?;
        db::users::drop_reregistrations(tx, s.reviewer_id).await?;
        let user = db::users::take_over(tx, s.reviewer_id, &name, &hash, now).await?;
        let who = Actor { user_id: Some(user.id), address: actor.address.clone() };
        let payload = json!({"email": user.email, "by": "statement_invitation", "statement_id": s.id});
        super::record_event(tx, &who, now, ("user", Some(user.id)), "user.invitation_accepted", payload).await?;
        Ok((user, s.id))
    })
    .await
}

/// Reminds reviewers whose statements are due within `rule::REMIND_DAYS` (once each): an event
/// of the case (a notice and a mail), or a fresh invitation link for an address whose account is
/// not confirmed yet. Returns how many were reminded.
pub async fn remind(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let today = deadlines::oslo_date(now);
    let due = db::statements::to_remind(conn, today, rule::REMIND_DAYS).await?;
    let mut sent = 0;
    for (id, application_id) in due {
        let done = on_case(conn, application_id, Seen::ANY, async move |tx, app| {
            let Some(s) = db::statements::lock(tx, id).await? else { return Ok(false) };
            if !rule::reminder_due(s.due_on, s.progress(), s.reminded_at.is_some(), today) {
                return Ok(false);
            }
            db::statements::set_reminded(tx, id, now).await?;
            let reviewer = db::users::by_id(tx, s.reviewer_id).await?.ok_or(AppError::NotFound)?;
            let invited = !confirmed(&reviewer);
            if invited {
                invite(tx, &s, &reviewer, &app, true, now).await?;
            }
            let payload =
                json!({"statement_id": s.id, "reviewer_id": s.reviewer_id, "due_on": s.due_on, "invited": invited});
            record(tx, &Actor::system(), now, app.id, "statement.reminder", payload).await?;
            Ok(true)
        })
        .await?;
        sent += usize::from(done);
    }
    Ok(sent)
}
