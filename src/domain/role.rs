//! The roles of SPEC §3 and what each may do, in one table.

use serde::{Deserialize, Serialize};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A researcher or analyst (søker).
    Applicant,
    /// Staff of Helsedataservice (saksbehandler).
    CaseOfficer,
    /// Staff of an organisation owning data sources (registerforvalter).
    RegisterOwner,
    /// Operators.
    Admin,
    /// An outside expert asked for a statement (uttalelse) on a case: sees only the cases it was
    /// asked about, and answers there.
    Reviewer,
}

/// Things a role may be allowed to do, independent of any particular object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create, edit and submit own applications.
    Apply,
    /// See every submitted application and handle cases.
    HandleCases,
    /// Decide releases and deliver data for the own organisation's sources.
    DecideOwnReleases,
    /// Manage users, roles and organisations.
    ManageUsers,
    /// Edit the catalogue, decision authority and price lists.
    ManageCatalogue,
    /// Read the audit log.
    ReadAudit,
    /// Draft and publish price list versions (admins: every organisation's; register owners:
    /// their own organisation's).
    ManagePriceLists,
    /// Draft, issue, mark paid and waive invoices.
    ManageInvoices,
}

impl Role {
    /// Where a person lands after logging in when no page was asked for: applicants on their
    /// applications, officers on the inbox, owners on their releases queue, admins on the dashboard.
    pub fn home(self) -> &'static str {
        match self {
            Role::Applicant => "/applications",
            Role::CaseOfficer => "/inbox",
            Role::RegisterOwner => "/releases",
            Role::Admin => "/dashboard",
            Role::Reviewer => "/statements",
        }
    }

    /// Every role, in display order.
    pub const ALL: [Role; 5] = [Role::Applicant, Role::CaseOfficer, Role::RegisterOwner, Role::Admin, Role::Reviewer];

    /// The stable code stored in the database and used in the API.
    pub fn code(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::CaseOfficer => "case_officer",
            Role::RegisterOwner => "register_owner",
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Whether the role needs an organisation (register owners belong to one).
    pub fn requires_organisation(self) -> bool {
        self == Role::RegisterOwner
    }

    /// The permission table: the one place that says which role may do what.
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        matches!(
            (self, permission),
            (Role::Applicant, Apply)
                | (Role::CaseOfficer, HandleCases)
                | (Role::RegisterOwner, DecideOwnReleases)
                | (Role::CaseOfficer, ManageInvoices)
                | (Role::RegisterOwner, ManagePriceLists)
                | (Role::Admin, ManageUsers | ManageCatalogue | ReadAudit | ManagePriceLists | ManageInvoices)
        )
    }
}

impl std::fmt::Display for Role {
    /// The stable code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code("root"), None);
    }

    #[test]
    fn only_admins_manage() {
        for r in Role::ALL {
            assert_eq!(r.may(Permission::ManageUsers), r == Role::Admin);
            assert_eq!(r.may(Permission::ManageCatalogue), r == Role::Admin);
        }
    }
}
