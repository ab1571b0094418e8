//! Who hears of what (SPEC §10). Every event about an application passes through [`notify`] in
//! the transaction that records it: each person who must act or should know gets an in-app
//! notice, and an e-mail is written to the outbox in that same transaction (or, for non-urgent
//! notices to people who chose it, kept for the daily digest). The mail worker
//! ([`crate::mail`]) renders and sends the outbox later, so nothing is lost when the mail server
//! is down.

use super::Actor;
use crate::db::users::User;
use crate::db::{
    self,
    applications::Application,
    events::Event,
    notifications::{NewNotification, NewOutboxMessage, Notification, OutboxMessage, Recipient},
};
use crate::domain::catalogue::DecisionAuthority;
use crate::domain::release::ReleaseState;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Map, Value, json};

pub use crate::domain::notice::KINDS;
/// A notice's text, and the development mailbox's files (both kept with the mail templates).
pub use crate::mail::{eml_files, notice_text};

/// One notice to one person.
#[derive(Debug)]
struct Notice {
    to: Recipient,
    kind: &'static str,
    urgent: bool,
}

impl Notice {
    /// Whether the notice waits for the recipient's daily digest instead of a mail of its own.
    fn digest(&self) -> bool {
        !self.urgent && self.to.mail_preference == "digest"
    }
}

fn notices(people: Vec<Recipient>, kind: &'static str, urgent: bool) -> impl Iterator<Item = Notice> {
    people.into_iter().map(move |to| Notice { to, kind, urgent })
}

/// The officer handling the case, or every case officer while nobody is assigned.
async fn handlers(conn: &AsyncPgConnection, app: &Application) -> AppResult<Vec<Recipient>> {
    Ok(match app.assignee_id {
        Some(id) => db::notifications::users_by_id(conn, &[id]).await?,
        None => db::notifications::users_with_role(conn, "case_officer").await?,
    })
}

async fn applicant(conn: &AsyncPgConnection, app: &Application) -> AppResult<Vec<Recipient>> {
    Ok(db::notifications::users_by_id(conn, &[app.applicant_id]).await?)
}

async fn applicant_and_members(conn: &AsyncPgConnection, app: &Application) -> AppResult<Vec<Recipient>> {
    let mut people = applicant(conn, app).await?;
    people.extend(db::notifications::members_with_accounts(conn, app.id).await?);
    Ok(people)
}

fn release_id(payload: &Value) -> Option<i64> {
    payload.get("release_id").and_then(Value::as_i64)
}

/// Releases of the application with the given decider and in one of the given states.
async fn releases_where(
    conn: &AsyncPgConnection,
    app: &Application,
    decider: Option<DecisionAuthority>,
    states: &[ReleaseState],
) -> AppResult<Vec<i64>> {
    Ok(db::cases::releases_of(conn, app.id)
        .await?
        .into_iter()
        .map(|r| r.release)
        .filter(|r| decider.is_none_or(|want| want == r.decider) && states.contains(&r.state))
        .map(|r| r.id)
        .collect())
}

/// An event about an application as far as it is known before it is appended.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub payload: &'a Value,
}

