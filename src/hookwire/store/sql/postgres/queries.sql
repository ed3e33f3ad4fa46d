-- Named queries for PostgreSQL (psycopg placeholders). Times are bigint milliseconds.

-- name: insert_application
INSERT INTO application (id, uid, name, retry_schedule, metadata, created_at, updated_at)
VALUES (%(id)s, %(uid)s, %(name)s, %(retry_schedule)s::jsonb, %(metadata)s::jsonb, %(created_at)s, %(updated_at)s)

-- name: get_application
SELECT * FROM application WHERE id = %(key)s OR uid = %(key)s LIMIT 1

-- name: find_applications
-- By id or uid, for messages created in them together.
SELECT * FROM application WHERE id = ANY(%(keys)s) OR uid = ANY(%(keys)s)

-- name: list_applications
SELECT * FROM application WHERE id > %(after)s ORDER BY id LIMIT %(limit)s

-- name: update_application
UPDATE application
SET uid = %(uid)s, name = %(name)s, retry_schedule = %(retry_schedule)s::jsonb, metadata = %(metadata)s::jsonb,
    updated_at = %(updated_at)s
WHERE id = %(id)s

-- name: delete_application
DELETE FROM application WHERE id = %(id)s

-- name: insert_endpoint
INSERT INTO endpoint (id, app_id, uid, url, description, filter_types, headers, disabled, disabled_reason,
                      retry_schedule, metadata, failing_since, secret, previous_secret,
                      previous_secret_expires_at, created_at, updated_at)
VALUES (%(id)s, %(app_id)s, %(uid)s, %(url)s, %(description)s, %(filter_types)s::jsonb, %(headers)s::jsonb,
        %(disabled)s, %(disabled_reason)s, %(retry_schedule)s::jsonb, %(metadata)s::jsonb, %(failing_since)s,
        %(secret)s, %(previous_secret)s, %(previous_secret_expires_at)s, %(created_at)s, %(updated_at)s)

-- name: get_endpoint
SELECT * FROM endpoint WHERE app_id = %(app_id)s AND (id = %(key)s OR uid = %(key)s) LIMIT 1

-- name: list_endpoints
SELECT * FROM endpoint WHERE app_id = %(app_id)s AND id > %(after)s ORDER BY id LIMIT %(limit)s

-- name: update_endpoint
UPDATE endpoint
SET uid = %(uid)s, url = %(url)s, description = %(description)s, filter_types = %(filter_types)s::jsonb,
    headers = %(headers)s::jsonb, retry_schedule = %(retry_schedule)s::jsonb, metadata = %(metadata)s::jsonb,
    secret = %(secret)s, previous_secret = %(previous_secret)s,
    previous_secret_expires_at = %(previous_secret_expires_at)s, updated_at = %(updated_at)s
WHERE app_id = %(app_id)s AND id = %(id)s

-- name: set_endpoint_disabled
UPDATE endpoint
SET disabled = %(disabled)s, disabled_reason = %(reason)s, failing_since = NULL, updated_at = %(now)s
WHERE app_id = %(app_id)s AND id = %(id)s

-- name: insert_endpoint_event
INSERT INTO endpoint_event (endpoint_id, kind, reason, at) VALUES (%(endpoint_id)s, %(kind)s, %(reason)s, %(at)s)

-- name: delete_endpoint
DELETE FROM endpoint WHERE app_id = %(app_id)s AND id = %(id)s

-- name: fan_out_targets
SELECT id, filter_types FROM endpoint WHERE app_id = %(app_id)s AND NOT disabled

-- name: save_event_type
INSERT INTO event_type (name, description, schema, archived, created_at, updated_at)
VALUES (%(name)s, %(description)s, %(schema)s::jsonb, %(archived)s, %(created_at)s, %(updated_at)s)
ON CONFLICT (name) DO UPDATE
SET description = excluded.description, schema = excluded.schema, archived = excluded.archived,
    updated_at = excluded.updated_at

