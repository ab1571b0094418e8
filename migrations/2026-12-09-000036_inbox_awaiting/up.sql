-- The inbox shows the cases waiting for a decision by default (decided, delivered and closed
-- cases, whose past due dates put them first, are a click away): its first page in due-date
-- order is read from this index, as the unfiltered one is from `applications_inbox`. The states
-- are written as the query writes them (`db::cases::awaiting_states_sql`), so that the planner
-- sees the index serves it.
CREATE INDEX applications_inbox_awaiting ON applications (due_date NULLS LAST, id)
    WHERE first_submitted_at IS NOT NULL AND state IN ('submitted', 'returned', 'in_review', 'appealed');
