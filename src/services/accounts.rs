//! Accounts: registration, users managed by admins, passwords, login with throttling,
//! sessions and API tokens.

use super::Actor;
use crate::db::{
    self,
    users::{NewUser, User, UserChanges},
};
use crate::domain::{email::EmailAddress, fields::FieldErrors, language::Language, org_number, password, role::Role};
use crate::error::{AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
    rand_core::{OsRng, RngCore},
};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;
/// How long an API token from `POST /api/auth/token` lasts.
pub const TOKEN_HOURS: i64 = 24;
/// The throttling window.
pub const THROTTLE_MINUTES: i64 = 15;
/// Failed logins per account in the window before it is throttled.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins per client address in the window before it is throttled.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

/// A hash of a random password, verified against when the account does not exist, so the
/// answer takes as long either way.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("no-such-account-1").unwrap_or_default());

fn verify_password(hash: Option<&str>, password: &str) -> bool {
    let hash = hash.unwrap_or(DUMMY_HASH.as_str());
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Hashing is CPU work: keep it off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| AppError::Internal(e.to_string()))
}

/// A new random secret (for sessions, tokens, CSRF) and the SHA-256 we store of it.
pub fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let hash = secret_hash(&secret);
    (secret, hash)
}

/// The SHA-256 (hex) under which a secret is stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// What a new account needs.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Option<String>,
    pub organisation_id: Option<i64>,
    pub language: Option<String>,
}

struct CheckedAccount {
    email: EmailAddress,
    name: String,
    role: Role,
    organisation_id: Option<i64>,
    language: Language,
}

fn check_account(input: &NewAccount, default_role: Role, errors: &mut FieldErrors) -> Option<CheckedAccount> {
    let email = EmailAddress::parse(&input.email);
    if input.email.trim().is_empty() {
        errors.add("email", "err-required");
    } else if email.is_none() {
        errors.add("email", "err-email");
    }
    let name = errors.text("name", &input.name, 1, 200);
    check_new_password(&input.password, &[input.name.trim(), input.email.trim()], "password", errors);
    let role = match input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(default_role),
        Some(code) => {
            let r = Role::from_code(code);
            if r.is_none() {
                errors.add("role", "err-choice");
            }
            r
        }
    };
    if let Some(r) = role
        && r.requires_organisation()
        && input.organisation_id.is_none()
    {
        errors.add("organisation_id", "err-organisation-required");
    }
    let language = match input.language.as_deref().filter(|l| !l.is_empty()) {
        None => Some(Language::Nb),
        Some(l) => {
            let lang = Language::from_tag(l);
            if lang.is_none() {
                errors.add("language", "err-choice");
            }
            lang
        }
    };
    Some(CheckedAccount {
        email: email?,
        name,
        role: role?,
        organisation_id: input.organisation_id,
        language: language?,
    })
}

/// Adds the password rule's message to `errors` when `password` is too weak (`personal`: the
/// person's name and address, which a password must not be built from).
pub fn check_new_password(pw: &str, personal: &[&str], field: &str, errors: &mut FieldErrors) {
    match password::check_for(pw, personal) {
        Ok(()) => {}
        Err(password::PasswordError::TooShort) if pw.is_empty() => errors.add(field, "err-required"),
        Err(password::PasswordError::TooShort) => {
            errors.add_n(field, "err-password-short", password::MIN_LENGTH as i64)
        }
        Err(password::PasswordError::TooLong) => errors.add_n(field, "err-too-long", password::MAX_LENGTH as i64),
        Err(password::PasswordError::TooSimple) => errors.add(field, "err-password-simple"),
        Err(password::PasswordError::TooCommon) => errors.add(field, "err-password-common"),
    }
}

/// The name and new password chosen from an invitation link for the account at `email`: both
/// checked (problems beside `name` and `password`); returns the name trimmed and the password's
/// hash.
pub async fn chosen_name_and_password(name: &str, email: &str, password: &str) -> AppResult<(String, String)> {
    let mut errors = FieldErrors::new();
    let name = errors.text("name", name, 1, 200);
    check_new_password(password, &[&name, email], "password", &mut errors);
    errors.into_result().map_err(AppError::Validation)?;
    let pw = password.to_string();
    let hash = blocking(move || hash_password(&pw)).await??;
    Ok((name, hash))
}

