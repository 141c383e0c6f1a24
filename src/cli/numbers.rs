//! `switchboard numbers configure`: point a Twilio number's webhooks at this server, finding the
//! public URL from the local ngrok agent when none is given.

use serde_json::Value;

use super::Context;
use crate::twilio::NumberWebhooks;

#[derive(Debug, clap::Subcommand)]
pub enum NumbersCommand {
    /// Set the number's VoiceUrl, SmsUrl and StatusCallback to this server
    Configure {
        /// The Twilio number, E.164
        #[arg(long)]
        number: String,
        /// Public base URL [default: PUBLIC_URL, else the https URL of the running ngrok agent]
        #[arg(long)]
        base_url: Option<String>,
        /// The ngrok agent's local API
        #[arg(long, env = "NGROK_API_URL", default_value = "http://127.0.0.1:4040")]
        ngrok_api: String,
    },
}

pub fn run(cmd: &NumbersCommand) -> Result<(), String> {
    let NumbersCommand::Configure {
        number,
        base_url,
        ngrok_api,
    } = cmd;
    let cx = Context::load()?;
    let client = cx.client()?;
    let number = crate::phone::parse_e164(number).map_err(|e| format!("--number: {e}"))?;
    cx.runtime.block_on(async {
        let base = match base_url.clone().or_else(|| cx.config.public_url.clone()) {
            Some(b) => b.trim_end_matches('/').to_owned(),
            None => ngrok_url(ngrok_api).await?,
        };
        if !base.starts_with("https://") {
            eprintln!("warning: {base} is not https; Twilio recommends https webhooks");
        }
        let found = client
            .find_incoming_number(&number)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "{number} is not a number of account {}",
                    client.account_sid()
                )
            })?;
        let hooks = NumberWebhooks {
            voice_url: format!("{base}/voice/incoming"),
            sms_url: format!("{base}/sms"),
            status_callback: format!("{base}/voice/status"),
        };
        let n = client
            .update_number_webhooks(&found.sid, &hooks)
            .await
            .map_err(|e| e.to_string())?;
        println!("{} ({})", n.phone_number, n.sid);
        println!("  voice:  {}", n.voice_url.unwrap_or_default());
        println!("  sms:    {}", n.sms_url.unwrap_or_default());
        println!("  status: {}", n.status_callback.unwrap_or_default());
        if cx.config.public_url.as_deref() != Some(base.as_str()) {
            println!("start the server with PUBLIC_URL={base} so signatures match");
        }
        Ok(())
    })
}

/// The https URL of the ngrok agent's first endpoint (agent 3.16+ `/api/endpoints`, older
/// agents `/api/tunnels`).
pub async fn ngrok_url(api: &str) -> Result<String, String> {
    let api = api.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| e.to_string())?;
    let get = |path: &'static str| {
        let http = http.clone();
        async move {
            let r = http.get(format!("{api}{path}")).send().await.ok()?;
            r.json::<Value>().await.ok()
        }
    };
    let https = |v: &Value| {
        v.as_str()
            .filter(|u| u.starts_with("https://"))
            .map(str::to_owned)
    };
    if let Some(v) = get("/api/endpoints").await
        && let Some(url) = v["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|e| https(&e["url"]))
    {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    if let Some(v) = get("/api/tunnels").await
        && let Some(url) = v["tunnels"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|t| https(&t["public_url"]))
    {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    Err(format!(
        "no https tunnel found at the ngrok agent ({api}): start `ngrok start --config ngrok.yml switchboard` or pass --base-url"
    ))
}