/// Who hears of an event, and how urgently.
async fn recipients(conn: &AsyncPgConnection, app: &Application, event: Pending<'_>) -> AppResult<Vec<Notice>> {
    let mut out: Vec<Notice> = Vec::new();
    let payload = event.payload;
    match event.kind {
        "application.submitted" => {
            let (applicant, handlers) = tokio::try_join!(biased; applicant(conn, app), handlers(conn, app))?;
            out.extend(notices(applicant, "application.submitted_receipt", true));
            // A resubmission goes to the officer who returned it.
            let urgent = app.assignee_id.is_some();
            out.extend(notices(handlers, "application.submitted", urgent));
        }
        "application.returned" => out.extend(notices(applicant(conn, app).await?, "application.returned", true)),
        "application.completed" => {
            out.extend(notices(applicant(conn, app).await?, "application.completed", false));
            let to_decide = releases_where(conn, app, Some(DecisionAuthority::Owner), &[ReleaseState::Pending]).await?;
            out.extend(notices(
                db::notifications::owners_of_releases(conn, &to_decide).await?,
                "release.to_decide",
                true,
            ));
        }
        "application.assigned" => {
            if let Some(id) = app.assignee_id {
                out.extend(notices(db::notifications::users_by_id(conn, &[id]).await?, "application.assigned", false));
            }
        }
        "application.withdrawn" if app.submitted_at.is_some() => {
            out.extend(notices(handlers(conn, app).await?, "application.withdrawn", false));
            // The releases withdrawn with it (still open until then), as the event lists them.
            let open: Vec<i64> = payload
                .get("releases_withdrawn")
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            out.extend(notices(
                db::notifications::owners_of_releases(conn, &open).await?,
                "application.withdrawn",
                false,
            ));
        }
        "application.decided" | "appeal.upheld" => {
            let kind = if event.kind == "appeal.upheld" { "appeal.upheld" } else { "application.decided" };
            out.extend(notices(applicant(conn, app).await?, kind, true));
            out.extend(notices(db::notifications::members_with_accounts(conn, app.id).await?, kind, false));
            if app.state.granted() {
                let to_deliver = releases_where(conn, app, None, &[ReleaseState::Approved]).await?;
                out.extend(notices(
                    db::notifications::owners_of_releases(conn, &to_deliver).await?,
                    "release.to_deliver",
                    true,
                ));
            }
        }
        "appeal.reconsidered" => out.extend(notices(applicant(conn, app).await?, "appeal.reconsidered", false)),
        "appeal.helseklage_decided" => {
            out.extend(notices(applicant(conn, app).await?, "appeal.helseklage_decided", true));
            let to_deliver = releases_where(conn, app, None, &[ReleaseState::Approved]).await?;
            out.extend(notices(
                db::notifications::owners_of_releases(conn, &to_deliver).await?,
                "release.to_deliver",
                true,
            ));
        }
        "application.appealed" => {
            // The officers, and the register owners whose own refusals are to be reconsidered.
            out.extend(notices(handlers(conn, app).await?, "application.appealed", true));
            let refused = releases_where(conn, app, Some(DecisionAuthority::Owner), &[ReleaseState::Rejected]).await?;
            out.extend(notices(
                db::notifications::owners_of_releases(conn, &refused).await?,
                "application.appealed",
                true,
            ));
        }
        "application.delivered" => {
            out.extend(notices(applicant_and_members(conn, app).await?, "application.delivered", false))
        }
        "application.interim_reply" => {
            out.extend(notices(applicant(conn, app).await?, "application.interim_reply", true))
        }
        "application.deletion_reminder" => {
            out.extend(notices(applicant(conn, app).await?, "application.deletion_reminder", true))
        }
        "message.posted" => {
            let from_applicant_side = event.actor_id == Some(app.applicant_id)
                || matches!(event.actor_id, Some(a) if db::notifications::members_with_accounts(conn, app.id).await?.iter().any(|m| m.id == a));
            if from_applicant_side {
                out.extend(notices(handlers(conn, app).await?, "message.posted", true));
            } else {
                out.extend(notices(applicant(conn, app).await?, "message.posted", true));
            }
        }
        "release.decided" => out.extend(notices(handlers(conn, app).await?, "release.decided", false)),
        "release.reminder" => {
            if payload.get("decider").and_then(Value::as_str) == Some("hds") {
                out.extend(notices(handlers(conn, app).await?, "release.reminder", true));
            } else if let Some(id) = release_id(payload) {
                out.extend(notices(
                    db::notifications::owners_of_releases(conn, &[id]).await?,
                    "release.reminder",
                    true,
                ));
            }
        }
        "estimate.revised" => out.extend(notices(applicant(conn, app).await?, "estimate.revised", true)),
        "estimate.accepted" => out.extend(notices(handlers(conn, app).await?, "estimate.accepted", false)),
        "invoice.issued" => out.extend(notices(applicant(conn, app).await?, "invoice.issued", true)),
        // A linkage extract (to another data holder) is not data for the applicant: the
        // receiving holder's staff are told, and warned before it expires.
        "transfer.published" | "transfer.expiring" => {
            let published = event.kind == "transfer.published";
            match payload.get("recipient_organisation_id").and_then(Value::as_i64) {
                Some(org) => {
                    let kind = if published { "linkage.published" } else { "linkage.expiring" };
                    out.extend(notices(db::notifications::staff_of(conn, org).await?, kind, true))
                }
                None => {
                    let kind = if published { "transfer.published" } else { "transfer.expiring" };
                    out.extend(notices(applicant_and_members(conn, app).await?, kind, true))
                }
            }
        }
        // The sending holder learns that its extract arrived.
        "linkage.received" => {
            if let Some(id) = release_id(payload) {
                out.extend(notices(
                    db::notifications::owners_of_releases(conn, &[id]).await?,
                    "linkage.received",
                    false,
                ));
            }
        }
        // The reviewer is asked (and reminded) in the service; an address without a confirmed
        // account gets its invitation link instead (`statements::invite`).
        "statement.requested" | "statement.reminder" if payload.get("invited") != Some(&json!(true)) => {
            if let Some(id) = payload.get("reviewer_id").and_then(Value::as_i64) {
                let kind =
                    if event.kind == "statement.requested" { "statement.requested" } else { "statement.reminder" };
                out.extend(notices(db::notifications::users_by_id(conn, &[id]).await?, kind, true));
            }
        }
        // The reviewer learns that the statement is no longer needed.
        "statement.lapsed" => {
            if let Some(id) = payload.get("reviewer_id").and_then(Value::as_i64) {
                out.extend(notices(db::notifications::users_by_id(conn, &[id]).await?, "statement.lapsed", true));
            }
        }
        // The officer who asked learns of the answer; the applicant, unless it is withheld, that
        // there is a statement to read and comment on (forvaltningsloven § 17 second paragraph).
        "statement.answered" => {
            if let Some(id) = payload.get("requested_by").and_then(Value::as_i64) {
                out.extend(notices(db::notifications::users_by_id(conn, &[id]).await?, "statement.answered", true));
            }
            if payload.get("shared") == Some(&json!(true)) {
                out.extend(notices(applicant(conn, app).await?, "statement.received", true));
            }
        }
        // An answered statement shared with the applicant after all.
        "statement.shared" if payload.get("answered") == Some(&json!(true)) => {
            out.extend(notices(applicant(conn, app).await?, "statement.received", true));
        }
        "transfer.downloaded" => {
            if let Some(id) = release_id(payload) {
                out.extend(notices(
                    db::notifications::owners_of_releases(conn, &[id]).await?,
                    "transfer.downloaded",
                    false,
                ));
            }
        }
        _ => {}
    }
    // Nobody is told of their own action, except the receipt of a submission; each person once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|n| {
        (n.kind == "application.submitted_receipt" || Some(n.to.id) != event.actor_id) && seen.insert(n.to.id)
    });
    Ok(out)
}

