//! An EHF / PEPPOL BIS Billing 3.0-style UBL invoice for one organisation's part of a bill, so
//! an organisation's accounting system can take it in. Pure formatting; amounts in øre.

use super::pricing::Unit;
use chrono::NaiveDate;

/// A party of the invoice (seller or buyer).
#[derive(Debug, Clone)]
pub struct Party {
    /// Legal name.
    pub name: String,
    /// Norwegian organisation number (scheme 0192).
    pub organisation_number: String,
}

/// One invoice line.
#[derive(Debug, Clone)]
pub struct EhfLine {
    /// Description.
    pub name: String,
    /// The unit's code (`per_started_hour`, …).
    pub unit: String,
    /// Quantity charged.
    pub quantity: i64,
    /// Price per unit in øre (0 when exempt).
    pub unit_ore: i64,
    /// Line amount in øre.
    pub amount_ore: i64,
}

/// What the document says.
#[derive(Debug, Clone)]
pub struct EhfInvoice {
    /// The invoice number.
    pub number: String,
    /// Issue date.
    pub issue_date: NaiveDate,
    /// The buyer's reference (from the form).
    pub buyer_reference: String,
    /// Who charges.
    pub seller: Party,
    /// Who pays.
    pub buyer: Party,
    /// The lines.
    pub lines: Vec<EhfLine>,
    /// VAT rate in basis points.
    pub vat_rate_bp: u32,
    /// Net, VAT and total in øre.
    pub net_ore: i64,
    pub vat_ore: i64,
    pub total_ore: i64,
}

/// Escapes text for XML content and attributes, dropping characters XML 1.0 forbids.
fn esc(text: &str) -> String {
    super::text::xml_safe(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Øre as a decimal amount with two decimals and a point ("1500.00").
fn amount(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", ore.unsigned_abs() / 100, ore.unsigned_abs() % 100)
}

/// UN/ECE rec. 20 unit codes: hours, or "one" for per-application and per-delivery prices.
fn unit_code(unit: &str) -> &'static str {
    match Unit::from_code(unit) {
        Some(Unit::PerStartedHour) => "HUR",
        _ => "C62",
    }
}

fn party(role: &str, p: &Party) -> String {
    let (name, number) = (esc(&p.name), esc(&p.organisation_number));
    format!(
        "<cac:{role}><cac:Party><cbc:EndpointID schemeID=\"0192\">{number}</cbc:EndpointID><cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName><cbc:CompanyID schemeID=\"0192\">{number}</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:{role}>"
    )
}

/// The UBL 2.1 invoice document.
pub fn invoice_xml(doc: &EhfInvoice) -> String {
    // Without VAT the lines are exempt (E); with it, the standard rate (S).
    let (category, percent) = if doc.vat_rate_bp == 0 {
        ("E", "0".to_string())
    } else {
        ("S", format!("{}.{:02}", doc.vat_rate_bp / 100, doc.vat_rate_bp % 100))
    };
    let tax_category = format!(
        "<cbc:ID>{category}</cbc:ID><cbc:Percent>{percent}</cbc:Percent>{}<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>",
        if category == "E" { "<cbc:TaxExemptionReason>Not subject to VAT</cbc:TaxExemptionReason>" } else { "" }
    );
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\n");
    xml.push_str("<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>\n");
    xml.push_str("<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>\n");
    xml.push_str(&format!("<cbc:ID>{}</cbc:ID>\n", esc(&doc.number)));
    xml.push_str(&format!("<cbc:IssueDate>{}</cbc:IssueDate>\n", doc.issue_date.format("%Y-%m-%d")));
    xml.push_str(
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>\n<cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>\n",
    );
    let reference = if doc.buyer_reference.is_empty() { &doc.number } else { &doc.buyer_reference };
    xml.push_str(&format!("<cbc:BuyerReference>{}</cbc:BuyerReference>\n", esc(reference)));
    xml.push_str(&party("AccountingSupplierParty", &doc.seller));
    xml.push('\n');
    xml.push_str(&party("AccountingCustomerParty", &doc.buyer));
    xml.push('\n');
    xml.push_str(&format!(
        "<cac:TaxTotal><cbc:TaxAmount currencyID=\"NOK\">{vat}</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"NOK\">{net}</cbc:TaxableAmount><cbc:TaxAmount currencyID=\"NOK\">{vat}</cbc:TaxAmount><cac:TaxCategory>{tax_category}</cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>\n",
        vat = amount(doc.vat_ore),
        net = amount(doc.net_ore),
    ));
    xml.push_str(&format!(
        "<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID=\"NOK\">{net}</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount currencyID=\"NOK\">{net}</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID=\"NOK\">{total}</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID=\"NOK\">{total}</cbc:PayableAmount></cac:LegalMonetaryTotal>\n",
        net = amount(doc.net_ore),
        total = amount(doc.total_ore),
    ));
    for (i, l) in doc.lines.iter().enumerate() {
        xml.push_str(&format!(
            "<cac:InvoiceLine><cbc:ID>{}</cbc:ID><cbc:InvoicedQuantity unitCode=\"{}\">{}</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID=\"NOK\">{}</cbc:LineExtensionAmount><cac:Item><cbc:Name>{}</cbc:Name><cac:ClassifiedTaxCategory>{tax_category}</cac:ClassifiedTaxCategory></cac:Item><cac:Price><cbc:PriceAmount currencyID=\"NOK\">{}</cbc:PriceAmount></cac:Price></cac:InvoiceLine>\n",
            i + 1,
            unit_code(&l.unit),
            l.quantity,
            amount(l.amount_ore),
            esc(&l.name),
            amount(if l.amount_ore == 0 { 0 } else { l.unit_ore }),
        ));
    }
    xml.push_str("</Invoice>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_carries_parties_totals_and_escaped_lines() {
        let doc = EhfInvoice {
            number: "HDS-2026-00001-915933149".into(),
            issue_date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            buyer_reference: "PRJ <42>".into(),
            seller: Party { name: "Helsedataservice".into(), organisation_number: "915933149".into() },
            buyer: Party { name: "Universitetet i Oslo & co".into(), organisation_number: "971035854".into() },
            lines: vec![
                EhfLine {
                    name: "Mottak".into(),
                    unit: "per_application_one_source".into(),
                    quantity: 1,
                    unit_ore: 150_000,
                    amount_ore: 150_000,
                },
                EhfLine {
                    name: "Saksbehandling".into(),
                    unit: "per_started_hour".into(),
                    quantity: 2,
                    unit_ore: 115_500,
                    amount_ore: 231_000,
                },
            ],
            vat_rate_bp: 2_500,
            net_ore: 381_000,
            vat_ore: 95_250,
            total_ore: 476_250,
        };
        let xml = invoice_xml(&doc);
        assert!(xml.contains("<cbc:BuyerReference>PRJ &lt;42&gt;</cbc:BuyerReference>"));
        assert!(xml.contains("Universitetet i Oslo &amp; co"));
        assert!(xml.contains("<cbc:PayableAmount currencyID=\"NOK\">4762.50</cbc:PayableAmount>"));
        assert!(xml.contains("<cbc:InvoicedQuantity unitCode=\"HUR\">2</cbc:InvoicedQuantity>"));
        assert!(xml.contains("<cbc:Percent>25.00</cbc:Percent>"));
        assert_eq!(xml.matches("<cac:InvoiceLine>").count(), 2);
        assert_eq!(amount(5), "0.05");
    }
}
