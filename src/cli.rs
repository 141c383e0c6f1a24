//! The command line: `serve` (the default) and the client commands (`sign`, `simulate`, `check`,
//! `graph`, `migrate`, `send`, `status`, `verify`, `numbers`, `segments`, `doctor`, `healthcheck`).

mod check;
mod doctor;
mod graph;
mod healthcheck;
mod numbers;
mod segments;
mod send;
mod sign;
mod simulate;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, ServeArgs};
use secrecy::ExposeSecret;

use crate::startup::{Server, shutdown_signal};
use crate::store::Store;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "A self-hosted webhook server for Twilio voice and messaging"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `serve`'s options, so that plain `switchboard --port 4000` serves.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the webhooks (the default)
    Serve(ServeArgs),
    /// Print the X-Twilio-Signature Twilio would send for a request
    Sign(sign::SignArgs),
    /// Drive a running server as Twilio would: a call through the phone menu, or an SMS
    #[command(subcommand)]
    Simulate(simulate::SimulateCommand),
    /// Check the templates and print every problem with file and line
    Check(check::CheckArgs),
    /// Draw the voice flow as Mermaid or DOT text
    Graph(graph::GraphArgs),
    /// Create or upgrade the database schema (DATABASE_URL), then exit
    Migrate,
    /// Send an SMS/MMS (or many, from a CSV file) through the outbox
    Send(send::SendArgs),
    /// Show a send's status and history
    Status(send::StatusArgs),
    /// Start or check a Twilio Verify code
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// Configure a Twilio number's webhooks
    #[command(subcommand)]
    Numbers(numbers::NumbersCommand),
    /// Show how a message body is encoded and split into segments
    Segments(segments::SegmentsArgs),
    /// Check credentials, numbers' webhooks, Verify, A2P 10DLC and PUBLIC_URL against Twilio
    Doctor(doctor::DoctorArgs),
    /// Exit 0 if the server's /healthz answers 200 (the container's HEALTHCHECK)
    Healthcheck(healthcheck::HealthcheckArgs),
}

/// Parses the command line, runs the command, and maps failure to a message and exit status 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = config::load_dotenv() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Sign(args)) => sign::run(&args),
        Some(Command::Simulate(cmd)) => simulate::run(&cmd),
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Graph(args)) => graph::run(&args),
        Some(Command::Migrate) => migrate(),
        Some(Command::Send(args)) => send::run(&args),
        Some(Command::Status(args)) => send::status(&args),
        Some(Command::Verify(cmd)) => verify::run(&cmd),
        Some(Command::Numbers(cmd)) => numbers::run(&cmd),
        Some(Command::Segments(args)) => segments::run(&args),
        Some(Command::Doctor(args)) => doctor::run(&args),
        Some(Command::Healthcheck(args)) => healthcheck::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What the client-side commands share: the config, a runtime, and on demand the store, the
/// REST client and an outbox worker.
struct Context {
    config: Config,
    runtime: tokio::runtime::Runtime,
}

impl Context {
    fn load() -> Result<Context, String> {
        let config = Config::load(&ServeArgs::default()).map_err(|e| e.to_string())?;
        telemetry::init_quiet(config.log_format);
        Ok(Context {
            config,
            runtime: runtime()?,
        })
    }

    async fn store(&self) -> Result<Store, String> {
        Store::connect(self.config.database_url.expose_secret())
            .await
            .map_err(|e| e.to_string())
    }

    fn client(&self) -> Result<crate::twilio::TwilioClient, String> {
        crate::startup::twilio_client(&self.config)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (environment or .env)".to_owned()
            })
    }

    /// Starts an outbox worker in this process (must be called inside the runtime).
    fn worker(&self, store: &Store) -> Result<crate::outbox::Wakeup, String> {
        let client = self.client()?;
        let wakeup = crate::outbox::Wakeup::default();
        let cfg = crate::outbox::WorkerConfig::from_config(&self.config);
        crate::outbox::Worker::new(store.clone(), client, cfg).spawn(wakeup.clone());
        Ok(wakeup)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn migrate() -> Result<(), String> {
    let config = Config::load(&ServeArgs::default()).map_err(|e| e.to_string())?;
    runtime()?.block_on(async {
        let url = config.database_url.expose_secret();
        let store = Store::connect_without_migrating(url)
            .await
            .map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        println!("migrated {}", crate::store::redact(url));
        Ok(())
    })
}

fn serve(args: &ServeArgs) -> Result<(), String> {
    let config = Config::load(args).map_err(|e| e.to_string())?;
    telemetry::init(config.log_format);
    runtime()?.block_on(async {
        let server = Server::build(config).await.map_err(|e| e.to_string())?;
        server.run(shutdown_signal()).await;
        Ok(())
    })
}
