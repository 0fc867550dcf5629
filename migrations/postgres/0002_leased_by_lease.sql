-- pricequeue schema for PostgreSQL, version 2: `tasks_leased` holds the
-- rows that have a lease, by the lease column itself (a claim sets
-- lease_until; a completion or a recovery clears it), not by
-- `state = 'in_progress'`.
--
-- Why: with the old predicate, any query that checks a task is still in
-- progress could be planned through this index. A completion looks its
-- tasks up by id and checks `state = 'in_progress'`; with statistics taken
-- while nothing was in progress (right after an enqueue, the state every
-- `ANALYZE` of a fresh queue sees), the planner expected this index to
-- hold one row, read it first, and compared each row in it with every
-- completion of the batch: 63-149 ms for a batch of 256 with 8 processes
-- (auto_explain), and 4,000 tasks/s instead of 40,000 in the storage
-- benchmark. Queries that want the leased rows now say
-- `lease_until IS NOT NULL` (or compare lease_until), which this index
-- answers; a check of the state alone goes by primary key.
DROP INDEX tasks_leased;
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE lease_until IS NOT NULL;
