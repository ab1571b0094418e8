# Refusals of commands: why something may not be done (or not now). Shown on pages and as the
# `error` of the JSON API (in English there).

err-recusal-applicant = You applied yourself and may not decide on this case (recusal).
err-recusal-member = You are a member of the project and may not decide on it (recusal).
err-release-hds-decides = Helsedataservice holds the decision authority for this source.
err-release-owner-decides = Only the source's register owner decides this release.
err-release-not-in-review = Releases are decided while the case is in review.
err-release-decided = This release has already been decided.
err-release-owner-delivers = Only the source's register owner delivers its data.
err-release-not-approved = Only an approved, undelivered release can be delivered.
err-release-after-decision = Data are delivered after the decision.
err-role-may-not = Your role may not give this command.
err-only-applicant = Only the applicant may do this.
err-not-in-this-state = This command is not allowed in the application's current state.
err-decide-releases-first = Every release must be decided first.
err-appeal-at-helseklage = The appeal was upheld and sent to Helseklage; it is handled there.
err-appeal-deadline-passed = The appeal deadline (three weeks from the decision) has passed.
err-not-all-delivered = Not every approved release is delivered.
err-close-after-appeal-deadline = The applicant may still appeal; close after the appeal deadline.
err-role-forbids = Your role does not allow this.
err-transfer-release-not-approved = Only an approved release can be delivered through a transfer.
err-transfer-not-published = The transfer has not been published yet.
err-passwords-off = Log-in with a password is turned off here; use the identity provider.
err-retry-dead-only = Only a message that was given up can be retried.
err-token-read-only = This token may only read.
