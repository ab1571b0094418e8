//! The common application form (felles søknadsskjema, SPEC §5) and its validation. A draft may
//! be incomplete: at every save only what is given is checked (types, lengths, formats); at
//! submit every rule runs and every problem is reported at once.

use super::email::EmailAddress;
use super::fields::FieldErrors;
use super::org_number::{OrganisationNumber, OrganisationNumberError};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Application kinds: aggregated (anonymous) statistics or person-identifiable data.
pub const KINDS: [&str; 2] = ["aggregated", "identifiable"];
/// Application types; all but `new` refer to an earlier case.
pub const TYPES: [&str; 4] = ["new", "amendment", "extension", "data_update"];
/// Purposes named by the source documents.
pub const PURPOSES: [&str; 9] = [
    "medical_research",
    "other_research",
    "health_analysis",
    "surveillance",
    "quality_improvement",
    "administration",
    "governance",
    "emergency_preparedness",
    "innovation",
];
/// Lawful bases of GDPR Article 6 offered on the form.
pub const GDPR_ARTICLE_6: [&str; 4] = ["6(1)(a)", "6(1)(c)", "6(1)(e)", "6(1)(f)"];
/// Conditions of GDPR Article 9 offered on the form.
pub const GDPR_ARTICLE_9: [&str; 5] = ["9(2)(a)", "9(2)(g)", "9(2)(h)", "9(2)(i)", "9(2)(j)"];
/// Dispensation from the duty of confidentiality: requested from us, granted by REK, or not needed.
pub const DISPENSATION: [&str; 3] = ["requested", "rek_granted", "not_needed"];
/// Student thesis levels.
pub const THESIS_LEVELS: [&str; 3] = ["bachelor", "master", "phd"];
/// Attachment kinds (SPEC §5.6).
pub const ATTACHMENT_KINDS: [&str; 10] = [
    "protocol",
    "rek_application",
    "rek_approval",
    "rek_dispensation",
    "dpo_assessment",
    "dpia",
    "consent_template",
    "concession",
    "variable_list",
    "other",
];
/// At most this many years between project start and end.
pub const MAX_PROJECT_YEARS: u32 = 15;
/// At most this many project members.
pub const MAX_MEMBERS: usize = 50;
/// At most this many data sources on one application.
pub const MAX_SOURCES: usize = 30;

/// A person named on the form.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub institution: String,
}

/// An organisation named on the form (data controller, processor).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OrganisationRef {
    pub name: String,
    pub organisation_number: String,
}

/// Legal basis under the GDPR.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LegalBasis {
    pub gdpr_article_6: String,
    pub gdpr_article_9: String,
    pub justification: String,
}

/// One requested data source.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SourceRequest {
    pub data_source_id: Option<i64>,
    pub variables: Vec<String>,
    pub period_from: String,
    pub period_to: String,
    pub selection: String,
}

/// Who receives the invoice.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InvoiceRecipient {
    pub name: String,
    pub organisation_number: String,
    pub reference: String,
    /// Postal address of the invoice (street or PO box); optional, with the postal code and
    /// city, for the buyer's address on the invoice.
    pub address: String,
    pub postal_code: String,
    pub city: String,
}

impl InvoiceRecipient {
    /// The invoice's postal address.
    pub fn postal_address(&self) -> super::ehf::Address {
        super::ehf::Address {
            street: self.address.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
        }
    }
}

/// A student thesis (fee exemption for aggregated data up to master level).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StudentThesis {
    pub level: String,
    pub supervisor: String,
}

/// The whole form as stored (JSON) and exchanged over the API.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ApplicationForm {
    pub kind: String,
    #[serde(rename = "type")]
    pub application_type: String,
    pub previous_reference: Option<String>,
    pub title: String,
    pub summary: String,
    pub purpose: String,
    pub start_date: String,
    pub end_date: String,
    pub project_leader: Option<Person>,
    pub controller: Option<OrganisationRef>,
    pub processor: Option<OrganisationRef>,
    pub members: Vec<String>,
    pub legal_basis: Option<LegalBasis>,
    pub rek_reference: Option<String>,
    pub dpia_done: Option<bool>,
    pub dispensation: Option<String>,
    pub consent_based: Option<bool>,
    pub controller_approved: Option<bool>,
    pub data_sources: Vec<SourceRequest>,
    pub linkage: Option<bool>,
    pub linkage_key: Option<String>,
    pub storage: String,
    pub access: String,
    pub deletion_date: String,
    pub publication: String,
    pub invoice_recipient: Option<InvoiceRecipient>,
    pub student_thesis: Option<StudentThesis>,
}

