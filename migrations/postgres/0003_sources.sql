-- pricequeue schema for PostgreSQL, version 3: tasks remember their
-- source, and a day a source cannot serve has its own state.
--
--   tasks.source:    the source a task is fetched from, by name, as
--                    `--source` spells it: `cryptodb` (the reference API,
--                    and every task queued before this version), a built-in
--                    one (`binance`, `coinbase`, ...) or a declared one.
--   outside_history: the source cannot serve the day at all (Kraken keeps
--                    only its latest 720 daily candles). Not `no_data`.
--   sources:         the declared sources the queue's tasks name, as the
--                    TOML text they were declared with, so that every host
--                    fetches them alike. Secrets are not in it, only the
--                    names of the environment variables that hold them,
--                    read on the host that runs `work`.
ALTER TABLE tasks ADD COLUMN source text NOT NULL DEFAULT 'cryptodb' CHECK (source <> '');
ALTER TABLE tasks DROP CONSTRAINT tasks_state_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_state_check
    CHECK (state IN ('queued', 'not_yet_due', 'in_progress', 'done', 'no_data', 'outside_history', 'failed',
                     'abandoned'));

CREATE TABLE sources (
    name        text PRIMARY KEY,
    declaration text NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now()
);