/// Creates an account. `actor` is `None` for self-registration (role forced to applicant).
pub async fn create_account(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    input: NewAccount,
    self_registration: bool,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let mut errors = FieldErrors::new();
    let mut input = input;
    if self_registration {
        input.role = None;
        input.organisation_id = None;
    }
    let checked = check_account(&input, Role::Applicant, &mut errors);
    if let Some(c) = &checked
        && let Some(org) = c.organisation_id
        && db::catalogue::organisation(conn, org).await?.is_none()
    {
        errors.add("organisation_id", "err-no-such-organisation");
    }
    let checked = match (checked, errors.is_empty()) {
        (Some(c), true) => c,
        _ => return Err(AppError::Validation(errors)),
    };
    if db::users::by_email(conn, checked.email.as_str()).await?.is_some() {
        return Err(AppError::Duplicate(taken("email")));
    }
    let pw = input.password.clone();
    let hash = blocking(move || hash_password(&pw)).await??;
    insert_account(conn, actor, checked, hash, self_registration, now).await
}

/// Stores a checked account with its password's hash, and its event; a self-registered address
/// is to be confirmed by a mailed link, one an admin made is confirmed.
async fn insert_account(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    checked: CheckedAccount,
    hash: String,
    self_registration: bool,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let user = db::users::insert(
            tx,
            &NewUser {
                email: checked.email.as_str(),
                name: &checked.name,
                password_hash: Some(&hash),
                role: checked.role.code(),
                organisation_id: checked.organisation_id,
                language: checked.language.code(),
            },
        )
        .await
        .map_err(|e| unique_violation(e, "email"))?;
        if self_registration {
            send_verification(tx, &user, now).await?;
        } else {
            db::users::mark_verified(tx, user.id, now).await?;
        }
        let kind = if self_registration { "user.registered" } else { "user.created" };
        super::record_event(
            tx,
            &Actor { user_id: actor.user_id.or(Some(user.id)), address: actor.address.clone() },
            now,
            ("user", Some(user.id)),
            kind,
            json!({"email": user.email, "role": user.role, "organisation_id": user.organisation_id}),
        )
        .await?;
        Ok(user)
    })
    .await
}

/// Self-registration (issue 23 items 3 and 9). The answer is the same whether or not the address
/// has an account: nothing tells a stranger which addresses are registered. What happens:
/// - a free address: an applicant account, its address to be confirmed by a mailed link;
/// - an address whose account was never confirmed: the registration waits, and the link mailed
///   to the address lets whoever can read it take the account over (see `confirm_reregistration`);
/// - an address with a confirmed account: its owner is told by mail, and nothing changes.
pub async fn register(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    input: NewAccount,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut input = input;
    input.role = None;
    input.organisation_id = None;
    let mut errors = FieldErrors::new();
    let checked = match (check_account(&input, Role::Applicant, &mut errors), errors.is_empty()) {
        (Some(c), true) => c,
        _ => return Err(AppError::Validation(errors)),
    };
    let pw = input.password.clone();
    // Hashed whatever happens next, so that the answer takes as long either way.
    let hash = blocking(move || hash_password(&pw)).await??;
    let Some(holder) = db::users::by_email(conn, checked.email.as_str()).await? else {
        // The hash above is the account's: one argon2 run on every path.
        return match insert_account(conn, actor, checked, hash, true, now).await {
            // Registered at the same moment by someone else: the same answer.
            Ok(_) | Err(AppError::Duplicate(_)) => Ok(()),
            Err(e) => Err(e),
        };
    };
    let hour = Duration::hours(1);
    let kind = if holder.email_verified_at.is_none() && holder.role == Role::Applicant && holder.active {
        "reregistration"
    } else {
        "registration_attempt"
    };
    // At most VERIFY_MAILS_PER_HOUR such mails an hour to one address, silently (the same answer).
    if db::notifications::queued_since(conn, holder.id, kind, now - hour).await?.len() >= VERIFY_MAILS_PER_HOUR {
        return Ok(());
    }
    let name = checked.name.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let context = if kind == "reregistration" {
            let (secret, token_hash) = new_secret();
            let expires = now + Duration::days(VERIFY_DAYS);
            db::users::insert_reregistration(tx, holder.id, &name, &hash, &token_hash, expires, now).await?;
            json!({"name": name, "path": format!("/register/confirm?token={secret}")})
        } else {
            json!({"name": holder.name, "path": "/login"})
        };
        let message = db::notifications::NewOutboxMessage {
            user_id: Some(holder.id),
            recipient: &holder.email,
            language: &holder.language,
            template: kind,
            context: &context,
            next_attempt_at: now,
            created_at: now,
        };
        db::notifications::enqueue(tx, &message).await?;
        Ok(())
    })
    .await
}

