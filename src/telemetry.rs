//! Log output: human-readable by default, JSON with `LOG_FORMAT=json`; level from `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(format: LogFormat) {
    init_with(format, "info");
}

/// For client commands, whose output is their own: only warnings unless RUST_LOG says more.
pub fn init_quiet(format: LogFormat) {
    init_with(format, "warn");
}

fn init_with(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
