-- Signed wallet messages accepted, by the hash of the message, until they
-- expire (timestamp + window): a signed request is accepted once, also
-- across restarts. Expired rows are purged with expired holds.
CREATE TABLE seen_messages (
    hash       BYTEA   PRIMARY KEY CHECK (octet_length(hash) = 32),
    expires_at BIGINT  NOT NULL
);
