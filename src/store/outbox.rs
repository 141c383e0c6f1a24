//! The outbox's rows: accepted sends, claimed by a worker under a lease, and their history.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::model::{Effect, now_millis};
use super::{Backend, Store, StoreError, Write};

/// A send accepted from the API, the CLI or the IVR, before any attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: Option<String>,
    pub media_urls: Vec<String>,
    pub status_callback: Option<String>,
    pub segments: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: Option<String>,
    pub media_urls: Vec<String>,
    pub status_callback: Option<String>,
    pub segments: i64,
    /// queued, retrying, sending, sent, refused or failed.
    pub status: String,
    pub attempts: i64,
    pub message_sid: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub created_at: i64,
}

impl OutboxRow {
    /// Pacing and opt-outs are per Messaging Service when there is one, else per number.
    pub fn sender(&self) -> &str {
        self.messaging_service_sid
            .as_deref()
            .or(self.from.as_deref())
            .unwrap_or("")
    }
}

/// What a worker learnt from one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    Sent {
        id: String,
        message_sid: String,
        detail: String,
    },
    Retry {
        id: String,
        next_attempt_at: i64,
        code: Option<i64>,
        detail: String,
    },
    Failed {
        id: String,
        code: Option<i64>,
        detail: String,
    },
    Refused {
        id: String,
        detail: String,
    },
}

/// One line of a message's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    pub status: String,
    pub detail: Option<String>,
    pub at: i64,
}

const COLUMNS: &str = "id, to_number, from_number, messaging_service_sid, body, media_urls, status_callback, \
     segments, status, attempts, message_sid, error_code, error_message, created_at";

fn row(r: &AnyRow) -> Result<OutboxRow, sqlx::Error> {
    let media: String = r.try_get(5)?;
    Ok(OutboxRow {
        id: r.try_get(0)?,
        to: r.try_get(1)?,
        from: r.try_get(2)?,
        messaging_service_sid: r.try_get(3)?,
        body: r.try_get(4)?,
        media_urls: media.lines().map(str::to_owned).collect(),
        status_callback: r.try_get(6)?,
        segments: r.try_get(7)?,
        status: r.try_get(8)?,
        attempts: r.try_get(9)?,
        message_sid: r.try_get(10)?,
        error_code: r.try_get(11)?,
        error_message: r.try_get(12)?,
        created_at: r.try_get(13)?,
    })
}

pub fn new_id() -> String {
    format!("OB{:032x}", rand::random::<u128>())
}

impl Store {
    /// Commits a send (with the others arriving now) and returns its id; only then is it accepted.
    pub async fn enqueue(&self, new: NewOutbound) -> Result<String, StoreError> {
        let id = new_id();
        self.write(Write::Effects(vec![Effect::OutboxInsert(Box::new((
            id.clone(),
            new,
        )))]))
        .await?;
        Ok(id)
    }

    pub async fn record_outbox(
        &self,
        update: OutboxUpdate,
        extra: Vec<Effect>,
    ) -> Result<(), StoreError> {
        let mut effects = vec![Effect::OutboxUpdate(update)];
        effects.extend(extra);
        self.write(Write::Effects(effects)).await.map(|_| ())
    }

    /// Claims up to `limit` due sends for `lease_ms`: queued ones, retries whose time has come,
    /// and sends whose worker died mid-attempt (lease expired). On PostgreSQL, `SKIP LOCKED`
    /// keeps two instances from claiming the same row.
    pub async fn claim_due(&self, limit: i64, lease_ms: i64) -> Result<Vec<OutboxRow>, StoreError> {
        match self.write(Write::Claim { limit, lease_ms }).await? {
            super::Outcome::Claimed(rows) => Ok(rows),
            _ => Ok(Vec::new()),
        }
    }

