//! Federated login against a real OpenID Connect provider that the test starts on loopback:
//! discovery, JWKS with a freshly generated RSA key, an authorization endpoint that redirects
//! back with a code, and a token endpoint that checks the client, the code and the PKCE verifier
//! and returns a signed ID token. The app must refuse a bad signature, a wrong audience and an
//! expired token, link accounts by (issuer, subject), and can turn local passwords off.

use crate::common::http_peer::{self, Request, Response};
use crate::common::{TestApp, read_json};
use base64::Engine;
use chrono::{Duration, Utc};
use helsedataservice::config::oidc::OidcProvider;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenFields, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType, CoreRsaPrivateSigningKey, CoreSubjectIdentifierType, CoreTokenResponse,
    CoreTokenType,
};
use openidconnect::{
    AccessToken, Audience, AuthUrl, EmptyAdditionalClaims, EmptyAdditionalProviderMetadata, EmptyExtraTokenFields,
    EndUserEmail, IssuerUrl, JsonWebKeyId, JsonWebKeySetUrl, Nonce, PrivateSigningKey, ResponseTypes, StandardClaims,
    SubjectIdentifier, TokenUrl,
};
use rocket::http::Status;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

const CLIENT_ID: &str = "hds-client";
const CLIENT_SECRET: &str = "hds-secret";

/// What the next ID token looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Good,
    BadSignature,
    WrongAudience,
    Expired,
    /// ID-porten's claim set: no e-mail address; the person is the issuer and subject, with the
    /// national identity number in `pid`.
    IdPorten,
}

/// The claims ID-porten adds (`pid`: the national identity number; `acr`: the security level).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct IdPortenClaims {
    pid: String,
    acr: String,
}
impl openidconnect::AdditionalClaims for IdPortenClaims {}

struct Person {
    subject: String,
    email: String,
    verified: bool,
}

struct ProviderState {
    issuer: String,
    key: String,
    other_key: String,
    mode: Mode,
    person: Person,
    /// code → (PKCE challenge, nonce, redirect URI)
    codes: HashMap<String, (String, String, String)>,
    token_requests: usize,
}

fn pem() -> String {
    // Keys are slow to make; two are shared by every test in the binary.
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).unwrap().to_string()
}

fn keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| (pem(), pem()))
}

fn signing_key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).unwrap()
}

