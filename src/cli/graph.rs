//! `switchboard graph`: the voice flow of the templates as Mermaid (default) or DOT text.

use std::path::PathBuf;

use crate::graph::{Format, render};
use crate::templates::Templates;

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// mermaid (paste into a Markdown ```mermaid block) or dot (for Graphviz)
    #[arg(long, value_enum, default_value = "mermaid")]
    format: Format,
    /// Directory holding voice.toml and sms.toml [env: TEMPLATES_DIR, default ./templates]
    #[arg(long, env = "TEMPLATES_DIR", default_value = "templates")]
    templates_dir: PathBuf,
}

pub fn run(args: &GraphArgs) -> Result<(), String> {
    let t = Templates::load(&args.templates_dir).map_err(|e| e.to_string())?;
    print!("{}", render(&t.voice, args.format));
    Ok(())
}
