//! `switchboard check`: load the templates as the server would and list every problem.

use std::path::PathBuf;

use crate::templates::{NumberCheck, Templates};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Directory holding voice.toml and sms.toml [env: TEMPLATES_DIR, default ./templates]
    #[arg(long, env = "TEMPLATES_DIR", default_value = "templates")]
    templates_dir: PathBuf,
}

pub fn run(args: &CheckArgs) -> Result<(), String> {
    let env = |name: &str| std::env::var(name).ok();
    let t = Templates::load_checking(&args.templates_dir, &env, NumberCheck::NumberingPlan)
        .map_err(|e| e.to_string())?;
    let v = &t.voice;
    let hours = v
        .hours
        .as_ref()
        .map_or_else(|| "open all hours".to_owned(), |h| h.hours.describe());
    println!(
        "{}: ok ({} menus, languages {}, {} SMS keywords; {hours})",
        args.templates_dir.display(),
        v.menus.len(),
        v.languages.keys().cloned().collect::<Vec<_>>().join(" "),
        t.sms.keywords.len()
    );
    Ok(())
}