fn handle(state: &Mutex<ProviderState>, req: Request) -> Response {
    let mut s = state.lock().unwrap();
    let issuer = s.issuer.clone();
    match (req.method.as_str(), req.path()) {
        ("GET", "/.well-known/openid-configuration") => {
            let metadata = CoreProviderMetadata::new(
                IssuerUrl::new(issuer.clone()).unwrap(),
                AuthUrl::new(format!("{issuer}/authorize")).unwrap(),
                JsonWebKeySetUrl::new(format!("{issuer}/jwks")).unwrap(),
                vec![ResponseTypes::new(vec![CoreResponseType::Code])],
                vec![CoreSubjectIdentifierType::Public],
                vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
                EmptyAdditionalProviderMetadata {},
            )
            .set_token_endpoint(Some(TokenUrl::new(format!("{issuer}/token")).unwrap()));
            Response::json(200, &serde_json::to_value(&metadata).unwrap())
        }
        ("GET", "/jwks") => {
            let jwks = CoreJsonWebKeySet::new(vec![signing_key(&s.key).as_verification_key()]);
            Response::json(200, &serde_json::to_value(&jwks).unwrap())
        }
        ("GET", "/authorize") => {
            assert_eq!(req.query("client_id").as_deref(), Some(CLIENT_ID));
            assert_eq!(req.query("response_type").as_deref(), Some("code"));
            assert_eq!(req.query("code_challenge_method").as_deref(), Some("S256"), "PKCE is used");
            let scope = req.query("scope").unwrap_or_default();
            assert!(scope.contains("openid"), "{scope}");
            let code = format!("code-{}", s.codes.len() + 1);
            let redirect = req.query("redirect_uri").unwrap();
            s.codes.insert(
                code.clone(),
                (req.query("code_challenge").unwrap(), req.query("nonce").unwrap(), redirect.clone()),
            );
            let state = req.query("state").unwrap();
            Response::redirect(&format!("{redirect}?code={code}&state={state}"))
        }
        ("POST", "/token") => {
            s.token_requests += 1;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
            if req.header("Authorization") != Some(&format!("Basic {basic}")) {
                return Response::json(401, &json!({"error": "invalid_client"}));
            }
            let code = req.form("code").unwrap_or_default();
            let Some((challenge, nonce, redirect)) = s.codes.remove(&code) else {
                return Response::json(400, &json!({"error": "invalid_grant"}));
            };
            let verifier = req.form("code_verifier").unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if computed != challenge || req.form("redirect_uri").as_deref() != Some(redirect.as_str()) {
                return Response::json(400, &json!({"error": "invalid_grant", "error_description": "PKCE"}));
            }
            let now = Utc::now();
            let (exp, iat) = if s.mode == Mode::Expired {
                (now - Duration::minutes(10), now - Duration::minutes(15))
            } else {
                (now + Duration::minutes(5), now)
            };
            let audience = if s.mode == Mode::WrongAudience { "another-client" } else { CLIENT_ID };
            let access = AccessToken::new("access-1".into());
            if s.mode == Mode::IdPorten {
                let claims = openidconnect::IdTokenClaims::<IdPortenClaims, openidconnect::core::CoreGenderClaim>::new(
                    IssuerUrl::new(issuer).unwrap(),
                    vec![Audience::new(audience.into())],
                    exp,
                    iat,
                    StandardClaims::new(SubjectIdentifier::new(s.person.subject.clone())),
                    IdPortenClaims { pid: "24079409630".into(), acr: "idporten-loa-high".into() },
                )
                .set_nonce(Some(Nonce::new(nonce)));
                let id_token = openidconnect::IdToken::<
                    IdPortenClaims,
                    openidconnect::core::CoreGenderClaim,
                    openidconnect::core::CoreJweContentEncryptionAlgorithm,
                    CoreJwsSigningAlgorithm,
                >::new(
                    claims,
                    &signing_key(&s.key),
                    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                    Some(&access),
                    None,
                )
                .unwrap();
                return Response::json(
                    200,
                    &json!({"access_token": "access-1", "token_type": "Bearer", "expires_in": 120, "id_token": id_token.to_string()}),
                );
            }
            let claims = CoreIdTokenClaims::new(
                IssuerUrl::new(issuer).unwrap(),
                vec![Audience::new(audience.into())],
                exp,
                iat,
                StandardClaims::new(SubjectIdentifier::new(s.person.subject.clone()))
                    .set_email(Some(EndUserEmail::new(s.person.email.clone())))
                    .set_email_verified(Some(s.person.verified)),
                EmptyAdditionalClaims {},
            )
            .set_nonce(Some(Nonce::new(nonce)));
            let key = if s.mode == Mode::BadSignature { &s.other_key } else { &s.key };
            let id_token = CoreIdToken::new(
                claims,
                &signing_key(key),
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                Some(&access),
                None,
            )
            .unwrap();
            let body = CoreTokenResponse::new(
                access,
                CoreTokenType::Bearer,
                CoreIdTokenFields::new(Some(id_token), EmptyExtraTokenFields {}),
            );
            Response::json(200, &serde_json::to_value(&body).unwrap())
        }
        _ => Response::text(404, "no such endpoint"),
    }
}

/// The provider on loopback and the app configured to use it as "ID-porten".
async fn setup(local_passwords: bool) -> (TestApp, Arc<Mutex<ProviderState>>) {
    let (key, other_key) = keys().clone();
    let state = Arc::new(Mutex::new(ProviderState {
        issuer: String::new(),
        key,
        other_key,
        mode: Mode::Good,
        person: Person { subject: "sub-1".into(), email: "kari@example.no".into(), verified: true },
        codes: HashMap::new(),
        token_requests: 0,
    }));
    let s = state.clone();
    let base = http_peer::serve(Arc::new(move |req| handle(&s, req))).await;
    state.lock().unwrap().issuer = base.clone();
    let app = TestApp::with_config(|c| {
        c.local_passwords = local_passwords;
        c.oidc = vec![OidcProvider {
            key: "idporten".into(),
            label: "ID-porten".into(),
            issuer: base,
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            scopes: vec!["email".into(), "profile".into()],
            create_accounts: true,
        }];
    })
    .await;
    (app, state)
}

