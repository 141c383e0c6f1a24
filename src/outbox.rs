//! The outbox worker: claims due sends, refuses those Twilio would refuse, paces, sends, and
//! records each outcome (retrying transient failures only).

pub mod backoff;
pub mod pacing;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::store::model::{ERROR_UNSUBSCRIBED, Effect, OptChange, now_millis};
use crate::store::outbox::{OutboxRow, OutboxUpdate};
use crate::store::{Leadership, Store};
use crate::twilio::{SendMessage, TwilioClient, TwilioError};
use pacing::{Pacer, Rates};

/// WhatsApp allows free-form messages within 24 hours of the user's last message.
pub const WHATSAPP_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// A claimed send is someone's for this long; after it, a crashed worker's sends are due again.
const LEASE_MS: i64 = 10 * 60 * 1000;
/// How long an outcome's recording is retried while the database is down; well inside the lease,
/// so no other worker has taken the send over meanwhile.
const RECORD_FOR: Duration = Duration::from_millis(LEASE_MS as u64 / 2);
/// Sends in flight at once (most wait on the pacer, not on Twilio).
const IN_FLIGHT: usize = 128;
/// How often an idle worker looks for due retries, and a standby instance for leadership.
const POLL: Duration = Duration::from_millis(500);
const STANDBY_POLL: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct WorkerConfig {
    pub rates: Rates,
    /// `PUBLIC_URL/sms/status`, so delivery receipts come back to the store.
    pub status_callback: Option<String>,
    /// When transient failures are tried again, and for how long.
    pub retry: backoff::Policy,
}

impl WorkerConfig {
    /// The server and the CLI's in-process worker pace and call back the same way.
    pub fn from_config(config: &crate::config::Config) -> WorkerConfig {
        WorkerConfig {
            rates: Rates {
                per_sender: config.outbound.sender_rate,
                per_account: config.outbound.account_rate,
            },
            status_callback: config
                .public_url
                .as_ref()
                .map(|u| format!("{u}/sms/status")),
            retry: config.outbound.retry,
        }
    }
}

/// Wakes the worker when a send is enqueued, so it need not wait for its next poll.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

#[derive(Clone)]
pub struct Worker {
    store: Store,
    client: TwilioClient,
    pacer: Pacer,
    cfg: Arc<WorkerConfig>,
}

impl Worker {
    pub fn new(store: Store, client: TwilioClient, cfg: WorkerConfig) -> Worker {
        Worker {
            store,
            client,
            pacer: Pacer::new(cfg.rates),
            cfg: Arc::new(cfg),
        }
    }

