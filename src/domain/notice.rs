//! Notices (varsler): what people are told of, in the bell and by mail.

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
];