/// Runs the browser's part of the flow: start at the app, visit the provider's authorization
/// endpoint over real HTTP, come back to the callback. Returns the callback's status and
/// Location (or body).
async fn log_in(app: &TestApp) -> (Status, String) {
    let resp = app.client.get("/login/oidc/idporten?next=/applications").dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    let authorize = resp.headers().get_one("Location").unwrap().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = http.get(&authorize).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    let location = back.headers()["location"].to_str().unwrap().to_string();
    let path = location.strip_prefix(&app.config().public_url).expect("back to our callback").to_string();
    let resp = app.client.get(path).dispatch().await;
    let status = resp.status();
    let location = resp.headers().get_one("Location").map(str::to_string);
    (status, location.unwrap_or_default())
}

async fn logged_in_email(app: &TestApp) -> Option<String> {
    let (status, html) = app.page("/account").await;
    (status == Status::Ok)
        .then(|| html.split("·").nth(1).unwrap_or("").split('<').next().unwrap_or("").trim().to_string())
}

#[rocket::async_test]
async fn the_code_flow_with_pkce_creates_and_then_finds_the_linked_account() {
    let (app, provider) = setup(true).await;
    let (_, html) = app.page("/login").await;
    assert!(html.contains("/login/oidc/idporten"), "a button for the provider");
    assert!(html.contains("ID-porten"));

    let (status, location) = log_in(&app).await;
    assert_eq!(status, Status::SeeOther, "{location}");
    assert_eq!(location, "/applications");
    assert_eq!(logged_in_email(&app).await.as_deref(), Some("kari@example.no"));
    let (_, account) = app.page("/account").await;
    assert!(account.contains("idporten"), "the linked identity is listed");
    let mut conn = app.conn().await;
    let user = helsedataservice::db::users::by_email(&mut conn, "kari@example.no").await.unwrap().unwrap();
    assert_eq!(user.role.code(), "applicant");
    assert!(user.password_hash.is_none(), "no password for a federated account");
    assert!(user.email_verified_at.is_some());
    let kinds = app.event_kinds("user", user.id).await;
    assert!(
        kinds.contains(&"user.registered".to_string()) && kinds.contains(&"identity.linked".to_string()),
        "{kinds:?}"
    );

    // The link is by subject: a changed e-mail address at the provider reaches the same account.
    provider.lock().unwrap().person.email = "kari.nordmann@example.no".into();
    let (status, _) = log_in(&app).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(logged_in_email(&app).await.as_deref(), Some("kari@example.no"));
    assert_eq!(provider.lock().unwrap().token_requests, 2);
}

