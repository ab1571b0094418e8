//! Who may see an application, and as what (SPEC §3): the applicant; the project's members
//! named on the form (by a confirmed e-mail address); case officers, once the application has
//! been submitted; and the register owners of a requested source, once submitted. Everyone
//! else gets nothing (the service answers 404, never someone else's data).

use super::role::Role;

/// How a user may see an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The applicant: reads and (while editable) writes.
    Applicant,
    /// A project member named on the form: reads.
    Member,
    /// A case officer: every submitted application.
    CaseOfficer,
    /// A register owner whose organisation's sources are requested.
    RegisterOwner,
}

impl Access {
    /// Whether internal notes are shown.
    pub fn sees_internal(self) -> bool {
        matches!(self, Access::CaseOfficer | Access::RegisterOwner)
    }
}

/// The person looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub id: i64,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub email_verified: bool,
}

/// What access depends on about the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub applicant_id: i64,
    /// Whether it was ever submitted (a withdrawn draft never reaches officers or owners).
    pub submitted: bool,
}

/// The one fact still to look up before access is known, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Nothing: [`access`] decides with `found = false`.
    Nothing,
    /// Whether the viewer's (confirmed) e-mail address is a member of the project.
    Membership,
    /// Whether the application requests a source of this organisation.
    RequestsSourceOf(i64),
}

/// What must be looked up to decide `viewer`'s access to the application.
pub fn lookup(viewer: Viewer, app: Seen) -> Lookup {
    if viewer.id == app.applicant_id {
        return Lookup::Nothing;
    }
    match (viewer.role, viewer.organisation_id) {
        // Membership is by e-mail address: only a confirmed address counts.
        (Role::Applicant, _) if viewer.email_verified => Lookup::Membership,
        (Role::RegisterOwner, Some(org)) if app.submitted => Lookup::RequestsSourceOf(org),
        _ => Lookup::Nothing,
    }
}

/// `viewer`'s access, given the answer to [`lookup`]'s question (`found`).
pub fn access(viewer: Viewer, app: Seen, found: bool) -> Option<Access> {
    if viewer.id == app.applicant_id {
        return Some(Access::Applicant);
    }
    match lookup(viewer, app) {
        Lookup::Membership if found => Some(Access::Member),
        Lookup::RequestsSourceOf(_) if found => Some(Access::RegisterOwner),
        Lookup::Nothing if viewer.role == Role::CaseOfficer && app.submitted => Some(Access::CaseOfficer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role) -> Viewer {
        Viewer { id: 2, role, organisation_id: (role == Role::RegisterOwner).then_some(7), email_verified: true }
    }

    #[test]
    fn who_sees_what() {
        let submitted = Seen { applicant_id: 1, submitted: true };
        let draft = Seen { applicant_id: 1, submitted: false };
        // (role, application, what the look-up found) → access
        let table = [
            (Role::Applicant, submitted, true, Some(Access::Member)),
            (Role::Applicant, draft, true, Some(Access::Member)),
            (Role::Applicant, submitted, false, None),
            (Role::CaseOfficer, submitted, false, Some(Access::CaseOfficer)),
            (Role::CaseOfficer, draft, false, None),
            (Role::RegisterOwner, submitted, true, Some(Access::RegisterOwner)),
            (Role::RegisterOwner, submitted, false, None),
            (Role::RegisterOwner, draft, true, None),
            (Role::Admin, submitted, true, None),
            (Role::Admin, draft, false, None),
        ];
        for (role, app, found, expected) in table {
            assert_eq!(access(viewer(role), app, found), expected, "{role:?} {app:?} {found}");
        }
        let own = Viewer { id: 1, ..viewer(Role::Applicant) };
        assert_eq!(lookup(own, draft), Lookup::Nothing);
        assert_eq!(access(own, draft, false), Some(Access::Applicant));
    }

    #[test]
    fn only_a_confirmed_address_makes_a_member_and_owners_need_an_organisation() {
        let app = Seen { applicant_id: 1, submitted: true };
        let unconfirmed = Viewer { email_verified: false, ..viewer(Role::Applicant) };
        assert_eq!(lookup(unconfirmed, app), Lookup::Nothing);
        assert_eq!(access(unconfirmed, app, true), None);
        let homeless = Viewer { organisation_id: None, ..viewer(Role::RegisterOwner) };
        assert_eq!(lookup(homeless, app), Lookup::Nothing);
        assert_eq!(access(homeless, app, true), None);
        assert_eq!(lookup(viewer(Role::RegisterOwner), app), Lookup::RequestsSourceOf(7));
        assert!(Access::CaseOfficer.sees_internal() && Access::RegisterOwner.sees_internal());
        assert!(!Access::Applicant.sees_internal() && !Access::Member.sees_internal());
    }
}