fn trim(s: &mut String) {
    let t = s.trim();
    if t.len() != s.len() {
        *s = t.to_string();
    }
}

fn trim_opt(s: &mut Option<String>) {
    if let Some(v) = s {
        trim(v);
        if v.is_empty() {
            *s = None;
        }
    }
}

impl ApplicationForm {
    /// Trims every text, lower-cases e-mails, drops empty members and empty source rows,
    /// and fills in the defaults (identifiable, new).
    pub fn normalised(mut self) -> Self {
        for s in [
            &mut self.kind,
            &mut self.application_type,
            &mut self.title,
            &mut self.summary,
            &mut self.purpose,
            &mut self.start_date,
            &mut self.end_date,
            &mut self.storage,
            &mut self.access,
            &mut self.deletion_date,
            &mut self.publication,
        ] {
            trim(s);
        }
        if self.kind.is_empty() {
            self.kind = "identifiable".into();
        }
        if self.application_type.is_empty() {
            self.application_type = "new".into();
        }
        trim_opt(&mut self.previous_reference);
        if let Some(r) = &mut self.previous_reference {
            *r = r.to_uppercase();
        }
        trim_opt(&mut self.rek_reference);
        trim_opt(&mut self.dispensation);
        trim_opt(&mut self.linkage_key);
        if let Some(p) = &mut self.project_leader {
            trim(&mut p.name);
            trim(&mut p.institution);
            p.email = p.email.trim().to_lowercase();
        }
        for o in [&mut self.controller, &mut self.processor].into_iter().flatten() {
            trim(&mut o.name);
            o.organisation_number.retain(|c| !c.is_whitespace());
        }
        if self.processor.as_ref().is_some_and(|p| p.name.is_empty() && p.organisation_number.is_empty()) {
            self.processor = None;
        }
        if let Some(l) = &mut self.legal_basis {
            trim(&mut l.gdpr_article_6);
            trim(&mut l.gdpr_article_9);
            trim(&mut l.justification);
        }
        self.members = self.members.iter().map(|m| m.trim().to_lowercase()).filter(|m| !m.is_empty()).collect();
        self.members.dedup();
        for s in &mut self.data_sources {
            for v in &mut s.variables {
                trim(v);
            }
            s.variables.retain(|v| !v.is_empty());
            trim(&mut s.period_from);
            trim(&mut s.period_to);
            trim(&mut s.selection);
        }
        self.data_sources.retain(|s| {
            s.data_source_id.is_some()
                || !s.variables.is_empty()
                || !s.selection.is_empty()
                || !s.period_from.is_empty()
        });
        if let Some(i) = &mut self.invoice_recipient {
            trim(&mut i.name);
            trim(&mut i.reference);
            trim(&mut i.address);
            trim(&mut i.city);
            i.postal_code.retain(|c| !c.is_whitespace());
            i.organisation_number.retain(|c| !c.is_whitespace());
        }
        if let Some(t) = &mut self.student_thesis {
            trim(&mut t.level);
            trim(&mut t.supervisor);
            if t.level.is_empty() && t.supervisor.is_empty() {
                self.student_thesis = None;
            }
        }
        self
    }

    /// The requested source ids, in form order, without repeats.
    pub fn source_ids(&self) -> Vec<i64> {
        let mut ids = vec![];
        for id in self.data_sources.iter().filter_map(|s| s.data_source_id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Whether the application is free of charge (SPEC §8): updates of data after an earlier
    /// decision, and student theses up to master level for aggregated data.
    pub fn fee_exemption(&self) -> Option<&'static str> {
        if self.application_type == "data_update" {
            return Some("data_update");
        }
        let student = self.student_thesis.as_ref().is_some_and(|t| t.level == "bachelor" || t.level == "master");
        if student && self.kind == "aggregated" {
            return Some("student_thesis");
        }
        None
    }

    /// Whether the kind asks for person-identifiable data.
    pub fn is_identifiable(&self) -> bool {
        self.kind != "aggregated"
    }

    /// The attachment kinds this form needs (SPEC §5.6).
    pub fn required_attachments(&self) -> Vec<&'static str> {
        let mut kinds = vec![];
        if self.is_identifiable() {
            kinds.extend(["protocol", "dpo_assessment"]);
        }
        if self.purpose == "medical_research" {
            kinds.push("rek_approval");
        }
        kinds
    }
}