/// The link of a re-registration: whoever opened it can read the address's mail, so the account
/// (never confirmed) is theirs: their name and password, the address confirmed; whatever the
/// earlier registrant set (password, sessions, tokens) stops working.
pub async fn confirm_reregistration(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let hash = secret_hash(token.trim());
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let r = db::users::take_reregistration(tx, &hash, now)
            .await?
            .ok_or_else(|| AppError::Conflict("err-link-expired".into()))?;
        let before = db::users::by_id(tx, r.user_id).await?.ok_or(AppError::NotFound)?;
        if before.email_verified_at.is_some() {
            // Confirmed meanwhile by its owner: the account is not up for grabs any more.
            return Err(AppError::Conflict("err-link-expired".into()));
        }
        end_access(tx, r.user_id, now).await?;
        db::users::drop_reregistrations(tx, r.user_id).await?;
        let user = db::users::take_over(tx, r.user_id, &r.name, &r.password_hash, now).await?;
        let who = Actor { user_id: Some(user.id), address: actor.address.clone() };
        super::record_event(
            tx,
            &who,
            now,
            ("user", Some(user.id)),
            "user.reclaimed",
            json!({"email": user.email, "by": "registration"}),
        )
        .await?;
        Ok(user)
    })
    .await
}

/// Ends every open session and personal token of an account (changed rights or credentials, or
/// an account taken back by the owner of its address), in the caller's transaction.
pub async fn end_access(tx: &mut AsyncPgConnection, user_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    db::users::delete_sessions_of(tx, user_id).await?;
    db::users::revoke_tokens_of(tx, user_id, now).await?;
    Ok(())
}

/// How long a link to confirm an e-mail address works.
pub const VERIFY_DAYS: i64 = 7;

/// Writes a fresh confirmation link for the user's address to the outbox (in the caller's
/// transaction); an earlier link stops working.
pub async fn send_verification(tx: &mut AsyncPgConnection, user: &User, now: DateTime<Utc>) -> AppResult<()> {
    let (secret, hash) = new_secret();
    db::users::set_verify_token(tx, user.id, &hash, now + chrono::Duration::days(VERIFY_DAYS)).await?;
    let context = json!({"name": user.name, "path": format!("/verify-email?token={secret}")});
    db::notifications::enqueue(
        tx,
        &db::notifications::NewOutboxMessage {
            user_id: Some(user.id),
            recipient: &user.email,
            language: &user.language,
            template: "verify_email",
            context: &context,
            next_attempt_at: now,
            created_at: now,
        },
    )
    .await?;
    Ok(())
}

/// Confirms an address from the link's token; records the event.
pub async fn verify_email(
    conn: &mut AsyncPgConnection,
    signed_in: &User,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let hash = secret_hash(token.trim());
    let signed_in = signed_in.id;
    conn.transaction::<_, AppError, _>(async move |tx| {
        let Some(user) = db::users::verify_email(tx, signed_in, &hash, now).await? else {
            // Someone else's link confirms nothing for the one who opened it.
            if db::users::verify_token_exists(tx, &hash, now).await? {
                return Err(AppError::Forbidden("err-link-other-account".into()));
            }
            return Err(AppError::Conflict("err-link-expired".into()));
        };
        super::record_event(
            tx,
            &Actor { user_id: Some(user.id), address: None },
            now,
            ("user", Some(user.id)),
            "user.email_verified",
            json!({"email": user.email}),
        )
        .await?;
        Ok(user)
    })
    .await
}

/// Most confirmation mails one account is sent in an hour.
pub const VERIFY_MAILS_PER_HOUR: usize = 3;

/// Sends a new confirmation link to a user whose address is not confirmed yet.
pub async fn resend_verification(conn: &mut AsyncPgConnection, user: &User, now: DateTime<Utc>) -> AppResult<()> {
    if user.email_verified_at.is_some() {
        return Err(AppError::Conflict("err-email-already-confirmed".into()));
    }
    // At most VERIFY_MAILS_PER_HOUR confirmation mails an hour, the registration's included.
    let hour = Duration::hours(1);
    let recent = db::notifications::queued_since(conn, user.id, "verify_email", now - hour).await?;
    if recent.len() >= VERIFY_MAILS_PER_HOUR {
        let free_at = recent[recent.len() - VERIFY_MAILS_PER_HOUR] + hour;
        return Err(AppError::TooManyRequests((free_at - now).num_seconds().max(1)));
    }
    let user = user.clone();
    conn.transaction::<_, AppError, _>(async move |tx| send_verification(tx, &user, now).await).await
}

