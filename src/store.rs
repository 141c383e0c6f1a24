//! The durable store: SQLite by default, PostgreSQL for several instances, one API over both.
//!
//! Writes go through a group-commit writer ([`writer`]): concurrent webhooks are committed in
//! one transaction and each is answered only after that commit. Queries are written once in the
//! dialect both databases accept (`$n` placeholders, `ON CONFLICT`, `CASE`).

mod batch;
pub mod model;
pub mod outbox;
mod replay_cache;
pub mod voicemail;
mod writer;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor, Row};
use tokio::sync::{mpsc, oneshot};

pub use model::{Outcome, WebhookWrite};
pub use writer::Write;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A storage failure: ours, not the caller's, so webhooks answer 503 and Twilio retries.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL: {0}")]
    BadUrl(String),
    #[error("{0}")]
    BadSetting(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the store's writer has stopped")]
    WriterGone,
    /// The database could not be reached, or dropped the connection, while committing a batch:
    /// every write in it fails with this, none committed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// True when the database itself is out of reach (refused, timed out, shutting down), as
    /// opposed to one statement being refused: trying again at once would only wait again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => is_connection_error(e),
            _ => false,
        }
    }
}

fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 is a connection exception; 57P01..57P03 a server shutting down,
        // crashed or still starting up.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: mpsc::Sender<writer::Job>,
    replays: std::sync::Arc<replay_cache::ReplayCache>,
}

/// Longest wait for a pooled connection. sqlx keeps retrying a refused connection until then
/// (30 s by default): with the database down, a webhook must get its 503 well inside its
/// deadline (10 s; past it the deadline's fallback would answer 200 for a write that never
/// committed), and /readyz must answer before a probe gives up on it.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// How long start-up waits for a database that refuses connections (one starting beside us).
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// First key of the PostgreSQL advisory lock held by the sending instance ("swbd" in ASCII).
const OUTBOX_LOCK: i32 = 0x7377_6264;

/// The right to send for this database, held as long as this value lives.
pub struct Leadership(Option<(sqlx::pool::PoolConnection<sqlx::Any>, std::time::Instant)>);

impl Leadership {
    /// False once the connection holding the lock is gone (and the lock with it); checked with
    /// a ping at most every two seconds.
    pub async fn is_held(&mut self) -> bool {
        let Some((conn, checked)) = &mut self.0 else {
            return true;
        };
        if checked.elapsed() < std::time::Duration::from_secs(2) {
            return true;
        }
        *checked = std::time::Instant::now();
        sqlx::Connection::ping(&mut **conn).await.is_ok()
    }
}

/// One entry of a number's opt-out history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutEvent {
    pub opted_out: bool,
    pub keyword: String,
    pub source: String,
    pub at: i64,
}

