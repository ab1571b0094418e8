//! Releases (utleveringer): one per requested source of a case. Their lifecycle
//! (`pending → approved | rejected → delivered`), who decides each (by the source's decision
//! authority), who must step aside (recusal), who delivers, and what the case's outcome is once
//! every release is decided. Pure functions; the services load the facts and store the result.

use super::case::{Refusal, State};
use super::catalogue::DecisionAuthority;
use super::role::Role;

super::catalogue::code_enum! {
    /// The states of a release.
    ReleaseState {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Delivered => "delivered",
        /// Its application was withdrawn before the release was delivered: nobody decides or
        /// delivers it any more.
        Withdrawn => "withdrawn",
    }
}

impl ReleaseState {
    /// Whether the release has been decided (either way).
    pub fn decided(self) -> bool {
        matches!(self, ReleaseState::Approved | ReleaseState::Rejected | ReleaseState::Delivered)
    }

    /// Whether a release in this state is withdrawn with its application: still waiting for its
    /// decider, or approved by its owner before the case's decision (a refusal stays on record).
    pub fn withdrawn_with_case(self) -> bool {
        matches!(self, ReleaseState::Pending | ReleaseState::Approved)
    }

    /// Whether the data were granted (approved, and perhaps already delivered).
    pub fn granted(self) -> bool {
        matches!(self, ReleaseState::Approved | ReleaseState::Delivered)
    }
}

/// The acting user, as the release rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub role: Role,
    pub organisation_id: Option<i64>,
}

/// What the rules need to know about one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    pub state: ReleaseState,
    pub decider: DecisionAuthority,
    pub owner_organisation_id: i64,
}

/// Who is tied to the case (for recusal): the applicant and whether the person is a member of the
/// project (named on the form, the project leader included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ties {
    pub applicant_id: i64,
    pub is_member: bool,
}

/// A release command's result: the new state and the event to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: ReleaseState,
    pub event: &'static str,
}

/// Whether `person` belongs to the organisation that owns the release's source.
pub fn is_owner_of(person: Person, release: &Release) -> bool {
    person.role == Role::RegisterOwner && person.organisation_id == Some(release.owner_organisation_id)
}

/// Whether `person` holds the decision authority for `release` (whatever its state).
pub fn is_decider(person: Person, release: &Release) -> bool {
    match release.decider {
        DecisionAuthority::Owner => is_owner_of(person, release),
        DecisionAuthority::Hds => person.role == Role::CaseOfficer,
    }
}

/// Why `person` must step aside from deciding on a case, if they must: the applicant and the
/// project's members (its leader included) may not decide on their own case.
pub fn recusal(person: Person, ties: Ties) -> Option<&'static str> {
    if person.id == ties.applicant_id {
        return Some("err-recusal-applicant");
    }
    if ties.is_member {
        return Some("err-recusal-member");
    }
    None
}

/// Decides a release: only its decider, not recused, while the case is in review and the release
/// pending.
pub fn decide(
    release: &Release,
    case_state: State,
    person: Person,
    ties: Ties,
    approve: bool,
) -> Result<Transition, Refusal> {
    if !is_decider(person, release) {
        return Err(Refusal::Forbidden(match release.decider {
            DecisionAuthority::Hds => "err-release-hds-decides",
            DecisionAuthority::Owner => "err-release-owner-decides",
        }));
    }
    if let Some(why) = recusal(person, ties) {
        return Err(Refusal::Forbidden(why));
    }
    if case_state != State::InReview {
        return Err(Refusal::Conflict("err-release-not-in-review"));
    }
    if release.state != ReleaseState::Pending {
        return Err(Refusal::Conflict("err-release-decided"));
    }
    let to = if approve { ReleaseState::Approved } else { ReleaseState::Rejected };
    Ok(Transition { to, event: "release.decided" })
}

/// Whether data may be delivered for a case in `case_state`: after a decision that granted some.
pub fn case_open_for_delivery(case_state: State) -> bool {
    matches!(case_state, State::Approved | State::PartiallyApproved)
}

/// Delivers an approved release (access in an environment, or files sent): only the source's
/// register owner, after the decision.
pub fn deliver(release: &Release, case_state: State, person: Person) -> Result<Transition, Refusal> {
    if !is_owner_of(person, release) {
        return Err(Refusal::Forbidden("err-release-owner-delivers"));
    }
    if release.state != ReleaseState::Approved {
        return Err(Refusal::Conflict("err-release-not-approved"));
    }
    if !case_open_for_delivery(case_state) {
        return Err(Refusal::Conflict("err-release-after-decision"));
    }
    Ok(Transition { to: ReleaseState::Delivered, event: "release.delivered" })
}

