-- The metered charge of an upto authorization (docs/design.md §5), in a
-- table of its own, written once at capture: set on the authorization's
-- row, whose payment and requirement make it about 2 KB, it grew the row
-- on every capture and made SQLite rebalance its page. Rows captured
-- before keep their charge in upto_authorizations.charge.
CREATE TABLE upto_charges (
    upto_id INTEGER PRIMARY KEY REFERENCES upto_authorizations (id),
    charge  TEXT    NOT NULL
);
