-- pricequeue schema, version 5: tasks remember their source, and a day a
-- source cannot serve has its own state.
--
--   tasks.source:    the source a task is fetched from, by name, as
--                    `--source` spells it: `cryptodb` (the reference API,
--                    and every task queued before this version), a built-in
--                    one (`binance`, `coinbase`, ...) or a declared one.
--   outside_history: the source cannot serve the day at all (Kraken keeps
--                    only its latest 720 daily candles). Not `no_data`,
--                    which says the day had no trades.
--   sources:         the declared sources the queue's tasks name, as the
--                    TOML text they were declared with: every process on
--                    the database fetches them alike. Secrets are not in
--                    it, only the names of the environment variables that
--                    hold them.
--
-- SQLite cannot change a CHECK constraint in place, so `tasks` is rebuilt
-- (once, inside the migration's transaction) with its indexes.

CREATE TABLE tasks_v5 (
    id              INTEGER PRIMARY KEY,
    exchange        TEXT    NOT NULL,
    symbol          TEXT    NOT NULL,
    day             TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    -- queued: waiting (again, after a transient error, from next_attempt_at on)
    -- not_yet_due: its day has not come due; queued from next_attempt_at on
    -- in_progress: claimed by the worker named in owner, until lease_until
    -- done: the price is in `prices`; no_data: the source has no price that day
    -- outside_history: the source cannot serve a day that old
    -- failed: gave up after a permanent error or the last attempt; see last_error
    -- abandoned: a failure given up on for good (`retry --never`); see last_error
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state = 'queued' OR state = 'not_yet_due' OR state = 'in_progress' OR state = 'done'
                           OR state = 'no_data' OR state = 'outside_history' OR state = 'failed'
                           OR state = 'abandoned'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    owner           TEXT,
    lease_until     INTEGER,
    claims          INTEGER NOT NULL DEFAULT 0,
    enqueued_at     TEXT    NOT NULL,
    finished_at     TEXT,
    source          TEXT    NOT NULL DEFAULT 'cryptodb' CHECK (source <> ''),
    UNIQUE (exchange, symbol, day)
);
INSERT INTO tasks_v5 (id, exchange, symbol, day, state, attempts, last_error, next_attempt_at, owner,
                      lease_until, claims, enqueued_at, finished_at)
    SELECT id, exchange, symbol, day, state, attempts, last_error, next_attempt_at, owner,
           lease_until, claims, enqueued_at, finished_at FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v5 RENAME TO tasks;

CREATE INDEX tasks_due ON tasks (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE state = 'in_progress';
CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state = 'failed';
CREATE INDEX tasks_not_yet_due ON tasks (next_attempt_at) WHERE state = 'not_yet_due';

CREATE TABLE sources (
    name        TEXT PRIMARY KEY,
    declaration TEXT NOT NULL,
    stored_at   TEXT NOT NULL
);
