-- The public register of approved projects reads the approving decisions newest first and stops
-- when its page is full (issue 25); it scanned every decided case for its latest decision before.
CREATE INDEX decisions_published ON decisions (decided_at DESC, application_id DESC)
  WHERE outcome IN ('approved', 'partially_approved');
