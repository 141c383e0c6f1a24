//! `switchboard verify start|check`: Twilio Verify from the terminal. Codes are never stored.

use super::Context;

#[derive(Debug, clap::Subcommand)]
pub enum VerifyCommand {
    /// Send a verification code
    Start {
        /// Phone number (or email address with --channel email)
        #[arg(long)]
        to: String,
        /// sms, call, email or whatsapp
        #[arg(long, default_value = "sms")]
        channel: String,
        /// Language of the message, e.g. en or es
        #[arg(long)]
        locale: Option<String>,
    },
    /// Check a code the user received
    Check {
        #[arg(long)]
        to: String,
        #[arg(long)]
        code: String,
    },
}

pub fn run(cmd: &VerifyCommand) -> Result<(), String> {
    let cx = Context::load()?;
    let client = cx.client()?;
    let service = cx
        .config
        .outbound
        .verify_service_sid
        .clone()
        .ok_or("TWILIO_VERIFY_SID is not set (your Verify service, VA...)")?;
    let region = cx.config.outbound.default_region.clone();
    // The API's rule, so the terminal and the API accept the same destinations.
    let target = |to: &str, channel: &str| {
        crate::routes::verify::verify_target(region.as_deref(), to, channel)
            .map_err(|e| format!("--{e}"))
    };
    cx.runtime.block_on(async {
        match cmd {
            VerifyCommand::Start {
                to,
                channel,
                locale,
            } => {
                let to = target(to, channel)?;
                let v = client
                    .start_verification(&service, &to, channel, locale.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{} to {to} by {channel}", v.status);
                Ok(())
            }
            VerifyCommand::Check { to, code } => {
                let channel = if to.contains('@') { "email" } else { "sms" };
                let to = target(to, channel)?;
                match client.check_verification(&service, &to, code.trim()).await {
                    Ok(v) if v.status == "approved" => {
                        println!("approved");
                        Ok(())
                    }
                    Ok(_) => Err("pending: wrong code, try again".into()),
                    Err(e) if e.code() == Some(20404) => {
                        Err("expired: start a new verification".into())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    })
}
