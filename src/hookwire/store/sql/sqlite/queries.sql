-- Named queries for SQLite. Parameters are :named. Times are integer milliseconds.

-- name: insert_application
INSERT INTO application (id, uid, name, retry_schedule, metadata, created_at, updated_at)
VALUES (:id, :uid, :name, :retry_schedule, :metadata, :created_at, :updated_at)

-- name: get_application
SELECT * FROM application WHERE id = :key OR uid = :key LIMIT 1

-- name: list_applications
SELECT * FROM application WHERE id > :after ORDER BY id LIMIT :limit

-- name: update_application
UPDATE application
SET uid = :uid, name = :name, retry_schedule = :retry_schedule, metadata = :metadata,
    updated_at = :updated_at
WHERE id = :id

-- name: delete_application
DELETE FROM application WHERE id = :id

-- name: insert_endpoint
INSERT INTO endpoint (id, app_id, uid, url, description, filter_types, headers, disabled,
                      disabled_reason, retry_schedule, metadata, failing_since, secret, previous_secret,
                      previous_secret_expires_at, created_at, updated_at)
VALUES (:id, :app_id, :uid, :url, :description, :filter_types, :headers, :disabled,
        :disabled_reason, :retry_schedule, :metadata, :failing_since, :secret, :previous_secret,
        :previous_secret_expires_at, :created_at, :updated_at)

-- name: get_endpoint
SELECT * FROM endpoint WHERE app_id = :app_id AND (id = :key OR uid = :key) LIMIT 1

-- name: list_endpoints
SELECT * FROM endpoint WHERE app_id = :app_id AND id > :after ORDER BY id LIMIT :limit

-- name: update_endpoint
UPDATE endpoint
SET uid = :uid, url = :url, description = :description, filter_types = :filter_types,
    headers = :headers, retry_schedule = :retry_schedule,
    metadata = :metadata, secret = :secret, previous_secret = :previous_secret,
    previous_secret_expires_at = :previous_secret_expires_at, updated_at = :updated_at
WHERE app_id = :app_id AND id = :id

-- name: set_endpoint_disabled
UPDATE endpoint
SET disabled = :disabled, disabled_reason = :reason, failing_since = NULL, updated_at = :now
WHERE app_id = :app_id AND id = :id

-- name: insert_endpoint_event
INSERT INTO endpoint_event (endpoint_id, kind, reason, at) VALUES (:endpoint_id, :kind, :reason, :at)

-- name: delete_endpoint
DELETE FROM endpoint WHERE app_id = :app_id AND id = :id

-- name: fan_out_targets_of_apps
-- The enabled endpoints of several applications, as one JSON array of [app, endpoint, filter].
SELECT json_group_array(json_array(app_id, id, filter_types)) FROM endpoint
WHERE app_id IN (SELECT value FROM json_each(:app_ids)) AND disabled = 0

-- name: save_event_type
INSERT INTO event_type (name, description, schema, archived, created_at, updated_at)
VALUES (:name, :description, :schema, :archived, :created_at, :updated_at)
ON CONFLICT (name) DO UPDATE
SET description = excluded.description, schema = excluded.schema, archived = excluded.archived,
    updated_at = excluded.updated_at

-- name: get_event_type
SELECT * FROM event_type WHERE name = :name

-- name: list_event_types
SELECT * FROM event_type WHERE name > :after AND (:include_archived OR archived = 0) ORDER BY name LIMIT :limit

-- name: insert_message
INSERT INTO message (id, app_id, event_type, event_id, payload, headers, created_at)
VALUES (:id, :app_id, :event_type, :event_id, :payload, :headers, :created_at)
ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING

-- name: get_message_by_event_id
SELECT * FROM message WHERE app_id = :app_id AND event_id = :event_id

-- name: insert_delivery
INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, due_at, created_at, updated_at)
VALUES (:id, :message_id, :endpoint_id, :app_id, 'pending', :due_at, :now, :now)