-- name: get_event_type
SELECT * FROM event_type WHERE name = %(name)s

-- name: list_event_types
SELECT * FROM event_type WHERE name > %(after)s AND (%(include_archived)s OR NOT archived) ORDER BY name LIMIT %(limit)s

-- name: insert_message
INSERT INTO message (id, app_id, event_type, event_id, payload, headers, created_at)
VALUES (%(id)s, %(app_id)s, %(event_type)s, %(event_id)s, %(payload)s, %(headers)s::jsonb, %(created_at)s)
ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
RETURNING id

-- name: get_message_by_event_id
SELECT * FROM message WHERE app_id = %(app_id)s AND event_id = %(event_id)s

-- name: insert_deliveries
INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, due_at, created_at, updated_at)
SELECT d.id, %(message_id)s, d.endpoint_id, %(app_id)s, 'pending', %(now)s, %(now)s, %(now)s
FROM unnest(%(ids)s::text[], %(endpoint_ids)s::text[]) AS d(id, endpoint_id)

-- name: notify
SELECT pg_notify('hookwire_deliveries', '')

-- name: get_message
SELECT * FROM message WHERE app_id = %(app_id)s AND id = %(id)s

-- name: list_messages
SELECT * FROM message
WHERE app_id = %(app_id)s AND id < %(before_id)s AND id >= %(after_id)s
  AND (%(event_types)s::text[] IS NULL OR event_type = ANY(%(event_types)s::text[]))
ORDER BY id DESC LIMIT %(limit)s

-- name: list_deliveries
SELECT * FROM delivery WHERE app_id = %(app_id)s AND message_id = %(message_id)s ORDER BY endpoint_id

-- name: list_attempts
SELECT * FROM attempt
WHERE app_id = %(app_id)s AND id < %(before_id)s
  AND (%(message_id)s::text IS NULL OR message_id = %(message_id)s)
  AND (%(endpoint_id)s::text IS NULL OR endpoint_id = %(endpoint_id)s)
ORDER BY id DESC LIMIT %(limit)s

-- name: claim_due
-- As in SQLite: a bounded look-ahead in due order, then at most the room the worker has per
-- endpoint. SKIP LOCKED lets workers on other machines claim side by side without waiting
-- for each other; rows another transaction is claiming are simply not seen.
-- The chosen ids reach the UPDATE as one array, so the primary key is the only way to them.
-- A join with the chosen rows (as before) left the planner a choice that flipped with the
-- table's size: a hash join over the whole table while it was small, a lookup per row once it
-- was large. Now the plan has one shape at every size, whether it is made for the call's values
-- or is a prepared statement's generic plan (PostgreSQL moves from one to the other as the
-- table grows, since a generic plan takes a LIMIT of unknown value to keep a tenth of the rows).
-- By id, not by ctid: a row changed by another transaction between this statement's snapshot
-- and its lock is followed to its new version and still claimed.
WITH due AS (
    SELECT id, endpoint_id, due_at FROM delivery
    WHERE status IN ('pending', 'sending') AND due_at <= %(now)s
    ORDER BY due_at LIMIT %(scan)s
    FOR UPDATE SKIP LOCKED
), chosen AS (
    SELECT id FROM (
        SELECT id, endpoint_id, due_at,
               row_number() OVER (PARTITION BY endpoint_id ORDER BY due_at) AS rank
        FROM due
    ) ranked
    WHERE rank <= coalesce((%(room)s::jsonb ->> endpoint_id)::int, %(per_endpoint)s)
    ORDER BY due_at LIMIT %(limit)s
)
UPDATE delivery
SET status = 'sending', lease_token = lease_token + 1, due_at = %(lease_until)s, updated_at = %(now)s
WHERE id = ANY (ARRAY(SELECT id FROM chosen))
RETURNING id, lease_token

