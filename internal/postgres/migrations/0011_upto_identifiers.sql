-- x402 payment identifiers of upto payments: the payment-identifier the
-- 402 declares holds for both schemes, in one namespace per payer. Claimed
-- in ClaimUpto's transaction, after checking that neither this table nor
-- payment_identifiers (exact) holds (payer, id): the same permit again is
-- a replay, another payment under the id a conflict, never served twice.
CREATE TABLE upto_identifiers (
    payer      TEXT    NOT NULL, -- checksummed address of the verified signer
    id         TEXT    NOT NULL CHECK (length(id) BETWEEN 16 AND 128),
    upto_id    BIGINT  NOT NULL UNIQUE REFERENCES upto_authorizations (id),
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (payer, id)
);
