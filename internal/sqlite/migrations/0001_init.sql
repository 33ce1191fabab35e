-- Accounts carry a cached balance and held total, both maintained in the
-- same transaction as the journal rows and holds they summarise;
-- `paymeter ledger verify` recomputes them. The CHECK is the last line of
-- defence for "available never below zero": a batch that would break it
-- fails as a whole.
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('app', 'wallet')),
    name         TEXT    NOT NULL DEFAULT '',
    address      TEXT    UNIQUE,
    balance      INTEGER NOT NULL DEFAULT 0,
    held         INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    free_granted INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    CHECK (balance - held >= 0)
);

-- The journal is append-only: amounts in nano-credits (10^-9 credit),
-- signed (usage is negative); ref is unique per kind so that a payment or
-- a request is booked at most once.
CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('grant', 'topup', 'payment', 'usage', 'change', 'adjustment')),
    amount        INTEGER NOT NULL,
    ref           TEXT    NOT NULL,
    request_id    TEXT    NOT NULL DEFAULT '',
    model         TEXT    NOT NULL DEFAULT '',
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    estimated     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    UNIQUE (kind, ref)
);
CREATE INDEX entries_by_account ON entries (account_id, id);

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are append-only');
END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are append-only');
END;

-- Active holds. A row exists from the moment a request's worst case is
-- reserved until it is captured, released, or expired.
CREATE TABLE holds (
    id         TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
-- No index on expires_at: the table holds only in-flight requests, and the
-- expiry sweep scanning it is cheaper than maintaining an index per request.

-- API keys: only the SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    scopes       TEXT    NOT NULL,
    rate_limit   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_by_account ON api_keys (account_id);
