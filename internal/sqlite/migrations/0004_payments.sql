-- x402 payments. The key is (chain id, token, payer, EIP-3009 nonce): an
-- authorization can be used once on chain, so paymeter claims its key here
-- before anything is settled, forwarded or credited, and a replayed or
-- concurrent duplicate finds it taken.
--
-- state: claimed (verified, not yet sent) → settling (sent to the
-- facilitator or the chain; tx_hash once known) → settled (final) or
-- failed (final; nothing credited). A settled top-up is credited in the
-- transaction that settles it. A settled request payment is applied when
-- its request is metered (applied_at): the cost as payment and usage, the
-- rest as change to the payer's wallet; one never applied (a crash) is
-- applied in full as change by the sweep. A payment left in claimed or settling by a timeout or a crash
-- is retried by the settlement sweep, never sent twice on chain.
CREATE TABLE payments (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    network     TEXT    NOT NULL,
    payer       TEXT    NOT NULL,
    wallet      TEXT    NOT NULL, -- the wallet credited: the payer, or whom a top-up names
    amount      INTEGER NOT NULL CHECK (amount > 0), -- USDC atomic units (10^-6)
    purpose     TEXT    NOT NULL CHECK (purpose IN ('request', 'topup')),
    request_id  TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL CHECK (state IN ('claimed', 'settling', 'settled', 'failed')),
    tx_hash     TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- The payment and the requirement it paid, as JSON, for retries.
    payload     TEXT    NOT NULL,
    requirement TEXT    NOT NULL,
    account_id  INTEGER REFERENCES accounts (id),
    applied_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX payments_open ON payments (state) WHERE state IN ('claimed', 'settling');
