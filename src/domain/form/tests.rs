use super::*;
use serde_json::json;

fn sources() -> Vec<SourceInfo> {
    vec![
        SourceInfo { id: 1, on_common_form: true, variables: vec!["lopenr".into(), "kjonn".into()] },
        SourceInfo { id: 2, on_common_form: true, variables: vec!["diagnose".into()] },
        SourceInfo { id: 3, on_common_form: false, variables: vec!["x".into()] },
    ]
}

/// A complete, valid person-identifiable application for medical research.
pub fn complete() -> ApplicationForm {
    serde_json::from_value(json!({
        "kind": "identifiable", "type": "new", "title": "Hjertesvikt etter covid-19",
        "summary": "Vi undersøker forekomst av hjertesvikt.", "purpose": "medical_research",
        "start_date": "2027-01-01", "end_date": "2030-12-31",
        "project_leader": {"name": "Kari Forsker", "email": "kari@example.no", "institution": "Universitetet i Oslo"},
        "controller": {"name": "Universitetet i Oslo", "organisation_number": "971035854"},
        "members": ["ola@example.no"],
        "legal_basis": {"gdpr_article_6": "6(1)(e)", "gdpr_article_9": "9(2)(j)", "justification": "Forskning i allmennhetens interesse."},
        "rek_reference": "2026/12345", "dpia_done": true, "dispensation": "requested", "consent_based": false, "controller_approved": true,
        "data_sources": [{"data_source_id": 1, "variables": ["lopenr"], "period_from": "2010-01-01", "period_to": "2025-12-31", "selection": "Alle med diagnose I50"}],
        "linkage": false, "storage": "TSD", "access": "Prosjektgruppen", "deletion_date": "2031-12-31", "publication": "Aggregerte resultater",
        "invoice_recipient": {"name": "UiO", "organisation_number": "971035854", "reference": "PRJ-1"}
    }))
    .unwrap()
}

fn check(form: &ApplicationForm, mode: Mode, attachments: &[&str]) -> Vec<String> {
    let sources = sources();
    let kinds: Vec<String> = attachments.iter().map(|s| s.to_string()).collect();
    let refs = vec!["HDS-2025-00001".to_string()];
    let ctx = Context { sources: &sources, attachment_kinds: &kinds, own_references: &refs };
    validate(&form.clone().normalised(), mode, &ctx).0.into_keys().collect()
}

const ALL_ATTACHMENTS: [&str; 3] = ["protocol", "dpo_assessment", "rek_approval"];

#[test]
fn a_complete_form_passes() {
    assert_eq!(check(&complete(), Mode::Submit, &ALL_ATTACHMENTS), Vec::<String>::new());
}

#[test]
fn an_empty_draft_saves_but_cannot_be_submitted() {
    let empty = ApplicationForm::default();
    assert!(check(&empty, Mode::Draft, &[]).is_empty());
    let missing = check(&empty, Mode::Submit, &[]);
    for f in [
        "title",
        "summary",
        "purpose",
        "start_date",
        "end_date",
        "project_leader.name",
        "project_leader.email",
        "controller.organisation_number",
        "legal_basis.gdpr_article_6",
        "dpia_done",
        "dispensation",
        "consent_based",
        "controller_approved",
        "data_sources",
        "storage",
        "access",
        "deletion_date",
        "publication",
        "attachments.protocol",
        "attachments.dpo_assessment",
        "invoice_recipient.name",
    ] {
        assert!(missing.contains(&f.to_string()), "{f} missing from {missing:?}");
    }
}

#[test]
fn formats_and_lengths_are_checked_at_every_save() {
    let f = ApplicationForm {
        title: "x".repeat(201),
        start_date: "2027-13-01".into(),
        controller: Some(OrganisationRef { name: "UiO".into(), organisation_number: "971035855".into() }),
        members: vec!["not-an-email".into()],
        purpose: "fun".into(),
        ..ApplicationForm::default()
    };
    let errors = check(&f, Mode::Draft, &[]);
    assert_eq!(errors, vec!["controller.organisation_number", "members", "purpose", "start_date", "title"]);
}

#[test]
fn the_invoice_address_is_optional_but_its_postal_code_has_four_digits() {
    let mut f = complete();
    let r = f.invoice_recipient.as_mut().unwrap();
    (r.address, r.postal_code, r.city) = ("Postboks 1072 Blindern".into(), "316".into(), "Oslo".into());
    assert_eq!(check(&f, Mode::Draft, &[]), vec!["invoice_recipient.postal_code"]);
    f.invoice_recipient.as_mut().unwrap().postal_code = "0316".into();
    assert!(check(&f, Mode::Submit, &ALL_ATTACHMENTS).is_empty());
}

#[test]
fn dates_must_be_ordered_and_within_fifteen_years() {
    let mut f = complete();
    f.end_date = "2026-12-31".into();
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["end_date"]);
    f.end_date = "2042-01-02".into();
    f.deletion_date = "2043-01-01".into();
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["end_date"]);
    f.end_date = "2042-01-01".into();
    assert!(check(&f, Mode::Submit, &ALL_ATTACHMENTS).is_empty());
    f.deletion_date = "2041-12-31".into();
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["deletion_date"]);
}

#[test]
fn rek_reference_and_approval_are_needed_for_medical_research_only() {
    let mut f = complete();
    f.rek_reference = None;
    assert_eq!(
        check(&f, Mode::Submit, &["protocol", "dpo_assessment"]),
        vec!["attachments.rek_approval", "rek_reference"]
    );
    f.purpose = "quality_improvement".into();
    assert!(check(&f, Mode::Submit, &["protocol", "dpo_assessment"]).is_empty());
}

