-- The budget a hold was taken within (docs/design.md §4): the subject (a
-- session token, a JWT user) and the start of its budget, so that the
-- PostgreSQL ledger, which decides holds in the database for every
-- instance, counts a subject's active holds against its cap. The SQLite
-- ledger decides budgets in its one process's memory and leaves these
-- empty.
ALTER TABLE holds ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE holds ADD COLUMN budget_since BIGINT NOT NULL DEFAULT 0;