/// What a notice says besides its kind: the case's reference and title and the event's details.
fn params(app: &Application, event: &Event) -> Value {
    let mut map = match &event.payload {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    map.insert("application_id".into(), json!(app.id));
    map.insert("reference".into(), json!(app.reference.clone().unwrap_or_else(|| format!("#{}", app.id))));
    map.insert("title".into(), json!(app.title));
    Value::Object(map)
}

/// What an event about an application will write: its notices and mails, and its webhook
/// deliveries. Read before the event is appended, so that the chain's lock (held from the append
/// to the commit, see `db::events::append`) covers only the writes.
pub struct Plan {
    people: Vec<Notice>,
    endpoints: Vec<db::webhooks::Endpoint>,
}

/// Reads who hears of `event` about `app` (as the change being recorded left it), and which
/// webhook endpoints, all at once (pipelined).
pub async fn plan(conn: &AsyncPgConnection, app: &Application, event: Pending<'_>) -> AppResult<Plan> {
    let (people, endpoints) = tokio::try_join!(
        biased;
        recipients(conn, app, event),
        super::webhooks::endpoints_for(conn, app, event.kind),
    )?;
    Ok(Plan { people, endpoints })
}

/// Writes what `plan` found for the appended `event`: the notices, the mails and the webhook
/// deliveries, sent together (pipelined) in the event's transaction. Returns the notices written.
pub async fn deliver(
    conn: &AsyncPgConnection,
    plan: &Plan,
    app: &Application,
    event: &Event,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let params = params(app, event);
    tokio::try_join!(
        biased;
        write(conn, &plan.people, event.id, Some(app.id), &params, now),
        super::webhooks::enqueue(conn, &plan.endpoints, app, event, now),
    )?;
    Ok(plan.people.len())
}

/// Writes each notice in the bell and, unless it waits for the digest, its mail to the outbox
/// (in the caller's transaction).
async fn write(
    conn: &AsyncPgConnection,
    people: &[Notice],
    event_id: i64,
    application_id: Option<i64>,
    params: &Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let notifications: Vec<NewNotification> = people
        .iter()
        .map(|notice| NewNotification {
            user_id: notice.to.id,
            event_id: Some(event_id),
            application_id,
            kind: notice.kind,
            params,
            urgent: notice.urgent,
            created_at: now,
            mail: if notice.digest() { "digest" } else { "queued" },
        })
        .collect();
    // A mail of its own for each notice that does not wait for the digest.
    let mailed: Vec<(&Notice, Value)> = people
        .iter()
        .filter(|notice| !notice.digest())
        .map(|n| (n, json!({"kind": n.kind, "name": n.to.name, "params": params})))
        .collect();
    let mails: Vec<NewOutboxMessage> = mailed
        .iter()
        .map(|(notice, context)| NewOutboxMessage {
            user_id: Some(notice.to.id),
            recipient: &notice.to.email,
            language: &notice.to.language,
            template: notice.kind,
            context,
            next_attempt_at: now,
            created_at: now,
        })
        .collect();
    // Two independent inserts of many rows each, sent together (pipelined) on the transaction's
    // connection; `biased` keeps the order, so a failure reports the first statement's error.
    tokio::try_join!(
        biased;
        db::notifications::insert_notifications(conn, &notifications),
        db::notifications::enqueue_all(conn, &mails),
    )?;
    Ok(())
}

/// Who hears of an event about an enquiry: a new enquiry or a researcher's message goes to the
/// case officers and the register owners of the sources named; an answer goes to the researcher.
pub async fn notify_enquiry(
    conn: &mut AsyncPgConnection,
    event: &Event,
    enquiry: &db::enquiries::Enquiry,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut people: Vec<Notice> = Vec::new();
    let from_asker = event.actor_id == Some(enquiry.asker_id);
    match event.kind.as_str() {
        "enquiry.opened" | "enquiry.message_posted" if from_asker => {
            let kind = if event.kind == "enquiry.opened" { "enquiry.opened" } else { "enquiry.message" };
            people.extend(notices(db::notifications::users_with_role(conn, "case_officer").await?, kind, false));
            for org in db::enquiries::organisations_named(conn, enquiry.id).await? {
                people.extend(notices(db::notifications::staff_of(conn, org).await?, kind, false));
            }
        }
        "enquiry.message_posted" => people.extend(notices(
            db::notifications::users_by_id(conn, &[enquiry.asker_id]).await?,
            "enquiry.answered",
            true,
        )),
        _ => {}
    }
    let mut seen = std::collections::HashSet::new();
    people.retain(|n| Some(n.to.id) != event.actor_id && seen.insert(n.to.id));
    let params = json!({"enquiry_id": enquiry.id, "subject": enquiry.subject});
    write(conn, &people, event.id, None, &params, now).await?;
    Ok(people.len())
}

/// Deletes the outbox's messages (the log of mail and webhook deliveries: addresses and what
/// people were told) sent or given up more than `days` ago; the deletion is an event of its
/// own, with how many went and from when. Returns how many went.
pub async fn prune_outbox(conn: &mut AsyncPgConnection, now: DateTime<Utc>, days: u32) -> AppResult<usize> {
    let before = now - chrono::Duration::days(days.into());
    let deleted = db::notifications::prune_outbox(conn, before).await?;
    if deleted > 0 {
        let payload = json!({"created_before": before, "deleted": deleted, "retention_days": days});
        // In a transaction of its own: the event chain's lock is held to its end.
        conn.transaction::<_, AppError, _>(async move |tx| {
            super::record_event(tx, &Actor::system(), now, ("outbox", None), "outbox.pruned", payload).await?;
            Ok(())
        })
        .await?;
    }
    Ok(deleted)
}

/// Collects each due user's waiting non-urgent notices into one digest mail (daily: a user gets at
/// most one digest per 24 hours). Returns the number of digests queued.
pub async fn queue_digests(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<usize> {
    use diesel_async::AsyncConnection;
    let due = db::notifications::digest_due(conn, now - chrono::Duration::hours(24)).await?;
    let mut queued = 0;
    for user_id in due {
        let done = conn
            .transaction::<_, crate::error::AppError, _>(async move |tx| {
                let Some(user) = db::notifications::users_by_id(tx, &[user_id]).await?.pop() else {
                    return Ok(false);
                };
                let items = db::notifications::take_digest(tx, user_id, now).await?;
                if items.is_empty() {
                    return Ok(false);
                }
                let items: Vec<Value> =
                    items.iter().map(|n| json!({"kind": n.kind, "params": n.params, "at": n.created_at})).collect();
                let context = json!({"kind": "digest", "name": user.name, "items": items});
                db::notifications::enqueue(
                    tx,
                    &NewOutboxMessage {
                        user_id: Some(user.id),
                        recipient: &user.email,
                        language: &user.language,
                        template: "digest",
                        context: &context,
                        next_attempt_at: now,
                        created_at: now,
                    },
                )
                .await?;
                Ok(true)
            })
            .await?;
        queued += usize::from(done);
    }
    Ok(queued)
}

/// Marks one of the user's notices read (404 for someone else's), or all of them when `id` is
/// `None`; answers how many were marked.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if let Some(id) = id
        && !db::notifications::belongs_to(conn, user.id, id).await?
    {
        return Err(AppError::NotFound);
    }
    Ok(db::notifications::mark_read(conn, user.id, id, now).await?)
}

/// Sets how the user wants mail: `immediate` or `digest`.
pub async fn set_mail_preference(conn: &mut AsyncPgConnection, user: &User, choice: &str) -> AppResult<()> {
    if choice != "immediate" && choice != "digest" {
        return Err(AppError::field("mail", "err-choose-one"));
    }
    db::notifications::set_mail_preference(conn, user.id, choice).await?;
    Ok(())
}

/// An operator sends a message that was given up on once more (recorded as `mail.retried`).
pub async fn retry_message(conn: &mut AsyncPgConnection, actor: &Actor, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async move |tx| {
        if db::notifications::retry(tx, id, now).await? == 0 {
            return Err(AppError::Conflict("err-retry-dead-only".into()));
        }
        super::record_event(tx, actor, now, ("outbox", Some(id)), "mail.retried", json!({})).await?;
        Ok(())
    })
    .await
}

