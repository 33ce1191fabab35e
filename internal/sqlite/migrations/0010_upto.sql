-- x402 upto authorizations (docs/design.md §5): a Permit2 permit of up to
-- `max` USDC atomic units, claimed before the request is forwarded (its
-- key is single use: chain, payer and Permit2 nonce, since Permit2's
-- nonces are per owner across every token), then charged the metered cost
-- and settled in the background.
--
-- state: claimed (verified, the request runs; `max` is at risk) → due
-- (metered: `cost` nano-credits, `amount` atomic units to settle) →
-- settling (sent; tx_hash once known) → settled (final; the payment and
-- usage entries of `amount` are booked on the payer's wallet account in
-- the same transaction). failed: the chain refused it (allowance revoked,
-- funds moved, expired); retried until its deadline, and its payer is
-- refused until it settles. released: nothing to settle (a cost of 0, an
-- upstream failure, a request that died with its process).
CREATE TABLE upto_authorizations (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE, -- eip155:<chain>/permit2/<payer>/<nonce>
    network     TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    payer       TEXT    NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    max         INTEGER NOT NULL CHECK (max > 0),
    cost        INTEGER NOT NULL DEFAULT 0 CHECK (cost >= 0),
    amount      INTEGER NOT NULL DEFAULT 0 CHECK (amount >= 0 AND amount <= max),
    state       TEXT    NOT NULL CHECK (state IN ('claimed', 'due', 'settling', 'settled', 'failed', 'released')),
    request_id  TEXT    NOT NULL DEFAULT '',
    tx_hash     TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    deadline    INTEGER NOT NULL, -- the permit's, Unix seconds
    -- The payment and its requirement as JSON, and the metered charge
    -- (model, usage parts, subject) booked with the usage entry.
    payload     TEXT    NOT NULL,
    requirement TEXT    NOT NULL,
    charge      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    settled_at  INTEGER
);
CREATE INDEX upto_open ON upto_authorizations (state, updated_at)
    WHERE state IN ('claimed', 'due', 'settling', 'failed');
CREATE INDEX upto_failed_payers ON upto_authorizations (payer) WHERE state = 'failed';

-- What is at risk, kept in the transactions that move it so that a claim
-- decides its caps in O(1): per payer (payer = checksummed address) and in
-- all (payer = '*'). open: the max of claimed authorizations plus the
-- amount of due and settling ones; failed: how many of the payer's failed.
-- `paymeter ledger verify` recomputes both.
CREATE TABLE upto_exposure (
    payer  TEXT    PRIMARY KEY,
    open   INTEGER NOT NULL DEFAULT 0 CHECK (open >= 0),
    failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0)
) WITHOUT ROWID;