-- name: get_message
SELECT * FROM message WHERE app_id = :app_id AND id = :id

-- name: list_messages
SELECT * FROM message
WHERE app_id = :app_id AND id < :before_id AND id >= :after_id
  AND (:event_types IS NULL OR event_type IN (SELECT value FROM json_each(:event_types)))
ORDER BY id DESC LIMIT :limit

-- name: list_deliveries
SELECT * FROM delivery WHERE app_id = :app_id AND message_id = :message_id ORDER BY endpoint_id

-- name: list_attempts
SELECT * FROM attempt
WHERE app_id = :app_id AND id < :before_id
  AND (:message_id IS NULL OR message_id = :message_id)
  AND (:endpoint_id IS NULL OR endpoint_id = :endpoint_id)
ORDER BY id DESC LIMIT :limit

-- name: choose_due
-- The deliveries a claim takes, as one JSON array (one row: the writer thread hands Python's
-- lock back and forth at every row it steps through, so claims and results are written with
-- a few statements of one row each, not one per delivery).
-- The inner scan walks the partial index in due order and stops after :scan rows, so a claim
-- costs the same however large the backlog. The window then keeps, per endpoint, no more than
-- the room the worker has for it (:room, a JSON object endpoint id -> room; :per_endpoint for
-- endpoints it holds nothing of), so a busy endpoint cannot fill a batch. Filtering after the
-- bounded scan, not inside it, matters: inside, an endpoint with a deep backlog and no room
-- would make the scan walk its whole backlog on every claim.
SELECT json_group_array(id) FROM (
    SELECT id FROM (
        SELECT id, endpoint_id, due_at,
               row_number() OVER (PARTITION BY endpoint_id ORDER BY due_at) AS rank
        FROM (
            SELECT id, endpoint_id, due_at FROM delivery
            WHERE status IN ('pending', 'sending') AND due_at <= :now
            ORDER BY due_at LIMIT :scan
        )
    )
    WHERE rank <= coalesce(json_extract(:room, '$."' || endpoint_id || '"'), :per_endpoint)
    ORDER BY due_at LIMIT :limit
)

-- name: defer_blocked
-- Pending deliveries within the look-ahead whose endpoint the worker cannot take more of now
-- (:blocked, a JSON object endpoint id -> when it can) are made due then. Left due, a busy
-- endpoint's backlog would fill every bounded look-ahead and hide everyone else's deliveries
-- behind it. No attempt is counted, and any worker may take them once due.
UPDATE delivery SET due_at = json_extract(:blocked, '$."' || endpoint_id || '"'), updated_at = :now
WHERE id IN (
    SELECT id FROM delivery
    WHERE status IN ('pending', 'sending') AND due_at <= :now
    ORDER BY due_at LIMIT :scan
)
AND status = 'pending' AND json_extract(:blocked, '$."' || endpoint_id || '"') IS NOT NULL

-- name: claim_chosen
-- In the same transaction as choose_due, so nothing else can have taken them in between.
UPDATE delivery
SET status = 'sending', lease_token = lease_token + 1, due_at = :lease_until, updated_at = :now
WHERE id IN (SELECT value FROM json_each(:ids))

-- name: claim_details
-- One JSON array of objects; the payload (a BLOB) as hex, the JSON columns as text.
SELECT json_group_array(json_object(
    'delivery_id', d.id, 'lease_token', d.lease_token, 'message_id', d.message_id,
    'app_id', d.app_id, 'endpoint_id', d.endpoint_id, 'attempts', d.attempts,
    'round_attempts', d.round_attempts, 'manual', d.manual, 'event_type', m.event_type,
    'payload', hex(m.payload), 'message_headers', m.headers, 'url', e.url,
    'endpoint_headers', e.headers, 'secret', e.secret, 'previous_secret', e.previous_secret,
    'previous_secret_expires_at', e.previous_secret_expires_at, 'failing_since', e.failing_since,
    'disabled', e.disabled, 'retry_schedule', COALESCE(e.retry_schedule, a.retry_schedule)
))
FROM delivery d
JOIN message m ON m.id = d.message_id
JOIN endpoint e ON e.id = d.endpoint_id
JOIN application a ON a.id = d.app_id
WHERE d.id IN (SELECT value FROM json_each(:ids))

