-- Generated data of the load benchmark (fictitious), the scale of issue 25: 500 users (489
-- generated applicants, six generated case officers and the demo's own), 100 000 applications
-- over every state of a case, one or two requested sources each, releases once complete, the
-- decision of each decided case, and ten
-- events per application (1 000 000). Deterministic from the row number. The events are outside
-- the hash chain (a throw-away database). The demo's own year of history is left as it is. The demo researcher has every hundredth application
-- (1 000, none of them a draft: the status pages' round robin); bench1 has about 200, the list of
-- a busy researcher, and signs in with the demo researcher's password. Open cases older than a
-- month have had their interim reply, as they would have in a running service.
INSERT INTO users (email, name, role, language)
SELECT 'bench' || i || '@example.no', 'Bench-søker ' || i, 'applicant', 'nb' FROM generate_series(1, 489) AS i;
INSERT INTO users (email, name, role, language)
SELECT 'officer' || i || '@example.no', 'Bench-saksbehandler ' || i, 'case_officer', 'nb' FROM generate_series(1, 6) AS i;
UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = 'forsker@demo.helsedata.no'),
                 email_verified_at = now()
WHERE email = 'bench1@example.no';

INSERT INTO applications (applicant_id, reference, state, kind, title, form, assignee_id, submit_count,
                          due_date, created_at, updated_at, first_submitted_at, submitted_at, completed_at, decided_at, delivered_at,
                          interim_reply_at)
SELECT CASE WHEN i % 100 = 0 THEN (SELECT id FROM users WHERE email = 'forsker@demo.helsedata.no')
            ELSE (SELECT id FROM users WHERE email = 'bench' || (i % 489 + 1) || '@example.no') END,
       CASE WHEN st <> 'draft' THEN 'HDS-' || (2000 + i % 10) || '-' || lpad((i / 10)::text, 5, '0') END,
       st, 'identifiable', 'Prosjekt ' || i || ': registerdata og utfall', '__FORM__'::jsonb,
       CASE WHEN st NOT IN ('draft', 'submitted') OR i % 2 = 0 THEN
         CASE WHEN i % 7 = 0 THEN (SELECT id FROM users WHERE email = 'saksbehandler@demo.helsedata.no')
              ELSE (SELECT id FROM users WHERE email = 'officer' || (i % 6 + 1) || '@example.no') END END,
       CASE WHEN st = 'draft' THEN 0 ELSE 1 END,
       CASE WHEN st <> 'draft' THEN current_date + (i % 120 - 30) END,
       t, t, CASE WHEN st <> 'draft' THEN t + interval '1 day' END, CASE WHEN st <> 'draft' THEN t + interval '1 day' END,
       CASE WHEN st IN ('in_review', 'approved', 'delivered', 'closed') THEN t + interval '5 days' END,
       CASE WHEN st IN ('approved', 'delivered', 'closed') THEN t + interval '20 days' END,
       CASE WHEN st IN ('delivered', 'closed') THEN t + interval '40 days' END,
       -- The interim reply a case still open after a month has had (forvaltningsloven § 11 a):
       -- without it the scheduler's first round would send tens of thousands during the runs.
       CASE WHEN st IN ('submitted', 'in_review') AND t + interval '1 day' <= now() - interval '30 days'
            THEN t + interval '31 days' END
FROM (SELECT i, (ARRAY['draft', 'submitted', 'submitted', 'in_review', 'in_review', 'returned', 'approved',
                       'delivered', 'closed', 'in_review'])
               [CASE WHEN i % 100 = 0 THEN (i / 100) % 9 + 1 ELSE (i / 100 + i) % 10 END + 1] AS st,
             now() - (i % 400) * interval '1 day' - (i % 1440) * interval '1 minute' AS t
      FROM generate_series(1, 100000) AS i) AS g;

WITH s AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total FROM data_sources)
INSERT INTO application_sources (application_id, data_source_id)
SELECT a.id, s.id FROM applications a JOIN s ON s.n = a.id % s.total OR (a.id % 3 = 0 AND s.n = (a.id + 7) % s.total)
WHERE a.title LIKE '%: registerdata og utfall';

INSERT INTO releases (application_id, data_source_id, decider, owner_organisation_id, state, decided_at, delivered_at, created_at,
                      reminded_at)
SELECT a.id, d.id, d.decision_authority, d.owner_id,
       CASE a.state WHEN 'in_review' THEN 'pending' WHEN 'approved' THEN 'approved' ELSE 'delivered' END,
       a.decided_at, a.delivered_at, a.completed_at,
       -- A release waiting longer than the reminder interval (14 days by default) has had its
       -- reminder within the last interval, as in a running service.
       CASE WHEN a.state = 'in_review' AND a.completed_at < now() - interval '14 days'
            THEN now() - (a.id % 14) * interval '1 day' - interval '1 hour' END
FROM applications a JOIN application_sources x ON x.application_id = a.id JOIN data_sources d ON d.id = x.data_source_id
WHERE a.state IN ('in_review', 'approved', 'delivered', 'closed') AND a.title LIKE '%: registerdata og utfall';

-- The decision (vedtak) of every decided case, as the service keeps it: the letter as sent, about
-- the size of the demo's (2 KB).
INSERT INTO decisions (application_id, outcome, reasons, language, letter_html, decided_by, decided_at, appeal_deadline)
SELECT a.id, 'approved', 'Innvilget etter helseregisterloven § 19 a.', 'nb',
       '<article><h1>Vedtak om tilgang til helsedata</h1><p>' || a.reference || '</p>'
         || repeat('<p>Søknaden er innvilget på vilkårene nedenfor.</p>', 36) || '</article>',
       a.assignee_id, a.decided_at, (a.decided_at + interval '21 days')::date
FROM applications a
WHERE a.state IN ('approved', 'delivered', 'closed') AND a.title LIKE '%: registerdata og utfall';

INSERT INTO events (at, actor_id, subject_type, subject_id, kind, payload, prev_hash, hash)
SELECT a.created_at + k * interval '1 hour',
       CASE WHEN k <= 6 THEN a.applicant_id ELSE (SELECT id FROM users WHERE email = 'saksbehandler@demo.helsedata.no') END,
       'application', a.id,
       (ARRAY['application.created', 'application.saved', 'application.saved', 'application.saved',
              'application.saved', 'application.submitted', 'application.assigned', 'message.sent',
              'message.sent', 'application.completed'])[k],
       '{}', '', md5('bench-' || a.id || '-' || k)
FROM applications a CROSS JOIN generate_series(1, 10) AS k WHERE a.title LIKE '%: registerdata og utfall';
