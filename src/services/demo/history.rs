//! A year of fictitious case history for the demo (issue 20): a few dozen applications from
//! several researchers, each driven through the service's own commands at dates spread over the
//! last twelve months, so that every state is present and statistics, dashboards and the
//! approved-projects register show real figures. Every step is the real write path (events,
//! notices, letters, invoices), dated in the past; a case whose next step would lie in the future
//! stays where it is, which is how the recent ones end up in progress.

use super::super::accounts::{NewAccount, create_account};
use super::super::{Actor, applications as apps, cases};
use crate::config::Config;
use crate::db::{self, Pool, users::User};
use crate::domain::case::Command;
use crate::domain::form::{ApplicationForm, InvoiceRecipient, LegalBasis, OrganisationRef, Person, SourceRequest};
use crate::error::{AppError, AppResult};
use crate::storage::Storage;
use crate::templating::Documents;
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;

/// What becomes of a demo case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Draft,
    Withdrawn,
    Returned,
    Rejected,
    Partial,
    Approved,
    Delivered,
    Appealed,
    Closed,
}

/// One demo case: its project, sources and fate.
struct Plan {
    title: &'static str,
    summary: &'static str,
    sources: &'static [&'static str],
    fate: Fate,
}

const PLANS: &[Plan] = &[
    Plan {
        title: "Hjertesvikt etter covid-19",
        summary: "Forekomst av hjertesvikt i to år etter covid-19.",
        sources: &["NPR", "MSIS"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Legemidler ved hjertesvikt",
        summary: "Bruk av legemidler i primær- og spesialisthelsetjenesten.",
        sources: &["LMR", "KPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Svangerskapsdiabetes og fødselsutfall",
        summary: "Fødselsutfall etter svangerskapsdiabetes.",
        sources: &["MFR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Brystkreft og arbeidsdeltakelse",
        summary: "Tilbake i arbeid etter behandling for brystkreft.",
        sources: &["KRG", "NPR"],
        fate: Fate::Partial,
    },
    Plan {
        title: "Vaksinasjonsdekning blant innvandrere",
        summary: "Dekning av barnevaksinasjonsprogrammet.",
        sources: &["SYSVAK"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Dødsårsaker etter hoftebrudd",
        summary: "Dødelighet første år etter hoftebrudd.",
        sources: &["DAR", "NPR"],
        fate: Fate::Closed,
    },
    Plan {
        title: "Antibiotikabruk hos barn",
        summary: "Forskrivning av antibiotika til barn under seks år.",
        sources: &["LMR"],
        fate: Fate::Rejected,
    },
    Plan {
        title: "Hjerteinfarkt og utdanning",
        summary: "Sosial ulikhet i behandling av hjerteinfarkt.",
        sources: &["HKR", "NPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Smittevern i sykehjem",
        summary: "Utbrudd av luftveisinfeksjoner i sykehjem.",
        sources: &["MSIS", "IPLOS"],
        fate: Fate::Approved,
    },
    Plan {
        title: "Mors alder og for tidlig fødsel",
        summary: "Sammenheng mellom mors alder og prematuritet.",
        sources: &["MFR", "MOBA"],
        fate: Fate::Appealed,
    },
    Plan {
        title: "Kommunale helse- og omsorgstjenester for eldre",
        summary: "Bruk av tjenester siste leveår.",
        sources: &["IPLOS", "KPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Diabetes type 2 i allmennpraksis",
        summary: "Oppfølging av diabetes type 2 hos fastlegen.",
        sources: &["KPR"],
        fate: Fate::Returned,
    },
    Plan {
        title: "Kreft hos unge voksne",
        summary: "Insidens og overlevelse for kreft hos 18–39-åringer.",
        sources: &["KRG"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Influensavaksine og sykehusinnleggelser",
        summary: "Effekt av influensavaksine hos eldre.",
        sources: &["SYSVAK", "NPR"],
        fate: Fate::Withdrawn,
    },
    Plan {
        title: "Psykisk helse etter pandemien",
        summary: "Kontakter med psykisk helsevern 2018–2024.",
        sources: &["NPR", "KPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Dødelighet ved hjerneslag",
        summary: "Trettidagersdødelighet etter hjerneslag.",
        sources: &["DAR", "HKR"],
        fate: Fate::Approved,
    },
    Plan {
        title: "Keisersnitt og barnets helse",
        summary: "Helse i første leveår etter keisersnitt.",
        sources: &["MFR", "NPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Opioider etter kirurgi",
        summary: "Langvarig opioidbruk etter ortopedisk kirurgi.",
        sources: &["LMR", "NPR"],
        fate: Fate::Rejected,
    },
    Plan {
        title: "Barn med astma",
        summary: "Astmamedisin og legebesøk hos barn.",
        sources: &["LMR", "KPR"],
        fate: Fate::Draft,
    },
    Plan {
        title: "Prostatakreft og behandlingsvalg",
        summary: "Behandlingsvalg ved lokalisert prostatakreft.",
        sources: &["KRG"],
        fate: Fate::Draft,
    },
    Plan {
        title: "Tuberkulose i Norge",
        summary: "Diagnostikk og behandling av tuberkulose.",
        sources: &["MSIS"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Fastlegeordningen og akuttinnleggelser",
        summary: "Kontinuitet hos fastlegen og innleggelser.",
        sources: &["KPR", "NPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Hjerterehabilitering",
        summary: "Deltakelse i rehabilitering etter hjerteinfarkt.",
        sources: &["HKR"],
        fate: Fate::Approved,
    },
    Plan {
        title: "Medfødte misdannelser og legemidler",
        summary: "Legemidler i svangerskapet og misdannelser.",
        sources: &["MFR", "LMR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Lungekreft og røyking",
        summary: "Stadium ved diagnose etter røykevaner.",
        sources: &["KRG", "DAR"],
        fate: Fate::Partial,
    },
    Plan {
        title: "Demens og sykehjem",
        summary: "Tid fra demensdiagnose til sykehjemsplass.",
        sources: &["IPLOS", "NPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Sesonginfluensa 2025",
        summary: "Overvåking av sesonginfluensaen.",
        sources: &["MSIS"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Depresjon og uførhet",
        summary: "Behandlingsforløp ved depresjon.",
        sources: &["KPR", "NPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "HPV-vaksine og celleforandringer",
        summary: "Effekt av HPV-vaksinasjon.",
        sources: &["SYSVAK", "KRG"],
        fate: Fate::Approved,
    },
    Plan {
        title: "Akutt nyresvikt på sykehus",
        summary: "Forekomst og utfall av akutt nyresvikt.",
        sources: &["NPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Kols og legemidler",
        summary: "Behandling av kols i allmennpraksis.",
        sources: &["LMR", "KPR"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Fødselsvekt og skoleresultater",
        summary: "Helse ved fødsel og senere helse.",
        sources: &["MFR"],
        fate: Fate::Approved,
    },
    Plan {
        title: "Selvmord etter utskriving",
        summary: "Risiko etter utskriving fra psykisk helsevern.",
        sources: &["DAR", "NPR"],
        fate: Fate::Rejected,
    },
    Plan {
        title: "Meslinger og vaksinasjon",
        summary: "Vaksinasjonsstatus ved meslingeutbrudd.",
        sources: &["MSIS", "SYSVAK"],
        fate: Fate::Delivered,
    },
    Plan {
        title: "Hjertesvikt hos kvinner",
        summary: "Kjønnsforskjeller i behandling av hjertesvikt.",
        sources: &["HKR", "LMR"],
        fate: Fate::Approved,
    },
    Plan {
        title: "Eldre og legemiddelbruk",
        summary: "Polyfarmasi hos hjemmeboende eldre.",
        sources: &["LMR", "IPLOS"],
        fate: Fate::Approved,
    },
];

/// The fictitious researchers besides the demo login (made without a known password: they
/// cannot log in).
const RESEARCHERS: [(&str, &str); 3] = [
    ("ingrid.lund@demo.helsedata.no", "Ingrid Lund"),
    ("ola.berg@demo.helsedata.no", "Ola Berg"),
    ("amina.haddad@demo.helsedata.no", "Amina Haddad"),
];

/// A step of a case, on its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    Submit,
    Return,
    Withdraw,
    Complete,
    DecideReleases,
    Decide,
    Appeal,
    Deliver,
    Close,
}

/// The steps of a fate, with the day (after the case's start) each is taken; the pace varies
/// from case to case (`n`), as real case handling does.
fn steps(fate: Fate, n: usize) -> Vec<(i64, Step)> {
    use Step::*;
    let slow = (n as i64 * 7) % 15;
    let decided =
        vec![(0, Create), (2, Submit), (4 + slow / 3, Complete), (16 + slow, DecideReleases), (19 + slow, Decide)];
    let delivered = 30 + slow + (n as i64 * 11) % 30;
    match fate {
        Fate::Draft => vec![(0, Create)],
        Fate::Withdrawn => vec![(0, Create), (2, Submit), (9, Withdraw)],
        Fate::Returned => vec![(0, Create), (2, Submit), (8, Return)],
        Fate::Rejected | Fate::Partial | Fate::Approved => decided,
        Fate::Appealed => [decided, vec![(25 + slow, Appeal)]].concat(),
        Fate::Delivered => [decided, vec![(delivered, Deliver)]].concat(),
        Fate::Closed => [decided, vec![(delivered, Deliver), (delivered + 90, Close)]].concat(),
    }
}

/// The people the history needs.
struct People {
    researchers: Vec<User>,
    officer: User,
    owners: Vec<User>,
}

fn actor(u: &User) -> Actor {
    Actor { user_id: Some(u.id), address: None }
}

/// The form of a demo case.
fn form(plan: &Plan, sources: &[(db::catalogue::DataSource, Vec<String>)], researcher: &User) -> ApplicationForm {
    ApplicationForm {
        kind: "identifiable".into(),
        application_type: "new".into(),
        title: plan.title.into(),
        summary: plan.summary.into(),
        purpose: "medical_research".into(),
        start_date: "2026-01-01".into(),
        end_date: "2029-12-31".into(),
        project_leader: Some(Person {
            name: researcher.name.clone(),
            email: researcher.email.clone(),
            institution: "Universitetet i Oslo".into(),
        }),
        controller: Some(OrganisationRef {
            name: "Universitetet i Oslo".into(),
            organisation_number: "971035854".into(),
        }),
        legal_basis: Some(LegalBasis {
            gdpr_article_6: "6(1)(e)".into(),
            gdpr_article_9: "9(2)(j)".into(),
            justification: "Forskning i allmennhetens interesse.".into(),
        }),
        rek_reference: Some("2025/10001".into()),
        dpia_done: Some(true),
        dispensation: Some("requested".into()),
        consent_based: Some(false),
        controller_approved: Some(true),
        data_sources: sources
            .iter()
            .map(|(s, vars)| SourceRequest {
                data_source_id: Some(s.id),
                variables: vars.iter().take(2).cloned().collect(),
                period_from: "2015-01-01".into(),
                period_to: "2024-12-31".into(),
                selection: "Alle pasienter i perioden".into(),
            })
            .collect(),
        linkage: Some(sources.len() > 1),
        linkage_key: (sources.len() > 1).then(|| "fødselsnummer".into()),
        storage: "TSD, Universitetet i Oslo".into(),
        access: "Prosjektgruppen".into(),
        deletion_date: "2030-12-31".into(),
        publication: "Aggregerte resultater i vitenskapelige tidsskrifter.".into(),
        invoice_recipient: Some(InvoiceRecipient {
            name: "Universitetet i Oslo".into(),
            organisation_number: "971035854".into(),
            reference: "DEMO".into(),
            address: "Postboks 1072 Blindern".into(),
            postal_code: "0316".into(),
            city: "Oslo".into(),
        }),
        ..ApplicationForm::default()
    }
}

/// Seeds the history unless the service already has applications. Returns how many cases.
pub async fn seed_history(
    conn: &mut AsyncPgConnection,
    pool: &Pool,
    storage: &Storage,
    documents: &Documents,
    config: &Config,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let (vat_rate_bp, target_working_days, max_upload_bytes) =
        (config.vat_rate_bp, config.case_target_working_days, config.max_upload_bytes);
    if db::applications::count_all(conn).await? > 0 {
        return Ok(0);
    }
    let Some(people) = people(conn, now).await? else { return Ok(0) };
    let catalogue = super::super::catalogue::catalogue(conn, None).await?;
    // Every step of every case on its date, in the order of the dates (a case whose next step
    // would be in the future stays where it is).
    let start = now - Duration::days(365);
    let mut agenda: Vec<(DateTime<Utc>, usize, Step)> = vec![];
    for (i, plan) in PLANS.iter().enumerate() {
        // Spread over the year, the last begun three days ago (so the newest are in progress).
        let begins =
            start + Duration::days(i as i64 * 362 / (PLANS.len() as i64 - 1)) + Duration::hours(8 + (i as i64 % 6));
        for (day, step) in steps(plan.fate, i) {
            let at = begins + Duration::days(day) + Duration::minutes(17 * i as i64);
            if at < now {
                agenda.push((at, i, step));
            }
        }
    }
    agenda.sort_by_key(|(at, i, _)| (*at, *i));
    let mut ids: Vec<Option<i64>> = vec![None; PLANS.len()];
    let mut stopped = vec![false; PLANS.len()];
    for (at, i, step) in agenda {
        if stopped[i] {
            continue;
        }
        let plan = &PLANS[i];
        let researcher = &people.researchers[i % people.researchers.len()];
        let done = match (step, ids[i]) {
            (Step::Create, _) => {
                let sources: Vec<(db::catalogue::DataSource, Vec<String>)> = plan
                    .sources
                    .iter()
                    .filter_map(|code| catalogue.sources.iter().find(|(s, _)| s.code == *code))
                    .map(|(s, _)| {
                        let vars = catalogue
                            .variables
                            .iter()
                            .filter(|v| v.data_source_id == s.id)
                            .map(|v| v.name.clone())
                            .collect();
                        (s.clone(), vars)
                    })
                    .collect();
                let f = form(plan, &sources, researcher);
                let required = f.required_attachments();
                match apps::create(conn, researcher, &actor(researcher), f, None, at).await {
                    Ok(app) => {
                        ids[i] = Some(app.id);
                        let mut result = Ok(());
                        for kind in required {
                            let body: &[u8] =
                                b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
                            let name = format!("{kind}.pdf");
                            if let Err(e) = apps::add_attachment(
                                pool,
                                storage,
                                researcher,
                                &actor(researcher),
                                app.id,
                                kind,
                                &name,
                                body,
                                max_upload_bytes,
                                at,
                            )
                            .await
                            {
                                result = Err(e);
                                break;
                            }
                        }
                        result
                    }
                    Err(e) => Err(e),
                }
            }
            (_, None) => Err(AppError::NotFound),
            (Step::Submit, Some(id)) => {
                let expected = apps::Expected { version: None, estimate_ore: None };
                apps::submit(conn, researcher, &actor(researcher), id, expected, target_working_days, at)
                    .await
                    .map(|_| ())
            }
            (Step::Withdraw, Some(id)) => {
                apps::withdraw(conn, researcher, &actor(researcher), id, at).await.map(|_| ())
            }
            (Step::Return, Some(id)) => {
                let params = cases::Params {
                    message: Some("Legg ved REK-vedtaket for den utvidede perioden.".into()),
                    ..cases::Params::default()
                };
                command(conn, documents, &people.officer, id, Command::Return, params, vat_rate_bp, at).await
            }
            (Step::Complete, Some(id)) => {
                command(
                    conn,
                    documents,
                    &people.officer,
                    id,
                    Command::Complete,
                    cases::Params::default(),
                    vat_rate_bp,
                    at,
                )
                .await
            }
            (Step::DecideReleases, Some(id)) => decide_releases(conn, &people, plan.fate, id, at).await,
            (Step::Decide, Some(id)) => {
                let params = cases::Params {
                    reasons: Some("Vilkårene i helseregisterloven § 19 a er oppfylt for de innvilgede kildene.".into()),
                    ..cases::Params::default()
                };
                command(conn, documents, &people.officer, id, Command::Decide, params, vat_rate_bp, at).await
            }
            (Step::Appeal, Some(id)) => {
                let params = cases::Params {
                    grounds: Some("Vi mener utvalget er nødvendig for formålet og ber om ny vurdering.".into()),
                    ..cases::Params::default()
                };
                command(conn, documents, researcher, id, Command::Appeal, params, vat_rate_bp, at).await
            }
            (Step::Deliver, Some(id)) => deliver(conn, &people, id, vat_rate_bp, at).await,
            (Step::Close, Some(id)) => {
                let params =
                    cases::Params { reasons: Some("Prosjektet er avsluttet.".into()), ..cases::Params::default() };
                command(conn, documents, &people.officer, id, Command::Close, params, vat_rate_bp, at).await
            }
        };
        if let Err(e) = done {
            tracing::warn!("demo history: case «{}» stopped at {step:?}: {e}", plan.title);
            stopped[i] = true;
        }
    }
    // The history's notices are old news for the demo logins.
    db::notifications::mark_read_before(conn, now - Duration::days(1), now).await?;
    Ok(ids.iter().flatten().count())
}

#[allow(clippy::too_many_arguments)]
async fn command(
    conn: &mut AsyncPgConnection,
    documents: &Documents,
    user: &User,
    id: i64,
    command: Command,
    params: cases::Params,
    vat_rate_bp: u32,
    at: DateTime<Utc>,
) -> AppResult<()> {
    cases::command(conn, documents, user, &actor(user), id, command, params, vat_rate_bp, at).await.map(|_| ())
}

/// Each release decided by its decider: the officers for Helsedataservice's, the owner's staff
/// otherwise. A rejected case refuses all, a partial one the last source, the rest approve.
async fn decide_releases(
    conn: &mut AsyncPgConnection,
    people: &People,
    fate: Fate,
    id: i64,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let releases = db::cases::releases_of(conn, id).await?;
    let n = releases.len();
    for (k, r) in releases.into_iter().enumerate() {
        let approve = match fate {
            Fate::Rejected | Fate::Appealed => false,
            Fate::Partial => k + 1 < n,
            _ => true,
        };
        let decider = decider_of(people, &r.release)?;
        let input = cases::ReleaseDecision {
            approve: Some(approve),
            conditions: approve.then(|| "Dataene lagres og analyseres bare i TSD.".into()),
            reasons: (!approve).then(|| "Utvalget er ikke nødvendig for formålet (helseregisterloven § 19 a).".into()),
            dispensation: None,
        };
        cases::decide_release(conn, decider, &actor(decider), r.release.id, input, at).await?;
    }
    Ok(())
}

fn decider_of<'a>(people: &'a People, r: &db::cases::Release) -> AppResult<&'a User> {
    if r.decider == crate::domain::catalogue::DecisionAuthority::Hds {
        Ok(&people.officer)
    } else {
        staff_of(people, r.owner_organisation_id)
    }
}

fn staff_of(people: &People, organisation: i64) -> AppResult<&User> {
    people
        .owners
        .iter()
        .find(|u| u.organisation_id == Some(organisation))
        .ok_or_else(|| AppError::Internal("demo history: no register owner for a source".into()))
}

/// Each granted release delivered by its owner's staff in the analysis environment.
async fn deliver(
    conn: &mut AsyncPgConnection,
    people: &People,
    id: i64,
    vat_rate_bp: u32,
    at: DateTime<Utc>,
) -> AppResult<()> {
    for r in db::cases::releases_of(conn, id).await? {
        if r.release.state.granted() && r.release.state != crate::domain::release::ReleaseState::Delivered {
            let owner = staff_of(people, r.release.owner_organisation_id)?;
            cases::deliver_in_environment(conn, owner, &actor(owner), r.release.id, "TSD", vat_rate_bp, at).await?;
        }
    }
    Ok(())
}

/// The demo logins and the fictitious researchers (made when missing).
async fn people(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<Option<People>> {
    let by = async |conn: &mut AsyncPgConnection, email: &str| db::users::by_email(conn, email).await;
    let (Some(forsker), Some(officer), Some(fhi), Some(hdir)) = (
        by(conn, "forsker@demo.helsedata.no").await?,
        by(conn, "saksbehandler@demo.helsedata.no").await?,
        by(conn, "fhi@demo.helsedata.no").await?,
        by(conn, "hdir@demo.helsedata.no").await?,
    ) else {
        return Ok(None);
    };
    let mut researchers = vec![forsker];
    for (email, name) in RESEARCHERS {
        let user = match db::users::by_email(conn, email).await? {
            Some(u) => u,
            None => {
                let (password, _) = super::super::accounts::new_secret();
                let input = NewAccount {
                    email: email.into(),
                    name: name.into(),
                    password: format!("Demo-{password}"),
                    role: Some("applicant".into()),
                    organisation_id: None,
                    language: Some("nb".into()),
                };
                create_account(conn, &Actor::system(), input, false, now).await?
            }
        };
        researchers.push(user);
    }
    Ok(Some(People { researchers, officer, owners: vec![fhi, hdir] }))
}