-- name: record_deliveries
-- :rows is a JSON array of [delivery id, lease token, status, due_at, attempts counted]. Only
-- deliveries still held under that token are written: the others were fenced off (their
-- lease expired and another worker took them over), and that worker's results win.
UPDATE delivery
SET status = json_extract(r.value, '$[2]'),
    due_at = json_extract(r.value, '$[3]'),
    updated_at = :now,
    attempts = attempts + json_extract(r.value, '$[4]'),
    round_attempts = round_attempts + json_extract(r.value, '$[4]')
FROM json_each(:rows) AS r
WHERE delivery.id = json_extract(r.value, '$[0]')
  AND delivery.lease_token = json_extract(r.value, '$[1]') AND delivery.status = 'sending'

-- name: recorded_deliveries
-- After record_deliveries, when it wrote fewer rows than it was given: which it wrote. While a
-- worker holds a lease nobody else changes the row, and whoever takes it over raises the
-- token; so the rows written are those still under the results' tokens.
SELECT json_group_array(d.id)
FROM json_each(:rows) AS r
JOIN delivery d ON d.id = json_extract(r.value, '$[0]')
WHERE d.lease_token = json_extract(r.value, '$[1]') AND d.updated_at = :now

-- name: endpoints_succeeded
UPDATE endpoint SET failing_since = NULL
WHERE id IN (SELECT value FROM json_each(:ids)) AND failing_since IS NOT NULL

-- name: endpoint_failed
UPDATE endpoint SET failing_since = :since WHERE id = :id AND failing_since IS NULL

-- name: endpoint_auto_disable
UPDATE endpoint SET disabled = 1, disabled_reason = :reason, failing_since = NULL, updated_at = :now
WHERE id = :id AND disabled = 0

-- name: release
UPDATE delivery SET status = 'pending', due_at = :now, updated_at = :now
WHERE id = :id AND lease_token = :lease_token AND status = 'sending'

-- name: next_due
SELECT due_at FROM delivery WHERE status IN ('pending', 'sending') ORDER BY due_at LIMIT 1

-- name: requeue
INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, manual, due_at, created_at, updated_at)
VALUES (:id, :message_id, :endpoint_id, :app_id, 'pending', 1, :now, :now, :now)
ON CONFLICT (message_id, endpoint_id) DO UPDATE
SET status = 'pending', round_attempts = 0, manual = 1, due_at = :now, updated_at = :now
WHERE delivery.status <> 'sending'
RETURNING *

-- name: get_delivery
SELECT * FROM delivery WHERE message_id = :message_id AND endpoint_id = :endpoint_id

-- name: recover
UPDATE delivery
SET status = 'pending', round_attempts = 0, manual = 1, due_at = :now, updated_at = :now
WHERE endpoint_id = :endpoint_id AND app_id = :app_id AND status = 'failed'
  AND message_id >= :since_id

-- name: count_deliveries
SELECT status, count(*) AS n FROM delivery WHERE (:app_id IS NULL OR app_id = :app_id) GROUP BY status

-- name: insert_api_key
INSERT INTO api_key (id, app_id, name, key_hash, prefix, created_at)
VALUES (:id, :app_id, :name, :key_hash, :prefix, :created_at)

-- name: get_api_key_by_hash
SELECT * FROM api_key WHERE key_hash = :key_hash

-- name: list_api_keys
SELECT * FROM api_key ORDER BY id

-- name: delete_api_key
DELETE FROM api_key WHERE id = :id

