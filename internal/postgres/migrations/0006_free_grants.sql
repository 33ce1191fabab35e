-- Initial free credits granted, per UTC day (Unix ms / 86 400 000) and
-- client address (an IPv4 address or an IPv6 /64; '*' is the day's total
-- over all clients). Counted in the transaction that grants, so that
-- concurrent new wallets cannot pass a limit and a restart forgets
-- nothing. Days before yesterday are purged with expired holds.
CREATE TABLE free_grants (
    day    BIGINT  NOT NULL,
    client TEXT    NOT NULL,
    grants BIGINT  NOT NULL DEFAULT 0 CHECK (grants >= 0),
    amount BIGINT  NOT NULL DEFAULT 0 CHECK (amount >= 0),
    PRIMARY KEY (day, client)
);

-- Why a wallet's account was created without its free credits (a limit
-- was reached), for the first 402 it meets; '' when granted or not asked.
ALTER TABLE accounts ADD COLUMN free_denied TEXT NOT NULL DEFAULT '';
