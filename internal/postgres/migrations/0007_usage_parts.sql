-- A usage entry's tokens in the parts they were billed by (docs/design.md
-- §2): input_tokens is the uncached input; cached reads, cache writes (five
-- minutes, one hour) and images have rates of their own; reasoning tokens
-- are part of output_tokens, recorded only. Older entries read 0.
ALTER TABLE entries ADD COLUMN cached_input_tokens   BIGINT NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN cache_write_tokens    BIGINT NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN reasoning_tokens      BIGINT NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN images                BIGINT NOT NULL DEFAULT 0;
