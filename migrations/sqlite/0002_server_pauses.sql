-- pricequeue schema, version 2.
--
-- Pauses a price server asked for (429 or 503 with Retry-After), shared by
-- every process working on this database: none sends a request to
-- `server` (its base URL) before `until` (milliseconds since the epoch).
CREATE TABLE server_pauses (
    server TEXT    PRIMARY KEY,
    until  INTEGER NOT NULL
);