/// What the validator needs to know about one catalogue source.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub id: i64,
    pub on_common_form: bool,
    pub variables: Vec<String>,
}

/// Whether to check a draft save (what is given) or a submit (everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Draft,
    Submit,
}

/// Facts from outside the form that the rules need.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub sources: &'a [SourceInfo],
    pub attachment_kinds: &'a [String],
    /// The applicant's own earlier cases among those the form names (for amendments, extensions,
    /// updates); a reference not here is not theirs.
    pub own_references: &'a [String],
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

struct Checker<'f> {
    errors: FieldErrors,
    submit: bool,
    _form: std::marker::PhantomData<&'f ()>,
}

impl Checker<'_> {
    /// A text: required at submit when `required`; never longer than `max`; at least `min` when given.
    fn text(&mut self, field: &str, value: &str, required: bool, min: usize, max: usize) {
        let len = value.chars().count();
        if len == 0 {
            if required && self.submit {
                self.errors.add(field, "err-required");
            }
        } else if self.submit && len < min {
            self.errors.add_n(field, "err-too-short", min as i64);
        } else if len > max {
            self.errors.add_n(field, "err-too-long", max as i64);
        }
    }

    fn choice(&mut self, field: &str, value: &str, required: bool, allowed: &[&str]) {
        if value.is_empty() {
            if required && self.submit {
                self.errors.add(field, "err-required");
            }
        } else if !allowed.contains(&value) {
            self.errors.add(field, "err-choice");
        }
    }

    fn date(&mut self, field: &str, value: &str, required: bool) -> Option<NaiveDate> {
        if value.is_empty() {
            if required && self.submit {
                self.errors.add(field, "err-required");
            }
            return None;
        }
        let d = parse_date(value);
        if d.is_none() {
            self.errors.add(field, "err-date");
        }
        d
    }

    fn yes_no(&mut self, field: &str, value: Option<bool>, required: bool) {
        if value.is_none() && required && self.submit {
            self.errors.add(field, "err-required");
        }
    }

    fn email(&mut self, field: &str, value: &str, required: bool) {
        if value.is_empty() {
            if required && self.submit {
                self.errors.add(field, "err-required");
            }
        } else if EmailAddress::parse(value).is_none() {
            self.errors.add(field, "err-email");
        }
    }

    fn org_number(&mut self, field: &str, value: &str, required: bool) {
        if value.is_empty() {
            if required && self.submit {
                self.errors.add(field, "err-required");
            }
            return;
        }
        match OrganisationNumber::parse(value) {
            Ok(_) => {}
            Err(OrganisationNumberError::Format) => self.errors.add(field, "err-org-number-format"),
            Err(OrganisationNumberError::CheckDigit) => self.errors.add(field, "err-org-number-check"),
        }
    }

    fn organisation(&mut self, prefix: &str, value: Option<&OrganisationRef>, required: bool) {
        match value {
            None => {
                if required && self.submit {
                    self.errors.add(format!("{prefix}.name"), "err-required");
                    self.errors.add(format!("{prefix}.organisation_number"), "err-required");
                }
            }
            Some(o) => {
                self.text(&format!("{prefix}.name"), &o.name, true, 2, 200);
                self.org_number(&format!("{prefix}.organisation_number"), &o.organisation_number, true);
            }
        }
    }
}