impl Store {
    /// Connects (creating the SQLite file if needed) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn connect_without_migrating(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let synchronous = sqlite_synchronous()?;
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the writer. It is a property of the database file, so
            // one connection sets it before the pool opens its three at once: the switch needs
            // the database to itself, and connections racing for it get "database is locked"
            // straight away (SQLite does not wait where waiting could deadlock), which logged an
            // error at start and could fail it.
            let mut first = sqlx::AnyConnection::connect(&url).await?;
            first.execute("PRAGMA journal_mode = WAL").await?;
            first.close().await?;
        }
        // SQLite's connections (the group-commit writer's and two for reads), each with its
        // worker thread and page cache, are all opened at start and kept, so memory does not
        // step up when load first needs one more; sqlx's idle and lifetime limits (10 and 30
        // minutes) stay for PostgreSQL's server sessions.
        let minutes = |m: u64| Some(std::time::Duration::from_secs(60 * m));
        let (size, min, idle, lifetime) = match backend {
            Backend::Sqlite => (3, 3, None, None),
            Backend::Postgres => (8, 0, minutes(10), minutes(30)),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(size)
            .min_connections(min)
            .idle_timeout(idle)
            .max_lifetime(lifetime)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // FULL makes a commit survive power loss, and group commit pays its
                        // fsync once per batch.
                        conn.execute(synchronous).await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        // SQLite's default 2 MB page cache per connection grows with the
                        // database; 512 KiB holds the tree tops, and the OS caches the rest.
                        conn.execute("PRAGMA cache_size = -512").await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(&url)?;
        wait_for_database(&pool).await?;
        let writer = writer::spawn(pool.clone(), backend);
        Ok(Store {
            pool,
            backend,
            writer,
            replays: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The answer already given to a webhook this instance committed, if it remembers it; lets
    /// a handler skip building an answer a replay would not use.
    pub fn cached_answer(&self, replay_key: &str) -> Option<bytes::Bytes> {
        self.replays.get(replay_key)
    }

    /// Commits a webhook's writes (batched with concurrent ones) and returns the answer to give:
    /// this webhook's, or the stored one if it is a replay.
    pub async fn commit(&self, write: WebhookWrite) -> Result<Outcome, StoreError> {
        if let Some(answer) = self.replays.get(&write.replay_key) {
            return Ok(Outcome::Replay(
                String::from_utf8_lossy(&answer).into_owned(),
            ));
        }
        let key = write.replay_key.clone();
        let outcome = self.write(Write::Webhook(write)).await?;
        self.replays.put(&key, outcome.response());
        Ok(outcome)
    }

    /// Commits any write through the group-commit writer.
    pub async fn write(&self, write: Write) -> Result<Outcome, StoreError> {
        let (done, rx) = oneshot::channel();
        self.writer
            .send(writer::Job { write, done })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// On PostgreSQL, takes the outbox's advisory lock if no other instance holds it; the lock
    /// lives as long as the returned connection. On SQLite there is one instance: always granted.
    pub async fn try_lead(&self) -> Result<Option<Leadership>, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Leadership(None)));
        }
        let mut conn = self.pool.acquire().await?;
        // Keyed by schema too, so deployments sharing a database in separate schemas don't
        // stand by for each other.
        let row = sqlx::query("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))")
            .bind(OUTBOX_LOCK)
            .fetch_one(&mut *conn)
            .await?;
        let got: bool = row.try_get(0)?;
        Ok(got.then(|| Leadership(Some((conn, std::time::Instant::now())))))
    }

    /// Closes the pool: later queries fail (as when the database goes away).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn is_opted_out(&self, scope: &str, number: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT opted_out FROM opt_outs WHERE scope = $1 AND number = $2")
            .bind(scope)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>(0)? != 0,
            None => false,
        })
    }

    pub async fn opt_out_history(
        &self,
        scope: &str,
        number: &str,
    ) -> Result<Vec<OptOutEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT opted_out, keyword, source, at FROM opt_out_events WHERE scope = $1 AND number = $2 ORDER BY id",
        )
        .bind(scope)
        .bind(number)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OptOutEvent {
                    opted_out: r.try_get::<i64, _>(0)? != 0,
                    keyword: r.try_get(1)?,
                    source: r.try_get(2)?,
                    at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The stored inbound message: (from, to, body, media URLs).
    pub async fn inbound_message(
        &self,
        sid: &str,
    ) -> Result<Option<(String, String, String, Vec<String>)>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT from_number, to_number, body FROM inbound_messages WHERE message_sid = $1",
        )
        .bind(sid)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let media =
            sqlx::query("SELECT url FROM inbound_media WHERE message_sid = $1 ORDER BY idx")
                .bind(sid)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
        Ok(Some((
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            media,
        )))
    }

    pub async fn count_inbound_messages(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM inbound_messages")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// A message's current status and first error code.
    pub async fn message_status(
        &self,
        sid: &str,
    ) -> Result<Option<(String, Option<i64>)>, StoreError> {
        let row =
            sqlx::query("SELECT status, error_code FROM message_status WHERE message_sid = $1")
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Every status event received for a message, in arrival order.
    pub async fn message_events(&self, sid: &str) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT status FROM message_events WHERE message_sid = $1 ORDER BY id")
                .bind(sid)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// A call's (from, to, current status).
    pub async fn call(&self, sid: &str) -> Result<Option<(String, String, String)>, StoreError> {
        let row =
            sqlx::query("SELECT from_number, to_number, status FROM calls WHERE call_sid = $1")
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .transpose()
    }

    pub async fn call_events(&self, sid: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT status FROM call_events WHERE call_sid = $1 ORDER BY id")
            .bind(sid)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// When `user` last wrote to `business` on WhatsApp (unix ms), opening the 24-hour window.
    pub async fn whatsapp_last_inbound(
        &self,
        business: &str,
        user: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT last_inbound_at FROM whatsapp_windows WHERE business = $1 AND user_address = $2",
        )
        .bind(business)
        .bind(user)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(r.try_get(0)?)).transpose()
    }
}

/// Opens the first connection, waiting up to [`START_WAIT`] while the server refuses (sqlx
/// retries those within each acquire); a wrong password or database fails at once.
async fn wait_for_database(pool: &AnyPool) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match pool.acquire().await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::PoolTimedOut) if started.elapsed() < START_WAIT => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `SQLITE_SYNCHRONOUS`: `full` (default) fsyncs every commit, so an acknowledged webhook
/// survives power loss; `normal` fsyncs only at checkpoints, surviving a crash of the process
/// (SIGKILL) but not of the machine, for several times the write throughput.
fn sqlite_synchronous() -> Result<&'static str, StoreError> {
    match std::env::var("SQLITE_SYNCHRONOUS")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("") | Some("full") | Some("FULL") => Ok("PRAGMA synchronous = FULL"),
        Some("normal") | Some("NORMAL") => Ok("PRAGMA synchronous = NORMAL"),
        Some(other) => Err(StoreError::BadSetting(format!(
            "SQLITE_SYNCHRONOUS '{other}' is not full or normal"
        ))),
    }
}

/// `sqlite://file` gets `mode=rwc` so a fresh machine creates its database.
fn normalise_url(url: &str) -> Result<(Backend, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest.is_empty() || rest.trim_start_matches('/').is_empty() {
            return Err(StoreError::BadUrl(format!(
                "'{}' names no database file",
                redact(url)
            )));
        }
        let url = if url.contains("mode=") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        return Ok((Backend::Sqlite, url));
    }
    Err(StoreError::BadUrl(format!(
        "'{}' is neither sqlite://FILE nor postgres://...",
        redact(url)
    )))
}

/// Hides the password a database URL may carry, so it never reaches an error or a log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
