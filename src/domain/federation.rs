//! The first federated login (ID-porten, HelseID …): what may happen to an account when a
//! person first arrives from an identity provider. The rule that stops pre-account take-over:
//! an address is never trusted because a form or a token says so; the person proves it with a
//! code mailed to it before anything is linked, an unconfirmed password account is never adopted
//! with its password (the password is revoked: whoever set it has not proven the address), and
//! accounts with rights beyond an applicant's are never linked by e-mail at all.

use super::role::Role;

/// The account (if any) that holds the address the person proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Nobody,
    /// An applicant's account; `confirmed` when its owner confirmed the address.
    Applicant {
        confirmed: bool,
    },
    /// An officer's, owner's or administrator's account.
    Privileged,
    Deactivated,
}

impl Holder {
    pub fn of(role: Role, confirmed: bool, active: bool) -> Holder {
        match (active, role) {
            (false, _) => Holder::Deactivated,
            (true, Role::Applicant) => Holder::Applicant { confirmed },
            (true, _) => Holder::Privileged,
        }
    }
}

/// What the first login does once the address is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstLogin {
    /// A new applicant account with the proven address.
    Create,
    /// Link the identity to the confirmed applicant account.
    Link,
    /// The address was registered but never confirmed: the person who proved it now owns the
    /// account; the password someone set on it, its sessions and its tokens are revoked.
    Reclaim,
}

/// Whether a mailed code must prove the address first: always, unless the provider vouched for
/// it and nobody holds it (then the account is simply made).
pub fn needs_code(provider_verified_email: bool, holder: Holder) -> bool {
    !(provider_verified_email && holder == Holder::Nobody)
}

/// What the first login may do with the proven address, or why it may not (a refusal key).
pub fn first_login(holder: Holder, may_create: bool) -> Result<FirstLogin, &'static str> {
    match holder {
        Holder::Nobody if may_create => Ok(FirstLogin::Create),
        Holder::Nobody => Err("err-oidc-no-account"),
        Holder::Applicant { confirmed: true } => Ok(FirstLogin::Link),
        Holder::Applicant { confirmed: false } => Ok(FirstLogin::Reclaim),
        Holder::Privileged => Err("err-oidc-privileged"),
        Holder::Deactivated => Err("err-account-deactivated"),
    }
}

/// Wrong codes allowed for one confirmation before it is void.
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Codes one confirmation may mail.
pub const MAX_CODES: i32 = 3;
/// Minutes a code works.
pub const CODE_MINUTES: i64 = 15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileged_accounts_are_never_linked_by_email() {
        for role in [Role::CaseOfficer, Role::RegisterOwner, Role::Admin] {
            assert_eq!(first_login(Holder::of(role, true, true), true), Err("err-oidc-privileged"));
            assert!(needs_code(true, Holder::of(role, true, true)));
        }
    }

    #[test]
    fn unconfirmed_accounts_are_reclaimed_never_adopted_and_codes_come_first() {
        let unconfirmed = Holder::of(Role::Applicant, false, true);
        assert_eq!(first_login(unconfirmed, true), Ok(FirstLogin::Reclaim));
        assert!(needs_code(true, unconfirmed), "even a provider-verified address proves itself by code");
        let confirmed = Holder::of(Role::Applicant, true, true);
        assert_eq!(first_login(confirmed, true), Ok(FirstLogin::Link));
        assert!(needs_code(true, confirmed));
        assert_eq!(first_login(Holder::Nobody, true), Ok(FirstLogin::Create));
        assert!(!needs_code(true, Holder::Nobody));
        assert!(needs_code(false, Holder::Nobody), "ID-porten sends no address: the person gives one");
        assert_eq!(first_login(Holder::Nobody, false), Err("err-oidc-no-account"));
        assert_eq!(first_login(Holder::of(Role::Applicant, true, false), true), Err("err-account-deactivated"));
    }
}
