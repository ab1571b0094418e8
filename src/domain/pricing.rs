//! User payment (brukerbetaling, SPEC §8): price lists, estimates and invoice lines, in
//! integer øre (never floating point).
//!
//! Rounding rules, in the order they apply:
//! 1. Work is recorded in whole minutes. An organisation's minutes on one application are
//!    summed per price item first; then a started hour counts as a whole hour:
//!    `hours = ceil(minutes / 60)` (61 minutes are 2 hours, 60 minutes are 1).
//! 2. The item's minimum quantity then applies: `quantity = max(hours, minimum_quantity)`, but
//!    only when some work was recorded (no work, no line).
//! 3. A line's amount is `quantity × unit price`, exact in øre.
//! 4. VAT is computed once per invoice part on its net total: `net × rate / 100`, rounded half
//!    up to the nearest øre; the rate is kept in basis points (25 % = 2 500).
//! 5. The intake fee uses the price list version in force on the day of first submission; hourly
//!    work and deliveries use the version in force on the day the invoice is made.

super::catalogue::code_enum! {
    /// The states of a price list version: a draft is edited; a published version is frozen.
    PriceListState {
        Draft => "draft",
        Published => "published",
    }
}

super::catalogue::code_enum! {
    /// The states of an invoice part: drafted, issued to the payer, paid, or waived.
    InvoiceStatus {
        Draft => "draft",
        Issued => "issued",
        Paid => "paid",
        Waived => "waived",
    }
}

/// What may be done to an invoice part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    /// draft → issued.
    Issue,
    /// issued → paid.
    Pay,
    /// draft or issued → waived, with a reason (officers and admins only).
    Waive,
}

impl InvoiceAction {
    /// Parses the action's name in the URL.
    pub fn from_code(code: &str) -> Option<InvoiceAction> {
        match code {
            "issue" => Some(InvoiceAction::Issue),
            "pay" => Some(InvoiceAction::Pay),
            "waive" => Some(InvoiceAction::Waive),
            _ => None,
        }
    }

    /// Why the action is refused when [`InvoiceAction::apply`] finds it impossible (a message key).
    pub fn refusal(self) -> &'static str {
        match self {
            InvoiceAction::Issue => "err-invoice-issue-draft-only",
            InvoiceAction::Pay => "err-invoice-pay-issued-only",
            InvoiceAction::Waive => "err-invoice-waive-open-only",
        }
    }

    /// The status the action leads to from `from`, and the event to record; `None` when the
    /// action is not possible from that status.
    pub fn apply(self, from: InvoiceStatus) -> Option<(InvoiceStatus, &'static str)> {
        use InvoiceStatus::*;
        match (self, from) {
            (InvoiceAction::Issue, Draft) => Some((Issued, "invoice.issued")),
            (InvoiceAction::Pay, Issued) => Some((Paid, "invoice.paid")),
            (InvoiceAction::Waive, Draft | Issued) => Some((Waived, "invoice.waived")),
            _ => None,
        }
    }
}

/// The combined status of a bill's parts: draft while any part is, then issued while any part
/// is, waived when all are, else paid.
pub fn combined_status(parts: &[InvoiceStatus]) -> InvoiceStatus {
    if parts.contains(&InvoiceStatus::Draft) {
        InvoiceStatus::Draft
    } else if parts.contains(&InvoiceStatus::Issued) {
        InvoiceStatus::Issued
    } else if parts.iter().all(|p| *p == InvoiceStatus::Waived) {
        InvoiceStatus::Waived
    } else {
        InvoiceStatus::Paid
    }
}

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The unit an item is priced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A fixed price for an application to one data source.
    PerApplicationOneSource,
    /// A fixed price for an application to several data sources.
    PerApplicationSeveralSources,
    /// A price per started hour of work.
    PerStartedHour,
    /// A price per delivery (release delivered).
    PerDelivery,
}

impl Unit {
    /// Every unit, in display order.
    pub const ALL: [Unit; 4] =
        [Unit::PerApplicationOneSource, Unit::PerApplicationSeveralSources, Unit::PerStartedHour, Unit::PerDelivery];

