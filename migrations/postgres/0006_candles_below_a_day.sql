-- pricequeue schema for PostgreSQL, version 6: candles below a day (1m to
-- 12h), and tasks for them; the same tables as the SQLite schema's
-- version 8, in PostgreSQL's types.
--
--   tasks.interval:  the candles a task is for, as `--interval` spells it
--                  ('1m' .. '12h', or '1d'). The day stays the unit of work:
--                  a task is one (exchange, symbol, interval, UTC day).
--                  Every task queued before this version is '1d', the
--                  day's one price in `prices`, as it was (a constant
--                  default: the column is added without rewriting the
--                  table). `tasks` is now unique on (exchange, symbol,
--                  interval, day), the interval before the day so that a
--                  pair's days at one interval stay one range of the index.
--   task_count_shards, task_counts: keyed by interval too, rebuilt here
--                  from the tasks; the counting trigger's function groups
--                  by it (version 5 says how the shards and triggers work).
--   series:        one row per (exchange, symbol, interval) below a day
--                  that has candles: the names are kept once here, and
--                  each candle carries only the series' int4 id.
--   series_candles: the candles below a day, keyed by (series, minute),
--                  minute = the candle's open time in Unix minutes (UTC),
--                  int4 (good until the year 6053): about 99 bytes a candle,
--                  where an int8 time would take 116 (docs/intervals.md,
--                  "Storage shape"). No foreign key to `series`: checking
--                  one costs a lookup per candle written, and pricequeue
--                  writes both tables itself.
--   candles:       a view of every candle, the ones below a day from
--                  `series_candles` and the daily ones from `prices`, with
--                  the names and the open time as timestamptz: what to
--                  query. `prices` itself is unchanged.

ALTER TABLE tasks ADD COLUMN interval text COLLATE "C" NOT NULL DEFAULT '1d'
    CONSTRAINT tasks_interval_check
    CHECK (interval IN ('1m', '3m', '5m', '15m', '30m', '1h', '2h', '3h', '4h', '6h', '8h', '12h', '1d'));
ALTER TABLE tasks DROP CONSTRAINT tasks_exchange_symbol_day_key;
ALTER TABLE tasks ADD CONSTRAINT tasks_exchange_symbol_interval_day_key UNIQUE (exchange, symbol, interval, day);

DROP VIEW task_counts;
DROP TABLE task_count_shards;
CREATE TABLE task_count_shards (
    exchange text     COLLATE "C" NOT NULL,
    symbol   text     COLLATE "C" NOT NULL,
    interval text     COLLATE "C" NOT NULL,
    source   text     COLLATE "C" NOT NULL,
    state    text     COLLATE "C" NOT NULL,
    shard    smallint NOT NULL,
    n        bigint   NOT NULL,
    PRIMARY KEY (exchange, symbol, interval, source, state, shard)
);
INSERT INTO task_count_shards (exchange, symbol, interval, source, state, shard, n)
    SELECT exchange, symbol, interval, source, state, 0, count(*) FROM tasks
    GROUP BY exchange, symbol, interval, source, state;
CREATE VIEW task_counts AS
    SELECT exchange, symbol, interval, source, state, sum(n)::bigint AS n
    FROM task_count_shards GROUP BY exchange, symbol, interval, source, state;

-- Adds what a statement changed in `tasks` to this connection's shard
-- (the triggers of version 5 call it by name).
CREATE OR REPLACE FUNCTION pricequeue_count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_count_shards (exchange, symbol, interval, source, state, shard, n)
            SELECT exchange, symbol, interval, source, state, pg_backend_pid() % 8, count(*) FROM new_tasks
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (exchange, symbol, interval, source, state, shard)
            DO UPDATE SET n = task_count_shards.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO task_count_shards (exchange, symbol, interval, source, state, shard, n)
            SELECT exchange, symbol, interval, source, state, pg_backend_pid() % 8, -count(*) FROM old_tasks
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (exchange, symbol, interval, source, state, shard)
            DO UPDATE SET n = task_count_shards.n + excluded.n;
    ELSE
        -- Each task out of its old key, into its new one: a key that
        -- lost as many as it gained (a lease renewed, say) is not written.
        INSERT INTO task_count_shards (exchange, symbol, interval, source, state, shard, n)
            SELECT exchange, symbol, interval, source, state, pg_backend_pid() % 8, sum(n) FROM (
                SELECT exchange, symbol, interval, source, state, -1 AS n FROM old_tasks
                UNION ALL
                SELECT exchange, symbol, interval, source, state, 1 FROM new_tasks
            ) c
            GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (exchange, symbol, interval, source, state, shard)
            DO UPDATE SET n = task_count_shards.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TABLE series (
    id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange text    COLLATE "C" NOT NULL,
    symbol   text    COLLATE "C" NOT NULL,
    interval text    COLLATE "C" NOT NULL
             CHECK (interval IN ('1m', '3m', '5m', '15m', '30m', '1h', '2h', '3h', '4h', '6h', '8h', '12h')),
    UNIQUE (exchange, symbol, interval)
);

CREATE TABLE series_candles (
    series integer          NOT NULL,
    -- The open time in Unix minutes (UTC): open_time_ms / 60000.
    minute integer          NOT NULL,
    open   double precision NOT NULL,
    high   double precision NOT NULL,
    low    double precision NOT NULL,
    close  double precision NOT NULL,
    volume double precision NOT NULL,
    PRIMARY KEY (series, minute)
);

CREATE VIEW candles AS
    SELECT s.exchange, s.symbol, s.interval, to_timestamp(c.minute * 60::float8) AS open_time,
           c.open, c.high, c.low, c.close, c.volume
    FROM series s JOIN series_candles c ON c.series = s.id
    UNION ALL
    SELECT exchange, symbol, '1d' COLLATE "C", (day::timestamp AT TIME ZONE 'UTC'), open, high, low, close, volume
    FROM prices;