/// The code last mailed to `email` (from the outbox, as the mail will carry it).
async fn mailed_code(app: &TestApp, email: &str) -> String {
    crate::common::last_mail_field(app, "login_code", email, "code").await
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (Status, String, String) {
    let (_, page) = app.page("/login/oidc/confirm").await;
    let csrf = crate::common::csrf_in(&page);
    let resp = app.form(path, fields, Some(&csrf)).await;
    let status = resp.status();
    let location = resp.headers().get_one("Location").unwrap_or_default().to_string();
    (status, location, resp.into_string().await.unwrap_or_default())
}

/// Issue 23 item 2: a first login never links an account by e-mail alone. An officer's account
/// is never linked that way; an applicant's confirmed account is linked once the person proves
/// the address with a mailed code.
#[rocket::async_test]
async fn a_first_login_links_only_applicants_and_only_after_a_mailed_code() {
    let (app, provider) = setup(true).await;
    let officer = app.user("case_officer", None).await;
    {
        let mut p = provider.lock().unwrap();
        p.person = Person { subject: "helseid-77".into(), email: officer.email.clone(), verified: false };
    }
    let (status, _) = log_in(&app).await;
    assert_eq!(status, Status::SeeOther, "an unvouched address must be proven first");
    provider.lock().unwrap().person.verified = true;
    let (status, location) = log_in(&app).await;
    assert_eq!((status, location.as_str()), (Status::SeeOther, "/login/oidc/confirm"));
    let code = mailed_code(&app, &officer.email).await;
    let (status, _, body) = post_form(&app, "/login/oidc/confirm/code", &[("code", &code)]).await;
    assert_eq!(status, Status::Forbidden, "officers are never linked by e-mail");
    assert!(body.contains("saksbehandlere"), "the page says why");
    assert_eq!(logged_in_email(&app).await, None);
    let mut conn = app.conn().await;
    assert!(helsedataservice::db::identities::of_user(&mut conn, officer.id).await.unwrap().is_empty());
    assert_eq!(app.client.get("/admin/users").dispatch().await.status(), Status::SeeOther, "no way in");

    // A confirmed applicant: linked after the code, not before.
    let applicant = app.user("applicant", None).await;
    {
        let mut p = provider.lock().unwrap();
        p.person = Person { subject: "helseid-88".into(), email: applicant.email.clone(), verified: true };
    }
    let (_, location) = log_in(&app).await;
    assert_eq!(location, "/login/oidc/confirm");
    assert_eq!(logged_in_email(&app).await, None, "no session before the code");
    let (status, _, body) = post_form(&app, "/login/oidc/confirm/code", &[("code", "000000x")]).await;
    assert_eq!(status, Status::UnprocessableEntity, "a wrong code: {body}");
    let code = mailed_code(&app, &applicant.email).await;
    let (status, location, _) = post_form(&app, "/login/oidc/confirm/code", &[("code", &code)]).await;
    assert_eq!((status, location.as_str()), (Status::SeeOther, "/applications"));
    assert_eq!(logged_in_email(&app).await.as_deref(), Some(applicant.email.as_str()));
    let ids = helsedataservice::db::identities::of_user(&mut conn, applicant.id).await.unwrap();
    assert_eq!((ids.len(), ids[0].subject.as_str()), (1, "helseid-88"));
}

/// Issue 23 item 2, the probe's attack: someone registers a researcher's address with their own
/// password; when the researcher first logs in through the provider and proves the address, the
/// account is theirs and the intruder's password, sessions and tokens stop working.
#[rocket::async_test]
async fn a_pre_registered_unconfirmed_account_is_reclaimed_not_adopted() {
    let (app, provider) = setup(true).await;
    let body = json!({"email": "forsker@example.no", "name": "Inntrenger", "password": "Sterkt-passord-1"});
    let (status, body) = app.post_json("/api/register", None, body).await;
    assert_eq!(status, Status::Accepted, "the intruder registers the researcher's address: {body}");
    let intruder = crate::common::TestUser {
        id: 0,
        email: "forsker@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    let intruder_token = app.token(&intruder).await;
    app.client.post("/logout").dispatch().await;

    provider.lock().unwrap().person =
        Person { subject: "idp-forsker".into(), email: "forsker@example.no".into(), verified: true };
    let (_, location) = log_in(&app).await;
    assert_eq!(location, "/login/oidc/confirm", "an unconfirmed account is never adopted on sight");
    let code = mailed_code(&app, "forsker@example.no").await;
    let (status, _, _) = post_form(&app, "/login/oidc/confirm/code", &[("code", &code)]).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(logged_in_email(&app).await.as_deref(), Some("forsker@example.no"));
    let mut conn = app.conn().await;
    let user = helsedataservice::db::users::by_email(&mut conn, "forsker@example.no").await.unwrap().unwrap();
    assert!(user.password_hash.is_none(), "the intruder's password is gone");
    assert!(user.email_verified_at.is_some());
    assert!(app.event_kinds("user", user.id).await.contains(&"user.reclaimed".to_string()));
    let (status, _) = app.get_json("/api/applications", Some(&intruder_token)).await;
    assert_eq!(status, Status::Unauthorized, "the intruder's token is revoked");
    let (status, _) =
        app.post_json("/api/auth/token", None, json!({"email": intruder.email, "password": intruder.password})).await;
    assert_eq!(status, Status::Unauthorized, "the intruder's password no longer works");
}

/// Issue 23 item 2: ID-porten sends no e-mail address (the person is the issuer and subject,
/// with `pid`). The first login asks for an address and proves it with a mailed code before any
/// account is made; the national identity number is not kept.
#[rocket::async_test]
async fn an_idporten_login_without_an_address_asks_for_one_and_proves_it() {
    let sink = crate::common::smtp::Sink::start(0).await;
    let (key, other_key) = keys().clone();
    let state = Arc::new(Mutex::new(ProviderState {
        issuer: String::new(),
        key,
        other_key,
        mode: Mode::IdPorten,
        person: Person { subject: "idporten-sub-1".into(), email: String::new(), verified: false },
        codes: HashMap::new(),
        token_requests: 0,
    }));
    let s = state.clone();
    let base = http_peer::serve(Arc::new(move |req| handle(&s, req))).await;
    state.lock().unwrap().issuer = base.clone();
    let url = sink.url();
    let app = TestApp::with_config(|c| {
        c.smtp_url = Some(url);
        c.oidc = vec![OidcProvider {
            key: "idporten".into(),
            label: "ID-porten".into(),
            issuer: base,
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            scopes: vec!["profile".into()],
            create_accounts: true,
        }];
    })
    .await;
    let (status, location) = log_in(&app).await;
    assert_eq!((status, location.as_str()), (Status::SeeOther, "/login/oidc/confirm"));
    let (status, page) = app.page("/login/oidc/confirm").await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains(r#"name="email""#), "asks for an address");
    let (status, _, body) = post_form(&app, "/login/oidc/confirm/email", &[("email", "ikke-en-adresse")]).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    let (status, location, _) = post_form(&app, "/login/oidc/confirm/email", &[("email", "ola@example.no")]).await;
    assert_eq!((status, location.as_str()), (Status::SeeOther, "/login/oidc/confirm"));
    app.send_mail(Utc::now()).await;
    let mail =
        sink.messages().into_iter().find(|m| m.to == vec!["ola@example.no".to_string()]).expect("the code by mail");
    let text = mail.part("text/plain").unwrap();
    let code: String = text.split("Koden din er ").nth(1).unwrap().chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{text}");
    let mut conn = app.conn().await;
    assert!(
        helsedataservice::db::users::by_email(&mut conn, "ola@example.no").await.unwrap().is_none(),
        "nothing made yet"
    );
    let (status, location, _) = post_form(&app, "/login/oidc/confirm/code", &[("code", &code)]).await;
    assert_eq!((status, location.as_str()), (Status::SeeOther, "/applications"));
    assert_eq!(logged_in_email(&app).await.as_deref(), Some("ola@example.no"));
    let user = helsedataservice::db::users::by_email(&mut conn, "ola@example.no").await.unwrap().unwrap();
    assert!(user.email_verified_at.is_some() && user.password_hash.is_none());
    let pid =
        crate::common::count(&app, "SELECT count(*) AS n FROM events WHERE payload::text LIKE '%24079409630%'").await;
    assert_eq!(pid, 0, "the national identity number is kept nowhere");
    // The code is used up; the next login finds the linked identity at once.
    let (status, location) = log_in(&app).await;
    assert_eq!((status, location.as_str()), (Status::SeeOther, "/applications"));
}

#[rocket::async_test]
async fn bad_signature_wrong_audience_and_expired_tokens_are_refused() {
    let (app, provider) = setup(true).await;
    for mode in [Mode::BadSignature, Mode::WrongAudience, Mode::Expired] {
        provider.lock().unwrap().mode = mode;
        let (status, _) = log_in(&app).await;
        assert_eq!(status, Status::Unauthorized, "{mode:?}");
        assert_eq!(logged_in_email(&app).await, None, "{mode:?} opened no session");
    }
    let mut conn = app.conn().await;
    assert!(helsedataservice::db::users::by_email(&mut conn, "kari@example.no").await.unwrap().is_none());

    // A callback with a state that is not ours is refused before any token request.
    provider.lock().unwrap().mode = Mode::Good;
    let before = provider.lock().unwrap().token_requests;
    let resp = app.client.get("/login/oidc/idporten?next=/").dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    let resp = app.client.get("/login/oidc/idporten/callback?code=code-1&state=forged").dispatch().await;
    assert_eq!(resp.status(), Status::Unauthorized);
    assert_eq!(provider.lock().unwrap().token_requests, before);
    // An unknown provider is 404.
    assert_eq!(app.client.get("/login/oidc/nope").dispatch().await.status(), Status::NotFound);
}

#[rocket::async_test]
async fn local_passwords_can_be_turned_off() {
    let (app, _provider) = setup(false).await;
    let user = app.user("applicant", None).await;
    let (_, html) = app.page("/login").await;
    assert!(!html.contains("name=\"password\""), "no password form");
    assert!(html.contains("/login/oidc/idporten"));
    let resp = app
        .client
        .post("/login")
        .header(rocket::http::ContentType::Form)
        .body(format!("email={}&password={}", user.email, user.password))
        .dispatch()
        .await;
    assert!(matches!(resp.status(), Status::Forbidden), "{}", resp.status());
    let resp = app
        .client
        .post("/api/auth/token")
        .header(rocket::http::ContentType::JSON)
        .body(json!({"email": user.email, "password": user.password}).to_string())
        .dispatch()
        .await;
    let (status, body) = read_json(resp).await;
    assert_eq!(status, Status::Forbidden, "{body}");
    let (status, _) = log_in(&app).await;
    assert_eq!(status, Status::SeeOther, "the provider still works");
}
