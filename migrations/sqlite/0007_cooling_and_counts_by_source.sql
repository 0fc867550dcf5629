-- pricequeue schema, version 7: a task cooling down has a state of its
-- own, and the counts are kept by source too.
--
--   tasks.state 'cooling': its attempts ran out on transient errors (5xx
--                  answers, timeouts, resets, rate limits); a run from
--                  next_attempt_at on queues it again. Until version 6 such
--                  a task was state 'failed' with failure 'transient': those
--                  rows are carried over. `WHERE state = 'failed'` now means
--                  "a person is needed". tasks.failure stays, for the record
--                  ('transient' on a cooling task, 'permanent' on a failed one).
--   task_counts:   tasks by (exchange, symbol, source, state), kept in the
--                  same transaction as every change pricequeue makes to
--                  `tasks`, so `status` and a run's start read a few rows
--                  instead of the queue. Rebuilt here from the tasks.
--
-- SQLite cannot change a CHECK constraint in place, so `tasks` is rebuilt
-- (once, inside the migration's transaction) with its indexes.

CREATE TABLE tasks_v7 (
    id              INTEGER PRIMARY KEY,
    exchange        TEXT    NOT NULL,
    symbol          TEXT    NOT NULL,
    day             TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    -- queued: waiting (again, after a transient error, from next_attempt_at on)
    -- not_yet_due: its day has not come due; queued from next_attempt_at on
    -- in_progress: claimed by the worker named in owner, until lease_until
    -- done: the price is in `prices`; no_data: the source has no price that day
    -- outside_history: the source cannot serve a day that old
    -- cooling: attempts ran out on transient errors; queued again from next_attempt_at on
    -- failed: gave up after a permanent error or every round; a person is needed; see last_error
    -- abandoned: a failure given up on for good (`retry --never`); see last_error
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state = 'queued' OR state = 'not_yet_due' OR state = 'in_progress' OR state = 'done'
                           OR state = 'no_data' OR state = 'outside_history' OR state = 'cooling'
                           OR state = 'failed' OR state = 'abandoned'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    owner           TEXT,
    lease_until     INTEGER,
    claims          INTEGER NOT NULL DEFAULT 0,
    enqueued_at     TEXT    NOT NULL,
    finished_at     TEXT,
    source          TEXT    NOT NULL DEFAULT 'cryptodb' CHECK (source <> ''),
    failure         TEXT    CHECK (failure IS NULL OR failure = 'transient' OR failure = 'permanent'),
    rounds          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (exchange, symbol, day)
);
INSERT INTO tasks_v7 (id, exchange, symbol, day, state, attempts, last_error, next_attempt_at, owner,
                      lease_until, claims, enqueued_at, finished_at, source, failure, rounds)
    SELECT id, exchange, symbol, day,
           CASE WHEN state = 'failed' AND failure = 'transient' THEN 'cooling' ELSE state END,
           attempts, last_error, next_attempt_at, owner,
           lease_until, claims, enqueued_at, finished_at, source, failure, rounds FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v7 RENAME TO tasks;

CREATE INDEX tasks_due ON tasks (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE state = 'in_progress';
-- What `status` lists: the failures, a person needed or not.
CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state = 'failed' OR state = 'cooling';
CREATE INDEX tasks_not_yet_due ON tasks (next_attempt_at) WHERE state = 'not_yet_due';
CREATE INDEX tasks_cooling ON tasks (next_attempt_at) WHERE state = 'cooling';

DROP TABLE task_counts;
CREATE TABLE task_counts (
    exchange TEXT    NOT NULL,
    symbol   TEXT    NOT NULL,
    source   TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (exchange, symbol, source, state)
) WITHOUT ROWID;
INSERT INTO task_counts (exchange, symbol, source, state, n)
    SELECT exchange, symbol, source, state, count(*) FROM tasks GROUP BY exchange, symbol, source, state;
