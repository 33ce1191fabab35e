-- Who within an account spent: a JWT user ("user:<sub>") or a session
-- token ("session:<id>"); empty for the account's own keys. The partial
-- index serves spend caps (the sum of a subject's usage since a time) and
-- costs nothing on the entries of plain keys.
ALTER TABLE entries ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE INDEX entries_by_subject ON entries (account_id, subject, created_at) WHERE subject != '';

-- Session tokens (docs/design.md §3): minted from an API key, their parent;
-- only the SHA-256 of the token is stored. Revoking the parent ends them.
-- AUTOINCREMENT: an id is never reused once expired sessions are purged,
-- since journal entries name sessions by id.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id     INTEGER NOT NULL REFERENCES api_keys (id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    prefix     TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    scopes     TEXT    NOT NULL,
    models     TEXT    NOT NULL DEFAULT '', -- comma-separated allowlist; empty allows every model
    spend_cap  INTEGER CHECK (spend_cap >= 0),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
