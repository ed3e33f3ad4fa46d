-- hookwire schema, version 1 (SQLite). Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE application (
    id              TEXT PRIMARY KEY,
    uid             TEXT UNIQUE,
    name            TEXT NOT NULL,
    retry_schedule  TEXT,               -- JSON array of seconds, NULL = the engine's default
    metadata        TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoint (
    id                          TEXT PRIMARY KEY,
    app_id                      TEXT NOT NULL REFERENCES application(id) ON DELETE CASCADE,
    uid                         TEXT,
    url                         TEXT NOT NULL,
    description                 TEXT NOT NULL DEFAULT '',
    filter_types                TEXT,   -- JSON array, NULL = every event type
    headers                     TEXT NOT NULL DEFAULT '{}',
    disabled                    INTEGER NOT NULL DEFAULT 0,
    disabled_reason             TEXT,
    retry_schedule              TEXT,
    metadata                    TEXT NOT NULL DEFAULT '{}',
    failing_since               INTEGER,
    secret                      TEXT NOT NULL,
    previous_secret             TEXT,
    previous_secret_expires_at  INTEGER,
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL,
    UNIQUE (app_id, uid)
) STRICT;
CREATE INDEX endpoint_by_app ON endpoint (app_id, id);

-- Enabling and disabling, by hand or by the policy, with the reason.
CREATE TABLE endpoint_event (
    id           INTEGER PRIMARY KEY,
    endpoint_id  TEXT NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,         -- 'disabled' | 'enabled'
    reason       TEXT,
    at           INTEGER NOT NULL
) STRICT;

CREATE TABLE event_type (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL DEFAULT '',
    schema       TEXT,
    archived     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE message (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES application(id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    event_id    TEXT,
    payload     BLOB NOT NULL,
    headers     TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX message_by_app ON message (app_id, id);
-- The idempotency key: one message per (application, event id).
CREATE UNIQUE INDEX message_event_id ON message (app_id, event_id) WHERE event_id IS NOT NULL;

-- One message to one endpoint. due_at is when a worker may next take it: the time of the
-- next attempt while pending, the end of the lease while sending. One partial index then
-- serves both "due for an attempt" and "lease expired", and stays as small as the live work
-- however many finished deliveries pile up.
CREATE TABLE delivery (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    endpoint_id     TEXT NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
    app_id          TEXT NOT NULL,
    status          TEXT NOT NULL,      -- pending | sending | succeeded | failed
    attempts        INTEGER NOT NULL DEFAULT 0,   -- every attempt ever made
    round_attempts  INTEGER NOT NULL DEFAULT 0,   -- attempts since the schedule last (re)started
    manual          INTEGER NOT NULL DEFAULT 0,   -- the current round was started by resend/recover
    due_at          INTEGER,
    lease_token     INTEGER NOT NULL DEFAULT 0,   -- fencing token, bumped by every claim
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (message_id, endpoint_id)
) STRICT;
CREATE INDEX delivery_due ON delivery (due_at) WHERE status IN ('pending', 'sending');
CREATE INDEX delivery_by_endpoint ON delivery (endpoint_id, status, updated_at);

CREATE TABLE attempt (
    id             TEXT PRIMARY KEY,
    delivery_id    TEXT NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
    message_id     TEXT NOT NULL,
    endpoint_id    TEXT NOT NULL,
    app_id         TEXT NOT NULL,
    number         INTEGER NOT NULL,
    url            TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    status_code    INTEGER,
    response_body  BLOB NOT NULL,
    error          TEXT,
    error_detail   TEXT,
    succeeded      INTEGER NOT NULL,
    trigger        TEXT NOT NULL
) STRICT;
CREATE INDEX attempt_by_message ON attempt (message_id, id);
CREATE INDEX attempt_by_endpoint ON attempt (endpoint_id, id);
CREATE INDEX attempt_by_delivery ON attempt (delivery_id);
