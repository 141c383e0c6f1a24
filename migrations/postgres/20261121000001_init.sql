-- switchboard store, PostgreSQL dialect. Times are unix milliseconds.

-- A webhook seen once: its replay key and the answer we gave, returned again on a replay.
CREATE TABLE webhook_replays (
    replay_key  TEXT PRIMARY KEY,
    response    TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE inbound_messages (
    message_sid           TEXT PRIMARY KEY,
    account_sid           TEXT,
    messaging_service_sid TEXT,
    from_number           TEXT NOT NULL,
    to_number             TEXT NOT NULL,
    body                  TEXT NOT NULL,
    num_media             BIGINT NOT NULL,
    num_segments          BIGINT,
    from_city    TEXT, from_state TEXT, from_zip TEXT, from_country TEXT,
    to_city      TEXT, to_state   TEXT, to_zip   TEXT, to_country   TEXT,
    received_at           BIGINT NOT NULL
);

CREATE TABLE inbound_media (
    message_sid  TEXT NOT NULL,
    idx          BIGINT NOT NULL,
    url          TEXT NOT NULL,
    content_type TEXT,
    PRIMARY KEY (message_sid, idx)
);

-- Current opt-out state per (our number or Messaging Service, their number) ...
CREATE TABLE opt_outs (
    scope      TEXT NOT NULL,
    number     TEXT NOT NULL,
    opted_out  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, number)
);

-- ... and its full history.
CREATE TABLE opt_out_events (
    id          BIGSERIAL PRIMARY KEY,
    scope       TEXT NOT NULL,
    number      TEXT NOT NULL,
    opted_out   BIGINT NOT NULL,
    keyword     TEXT NOT NULL,
    source      TEXT NOT NULL,
    message_sid TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX opt_out_events_by_number ON opt_out_events (scope, number, id);

CREATE TABLE message_status (
    message_sid TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    status_rank BIGINT NOT NULL,
    error_code  BIGINT,
    from_number TEXT,
    to_number   TEXT,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE message_events (
    id          BIGSERIAL PRIMARY KEY,
    message_sid TEXT NOT NULL,
    status      TEXT NOT NULL,
    error_code  BIGINT,
    received_at BIGINT NOT NULL
);
CREATE INDEX message_events_by_sid ON message_events (message_sid, id);

CREATE TABLE calls (
    call_sid    TEXT PRIMARY KEY,
    account_sid TEXT,
    from_number TEXT NOT NULL,
    to_number   TEXT NOT NULL,
    direction   TEXT,
    status      TEXT NOT NULL,
    status_rank BIGINT NOT NULL,
    duration    BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE call_events (
    id          BIGSERIAL PRIMARY KEY,
    call_sid    TEXT NOT NULL,
    status      TEXT NOT NULL,
    duration    BIGINT,
    received_at BIGINT NOT NULL
);
CREATE INDEX call_events_by_sid ON call_events (call_sid, id);

-- WhatsApp's 24-hour customer service window: the user's last inbound message.
CREATE TABLE whatsapp_windows (
    business        TEXT NOT NULL,
    user_address    TEXT NOT NULL,
    last_inbound_at BIGINT NOT NULL,
    PRIMARY KEY (business, user_address)
);
