//! Group commit: one task drains waiting webhook writes into a single transaction, then wakes
//! each waiter with its own outcome, so the fsync is paid once per batch, not once per webhook.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::model::{
    CallEvent, Effect, OptChange, Outcome, StatusEvent, WebhookWrite, call_status_rank,
    message_status_rank,
};
use super::{Backend, StoreError};

/// Most writes committed in one transaction; bounds a batch's latency and statement count.
pub const MAX_BATCH: usize = 256;
/// Waiting writes beyond this make `commit` wait for room (backpressure, not unbounded memory).
const QUEUE: usize = 4096;

/// What one waiter asks to commit.
#[derive(Debug, Clone)]
pub enum Write {
    /// A webhook's writes under its replay key.
    Webhook(WebhookWrite),
    /// Writes with no replay key (outbox sends and results).
    Effects(Vec<Effect>),
    /// Claim due outbox rows; through the writer so a claim never waits on SQLite's write lock.
    Claim { limit: i64, lease_ms: i64 },
}

pub struct Job {
    pub write: Write,
    pub done: oneshot::Sender<Result<Outcome, StoreError>>,
}

pub fn spawn(pool: AnyPool, backend: Backend) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(run(pool, backend, rx));
    tx
}

/// A batch at least this big means concurrent writers, whose next writes come back together.
const SIBLINGS: usize = 8;
/// Longest a batch waits for its siblings (tokio's timer ticks in milliseconds).
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);

async fn run(pool: AnyPool, backend: Backend, mut rx: mpsc::Receiver<Job>) {
    let mut conn = Conn { pool, held: None };
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last = 0;
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        gather_siblings(&mut rx, &mut batch, last).await;
        last = batch.len();
        match commit_all(&mut conn, backend, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.done.send(Ok(outcome));
                }
            }
            Err(e) if e.is_unavailable() => {
                // The database is gone, not one write: retrying each on its own would make every
                // waiter behind this batch wait out the acquire timeout again, past its deadline.
                // Writes that queued up meanwhile were waiting on the same dead database: they
                // get their 503 now rather than one more timeout later.
                let waiting = std::iter::from_fn(|| rx.try_recv().ok());
                let failed = batch.len();
                let queued = fail_all(batch.drain(..).chain(waiting), &e) - failed;
                tracing::warn!(error = %e, failed, queued, "database unavailable; writes not committed");
            }
            Err(e) => {
                // One bad write must not fail its neighbours: retry each on its own.
                tracing::warn!(error = %e, size = batch.len(), "batch commit failed; committing one by one");
                let mut jobs = batch.drain(..);
                while let Some(job) = jobs.next() {
                    let result = commit_all(&mut conn, backend, std::slice::from_ref(&job))
                        .await
                        .map(|mut o| o.remove(0));
                    let lost = result
                        .as_ref()
                        .err()
                        .filter(|e| e.is_unavailable())
                        .map(ToString::to_string);
                    let _ = job.done.send(result);
                    if let Some(reason) = lost {
                        // The rest would only wait out the same timeout, one after another.
                        fail_all(jobs.by_ref(), &StoreError::Unavailable(reason));
                    }
                }
            }
        }
    }
}

/// Under load the waiters of one commit send their next writes together, and the first to arrive
/// would commit alone and make the rest wait a whole commit more. So, as PostgreSQL's
/// commit_delay does when it sees commit_siblings, a batch much smaller than the `last` one waits
/// up to `LINGER` for the others; a lone writer never waits.
async fn gather_siblings<T>(rx: &mut mpsc::Receiver<T>, batch: &mut Vec<T>, last: usize) {
    if last < SIBLINGS || batch.len() >= last / 2 {
        return;
    }
    let _ = tokio::time::timeout(LINGER, async {
        while let room @ 1.. = last.saturating_sub(batch.len()) {
            if rx.recv_many(batch, room).await == 0 {
                break;
            }
        }
    })
    .await;
}