/// Whether `person` may send files for a release: whoever may deliver it now, and its owner after
/// delivery (further files).
pub fn may_send_files(release: &Release, case_state: State, person: Person) -> bool {
    to_deliver_by(release, case_state, person)
        || (release.state == ReleaseState::Delivered && is_owner_of(person, release))
}

/// What a release waits for, if anything: its case's decision (pending, or approved by its owner
/// while the case is in review), or its delivery (granted, not delivered, the case decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    Decision,
    Delivery,
}

/// What `state` waits for on a case in `case_state` (the register owners' queue counts its days).
pub fn waiting(state: ReleaseState, case_state: State) -> Option<Waiting> {
    match state {
        ReleaseState::Pending | ReleaseState::Approved if case_state == State::InReview => Some(Waiting::Decision),
        ReleaseState::Approved if case_open_for_delivery(case_state) => Some(Waiting::Delivery),
        _ => None,
    }
}

/// Whether `person` has this release to decide now (the status page's button).
pub fn to_decide_by(release: &Release, case_state: State, person: Person) -> bool {
    case_state == State::InReview && release.state == ReleaseState::Pending && is_decider(person, release)
}

/// Whether `person` has this release to deliver now.
pub fn to_deliver_by(release: &Release, case_state: State, person: Person) -> bool {
    deliver(release, case_state, person).is_ok()
}

/// The outcome of a case whose releases are all decided: approved, partially approved or
/// rejected by how many were granted. `None` while any is pending or there are none.
pub fn outcome(states: &[ReleaseState]) -> Option<State> {
    if states.is_empty() || states.iter().any(|s| !s.decided()) {
        return None;
    }
    let granted = states.iter().filter(|s| s.granted()).count();
    Some(match granted {
        0 => State::Rejected,
        n if n == states.len() => State::Approved,
        _ => State::PartiallyApproved,
    })
}

/// Where a decided case stands from its releases: its outcome, or delivered once every granted
/// release has been (a case appealed after its granted part was delivered returns there when the
/// refusal is upheld).
pub fn standing(states: &[ReleaseState]) -> Option<State> {
    outcome(states).map(|o| if o.granted() && all_delivered(states) { State::Delivered } else { o })
}