    /// The stable code stored and shown in the API.
    pub fn code(self) -> &'static str {
        match self {
            Unit::PerApplicationOneSource => "per_application_one_source",
            Unit::PerApplicationSeveralSources => "per_application_several_sources",
            Unit::PerStartedHour => "per_started_hour",
            Unit::PerDelivery => "per_delivery",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.code() == code)
    }
}

/// The kinds of application that may be exempt from a price item (SPEC §8).
pub const EXEMPT_KINDS: [&str; 3] = ["student_thesis", "data_update", "appeal"];

/// One priced item of a price list version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceItem {
    /// Short stable code, e.g. `intake-one`.
    pub code: String,
    /// Description in bokmål.
    pub description_nb: String,
    /// Description in English.
    pub description_en: String,
    /// What the amount is per.
    pub unit: Unit,
    /// Price per unit in øre.
    pub amount_ore: i64,
    /// Least quantity charged once the item applies (e.g. a 10-hour minimum).
    pub minimum_quantity: i64,
    /// Application kinds charged nothing for this item.
    pub exempt_kinds: Vec<String>,
    /// Applies only to work on this data source (e.g. Kreftregisteret's extracts).
    pub data_source_code: Option<String>,
    /// Charged only when Helsedataservice holds decision authority for a requested source.
    pub requires_hds_authority: bool,
}

/// A published price list version of one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceList {
    /// The version's id.
    pub id: i64,
    /// The organisation it belongs to.
    pub organisation_id: i64,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Its items.
    pub items: Vec<PriceItem>,
}

/// The version of `organisation_id` in force on `day`: the latest `valid_from` not after it
/// (on the same day, the later version wins).
pub fn in_force(versions: &[PriceList], organisation_id: i64, day: NaiveDate) -> Option<&PriceList> {
    versions
        .iter()
        .filter(|v| v.organisation_id == organisation_id && v.valid_from <= day)
        .max_by_key(|v| (v.valid_from, v.id))
}

/// A requested data source as pricing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFact {
    /// The source's code (`NPR`, `KRG`, …).
    pub code: String,
    /// Its owning organisation.
    pub owner_id: i64,
    /// Whether Helsedataservice holds decision authority for it.
    pub hds_authority: bool,
}

/// What pricing needs to know about an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// The requested sources.
    pub sources: Vec<SourceFact>,
    /// Why the application is free of charge, if it is (`student_thesis`, `data_update`).
    pub exemption: Option<String>,
}

/// One line of an estimate or invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The organisation charging.
    pub organisation_id: i64,
    /// The price list version used (none for a free-text line).
    pub price_list_id: Option<i64>,
    /// The item's code.
    pub item_code: String,
    /// Description in bokmål.
    pub description_nb: String,
    /// Description in English.
    pub description_en: String,
    /// The unit's code.
    pub unit: String,
    /// Units charged (hours after rounding and minimums).
    pub quantity: i64,
    /// Price per unit in øre.
    pub unit_ore: i64,
    /// `quantity × unit_ore`, or 0 when exempt.
    pub amount_ore: i64,
    /// Why it is free, when it is.
    pub exempt: Option<String>,
}

impl Line {
    fn of(list: &PriceList, item: &PriceItem, quantity: i64, exempt: Option<&str>) -> Line {
        let exempt = exempt.filter(|e| item.exempt_kinds.iter().any(|k| k == e)).map(str::to_string);
        Line {
            organisation_id: list.organisation_id,
            price_list_id: Some(list.id),
            item_code: item.code.clone(),
            description_nb: item.description_nb.clone(),
            description_en: item.description_en.clone(),
            unit: item.unit.code().to_string(),
            quantity,
            unit_ore: item.amount_ore,
            amount_ore: if exempt.is_some() { 0 } else { quantity * item.amount_ore },
            exempt,
        }
    }
}

