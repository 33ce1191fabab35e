-- Replay records in the order they are made (docs/design.md §3): a signed
-- wallet message by the time it names and its replay key, a sign-in-with-x
-- nonce by the Issued At it names. The time is fixed by the message (the
-- signature, or the nonce's tag, covers it), so the pair is as unique as
-- the key alone, and new rows append at the right edge of the primary
-- key's index instead of each landing on a random page.
-- seen_messages and siwx_nonces take no new rows: a claim also looks in
-- them, until the sweep has purged what they hold.
CREATE TABLE wallet_messages (
    signed_at  BIGINT  NOT NULL, -- X-Timestamp, Unix ms
    key        BYTEA   NOT NULL CHECK (octet_length(key) = 32),
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (signed_at, key)
);

CREATE TABLE siwx_claims (
    issued_at  BIGINT  NOT NULL, -- the message's Issued At, Unix ms
    nonce      TEXT    NOT NULL,
    address    TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (issued_at, nonce)
);
