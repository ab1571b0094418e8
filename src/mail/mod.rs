//! The mail worker: renders outbox messages (Handlebars, HTML with a plain-text alternative, in
//! the recipient's language) and sends them over SMTP with lettre, or writes them as `.eml` files
//! under `MAIL_DIR` when no `SMTP_URL` is set. Failures are retried with exponential backoff; after
//! [`MAX_ATTEMPTS`] a message is dead and shown to admins. Each message is claimed with
//! `FOR UPDATE SKIP LOCKED` in its own transaction, so several instances never send one twice.

use crate::config::Config;
use crate::db::{self, notifications::OutboxMessage};
use crate::domain::language::Language;
use crate::domain::pricing::format_nok;
use crate::i18n;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use handlebars::Handlebars;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use std::path::Path;

pub mod webhooks;

/// Attempts before a message is given up (dead) and left for an admin.
pub const MAX_ATTEMPTS: i32 = 8;

/// Wait before attempt `n + 1` after `n` failures: 1, 2, 4 … minutes, at most 6 hours.
pub fn backoff(failures: i32) -> Duration {
    let minutes = 1i64 << failures.clamp(0, 12);
    Duration::minutes(minutes.min(6 * 60))
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Renders and sends mail.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    public_url: String,
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    /// For webhook deliveries, which share the outbox.
    http: reqwest::Client,
    /// Whether deliveries may go to loopback (`WEBHOOK_ALLOW_LOOPBACK`).
    webhook_allow_loopback: bool,
}

/// The translation key of a notice kind: `notice-application-submitted`.
pub fn notice_key(kind: &str) -> String {
    format!("notice-{}", kind.replace(['.', '_'], "-"))
}

/// The arguments a notice text may use, taken from its parameters.
fn args(params: &Value) -> Vec<(String, i18n::Arg)> {
    let mut out = vec![];
    if let Value::Object(map) = params {
        for (k, v) in map {
            match v {
                Value::String(s) => out.push((k.clone(), i18n::Arg::from(s.clone()))),
                Value::Number(n) => out.push((k.clone(), i18n::Arg::from(n.to_string()))),
                _ => {}
            }
        }
        if let Some(ore) = map.get("total_ore").and_then(Value::as_i64) {
            out.push(("amount".into(), i18n::Arg::from(format_nok(ore))));
        }
        // Days as pages write them: the due date, the last day to comment on a statement.
        for (field, arg) in [("due_date", "due"), ("comment_by", "comment")] {
            if let Some(day) = map.get(field).and_then(Value::as_str).and_then(|s| s.parse::<NaiveDate>().ok()) {
                out.push((arg.into(), i18n::Arg::from(day.format("%d.%m.%Y").to_string())));
            }
        }
        if let Some(at) = map.get("expires_at").and_then(Value::as_str).and_then(|s| s.parse::<DateTime<Utc>>().ok()) {
            out.push(("expires".into(), i18n::Arg::from(crate::domain::deadlines::oslo_day(at))));
        }
    }
    out
}

/// The one-sentence text of a notice (in-app list, mail subject and body).
pub fn notice_text(lang: Language, kind: &str, params: &Value) -> String {
    let args = args(params);
    let borrowed: Vec<(&str, i18n::Arg)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    i18n::t_args(lang, &notice_key(kind), &borrowed)
}

/// What a notice's mail says besides its one sentence, if anything: the receipt of a submission
/// says when an answer can be expected (the case's due date) and what happens if it takes longer
/// than a month (forvaltningsloven § 11 a); a statement the applicant can now read says by when
/// to comment on it (§ 17).
pub fn notice_more(lang: Language, kind: &str, params: &Value) -> Option<String> {
    let (key, arg) = match kind {
        "application.submitted_receipt" => ("notice-application-submitted-receipt-more", "due"),
        // The applicant's time to comment on a statement they can now read.
        "statement.received" => ("notice-statement-received-more", "comment"),
        _ => return None,
    };
    let value = args(params).into_iter().find(|(k, _)| k == arg)?.1;
    Some(i18n::t_args(lang, key, &[(arg, value)]))
}

fn load(escape: bool) -> Result<Handlebars<'static>, String> {
    let mut hb = crate::templating::engine("mail", if escape { "-html.hbs" } else { "-text.hbs" })?;
    if !escape {
        hb.register_escape_fn(handlebars::no_escape);
    }
    Ok(hb)
}

