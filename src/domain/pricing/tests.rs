use super::*;

const HDS: i64 = 1;
const FHI: i64 = 2;
const HDIR: i64 = 3;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn item(code: &str, unit: Unit, nok: i64, minimum: i64, exempt: &[&str]) -> PriceItem {
    PriceItem {
        code: code.into(),
        description_nb: format!("{code} nb"),
        description_en: format!("{code} en"),
        unit,
        amount_ore: nok * 100,
        minimum_quantity: minimum,
        exempt_kinds: exempt.iter().map(|s| s.to_string()).collect(),
        data_source_code: None,
        requires_hds_authority: false,
    }
}

/// The helsedata.no lists of SPEC §8, plus an intake price rise on 2027-01-01 for the tests.
fn versions() -> Vec<PriceList> {
    let all = ["student_thesis", "data_update", "appeal"];
    let intake = |one: i64, several: i64| {
        vec![
            item("intake-one", Unit::PerApplicationOneSource, one, 0, &all),
            item("intake-several", Unit::PerApplicationSeveralSources, several, 0, &all),
        ]
    };
    let mut handling = item("case-handling", Unit::PerStartedHour, 1155, 0, &all);
    handling.requires_hds_authority = true;
    let mut krg = item("krg-extract", Unit::PerStartedHour, 820, 10, &["student_thesis"]);
    krg.data_source_code = Some("KRG".into());
    vec![
        PriceList { id: 1, organisation_id: HDS, valid_from: day("2023-01-01"), items: intake(1500, 3000) },
        PriceList {
            id: 2,
            organisation_id: HDS,
            valid_from: day("2023-03-15"),
            items: [intake(1500, 3000), vec![handling.clone()]].concat(),
        },
        PriceList {
            id: 3,
            organisation_id: FHI,
            valid_from: day("2023-01-01"),
            items: vec![item("fhi-hour", Unit::PerStartedHour, 1055, 0, &["student_thesis"]), krg],
        },
        PriceList {
            id: 4,
            organisation_id: HDS,
            valid_from: day("2027-01-01"),
            items: [intake(1800, 3600), vec![handling]].concat(),
        },
        PriceList {
            id: 5,
            organisation_id: HDIR,
            valid_from: day("2023-01-01"),
            items: vec![item("hdir-delivery", Unit::PerDelivery, 500, 0, &[])],
        },
    ]
}

fn source(code: &str, owner: i64, hds: bool) -> SourceFact {
    SourceFact { code: code.into(), owner_id: owner, hds_authority: hds }
}

fn facts(sources: Vec<SourceFact>, exemption: Option<&str>) -> CaseFacts {
    CaseFacts { sources, exemption: exemption.map(str::to_string) }
}

#[test]
fn the_version_in_force_is_the_latest_started_one() {
    let v = versions();
    assert_eq!(in_force(&v, HDS, day("2022-12-31")), None);
    assert_eq!(in_force(&v, HDS, day("2023-01-01")).unwrap().id, 1);
    assert_eq!(in_force(&v, HDS, day("2023-03-14")).unwrap().id, 1);
    assert_eq!(in_force(&v, HDS, day("2023-03-15")).unwrap().id, 2);
    assert_eq!(in_force(&v, HDS, day("2027-06-01")).unwrap().id, 4);
    assert_eq!(in_force(&v, FHI, day("2030-01-01")).unwrap().id, 3);
}