-- name: idempotency_purge
DELETE FROM idempotency WHERE expires_at < :now

-- name: idempotency_start
INSERT INTO idempotency (scope, state, fingerprint, expires_at) VALUES (:scope, 'started', :fingerprint, :expires_at)
ON CONFLICT (scope) DO NOTHING

-- name: idempotency_get
SELECT * FROM idempotency WHERE scope = :scope

-- name: idempotency_finish
UPDATE idempotency SET state = 'done', status = :status, body = :body WHERE scope = :scope

-- name: idempotency_forget
DELETE FROM idempotency WHERE scope = :scope AND state = 'started'

-- name: endpoint_delivery_counts
SELECT status, count(*) AS n FROM delivery WHERE endpoint_id = :endpoint_id GROUP BY status

-- name: health_figures
SELECT
    (SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')) AS pending,
    (SELECT min(created_at) FROM delivery WHERE status IN ('pending', 'sending')) AS oldest_pending,
    (SELECT count(*) FROM endpoint WHERE disabled) AS disabled_endpoints

-- Figures and searches for the dashboard. Attempt and message ids begin with their creation
-- time (an attempt's id is made after its request started), so "id >= lower bound" narrows a
-- time range through the primary key or the (endpoint_id, id) index, with no index on times.

-- name: attempt_timeline
SELECT (started_at / :bucket_ms) * :bucket_ms AS bucket_start, count(*) AS attempts,
       sum(succeeded) AS succeeded
FROM attempt
WHERE id >= :since_id AND started_at >= :since AND (:app_id IS NULL OR app_id = :app_id)
GROUP BY bucket_start ORDER BY bucket_start

-- name: endpoint_activity
SELECT e.id AS endpoint_id,
       (SELECT count(*) FROM attempt a
        WHERE a.endpoint_id = e.id AND a.id >= :since_id AND a.started_at >= :since) AS attempts,
       (SELECT count(*) FROM attempt a
        WHERE a.endpoint_id = e.id AND a.id >= :since_id AND a.started_at >= :since
          AND a.succeeded = 1) AS succeeded,
       l.started_at AS last_attempt_at, l.succeeded AS last_succeeded, l.status_code AS last_status_code
FROM endpoint e
LEFT JOIN attempt l ON l.id = (SELECT max(id) FROM attempt WHERE endpoint_id = e.id)
WHERE e.app_id = :app_id AND e.id IN (SELECT value FROM json_each(:endpoint_ids))
ORDER BY e.id

-- name: troubled_endpoints
SELECT * FROM endpoint
WHERE (disabled = 1 OR failing_since IS NOT NULL) AND (:app_id IS NULL OR app_id = :app_id)
ORDER BY disabled DESC, coalesce(failing_since, updated_at), id
LIMIT :limit

-- name: backlog
SELECT count(*) AS pending, min(created_at) AS oldest_pending FROM delivery
WHERE status IN ('pending', 'sending') AND (:app_id IS NULL OR app_id = :app_id)

-- name: count_recoverable
-- The same rows as recover.
SELECT count(*) AS n FROM delivery
WHERE endpoint_id = :endpoint_id AND app_id = :app_id AND status = 'failed'
  AND message_id >= :since_id

-- name: search_messages
SELECT * FROM message m
WHERE m.id < :before_id AND m.id >= :after_id
  AND (:app_id IS NULL OR m.app_id = :app_id)
  AND (:event_type IS NULL OR m.event_type = :event_type)
  AND (:status IS NULL
       OR EXISTS (SELECT 1 FROM delivery d WHERE d.message_id = m.id AND d.status = :status))
ORDER BY m.id DESC LIMIT :limit

-- name: message_delivery_counts
SELECT message_id, status, count(*) AS n FROM delivery
WHERE message_id IN (SELECT value FROM json_each(:message_ids))
GROUP BY message_id, status