-- name: defer_blocked
-- As in SQLite: pending deliveries within the look-ahead of endpoints the worker cannot take
-- more of now are made due when it can (:blocked, endpoint id -> time), so that a busy
-- endpoint's backlog does not fill every look-ahead. Rows locked by another claim are skipped.
UPDATE delivery
SET due_at = (%(blocked)s::jsonb ->> endpoint_id)::bigint, updated_at = %(now)s
WHERE id = ANY (ARRAY(
    SELECT id FROM delivery
    WHERE status IN ('pending', 'sending') AND due_at <= %(now)s
    ORDER BY due_at LIMIT %(scan)s
    FOR UPDATE SKIP LOCKED
))
AND status = 'pending' AND %(blocked)s::jsonb ? endpoint_id

-- name: claim_details
SELECT d.id AS delivery_id, d.message_id, d.app_id, d.endpoint_id, d.attempts, d.round_attempts,
       d.manual, m.event_type, m.payload, m.headers AS message_headers, e.url, e.headers AS endpoint_headers,
       e.secret, e.previous_secret, e.previous_secret_expires_at, e.failing_since, e.disabled,
       coalesce(e.retry_schedule, a.retry_schedule) AS retry_schedule
FROM delivery d
JOIN message m ON m.id = d.message_id
JOIN endpoint e ON e.id = d.endpoint_id
JOIN application a ON a.id = d.app_id
WHERE d.id = ANY(%(ids)s::text[])

-- name: record_deliveries
-- One statement for a whole batch of results, so that recording them is one round trip: the
-- deliveries' new state (the lease token fences each row), the attempts of the rows written,
-- and the failing mark taken off the endpoints of those that succeeded. Rows come in as JSON
-- arrays of objects, response bodies in base64.
WITH written AS (
    UPDATE delivery d
    SET status = r.status, due_at = r.due_at, updated_at = %(now)s,
        attempts = d.attempts + r.counted, round_attempts = d.round_attempts + r.counted
    FROM jsonb_to_recordset(%(results)s::jsonb)
         AS r(id text, lease_token bigint, status text, due_at bigint, counted int)
    WHERE d.id = r.id AND d.lease_token = r.lease_token AND d.status = 'sending'
    RETURNING d.id, d.endpoint_id
), attempts AS (
    INSERT INTO attempt (id, delivery_id, message_id, endpoint_id, app_id, number, url, started_at,
                         duration_ms, status_code, response_body, error, error_detail, succeeded, trigger)
    SELECT a.id, a.delivery_id, a.message_id, a.endpoint_id, a.app_id, a.number, a.url, a.started_at,
           a.duration_ms, a.status_code, decode(a.response_body, 'base64'), a.error, a.error_detail,
           a.succeeded, a.trigger
    FROM jsonb_to_recordset(%(attempts)s::jsonb)
         AS a(id text, delivery_id text, message_id text, endpoint_id text, app_id text, number int,
              url text, started_at bigint, duration_ms int, status_code int, response_body text,
              error text, error_detail text, succeeded boolean, trigger text)
    WHERE a.delivery_id IN (SELECT id FROM written)
), recovered AS (
    UPDATE endpoint SET failing_since = NULL
    WHERE id IN (SELECT endpoint_id FROM written WHERE id = ANY (%(succeeded)s::text[]))
      AND failing_since IS NOT NULL
)
SELECT id FROM written

-- name: endpoint_failed
UPDATE endpoint SET failing_since = %(since)s WHERE id = %(id)s AND failing_since IS NULL

-- name: endpoint_auto_disable
UPDATE endpoint SET disabled = true, disabled_reason = %(reason)s, failing_since = NULL, updated_at = %(now)s
WHERE id = %(id)s AND NOT disabled
RETURNING id

-- name: release
UPDATE delivery SET status = 'pending', due_at = %(now)s, updated_at = %(now)s
FROM unnest(%(ids)s::text[], %(tokens)s::bigint[]) AS r(id, lease_token)
WHERE delivery.id = r.id AND delivery.lease_token = r.lease_token AND delivery.status = 'sending'

