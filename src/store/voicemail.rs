//! Voicemails: one row per recording, merged from the Record action and Twilio's callbacks.

use sqlx::{AnyConnection, Row};

use super::{Store, StoreError};

/// What one voicemail webhook tells us; `None` leaves what an earlier one stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoicemailEvent {
    pub recording_sid: String,
    pub call_sid: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub recording_url: Option<String>,
    pub duration: Option<i64>,
    pub recording_status: Option<String>,
    pub transcription_sid: Option<String>,
    pub transcription_text: Option<String>,
    pub transcription_status: Option<String>,
    pub at: i64,
}

/// A stored voicemail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Voicemail {
    pub recording_sid: String,
    pub call_sid: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub recording_url: Option<String>,
    pub duration: Option<i64>,
    pub recording_status: Option<String>,
    pub transcription_text: Option<String>,
    pub transcription_status: Option<String>,
}

/// Callbacks arrive in any order, so each fills in only what it knows.
pub(super) async fn upsert(tx: &mut AnyConnection, v: &VoicemailEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO voicemails (recording_sid, call_sid, from_number, to_number, recording_url, duration, \
         recording_status, transcription_sid, transcription_text, transcription_status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (recording_sid) DO UPDATE SET \
         from_number = COALESCE(excluded.from_number, voicemails.from_number), \
         to_number = COALESCE(excluded.to_number, voicemails.to_number), \
         recording_url = COALESCE(excluded.recording_url, voicemails.recording_url), \
         duration = COALESCE(excluded.duration, voicemails.duration), \
         recording_status = COALESCE(excluded.recording_status, voicemails.recording_status), \
         transcription_sid = COALESCE(excluded.transcription_sid, voicemails.transcription_sid), \
         transcription_text = COALESCE(excluded.transcription_text, voicemails.transcription_text), \
         transcription_status = COALESCE(excluded.transcription_status, voicemails.transcription_status), \
         updated_at = excluded.updated_at",
    )
    .bind(&v.recording_sid)
    .bind(&v.call_sid)
    .bind(&v.from)
    .bind(&v.to)
    .bind(&v.recording_url)
    .bind(v.duration)
    .bind(&v.recording_status)
    .bind(&v.transcription_sid)
    .bind(&v.transcription_text)
    .bind(&v.transcription_status)
    .bind(v.at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

const COLUMNS: &str = "recording_sid, call_sid, from_number, to_number, recording_url, duration, \
     recording_status, transcription_text, transcription_status";

fn row(r: &sqlx::any::AnyRow) -> Result<Voicemail, sqlx::Error> {
    Ok(Voicemail {
        recording_sid: r.try_get(0)?,
        call_sid: r.try_get(1)?,
        from: r.try_get(2)?,
        to: r.try_get(3)?,
        recording_url: r.try_get(4)?,
        duration: r.try_get(5)?,
        recording_status: r.try_get(6)?,
        transcription_text: r.try_get(7)?,
        transcription_status: r.try_get(8)?,
    })
}

impl Store {
    pub async fn voicemail(&self, recording_sid: &str) -> Result<Option<Voicemail>, StoreError> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM voicemails WHERE recording_sid = $1"
        ))
        .bind(recording_sid)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(row).transpose()?)
    }

    /// The newest voicemails first, at most `limit`.
    pub async fn recent_voicemails(&self, limit: i64) -> Result<Vec<Voicemail>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM voicemails ORDER BY created_at DESC, recording_sid LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }
}
