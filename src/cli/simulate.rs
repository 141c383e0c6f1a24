//! `switchboard simulate call|sms`: drive a running server as Twilio would and print what the
//! caller or texter experiences.

use std::path::PathBuf;

use clap::{ArgMatches, Args, FromArgMatches};

use crate::simulate::{
    CallScript, DialStatus, Input, SimError, SmsScript, Target, Transcript, simulate_call,
    simulate_sms,
};

#[derive(Debug, clap::Subcommand)]
pub enum SimulateCommand {
    /// Place a call to /voice/incoming and follow the TwiML until the call ends
    Call(CallCommand),
    /// Send an SMS to /sms and show the replies
    Sms(SmsArgs),
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// Where the server listens
    #[arg(long, default_value = "http://127.0.0.1:3000", value_parser = http_url)]
    url: String,
    /// The URL the server signs against, its PUBLIC_URL [default: PUBLIC_URL, else --url]
    #[arg(long, value_parser = http_url)]
    public_url: Option<String>,
    /// Directory of the local-mode token (default .switchboard) [env: SWITCHBOARD_STATE_DIR]
    #[arg(long, hide = true)]
    state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CallArgs {
    /// Keys to press at the next Gather (0-9, *, #); repeat, in order with --say
    #[arg(long, value_name = "KEYS", value_parser = keys)]
    press: Vec<String>,
    /// A phrase to say at the next Gather; repeat, in order with --press
    #[arg(long, value_name = "PHRASE")]
    say: Vec<String>,
    /// The caller's number
    #[arg(long, default_value = "+15005550006")]
    from: String,
    /// The number called
    #[arg(long, default_value = "+15005550000")]
    to: String,
    /// How each Dial ends, in order, the last repeating: completed, answered, busy, no-answer,
    /// failed or canceled [default: completed]
    #[arg(long, value_name = "STATUS")]
    dial_status: Vec<DialStatus>,
    /// Seconds the caller speaks at a Record (0: an empty recording)
    #[arg(long, default_value_t = 12)]
    record_seconds: u32,
    /// The text a transcription callback reports
    #[arg(long, default_value = "Hello, this is a simulated voicemail.")]
    transcription: String,
    #[command(flatten)]
    target: TargetArgs,
}

/// The call's flags plus `--press`/`--say` merged in command-line order, which the derive keeps
/// only per flag; so this reads the matches' indices itself.
#[derive(Debug)]
pub struct CallCommand {
    args: CallArgs,
    inputs: Vec<Input>,
}

impl FromArgMatches for CallCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<CallCommand, clap::Error> {
        Ok(CallCommand {
            inputs: ordered_inputs(matches),
            args: CallArgs::from_arg_matches(matches)?,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.inputs = ordered_inputs(matches);
        self.args.update_from_arg_matches(matches)
    }
}

impl Args for CallCommand {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        CallArgs::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        CallArgs::augment_args_for_update(cmd)
    }
}

fn ordered_inputs(matches: &ArgMatches) -> Vec<Input> {
    let mut tagged: Vec<(usize, Input)> = Vec::new();
    let mut collect = |id: &str, input: fn(String) -> Input| {
        if let (Some(indices), Some(values)) =
            (matches.indices_of(id), matches.get_many::<String>(id))
        {
            tagged.extend(indices.zip(values).map(|(i, v)| (i, input(v.clone()))));
        }
    };
    collect("press", Input::Press);
    collect("say", Input::Say);
    tagged.sort_by_key(|(i, _)| *i);
    tagged.into_iter().map(|(_, input)| input).collect()
}

#[derive(Debug, Args)]
pub struct SmsArgs {
    /// The texter's number
    #[arg(long)]
    from: String,
    /// The number texted
    #[arg(long, default_value = "+15005550000")]
    to: String,
    /// The message text
    #[arg(long)]
    body: String,
    #[command(flatten)]
    target: TargetArgs,
}

fn keys(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "'{value}' is not keys to press (only 0-9, * and #)"
        ))
    }
}

fn http_url(value: &str) -> Result<String, String> {
    if value.starts_with("http://") || value.starts_with("https://") {
        Ok(value.to_owned())
    } else {
        Err(format!("'{value}' must start with http:// or https://"))
    }
}

/// Prints the transcript, even a partial one, so a failure shows what led to it.
pub fn run(cmd: &SimulateCommand) -> Result<(), String> {
    let env = |name: &str| std::env::var(name).ok();
    let runtime = super::runtime()?;
    let outcome: Result<Transcript, SimError> = match cmd {
        SimulateCommand::Call(call) => {
            let target = target(&call.args.target, env)?;
            runtime.block_on(simulate_call(&target, &call.script()))
        }
        SimulateCommand::Sms(sms) => {
            let target = target(&sms.target, env)?;
            let script = SmsScript {
                from: sms.from.clone(),
                to: sms.to.clone(),
                body: sms.body.clone(),
            };
            runtime.block_on(simulate_sms(&target, &script))
        }
    };
    match outcome {
        Ok(transcript) => {
            print!("{transcript}");
            Ok(())
        }
        Err(e) => {
            print!("{}", e.transcript);
            Err(e.to_string())
        }
    }
}

