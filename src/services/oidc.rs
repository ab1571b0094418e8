//! Federated login with OpenID Connect (ID-porten, HelseID …): the authorization code flow with
//! PKCE, a nonce and a state value; the ID token's signature (JWKS from discovery), issuer,
//! audience, expiry and nonce are checked by `openidconnect`. Accounts are linked by the
//! provider's (issuer, subject); the first login links by the provider's *verified* e-mail.

use super::Actor;
use crate::config::oidc::OidcProvider;
use crate::db::{self, users::NewUser, users::User};
use crate::domain::email::EmailAddress;
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

/// The account for a verified identity: the linked one; else, on the first login, the account
/// with the same verified e-mail address (linked now), or a new applicant account when the
/// provider may create accounts. Links and new accounts are recorded as events.
pub async fn account_for(
    conn: &mut AsyncPgConnection,
    provider: &OidcProvider,
    identity: &VerifiedIdentity,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<User> {
    conn.transaction::<_, AppError, _>(async |tx| {
        if let Some(link) = db::identities::find(tx, &identity.issuer, &identity.subject).await? {
            db::identities::touch(tx, link.id, identity.email.as_deref(), now).await?;
            let user = db::users::by_id(tx, link.user_id).await?.filter(|u| u.active);
            return user.ok_or_else(|| refused("the linked account is deactivated"));
        }
        let email = identity
            .email
            .as_deref()
            .filter(|_| identity.email_verified)
            .and_then(EmailAddress::parse)
            .ok_or_else(|| refused("no verified e-mail address for a first login"))?;
        let user = match db::users::by_email(tx, email.as_str()).await? {
            Some(u) if u.active => u,
            Some(_) => return Err(refused("the account is deactivated")),
            None if provider.create_accounts => {
                let name = identity.name.clone().unwrap_or_else(|| email.as_str().to_string());
                let user = db::users::insert(
                    tx,
                    &NewUser {
                        email: email.as_str(),
                        name: &name,
                        password_hash: None,
                        role: "applicant",
                        organisation_id: None,
                        language: "nb",
                    },
                )
                .await?;
                append(
                    tx,
                    actor,
                    user.id,
                    "user.registered",
                    json!({"email": user.email, "role": user.role, "provider": provider.key}),
                    now,
                )
                .await?;
                user
            }
            None => return Err(refused("no account with this e-mail address")),
        };
        if user.email_verified_at.is_none() {
            db::users::mark_verified(tx, user.id, now).await?;
        }
        db::identities::insert(
            tx,
            user.id,
            &provider.key,
            &identity.issuer,
            &identity.subject,
            Some(email.as_str()),
            now,
        )
        .await?;
        let payload = json!({"provider": provider.key, "issuer": identity.issuer, "subject": identity.subject});
        append(tx, actor, user.id, "identity.linked", payload, now).await?;
        Ok(user)
    })
    .await
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
