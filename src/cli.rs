//! The command line: `serve` (the default), `sign` and `check`.

mod check;
mod sign;

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
    /// Check the templates and print every problem with file and line
    Check(check::CheckArgs),
    /// Create or upgrade the database schema (DATABASE_URL), then exit
    Migrate,
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
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Migrate) => migrate(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
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
        server
            .run(shutdown_signal())
            .await
            .map_err(|e| format!("server failed: {e}"))
    })
}
