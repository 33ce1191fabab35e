-- sign-in-with-x (docs/design.md §3): the nonces of paymeter's 402s that a
-- wallet has signed in with, kept until the message that names them can no
-- longer be accepted (its Issued At + the challenge's lifetime), so that
-- each is accepted once, also across restarts. Purged with expired holds.
CREATE TABLE siwx_nonces (
    nonce      TEXT    PRIMARY KEY,
    address    TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);

-- The key of the tag inside every nonce paymeter issues, which shows a
-- nonce to be paymeter's without storing it when it is issued. Made once,
-- so that a challenge issued before a restart is still good after it (and
-- shared by every instance on the database).
CREATE TABLE siwx_key (
    id  BIGINT  PRIMARY KEY CHECK (id = 1),
    key BYTEA   NOT NULL CHECK (octet_length(key) = 32)
);
