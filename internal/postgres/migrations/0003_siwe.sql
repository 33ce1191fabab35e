-- Sign-In with Ethereum nonces: issued, single use, short-lived.
CREATE TABLE siwe_nonces (
    nonce      TEXT    PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
