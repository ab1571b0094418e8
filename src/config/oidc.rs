//! OpenID Connect providers from the environment: `OIDC_PROVIDERS=idporten,helseid` names
//! them, and each has `OIDC_<NAME>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET` and optionally
//! `_LABEL` (the button's text), `_SCOPES` (default "openid email profile") and
//! `_CREATE_ACCOUNTS` ("false": only link existing accounts, e.g. for HelseID and staff).

use super::{ConfigError, Scalar, bad};
use rocket::figment::Figment;

/// One OpenID Connect provider people may log in with.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// Lower-case name used in URLs (`/login/oidc/idporten`).
    pub key: String,
    /// What the login button says ("ID-porten", "HelseID").
    pub label: String,
    /// Issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// Whether a first login with a verified e-mail address unknown here creates an applicant.
    pub create_accounts: bool,
}

fn text(figment: &Figment, key: &str) -> Option<String> {
    let v: Option<Scalar> = figment.extract_inner(key).ok();
    v.map(|s| match s {
        Scalar::Text(s) => s,
        Scalar::Unsigned(n) => n.to_string(),
        Scalar::Signed(n) => n.to_string(),
        Scalar::Float(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
    })
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
}

/// Whether an issuer URL may be used: https, or plain http on loopback (development, tests).
pub fn issuer_allowed(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://127.") || url.starts_with("http://localhost")
}

/// The providers named by `OIDC_PROVIDERS`, each fully configured, or the first problem.
pub fn providers(figment: &Figment) -> Result<Vec<OidcProvider>, ConfigError> {
    let Some(list) = text(figment, "oidc_providers") else {
        return Ok(vec![]);
    };
    let mut out: Vec<OidcProvider> = vec![];
    for key in list.split(',').map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()) {
        if !key.chars().all(|c| c.is_ascii_alphanumeric()) || out.iter().any(|p| p.key == key) {
            return Err(bad("OIDC_PROVIDERS", format!("`{key}`: names are letters and digits, each once")));
        }
        let setting = |suffix: &str| format!("OIDC_{}_{suffix}", key.to_uppercase());
        let get = |suffix: &str| text(figment, &setting(suffix).to_lowercase());
        let need =
            |suffix: &str| get(suffix).ok_or_else(|| bad("OIDC_PROVIDERS", format!("{} is required", setting(suffix))));
        let issuer = need("ISSUER")?.trim_end_matches('/').to_string();
        if !issuer_allowed(&issuer) {
            return Err(bad("OIDC_PROVIDERS", format!("{} must be an https:// URL", setting("ISSUER"))));
        }
        let label = get("LABEL").unwrap_or_else(|| match key.as_str() {
            "idporten" => "ID-porten".into(),
            "helseid" => "HelseID".into(),
            _ => key.clone(),
        });
        let scopes = get("SCOPES")
            .unwrap_or_else(|| "openid email profile".into())
            .split([' ', ','])
            .filter(|s| !s.is_empty() && *s != "openid")
            .map(str::to_string)
            .collect();
        let create_accounts = match get("CREATE_ACCOUNTS").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(_) => {
                return Err(bad("OIDC_PROVIDERS", format!("{} must be true or false", setting("CREATE_ACCOUNTS"))));
            }
        };
        out.push(OidcProvider {
            client_id: need("CLIENT_ID")?,
            client_secret: need("CLIENT_SECRET")?,
            key,
            label,
            issuer,
            scopes,
            create_accounts,
        });
    }
    Ok(out)
}

/// `LOCAL_PASSWORDS` ("true" by default; "false" hides the password form and refuses it).
pub fn local_passwords(figment: &Figment) -> Result<bool, ConfigError> {
    flag(figment, "local_passwords", "LOCAL_PASSWORDS", true)
}

/// A true/false setting.
pub fn flag(figment: &Figment, key: &str, setting: &'static str, default: bool) -> Result<bool, ConfigError> {
    match text(figment, key).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(bad(setting, "must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_come_with_issuer_client_id_and_secret() {
        let f = Figment::new().merge(("oidc_providers", "idporten, helseid"));
        assert!(providers(&f).unwrap_err().message.contains("OIDC_IDPORTEN_ISSUER"));
        let f = f
            .merge(("oidc_idporten_issuer", "https://idporten.no/"))
            .merge(("oidc_idporten_client_id", "abc"))
            .merge(("oidc_idporten_client_secret", "s"));
        assert!(providers(&f).unwrap_err().message.contains("OIDC_HELSEID_ISSUER"));
        let f = f
            .merge(("oidc_helseid_issuer", "http://helseid.example.no"))
            .merge(("oidc_helseid_client_id", "x"))
            .merge(("oidc_helseid_client_secret", "y"));
        assert!(providers(&f).unwrap_err().message.contains("https"), "plain http only on loopback");
        let f = f
            .merge(("oidc_helseid_issuer", "https://helseid-sts.nhn.no"))
            .merge(("oidc_helseid_create_accounts", "false"));
        let list = providers(&f).unwrap();
        assert_eq!(list[0].label, "ID-porten");
        assert_eq!(list[0].issuer, "https://idporten.no");
        assert_eq!(list[0].scopes, ["email", "profile"]);
        assert!(!list[1].create_accounts);
        assert!(!local_passwords(&Figment::new().merge(("local_passwords", false))).unwrap());
        assert!(local_passwords(&Figment::new().merge(("local_passwords", "nei"))).is_err());
    }
}