-- name: next_due
SELECT due_at FROM delivery WHERE status IN ('pending', 'sending') ORDER BY due_at LIMIT 1

-- name: requeue
INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, manual, due_at, created_at, updated_at)
VALUES (%(id)s, %(message_id)s, %(endpoint_id)s, %(app_id)s, 'pending', true, %(now)s, %(now)s, %(now)s)
ON CONFLICT (message_id, endpoint_id) DO UPDATE
SET status = 'pending', round_attempts = 0, manual = true, due_at = %(now)s, updated_at = %(now)s
WHERE delivery.status <> 'sending'
RETURNING *

-- name: get_delivery
SELECT * FROM delivery WHERE message_id = %(message_id)s AND endpoint_id = %(endpoint_id)s

-- name: recover
UPDATE delivery
SET status = 'pending', round_attempts = 0, manual = true, due_at = %(now)s, updated_at = %(now)s
WHERE endpoint_id = %(endpoint_id)s AND app_id = %(app_id)s AND status = 'failed'
  AND message_id >= %(since_id)s

-- name: count_deliveries
SELECT status, count(*) AS n FROM delivery WHERE (%(app_id)s::text IS NULL OR app_id = %(app_id)s) GROUP BY status

-- name: insert_api_key
INSERT INTO api_key (id, app_id, name, key_hash, prefix, created_at)
VALUES (%(id)s, %(app_id)s, %(name)s, %(key_hash)s, %(prefix)s, %(created_at)s)

-- name: get_api_key_by_hash
SELECT * FROM api_key WHERE key_hash = %(key_hash)s

-- name: list_api_keys
SELECT * FROM api_key ORDER BY id

-- name: delete_api_key
DELETE FROM api_key WHERE id = %(id)s

-- name: idempotency_purge
DELETE FROM idempotency WHERE expires_at < %(now)s

-- name: idempotency_start
INSERT INTO idempotency (scope, state, fingerprint, expires_at)
VALUES (%(scope)s, 'started', %(fingerprint)s, %(expires_at)s)
ON CONFLICT (scope) DO NOTHING

-- name: idempotency_get
SELECT * FROM idempotency WHERE scope = %(scope)s

-- name: idempotency_finish
UPDATE idempotency SET state = 'done', status = %(status)s, body = %(body)s WHERE scope = %(scope)s

-- name: idempotency_forget
DELETE FROM idempotency WHERE scope = %(scope)s AND state = 'started'

-- name: endpoint_delivery_counts
SELECT status, count(*) AS n FROM delivery WHERE endpoint_id = %(endpoint_id)s GROUP BY status