/// How many of a person's newest notices are listed.
const LISTED: i64 = 200;

/// A person's newest notices and whether they chose the daily digest.
pub async fn notices_with_digest(conn: &mut AsyncPgConnection, user_id: i64) -> AppResult<(Vec<Notification>, bool)> {
    let notices = db::notifications::of_user(conn, user_id, LISTED).await?;
    let digest =
        db::notifications::users_by_id(conn, &[user_id]).await?.first().is_some_and(|r| r.mail_preference == "digest");
    Ok((notices, digest))
}

/// A person's newest notices and how many of theirs are unread.
pub async fn notices_with_unread(conn: &mut AsyncPgConnection, user_id: i64) -> AppResult<(Vec<Notification>, i64)> {
    let notices = db::notifications::of_user(conn, user_id, LISTED).await?;
    let unread = db::notifications::unread_count(conn, user_id).await?;
    Ok((notices, unread))
}

/// The outbox for admins: messages per state and the newest 200 messages (of one state when given).
pub async fn outbox(
    conn: &mut AsyncPgConnection,
    state: Option<&str>,
) -> AppResult<(Vec<(String, i64)>, Vec<OutboxMessage>)> {
    let counts = db::notifications::outbox_counts(conn).await?;
    let messages = db::notifications::outbox_list(conn, state, 200).await?;
    Ok((counts, messages))
}
