-- The outbox: every outbound message, accepted before it is sent, sent by the worker.
CREATE TABLE outbox (
    id                    TEXT PRIMARY KEY,
    to_number             TEXT NOT NULL,
    from_number           TEXT,
    messaging_service_sid TEXT,
    body                  TEXT,
    -- One media URL per line.
    media_urls            TEXT NOT NULL,
    status_callback       TEXT,
    segments              INTEGER NOT NULL,
    -- queued, retrying, sending, sent, refused, failed
    status                TEXT NOT NULL,
    attempts              INTEGER NOT NULL,
    next_attempt_at       INTEGER NOT NULL,
    -- A claimed row is leased until then; a crashed worker's rows become due again after it.
    locked_until          INTEGER,
    message_sid           TEXT,
    error_code            INTEGER,
    error_message         TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_message_sid ON outbox (message_sid);

CREATE TABLE outbox_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id TEXT NOT NULL,
    status    TEXT NOT NULL,
    detail    TEXT,
    at        INTEGER NOT NULL
);
CREATE INDEX outbox_events_by_id ON outbox_events (outbox_id, id);
