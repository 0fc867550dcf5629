-- pricequeue schema, version 1.
--
-- Two tables are the public interface: `prices` (what was fetched) and
-- `tasks` (the queue: one row per requested exchange, symbol and day).
-- Days are 'YYYY-MM-DD' text so SQLite's date functions apply; timestamps
-- meant for people are ISO 8601 text in UTC; the queue's own clocks
-- (leases, retry times) are integer milliseconds since the Unix epoch.

CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY,
    exchange        TEXT    NOT NULL,
    symbol          TEXT    NOT NULL,
    day             TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    -- queued: waiting (again, after a transient error, from next_attempt_at on)
    -- in_progress: claimed by the worker named in owner, until lease_until
    -- done: the price is in `prices`; no_data: the server answered null
    -- failed: gave up after a permanent error or the last attempt; see last_error
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'in_progress', 'done', 'no_data', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    owner           TEXT,
    lease_until     INTEGER,
    -- Fencing token: bumped by every claim; a completion counts only if it
    -- carries the token of the current claim.
    claims          INTEGER NOT NULL DEFAULT 0,
    enqueued_at     TEXT    NOT NULL,
    finished_at     TEXT,
    UNIQUE (exchange, symbol, day)
);

-- Partial indexes hold only the rows a query looks for, so the common
-- case (done and no_data rows, the bulk of a large queue) costs nothing.
-- The claim query's: queued rows, in the order they come due.
CREATE INDEX tasks_due ON tasks (next_attempt_at, id) WHERE state = 'queued';
-- Lease renewal and recovery: the rows in progress.
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE state = 'in_progress';
-- `status` and `retry`: failed rows, newest first.
CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state = 'failed';

-- Task counts by (exchange, symbol, state), kept by pricequeue in the same
-- transaction as every change it makes to `tasks`: `status` reads a few
-- hundred rows here instead of counting a million tasks. (Triggers would
-- keep it for hand edits too, but cost a third of the queue's speed; after
-- changing `tasks` by hand, run `pricequeue status --recount`.)
CREATE TABLE task_counts (
    exchange TEXT    NOT NULL,
    symbol   TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (exchange, symbol, state)
) WITHOUT ROWID;

CREATE TABLE prices (
    exchange   TEXT NOT NULL,
    symbol     TEXT NOT NULL,
    day        TEXT NOT NULL,
    open       REAL NOT NULL,
    high       REAL NOT NULL,
    low        REAL NOT NULL,
    close      REAL NOT NULL,
    volume     REAL NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (exchange, symbol, day)
) WITHOUT ROWID;