/// Whether every granted release has been delivered (and at least one was).
pub fn all_delivered(states: &[ReleaseState]) -> bool {
    let granted: Vec<_> = states.iter().filter(|s| s.granted()).collect();
    !granted.is_empty() && granted.iter().all(|s| **s == ReleaseState::Delivered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReleaseState::*;

    const ORG: i64 = 7;
    const OWNER: Person = Person { id: 10, role: Role::RegisterOwner, organisation_id: Some(ORG) };
    const OTHER_OWNER: Person = Person { id: 11, role: Role::RegisterOwner, organisation_id: Some(8) };
    const OFFICER: Person = Person { id: 12, role: Role::CaseOfficer, organisation_id: None };
    const APPLICANT: Person = Person { id: 13, role: Role::Applicant, organisation_id: None };
    const ADMIN: Person = Person { id: 14, role: Role::Admin, organisation_id: None };
    const UNTIED: Ties = Ties { applicant_id: 13, is_member: false };

    #[test]
    fn a_withdrawn_release_is_neither_decided_nor_granted_and_only_open_ones_are_withdrawn() {
        assert!(!Withdrawn.decided() && !Withdrawn.granted());
        assert_eq!(outcome(&[Approved, Withdrawn]), None, "no outcome from a withdrawn release");
        for &s in ReleaseState::ALL {
            assert_eq!(s.withdrawn_with_case(), matches!(s, Pending | Approved), "{s:?}");
        }
    }

    fn release(state: ReleaseState, decider: DecisionAuthority) -> Release {
        Release { state, decider, owner_organisation_id: ORG }
    }

    #[test]
    fn deciders_by_authority() {
        let table = [
            (DecisionAuthority::Owner, OWNER, true),
            (DecisionAuthority::Owner, OTHER_OWNER, false),
            (DecisionAuthority::Owner, OFFICER, false),
            (DecisionAuthority::Owner, APPLICANT, false),
            (DecisionAuthority::Owner, ADMIN, false),
            (DecisionAuthority::Hds, OFFICER, true),
            (DecisionAuthority::Hds, OWNER, false),
            (DecisionAuthority::Hds, APPLICANT, false),
            (DecisionAuthority::Hds, ADMIN, false),
        ];
        for (authority, person, may) in table {
            let r = release(Pending, authority);
            assert_eq!(is_decider(person, &r), may, "{authority:?} {person:?}");
            let decided = decide(&r, State::InReview, person, UNTIED, true);
            assert_eq!(decided.is_ok(), may, "{authority:?} {person:?}");
            if !may {
                assert!(matches!(decided, Err(Refusal::Forbidden(_))));
            }
        }
    }

    #[test]
    fn decisions_by_state() {
        for case in State::ALL.iter().copied() {
            for &state in ReleaseState::ALL {
                let r = release(state, DecisionAuthority::Hds);
                let result = decide(&r, case, OFFICER, UNTIED, false);
                if case == State::InReview && state == Pending {
                    assert_eq!(result, Ok(Transition { to: Rejected, event: "release.decided" }));
                } else {
                    assert!(matches!(result, Err(Refusal::Conflict(_))), "{case:?} {state:?}");
                }
            }
        }
        let r = release(Pending, DecisionAuthority::Owner);
        assert_eq!(decide(&r, State::InReview, OWNER, UNTIED, true).unwrap().to, Approved);
    }

    #[test]
    fn recusal_of_the_applicant_and_members() {
        let officer_applied = Ties { applicant_id: OFFICER.id, is_member: false };
        let officer_member = Ties { applicant_id: 99, is_member: true };
        assert_eq!(recusal(OFFICER, officer_applied), Some("err-recusal-applicant"));
        assert_eq!(recusal(OFFICER, officer_member), Some("err-recusal-member"));
        assert_eq!(recusal(OFFICER, UNTIED), None);
        let r = release(Pending, DecisionAuthority::Hds);
        assert_eq!(
            decide(&r, State::InReview, OFFICER, officer_member, true),
            Err(Refusal::Forbidden("err-recusal-member"))
        );
    }

    #[test]
    fn only_the_owner_delivers_an_approved_release_after_the_decision() {
        let approved = release(Approved, DecisionAuthority::Hds);
        assert_eq!(deliver(&approved, State::Approved, OWNER).unwrap().to, Delivered);
        assert_eq!(deliver(&approved, State::PartiallyApproved, OWNER).unwrap().to, Delivered);
        for person in [OTHER_OWNER, OFFICER, APPLICANT, ADMIN] {
            assert!(matches!(deliver(&approved, State::Approved, person), Err(Refusal::Forbidden(_))));
        }
        for state in [Pending, Rejected, Delivered] {
            assert!(matches!(
                deliver(&release(state, DecisionAuthority::Hds), State::Approved, OWNER),
                Err(Refusal::Conflict(_))
            ));
        }
        for case in [State::InReview, State::Rejected, State::Delivered, State::Closed, State::Appealed] {
            assert!(matches!(deliver(&approved, case, OWNER), Err(Refusal::Conflict(_))), "{case:?}");
        }
    }

    #[test]
    fn files_may_follow_a_delivery() {
        let delivered = release(Delivered, DecisionAuthority::Owner);
        assert!(may_send_files(&delivered, State::Delivered, OWNER));
        assert!(!may_send_files(&delivered, State::Delivered, OTHER_OWNER));
        assert!(!may_send_files(&release(Rejected, DecisionAuthority::Owner), State::PartiallyApproved, OWNER));
        assert!(!may_send_files(&release(Approved, DecisionAuthority::Owner), State::Closed, OWNER));
        assert!(may_send_files(&release(Approved, DecisionAuthority::Owner), State::Approved, OWNER));
    }

    #[test]
    fn a_case_stands_delivered_once_everything_granted_was() {
        assert_eq!(standing(&[Delivered, Rejected]), Some(State::Delivered));
        assert_eq!(standing(&[Delivered, Approved]), Some(State::Approved), "one still to deliver");
        assert_eq!(standing(&[Approved, Rejected]), Some(State::PartiallyApproved));
        assert_eq!(standing(&[Rejected]), Some(State::Rejected));
        assert_eq!(standing(&[Delivered, Pending]), None);
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome(&[]), None);
        assert_eq!(outcome(&[Approved, Pending]), None);
        assert_eq!(outcome(&[Approved, Delivered]), Some(State::Approved));
        assert_eq!(outcome(&[Approved, Rejected]), Some(State::PartiallyApproved));
        assert_eq!(outcome(&[Rejected, Rejected]), Some(State::Rejected));
        assert!(all_delivered(&[Delivered, Rejected]));
        assert!(!all_delivered(&[Delivered, Approved]));
        assert!(!all_delivered(&[Rejected]));
    }

    #[test]
    fn a_release_waits_only_while_someone_has_it_to_do() {
        assert_eq!(waiting(Pending, State::InReview), Some(Waiting::Decision));
        assert_eq!(waiting(Approved, State::InReview), Some(Waiting::Decision), "the case's decision");
        assert_eq!(waiting(Approved, State::Approved), Some(Waiting::Delivery));
        assert_eq!(waiting(Approved, State::PartiallyApproved), Some(Waiting::Delivery));
        for (s, c) in [
            (Delivered, State::Delivered),
            (Rejected, State::Rejected),
            (Withdrawn, State::Withdrawn),
            (Approved, State::Closed),
            (Rejected, State::InReview),
        ] {
            assert_eq!(waiting(s, c), None, "{s:?} on a case {c:?}");
        }
    }
}
