//! Members who are invited and accept terms (`domain::terms`): the invitations sent when an
//! application is submitted, accepting them (which links or makes the account), the sources'
//! data-use terms with their versions, and the acceptances that open released files to each
//! person of the project.

use super::Actor;
use super::accounts::{new_secret, secret_hash};
use super::applications::{self as apps, Access, record};
use super::command::{Seen, on_case};
use crate::db::members::{Invitation, Terms};
use crate::db::{self, applications::Application, catalogue::DataSource, users::NewUser, users::User};
use crate::domain::fields::FieldErrors;
use crate::domain::role::{Permission, Role};
use crate::domain::terms::{self as rule, Current};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

/// Invites the members named on the form who were not invited before (at submission, inside its
/// transaction): each gets a mail with a link; an address without an account gets nothing else.
pub async fn invite_new(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    app: &Application,
    members: &[String],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if members.iter().all(|m| m.trim().is_empty()) {
        return Ok(0);
    }
    let applicant = db::users::by_id(tx, app.applicant_id).await?.ok_or(AppError::NotFound)?;
    let mut sent = 0;
    for email in members.iter().map(|m| m.trim().to_lowercase()).filter(|m| !m.is_empty() && *m != applicant.email) {
        let (secret, hash) = new_secret();
        if !db::members::invite(tx, app.id, &email, &hash, now + Duration::days(rule::INVITATION_DAYS), now).await? {
            continue;
        }
        let holder = db::users::by_email(tx, &email).await?;
        let context = json!({
            "name": holder.as_ref().map(|u| u.name.clone()).unwrap_or_else(|| email.clone()),
            "path": format!("/invitations/accept?token={secret}"),
            "reference": app.reference.clone().unwrap_or_default(),
            "title": app.title,
            "inviter": applicant.name,
        });
        let message = db::notifications::NewOutboxMessage {
            user_id: holder.as_ref().map(|u| u.id),
            recipient: &email,
            language: holder.as_ref().map(|u| u.language.as_str()).unwrap_or("nb"),
            template: "member_invitation",
            context: &context,
            next_attempt_at: now,
            created_at: now,
        };
        db::notifications::enqueue(tx, &message).await?;
        record(tx, actor, now, app.id, "member.invited", json!({"email": email})).await?;
        sent += 1;
    }
    Ok(sent)
}

/// An invitation as its page shows it.
pub struct InvitationView {
    pub invitation: Invitation,
    pub app: Application,
    pub inviter: String,
    /// Whether the address has an account (then its holder logs in to accept).
    pub has_account: bool,
}

/// The invitation of this link, if it still works.
pub async fn invitation(conn: &mut AsyncPgConnection, token: &str, now: DateTime<Utc>) -> AppResult<InvitationView> {
    let invitation = db::members::invitation_by_token(conn, &secret_hash(token.trim()), now)
        .await?
        .ok_or_else(|| AppError::Conflict("err-link-expired".into()))?;
    let app = db::applications::by_id(conn, invitation.application_id).await?.ok_or(AppError::NotFound)?;
    if !crate::domain::terms::may_join(app.state) {
        return Err(AppError::Conflict("err-invitation-withdrawn".into()));
    }
    let inviter = db::users::by_id(conn, app.applicant_id).await?.map(|u| u.name).unwrap_or_default();
    let has_account = db::users::by_email(conn, &invitation.email).await?.is_some();
    Ok(InvitationView { invitation, app, inviter, has_account })
}

/// Accepting links the account; the link proves the address, so it counts as confirmed.
async fn join(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    token_hash: &str,
    user: &User,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let invitation = db::members::accept(tx, token_hash, user.id, now)
        .await?
        .ok_or_else(|| AppError::Conflict("err-link-expired".into()))?;
    if invitation.email != user.email {
        return Err(AppError::Forbidden("err-invitation-other-address".into()));
    }
    // Checked again under the case's lock: a withdrawal may have come since the page was shown.
    let case = db::applications::lock(tx, invitation.application_id).await?.ok_or(AppError::NotFound)?;
    if !crate::domain::terms::may_join(case.state) {
        return Err(AppError::Conflict("err-invitation-withdrawn".into()));
    }
    if user.email_verified_at.is_none() {
        db::users::mark_verified(tx, user.id, now).await?;
    }
    let payload = json!({"email": invitation.email, "user_id": user.id});
    record(tx, actor, now, invitation.application_id, "member.joined", payload).await?;
    Ok(invitation.application_id)
}

/// The holder of the invited address, logged in, accepts. Returns the case.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let view = invitation(conn, token, now).await?;
    if view.invitation.email != user.email {
        return Err(AppError::Forbidden("err-invitation-other-address".into()));
    }
    let (hash, user, actor) = (secret_hash(token.trim()), user.clone(), actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| join(tx, &actor, &hash, &user, now).await).await
}

