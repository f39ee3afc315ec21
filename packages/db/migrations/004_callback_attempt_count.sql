-- Attempts are numbered from a counter on the event, incremented under the event's row lock: two attempts
-- recorded at once (a stalled delivery and the one that took it over, or two notifiers) get 1 and 2, never
-- 1 and 1. Counting the attempts already logged could not see an attempt being written by another transaction.
ALTER TABLE callback_events ADD COLUMN attempt_count integer NOT NULL DEFAULT 0;
UPDATE callback_events e SET attempt_count = a.attempts
FROM (SELECT event_id, max(attempt) AS attempts FROM callback_attempts GROUP BY event_id) a
WHERE a.event_id = e.id;
