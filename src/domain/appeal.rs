//! An appeal goes to the body that decided (forvaltningsloven § 33): each release refused in the
//! appealed decision is reconsidered by its own decider (the register owner for an owner-decided
//! release, Helsedataservice's officers for one it decided). When every one is reconsidered: if
//! all were reversed the case is decided anew; if any decision was upheld the case goes to
//! Helseklage, whose outcome (upheld, reversed, partly reversed) is recorded and applied.

use super::case::{Refusal, State};
use super::release::{self, Person, Release, ReleaseState, Ties, Transition};

super::catalogue::code_enum! {
    /// Where a release refused in an appealed decision stands.
    Reconsideration {
        Pending => "pending",
        Reversed => "reversed",
        Upheld => "upheld",
    }
}

super::catalogue::code_enum! {
    /// Helseklage's outcome.
    HelseklageOutcome {
        Upheld => "upheld",
        Reversed => "reversed",
        PartlyReversed => "partly_reversed",
    }
}

/// The decider of a release reconsiders it: reverse (the release is granted) or uphold.
pub fn reconsider(
    release: &Release,
    reconsideration: Option<Reconsideration>,
    case_state: State,
    person: Person,
    ties: Ties,
    reverse: bool,
) -> Result<Transition, Refusal> {
    if !release::is_decider(person, release) {
        return Err(Refusal::Forbidden("err-appeal-decider-reconsiders"));
    }
    if let Some(why) = release::recusal(person, ties) {
        return Err(Refusal::Forbidden(why));
    }
    if case_state != State::Appealed || reconsideration != Some(Reconsideration::Pending) {
        return Err(Refusal::Conflict("err-appeal-nothing-to-reconsider"));
    }
    let to = if reverse { ReleaseState::Approved } else { ReleaseState::Rejected };
    Ok(Transition { to, event: "release.reconsidered" })
}

/// What follows once a release is reconsidered, from every release's (state, reconsideration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Some releases still wait for their decider.
    Waiting,
    /// Every refusal was reversed: the case is decided anew (a new decision letter).
    DecideAnew,
    /// Some refusal was upheld: the case goes to Helseklage; meanwhile it stands at `outcome`
    /// (the reversed releases are granted and may be delivered; delivered, if everything granted
    /// already was).
    ToHelseklage { outcome: State },
}

pub fn next(releases: &[(ReleaseState, Option<Reconsideration>)]) -> Next {
    let appealed: Vec<_> = releases.iter().filter(|(_, r)| r.is_some()).collect();
    if appealed.iter().any(|(_, r)| *r == Some(Reconsideration::Pending)) {
        return Next::Waiting;
    }
    if appealed.iter().all(|(_, r)| *r == Some(Reconsideration::Reversed)) {
        return Next::DecideAnew;
    }
    let states: Vec<ReleaseState> = releases.iter().map(|(s, _)| *s).collect();
    Next::ToHelseklage { outcome: release::standing(&states).unwrap_or(State::Rejected) }
}

/// Which releases Helseklage's outcome grants: all those whose refusal was upheld (reversed),
/// those named (partly reversed), or none (upheld). `named` must be among the upheld.
pub fn helseklage_grants(outcome: HelseklageOutcome, upheld: &[i64], named: &[i64]) -> Result<Vec<i64>, &'static str> {
    match outcome {
        HelseklageOutcome::Upheld => Ok(vec![]),
        HelseklageOutcome::Reversed => Ok(upheld.to_vec()),
        HelseklageOutcome::PartlyReversed if named.is_empty() => Err("err-helseklage-name-releases"),
        HelseklageOutcome::PartlyReversed if named.iter().any(|id| !upheld.contains(id)) => {
            Err("err-helseklage-not-appealed")
        }
        HelseklageOutcome::PartlyReversed => Ok(named.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::DecisionAuthority;
    use crate::domain::role::Role;

    const FHI: i64 = 5;
    fn owner() -> Person {
        Person { id: 3, role: Role::RegisterOwner, organisation_id: Some(FHI) }
    }
    fn officer() -> Person {
        Person { id: 2, role: Role::CaseOfficer, organisation_id: None }
    }
    const TIES: Ties = Ties { applicant_id: 1, is_member: false };

    #[test]
    fn each_refusal_is_reconsidered_by_the_body_that_made_it() {
        let by_owner =
            Release { state: ReleaseState::Rejected, decider: DecisionAuthority::Owner, owner_organisation_id: FHI };
        let by_hds = Release { decider: DecisionAuthority::Hds, ..by_owner };
        let pending = Some(Reconsideration::Pending);
        assert_eq!(
            reconsider(&by_owner, pending, State::Appealed, officer(), TIES, true),
            Err(Refusal::Forbidden("err-appeal-decider-reconsiders"))
        );
        assert_eq!(
            reconsider(&by_owner, pending, State::Appealed, owner(), TIES, true).unwrap().to,
            ReleaseState::Approved
        );
        assert_eq!(
            reconsider(&by_hds, pending, State::Appealed, owner(), TIES, false),
            Err(Refusal::Forbidden("err-appeal-decider-reconsiders"))
        );
        assert_eq!(
            reconsider(&by_hds, pending, State::Appealed, officer(), TIES, false).unwrap().to,
            ReleaseState::Rejected
        );
        // Once only, and only while the case is appealed.
        let done = Some(Reconsideration::Upheld);
        assert!(matches!(reconsider(&by_hds, done, State::Appealed, officer(), TIES, true), Err(Refusal::Conflict(_))));
        assert!(matches!(
            reconsider(&by_hds, pending, State::Rejected, officer(), TIES, true),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn what_follows_the_reconsiderations() {
        use Reconsideration::{Pending, Reversed, Upheld};
        use ReleaseState::{Approved, Rejected};
        assert_eq!(next(&[(Approved, None), (Rejected, Some(Pending))]), Next::Waiting);
        assert_eq!(next(&[(Approved, None), (Approved, Some(Reversed))]), Next::DecideAnew);
        assert_eq!(
            next(&[(Approved, Some(Reversed)), (Rejected, Some(Upheld))]),
            Next::ToHelseklage { outcome: State::PartiallyApproved }
        );
        assert_eq!(next(&[(Rejected, Some(Upheld))]), Next::ToHelseklage { outcome: State::Rejected });
    }

    #[test]
    fn helseklage_grants_what_it_reversed() {
        assert_eq!(helseklage_grants(HelseklageOutcome::Upheld, &[7, 8], &[]), Ok(vec![]));
        assert_eq!(helseklage_grants(HelseklageOutcome::Reversed, &[7, 8], &[]), Ok(vec![7, 8]));
        assert_eq!(helseklage_grants(HelseklageOutcome::PartlyReversed, &[7, 8], &[8]), Ok(vec![8]));
        assert!(helseklage_grants(HelseklageOutcome::PartlyReversed, &[7, 8], &[]).is_err());
        assert!(helseklage_grants(HelseklageOutcome::PartlyReversed, &[7], &[9]).is_err());
    }
}