/// Whole hours charged for `minutes` of work: a started hour counts as a whole.
pub fn started_hours(minutes: i64) -> i64 {
    if minutes <= 0 { 0 } else { (minutes + 59) / 60 }
}

/// The intake fee line from Helsedataservice's version in force at submission (none when the
/// application requests no source or the list has no matching item).
pub fn intake_line(list: &PriceList, facts: &CaseFacts) -> Option<Line> {
    let unit = match facts.sources.len() {
        0 => return None,
        1 => Unit::PerApplicationOneSource,
        _ => Unit::PerApplicationSeveralSources,
    };
    let item = list.items.iter().find(|i| i.unit == unit)?;
    Some(Line::of(list, item, 1, facts.exemption.as_deref()))
}

/// The hourly item of `list` that applies to the application: one for a requested source of
/// this organisation if there is one, else the general item; none when it needs
/// Helsedataservice's decision authority and no requested source has it.
pub fn hourly_item<'a>(list: &'a PriceList, facts: &CaseFacts) -> Option<&'a PriceItem> {
    let hourly = || list.items.iter().filter(|i| i.unit == Unit::PerStartedHour);
    let own_codes: Vec<&str> =
        facts.sources.iter().filter(|s| s.owner_id == list.organisation_id).map(|s| s.code.as_str()).collect();
    let item = hourly()
        .find(|i| i.data_source_code.as_deref().is_some_and(|c| own_codes.contains(&c)))
        .or_else(|| hourly().find(|i| i.data_source_code.is_none()))?;
    if item.requires_hds_authority && !facts.sources.iter().any(|s| s.hds_authority) {
        return None;
    }
    Some(item)
}

/// Lines for an organisation's recorded work: `charged_minutes` at the hourly item (started
/// hours, then the minimum), and `appeal_minutes` (work during an appeal) free of charge.
pub fn work_lines(list: &PriceList, facts: &CaseFacts, charged_minutes: i64, appeal_minutes: i64) -> Vec<Line> {
    let Some(item) = hourly_item(list, facts) else { return vec![] };
    let mut lines = vec![];
    if charged_minutes > 0 {
        let hours = started_hours(charged_minutes).max(item.minimum_quantity);
        lines.push(Line::of(list, item, hours, facts.exemption.as_deref()));
    }
    if appeal_minutes > 0 {
        let mut line = Line::of(list, item, started_hours(appeal_minutes), None);
        line.amount_ore = 0;
        line.exempt = Some("appeal".into());
        lines.push(line);
    }
    lines
}

/// Lines for `deliveries` delivered releases of the organisation, if its list prices them.
pub fn delivery_lines(list: &PriceList, facts: &CaseFacts, deliveries: i64) -> Vec<Line> {
    if deliveries <= 0 {
        return vec![];
    }
    list.items
        .iter()
        .filter(|i| i.unit == Unit::PerDelivery)
        .map(|i| Line::of(list, i, deliveries.max(i.minimum_quantity), facts.exemption.as_deref()))
        .collect()
}

/// The hourly rate an organisation would charge this application, for the estimate's notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// The organisation.
    pub organisation_id: i64,
    /// Price per started hour in øre.
    pub unit_ore: i64,
    /// Minimum hours.
    pub minimum_hours: i64,
    /// Description in bokmål.
    pub description_nb: String,
    /// Description in English.
    pub description_en: String,
    /// Whether the application is exempt from it.
    pub exempt: bool,
}

/// The price estimate: the lines that are known, their total, and the hourly rates that come on
/// top for work not yet estimated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Known amounts (intake; hours that organisations estimated).
    pub lines: Vec<Line>,
    /// Sum of the lines.
    pub total_ore: i64,
    /// Why the application is free, if it is.
    pub exemption: Option<String>,
    /// Hourly rates of the organisations involved, charged by recorded work.
    pub rates: Vec<Rate>,
}