/// An invited address without an account accepts: an applicant account with this name and
/// password is made for it, confirmed by the link. Returns the account and the case.
pub async fn accept_as_new(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    token: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<(User, i64)> {
    let view = invitation(conn, token, now).await?;
    if view.has_account {
        return Err(AppError::Conflict("err-invitation-log-in".into()));
    }
    let email = view.invitation.email.clone();
    let (name, hash) = super::accounts::chosen_name_and_password(name, &email, password).await?;
    let (token_hash, actor) = (secret_hash(token.trim()), actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        let new = NewUser {
            email: &email,
            name: &name,
            password_hash: Some(&hash),
            role: Role::Applicant.code(),
            organisation_id: None,
            language: "nb",
        };
        let user = db::users::insert(tx, &new).await.map_err(|e| super::accounts::unique_violation(e, "email"))?;
        db::users::mark_verified(tx, user.id, now).await?;
        let who = Actor { user_id: Some(user.id), address: actor.address.clone() };
        let payload = json!({"email": user.email, "role": user.role, "organisation_id": null, "by": "invitation"});
        super::record_event(tx, &who, now, ("user", Some(user.id)), "user.created", payload).await?;
        let user = db::users::by_id(tx, user.id).await?.ok_or(AppError::NotFound)?;
        let case = join(tx, &who, &token_hash, &user, now).await?;
        Ok((user, case))
    })
    .await
}

/// The sources whose data a case was granted (approved or delivered releases).
pub fn granted_sources(releases: &[db::cases::ReleaseView]) -> Vec<i64> {
    releases.iter().filter(|r| r.release.state.granted()).map(|r| r.release.data_source_id).collect()
}

/// The current terms of the sources whose data the case was granted (approved or delivered).
async fn required(conn: &mut AsyncPgConnection, app_id: i64) -> AppResult<Vec<(DataSource, Terms)>> {
    let granted = granted_sources(&db::cases::releases_of(conn, app_id).await?);
    let sources = db::catalogue::sources_by_ids(conn, &granted).await?;
    let terms = db::members::current_terms(conn, &granted).await?;
    Ok(sources
        .into_iter()
        .filter_map(|s| terms.iter().find(|t| t.data_source_id == s.id).cloned().map(|t| (s, t)))
        .collect())
}

fn as_current(t: &Terms) -> Current {
    Current { data_source_id: t.data_source_id, terms_id: t.id, version: t.version }
}

fn current(required: &[(DataSource, Terms)]) -> Vec<Current> {
    required.iter().map(|(_, t)| as_current(t)).collect()
}

/// Whether person `user_id` may see and download the files of `source` on case `app_id`: they
/// accepted its current terms there.
pub async fn may_receive(conn: &mut AsyncPgConnection, app_id: i64, user_id: i64, source: i64) -> AppResult<bool> {
    let current: Vec<Current> = db::members::current_terms(conn, &[source]).await?.iter().map(as_current).collect();
    let accepted = db::members::accepted_by(conn, app_id, user_id).await?;
    Ok(rule::may_receive(source, &current, &accepted))
}

/// The granted sources whose current terms person `user_id` has not accepted on case `app_id`.
pub async fn outstanding_for(conn: &mut AsyncPgConnection, app_id: i64, user_id: i64) -> AppResult<Vec<i64>> {
    let granted = granted_sources(&db::cases::releases_of(conn, app_id).await?);
    outstanding_among(conn, app_id, user_id, &granted).await
}

/// Of `sources` (granted on case `app_id`), those whose current terms person `user_id` has not
/// accepted there.
pub async fn outstanding_among(
    conn: &AsyncPgConnection,
    app_id: i64,
    user_id: i64,
    sources: &[i64],
) -> AppResult<Vec<i64>> {
    let (terms, accepted) =
        tokio::try_join!(db::members::current_terms(conn, sources), db::members::accepted_by(conn, app_id, user_id))?;
    let current: Vec<Current> = terms.iter().map(as_current).collect();
    Ok(rule::outstanding(&current, &accepted))
}

/// A person of the project as the terms page lists them.
pub struct Person {
    pub email: String,
    pub name: Option<String>,
    pub user_id: Option<i64>,
    pub applicant: bool,
    pub invitation: Option<Invitation>,
    /// The sources whose current terms they accepted, with when.
    pub accepted: Vec<(i64, DateTime<Utc>)>,
}

/// The terms page of a case: the terms to accept, and who of the project accepted them.
pub struct TermsFile {
    pub app: Application,
    pub access: Access,
    pub terms: Vec<(DataSource, Terms)>,
    pub people: Vec<Person>,
    /// The sources whose terms the reader still has to accept (empty for officers).
    pub mine_outstanding: Vec<i64>,
}

