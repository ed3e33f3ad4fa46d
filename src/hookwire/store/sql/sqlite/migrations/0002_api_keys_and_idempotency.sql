-- API keys (stored only as SHA-256 hashes of high-entropy tokens) and idempotency records.

CREATE TABLE api_key (
    id          TEXT PRIMARY KEY,
    app_id      TEXT REFERENCES application(id) ON DELETE CASCADE,  -- NULL: an admin key
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,           -- the first characters, to recognise a key in lists
    created_at  INTEGER NOT NULL
) STRICT;

-- One row per (caller, Idempotency-Key): 'started' while the first request runs, then the
-- response it produced, replayed to every repeat until expires_at.
CREATE TABLE idempotency (
    scope        TEXT PRIMARY KEY,
    state        TEXT NOT NULL,          -- started | done
    fingerprint  TEXT NOT NULL,          -- method, path and body hash of the first request
    status       INTEGER,
    body         BLOB,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX idempotency_expiry ON idempotency (expires_at);