/// A rendered message.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mailer {
    /// The mailer of a configuration: SMTP when `SMTP_URL` is set, `.eml` files otherwise.
    pub fn new(config: &Config) -> Result<Mailer, String> {
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("SMTP_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&config.mail_dir)
                    .map_err(|e| format!("cannot create MAIL_DIR {}: {e}", config.mail_dir.display()))?;
                Transport::Files(AsyncFileTransport::new(&config.mail_dir))
            }
        };
        let from = config.mail_from.parse().map_err(|e| format!("MAIL_FROM: {e}"))?;
        Ok(Mailer {
            transport,
            from,
            public_url: config.public_url.clone(),
            html: load(true)?,
            text: load(false)?,
            http: webhooks::client(config.webhook_allow_loopback)?,
            webhook_allow_loopback: config.webhook_allow_loopback,
        })
    }

    /// Whether the mail server answers (connects and greets, and takes the credentials): checked
    /// once at start so that a wrong host or password shows in the log at once, not only as the
    /// first message's failed attempts. Files always answer.
    pub async fn check(&self) -> Result<(), String> {
        match &self.transport {
            Transport::Smtp(t) => match t.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the server did not accept the connection".into()),
                Err(e) => Err(e.to_string()),
            },
            Transport::Files(_) => Ok(()),
        }
    }

    /// Renders an outbox message in its recipient's language.
    pub fn render(&self, template: &str, language: &str, context: &Value) -> Result<Rendered, String> {
        let lang = Language::from_tag(language).unwrap_or_default();
        let (name, subject, data) = if template == "digest" {
            let items: Vec<Value> = context["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|i| {
                            let kind = i["kind"].as_str().unwrap_or_default();
                            json!({
                                "text": notice_text(lang, kind, &i["params"]),
                                "link": self.link(kind, &i["params"]),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let subject = i18n::t_args(lang, "mail-digest-subject", &[("n", i18n::Arg::from(items.len()))]);
            (
                "digest",
                subject,
                json!({"lang": lang.code(), "name": context["name"], "items": items, "base": self.public_url}),
            )
        } else if template == "login_code" {
            let code = context["code"].as_str().unwrap_or_default();
            let text = i18n::t_args(lang, "mail-login-code-text", &[("code", i18n::Arg::from(code.to_string()))]);
            let data = json!({"lang": lang.code(), "name": context["email"], "text": text, "base": self.public_url});
            ("notice", i18n::t(lang, "mail-login-code-subject"), data)
        } else if let Some(key) = match template {
            // Account mails with a link (see `accounts`): confirm the address; take over an
            // address never confirmed; a note that someone registered the owner's address.
            "verify_email" => Some("verify"),
            "reregistration" => Some("reregistration"),
            "registration_attempt" => Some("registration-attempt"),
            // An invitation to give a statement, to an address without a confirmed account.
            "statement_invitation" if context["reminder"] == json!(true) => Some("statement-reminder"),
            "statement_invitation" => Some("statement-invitation"),
            // An invitation of a member named on the form.
            "member_invitation" => Some("member-invitation"),
            _ => None,
        } {
            let link = format!("{}{}", self.public_url, context["path"].as_str().unwrap_or("/"));
            let arg = |k: &str| i18n::Arg::from(context[k].as_str().unwrap_or_default().to_string());
            let text = i18n::t_args(
                lang,
                &format!("mail-{key}-text"),
                &[
                    ("reference", arg("reference")),
                    ("due_on", arg("due_on")),
                    ("title", arg("title")),
                    ("inviter", arg("inviter")),
                ],
            );
            let data = json!({
                "lang": lang.code(), "name": context["name"], "text": text, "link": link,
                "link_label": i18n::t(lang, &format!("mail-{key}-link")), "base": self.public_url,
            });
            ("notice", i18n::t(lang, &format!("mail-{key}-subject")), data)
        } else {
            let text = notice_text(lang, template, &context["params"]);
            let params = &context["params"];
            let data = json!({
                "lang": lang.code(),
                "name": context["name"],
                "text": text,
                "more": notice_more(lang, template, params),
                "message": params.get("message").or_else(|| params.get("reasons")).or_else(|| params.get("grounds")),
                "link": self.link(template, params),
                "base": self.public_url,
            });
            ("notice", format!("Helsedataservice: {text}"), data)
        };
        let html = self.html.render(name, &data).map_err(|e| format!("rendering {name}-html: {e}"))?;
        let text = self.text.render(name, &data).map_err(|e| format!("rendering {name}-text: {e}"))?;
        Ok(Rendered { subject, text, html })
    }

    /// Where a notice's mail points (`notice::path`).
    fn link(&self, kind: &str, params: &Value) -> Option<String> {
        crate::domain::notice::path(kind, params).map(|p| format!("{}{p}", self.public_url))
    }

    /// What a message says, in a line in `language` (for the admins' view of the outbox): a
    /// mail's subject, a webhook's event in words.
    pub fn describe(&self, msg: &OutboxMessage, language: Language) -> String {
        if msg.channel == "webhook" {
            let key = format!("event-{}", msg.template.replace(['.', '_'], "-"));
            return if i18n::has(language, &key) { i18n::t(language, &key) } else { msg.template.clone() };
        }
        match self.render(&msg.template, language.code(), &msg.context) {
            Ok(r) => crate::domain::text::one_line(&r.subject).into_owned(),
            Err(_) => msg.template.clone(),
        }
    }

    /// Builds and sends one message; returns its Message-ID.
    async fn send(&self, msg: &OutboxMessage) -> Result<String, String> {
        let rendered = self.render(&msg.template, &msg.language, &msg.context)?;
        let to: Mailbox = msg.recipient.parse().map_err(|e| format!("recipient {}: {e}", msg.recipient))?;
        let message_id = format!("<outbox-{}.{}@helsedataservice>", msg.id, msg.created_at.timestamp());
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(crate::domain::text::one_line(&rendered.subject))
            .message_id(Some(message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
            .map_err(|e| format!("building the message: {e}"))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string())?,
            Transport::Files(t) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string())?,
        }
        Ok(message_id)
    }
}

/// What one round of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

/// Messages sent in one round of [`drain`].
pub const BATCH: usize = 100;

/// Sends every message due at `now`, [`BATCH`] at a time, until a round finds fewer than a batch:
/// a backlog (a burst of submissions notifies every case officer) goes out at once instead of a
/// batch per tick of the worker. It ends: a round either sends a message or moves it past `now`
/// (a failure waits for its backoff), and a round that stops early on an error is not full.
pub async fn drain(conn: &mut AsyncPgConnection, mailer: &Mailer, now: DateTime<Utc>) -> Round {
    let mut total = Round::default();
    loop {
        let round = send_due(conn, mailer, now, BATCH).await;
        total.sent += round.sent;
        total.failed += round.failed;
        total.dead += round.dead;
        if round.sent + round.failed < BATCH {
            return total;
        }
    }
}

/// Sends every due message (at most `limit`), one transaction each.
pub async fn send_due(conn: &mut AsyncPgConnection, mailer: &Mailer, now: DateTime<Utc>, limit: usize) -> Round {
    let mut round = Round::default();
    for _ in 0..limit {
        let result = conn
            .transaction::<_, diesel::result::Error, _>(async |tx| {
                let Some(msg) = db::notifications::claim_due(tx, now).await? else {
                    return Ok(None);
                };
                let outcome = if msg.channel == "webhook" {
                    webhooks::deliver(tx, &mailer.http, mailer.webhook_allow_loopback, &msg).await
                } else {
                    mailer.send(&msg).await
                };
                match &outcome {
                    Ok(id) => {
                        db::notifications::mark_sent(tx, msg.id, id, Utc::now()).await?;
                    }
                    Err(e) => {
                        let dead = msg.attempts + 1 >= MAX_ATTEMPTS;
                        // The outbox row's id, not the address (personal data in the log).
                        tracing::warn!("{} {} failed (attempt {}): {e}", msg.channel, msg.id, msg.attempts + 1);
                        db::notifications::mark_failed(tx, msg.id, e, now + backoff(msg.attempts), dead).await?;
                    }
                }
                Ok(Some((outcome.is_ok(), msg.attempts + 1 >= MAX_ATTEMPTS)))
            })
            .await;
        match result {
            Ok(None) => break,
            Ok(Some((true, _))) => round.sent += 1,
            Ok(Some((false, dead))) => {
                round.failed += 1;
                round.dead += usize::from(dead);
            }
            Err(e) => {
                tracing::error!("mail outbox: {e}");
                break;
            }
        }
    }
    round
}

/// The `.eml` files under the mail folder, newest first (the development mailbox).
pub fn eml_files(dir: &Path) -> Vec<(String, u64, DateTime<Utc>)> {
    let mut files: Vec<(String, u64, DateTime<Utc>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let meta = e.metadata().ok()?;
            name.ends_with(".eml").then(|| (name, meta.len(), meta.modified().ok().map(DateTime::<Utc>::from)))
        })
        .filter_map(|(n, l, m)| Some((n, l, m?)))
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notice::KINDS;

    fn mailer() -> Mailer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests("postgres://x".into(), dir.path().to_path_buf());
        config.mail_dir = dir.keep();
        Mailer::new(&config).unwrap()
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::minutes(1));
        assert_eq!(backoff(3), Duration::minutes(8));
        assert_eq!(backoff(20), Duration::hours(6));
    }

    /// The invitations that carry a link (a statement asked of an address, its reminder, a project
    /// member) render in every language with the case, the due date and the inviter filled in.
    #[test]
    fn invitations_render_in_every_language() {
        let mailer = mailer();
        let statement = json!({"name": "Kari", "path": "/statements/accept?token=abc", "reference": "HDS-2026-00042", "due_on": "20.12.2026", "reminder": false});
        let mut reminder = statement.clone();
        reminder["reminder"] = json!(true);
        let member = json!({"name": "Ola", "path": "/invitations/accept?token=abc", "reference": "HDS-2026-00042", "title": "Kreft og kosthold", "inviter": "Kari Forsker"});
        for lang in ["nb", "nn", "en"] {
            let mut subjects = vec![];
            for (template, context) in [
                ("statement_invitation", &statement),
                ("statement_invitation", &reminder),
                ("member_invitation", &member),
            ] {
                let r = mailer.render(template, lang, context).unwrap();
                for part in [&r.subject, &r.text, &r.html] {
                    assert!(!part.contains("mail-"), "{template} {lang}: untranslated: {part}");
                    assert!(!part.contains('{'), "{template} {lang}: placeholder left: {part}");
                }
                assert!(r.text.contains("HDS-2026-00042") && r.text.contains("http://helsedata.test/"), "{}", r.text);
                assert!(r.text.contains("token=abc"));
                subjects.push(r.subject);
            }
            assert_ne!(subjects[0], subjects[1], "the reminder says it is one");
            assert!(subjects.iter().all(|s| s.starts_with("Helsedataservice")));
        }
    }

    /// Every kind has a text in every language, and every placeholder renders.
    #[test]
    fn every_kind_renders_in_every_language() {
        let mailer = mailer();
        let params = json!({
            "application_id": 7, "reference": "HDS-2026-00042", "title": "Kreft og kosthold",
            "message": "Legg ved REK-vedtaket.", "outcome": "approved", "name": "data.csv",
            "total_ore": 150000, "expires_at": "2027-01-31T12:00:00Z", "code": "KREFT", "release_id": 3,
            "reason": "owners", "expected_by": "01.02.2027",
        });
        let root = env!("CARGO_MANIFEST_DIR");
        for kind in KINDS {
            for (lang, dir) in [(Language::Nb, "nb-NO"), (Language::Nn, "nn-NO"), (Language::En, "en-GB")] {
                let ftl = std::fs::read_to_string(format!("{root}/locales/{dir}/main.ftl")).unwrap();
                let line = format!("{} = ", notice_key(kind));
                assert!(ftl.lines().any(|l| l.starts_with(&line)), "{dir} has no {} text", notice_key(kind));
                // An enquiry is not a case: its subject names it, and the mail links the enquiry.
                let enquiry = kind.starts_with("enquiry.");
                let params =
                    if enquiry { json!({"enquiry_id": 5, "subject": "Kreft og kosthold"}) } else { params.clone() };
                let r = mailer.render(kind, lang.code(), &json!({"name": "Kari", "params": params})).unwrap();
                for part in [&r.subject, &r.text, &r.html] {
                    assert!(!part.contains("notice-"), "{kind} {}: untranslated: {part}", lang.code());
                    assert!(!part.contains('{'), "{kind}: placeholder left: {part}");
                }
                let (names, link) = if enquiry {
                    ("Kreft og kosthold", "http://helsedata.test/enquiries/5")
                } else {
                    ("HDS-2026-00042", "http://helsedata.test/applications/7")
                };
                assert!(r.subject.contains(names), "{kind}: {}", r.subject);
                assert!(r.text.contains(link), "{kind}");
                assert!(r.html.contains(&format!("href=\"{link}\"")), "{kind}");
                assert!(r.text.contains("Kari") && r.html.contains("Kari"));
            }
        }
        let digest = mailer
            .render("digest", "en", &json!({"name": "Kari", "items": [{"kind": "release.decided", "params": params}]}))
            .unwrap();
        assert!(digest.subject.contains('1') && digest.text.contains("HDS-2026-00042"), "{digest:?}");
    }

    #[test]
    fn the_two_languages_differ() {
        let mailer = mailer();
        let ctx = json!({"name": "Kari", "params": {"reference": "HDS-2026-00001", "application_id": 1}});
        let nb = mailer.render("application.returned", "nb", &ctx).unwrap();
        let en = mailer.render("application.returned", "en", &ctx).unwrap();
        assert_ne!(nb.subject, en.subject);
    }
}
