-- The index of unfinished upto authorizations (the settler's work, and the
-- claims a crash left) is keyed by closed_at IS NULL instead of by state.
-- An index whose key or condition names state is rewritten by every move
-- of state, and the request path's capture (claimed → due) is such a move:
-- measured, that rewrite was most of the capture's cost on SQLite. closed_at
-- is set when an authorization reaches a final state (settled, released),
-- off the request path; `paymeter ledger verify` checks that it agrees with
-- the state. The key, created_at, never changes either.
ALTER TABLE upto_authorizations ADD COLUMN closed_at INTEGER;
UPDATE upto_authorizations SET closed_at = updated_at WHERE state IN ('settled', 'released');
DROP INDEX upto_open;
CREATE INDEX upto_open ON upto_authorizations (created_at) WHERE closed_at IS NULL;
