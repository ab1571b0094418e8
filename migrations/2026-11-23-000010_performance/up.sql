-- Indexes for the filters the officers' inbox and the status page use (found with
-- `scripts/bench-load --queries` and EXPLAIN on the benchmark's 10 000 applications). Pending
-- estimates (estimates_one_pending), invoice parts (their unique key) and the rest of a case's
-- rows already have theirs.

-- The inbox: submitted applications, oldest due first, optionally by state or assignee; the
-- counts per state.
CREATE INDEX applications_inbox ON applications (due_date NULLS LAST, id) WHERE first_submitted_at IS NOT NULL;
CREATE INDEX applications_inbox_state ON applications (state, due_date NULLS LAST, id) WHERE first_submitted_at IS NOT NULL;
CREATE INDEX applications_inbox_assignee ON applications (assignee_id, due_date NULLS LAST, id) WHERE first_submitted_at IS NOT NULL;
-- A case's estimates (status page, API).
CREATE INDEX estimates_application ON estimates (application_id, id);
