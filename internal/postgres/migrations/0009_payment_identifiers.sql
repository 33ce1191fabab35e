-- x402 payment identifiers (the payment-identifier extension): a client's
-- idempotency key for one payment, scoped to the payer that signed it, so
-- that nobody else's payment can claim, block or read it. Claimed in the
-- transaction that claims the payment (ClaimPayment): the same id with the
-- same payment is a replay, answered with the original receipt and charge
-- and never served or settled again; with another payment, a conflict.
CREATE TABLE payment_identifiers (
    payer      TEXT    NOT NULL, -- checksummed address of the verified signer
    id         TEXT    NOT NULL CHECK (length(id) BETWEEN 16 AND 128),
    payment_id BIGINT  NOT NULL UNIQUE REFERENCES payments (id),
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (payer, id)
);
