-- hookwire schema, version 1 (PostgreSQL). Times are bigint milliseconds since the Unix epoch,
-- UTC, as in the SQLite schema, so one set of row mappers serves both backends.

CREATE TABLE application (
    id              text PRIMARY KEY,
    uid             text UNIQUE,
    name            text NOT NULL,
    retry_schedule  jsonb,
    metadata        jsonb NOT NULL DEFAULT '{}',
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL
);

CREATE TABLE endpoint (
    id                          text PRIMARY KEY,
    app_id                      text NOT NULL REFERENCES application(id) ON DELETE CASCADE,
    uid                         text,
    url                         text NOT NULL,
    description                 text NOT NULL DEFAULT '',
    filter_types                jsonb,
    headers                     jsonb NOT NULL DEFAULT '{}',
    disabled                    boolean NOT NULL DEFAULT false,
    disabled_reason             text,
    retry_schedule              jsonb,
    metadata                    jsonb NOT NULL DEFAULT '{}',
    failing_since               bigint,
    secret                      text NOT NULL,
    previous_secret             text,
    previous_secret_expires_at  bigint,
    created_at                  bigint NOT NULL,
    updated_at                  bigint NOT NULL,
    UNIQUE (app_id, uid)
);
CREATE INDEX endpoint_by_app ON endpoint (app_id, id);

CREATE TABLE endpoint_event (
    id           bigserial PRIMARY KEY,
    endpoint_id  text NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    reason       text,
    at           bigint NOT NULL
);
CREATE INDEX endpoint_event_by_endpoint ON endpoint_event (endpoint_id);

CREATE TABLE event_type (
    name         text PRIMARY KEY,
    description  text NOT NULL DEFAULT '',
    schema       jsonb,
    archived     boolean NOT NULL DEFAULT false,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL
);

CREATE TABLE message (
    id          text PRIMARY KEY,
    app_id      text NOT NULL REFERENCES application(id) ON DELETE CASCADE,
    event_type  text NOT NULL,
    event_id    text,
    payload     bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{}',
    created_at  bigint NOT NULL
);
CREATE INDEX message_by_app ON message (app_id, id);
CREATE UNIQUE INDEX message_event_id ON message (app_id, event_id) WHERE event_id IS NOT NULL;

-- See the SQLite schema: due_at is the next attempt while pending, the end of the lease while
-- sending, and one partial index serves claims and lease expiry.
CREATE TABLE delivery (
    id              text PRIMARY KEY,
    message_id      text NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    endpoint_id     text NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
    app_id          text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    round_attempts  integer NOT NULL DEFAULT 0,
    manual          boolean NOT NULL DEFAULT false,
    due_at          bigint,
    lease_token     bigint NOT NULL DEFAULT 0,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    UNIQUE (message_id, endpoint_id)
);
CREATE INDEX delivery_due ON delivery (due_at) WHERE status IN ('pending', 'sending');
CREATE INDEX delivery_by_endpoint ON delivery (endpoint_id, status, updated_at);

CREATE TABLE attempt (
    id             text PRIMARY KEY,
    delivery_id    text NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
    message_id     text NOT NULL,
    endpoint_id    text NOT NULL,
    app_id         text NOT NULL,
    number         integer NOT NULL,
    url            text NOT NULL,
    started_at     bigint NOT NULL,
    duration_ms    integer NOT NULL,
    status_code    integer,
    response_body  bytea NOT NULL,
    error          text,
    error_detail   text,
    succeeded      boolean NOT NULL,
    trigger        text NOT NULL
);
CREATE INDEX attempt_by_message ON attempt (message_id, id);
CREATE INDEX attempt_by_endpoint ON attempt (endpoint_id, id);
CREATE INDEX attempt_by_delivery ON attempt (delivery_id);
