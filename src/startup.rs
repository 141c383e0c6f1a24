//! Building and running the server: load templates, bind, serve until a shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;

use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::{Config, TokenSource};
use crate::outbox::{Wakeup, Worker, WorkerConfig};
use crate::routes::{App, AppState, Routes};
use crate::store::{Store, StoreError};
use crate::templates::{TemplateErrors, TemplateSet, Templates};
use crate::twilio::{ClientConfig, TwilioClient};

/// Why the server could not start; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Templates(#[from] TemplateErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Twilio(crate::twilio::TwilioError),
    #[error("cannot listen on {addr}: {source} (set PORT or BIND)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A bound, ready server; `local_addr` tells the port when PORT was 0.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    /// The outbox worker and the switch that stops it, when sending is configured.
    worker: Option<(
        tokio::task::JoinHandle<()>,
        tokio::sync::watch::Sender<bool>,
    )>,
}

impl Server {
    /// Loads the templates (resolving `${VAR}` from the process environment) and binds.
    pub async fn build(config: Config) -> Result<Server, StartError> {
        let templates = Templates::load(&config.templates_dir)?;
        Server::with_templates(config, templates).await
    }

    /// Connects the store (running migrations) and binds, with templates already loaded.
    pub async fn with_templates(
        config: Config,
        templates: Templates,
    ) -> Result<Server, StartError> {
        let store = Store::connect(config.database_url.expose_secret()).await?;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let client = twilio_client(&config)?;
        let mut worker = None;
        let wakeup = client.as_ref().map(|client| {
            let wakeup = Wakeup::default();
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let cfg = WorkerConfig::from_config(&config);
            let handle = Worker::new(store.clone(), client.clone(), cfg)
                .spawn_stoppable(wakeup.clone(), stop_rx);
            worker = Some((handle, stop_tx));
            wakeup
        });
        let state = AppState::new(App {
            config: Arc::new(config),
            templates: Arc::new(TemplateSet::new(templates)),
            store,
            client,
            wakeup,
        });
        Ok(Server {
            listener,
            state,
            worker,
        })
    }

    /// The server's store, for tools and tests that look at what was committed.
    pub fn store(&self) -> Store {
        self.state.store.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (at most
    /// [`DRAIN`]); their commits are flushed by the store's writer before they answer. SIGHUP
    /// reloads the templates.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let addr = self.local_addr();
        announce(&self.state.config, addr);
        let trimmer = crate::memory::spawn_trimmer();
        tokio::spawn(reload_on_sighup(
            self.state.templates.clone(),
            self.state.config.templates_dir.clone(),
        ));
        let limits = self.state.config.limits;
        let app = Routes::new(self.state);
        if !crate::serve::serve(self.listener, app, limits, shutdown, DRAIN).await {
            tracing::warn!("in-flight requests did not finish within {DRAIN:?}; exiting");
        }
        trimmer.abort();
        if let Some((handle, stop)) = self.worker {
            let _ = stop.send(true);
            if tokio::time::timeout(DRAIN, handle).await.is_err() {
                tracing::warn!("the outbox worker did not finish its sends within {DRAIN:?}");
            }
        }
    }
}

/// How long a shutdown waits for in-flight webhooks (Twilio gives up on them after 15 s).
pub const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Loads the templates again and swaps them in; on any problem the old set stays in use.
pub fn reload(templates: &TemplateSet, dir: &std::path::Path) -> Result<(), TemplateErrors> {
    let fresh = Templates::load(dir)?;
    templates.replace(fresh);
    Ok(())
}

async fn reload_on_sighup(templates: Arc<TemplateSet>, dir: std::path::PathBuf) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        match reload(&templates, &dir) {
            Ok(()) => tracing::info!(dir = %dir.display(), "templates reloaded"),
            Err(e) => tracing::error!("templates not reloaded, the old ones stay in use: {e}"),
        }
    }
}

/// The REST client, when an account SID and a real Auth Token (not local mode's) are set.
pub fn twilio_client(config: &Config) -> Result<Option<TwilioClient>, StartError> {
    let (Some(sid), TokenSource::Environment) = (&config.account_sid, &config.token_source) else {
        return Ok(None);
    };
    let cfg = ClientConfig {
        api_base: config.outbound.api_base.clone(),
        verify_base: config.outbound.verify_base.clone(),
        timeout: config.outbound.timeout,
        ..ClientConfig::new(sid.clone(), config.auth_token.clone())
    };
    TwilioClient::new(cfg).map(Some).map_err(StartError::Twilio)
}

fn announce(config: &Config, addr: SocketAddr) {
    tracing::info!(%addr, public_url = config.public_url.as_deref(), "switchboard listening");
    if let TokenSource::LocalFile(path) = &config.token_source {
        let base = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        tracing::info!(
            token_file = %path.display(),
            "local mode: TWILIO_AUTH_TOKEN is unset, so requests must be signed with the local token. \
             Sign one with: switchboard sign --url {base}/voice/incoming CallSid=CA123 From=+14155550100"
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
