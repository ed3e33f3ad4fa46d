-- API keys (stored only as SHA-256 hashes of high-entropy tokens) and idempotency records.

CREATE TABLE api_key (
    id          text PRIMARY KEY,
    app_id      text REFERENCES application(id) ON DELETE CASCADE,
    name        text NOT NULL,
    key_hash    text NOT NULL UNIQUE,
    prefix      text NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE idempotency (
    scope        text PRIMARY KEY,
    state        text NOT NULL,
    fingerprint  text NOT NULL,
    status       integer,
    body         bytea,
    expires_at   bigint NOT NULL
);
CREATE INDEX idempotency_expiry ON idempotency (expires_at);