    /// The sends to one number, oldest first.
    pub async fn outbox_to(&self, to: &str) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE to_number = $1 ORDER BY created_at, id"
        ))
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    pub async fn outbox_message(&self, id: &str) -> Result<Option<OutboxRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(row).transpose()?)
    }

    /// The outbox's history of a send, then the delivery events of its Twilio message.
    pub async fn outbox_history(&self, row: &OutboxRow) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut entries = Vec::new();
        for r in sqlx::query(
            "SELECT status, detail, at FROM outbox_events WHERE outbox_id = $1 ORDER BY id",
        )
        .bind(&row.id)
        .fetch_all(&self.pool)
        .await?
        {
            entries.push(HistoryEntry {
                status: r.try_get(0)?,
                detail: r.try_get(1)?,
                at: r.try_get(2)?,
            });
        }
        if let Some(sid) = &row.message_sid {
            for r in sqlx::query("SELECT status, error_code, received_at FROM message_events WHERE message_sid = $1 ORDER BY id")
                .bind(sid)
                .fetch_all(&self.pool)
                .await?
            {
                let code: Option<i64> = r.try_get(1)?;
                entries.push(HistoryEntry {
                    status: r.try_get(0)?,
                    detail: code.map(|c| format!("error {c}")),
                    at: r.try_get(2)?,
                });
            }
        }
        Ok(entries)
    }

    /// Which of the (sender, recipient) pairs are opted out now: one query for a claimed batch.
    pub async fn opted_out_among(
        &self,
        pairs: &[(&str, &str)],
    ) -> Result<std::collections::HashSet<(String, String)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        super::batch::opted_out_pairs(&mut conn, self.backend, pairs).await
    }

    /// How many of `ids` are in each outbox status (for the CLI's progress bar).
    pub async fn outbox_status_counts(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let mut counts = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT status, COUNT(*) FROM outbox WHERE id IN ({}) GROUP BY status",
                marks.join(", ")
            );
            // One-off sizes: not worth keeping prepared.
            let mut q = sqlx::query(&sql).persistent(false);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await? {
                *counts.entry(r.try_get::<String, _>(0)?).or_insert(0) += r.try_get::<i64, _>(1)?;
            }
        }
        Ok(counts)
    }

    /// Sends not yet finished (queued, retrying or being sent): the outbox depth.
    pub async fn outbox_pending(&self) -> Result<i64, StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'retrying', 'sending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(r.try_get(0)?)
    }
}

pub(super) async fn claim(
    tx: &mut AnyConnection,
    b: Backend,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let now = now_millis();
    let lock = if b == Backend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    // Two index range scans (due sends; expired leases) rather than one OR that scans the table.
    let sql = format!(
        "UPDATE outbox SET status = 'sending', locked_until = $1, attempts = attempts + 1, updated_at = $2 \
         WHERE id IN (SELECT id FROM outbox WHERE status IN ('queued', 'retrying') AND next_attempt_at <= $2 \
         ORDER BY next_attempt_at LIMIT $3{lock}) \
         OR id IN (SELECT id FROM outbox WHERE status = 'sending' AND locked_until < $2 LIMIT $3{lock}) \
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let mut claimed = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|r| r.created_at);
    Ok(claimed)
}

pub(super) async fn insert(
    tx: &mut AnyConnection,
    id: &str,
    n: &NewOutbound,
) -> Result<(), StoreError> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO outbox (id, to_number, from_number, messaging_service_sid, body, media_urls, status_callback, \
         segments, status, attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $9, $9)",
    )
    .bind(id)
    .bind(&n.to)
    .bind(&n.from)
    .bind(&n.messaging_service_sid)
    .bind(&n.body)
    .bind(n.media_urls.join("\n"))
    .bind(&n.status_callback)
    .bind(n.segments)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    event(tx, id, "queued", None, now).await
}

pub(super) async fn update(tx: &mut AnyConnection, u: &OutboxUpdate) -> Result<(), StoreError> {
    let now = now_millis();
    let (id, status, detail) = match u {
        OutboxUpdate::Sent {
            id,
            message_sid,
            detail,
        } => {
            sqlx::query(
                "UPDATE outbox SET status = 'sent', message_sid = $2, locked_until = NULL, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(message_sid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            (id, "sent", detail)
        }
        OutboxUpdate::Retry {
            id,
            next_attempt_at,
            code,
            detail,
        } => {
            sqlx::query(
                "UPDATE outbox SET status = 'retrying', next_attempt_at = $2, locked_until = NULL, error_code = $3, \
                 error_message = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(next_attempt_at)
            .bind(code)
            .bind(detail)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            (id, "retrying", detail)
        }
        OutboxUpdate::Failed { id, code, detail } => {
            finish(tx, id, "failed", *code, detail, now).await?;
            (id, "failed", detail)
        }
        OutboxUpdate::Refused { id, detail } => {
            finish(tx, id, "refused", None, detail, now).await?;
            (id, "refused", detail)
        }
    };
    event(tx, id, status, Some(detail), now).await
}

async fn finish(
    tx: &mut AnyConnection,
    id: &str,
    status: &str,
    code: Option<i64>,
    detail: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET status = $2, locked_until = NULL, error_code = $3, error_message = $4, updated_at = $5 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(code)
    .bind(detail)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn event(
    tx: &mut AnyConnection,
    id: &str,
    status: &str,
    detail: Option<&String>,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox_events (outbox_id, status, detail, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(status)
    .bind(detail)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
