//! Federated login with OpenID Connect (ID-porten, HelseID …): the authorization code flow with
//! PKCE, a nonce and a state value; the ID token's signature (JWKS from discovery), issuer,
//! audience, expiry and nonce are checked by `openidconnect`. Accounts are linked by the
//! provider's (issuer, subject); what a first login may do is `domain::federation`'s rule.

use super::Actor;
use crate::config::oidc::OidcProvider;
use crate::db::{self, users::NewUser, users::User};
use crate::domain::email::EmailAddress;
use crate::domain::federation::{self, FirstLogin, Holder};
use crate::domain::language::Language;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::pin::Pin;

/// How long a started login may take at the provider.
pub const PENDING_MINUTES: i64 = 10;

/// What the browser keeps (in a private, encrypted cookie) between leaving for the provider
/// and coming back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
    pub started: i64,
}

/// An HTTP failure talking to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The HTTP client for the provider: no redirects followed (as the OIDC libraries advise), and
/// a timeout so a slow provider cannot hold a request.
pub fn http_client() -> AppResult<Http> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map(Http)
        .map_err(|e| AppError::Internal(format!("http client: {e}")))
}

async fn send(client: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
    let response = client.execute(request).await.map_err(|e| HttpError(e.to_string()))?;
    let mut out = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    // Read at most PROVIDER_ANSWER_BYTES: discovery documents, key sets and tokens are small, and
    // an endless answer must not fill the memory (as for webhook answers, issue 23).
    let mut response = response;
    let mut body: Vec<u8> = vec![];
    while let Some(chunk) = response.chunk().await.map_err(|e| HttpError(e.to_string()))? {
        if body.len() + chunk.len() > PROVIDER_ANSWER_BYTES {
            return Err(HttpError(format!("the provider's answer is over {PROVIDER_ANSWER_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    out.body(body).map_err(|e| HttpError(e.to_string()))
}

/// The largest answer read from an identity provider.
pub const PROVIDER_ANSWER_BYTES: usize = 1024 * 1024;

fn refused(what: impl std::fmt::Display) -> AppError {
    tracing::warn!("OpenID Connect login refused: {what}");
    AppError::Unauthorized("login-oidc-failed".into())
}

fn redirect_url(public_url: &str, provider: &OidcProvider) -> String {
    format!("{public_url}/login/oidc/{}/callback", provider.key)
}

/// The HTTP client as `openidconnect` calls it.
pub struct Http(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;
    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(self.0.clone(), request))
    }
}

/// A client made from the provider's discovery document (authorization endpoint set, token
/// and user-info endpoints as the document says).
type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

async fn client_for(http: &Http, provider: &OidcProvider, public_url: &str) -> AppResult<DiscoveredClient> {
    let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(refused)?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| {
        tracing::error!("OpenID Connect discovery at {} failed: {e}", provider.issuer);
        AppError::Unavailable(format!("the login service {} does not answer", provider.label))
    })?;
    let redirect = RedirectUrl::new(redirect_url(public_url, provider)).map_err(refused)?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

/// Starts a login: the provider's authorization URL (with a PKCE challenge, state and nonce)
/// and what the browser must keep until it comes back.
pub async fn start(
    provider: &OidcProvider,
    public_url: &str,
    next: &str,
    now: DateTime<Utc>,
) -> AppResult<(String, PendingLogin)> {
    let http = http_client()?;
    let client = client_for(&http, provider, public_url).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request =
        client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
    for scope in &provider.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = PendingLogin {
        provider: provider.key.clone(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: next.to_string(),
        started: now.timestamp(),
    };
    Ok((url.to_string(), pending))
}

/// What the verified ID token says about the person.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Finishes a login: checks the state, redeems the code with the PKCE verifier and verifies the
/// ID token. Every failure is a 401 (details go to the log only).
pub async fn verify_callback(
    provider: &OidcProvider,
    public_url: &str,
    pending: &PendingLogin,
    code: &str,
    state: &str,
    now: DateTime<Utc>,
) -> AppResult<VerifiedIdentity> {
    if pending.provider != provider.key || pending.state != state {
        return Err(refused("state does not match"));
    }
    if now.timestamp() - pending.started > PENDING_MINUTES * 60 {
        return Err(refused("the login took too long"));
    }
    let http = http_client()?;
    let client = client_for(&http, provider, public_url).await?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(refused)?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&http)
        .await
        .map_err(|e| refused(format!("token request: {e}")))?;
    let id_token = response.id_token().ok_or_else(|| refused("no ID token"))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
        .map_err(|e| refused(format!("ID token: {e}")))?;
    Ok(VerifiedIdentity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
    })
}

/// Where a login through the provider stands after the callback.
pub enum Arrival {
    /// The identity is linked (or the account was just made): open a session.
    Account(User),
    /// The person must prove an e-mail address with a mailed code first; the browser keeps
    /// this token (a private cookie) to come back to the confirmation.
    Confirm(String),
}

/// The account for a verified identity: the linked one. On the first login (see
/// `domain::federation`): a new applicant account when the provider vouched for an address
/// nobody holds; otherwise a confirmation by mailed code comes first (ID-porten and HelseID send
/// no address: the person gives one). Links and new accounts are recorded as events.
pub async fn arrive(
    conn: &mut AsyncPgConnection,
    provider: &OidcProvider,
    identity: &VerifiedIdentity,
    next: &str,
    language: Language,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Arrival> {
    conn.transaction::<_, AppError, _>(async |tx| {
        if let Some(link) = db::identities::find(tx, &identity.issuer, &identity.subject).await? {
            db::identities::touch(tx, link.id, identity.email.as_deref(), now).await?;
            let user = db::users::by_id(tx, link.user_id).await?.filter(|u| u.active);
            return user.map(Arrival::Account).ok_or_else(|| refused("the linked account is deactivated"));
        }
        let vouched = identity.email.as_deref().filter(|_| identity.email_verified).and_then(EmailAddress::parse);
        let holder = match &vouched {
            Some(email) => holder_of(tx, email).await?.0,
            None => Holder::Nobody,
        };
        if let (Some(email), false) = (&vouched, federation::needs_code(vouched.is_some(), holder)) {
            federation::first_login(holder, provider.create_accounts).map_err(|k| AppError::Forbidden(k.into()))?;
            let user = create(tx, provider, identity, email, actor, now).await?;
            return Ok(Arrival::Account(user));
        }
        let (token, hash) = super::accounts::new_secret();
        let new = db::identities::NewConfirmation {
            token_hash: &hash,
            provider: &provider.key,
            issuer: &identity.issuer,
            subject: &identity.subject,
            name: identity.name.as_deref(),
            email: None,
            next,
            expires_at: now + chrono::Duration::minutes(federation::CODE_MINUTES),
            created_at: now,
        };
        let id = db::identities::insert_confirmation(tx, &new).await?;
        if let Some(email) = &vouched {
            mail_code(tx, id, 0, email, language, now).await?;
        }
        Ok(Arrival::Confirm(token))
    })
    .await
}

/// The account holding `email` (if any) and what it is to the rule.
async fn holder_of(tx: &mut AsyncPgConnection, email: &EmailAddress) -> AppResult<(Holder, Option<User>)> {
    let user = db::users::by_email(tx, email.as_str()).await?;
    let holder = match &user {
        None => Holder::Nobody,
        Some(u) => Holder::of(u.role, u.email_verified_at.is_some(), u.active),
    };
    Ok((holder, user))
}

async fn create(
    tx: &mut AsyncPgConnection,
    provider: &OidcProvider,
    identity: &VerifiedIdentity,
    email: &EmailAddress,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let name = identity.name.clone().unwrap_or_else(|| email.as_str().to_string());
    let new = NewUser {
        email: email.as_str(),
        name: &name,
        password_hash: None,
        role: "applicant",
        organisation_id: None,
        language: "nb",
    };
    let user = db::users::insert(tx, &new).await.map_err(|e| super::accounts::unique_violation(e, "email"))?;
    let payload = json!({"email": user.email, "role": user.role, "provider": provider.key});
    append(tx, actor, user.id, "user.registered", payload, now).await?;
    db::users::mark_verified(tx, user.id, now).await?;
    link(tx, provider, identity, &user, email, actor, now).await?;
    Ok(user)
}

async fn link(
    tx: &mut AsyncPgConnection,
    provider: &OidcProvider,
    identity: &VerifiedIdentity,
    user: &User,
    email: &EmailAddress,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<()> {
    db::identities::insert(tx, user.id, &provider.key, &identity.issuer, &identity.subject, Some(email.as_str()), now)
        .await?;
    let payload = json!({"provider": provider.key, "issuer": identity.issuer, "subject": identity.subject});
    append(tx, actor, user.id, "identity.linked", payload, now).await
}

/// Writes a six-digit code for `email` to the outbox and keeps its hash on the confirmation.
async fn mail_code(
    tx: &mut AsyncPgConnection,
    id: i64,
    codes_sent: i32,
    email: &EmailAddress,
    language: Language,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if codes_sent >= federation::MAX_CODES {
        return Err(AppError::TooManyRequests(federation::CODE_MINUTES * 60));
    }
    let code = {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        // Uniform over 0..1 000 000 (rejecting the few values that would bias the remainder).
        loop {
            let n = OsRng.next_u32();
            if n < u32::MAX - u32::MAX % 1_000_000 {
                break format!("{:06}", n % 1_000_000);
            }
        }
    };
    let expires = now + chrono::Duration::minutes(federation::CODE_MINUTES);
    db::identities::set_code(tx, id, email.as_str(), &super::accounts::secret_hash(&code), expires).await?;
    let context = json!({"code": code, "email": email.as_str()});
    let message = db::notifications::NewOutboxMessage {
        user_id: None,
        recipient: email.as_str(),
        language: language.code(),
        template: "login_code",
        context: &context,
        next_attempt_at: now,
        created_at: now,
    };
    db::notifications::enqueue(tx, &message).await?;
    Ok(())
}

/// What the confirmation page shows: the address the code went to, if one has been given.
pub async fn confirmation_address(
    conn: &mut AsyncPgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let c = db::identities::confirmation(conn, &super::accounts::secret_hash(token), now)
        .await?
        .ok_or_else(|| AppError::Unauthorized("err-oidc-confirmation-expired".into()))?;
    Ok(c.email)
}

/// The person gives an address (ID-porten sends none): a code is mailed to it.
pub async fn give_address(
    conn: &mut AsyncPgConnection,
    token: &str,
    email: &str,
    language: Language,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let email = EmailAddress::parse(email).ok_or_else(|| AppError::field("email", "err-email"))?;
    let hash = super::accounts::secret_hash(token);
    conn.transaction::<_, AppError, _>(async |tx| {
        let c = db::identities::confirmation(tx, &hash, now)
            .await?
            .ok_or_else(|| AppError::Unauthorized("err-oidc-confirmation-expired".into()))?;
        mail_code(tx, c.id, c.codes_sent, &email, language, now).await
    })
    .await
}

/// The person enters the mailed code: the address is proven, and the first login does what the
/// rule allows (create, link, or reclaim an unconfirmed account). Returns the account and where
/// to go next.
pub async fn confirm_code(
    conn: &mut AsyncPgConnection,
    providers: &[OidcProvider],
    token: &str,
    code: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<(User, String)> {
    let hash = super::accounts::secret_hash(token);
    let code_hash = super::accounts::secret_hash(code.trim());
    // A wrong code is counted in its own transaction (the refusal must not roll it back).
    let outcome = conn
        .transaction::<_, AppError, _>(async |tx| {
            let c = db::identities::confirmation(tx, &hash, now)
                .await?
                .ok_or_else(|| AppError::Unauthorized("err-oidc-confirmation-expired".into()))?;
            let (Some(address), Some(expected)) = (c.email.as_deref(), c.code_hash.as_deref()) else {
                return Err(AppError::field("email", "err-required"));
            };
            if c.attempts >= federation::MAX_CODE_ATTEMPTS {
                db::identities::delete_confirmation(tx, c.id, now).await?;
                return Err(AppError::Unauthorized("err-oidc-confirmation-expired".into()));
            }
            if expected != code_hash {
                db::identities::count_attempt(tx, c.id).await?;
                return Ok(None);
            }
            let provider = providers.iter().find(|p| p.key == c.provider).ok_or(AppError::NotFound)?;
            let email = EmailAddress::parse(address).ok_or_else(|| AppError::field("email", "err-email"))?;
            db::identities::delete_confirmation(tx, c.id, now).await?;
            let identity = VerifiedIdentity {
                issuer: c.issuer.clone(),
                subject: c.subject.clone(),
                email: Some(address.to_string()),
                email_verified: true,
                name: c.name.clone(),
            };
            if db::identities::find(tx, &identity.issuer, &identity.subject).await?.is_some() {
                return Err(AppError::Conflict("err-oidc-already-linked".into()));
            }
            let (holder, existing) = holder_of(tx, &email).await?;
            let step =
                federation::first_login(holder, provider.create_accounts).map_err(|k| AppError::Forbidden(k.into()))?;
            let user = match (step, existing) {
                (FirstLogin::Create, _) => create(tx, provider, &identity, &email, actor, now).await?,
                (FirstLogin::Link, Some(user)) => {
                    link(tx, provider, &identity, &user, &email, actor, now).await?;
                    user
                }
                (FirstLogin::Reclaim, Some(user)) => {
                    // Whoever registered the address never proved it: their password, sessions
                    // and tokens go; the person who proved it owns the account from now on.
                    db::users::clear_password(tx, user.id, now).await?;
                    super::accounts::end_access(tx, user.id, now).await?;
                    db::users::mark_verified(tx, user.id, now).await?;
                    append(
                        tx,
                        actor,
                        user.id,
                        "user.reclaimed",
                        json!({"email": user.email, "provider": provider.key}),
                        now,
                    )
                    .await?;
                    link(tx, provider, &identity, &user, &email, actor, now).await?;
                    db::users::by_id(tx, user.id).await?.ok_or(AppError::NotFound)?
                }
                _ => return Err(AppError::NotFound),
            };
            Ok(Some((user, c.next.clone())))
        })
        .await?;
    outcome.ok_or_else(|| AppError::field("code", "err-oidc-wrong-code"))
}

async fn append(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    user_id: i64,
    kind: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let actor = Actor { user_id: Some(user_id), address: actor.address.clone() };
    super::record_event(tx, &actor, now, ("user", Some(user_id)), kind, payload).await?;
    Ok(())
}