fn taken(field: &str) -> FieldErrors {
    let mut f = FieldErrors::new();
    f.add(field, "err-taken");
    f
}

/// Turns a unique-constraint violation (a race with a concurrent insert) into a 409 on `field`.
pub fn unique_violation(e: diesel::result::Error, field: &str) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::Duplicate(taken(field)),
        other => other.into(),
    }
}

/// What an admin may change on an account.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AccountChanges {
    pub name: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub language: String,
    pub active: bool,
    pub version: i32,
    /// A new password, when it is to be reset.
    pub password: Option<String>,
}

/// Updates an account (admin); refuses a stale version and removing the last admin.
pub async fn update_account(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user_id: i64,
    input: AccountChanges,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let existing = db::users::by_id(conn, user_id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let name = errors.text("name", &input.name, 1, 200);
    let role = Role::from_code(&input.role);
    if role.is_none() {
        errors.add("role", "err-choice");
    }
    let language = Language::from_tag(&input.language);
    if language.is_none() {
        errors.add("language", "err-choice");
    }
    if role.is_some_and(Role::requires_organisation) && input.organisation_id.is_none() {
        errors.add("organisation_id", "err-organisation-required");
    }
    if let Some(org) = input.organisation_id
        && db::catalogue::organisation(conn, org).await?.is_none()
    {
        errors.add("organisation_id", "err-no-such-organisation");
    }
    let new_password = input.password.as_deref().filter(|p| !p.is_empty()).map(str::to_string);
    if let Some(pw) = &new_password {
        check_new_password(pw, &[existing.name.as_str(), existing.email.as_str()], "password", &mut errors);
    }
    let (Some(role), Some(language), true) = (role, language, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let demotes_admin = existing.role == Role::Admin && (role != Role::Admin || !input.active);
    if demotes_admin && db::users::count_admins(conn).await? <= 1 {
        return Err(AppError::Conflict("err-last-admin".into()));
    }
    let hash = match new_password {
        Some(pw) => Some(blocking(move || hash_password(&pw)).await??),
        None => None,
    };
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let changes = UserChanges {
            name: &name,
            role: role.code(),
            organisation_id: Some(input.organisation_id),
            language: language.code(),
            active: input.active,
        };
        let user = db::users::update(tx, user_id, input.version, &changes, now)
            .await?
            .ok_or_else(|| AppError::Conflict("err-account-changed".into()))?;
        if let Some(h) = &hash {
            db::users::set_password(tx, user_id, h, now).await?;
        }
        if hash.is_some() || !input.active || existing.role != user.role {
            // Changed rights or credentials end every open session and token.
            end_access(tx, user_id, now).await?;
        }
        super::record_event(tx, &actor, now, ("user", Some(user_id)), "user.updated", json!({
                    "from": {"role": existing.role, "organisation_id": existing.organisation_id, "active": existing.active, "name": existing.name},
                    "to": {"role": user.role, "organisation_id": user.organisation_id, "active": user.active, "name": user.name},
                    "password_reset": hash.is_some(),
                }))
        .await?;
        db::users::by_id(tx, user_id).await?.ok_or(AppError::NotFound)
    })
    .await
}

/// The person's own choice of language for e-mail and letters (`nb`, `nn` or `en`).
pub async fn choose_language(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<Language> {
    let language = Language::ALL
        .into_iter()
        .find(|l| l.code() == code)
        .ok_or_else(|| AppError::field("language", "err-choice"))?;
    let (actor, from, id) = (actor.clone(), user.language.clone(), user.id);
    conn.transaction::<_, AppError, _>(async move |tx| {
        db::users::set_language(tx, id, language.code()).await?;
        let payload = json!({"from": {"language": from}, "to": {"language": language.code()}});
        super::record_event(tx, &actor, now, ("user", Some(id)), "user.language_chosen", payload).await?;
        Ok(language)
    })
    .await
}

/// Checks credentials with throttling per account and per address; records the attempt.
pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    email: &str,
    password: &str,
    address: &str,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let email_key = email.trim().to_lowercase();
    let since = now - Duration::minutes(THROTTLE_MINUTES);
    let (by_account, by_address) = db::users::recent_failures(conn, &email_key, address, since).await?;
    if by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
        return Err(AppError::TooManyRequests(THROTTLE_MINUTES * 60));
    }
    let user = db::users::by_email(conn, &email_key).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let pw = password.to_string();
    let ok = blocking(move || verify_password(hash.as_deref(), &pw)).await?;
    let user = user.filter(|u| ok && u.active);
    db::users::record_attempt(conn, &email_key, address, user.is_some(), now).await?;
    user.ok_or_else(|| AppError::Unauthorized("err-wrong-credentials".into()))
}

