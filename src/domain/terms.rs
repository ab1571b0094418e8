//! Members who are invited, and data-use terms accepted before download. The members named on
//! the form are invited by mail when the application is submitted (an address that belongs to no
//! one gets nothing but the invitation; accepting makes or links the account). Each source has
//! terms (a confidentiality undertaking) kept with a version: before the applicant or a member
//! sees or downloads a source's released files, they accept its current terms for the case.

use super::access::Access;
use super::case::State;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 60;

/// The current terms of a source: the terms row and its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    pub data_source_id: i64,
    pub terms_id: i64,
    pub version: i32,
}

/// The sources whose current terms a person has not accepted (of those `required`), given the
/// terms rows they accepted: a newer version asks again.
pub fn outstanding(required: &[Current], accepted: &[i64]) -> Vec<i64> {
    required.iter().filter(|c| !accepted.contains(&c.terms_id)).map(|c| c.data_source_id).collect()
}

/// Whether files of a source reach a person: they accepted its current terms.
pub fn may_receive(source: i64, required: &[Current], accepted: &[i64]) -> bool {
    !outstanding(required, accepted).contains(&source)
}

/// Whether an invitation to join the project of a case in `state` may still be accepted: not
/// once the application is withdrawn (there is no project to join). A closed case's members
/// may still be joining to download what was delivered, until its transfers expire.
pub fn may_join(state: State) -> bool {
    state != State::Withdrawn
}

/// Who accepts terms on a case: the applicant and the members, once it was submitted.
pub fn may_accept(access: Access, state: State) -> bool {
    matches!(access, Access::Applicant | Access::Member) && !matches!(state, State::Draft | State::Withdrawn)
}

/// Which of `asked` may be accepted now: each must be the current terms of one of the case's
/// sources (an older version is refused: the reader must see what they accept).
pub fn check_accept(asked: &[i64], current: &[Current]) -> Result<(), &'static str> {
    if asked.is_empty() {
        return Err("err-terms-choose");
    }
    if asked.iter().all(|id| current.iter().any(|c| c.terms_id == *id)) { Ok(()) } else { Err("err-terms-not-current") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_is_joined_unless_its_application_was_withdrawn() {
        for &state in State::ALL {
            assert_eq!(may_join(state), state != State::Withdrawn, "{state:?}");
        }
    }

    const NPR: Current = Current { data_source_id: 1, terms_id: 10, version: 1 };
    const KRG: Current = Current { data_source_id: 2, terms_id: 21, version: 2 };

    #[test]
    fn every_source_needs_its_current_terms() {
        assert_eq!(outstanding(&[NPR, KRG], &[]), vec![1, 2]);
        assert_eq!(outstanding(&[NPR, KRG], &[10]), vec![2]);
        assert_eq!(outstanding(&[NPR, KRG], &[10, 20]), vec![2], "version 1 of KRG no longer counts");
        assert!(outstanding(&[NPR, KRG], &[10, 21]).is_empty());
        assert!(may_receive(1, &[NPR, KRG], &[10]) && !may_receive(2, &[NPR, KRG], &[10]));
    }

    #[test]
    fn the_project_accepts_after_submitting() {
        assert!(may_accept(Access::Applicant, State::Approved));
        assert!(may_accept(Access::Member, State::Delivered));
        assert!(!may_accept(Access::Applicant, State::Draft));
        assert!(!may_accept(Access::CaseOfficer, State::Approved), "officers see who accepted");
        assert!(!may_accept(Access::RegisterOwner, State::Approved));
        assert_eq!(check_accept(&[], &[NPR]), Err("err-terms-choose"));
        assert_eq!(check_accept(&[20], &[NPR, KRG]), Err("err-terms-not-current"));
        assert!(check_accept(&[10, 21], &[NPR, KRG]).is_ok());
    }
}
