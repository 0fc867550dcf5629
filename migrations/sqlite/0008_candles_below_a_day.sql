-- pricequeue schema, version 8: candles below a day (1m to 12h), and tasks
-- for them.
--
--   tasks.interval:  the candles a task is for, as `--interval` spells it
--                  ('1m' .. '12h', or '1d'). The day stays the unit of work:
--                  a task is one (exchange, symbol, interval, UTC day).
--                  Every task queued before this version is '1d', the
--                  day's one price in `prices`, as it was. `tasks` is now
--                  unique on (exchange, symbol, interval, day), the
--                  interval before the day so that a pair's days at one
--                  interval stay one range of the index.
--   task_counts:   keyed by interval too (exchange, symbol, interval,
--                  source, state); rebuilt here from the tasks.
--   series:        one row per (exchange, symbol, interval) below a day
--                  that has candles: the names are kept once here, and
--                  each candle carries only the series' small id.
--   series_candles: the candles below a day, keyed by (series, minute),
--                  minute = the candle's open time in Unix minutes (UTC).
--                  WITHOUT ROWID: the table is its primary key's B-tree,
--                  so the key is stored once; about 56 bytes a candle
--                  (docs/intervals.md, "Storage shape";
--                  https://www.sqlite.org/withoutrowid.html). No foreign
--                  key to `series`: SQLite does not enforce one unless
--                  each connection turns it on, and pricequeue writes both
--                  tables itself.
--   candles:       a view of every candle, the ones below a day from
--                  `series_candles` and the daily ones from `prices`, with
--                  the names and the open time as 'YYYY-MM-DDTHH:MM:SSZ'
--                  text in UTC: what to query. `prices` itself is unchanged.
--
-- SQLite cannot change a UNIQUE constraint in place, so `tasks` is rebuilt
-- (once, inside the migration's transaction) with every index and CHECK
-- of version 7. The interval's CHECK is written with OR, as the state's
-- is (version 4 says why: an IN list costs a third of an enqueue).

CREATE TABLE tasks_v8 (
    id              INTEGER PRIMARY KEY,
    exchange        TEXT    NOT NULL,
    symbol          TEXT    NOT NULL,
    day             TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    -- queued: waiting (again, after a transient error, from next_attempt_at on)
    -- not_yet_due: its day has not come due (or, below a day, its next
    --              candle has not closed); queued from next_attempt_at on
    -- in_progress: claimed by the worker named in owner, until lease_until
    -- done: the price is in `prices` (below a day: every candle of the day
    --       is in `series_candles` or proven to have none); no_data: the
    --       source has no price (no candle) that day
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
    interval        TEXT    NOT NULL DEFAULT '1d'
                    CHECK (interval = '1d' OR interval = '1m' OR interval = '3m' OR interval = '5m'
                           OR interval = '15m' OR interval = '30m' OR interval = '1h' OR interval = '2h'
                           OR interval = '3h' OR interval = '4h' OR interval = '6h' OR interval = '8h'
                           OR interval = '12h'),
    UNIQUE (exchange, symbol, interval, day)
);
INSERT INTO tasks_v8 (id, exchange, symbol, day, state, attempts, last_error, next_attempt_at, owner,
                      lease_until, claims, enqueued_at, finished_at, source, failure, rounds, interval)
    SELECT id, exchange, symbol, day, state, attempts, last_error, next_attempt_at, owner,
           lease_until, claims, enqueued_at, finished_at, source, failure, rounds, '1d' FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v8 RENAME TO tasks;

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
    interval TEXT    NOT NULL,
    source   TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (exchange, symbol, interval, source, state)
) WITHOUT ROWID;
INSERT INTO task_counts (exchange, symbol, interval, source, state, n)
    SELECT exchange, symbol, interval, source, state, count(*) FROM tasks
    GROUP BY exchange, symbol, interval, source, state;

CREATE TABLE series (
    id       INTEGER PRIMARY KEY,
    exchange TEXT    NOT NULL,
    symbol   TEXT    NOT NULL,
    interval TEXT    NOT NULL
             CHECK (interval = '1m' OR interval = '3m' OR interval = '5m' OR interval = '15m'
                    OR interval = '30m' OR interval = '1h' OR interval = '2h' OR interval = '3h'
                    OR interval = '4h' OR interval = '6h' OR interval = '8h' OR interval = '12h'),
    UNIQUE (exchange, symbol, interval)
);

CREATE TABLE series_candles (
    series INTEGER NOT NULL,
    -- The open time in Unix minutes (UTC): open_time_ms / 60000.
    minute INTEGER NOT NULL,
    open   REAL    NOT NULL,
    high   REAL    NOT NULL,
    low    REAL    NOT NULL,
    close  REAL    NOT NULL,
    volume REAL    NOT NULL,
    PRIMARY KEY (series, minute)
) WITHOUT ROWID;

CREATE VIEW candles (exchange, symbol, interval, open_time, open, high, low, close, volume) AS
    SELECT s.exchange, s.symbol, s.interval, strftime('%Y-%m-%dT%H:%M:%SZ', c.minute * 60, 'unixepoch'),
           c.open, c.high, c.low, c.close, c.volume
    FROM series s JOIN series_candles c ON c.series = s.id
    UNION ALL
    SELECT exchange, symbol, '1d', day || 'T00:00:00Z', open, high, low, close, volume FROM prices;
