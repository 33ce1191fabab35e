-- Signed wallet messages accepted, by the hash of the message, until they
-- expire (timestamp + window): a signed request is accepted once, also
-- across restarts. Expired rows are purged with expired holds.
CREATE TABLE seen_messages (
    hash       BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
