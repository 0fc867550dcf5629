-- pricequeue schema, version 4.
--
-- The same table, the same rows, the same rule: `tasks.state` is one of
-- the seven states. The CHECK that says so is written with OR instead of
-- IN: SQLite evaluates an IN list in a CHECK constraint at about half a
-- microsecond a row (measured with SQLite 3.51, the bundled one), which
-- was a third of the time an enqueue of a million tasks took; the ORs
-- cost almost nothing. SQLite cannot change a CHECK in place, so `tasks`
-- is rebuilt once, in the migration's transaction, with its indexes.

CREATE TABLE tasks_v4 (
    id              INTEGER PRIMARY KEY,
    exchange        TEXT    NOT NULL,
    symbol          TEXT    NOT NULL,
    day             TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    -- queued: waiting (again, after a transient error, from next_attempt_at on)
    -- not_yet_due: its day has not come due; queued from next_attempt_at on
    -- in_progress: claimed by the worker named in owner, until lease_until
    -- done: the price is in `prices`; no_data: the server answered null
    -- failed: gave up after a permanent error or the last attempt; see last_error
    -- abandoned: a failure given up on for good (`retry --never`); see last_error
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state = 'queued' OR state = 'not_yet_due' OR state = 'in_progress' OR state = 'done'
                           OR state = 'no_data' OR state = 'failed' OR state = 'abandoned'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    owner           TEXT,
    lease_until     INTEGER,
    claims          INTEGER NOT NULL DEFAULT 0,
    enqueued_at     TEXT    NOT NULL,
    finished_at     TEXT,
    UNIQUE (exchange, symbol, day)
);
INSERT INTO tasks_v4 SELECT * FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v4 RENAME TO tasks;

CREATE INDEX tasks_due ON tasks (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE state = 'in_progress';
CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state = 'failed';
CREATE INDEX tasks_not_yet_due ON tasks (next_attempt_at) WHERE state = 'not_yet_due';
