//! Notices (varsler): what people are told of, in the bell and by mail.

/// The bell in every page's header counts unread notices up to this many; beyond it shows
/// "99+". Counting a busy officer's thousands of unread notices on every page would cost each
/// page more than the page itself (issue 25); the notifications page tells the exact number.
pub const BELL_COUNTS_TO: i64 = 100;

/// What the bell shows for `unread` as counted (at most [`BELL_COUNTS_TO`]): the number, or
/// "99+" when there are more than 99.
pub fn bell(unread: i64) -> serde_json::Value {
    if unread >= BELL_COUNTS_TO { serde_json::Value::from("99+") } else { serde_json::Value::from(unread) }
}

/// Every kind of notice, each with a text in both languages (checked by a test) and a mail.
pub const KINDS: &[&str] = &[
    "application.submitted",
    "application.submitted_receipt",
    "application.returned",
    "application.completed",
    "application.assigned",
    "application.withdrawn",
    "application.decided",
    "application.appealed",
    "application.delivered",
    "application.interim_reply",
    "application.deletion_reminder",
    "appeal.reconsidered",
    "appeal.upheld",
    "appeal.helseklage_decided",
    "message.posted",
    "release.to_decide",
    "release.to_deliver",
    "release.decided",
    "release.reminder",
    "estimate.revised",
    "estimate.accepted",
    "invoice.issued",
    "transfer.published",
    "transfer.downloaded",
    "transfer.expiring",
    "linkage.published",
    "linkage.expiring",
    "linkage.received",
    "statement.requested",
    "statement.reminder",
    "statement.answered",
    "statement.received",
    "statement.lapsed",
    "enquiry.opened",
    "enquiry.message",
    "enquiry.answered",
];

/// Where a notice of `kind` with `params` points, in the bell and in its mail: a reviewer's
/// statement (they do not see the case itself); a linkage extract, for its receiving holder;
/// otherwise the case.
pub fn path(kind: &str, params: &serde_json::Value) -> Option<String> {
    let id = |key: &str| params.get(key).and_then(serde_json::Value::as_i64);
    if matches!(kind, "statement.requested" | "statement.reminder" | "statement.lapsed")
        && let Some(s) = id("statement_id")
    {
        return Some(format!("/statements/{s}"));
    }
    if params.get("recipient_organisation_id").is_some()
        && let Some(t) = id("transfer_id")
    {
        return Some(format!("/transfers/{t}"));
    }
    if let Some(e) = id("enquiry_id") {
        return Some(format!("/enquiries/{e}"));
    }
    id("application_id").map(|a| format!("/applications/{a}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_notice_points_where_its_reader_may_look() {
        let p = json!({"application_id": 4, "statement_id": 9, "transfer_id": 2});
        assert_eq!(super::path("statement.requested", &p).as_deref(), Some("/statements/9"));
        assert_eq!(
            super::path("statement.answered", &p).as_deref(),
            Some("/applications/4"),
            "the officer sees the case"
        );
        let linkage = json!({"application_id": 4, "transfer_id": 2, "recipient_organisation_id": 7});
        assert_eq!(super::path("linkage.published", &linkage).as_deref(), Some("/transfers/2"));
        assert_eq!(super::path("message.posted", &json!({})), None);
        assert_eq!(super::path("enquiry.answered", &json!({"enquiry_id": 3})).as_deref(), Some("/enquiries/3"));
    }
}

#[cfg(test)]
mod bell_tests {
    use super::*;

    #[test]
    fn the_bell_shows_up_to_99_then_99_plus() {
        assert_eq!(bell(0), serde_json::json!(0));
        assert_eq!(bell(99), serde_json::json!(99));
        assert_eq!(bell(BELL_COUNTS_TO), serde_json::json!("99+"));
    }
}