/// Answers every waiter with the same unavailability (nothing of theirs committed); returns
/// how many there were.
fn fail_all(jobs: impl Iterator<Item = Job>, e: &StoreError) -> usize {
    let reason = match e {
        StoreError::Unavailable(reason) => reason.clone(),
        other => other.to_string(),
    };
    let mut n = 0;
    for job in jobs {
        let _ = job.done.send(Err(StoreError::Unavailable(reason.clone())));
        n += 1;
    }
    n
}

/// The writer's own connection, kept from batch to batch: every prepared batch statement lives
/// on this one connection (rather than on each pooled one in turn), and a batch skips the pool.
struct Conn {
    pool: AnyPool,
    held: Option<PoolConnection<Any>>,
}

async fn commit_all(
    conn: &mut Conn,
    backend: Backend,
    jobs: &[Job],
) -> Result<Vec<Outcome>, StoreError> {
    let result = commit_on(conn, backend, jobs).await;
    if result.is_err() {
        // It may be the connection that failed: the pool tests it, and the next batch takes
        // whichever the pool gives.
        conn.held = None;
    }
    result
}

async fn commit_on(
    conn: &mut Conn,
    backend: Backend,
    jobs: &[Job],
) -> Result<Vec<Outcome>, StoreError> {
    let held = match &mut conn.held {
        Some(held) => held,
        None => conn.held.insert(conn.pool.acquire().await?),
    };
    let mut tx = sqlx::Connection::begin(&mut **held).await?;
    let writes: Vec<&Write> = jobs.iter().map(|j| &j.write).collect();
    let outcomes = super::batch::apply(&mut tx, backend, &writes).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Applies one effect with its own statements (the batch gathers inbound messages into one).
pub(super) async fn apply_effect(
    tx: &mut AnyConnection,
    b: Backend,
    effect: &Effect,
) -> Result<(), StoreError> {
    match effect {
        Effect::InboundMessage(m) => super::batch::insert_messages(tx, b, &[m]).await,
        Effect::OptChange(c) => opt_change(tx, c).await,
        Effect::WhatsAppWindow { business, user } => whatsapp_window(tx, business, user).await,
        Effect::MessageStatus(e) => message_status(tx, e).await,
        Effect::Call(c) => call(tx, c).await,
        Effect::Voicemail(v) => super::voicemail::upsert(tx, v).await,
        Effect::OutboxInsert(new) => super::outbox::insert(tx, &new.0, &new.1).await,
        Effect::OutboxUpdate(u) => super::outbox::update(tx, u).await,
    }
}

async fn opt_change(tx: &mut AnyConnection, c: &OptChange) -> Result<(), StoreError> {
    let flag = i64::from(c.opted_out);
    sqlx::query(
        "INSERT INTO opt_outs (scope, number, opted_out, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope, number) DO UPDATE SET opted_out = excluded.opted_out, updated_at = excluded.updated_at",
    )
    .bind(&c.scope)
    .bind(&c.number)
    .bind(flag)
    .bind(c.at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO opt_out_events (scope, number, opted_out, keyword, source, message_sid, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.scope)
    .bind(&c.number)
    .bind(flag)
    .bind(&c.keyword)
    .bind(c.source)
    .bind(&c.message_sid)
    .bind(c.at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn whatsapp_window(
    tx: &mut AnyConnection,
    business: &str,
    user: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO whatsapp_windows (business, user_address, last_inbound_at) VALUES ($1, $2, $3) \
         ON CONFLICT (business, user_address) DO UPDATE SET last_inbound_at = CASE \
         WHEN excluded.last_inbound_at > whatsapp_windows.last_inbound_at THEN excluded.last_inbound_at \
         ELSE whatsapp_windows.last_inbound_at END",
    )
    .bind(business)
    .bind(user)
    .bind(super::model::now_millis())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Logs the event; the current status only moves up in rank, and the first error code stays.
async fn message_status(tx: &mut AnyConnection, e: &StatusEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO message_events (message_sid, status, error_code, received_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&e.message_sid)
    .bind(&e.status)
    .bind(e.error_code)
    .bind(e.at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO message_status (message_sid, status, status_rank, error_code, from_number, to_number, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_sid) DO UPDATE SET \
         status = CASE WHEN excluded.status_rank > message_status.status_rank THEN excluded.status ELSE message_status.status END, \
         status_rank = CASE WHEN excluded.status_rank > message_status.status_rank THEN excluded.status_rank ELSE message_status.status_rank END, \
         error_code = COALESCE(message_status.error_code, excluded.error_code), \
         from_number = COALESCE(message_status.from_number, excluded.from_number), \
         to_number = COALESCE(message_status.to_number, excluded.to_number), \
         updated_at = excluded.updated_at",
    )
    .bind(&e.message_sid)
    .bind(&e.status)
    .bind(message_status_rank(&e.status))
    .bind(e.error_code)
    .bind(&e.from)
    .bind(&e.to)
    .bind(e.at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn call(tx: &mut AnyConnection, c: &CallEvent) -> Result<(), StoreError> {
    if c.log_event {
        sqlx::query("INSERT INTO call_events (call_sid, status, duration, received_at) VALUES ($1, $2, $3, $4)")
            .bind(&c.call_sid)
            .bind(&c.status)
            .bind(c.duration)
            .bind(c.at)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO calls (call_sid, account_sid, from_number, to_number, direction, status, status_rank, duration, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (call_sid) DO UPDATE SET \
         status = CASE WHEN excluded.status_rank > calls.status_rank THEN excluded.status ELSE calls.status END, \
         status_rank = CASE WHEN excluded.status_rank > calls.status_rank THEN excluded.status_rank ELSE calls.status_rank END, \
         duration = COALESCE(excluded.duration, calls.duration), \
         updated_at = excluded.updated_at",
    )
    .bind(&c.call_sid)
    .bind(&c.account_sid)
    .bind(&c.from)
    .bind(&c.to)
    .bind(&c.direction)
    .bind(&c.status)
    .bind(call_status_rank(&c.status))
    .bind(c.duration)
    .bind(c.at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::mpsc;
    use tokio::time::Instant;

    use super::{LINGER, gather_siblings};

    /// A channel holding one write, and the batch that write makes on its own.
    async fn one_waiting() -> (mpsc::Sender<u32>, mpsc::Receiver<u32>, Vec<u32>) {
        let (tx, mut rx) = mpsc::channel(64);
        tx.send(0).await.unwrap();
        let mut batch = Vec::new();
        rx.recv_many(&mut batch, 64).await;
        (tx, rx, batch)
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_batch_after_a_big_one_waits_for_its_siblings() {
        let (tx, mut rx, mut batch) = one_waiting().await;
        tokio::spawn(async move {
            // The others come back a moment later (the timer's granularity is the linger itself).
            tokio::task::yield_now().await;
            for n in 1..40 {
                tx.send(n).await.unwrap();
            }
        });
        gather_siblings(&mut rx, &mut batch, 40).await;
        assert_eq!(batch, (0..40).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_ends_after_the_linger() {
        let (_tx, mut rx, mut batch) = one_waiting().await;
        let start = Instant::now();
        gather_siblings(&mut rx, &mut batch, 40).await;
        assert_eq!(batch, [0]);
        assert!(start.elapsed() >= LINGER);
        assert!(start.elapsed() < LINGER + Duration::from_millis(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_writer_never_waits() {
        let (_tx, mut rx, mut batch) = one_waiting().await;
        let start = Instant::now();
        // The last batch was small: no concurrency to wait for.
        gather_siblings(&mut rx, &mut batch, 3).await;
        // A batch half the last one's size is already its share.
        gather_siblings(&mut rx, &mut batch, 2).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