/// Computes the estimate from the versions in force on `day` and the minutes each organisation
/// estimates (`(organisation_id, minutes)`; an organisation's latest estimate only).
pub fn estimate(
    versions: &[PriceList],
    hds_organisation_id: i64,
    facts: &CaseFacts,
    estimated_minutes: &[(i64, i64)],
    day: NaiveDate,
) -> Estimate {
    let mut lines = vec![];
    if let Some(line) = in_force(versions, hds_organisation_id, day).and_then(|l| intake_line(l, facts)) {
        lines.push(line);
    }
    let mut organisations = vec![hds_organisation_id];
    for s in &facts.sources {
        if !organisations.contains(&s.owner_id) {
            organisations.push(s.owner_id);
        }
    }
    let mut rates = vec![];
    for org in organisations {
        let Some(list) = in_force(versions, org, day) else { continue };
        if let Some(item) = hourly_item(list, facts) {
            rates.push(Rate {
                organisation_id: org,
                unit_ore: item.amount_ore,
                minimum_hours: item.minimum_quantity,
                description_nb: item.description_nb.clone(),
                description_en: item.description_en.clone(),
                exempt: facts.exemption.as_ref().is_some_and(|e| item.exempt_kinds.contains(e)),
            });
        }
        let minutes: i64 = estimated_minutes.iter().filter(|(o, _)| *o == org).map(|(_, m)| m).sum();
        lines.extend(work_lines(list, facts, minutes, 0));
    }
    let total_ore = lines.iter().map(|l| l.amount_ore).sum();
    Estimate { lines, total_ore, exemption: facts.exemption.clone(), rates }
}

/// VAT on a net amount at `rate_bp` basis points, rounded half up to the øre.
pub fn vat_ore(net_ore: i64, rate_bp: u32) -> i64 {
    (net_ore * i64::from(rate_bp) + 5_000).div_euclid(10_000)
}

/// Totals of an invoice part: (net, VAT, total).
pub fn totals(lines: &[Line], rate_bp: u32) -> (i64, i64, i64) {
    let net: i64 = lines.iter().map(|l| l.amount_ore).sum();
    let vat = vat_ore(net, rate_bp);
    (net, vat, net + vat)
}

/// Parses a decimal with at most `decimals` fraction digits ("12", "12.5", "12,50") into an
/// integer scaled by `10^decimals`, without floating point.
fn parse_scaled(text: &str, decimals: u32) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > decimals as usize || whole.len() > 12 {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut frac_value: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    for _ in frac.len()..decimals as usize {
        frac_value *= 10;
    }
    whole.checked_mul(10_i64.pow(decimals))?.checked_add(frac_value)
}

/// Parses a duration as minutes: "1:30" (hours:minutes), "1.5" or "1,5" hours (at most two
/// decimals; fractions of a minute round up), or "90m".
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(m) = text.strip_suffix('m') {
        return m.trim().parse::<i64>().ok().filter(|m| *m >= 0);
    }
    if let Some((h, m)) = text.split_once(':') {
        let h: i64 = h.trim().parse().ok()?;
        let m: i64 = m.trim().parse().ok()?;
        if h < 0 || !(0..60).contains(&m) {
            return None;
        }
        // Checked: `then_some(h * 60 + m)` overflowed on huge hours (found by cargo fuzz).
        return h.checked_mul(60)?.checked_add(m);
    }
    let hundredths = parse_scaled(text, 2)?;
    Some((hundredths * 60 + 99) / 100)
}

/// Parses an amount in kroner ("1500", "1 500,50") into øre.
pub fn parse_nok(text: &str) -> Option<i64> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    parse_scaled(&compact, 2)
}

/// Parses a VAT rate in percent ("25", "12.5") into basis points (0–100 %).
pub fn parse_vat_rate(text: &str) -> Option<u32> {
    parse_scaled(text, 2).filter(|bp| (0..=10_000).contains(bp)).map(|bp| bp as u32)
}

/// Formats øre as Norwegian kroner, e.g. "1 500,00".
pub fn format_nok(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let ore = ore.unsigned_abs();
    let kroner = (ore / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in kroner.chars().enumerate() {
        if i > 0 && (kroner.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}", ore % 100)
}

#[cfg(test)]
mod tests;
