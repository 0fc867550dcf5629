-- pricequeue schema, version 3.
--
-- Two new task states:
--   not_yet_due: the day has not ended yet (UTC, plus the grace), or it ended
--                so recently that the server's "no price" may only mean it
--                has not published one yet; it becomes `queued` at
--                next_attempt_at, and no run waits for it.
--   abandoned:   a failure the user accepted (`pricequeue retry --never`):
--                no run fetches it again or reports it as a failure.
-- SQLite cannot change a CHECK constraint in place, so `tasks` is rebuilt
-- (once, inside the migration's transaction) with the same columns.

CREATE TABLE tasks_v3 (
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
                    CHECK (state IN ('queued', 'not_yet_due', 'in_progress', 'done', 'no_data', 'failed', 'abandoned')),
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
INSERT INTO tasks_v3 SELECT * FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v3 RENAME TO tasks;

CREATE INDEX tasks_due ON tasks (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE state = 'in_progress';
CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state = 'failed';
-- Days waiting to come due, in the order they do.
CREATE INDEX tasks_not_yet_due ON tasks (next_attempt_at) WHERE state = 'not_yet_due';

-- Facts about the database itself. `demo`: present when `pricequeue demo`
-- made the file and nothing else has added tasks to it since; only then
-- may the demo replace it.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- `--rate`: the next free request slot (ms since the epoch) for each price
-- server, shared by every process working on this database. A run takes
-- slots in blocks, one `--rate` interval apart, and moves this past them.
CREATE TABLE server_slots (
    server    TEXT    PRIMARY KEY,
    next_slot INTEGER NOT NULL
);