    /// A worker that runs as long as its runtime.
    pub fn spawn(self, wakeup: Wakeup) -> JoinHandle<()> {
        let (keep, stop) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _keep = keep;
            self.run(wakeup, stop).await
        })
    }

    /// A worker that stops claiming when `stop` turns true, then waits for the sends in flight
    /// to be recorded (so none is sent again after a restart).
    pub fn spawn_stoppable(
        self,
        wakeup: Wakeup,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(self.run(wakeup, stop))
    }

    /// One instance sends at a time (on PostgreSQL, the holder of an advisory lock), so pacing
    /// holds across instances; the others stand by and take over when it goes away.
    async fn run(self, wakeup: Wakeup, mut stop: tokio::sync::watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut leadership: Option<Leadership> = None;
        loop {
            if *stop.borrow() {
                // Every slot back means every send in flight has been recorded.
                let _ = slots.acquire_many(IN_FLIGHT as u32).await;
                tracing::info!("outbox worker stopped");
                return;
            }
            let held = match leadership.as_mut() {
                Some(l) => l.is_held().await,
                None => false,
            };
            if !held {
                leadership = match self.store.try_lead().await {
                    Ok(Some(l)) => {
                        tracing::info!("outbox worker is sending for this database");
                        Some(l)
                    }
                    Ok(None) => {
                        tokio::time::sleep(STANDBY_POLL).await;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox worker cannot reach the store");
                        tokio::time::sleep(STANDBY_POLL).await;
                        continue;
                    }
                };
            }
            let free = slots.available_permits().max(1) as i64;
            let rows = match self.store.claim_due(free.min(256), LEASE_MS).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox claim failed");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            if rows.is_empty() {
                tokio::select! {
                    () = wakeup.0.notified() => {},
                    () = tokio::time::sleep(POLL) => {},
                    _ = stop.changed() => {},
                }
                continue;
            }
            let pairs: Vec<(&str, &str)> =
                rows.iter().map(|r| (r.sender(), r.to.as_str())).collect();
            let opted = match self.store.opted_out_among(&pairs).await {
                Ok(o) => Some(o),
                Err(e) => {
                    tracing::warn!(error = %e, "opt-out lookup failed; checking each send");
                    None
                }
            };
            for row in rows {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let me = self.clone();
                let known = opted
                    .as_ref()
                    .map(|o| o.contains(&(row.sender().to_owned(), row.to.clone())));
                tokio::spawn(async move {
                    let id = row.id.clone();
                    let (update, extra) = me.attempt(row, known).await;
                    me.record(&id, update, extra).await;
                    drop(permit);
                });
            }
        }
    }

    /// Records an attempt's outcome, trying again while the database is unreachable: a send
    /// Twilio accepted but never recorded would be sent again once its lease ran out.
    async fn record(&self, id: &str, update: OutboxUpdate, extra: Vec<Effect>) {
        let started = tokio::time::Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match self
                .store
                .record_outbox(update.clone(), extra.clone())
                .await
            {
                Ok(()) => return,
                Err(e) if e.is_unavailable() && started.elapsed() + wait < RECORD_FOR => {
                    tracing::warn!(id, error = %e, "cannot record a send's outcome yet; will try again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    // The lease runs out and the send is tried again.
                    tracing::error!(id, error = %e, "could not record a send's outcome");
                    return;
                }
            }
        }
    }

    /// One attempt at one send; `opted_out` is the recipient's state if already looked up.
    pub async fn attempt(
        &self,
        row: OutboxRow,
        opted_out: Option<bool>,
    ) -> (OutboxUpdate, Vec<Effect>) {
        let id = row.id.clone();
        match self.refusal(&row, opted_out).await {
            Ok(Some(reason)) => {
                tracing::info!(id, reason, "send refused before calling Twilio");
                return (OutboxUpdate::Refused { id, detail: reason }, vec![]);
            }
            Ok(None) => {}
            Err(e) => {
                let next = now_millis() + 5_000;
                let detail = format!("store unavailable: {e}");
                return (
                    OutboxUpdate::Retry {
                        id,
                        next_attempt_at: next,
                        code: None,
                        detail,
                    },
                    vec![],
                );
            }
        }
        self.pacer.wait(row.sender()).await;
        crate::metrics::global().send_attempt();
        let message = SendMessage {
            to: row.to.clone(),
            from: row.from.clone(),
            messaging_service_sid: row.messaging_service_sid.clone(),
            body: row.body.clone(),
            media_urls: row.media_urls.clone(),
            status_callback: row
                .status_callback
                .clone()
                .or_else(|| self.cfg.status_callback.clone()),
        };
        match self.client.send_message(&message).await {
            Ok(m) => {
                let detail = format!("accepted by Twilio as {} ({})", m.sid, m.status);
                (
                    OutboxUpdate::Sent {
                        id,
                        message_sid: m.sid,
                        detail,
                    },
                    vec![],
                )
            }
            Err(e) => self.failure(&row, e),
        }
    }

    /// Reasons Twilio would refuse the send, found before calling it.
    async fn refusal(
        &self,
        row: &OutboxRow,
        opted_out: Option<bool>,
    ) -> Result<Option<String>, crate::store::StoreError> {
        let opted_out = match opted_out {
            Some(known) => known,
            None => self.store.is_opted_out(row.sender(), &row.to).await?,
        };
        if opted_out {
            return Ok(Some(format!(
                "{} has opted out of messages from {} (texted STOP); they must text START first",
                row.to,
                row.sender()
            )));
        }
        if row.to.starts_with("whatsapp:") {
            let business = row.from.as_deref().unwrap_or(row.sender());
            let last = self.store.whatsapp_last_inbound(business, &row.to).await?;
            if last.is_none_or(|t| now_millis() - t > WHATSAPP_WINDOW_MS) {
                return Ok(Some(format!(
                    "outside WhatsApp's 24-hour window: {} has not written in the last 24 hours, so only an approved template may be sent (Twilio error 63016)",
                    row.to
                )));
            }
        }
        Ok(None)
    }

    fn failure(&self, row: &OutboxRow, e: TwilioError) -> (OutboxUpdate, Vec<Effect>) {
        let id = row.id.clone();
        let code = e.code();
        let age = Duration::from_millis(u64::try_from(now_millis() - row.created_at).unwrap_or(0));
        let retry = &self.cfg.retry;
        if e.is_retryable() && !retry.gives_up(row.attempts, age) {
            let wait = retry.delay(row.attempts, e.retry_after(), backoff::random_unit());
            let next = now_millis() + wait.as_millis() as i64;
            tracing::info!(id, attempt = row.attempts, wait_ms = wait.as_millis() as u64, error = %e, "send failed; will retry");
            let detail = format!(
                "attempt {} failed: {e}; retrying in {} ms",
                row.attempts,
                wait.as_millis()
            );
            return (
                OutboxUpdate::Retry {
                    id,
                    next_attempt_at: next,
                    code,
                    detail,
                },
                vec![],
            );
        }
        let detail = if e.is_retryable() {
            format!("gave up after {} attempts: {e}", row.attempts)
        } else {
            e.to_string()
        };
        if matches!(code, Some(30034 | 30007)) {
            tracing::warn!(id, to = %row.to, sender = row.sender(), error = %e, "send blocked: A2P 10DLC registration");
        } else {
            tracing::warn!(id, error = %e, "send failed");
        }
        let label = match (code, &e) {
            (Some(c), _) => c.to_string(),
            (None, TwilioError::Timeout) => "timeout".to_owned(),
            (None, TwilioError::Connect(_)) => "connect".to_owned(),
            (None, _) => "other".to_owned(),
        };
        crate::metrics::global().send_failure(label);
        let mut extra = vec![];
        if code == Some(ERROR_UNSUBSCRIBED) {
            extra.push(Effect::OptChange(OptChange {
                scope: row.sender().to_owned(),
                number: row.to.clone(),
                opted_out: true,
                keyword: ERROR_UNSUBSCRIBED.to_string(),
                source: "error_21610",
                message_sid: None,
                at: now_millis(),
            }));
        }
        (OutboxUpdate::Failed { id, code, detail }, extra)
    }
}