/// Checks the (normalised) form; returns every problem, keyed by dotted field path.
pub fn validate(form: &ApplicationForm, mode: Mode, ctx: &Context<'_>) -> FieldErrors {
    let submit = mode == Mode::Submit;
    let mut c = Checker { errors: FieldErrors::new(), submit, _form: std::marker::PhantomData };
    let identifiable = form.is_identifiable();

    // Kind and type.
    c.choice("kind", &form.kind, true, &KINDS);
    c.choice("type", &form.application_type, true, &TYPES);
    match &form.previous_reference {
        Some(r) if !super::reference::is_reference(r) => c.errors.add("previous_reference", "err-reference-format"),
        Some(r) if submit && form.application_type != "new" && !ctx.own_references.contains(r) => {
            c.errors.add("previous_reference", "err-reference-unknown")
        }
        None if submit && form.application_type != "new" && TYPES.contains(&form.application_type.as_str()) => {
            c.errors.add("previous_reference", "err-required")
        }
        _ => {}
    }

    // 1. Project.
    c.text("title", &form.title, true, 5, 200);
    c.text("summary", &form.summary, true, 1, 4000);
    c.choice("purpose", &form.purpose, true, &PURPOSES);
    let start = c.date("start_date", &form.start_date, true);
    let end = c.date("end_date", &form.end_date, true);
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            c.errors.add("end_date", "err-end-before-start");
        } else if s.checked_add_months(Months::new(12 * MAX_PROJECT_YEARS)).is_some_and(|limit| e > limit) {
            c.errors.add_n("end_date", "err-too-many-years", MAX_PROJECT_YEARS as i64);
        }
    }

    // 2. People.
    match &form.project_leader {
        None if submit => {
            for f in ["name", "email", "institution"] {
                c.errors.add(format!("project_leader.{f}"), "err-required");
            }
        }
        None => {}
        Some(p) => {
            c.text("project_leader.name", &p.name, true, 1, 200);
            c.email("project_leader.email", &p.email, true);
            c.text("project_leader.institution", &p.institution, true, 2, 200);
        }
    }
    c.organisation("controller", form.controller.as_ref(), true);
    c.organisation("processor", form.processor.as_ref(), false);
    if form.members.len() > MAX_MEMBERS {
        c.errors.add_n("members", "err-too-many", MAX_MEMBERS as i64);
    }
    if form.members.iter().any(|m| EmailAddress::parse(m).is_none()) {
        c.errors.add("members", "err-member-email");
    }

    // 3. Legal basis and approvals (person-identifiable data only, except the controller's approval).
    match &form.legal_basis {
        None if submit && identifiable => {
            for f in ["gdpr_article_6", "gdpr_article_9", "justification"] {
                c.errors.add(format!("legal_basis.{f}"), "err-required");
            }
        }
        None => {}
        Some(l) => {
            c.choice("legal_basis.gdpr_article_6", &l.gdpr_article_6, identifiable, &GDPR_ARTICLE_6);
            c.choice("legal_basis.gdpr_article_9", &l.gdpr_article_9, identifiable, &GDPR_ARTICLE_9);
            c.text("legal_basis.justification", &l.justification, identifiable, 1, 4000);
        }
    }
    let rek = form.rek_reference.as_deref().unwrap_or("");
    c.text("rek_reference", rek, form.purpose == "medical_research", 3, 50);
    c.yes_no("dpia_done", form.dpia_done, identifiable);
    c.choice("dispensation", form.dispensation.as_deref().unwrap_or(""), identifiable, &DISPENSATION);
    c.yes_no("consent_based", form.consent_based, identifiable);
    if submit && form.controller_approved != Some(true) {
        c.errors.add("controller_approved", "err-must-confirm");
    }

    // 4. Data.
    if submit && form.data_sources.is_empty() {
        c.errors.add("data_sources", "err-at-least-one-source");
    }
    if form.data_sources.len() > MAX_SOURCES {
        c.errors.add_n("data_sources", "err-too-many", MAX_SOURCES as i64);
    }
    let mut seen = vec![];
    for (i, s) in form.data_sources.iter().enumerate() {
        let p = format!("data_sources.{i}");
        let info = match s.data_source_id {
            None => {
                if submit {
                    c.errors.add(format!("{p}.data_source_id"), "err-required");
                }
                None
            }
            Some(id) => {
                let info = ctx.sources.iter().find(|x| x.id == id);
                match info {
                    None => c.errors.add(format!("{p}.data_source_id"), "err-no-such-source"),
                    Some(x) if !x.on_common_form => {
                        c.errors.add(format!("{p}.data_source_id"), "err-source-not-on-form")
                    }
                    Some(_) if seen.contains(&id) => c.errors.add(format!("{p}.data_source_id"), "err-source-twice"),
                    Some(_) => {}
                }
                seen.push(id);
                info
            }
        };
        if submit && s.variables.is_empty() {
            c.errors.add(format!("{p}.variables"), "err-at-least-one-variable");
        }
        if let Some(info) = info
            && s.variables.iter().any(|v| !info.variables.contains(v))
        {
            c.errors.add(format!("{p}.variables"), "err-variable-not-in-source");
        }
        let from = c.date(&format!("{p}.period_from"), &s.period_from, true);
        let to = c.date(&format!("{p}.period_to"), &s.period_to, true);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            c.errors.add(format!("{p}.period_to"), "err-end-before-start");
        }
        c.text(&format!("{p}.selection"), &s.selection, true, 1, 4000);
    }
    c.yes_no("linkage", form.linkage, false);
    let key = form.linkage_key.as_deref().unwrap_or("");
    c.text("linkage_key", key, form.linkage == Some(true), 2, 200);

    // 5. Handling.
    c.text("storage", &form.storage, identifiable, 2, 1000);
    c.text("access", &form.access, identifiable, 2, 1000);
    let deletion = c.date("deletion_date", &form.deletion_date, identifiable);
    if let (Some(d), Some(e)) = (deletion, end)
        && d <= e
    {
        c.errors.add("deletion_date", "err-deletion-before-end");
    }
    c.text("publication", &form.publication, true, 2, 2000);

    // 6. Attachments required by kind and purpose.
    if submit {
        for kind in form.required_attachments() {
            if !ctx.attachment_kinds.iter().any(|k| k == kind) {
                c.errors.add(format!("attachments.{kind}"), "err-attachment-required");
            }
        }
    }

    // 7. Billing.
    let exempt = form.fee_exemption().is_some();
    match &form.invoice_recipient {
        None if submit && !exempt => {
            for f in ["name", "organisation_number"] {
                c.errors.add(format!("invoice_recipient.{f}"), "err-required");
            }
        }
        None => {}
        Some(r) => {
            c.text("invoice_recipient.name", &r.name, !exempt, 2, 200);
            c.org_number("invoice_recipient.organisation_number", &r.organisation_number, !exempt);
            c.text("invoice_recipient.reference", &r.reference, false, 1, 100);
            c.text("invoice_recipient.address", &r.address, false, 1, 200);
            c.text("invoice_recipient.city", &r.city, false, 1, 100);
            if !r.postal_code.is_empty() && !super::payment::valid_postal_code(&r.postal_code) {
                c.errors.add("invoice_recipient.postal_code", "err-postal-code");
            }
        }
    }
    if let Some(t) = &form.student_thesis {
        c.choice("student_thesis.level", &t.level, true, &THESIS_LEVELS);
        c.text("student_thesis.supervisor", &t.supervisor, true, 2, 200);
    }
    c.errors
}

