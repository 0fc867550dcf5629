-- pricequeue schema for PostgreSQL, version 5: a task cooling down has a
-- state of its own, and the counts are kept by source too, by triggers.
--
--   tasks.state 'cooling': its attempts ran out on transient errors (5xx
--                  answers, timeouts, resets, rate limits); a run from
--                  next_attempt_at on queues it again. Until version 4 such
--                  a task was state 'failed' with failure 'transient': those
--                  rows are carried over. `WHERE state = 'failed'` now means
--                  "a person is needed". tasks.failure stays, for the record.
--   task_count_shards, task_counts: tasks by (exchange, symbol, source,
--                  state), rebuilt here from the tasks. Kept by three
--                  statement-level triggers on `tasks` (insert, update,
--                  delete) that add what each statement moved, read from
--                  its transition tables: every change to `tasks`, by
--                  pricequeue or by hand, is counted, once per statement.
--                  Each key has up to 8 rows (shards), a connection adding
--                  to the shard of its backend pid, so workers completing
--                  tasks of one pair seldom wait on one row lock; a
--                  statement adds its rows in key order, so two never wait
--                  on each other in a cycle.

ALTER TABLE tasks DROP CONSTRAINT tasks_state_check;
UPDATE tasks SET state = 'cooling' WHERE state = 'failed' AND failure = 'transient';
ALTER TABLE tasks ADD CONSTRAINT tasks_state_check
    CHECK (state IN ('queued', 'not_yet_due', 'in_progress', 'done', 'no_data', 'outside_history', 'cooling',
                     'failed', 'abandoned'));
DROP INDEX tasks_cooling;
CREATE INDEX tasks_cooling ON tasks (next_attempt_at) WHERE state = 'cooling';
-- What `status` lists: the failures, a person needed or not.
DROP INDEX tasks_failed;
CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state IN ('failed', 'cooling');

DROP VIEW task_counts;
DROP TABLE task_count_shards;
CREATE TABLE task_count_shards (
    exchange text     COLLATE "C" NOT NULL,
    symbol   text     COLLATE "C" NOT NULL,
    source   text     COLLATE "C" NOT NULL,
    state    text     COLLATE "C" NOT NULL,
    shard    smallint NOT NULL,
    n        bigint   NOT NULL,
    PRIMARY KEY (exchange, symbol, source, state, shard)
);
INSERT INTO task_count_shards (exchange, symbol, source, state, shard, n)
    SELECT exchange, symbol, source, state, 0, count(*) FROM tasks GROUP BY exchange, symbol, source, state;
CREATE VIEW task_counts AS
    SELECT exchange, symbol, source, state, sum(n)::bigint AS n
    FROM task_count_shards GROUP BY exchange, symbol, source, state;

-- Adds what a statement changed in `tasks` to this connection's shard.
CREATE OR REPLACE FUNCTION pricequeue_count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_count_shards (exchange, symbol, source, state, shard, n)
            SELECT exchange, symbol, source, state, pg_backend_pid() % 8, count(*) FROM new_tasks
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (exchange, symbol, source, state, shard) DO UPDATE SET n = task_count_shards.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO task_count_shards (exchange, symbol, source, state, shard, n)
            SELECT exchange, symbol, source, state, pg_backend_pid() % 8, -count(*) FROM old_tasks
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (exchange, symbol, source, state, shard) DO UPDATE SET n = task_count_shards.n + excluded.n;
    ELSE
        -- Each task out of its old key, into its new one: a key that
        -- lost as many as it gained (a lease renewed, say) is not written.
        INSERT INTO task_count_shards (exchange, symbol, source, state, shard, n)
            SELECT exchange, symbol, source, state, pg_backend_pid() % 8, sum(n) FROM (
                SELECT exchange, symbol, source, state, -1 AS n FROM old_tasks
                UNION ALL
                SELECT exchange, symbol, source, state, 1 FROM new_tasks
            ) c
            GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
            ON CONFLICT (exchange, symbol, source, state, shard) DO UPDATE SET n = task_count_shards.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_counted_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION pricequeue_count_tasks();
CREATE TRIGGER tasks_counted_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION pricequeue_count_tasks();
CREATE TRIGGER tasks_counted_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION pricequeue_count_tasks();
