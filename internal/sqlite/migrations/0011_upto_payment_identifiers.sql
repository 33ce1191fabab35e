-- x402 payment identifiers cover upto payments too (docs/design.md §5):
-- one namespace per payer across exact and upto, so that an id names one
-- payment of either kind. An identifier now names a payment (exact) or an
-- upto authorization, exactly one of them; (payer, id) stays the key.
-- SQLite cannot relax payment_id's NOT NULL in place: the table is rebuilt
-- (nothing references it).
CREATE TABLE payment_identifiers_0011 (
    payer      TEXT    NOT NULL, -- checksummed address of the verified signer
    id         TEXT    NOT NULL CHECK (length(id) BETWEEN 16 AND 128),
    payment_id INTEGER UNIQUE REFERENCES payments (id),
    upto_id    INTEGER UNIQUE REFERENCES upto_authorizations (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (payer, id),
    CHECK ((payment_id IS NULL) <> (upto_id IS NULL))
) WITHOUT ROWID;
INSERT INTO payment_identifiers_0011 (payer, id, payment_id, created_at)
    SELECT payer, id, payment_id, created_at FROM payment_identifiers;
DROP TABLE payment_identifiers;
ALTER TABLE payment_identifiers_0011 RENAME TO payment_identifiers;