/// The sections of the form, in order: each with its anchor on the form page (`s-…`) and its
/// heading's message key.
pub const SECTIONS: [(&str, &str); 7] = [
    ("project", "section-project"),
    ("people", "section-people"),
    ("legal", "section-legal"),
    ("data", "section-data"),
    ("handling", "section-handling"),
    ("attachments", "section-attachments"),
    ("billing", "section-billing"),
];

/// The form's fields (as validation names their first part) in the order the form asks them, each
/// with its section.
const FIELDS: [(&str, &str); 27] = [
    ("kind", "project"),
    ("type", "project"),
    ("previous_reference", "project"),
    ("title", "project"),
    ("summary", "project"),
    ("purpose", "project"),
    ("start_date", "project"),
    ("end_date", "project"),
    ("project_leader", "people"),
    ("controller", "people"),
    ("processor", "people"),
    ("members", "people"),
    ("legal_basis", "legal"),
    ("rek_reference", "legal"),
    ("dpia_done", "legal"),
    ("dispensation", "legal"),
    ("consent_based", "legal"),
    ("controller_approved", "legal"),
    ("data_sources", "data"),
    ("linkage", "data"),
    ("linkage_key", "data"),
    ("storage", "handling"),
    ("access", "handling"),
    ("deletion_date", "handling"),
    ("publication", "handling"),
    ("attachments", "attachments"),
    ("invoice_recipient", "billing"),
];

/// The section of the form a field (as validation names it) belongs to, for the progress per
/// section and the links back to it.
pub fn section_of(field: &str) -> &'static str {
    let head = field.split('.').next().unwrap_or(field);
    FIELDS.iter().find(|(f, _)| *f == head).map_or("billing", |(_, section)| section)
}

/// Where a field (as validation names it) comes in the form, for listing problems in form order:
/// its place among the form's fields (anything else last, as the billing section's), then the
/// row of a repeated part (`data_sources.2.…`).
pub fn form_order(field: &str) -> (usize, usize) {
    let mut parts = field.split('.');
    let head = parts.next().unwrap_or(field);
    let place = FIELDS.iter().position(|(f, _)| *f == head).unwrap_or(FIELDS.len());
    let row = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (place, row)
}

#[cfg(test)]
mod tests;
