-- The inbox shows the open cases by default (not the closed and withdrawn ones, whose past due
-- dates put them first): its first page in due-date order is read from this index, as the
-- unfiltered one is from `applications_inbox`. The states are written as the query writes
-- them (`db::cases::open_states_sql`), so that the planner sees the index serves it.
CREATE INDEX applications_inbox_open ON applications (due_date NULLS LAST, id)
    WHERE first_submitted_at IS NOT NULL AND state NOT IN ('closed', 'withdrawn');
