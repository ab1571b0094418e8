//! View models: the JSON of an application, a source, a notice, a bill and a transfer, built in
//! one place for the pages and the API alike (the API's shapes are SPEC §12's contract).

use crate::db::{self, Pool, applications::Application};
use crate::error::AppResult;
use crate::services::{
    self, applications as apps, applications::Access, applications::Audience, invoices::Bill, transfers::TransferView,
};
use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value, json};

/// The application as `GET /api/applications/{id}` shows it: the form's fields at the top
/// level beside id, reference, state, version and the case's parts.
pub async fn application_json(conn: &mut AsyncPgConnection, app: &Application, who: Audience) -> AppResult<Value> {
    let mut v = match &app.form {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let apps::CaseFile {
        attachments,
        events,
        messages,
        releases,
        decision,
        helseklage,
        revised,
        estimate,
        bill,
        transfers,
    } = apps::case_file(conn, app, who).await?;
    let invoice = invoice_json(app.id, bill.as_ref());
    let fields = json!({
        "id": app.id, "reference": app.reference, "state": app.state, "version": app.version,
        "kind": app.kind, "type": app.application_type, "title": app.title, "applicant_id": app.applicant_id,
        "assignee_id": app.assignee_id, "copied_from_id": app.copied_from_id,
        "created_at": app.created_at, "updated_at": app.updated_at, "submitted_at": app.submitted_at,
        "first_submitted_at": app.first_submitted_at, "completed_at": app.completed_at, "decided_at": app.decided_at,
        "delivered_at": app.delivered_at, "due_date": app.due_date,
        "permit": app.permit_ends_on.map(|end| json!({
            "ends_on": end, "deletion_reminded_at": app.deletion_reminded_at, "deletion_confirmed_at": app.deletion_confirmed_at,
        })),
        "estimate": {
            "amount_ore": app.estimate_ore.unwrap_or(estimate.total_ore), "accepted_at": app.estimate_accepted_at,
            "fee_exemption": estimate.exemption, "current_ore": estimate.total_ore, "lines": estimate.lines, "rates": estimate.rates,
            "pending": revised.iter().any(|r| r.pending()), "revised": revised,
        },
        "attachments": attachments,
        "releases": releases.iter().map(|r| json!({
            "id": r.release.id, "data_source_id": r.release.data_source_id, "code": r.code, "name": r.name_nb,
            "state": r.release.state, "decider": r.release.decider, "owner_organisation_id": r.release.owner_organisation_id,
            "conditions": r.release.conditions, "reasons": r.release.reasons, "decided_at": r.release.decided_at,
            "delivered_at": r.release.delivered_at, "environment": r.release.environment,
            "reconsideration": r.release.reconsideration, "dispensation": r.release.dispensation,
        })).collect::<Vec<_>>(),
        "decision": decision.map(|d| json!({
            "outcome": d.outcome, "reasons": d.reasons, "decided_at": d.decided_at, "appeal_deadline": d.appeal_deadline,
            "language": d.language, "letter_url": format!("/applications/{}/decision", app.id),
        })),
        "appeal_grounds": app.appeal_grounds, "sent_to_helseklage_at": app.sent_to_helseklage_at,
        "helseklage": helseklage.map(|h| json!({"outcome": h.outcome, "decided_on": h.decided_on, "reference": h.reference})),
        "interim_reply_at": app.interim_reply_at,
        "invoice": invoice, "transfers": [],
        "messages": messages,
        "events": events.iter().map(|e| json!({"id": e.id, "at": e.at, "kind": e.kind, "actor_id": e.actor_id, "payload": e.payload})).collect::<Vec<_>>(),
    });
    if let Value::Object(extra) = fields {
        v.extend(extra);
    }
    v.insert("transfers".into(), transfers.iter().map(|t| transfer_json(&t.transfer, &t.files)).collect());
    Ok(Value::Object(v))
}

/// One source as shown in lists and on its page (and, in the API's shape, to outside systems).
pub fn source_json(
    s: &db::catalogue::DataSource,
    owner: &db::catalogue::Organisation,
    variables: &[db::catalogue::Variable],
) -> Value {
    json!({
        "id": s.id, "code": s.code, "name": s.name_nb, "name_nb": s.name_nb, "name_en": s.name_en,
        "kind": s.kind, "decision_authority": s.decision_authority, "on_common_form": s.on_common_form,
        "description_nb": s.description_nb, "description_en": s.description_en, "version": s.version,
        "owner": {"id": owner.id, "name": owner.name, "name_en": owner.name_en, "organisation_number": owner.organisation_number},
        "variables": variables.iter().filter(|v| v.data_source_id == s.id).map(|v| json!({
            "id": v.id, "name": v.name, "description": v.description_nb, "description_nb": v.description_nb,
            "description_en": v.description_en, "identification": v.identifying,
            "identifying": v.identifying != "none",
            "directly_identifying": v.identifying == "direct",
        })).collect::<Vec<_>>(),
    })
}

/// A notice as the pages and the API show it.
pub fn notice(lang: crate::domain::language::Language, n: &db::notifications::Notification) -> Value {
    json!({
        "id": n.id,
        "kind": n.kind,
        "text": services::notifications::notice_text(lang, &n.kind, &n.params),
        "application_id": n.application_id,
        "href": crate::domain::notice::path(&n.kind, &n.params),
        "urgent": n.urgent,
        "created_at": n.created_at,
        "when": crate::domain::deadlines::oslo_time(n.created_at, false),
        "read": n.read_at.is_some(),
    })
}

/// The transfers of an application for its status page (as read for `access`).
/// `closed_releases`: the releases whose source's terms the reader has yet to accept (their files
/// are not listed).
pub fn transfers_of_application(transfers: &[TransferView], access: Access, closed_releases: &[i64]) -> Vec<Value> {
    transfers
        .iter()
        .map(|v| {
            let t = &v.transfer;
            let closed = closed_releases.contains(&t.release_id);
            let downloadable = matches!(access, Access::Applicant | Access::Member) && t.state.downloadable() && !closed;
            json!({
                "id": t.id, "state_key": format!("transfer-state-{}", t.state),
                "expires": crate::domain::deadlines::oslo_day(t.expires_at), "downloadable": downloadable, "terms_first": closed,
                "files": v.files.iter().filter(|_| !closed).map(|f| json!({
                    "name": f.name, "size": size_text(f.size),
                    "url": format!("/transfers/{}/files/{}", t.id, crate::web::url_encode(&f.name)),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The catalogue with its variables, optionally searched.
pub async fn catalogue_json(pool: &Pool, search: Option<&str>) -> AppResult<Vec<Value>> {
    let conn = services::conn(pool).await?;
    let catalogue = services::catalogue::catalogue(&conn, search).await?;
    Ok(catalogue.sources.iter().map(|(s, o)| source_json(s, o, &catalogue.variables)).collect())
}

/// The combined bill of an application: every part's lines (each naming its organisation),
/// totals, VAT and the combined status; `null` while there is none.
pub fn invoice_json(application_id: i64, bill: Option<&Bill>) -> Value {
    let Some(Bill { parts, lines, organisations }) = bill else {
        return Value::Null;
    };
    let name = |id: i64| organisations.iter().find(|o| o.id == id).map(|o| o.name.clone()).unwrap_or_default();
    let first = &parts[0];
    json!({
        "status": services::invoices::combined_status(parts),
        "net_ore": parts.iter().map(|p| p.net_ore).sum::<i64>(),
        "vat_ore": parts.iter().map(|p| p.vat_ore).sum::<i64>(),
        "total_ore": parts.iter().map(|p| p.total_ore).sum::<i64>(),
        "recipient": {
            "name": first.recipient_name, "organisation_number": first.recipient_organisation_number, "reference": first.recipient_reference,
            "address": first.recipient_address, "postal_code": first.recipient_postal_code, "city": first.recipient_city,
        },
        "url": format!("/applications/{application_id}/invoice"),
        "lines": lines.iter().map(|l| {
            let part = parts.iter().find(|p| p.id == l.invoice_id);
            json!({
                "invoice_id": l.invoice_id, "organisation_id": part.map(|p| p.organisation_id), "organisation": part.map(|p| name(p.organisation_id)),
                "item_code": l.item_code, "description_nb": l.description_nb, "description_en": l.description_en, "unit": l.unit,
                "quantity": l.quantity, "unit_ore": l.unit_ore, "amount_ore": l.amount_ore, "exempt": l.exempt, "price_list_id": l.price_list_id,
            })
        }).collect::<Vec<_>>(),
        "parts": parts.iter().map(|p| (p, services::invoices::payment_details(p, organisations.iter().find(|o| o.id == p.organisation_id)))).map(|(p, pay)| json!({
            "due_date": pay.due_date, "bank_account": pay.account, "kid": pay.kid,
            "id": p.id, "number": p.number, "organisation_id": p.organisation_id, "organisation": name(p.organisation_id),
            "status": p.status, "net_ore": p.net_ore, "vat_rate_bp": p.vat_rate_bp, "vat_ore": p.vat_ore, "total_ore": p.total_ore,
            "waived_reason": p.waived_reason, "created_at": p.created_at, "issued_at": p.issued_at, "paid_at": p.paid_at, "waived_at": p.waived_at,
        })).collect::<Vec<_>>(),
    })
}

/// A transfer as the API shows it (in `GET /api/applications/{id}` too).
pub fn transfer_json(t: &db::transfers::Transfer, files: &[db::transfers::TransferFile]) -> Value {
    json!({
        "id": t.id, "release_id": t.release_id, "application_id": t.application_id,
        "recipient_organisation_id": t.recipient_organisation_id, "sender_organisation_id": t.sender_organisation_id,
        "linked_from": t.linked_from, "state": t.state, "version": t.version,
        "expires_at": t.expires_at, "created_at": t.created_at, "published_at": t.published_at,
        "downloaded_at": t.downloaded_at, "expired_at": t.expired_at, "revoked_at": t.revoked_at,
        "files": files.iter().filter(|f| f.complete).map(|f| file_json(t.id, f)).collect::<Vec<_>>(),
    })
}

/// A file as the API shows it.
pub fn file_json(transfer_id: i64, f: &db::transfers::TransferFile) -> Value {
    json!({
        "name": f.name, "size": f.size, "sha256": f.sha256, "uploaded_at": f.completed_at,
        "deleted": f.bytes_deleted_at.is_some(),
        "url": format!("/api/transfers/{transfer_id}/files/{}", crate::web::url_encode(&f.name)),
    })
}

/// A size in bytes as people read it.
pub fn size_text(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// A size in bytes as people read it in `lang`: a decimal comma in Norwegian (`41,9 kB`).
pub fn file_size(lang: crate::domain::language::Language, bytes: i64) -> String {
    let text = size_text(bytes);
    if lang.english() { text } else { text.replace('.', ",") }
}

/// The application as submitted, for people to read: the form's sections in order, each answer
/// with its human label and value (choices and yes/no in words, dates as dates, sources by
/// name), the requested variables, period and selection per source.
pub fn form_sections(
    lang: crate::domain::language::Language,
    form: &crate::domain::form::ApplicationForm,
    sources: &[db::catalogue::DataSource],
) -> Vec<Value> {
    use crate::i18n::t;
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| d.format("%d.%m.%Y").to_string())
            .unwrap_or(s.to_string())
    };
    let choice = |prefix: &str, v: &str| if v.is_empty() { String::new() } else { t(lang, &format!("{prefix}-{v}")) };
    let yes_no = |v: Option<bool>| match v {
        Some(true) => t(lang, "yes"),
        Some(false) => t(lang, "no"),
        None => String::new(),
    };
    let article = |prefix: &str, v: &str| {
        let key: String = v.chars().filter(char::is_ascii_alphanumeric).collect();
        if v.is_empty() { String::new() } else { t(lang, &format!("{prefix}-{key}")) }
    };
    let org = |o: &Option<crate::domain::form::OrganisationRef>| {
        o.as_ref()
            .filter(|o| !o.name.is_empty())
            .map(|o| {
                if o.organisation_number.is_empty() {
                    o.name.clone()
                } else {
                    format!("{} ({})", o.name, o.organisation_number)
                }
            })
            .unwrap_or_default()
    };
    let row = |key: &str, value: String| json!({"label": t(lang, key), "value": value});
    let leader = form.project_leader.as_ref();
    let legal = form.legal_basis.as_ref();
    let invoice = form.invoice_recipient.as_ref();
    let thesis = form.student_thesis.as_ref();
    let requested: Vec<Value> = form
        .data_sources
        .iter()
        .map(|r| {
            let source = sources.iter().find(|s| Some(s.id) == r.data_source_id);
            json!({
                "code": source.map(|s| s.code.clone()),
                "name": source.map(|s| if lang.english() { s.name_en.clone() } else { s.name_nb.clone() }),
                "variables": r.variables,
                "period": format!("{} – {}", date(&r.period_from), date(&r.period_to)),
                "selection": r.selection,
            })
        })
        .collect();
    let sections = vec![
        (
            "section-project",
            vec![
                row("field-kind", choice("app-kind", &form.kind)),
                row("field-type", choice("app-type", &form.application_type)),
                row("field-previous-reference", form.previous_reference.clone().unwrap_or_default()),
                row("field-title", form.title.clone()),
                row("field-summary", form.summary.clone()),
                row("field-purpose", choice("purpose", &form.purpose)),
                row("field-start-date", date(&form.start_date)),
                row("field-end-date", date(&form.end_date)),
            ],
        ),
        (
            "section-people",
            vec![
                row("field-project-leader-name", leader.map(|p| p.name.clone()).unwrap_or_default()),
                row("field-project-leader-email", leader.map(|p| p.email.clone()).unwrap_or_default()),
                row("field-project-leader-institution", leader.map(|p| p.institution.clone()).unwrap_or_default()),
                row("field-controller-name", org(&form.controller)),
                row("field-processor-name", org(&form.processor)),
                row("field-members", form.members.join(", ")),
            ],
        ),
        (
            "section-legal",
            vec![
                row("field-art6", legal.map(|l| article("art6", &l.gdpr_article_6)).unwrap_or_default()),
                row("field-art9", legal.map(|l| article("art9", &l.gdpr_article_9)).unwrap_or_default()),
                row("field-justification", legal.map(|l| l.justification.clone()).unwrap_or_default()),
                row("field-rek-reference", form.rek_reference.clone().unwrap_or_default()),
                row("field-dpia", yes_no(form.dpia_done)),
                row(
                    "field-dispensation",
                    form.dispensation.as_deref().map(|d| choice("dispensation", d)).unwrap_or_default(),
                ),
                row("field-consent", yes_no(form.consent_based)),
                row("field-controller-approved", yes_no(form.controller_approved)),
            ],
        ),
        (
            "section-data",
            vec![
                row("field-linkage", yes_no(form.linkage)),
                row("field-linkage-key", form.linkage_key.clone().unwrap_or_default()),
            ],
        ),
        (
            "section-handling",
            vec![
                row("field-storage", form.storage.clone()),
                row("field-access", form.access.clone()),
                row("field-deletion-date", date(&form.deletion_date)),
                row("field-publication", form.publication.clone()),
            ],
        ),
        (
            "section-billing",
            vec![
                row("field-invoice-name", invoice.map(|i| i.name.clone()).unwrap_or_default()),
                row(
                    "field-invoice-recipient-organisation-number",
                    invoice.map(|i| i.organisation_number.clone()).unwrap_or_default(),
                ),
                row("field-invoice-reference", invoice.map(|i| i.reference.clone()).unwrap_or_default()),
                row("field-invoice-address", invoice.map(|i| i.postal_address().one_line()).unwrap_or_default()),
                row("field-thesis-level", thesis.map(|s| choice("thesis", &s.level)).unwrap_or_default()),
                row("field-supervisor", thesis.map(|s| s.supervisor.clone()).unwrap_or_default()),
            ],
        ),
    ];
    sections
        .into_iter()
        .map(|(key, rows)| {
            let rows: Vec<Value> =
                rows.into_iter().filter(|r| r["value"].as_str().is_some_and(|v| !v.is_empty())).collect();
            let data = if key == "section-data" { json!(requested) } else { Value::Null };
            let anchor = format!("s-{}", key.trim_start_matches("section-"));
            json!({"title": t(lang, key), "rows": rows, "sources": data, "anchor": anchor, "section": key.trim_start_matches("section-")})
        })
        .collect()
}

/// A statement (uttalelse) in the API: the request, where it stands, and the answer once given,
/// and whether the applicant's side reads it. For the applicant's side (`party`): without the
/// reviewer's address and the reminder, the reviewer unnamed where only the address names them,
/// and without the question and the answer while it is withheld from them.
pub fn statement_json(row: &db::statements::StatementRow, now: chrono::DateTime<chrono::Utc>, party: bool) -> Value {
    let s = &row.statement;
    let mut v = json!({
        "id": s.id,
        "application_id": s.application_id,
        "reference": row.reference,
        "title": row.title,
        "reviewer": {"id": s.reviewer_id, "name": row.reviewer_name, "email": row.reviewer_email},
        "requested_by": {"id": s.requested_by, "name": row.requester_name},
        "question": s.question,
        "due_on": s.due_on,
        "status": services::statements::status(s, now).code(),
        "answer": s.answer,
        "answered_at": s.answered_at,
        "reminded_at": s.reminded_at,
        "lapsed_at": s.lapsed_at,
        "created_at": s.created_at,
        "withheld": s.withheld,
        "withheld_reason": s.withheld_reason,
        // The last day for the applicant's side to comment on it, once they can read its answer
        // (whatever the case's state: the pages and mail offer it only before the decision).
        "comment_by": s.comment_by(),
    });
    if party && let Some(o) = v.as_object_mut() {
        o.remove("reminded_at");
        o.insert("reviewer".into(), json!({"id": s.reviewer_id, "name": services::statements::name_for_party(row)}));
        if s.withheld {
            o.remove("question");
            o.remove("answer");
        }
    }
    v
}

/// An enquiry (forhåndsveiledning) in the API, without its thread.
pub fn enquiry_json(e: &db::enquiries::Enquiry, asker_name: &str) -> Value {
    json!({
        "id": e.id, "subject": e.subject, "state": e.state,
        "asker": {"id": e.asker_id, "name": asker_name},
        "application_id": e.application_id, "created_at": e.created_at, "updated_at": e.updated_at,
    })
}

/// An event of the audit log as a sentence: who (name and role, or the service itself) did
/// what (in words) to which object (by name or reference, linked where a page shows it), with
/// the event's details as labelled values, never raw JSON.
pub fn audit_row(
    lang: crate::domain::language::Language,
    e: &db::events::Event,
    names: &services::audit::Names,
) -> Value {
    use crate::i18n::{has, t};
    let who = match e.actor_id {
        Some(id) => names
            .users
            .get(&id)
            .map(|(name, role)| format!("{name} ({})", t(lang, &format!("role-{role}"))))
            .unwrap_or_else(|| format!("#{id}")),
        None => t(lang, "audit-system"),
    };
    let key = format!("event-{}", e.kind.replace(['.', '_'], "-"));
    let what = if has(lang, &key) { t(lang, &key) } else { e.kind.clone() };
    let label = |kind: &str| {
        let key = format!("subject-{kind}");
        if has(lang, &key) { t(lang, &key) } else { kind.replace('_', " ") }
    };
    let (subject, href) = match (e.subject_type.as_str(), e.subject_id) {
        ("application", Some(id)) => {
            let (reference, title) = names.applications.get(&id).cloned().unwrap_or((None, String::new()));
            let name = reference.unwrap_or_else(|| format!("#{id}"));
            (format!("{} {name} {title}", label("application")).trim().to_string(), Some(format!("/applications/{id}")))
        }
        ("user", Some(id)) => {
            let name = names.users.get(&id).map(|(n, _)| n.clone()).unwrap_or_else(|| format!("#{id}"));
            (format!("{} {name}", label("user")), Some(format!("/admin/users/{id}")))
        }
        ("enquiry", Some(id)) => (format!("{} #{id}", label("enquiry")), Some(format!("/enquiries/{id}"))),
        (kind, Some(id)) => (format!("{} #{id}", label(kind)), None),
        (kind, None) => (label(kind), None),
    };
    json!({
        "id": e.id, "at": crate::domain::deadlines::oslo_time(e.at, true),
        "iso": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "who": who, "what": what, "subject": subject, "href": href, "address": e.address,
        "details": payload_details(lang, &e.payload), "hash": &e.hash[..16],
    })
}

/// An event's payload as labelled values: nested objects and lists in words, yes/no for flags.
fn payload_details(lang: crate::domain::language::Language, payload: &Value) -> Vec<Value> {
    use crate::i18n::{has, t};
    fn text(lang: crate::domain::language::Language, v: &Value) -> String {
        match v {
            Value::Null => "–".into(),
            Value::Bool(b) => t(lang, if *b { "yes" } else { "no" }),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items.iter().map(|i| text(lang, i)).collect::<Vec<_>>().join(", "),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| format!("{}: {}", label(lang, k), value(lang, k, v)))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
    // A detail's name in words where the language has one (`audit-field-<key>`, or the form's
    // `field-<key>`), else the key.
    fn label(lang: crate::domain::language::Language, key: &str) -> String {
        let plain = key.replace('_', "-");
        [format!("audit-field-{plain}"), format!("field-{plain}")]
            .into_iter()
            .find(|k| has(lang, k))
            .map_or_else(|| key.replace('_', " "), |k| t(lang, &k))
    }
    // A state, an outcome, who decides and an amount in words; anything else as it is.
    fn value(lang: crate::domain::language::Language, key: &str, v: &Value) -> String {
        let words =
            |prefix: &str| v.as_str().map(|s| format!("{prefix}-{s}")).filter(|k| has(lang, k)).map(|k| t(lang, &k));
        let named = match key {
            "from" | "to" | "state" => words("state"),
            "outcome" => words("outcome"),
            "decider" => words("decider"),
            "role" => words("role"),
            "kind" => words("app-kind"),
            "type" => words("app-type"),
            _ if key.ends_with("_ore") => {
                v.as_i64().map(|ore| format!("NOK {}", crate::domain::pricing::format_nok(ore)))
            }
            // A day, as pages write it.
            _ if v.as_str().is_some_and(|s| s.len() == 10) => v
                .as_str()
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .map(|d| d.format("%d.%m.%Y").to_string()),
            // A moment, in Norwegian time.
            _ if key.ends_with("_at") => v
                .as_str()
                .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())
                .map(|at| crate::domain::deadlines::oslo_time(at, false)),
            _ => None,
        };
        named.unwrap_or_else(|| text(lang, v))
    }
    match payload {
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| json!({"label": label(lang, k), "value": value(lang, k, v)}))
            .collect(),
        Value::Null => vec![],
        other => vec![json!({"label": "", "value": text(lang, other)})],
    }
}
