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

    /// Whether this is the applicant's side of the case (the applicant or a project member).
    pub fn applicant_side(self) -> bool {
        matches!(self, Access::Applicant | Access::Member)
    }
}

/// Who is looking, as the visibility of a case's parts needs it: their access to the case and,
/// for a register owner, their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audience {
    pub access: Access,
    pub organisation_id: Option<i64>,
}

/// A transfer as its visibility needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferFacts {
    /// Whether it was ever published (made available to its recipients).
    pub published: bool,
    /// The organisation whose release it delivers (which holds the data).
    pub owner_organisation_id: i64,
    /// For a linkage extract: the data holder it goes to (not the applicant).
    pub recipient_organisation_id: Option<i64>,
}

/// Events only the case's handlers (officers and owners) see: internal notes, time records.
pub const INTERNAL_EVENTS: [&str; 2] = ["note.posted", "hours.recorded"];

/// Transfer events that happen before anything reaches a recipient.
const PREPARATION_EVENTS: [&str; 2] = ["transfer.created", "transfer.file_uploaded"];

/// Whether `who` sees a transfer of the case: officers every one; a register owner those of its
/// own organisation's releases and those sent to it; the applicant and the members those
/// published to them (never a linkage extract for another data holder).
pub fn sees_transfer(who: Audience, t: TransferFacts) -> bool {
    match who.access {
        Access::CaseOfficer => true,
        Access::RegisterOwner => {
            who.organisation_id.is_some()
                && (who.organisation_id == Some(t.owner_organisation_id)
                    || who.organisation_id == t.recipient_organisation_id)
        }
        Access::Applicant | Access::Member => t.published && t.recipient_organisation_id.is_none(),
    }
}

/// Whether `who` sees an event of `kind` on the case's timeline. `transfer` is the transfer a
/// `transfer.*` event is about (`None` when unknown: then only officers see it).
pub fn sees_event(who: Audience, kind: &str, transfer: Option<TransferFacts>) -> bool {
    if INTERNAL_EVENTS.contains(&kind) && !who.access.sees_internal() {
        return false;
    }
    if kind.starts_with("transfer.") {
        let Some(t) = transfer else { return who.access == Access::CaseOfficer };
        let recipient = matches!(who.access, Access::Applicant | Access::Member);
        return sees_transfer(who, t) && !(recipient && PREPARATION_EVENTS.contains(&kind));
    }
    true
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

    #[test]
    fn transfers_and_their_events_by_audience() {
        let audience = |access, organisation_id| Audience { access, organisation_id };
        let officer = audience(Access::CaseOfficer, None);
        let applicant = audience(Access::Applicant, None);
        let member = audience(Access::Member, None);
        let holder = audience(Access::RegisterOwner, Some(7));
        let receiver = audience(Access::RegisterOwner, Some(8));
        let other = audience(Access::RegisterOwner, Some(9));
        let open = TransferFacts { published: false, owner_organisation_id: 7, recipient_organisation_id: None };
        let published = TransferFacts { published: true, ..open };
        let linkage = TransferFacts { recipient_organisation_id: Some(8), ..published };
        // (who, transfer) → sees it
        let table = [
            (officer, open, true),
            (officer, linkage, true),
            (holder, open, true),
            (holder, linkage, true),
            (receiver, linkage, true),
            (receiver, published, false),
            (other, published, false),
            (other, linkage, false),
            (applicant, open, false),
            (applicant, published, true),
            (applicant, linkage, false),
            (member, published, true),
            (member, linkage, false),
        ];
        for (who, t, sees) in table {
            assert_eq!(sees_transfer(who, t), sees, "{who:?} {t:?}");
            assert_eq!(sees_event(who, "transfer.published", Some(t)), sees, "{who:?} {t:?}");
        }
        assert!(!sees_event(applicant, "transfer.created", Some(published)));
        assert!(!sees_event(applicant, "transfer.file_uploaded", Some(published)));
        assert!(sees_event(applicant, "transfer.downloaded", Some(published)));
        assert!(sees_event(holder, "transfer.created", Some(open)));
        assert!(!sees_event(holder, "transfer.created", None) && sees_event(officer, "transfer.created", None));
        for kind in INTERNAL_EVENTS {
            assert!(!sees_event(applicant, kind, None) && !sees_event(member, kind, None));
            assert!(sees_event(officer, kind, None) && sees_event(holder, kind, None));
        }
        assert!(sees_event(applicant, "application.decided", None));
    }

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
