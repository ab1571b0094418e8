UPDATE releases SET state = CASE WHEN decided_at IS NULL THEN 'pending' ELSE 'approved' END,
                    version = version + 1
 WHERE state = 'withdrawn';
ALTER TABLE releases DROP CONSTRAINT releases_state_check;
ALTER TABLE releases ADD CONSTRAINT releases_state_check
    CHECK (state IN ('pending', 'approved', 'rejected', 'delivered'));
