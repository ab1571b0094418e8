//! Secure file transfers (sikker filoverføring): the states of a transfer, what each allows,
//! expiry dates and client-supplied checksums.

use chrono::{DateTime, Duration, Utc};

/// Days a transfer stays available when no expiry date is given.
pub const DEFAULT_EXPIRY_DAYS: i64 = 30;
/// The latest expiry date a register owner may set, in days from now.
pub const MAX_EXPIRY_DAYS: i64 = 365;

/// The states of a transfer: `open → available → downloaded → expired | revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Created; the register owner uploads files (recipients see nothing yet).
    Open,
    /// Published: recipients may download.
    Available,
    /// Every file has been downloaded by a recipient (downloads remain possible).
    Downloaded,
    /// Past its expiry date: the bytes are deleted, metadata and receipts kept.
    Expired,
    /// Withdrawn by the register owner: the bytes are deleted.
    Revoked,
}

impl TransferState {
    /// Every state, in lifecycle order.
    pub const ALL: [TransferState; 5] = [
        TransferState::Open,
        TransferState::Available,
        TransferState::Downloaded,
        TransferState::Expired,
        TransferState::Revoked,
    ];

    /// The stable code stored in the database and used in the API.
    pub fn code(self) -> &'static str {
        match self {
            TransferState::Open => "open",
            TransferState::Available => "available",
            TransferState::Downloaded => "downloaded",
            TransferState::Expired => "expired",
            TransferState::Revoked => "revoked",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<TransferState> {
        TransferState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether files may still be added or replaced.
    pub fn accepts_uploads(self) -> bool {
        self == TransferState::Open
    }

    /// Whether recipients may download.
    pub fn downloadable(self) -> bool {
        matches!(self, TransferState::Available | TransferState::Downloaded)
    }

    /// Whether the stored bytes are gone for good.
    pub fn is_final(self) -> bool {
        matches!(self, TransferState::Expired | TransferState::Revoked)
    }
}

/// Whether a person of `role` in `organisation` is staff of `owner` (the organisation holding or
/// receiving a transfer's data).
pub fn is_staff_of(role: super::role::Role, organisation: Option<i64>, owner: i64) -> bool {
    role == super::role::Role::RegisterOwner && organisation == Some(owner)
}

/// Whether the applicant's side sees a transfer: once published, and never a linkage extract
/// sent to another data holder.
pub fn recipient_sees(state: TransferState, to_another_holder: bool) -> bool {
    state != TransferState::Open && !to_another_holder
}

/// One transfer of a case as the linkage rules see it.
#[derive(Debug, Clone, Copy)]
pub struct LinkageFacts {
    pub id: i64,
    pub state: TransferState,
    /// Sent to another data holder for linkage.
    pub to_another_holder: bool,
    /// Linked data made from this extract.
    pub linked_from: Option<i64>,
}

/// Whether linked data are still owed to the researcher: a linkage extract that is not
/// withdrawn or expired unread, with no linked data made from it downloaded by the researcher.
/// Until then the case is not delivered, though the sending release is once received.
pub fn linkage_outstanding(transfers: &[LinkageFacts]) -> bool {
    transfers.iter().filter(|t| t.to_another_holder).any(|extract| {
        let dropped = extract.state.is_final() && extract.state != TransferState::Downloaded;
        let linked_delivered =
            transfers.iter().any(|t| t.linked_from == Some(extract.id) && t.state == TransferState::Downloaded);
        !dropped && !linked_delivered
    })
}

/// Checks that linked data may be made from `extract`: a linkage extract the receiving holder
/// has downloaded in full.
pub fn check_link(extract_state: TransferState, to_another_holder: bool) -> Result<(), TransferRefusal> {
    if !to_another_holder {
        return Err(TransferRefusal::Conflict("err-linked-from-not-extract"));
    }
    match extract_state {
        TransferState::Downloaded => Ok(()),
        TransferState::Expired => Err(TransferRefusal::Gone("err-transfer-expired")),
        TransferState::Revoked => Err(TransferRefusal::Gone("err-transfer-revoked")),
        _ => Err(TransferRefusal::Conflict("err-linked-from-not-received")),
    }
}

/// Why a transfer command is refused in the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferRefusal {
    /// Not allowed now (409).
    Conflict(&'static str),
    /// The files are gone (410).
    Gone(&'static str),
}

/// Checks that a transfer may be published: open, with at least one complete file and no
/// upload in progress.
pub fn check_publish(
    state: TransferState,
    complete_files: usize,
    uploads_in_progress: usize,
) -> Result<(), TransferRefusal> {
    if state != TransferState::Open {
        return Err(TransferRefusal::Conflict("err-transfer-publish-open"));
    }
    if complete_files == 0 {
        return Err(TransferRefusal::Conflict("err-transfer-needs-file"));
    }
    if uploads_in_progress > 0 {
        return Err(TransferRefusal::Conflict("err-transfer-upload-in-progress"));
    }
    Ok(())
}

/// Checks that a transfer has been published (recipients see nothing before).
pub fn check_published(state: TransferState) -> Result<(), TransferRefusal> {
    if state == TransferState::Open {
        return Err(TransferRefusal::Conflict("err-transfer-not-published"));
    }
    Ok(())
}

/// Checks that a recipient may download now.
pub fn check_download(state: TransferState) -> Result<(), TransferRefusal> {
    match state {
        TransferState::Open => Err(TransferRefusal::Conflict("err-transfer-not-published")),
        TransferState::Expired => Err(TransferRefusal::Gone("err-transfer-expired")),
        TransferState::Revoked => Err(TransferRefusal::Gone("err-transfer-revoked")),
        TransferState::Available | TransferState::Downloaded => Ok(()),
    }
}

/// Checks that the register owner may revoke.
pub fn check_revoke(state: TransferState) -> Result<(), TransferRefusal> {
    if state.is_final() {
        return Err(TransferRefusal::Conflict("err-transfer-already-final"));
    }
    Ok(())
}

/// Whether a transfer is past its expiry date at `now` (and not already final).
pub fn is_due_to_expire(state: TransferState, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    !state.is_final() && expires_at <= now
}

/// Why an expiry date is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryError {
    /// Not after `now`.
    InThePast,
    /// More than [`MAX_EXPIRY_DAYS`] ahead.
    TooFar,
}

/// The expiry date of a new transfer: the requested one if it lies within a year, else the default.
pub fn expiry(requested: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ExpiryError> {
    match requested {
        None => Ok(now + Duration::days(DEFAULT_EXPIRY_DAYS)),
        Some(at) if at <= now => Err(ExpiryError::InThePast),
        Some(at) if at > now + Duration::days(MAX_EXPIRY_DAYS) => Err(ExpiryError::TooFar),
        Some(at) => Ok(at),
    }
}

/// A client-supplied SHA-256 (hex, either case) normalised to lowercase; `None` if malformed.
pub fn parse_checksum(text: &str) -> Option<String> {
    let t = text.trim();
    (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.to_ascii_lowercase())
}

/// Whether every complete file has been downloaded by a recipient at least once.
pub fn all_downloaded(files_with_receipts: &[(i64, bool)]) -> bool {
    !files_with_receipts.is_empty() && files_with_receipts.iter().all(|(_, downloaded)| *downloaded)
}

impl std::fmt::Display for TransferState {
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
        for s in TransferState::ALL {
            assert_eq!(TransferState::from_code(s.code()), Some(s));
        }
        assert_eq!(TransferState::from_code("lost"), None);
    }

    #[test]
    fn publishing_needs_an_open_transfer_with_files_and_no_upload_running() {
        assert!(check_publish(TransferState::Open, 1, 0).is_ok());
        assert!(check_publish(TransferState::Open, 0, 0).is_err());
        assert!(check_publish(TransferState::Open, 2, 1).is_err());
        for s in [TransferState::Available, TransferState::Downloaded, TransferState::Expired, TransferState::Revoked] {
            assert!(check_publish(s, 1, 0).is_err(), "{s:?}");
        }
    }

    #[test]
    fn downloads_only_while_published_and_not_final() {
        assert!(matches!(check_download(TransferState::Open), Err(TransferRefusal::Conflict(_))));
        assert!(check_download(TransferState::Available).is_ok());
        assert!(check_download(TransferState::Downloaded).is_ok());
        assert!(matches!(check_download(TransferState::Expired), Err(TransferRefusal::Gone(_))));
        assert!(matches!(check_download(TransferState::Revoked), Err(TransferRefusal::Gone(_))));
        assert!(TransferState::Open.accepts_uploads() && !TransferState::Available.accepts_uploads());
    }

    #[test]
    fn revoke_and_expiry() {
        assert!(check_revoke(TransferState::Open).is_ok());
        assert!(check_revoke(TransferState::Downloaded).is_ok());
        assert!(check_revoke(TransferState::Revoked).is_err());
        assert!(check_revoke(TransferState::Expired).is_err());
        let now = Utc::now();
        assert!(is_due_to_expire(TransferState::Available, now, now));
        assert!(!is_due_to_expire(TransferState::Available, now + Duration::seconds(1), now));
        assert!(!is_due_to_expire(TransferState::Revoked, now - Duration::days(1), now));
    }

    #[test]
    fn expiry_dates() {
        let now = Utc::now();
        assert_eq!(expiry(None, now), Ok(now + Duration::days(30)));
        assert_eq!(expiry(Some(now - Duration::days(1)), now), Err(ExpiryError::InThePast));
        assert_eq!(expiry(Some(now + Duration::days(400)), now), Err(ExpiryError::TooFar));
        assert_eq!(expiry(Some(now + Duration::days(7)), now), Ok(now + Duration::days(7)));
    }

    #[test]
    fn checksums() {
        let h = "AB".repeat(32);
        assert_eq!(parse_checksum(&h), Some("ab".repeat(32)));
        assert_eq!(parse_checksum("abc"), None);
        assert_eq!(parse_checksum(&"zz".repeat(32)), None);
    }

    #[test]
    fn downloaded_when_every_file_has_a_receipt() {
        assert!(!all_downloaded(&[]));
        assert!(!all_downloaded(&[(1, true), (2, false)]));
        assert!(all_downloaded(&[(1, true), (2, true)]));
    }

    #[test]
    fn linked_data_are_owed_until_the_researcher_has_downloaded_them() {
        use TransferState::*;
        let extract = |state| LinkageFacts { id: 1, state, to_another_holder: true, linked_from: None };
        let linked = |state| LinkageFacts { id: 2, state, to_another_holder: false, linked_from: Some(1) };
        let plain = LinkageFacts { id: 3, state: Downloaded, to_another_holder: false, linked_from: None };
        assert!(!linkage_outstanding(&[plain]), "no linkage, nothing owed");
        assert!(linkage_outstanding(&[extract(Available)]), "the extract is on its way");
        assert!(linkage_outstanding(&[extract(Downloaded)]), "received, not yet linked");
        assert!(linkage_outstanding(&[extract(Downloaded), linked(Available)]), "linked, not yet downloaded");
        assert!(!linkage_outstanding(&[extract(Downloaded), linked(Downloaded)]));
        assert!(!linkage_outstanding(&[extract(Revoked)]), "a withdrawn extract owes nothing");
        assert!(linkage_outstanding(&[extract(Downloaded), linked(Revoked)]));
        assert_eq!(check_link(Downloaded, true), Ok(()));
        assert!(check_link(Available, true).is_err() && check_link(Downloaded, false).is_err());
        assert_eq!(check_link(Expired, true), Err(TransferRefusal::Gone("err-transfer-expired")));
    }
}