-- name: health_figures
SELECT
    (SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')) AS pending,
    (SELECT min(created_at) FROM delivery WHERE status IN ('pending', 'sending')) AS oldest_pending,
    (SELECT count(*) FROM endpoint WHERE disabled) AS disabled_endpoints

-- Figures and searches for the dashboard. Attempt and message ids begin with their creation
-- time (an attempt's id is made after its request started), so "id >= lower bound" narrows a
-- time range through the primary key or the (endpoint_id, id) index, with no index on times.

-- name: attempt_timeline
SELECT (started_at / %(bucket_ms)s::bigint) * %(bucket_ms)s::bigint AS bucket_start, count(*) AS attempts,
       count(*) FILTER (WHERE succeeded) AS succeeded
FROM attempt
WHERE id >= %(since_id)s AND started_at >= %(since)s
  AND (%(app_id)s::text IS NULL OR app_id = %(app_id)s)
GROUP BY bucket_start ORDER BY bucket_start

-- name: endpoint_activity
SELECT e.id AS endpoint_id, w.attempts, w.succeeded,
       l.started_at AS last_attempt_at, l.succeeded AS last_succeeded, l.status_code AS last_status_code
FROM endpoint e
CROSS JOIN LATERAL (
    SELECT count(*) AS attempts, count(*) FILTER (WHERE a.succeeded) AS succeeded FROM attempt a
    WHERE a.endpoint_id = e.id AND a.id >= %(since_id)s AND a.started_at >= %(since)s
) w
LEFT JOIN LATERAL (
    SELECT started_at, succeeded, status_code FROM attempt a
    WHERE a.endpoint_id = e.id ORDER BY a.id DESC LIMIT 1
) l ON true
WHERE e.app_id = %(app_id)s AND e.id = ANY(%(endpoint_ids)s::text[])
ORDER BY e.id

-- name: troubled_endpoints
SELECT * FROM endpoint
WHERE (disabled OR failing_since IS NOT NULL) AND (%(app_id)s::text IS NULL OR app_id = %(app_id)s)
ORDER BY disabled DESC, coalesce(failing_since, updated_at), id
LIMIT %(limit)s

-- name: backlog
SELECT count(*) AS pending, min(created_at) AS oldest_pending FROM delivery
WHERE status IN ('pending', 'sending') AND (%(app_id)s::text IS NULL OR app_id = %(app_id)s)

-- name: count_recoverable
-- The same rows as recover.
SELECT count(*) AS n FROM delivery
WHERE endpoint_id = %(endpoint_id)s AND app_id = %(app_id)s AND status = 'failed'
  AND message_id >= %(since_id)s

-- name: search_messages
SELECT * FROM message m
WHERE m.id < %(before_id)s AND m.id >= %(after_id)s
  AND (%(app_id)s::text IS NULL OR m.app_id = %(app_id)s)
  AND (%(event_type)s::text IS NULL OR m.event_type = %(event_type)s)
  AND (%(status)s::text IS NULL
       OR EXISTS (SELECT 1 FROM delivery d WHERE d.message_id = m.id AND d.status = %(status)s))
ORDER BY m.id DESC LIMIT %(limit)s

-- name: message_delivery_counts
SELECT message_id, status, count(*) AS n FROM delivery
WHERE message_id = ANY(%(message_ids)s::text[])
GROUP BY message_id, status

-- name: insert_messages
-- Many messages in one statement (the group commit of concurrent create_message calls). A
-- message whose event id is taken, by an earlier message or one earlier in the same batch, is
-- skipped and missing from what comes back.
INSERT INTO message (id, app_id, event_type, event_id, payload, headers, created_at)
SELECT * FROM unnest(
    %(ids)s::text[], %(app_ids)s::text[], %(event_types)s::text[], %(event_ids)s::text[],
    %(payloads)s::bytea[], %(headers)s::jsonb[], %(created_ats)s::bigint[]
)
ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
RETURNING id

-- name: fan_out_targets_of_apps
SELECT id, app_id, filter_types FROM endpoint WHERE app_id = ANY(%(app_ids)s::text[]) AND NOT disabled

-- name: insert_leased_deliveries
-- New deliveries written leased to the worker of this process (Store.hand_off_to): as a claim
-- would leave them, sending under the first lease token and due when the lease ends.
INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, due_at, lease_token, created_at, updated_at)
SELECT d.id, d.message_id, d.endpoint_id, d.app_id, 'sending', d.now + %(lease_ms)s, %(lease_token)s,
       d.now, d.now
FROM jsonb_to_recordset(%(rows)s::jsonb) AS d(id text, message_id text, endpoint_id text, app_id text, now bigint)

-- name: insert_deliveries_of_messages
INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, due_at, created_at, updated_at)
SELECT d.id, d.message_id, d.endpoint_id, d.app_id, 'pending', d.now, d.now, d.now
FROM unnest(%(ids)s::text[], %(message_ids)s::text[], %(endpoint_ids)s::text[], %(app_ids)s::text[],
            %(nows)s::bigint[]) AS d(id, message_id, endpoint_id, app_id, now)