/// Opens a browser session; returns the secret for the cookie.
pub async fn open_session(
    conn: &mut AsyncPgConnection,
    user: &User,
    address: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let (secret, hash) = new_secret();
    db::users::create_session(conn, &hash, user.id, now + Duration::hours(SESSION_HOURS), Some(address)).await?;
    Ok(secret)
}

/// Issues an API token; returns the secret (shown once) and its expiry.
#[allow(clippy::too_many_arguments)]
pub async fn issue_token(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    name: &str,
    scope: &str,
    hours: i64,
    now: DateTime<Utc>,
) -> AppResult<(String, DateTime<Utc>)> {
    let (secret, hash) = new_secret();
    let expires = now + Duration::hours(hours);
    conn.transaction::<_, AppError, _>(async |tx| {
        let token = db::users::create_token(tx, &hash, user.id, name, scope, expires).await?;
        let payload = json!({"token_id": token.id, "name": name, "scope": scope, "expires_at": expires});
        super::record_event(tx, actor, now, ("user", Some(user.id)), "token.issued", payload).await?;
        Ok(())
    })
    .await?;
    Ok((secret, expires))
}

/// Creates the first administrator from `ADMIN_EMAIL`/`ADMIN_PASSWORD` when that account is absent.
pub async fn ensure_admin(
    conn: &mut AsyncPgConnection,
    email: &EmailAddress,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if db::users::by_email(conn, email.as_str()).await?.is_some() {
        return Ok(());
    }
    let input = NewAccount {
        email: email.to_string(),
        name: "Administrator".into(),
        password: password.to_string(),
        role: Some("admin".into()),
        organisation_id: None,
        language: None,
    };
    create_account(conn, &Actor::system(), input, false, now).await.map(|_| ())
}

/// Parses and checks an organisation number for a form field.
pub fn organisation_number(
    value: &str,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<org_number::OrganisationNumber> {
    match org_number::OrganisationNumber::parse(value) {
        Ok(n) => Some(n),
        Err(_) if value.trim().is_empty() => {
            errors.add(field, "err-required");
            None
        }
        Err(org_number::OrganisationNumberError::Format) => {
            errors.add(field, "err-org-number-format");
            None
        }
        Err(org_number::OrganisationNumberError::CheckDigit) => {
            errors.add(field, "err-org-number-check");
            None
        }
    }
}

/// Ends the browser session whose cookie holds `secret` (logging out).
pub async fn close_session(conn: &mut AsyncPgConnection, secret: &str) -> AppResult<()> {
    db::users::delete_session(conn, &secret_hash(secret)).await?;
    Ok(())
}

/// The live session whose cookie holds `secret`: its user, expiry and the user's unread notices.
pub async fn session(
    conn: &mut AsyncPgConnection,
    secret: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<db::users::SessionRow>> {
    Ok(db::users::session_with_unread(conn, &secret_hash(secret), now).await?)
}

/// Every account with its organisation's name (the admins' list).
pub async fn users(conn: &mut AsyncPgConnection) -> AppResult<Vec<(User, Option<String>)>> {
    Ok(db::users::list(conn).await?)
}

/// One account and the events about it, or 404.
pub async fn user_with_history(conn: &mut AsyncPgConnection, id: i64) -> AppResult<(User, Vec<db::events::Event>)> {
    let user = db::users::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
    let history = db::events::for_subject(conn, "user", id).await?;
    Ok((user, history))
}

/// The external identities (OpenID Connect) linked to an account.
pub async fn identities(conn: &mut AsyncPgConnection, user_id: i64) -> AppResult<Vec<db::identities::Identity>> {
    Ok(db::identities::of_user(conn, user_id).await?)
}
