//! The accept loop: caps the connections open at once, closes idle and slow ones, and on shutdown
//! stops accepting and drains what is in flight.
//!
//! `axum::serve` has neither a cap nor an idle timeout: a client that opens connections and never
//! sends (or a pool that keeps hundreds open after one stall) holds a task and hyper's buffers for
//! each, for ever. This serves the same router through hyper with both bounds. HTTP/1.1 only:
//! Twilio, ngrok and load balancers all speak it to their upstream, and hyper's HTTP/2 has no
//! header timeout for a connection that never sends.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::routes::Routes;

/// How many connections are served at once, and how long one may sit idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Past this many open connections, new ones wait in the kernel's listen backlog until one
    /// closes (`MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// A keep-alive connection idle this long, or one that takes this long to send a request's
    /// headers, is closed (`IDLE_TIMEOUT_SECS`).
    pub idle_timeout: Duration,
}

/// Above a load balancer's usual 60 s, so the balancer, not we, closes a shared idle connection
/// (the other order races a request against our close and the balancer answers 502).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// Each open connection costs about 20 KiB; this bounds them to about 20 MiB, and stays under
/// the common 1,024-descriptor limit with the database's files beside it.
pub const MAX_CONNECTIONS: usize = 1000;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: MAX_CONNECTIONS,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

/// How often a full house is reported while it lasts.
const FULL_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` resolves, then waits at most `drain` for the
/// requests in flight. Returns false when that wait ran out.
pub async fn serve(
    listener: TcpListener,
    app: Routes,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) -> bool {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut last_full_warning: Option<Instant> = None;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if last_full_warning.is_none_or(|t| t.elapsed() >= FULL_WARNING_EVERY) {
                    last_full_warning = Some(Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "MAX_CONNECTIONS connections are open; new ones wait until one closes"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        connection(stream, app.clone(), limits.idle_timeout, slot, &graceful);
    }
    drop(listener);
    tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_ok()
}

/// Serves one connection on its own task; its slot is freed when it closes.
fn connection(
    stream: TcpStream,
    app: Routes,
    idle: Duration,
    slot: OwnedSemaphorePermit,
    graceful: &GracefulShutdown,
) {
    // Responses go out in one write; waiting for an ACK before the next only adds latency.
    let _ = stream.set_nodelay(true);
    let watcher = graceful.watcher();
    tokio::spawn(async move {
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(idle)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        if let Err(e) = watcher.watch(conn).await {
            tracing::debug!("connection closed: {e}");
        }
        drop(slot);
    });
}

/// A refused or reset connection is the peer's business; anything else (out of file
/// descriptors, say) would fail again at once, so wait a moment, as hyper's own examples do.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {e}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