#[test]
fn estimates_on_a_table_of_cases() {
    let v = versions();
    let npr = || source("NPR", HDIR, true);
    let krg = || source("KRG", FHI, false);
    let dar = || source("DAR", FHI, true);
    // (name, facts, estimated minutes per organisation, day, expected total in øre)
    type Case = (&'static str, CaseFacts, Vec<(i64, i64)>, &'static str, i64);
    let cases: Vec<Case> = vec![
        ("one source", facts(vec![npr()], None), vec![], "2026-11-23", 150_000),
        ("several sources", facts(vec![npr(), krg()], None), vec![], "2026-11-23", 300_000),
        ("no source yet", facts(vec![], None), vec![], "2026-11-23", 0),
        ("student thesis, aggregated", facts(vec![npr()], Some("student_thesis")), vec![], "2026-11-23", 0),
        ("update of data", facts(vec![npr(), krg()], Some("data_update")), vec![], "2026-11-23", 0),
        ("before any list", facts(vec![npr()], None), vec![], "2022-06-01", 0),
        ("after the 2027 rise", facts(vec![npr()], None), vec![], "2027-02-01", 180_000),
        // 3 h 1 min of case handling = 4 started hours at 1 155.
        ("started hours", facts(vec![npr()], None), vec![(HDS, 181)], "2026-11-23", 150_000 + 4 * 115_500),
        // Case handling is charged only where Helsedataservice decides (KRG: the owner decides).
        ("no hds authority", facts(vec![krg()], None), vec![(HDS, 120)], "2026-11-23", 150_000),
        // Kreftregisteret's extracts: 820/h with a 10-hour minimum, even for 2 hours.
        ("minimum quantity", facts(vec![krg()], None), vec![(FHI, 120)], "2026-11-23", 150_000 + 10 * 82_000),
        // Other FHI sources: the general rate, no minimum.
        ("general rate", facts(vec![dar()], None), vec![(FHI, 90)], "2026-11-23", 150_000 + 2 * 105_500),
        // A student is exempt from FHI's general rate too.
        ("exempt hours", facts(vec![dar()], Some("student_thesis")), vec![(FHI, 600)], "2026-11-23", 0),
        // A data update is exempt from intake but not from FHI's hours.
        ("exempt intake only", facts(vec![dar()], Some("data_update")), vec![(FHI, 60)], "2026-11-23", 105_500),
    ];
    for (name, f, minutes, on, expected) in cases {
        let e = estimate(&v, HDS, &f, &minutes, day(on));
        assert_eq!(e.total_ore, expected, "{name}: {e:#?}");
        assert_eq!(e.total_ore, e.lines.iter().map(|l| l.amount_ore).sum::<i64>(), "{name}");
    }
}

#[test]
fn exemptions_are_named_on_the_lines() {
    let v = versions();
    let e = estimate(&v, HDS, &facts(vec![source("NPR", HDIR, true)], Some("student_thesis")), &[], day("2026-01-01"));
    assert_eq!(e.lines.len(), 1);
    assert_eq!(e.lines[0].exempt.as_deref(), Some("student_thesis"));
    assert_eq!(e.lines[0].unit_ore, 150_000, "the price is shown, the amount is nil");
    assert!(e.rates.iter().all(|r| r.exempt));
}

#[test]
fn the_intake_fee_follows_the_version_in_force_at_submission() {
    let v = versions();
    let f = facts(vec![source("NPR", HDIR, true)], None);
    // Submitted in December 2026, decided after the price rise of 2027-01-01.
    let submitted = in_force(&v, HDS, day("2026-12-20")).unwrap();
    let decided = in_force(&v, HDS, day("2027-01-10")).unwrap();
    assert_eq!(intake_line(submitted, &f).unwrap().amount_ore, 150_000);
    assert_eq!(intake_line(decided, &f).unwrap().amount_ore, 180_000);
    assert_ne!(submitted.id, decided.id);
}

#[test]
fn work_during_an_appeal_is_free_and_minimums_need_work() {
    let v = versions();
    let f = facts(vec![source("NPR", HDIR, true)], None);
    let list = in_force(&v, HDS, day("2026-01-01")).unwrap();
    let lines = work_lines(list, &f, 60, 30);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].amount_ore, 115_500);
    assert_eq!((lines[1].quantity, lines[1].amount_ore, lines[1].exempt.as_deref()), (1, 0, Some("appeal")));
    let fhi = in_force(&v, FHI, day("2026-01-01")).unwrap();
    let krg = facts(vec![source("KRG", FHI, false)], None);
    assert!(work_lines(fhi, &krg, 0, 0).is_empty(), "no work, no minimum");
    assert_eq!(work_lines(fhi, &krg, 11 * 60 + 1, 0)[0].quantity, 12, "above the minimum, started hours count");
}

#[test]
fn deliveries_are_counted() {
    let v = versions();
    let list = in_force(&v, HDIR, day("2026-01-01")).unwrap();
    let lines = delivery_lines(list, &facts(vec![source("NPR", HDIR, true)], None), 2);
    assert_eq!(lines[0].amount_ore, 100_000);
    assert!(delivery_lines(list, &facts(vec![], None), 0).is_empty());
}