impl CallCommand {
    fn script(&self) -> CallScript {
        let a = &self.args;
        CallScript {
            from: a.from.clone(),
            to: a.to.clone(),
            inputs: self.inputs.clone(),
            dial_statuses: a.dial_status.clone(),
            record_seconds: a.record_seconds,
            transcription: a.transcription.clone(),
            ..CallScript::default()
        }
    }
}

/// The token as `switchboard sign` finds it; the public URL from the flag, else `PUBLIC_URL`.
fn target(args: &TargetArgs, env: impl Fn(&str) -> Option<String>) -> Result<Target, String> {
    let token = super::sign::auth_token(args.state_dir.as_deref(), &env)?;
    let public_url = args
        .public_url
        .clone()
        .or_else(|| env("PUBLIC_URL").filter(|v| !v.trim().is_empty()));
    Ok(Target {
        base_url: args.url.clone(),
        public_url,
        token,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use secrecy::ExposeSecret;

    use super::super::{Cli, Command};
    use super::*;

    fn parse(args: &[&str]) -> Result<SimulateCommand, String> {
        let argv = ["switchboard", "simulate"].iter().chain(args);
        match Cli::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .command
        {
            Some(Command::Simulate(cmd)) => Ok(cmd),
            other => Err(format!("parsed as {other:?}")),
        }
    }

    fn call(args: &[&str]) -> CallCommand {
        let mut argv = vec!["call"];
        argv.extend_from_slice(args);
        match parse(&argv).unwrap() {
            SimulateCommand::Call(c) => c,
            SimulateCommand::Sms(_) => panic!("not a call"),
        }
    }

    #[test]
    fn press_and_say_keep_their_command_line_order() {
        let c = call(&["--press", "9", "--say", "sales", "--press", "3"]);
        let expected = [
            Input::Press("9".into()),
            Input::Say("sales".into()),
            Input::Press("3".into()),
        ];
        assert_eq!(c.script().inputs, expected);
        let c = call(&["--say", "a", "--say", "b", "--press", "1#", "--say", "c"]);
        let expected = [
            Input::Say("a".into()),
            Input::Say("b".into()),
            Input::Press("1#".into()),
            Input::Say("c".into()),
        ];
        assert_eq!(c.script().inputs, expected);
    }

    #[test]
    fn defaults_match_the_library_script() {
        let s = call(&[]).script();
        let d = CallScript::default();
        assert_eq!((s.from, s.to), (d.from, d.to));
        assert_eq!(s.record_seconds, 12);
        assert_eq!(s.transcription, d.transcription);
        assert!(s.inputs.is_empty() && s.dial_statuses.is_empty());
        let s = call(&["--dial-status", "busy", "--dial-status", "no-answer"]).script();
        assert_eq!(s.dial_statuses, [DialStatus::Busy, DialStatus::NoAnswer]);
    }

    #[test]
    fn bad_values_are_named() {
        let cases: [(&[&str], &str); 4] = [
            (&["call", "--press", "1a"], "'1a'"),
            (&["call", "--dial-status", "ringing"], "'ringing'"),
            (&["call", "--url", "127.0.0.1:3000"], "'127.0.0.1:3000'"),
            (
                &["sms", "--from", "+1", "--body", "x", "--public-url", "x"],
                "'x'",
            ),
        ];
        for (args, named) in cases {
            let err = parse(args).unwrap_err();
            assert!(err.contains(named), "{args:?}: {err}");
        }
        assert!(
            parse(&["sms", "--from", "+1"]).is_err(),
            "--body is required"
        );
    }

    #[test]
    fn target_takes_the_token_and_public_url_like_the_server() {
        let c = call(&["--url", "http://127.0.0.1:4000"]);
        let env = |k: &str| match k {
            "TWILIO_AUTH_TOKEN" => Some("12345".to_owned()),
            "PUBLIC_URL" => Some("https://abc.example".to_owned()),
            _ => None,
        };
        let t = target(&c.args.target, env).unwrap();
        assert_eq!(t.token.expose_secret(), "12345");
        assert_eq!(t.base_url, "http://127.0.0.1:4000");
        assert_eq!(t.public_url.as_deref(), Some("https://abc.example"));
        let c = call(&["--public-url", "https://flag.example"]);
        let t = target(&c.args.target, env).unwrap();
        assert_eq!(t.public_url.as_deref(), Some("https://flag.example"));
        let only_token = |k: &str| (k == "TWILIO_AUTH_TOKEN").then(|| "12345".to_owned());
        let t = target(&c.args.target, only_token).unwrap();
        assert_eq!(t.public_url.as_deref(), Some("https://flag.example"));
        let t = target(&call(&[]).args.target, only_token).unwrap();
        assert_eq!(t.public_url, None);
    }
}