/// Reads the terms of case `id` for `user`: the applicant, the members and the case officers
/// (register owners do not see the project's people).
pub async fn terms_file(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<TermsFile> {
    let (app, access) = apps::load(conn, user, id).await?;
    if access == Access::RegisterOwner {
        return Err(AppError::Forbidden("err-terms-project".into()));
    }
    let terms = required(conn, id).await?;
    let current = current(&terms);
    let acceptances = db::members::acceptances_of(conn, id).await?;
    let invitations = db::members::invitations_of(conn, id).await?;
    let members = apps::form_of(&app).members;
    let applicant = db::users::by_id(conn, app.applicant_id).await?.ok_or(AppError::NotFound)?;
    let mut people = vec![Person {
        email: applicant.email.clone(),
        name: Some(applicant.name.clone()),
        user_id: Some(applicant.id),
        applicant: true,
        invitation: None,
        accepted: vec![],
    }];
    for email in members.iter().map(|m| m.trim().to_lowercase()).filter(|m| *m != applicant.email) {
        let holder = db::users::by_email(conn, &email).await?.filter(|u| u.email_verified_at.is_some());
        people.push(Person {
            name: holder.as_ref().map(|u| u.name.clone()),
            user_id: holder.as_ref().map(|u| u.id),
            applicant: false,
            invitation: invitations.iter().find(|i| i.email == email).cloned(),
            email,
            accepted: vec![],
        });
    }
    for p in &mut people {
        let Some(uid) = p.user_id else { continue };
        p.accepted = current
            .iter()
            .filter_map(|c| {
                acceptances
                    .iter()
                    .find(|(u, t, _)| *u == uid && *t == c.terms_id)
                    .map(|(_, _, at)| (c.data_source_id, *at))
            })
            .collect();
    }
    let mine: Vec<i64> = acceptances.iter().filter(|(u, _, _)| *u == user.id).map(|(_, t, _)| *t).collect();
    let mine_outstanding =
        if matches!(access, Access::Applicant | Access::Member) { rule::outstanding(&current, &mine) } else { vec![] };
    Ok(TermsFile { app, access, terms, people, mine_outstanding })
}

/// The applicant or a member accepts the current terms `terms_ids` of the case's sources.
pub async fn accept_terms(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    terms_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (_, access) = apps::load(conn, user, id).await?;
    let (user_id, ids, actor) = (user.id, terms_ids.to_vec(), actor.clone());
    // Checked under the case's lock: a withdrawal (which withdraws the releases) cannot slip
    // between reading what must be accepted and recording the acceptance.
    on_case(conn, id, Seen::ANY, async move |tx, app| {
        if !rule::may_accept(access, app.state) {
            return Err(AppError::Forbidden("err-terms-project".into()));
        }
        let terms = required(tx, id).await?;
        rule::check_accept(&ids, &current(&terms)).map_err(|key| match key {
            "err-terms-choose" => AppError::field("terms_ids", key),
            _ => AppError::Conflict(key.into()),
        })?;
        let accepted: Vec<_> = terms
            .iter()
            .filter(|(_, t)| ids.contains(&t.id))
            .map(|(s, t)| json!({"data_source_id": s.id, "code": s.code, "version": t.version, "terms_id": t.id}))
            .collect();
        db::members::accept_terms(tx, id, user_id, &ids, now).await?;
        record(tx, &actor, now, id, "terms.accepted", json!({"user_id": user_id, "terms": accepted})).await?;
        Ok(())
    })
    .await
}

/// Publishes a new version of a source's terms: admins, or the register owners of the source.
/// People accept the new version before they receive more of its files.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    source_id: i64,
    text_nb: &str,
    text_en: &str,
    now: DateTime<Utc>,
) -> AppResult<Terms> {
    let source = db::catalogue::sources_by_ids(conn, &[source_id]).await?.pop().ok_or(AppError::NotFound)?;
    let allowed = user.role.may(Permission::ManageCatalogue)
        || (user.role == Role::RegisterOwner && user.organisation_id == Some(source.owner_id));
    if !allowed {
        return Err(AppError::Forbidden("err-terms-publish".into()));
    }
    let mut errors = FieldErrors::new();
    let text_nb = errors.text("text_nb", text_nb, 1, 20_000);
    let text_en = errors.text("text_en", text_en, 1, 20_000);
    errors.into_result().map_err(AppError::Validation)?;
    let (by, actor) = (user.id, actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        let terms = db::members::publish_terms(tx, source_id, &text_nb, &text_en, by, now).await?;
        let payload = json!({"version": terms.version, "terms_id": terms.id});
        super::record_event(tx, &actor, now, ("data_source", Some(source_id)), "terms.published", payload).await?;
        Ok(terms)
    })
    .await
}

/// The current terms of a source (public: researchers read them before applying).
pub async fn current_of(conn: &mut AsyncPgConnection, source_id: i64) -> AppResult<Terms> {
    db::members::current_terms(conn, &[source_id]).await?.pop().ok_or(AppError::NotFound)
}

/// The invitations of a case: for the applicant, the members and the officers.
pub async fn invitations(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<Vec<Invitation>> {
    let (_, access) = apps::load(conn, user, id).await?;
    if access == Access::RegisterOwner {
        return Err(AppError::Forbidden("err-terms-project".into()));
    }
    Ok(db::members::invitations_of(conn, id).await?)
}