#[test]
fn started_hours_round_up() {
    for (minutes, hours) in [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (120, 2), (121, 3)] {
        assert_eq!(started_hours(minutes), hours, "{minutes} minutes");
    }
}

#[test]
fn vat_is_rounded_half_up_per_part() {
    assert_eq!(vat_ore(150_000, 0), 0);
    assert_eq!(vat_ore(150_000, 2_500), 37_500);
    assert_eq!(vat_ore(2, 2_500), 1, "0.5 øre rounds up");
    assert_eq!(vat_ore(1, 2_500), 0, "0.25 øre rounds down");
    let lines =
        estimate(&versions(), HDS, &facts(vec![source("NPR", HDIR, true)], None), &[(HDS, 60)], day("2026-01-01"))
            .lines;
    assert_eq!(totals(&lines, 2_500), (265_500, 66_375, 331_875));
}

#[test]
fn durations_amounts_and_rates_parse_without_floats() {
    assert_eq!(parse_duration("1:30"), Some(90));
    assert_eq!(parse_duration("1.5"), Some(90));
    assert_eq!(parse_duration("1,25"), Some(75));
    assert_eq!(parse_duration("2"), Some(120));
    assert_eq!(parse_duration("0.01"), Some(1), "part of a minute counts as a minute");
    assert_eq!(parse_duration("45m"), Some(45));
    assert_eq!(parse_duration("1:75"), None);
    assert_eq!(parse_duration("-1"), None);
    assert_eq!(parse_duration("1.234"), None);
    assert_eq!(parse_duration("abc"), None);
    assert_eq!(parse_nok("1 500"), Some(150_000));
    assert_eq!(parse_nok("1155,50"), Some(115_550));
    assert_eq!(parse_nok("12.345"), None);
    assert_eq!(parse_vat_rate("25"), Some(2_500));
    assert_eq!(parse_vat_rate("12.5"), Some(1_250));
    assert_eq!(parse_vat_rate("101"), None);
}

#[test]
fn units_round_trip_and_nok_formats() {
    for u in Unit::ALL {
        assert_eq!(Unit::from_code(u.code()), Some(u));
    }
    assert_eq!(format_nok(150_000), "1\u{a0}500,00");
    assert_eq!(format_nok(123_456_789), "1\u{a0}234\u{a0}567,89");
    assert_eq!(format_nok(5), "0,05");
}

/// cargo fuzz (`domain_parsers`): hours that overflow once turned into minutes panicked.
#[test]
fn durations_with_huge_or_negative_hours_are_refused_not_a_panic() {
    assert_eq!(parse_duration("-7777777777777777777:7"), None);
    assert_eq!(parse_duration("9223372036854775807:00"), None);
    assert_eq!(parse_duration("153722867280912930:59"), None);
    assert_eq!(parse_duration("153722867280912929:59"), Some(153_722_867_280_912_929 * 60 + 59));
    assert_eq!(parse_duration("-1:30"), None);
}

#[test]
fn invoice_parts_move_draft_issued_paid_or_waived() {
    use InvoiceStatus::*;
    let table = [
        (InvoiceAction::Issue, Draft, Some(Issued)),
        (InvoiceAction::Issue, Issued, None),
        (InvoiceAction::Pay, Issued, Some(Paid)),
        (InvoiceAction::Pay, Draft, None),
        (InvoiceAction::Waive, Draft, Some(Waived)),
        (InvoiceAction::Waive, Issued, Some(Waived)),
        (InvoiceAction::Waive, Paid, None),
        (InvoiceAction::Pay, Waived, None),
    ];
    for (action, from, to) in table {
        assert_eq!(action.apply(from).map(|(s, _)| s), to, "{action:?} from {from:?}");
    }
    assert_eq!(combined_status(&[Paid, Draft]), Draft);
    assert_eq!(combined_status(&[Paid, Issued]), Issued);
    assert_eq!(combined_status(&[Waived, Waived]), Waived);
    assert_eq!(combined_status(&[Waived, Paid]), Paid);
}
