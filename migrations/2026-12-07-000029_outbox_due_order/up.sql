-- The mail worker claims the earliest due message: the pending messages in order of when they are
-- due, then of id, so a claim reads the due rows at the head of this index and nothing else. The
-- claim used to walk the primary key from the oldest message, past every message sent since the
-- service began and every one waiting for later (a retry's backoff): about 25 ms of PostgreSQL
-- CPU per message at 85 000 rows (issue 25).
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
