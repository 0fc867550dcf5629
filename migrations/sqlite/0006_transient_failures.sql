-- pricequeue schema, version 6: a failure on transient errors is asked
-- again later.
--
--   tasks.failure: for a task that failed, which kind of failure:
--                  'transient' (its attempts ran out on 5xx answers,
--                  timeouts, resets or rate limits: it cools down until
--                  next_attempt_at, then a run queues it again) or
--                  'permanent' (a 404, an answer that is not a valid price,
--                  or transient errors over every round: it stays failed
--                  until `retry`). Kept after the task moves on, for the
--                  record; NULL for a task that never failed.
--   tasks.rounds:  rounds of attempts that ended in a cool-down; back to
--                  0 when a command queues the task afresh (retry, refresh).
--
-- The failures recorded before this version stay failed until `retry`.

ALTER TABLE tasks ADD COLUMN failure TEXT
    CHECK (failure IS NULL OR failure = 'transient' OR failure = 'permanent');
ALTER TABLE tasks ADD COLUMN rounds INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET failure = 'permanent' WHERE state = 'failed' OR state = 'abandoned';
CREATE INDEX tasks_cooling ON tasks (next_attempt_at) WHERE state = 'failed' AND failure = 'transient';
