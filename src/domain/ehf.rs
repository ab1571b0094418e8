//! An EHF / PEPPOL BIS Billing 3.0 UBL invoice for one organisation's part of a bill, so an
//! organisation's accounting system can take it in. Pure formatting; amounts in øre. The
//! document passes the EN 16931 and PEPPOL schematron, Norwegian rules included
//! (`tests/integration/ehf.rs` runs them).

use super::payment;
use super::pricing::Unit;
use chrono::NaiveDate;

/// A postal address; in Norway (country code `NO`).
#[derive(Debug, Clone, Default)]
pub struct Address {
    /// Street or PO box.
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

impl Address {
    /// The address on one line, as a letter's header prints it ("Postboks 222 Skøyen, 0213 Oslo").
    pub fn one_line(&self) -> String {
        let place = format!("{} {}", self.postal_code, self.city);
        [self.street.trim(), place.trim()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
    }
}

/// A party of the invoice (seller or buyer).
#[derive(Debug, Clone)]
pub struct Party {
    /// Legal name.
    pub name: String,
    /// Norwegian organisation number (scheme 0192).
    pub organisation_number: String,
    /// Postal address (EN 16931 BG-5 and BG-8: at least the country).
    pub address: Address,
}

/// How the invoice is paid: by credit transfer to the seller's account with a KID.
#[derive(Debug, Clone)]
pub struct Payment {
    /// Eleven-digit Norwegian account number.
    pub account: String,
    /// The payment reference (KID).
    pub kid: String,
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
    /// Due date (EN 16931 BR-CO-25 asks for it or payment terms when an amount is due).
    pub due_date: NaiveDate,
    /// Payment instructions, when the seller has an account on record.
    pub payment: Option<Payment>,
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

fn party(role: &str, p: &Party, vat_registered: bool) -> String {
    let (name, number) = (esc(&p.name), esc(&p.organisation_number));
    let a = &p.address;
    let mut address = String::new();
    for (element, value) in [("StreetName", &a.street), ("CityName", &a.city), ("PostalZone", &a.postal_code)] {
        if !value.is_empty() {
            address.push_str(&format!("<cbc:{element}>{}</cbc:{element}>", esc(value)));
        }
    }
    // A seller charging VAT names its VAT number (BR-S-02), as the Norwegian rule NO-R-001
    // wants it: NO, the organisation number, MVA.
    let tax_scheme = if vat_registered {
        format!(
            "<cac:PartyTaxScheme><cbc:CompanyID>NO{number}MVA</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        )
    } else {
        String::new()
    };
    format!(
        "<cac:{role}><cac:Party><cbc:EndpointID schemeID=\"0192\">{number}</cbc:EndpointID><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName><cac:PostalAddress>{address}<cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country></cac:PostalAddress>{tax_scheme}<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName><cbc:CompanyID schemeID=\"0192\">{number}</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:{role}>"
    )
}

const VAT_SCHEME: &str = "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>";

/// Why a fee carries no VAT.
const OUTSIDE_VAT: &str = "Utenfor merverdiavgiftsloven: gebyr for offentlig myndighetsutøvelse";

/// The UBL 2.1 invoice document.
pub fn invoice_xml(doc: &EhfInvoice) -> String {
    // The fees of a public body exercising its authority lie outside the VAT act: category O
    // (not subject to VAT), whose breakdown gives the reason (BR-O-10) and whose lines carry
    // no rate and no reason (BR-O-05, UBL-CR-601). With VAT, the standard rate (S).
    let vat_registered = doc.vat_rate_bp != 0;
    let (line_category, breakdown_category) = if vat_registered {
        let percent = format!("{}.{:02}", doc.vat_rate_bp / 100, doc.vat_rate_bp % 100);
        let s = format!("<cbc:ID>S</cbc:ID><cbc:Percent>{percent}</cbc:Percent>{VAT_SCHEME}");
        (s.clone(), s)
    } else {
        (
            format!("<cbc:ID>O</cbc:ID>{VAT_SCHEME}"),
            format!(
                "<cbc:ID>O</cbc:ID><cbc:TaxExemptionReasonCode>VATEX-EU-O</cbc:TaxExemptionReasonCode><cbc:TaxExemptionReason>{OUTSIDE_VAT}</cbc:TaxExemptionReason>{VAT_SCHEME}"
            ),
        )
    };
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\n");
    xml.push_str("<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>\n");
    xml.push_str("<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>\n");
    xml.push_str(&format!("<cbc:ID>{}</cbc:ID>\n", esc(&doc.number)));
    xml.push_str(&format!("<cbc:IssueDate>{}</cbc:IssueDate>\n", doc.issue_date.format("%Y-%m-%d")));
    xml.push_str(&format!("<cbc:DueDate>{}</cbc:DueDate>\n", doc.due_date.format("%Y-%m-%d")));
    xml.push_str(
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>\n<cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>\n",
    );
    let reference = if doc.buyer_reference.is_empty() { &doc.number } else { &doc.buyer_reference };
    xml.push_str(&format!("<cbc:BuyerReference>{}</cbc:BuyerReference>\n", esc(reference)));
    xml.push_str(&party("AccountingSupplierParty", &doc.seller, vat_registered));
    xml.push('\n');
    xml.push_str(&party("AccountingCustomerParty", &doc.buyer, false));
    xml.push('\n');
    if let Some(p) = &doc.payment {
        // 30: credit transfer, with the KID as the payment id and the seller's account.
        xml.push_str(&format!(
            "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentID>{}</cbc:PaymentID><cac:PayeeFinancialAccount><cbc:ID>{}</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>\n",
            esc(&p.kid),
            esc(&p.account),
        ));
    }
    xml.push_str(&format!(
        "<cac:PaymentTerms><cbc:Note>{} dager netto</cbc:Note></cac:PaymentTerms>\n",
        payment::PAYMENT_DAYS
    ));
    xml.push_str(&format!(
        "<cac:TaxTotal><cbc:TaxAmount currencyID=\"NOK\">{vat}</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"NOK\">{net}</cbc:TaxableAmount><cbc:TaxAmount currencyID=\"NOK\">{vat}</cbc:TaxAmount><cac:TaxCategory>{breakdown_category}</cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>\n",
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
            "<cac:InvoiceLine><cbc:ID>{}</cbc:ID><cbc:InvoicedQuantity unitCode=\"{}\">{}</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID=\"NOK\">{}</cbc:LineExtensionAmount><cac:Item><cbc:Name>{}</cbc:Name><cac:ClassifiedTaxCategory>{line_category}</cac:ClassifiedTaxCategory></cac:Item><cac:Price><cbc:PriceAmount currencyID=\"NOK\">{}</cbc:PriceAmount></cac:Price></cac:InvoiceLine>\n",
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
            due_date: NaiveDate::from_ymd_opt(2026, 12, 23).unwrap(),
            payment: Some(Payment { account: "76940512057".into(), kid: "0000000422".into() }),
            buyer_reference: "PRJ <42>".into(),
            seller: Party {
                name: "Helsedataservice".into(),
                organisation_number: "915933149".into(),
                address: Address {
                    street: "Postboks 220 Skøyen".into(),
                    postal_code: "0213".into(),
                    city: "Oslo".into(),
                },
            },
            buyer: Party {
                name: "Universitetet i Oslo & co".into(),
                organisation_number: "971035854".into(),
                address: Address::default(),
            },
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
        assert!(xml.contains("<cbc:CompanyID>NO915933149MVA</cbc:CompanyID>"), "the seller's VAT number");
        assert!(xml.contains("<cbc:DueDate>2026-12-23</cbc:DueDate>"));
        assert!(xml.contains("<cbc:PaymentID>0000000422</cbc:PaymentID>"));
        assert!(xml.contains("<cbc:PostalZone>0213</cbc:PostalZone>"));
        assert_eq!(xml.matches("<cac:InvoiceLine>").count(), 2);
        assert_eq!(amount(5), "0.05");
    }
}