#[test]
fn aggregated_applications_need_less() {
    let mut f = complete();
    f.kind = "aggregated".into();
    f.purpose = "health_analysis".into();
    f.legal_basis = None;
    f.dpia_done = None;
    f.dispensation = None;
    f.consent_based = None;
    f.storage.clear();
    f.deletion_date.clear();
    f.rek_reference = None;
    assert!(check(&f, Mode::Submit, &[]).is_empty());
}

#[test]
fn variables_must_belong_to_their_source_and_sources_to_the_form() {
    let mut f = complete();
    f.data_sources[0].variables = vec!["diagnose".into()];
    assert_eq!(check(&f, Mode::Draft, &[]), vec!["data_sources.0.variables"]);
    f.data_sources[0] =
        SourceRequest { data_source_id: Some(3), variables: vec!["x".into()], ..f.data_sources[0].clone() };
    assert_eq!(check(&f, Mode::Draft, &[]), vec!["data_sources.0.data_source_id"]);
    f.data_sources[0].data_source_id = Some(99);
    assert_eq!(check(&f, Mode::Draft, &[]), vec!["data_sources.0.data_source_id"]);
    let mut g = complete();
    g.data_sources.push(g.data_sources[0].clone());
    assert_eq!(check(&g, Mode::Draft, &[]), vec!["data_sources.1.data_source_id"]);
    g.data_sources[1].data_source_id = Some(2);
    g.data_sources[1].variables = vec![];
    assert_eq!(check(&g, Mode::Submit, &ALL_ATTACHMENTS), vec!["data_sources.1.variables"]);
}

#[test]
fn linkage_needs_a_key() {
    let mut f = complete();
    f.linkage = Some(true);
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["linkage_key"]);
    f.linkage_key = Some("fødselsnummer".into());
    assert!(check(&f, Mode::Submit, &ALL_ATTACHMENTS).is_empty());
}

#[test]
fn invoice_recipient_unless_fee_exempt() {
    let mut f = complete();
    f.invoice_recipient = None;
    assert_eq!(
        check(&f, Mode::Submit, &ALL_ATTACHMENTS),
        vec!["invoice_recipient.name", "invoice_recipient.organisation_number"]
    );
    f.kind = "aggregated".into();
    f.student_thesis = Some(StudentThesis { level: "master".into(), supervisor: "Prof. Veileder".into() });
    assert_eq!(f.fee_exemption(), Some("student_thesis"));
    assert!(check(&f, Mode::Submit, &ALL_ATTACHMENTS).is_empty());
    f.student_thesis = Some(StudentThesis { level: "phd".into(), supervisor: "Prof. Veileder".into() });
    assert_eq!(f.fee_exemption(), None);
    f.kind = "identifiable".into();
    f.application_type = "data_update".into();
    f.previous_reference = Some("HDS-2025-00001".into());
    assert_eq!(f.fee_exemption(), Some("data_update"));
    assert!(check(&f, Mode::Submit, &ALL_ATTACHMENTS).is_empty());
}

#[test]
fn later_types_refer_to_an_own_earlier_case() {
    let mut f = complete();
    f.application_type = "extension".into();
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["previous_reference"]);
    f.previous_reference = Some("hds-2025-00002".into());
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["previous_reference"]);
    f.previous_reference = Some("hds-2025-00001".into());
    assert!(check(&f, Mode::Submit, &ALL_ATTACHMENTS).is_empty());
    f.previous_reference = Some("nonsense".into());
    assert_eq!(check(&f, Mode::Draft, &[]), vec!["previous_reference"]);
}

#[test]
fn normalising_trims_and_drops_empty_rows() {
    let mut f = complete();
    f.title = "  Tittel med mellomrom  ".into();
    f.members = vec![" Ola@Example.no ".into(), "".into()];
    f.data_sources.push(SourceRequest::default());
    let n = f.normalised();
    assert_eq!(n.title, "Tittel med mellomrom");
    assert_eq!(n.members, vec!["ola@example.no"]);
    assert_eq!(n.data_sources.len(), 1);
}

#[test]
fn minimum_lengths_wait_for_submit() {
    let f = ApplicationForm { title: "Hjer".into(), ..complete() };
    assert!(check(&f, Mode::Draft, &[]).is_empty(), "a short title is fine in a draft");
    assert_eq!(check(&f, Mode::Submit, &ALL_ATTACHMENTS), vec!["title"]);
}

#[test]
fn every_field_belongs_to_a_section_in_form_order() {
    assert_eq!(section_of("title"), "project");
    assert_eq!(section_of("project_leader.email"), "people");
    assert_eq!(section_of("legal_basis.justification"), "legal");
    assert_eq!(section_of("data_sources.1.variables"), "data");
    assert_eq!(section_of("deletion_date"), "handling");
    assert_eq!(section_of("attachments.protocol"), "attachments");
    assert_eq!(section_of("invoice_recipient.postal_code"), "billing");
    assert_eq!(section_of("student_thesis.level"), "billing");
    // Problems are listed in the order the form asks (not by the fields' names).
    let mut fields = vec![
        "storage",
        "access",
        "purpose",
        "title",
        "controller.name",
        "attachments.protocol",
        "data_sources.1.variables",
        "data_sources.0.period_from",
        "invoice_recipient.name",
        "student_thesis.level",
    ];
    fields.sort_by_key(|f| form_order(f));
    assert_eq!(
        fields,
        vec![
            "title",
            "purpose",
            "controller.name",
            "data_sources.0.period_from",
            "data_sources.1.variables",
            "storage",
            "access",
            "attachments.protocol",
            "invoice_recipient.name",
            "student_thesis.level"
        ]
    );
    let order: Vec<&str> = SECTIONS.iter().map(|(k, _)| *k).collect();
    assert_eq!(order, ["project", "people", "legal", "data", "handling", "attachments", "billing"]);
}
