-- Voicemails left through <Record>: filled in by the Record action, the recording status
-- callback and the transcription callback, in whatever order Twilio sends them.
CREATE TABLE voicemails (
    recording_sid        TEXT PRIMARY KEY,
    call_sid             TEXT NOT NULL,
    from_number          TEXT,
    to_number            TEXT,
    recording_url        TEXT,
    duration             BIGINT,
    recording_status     TEXT,
    transcription_sid    TEXT,
    transcription_text   TEXT,
    transcription_status TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX voicemails_by_call ON voicemails (call_sid);
CREATE INDEX voicemails_by_time ON voicemails (created_at);
