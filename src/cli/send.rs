//! `switchboard send` and `switchboard status`: sending from the terminal through the same
//! outbox the API uses, and reading a send's state.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use crate::routes::api::{SendRequest, message_json, validate_send};

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Recipient, E.164 (+14155550100) or whatsapp:+...
    #[arg(long, required_unless_present = "csv", conflicts_with = "csv")]
    to: Option<String>,
    /// CSV file with a `to` column (and optionally `body`), one send per row
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Message text (a CSV `body` column overrides it per row)
    #[arg(long, allow_hyphen_values = true)]
    body: Option<String>,
    /// Media URL (repeat for several)
    #[arg(long = "media")]
    media: Vec<String>,
    /// Sender number [default: TWILIO_PHONE_NUMBER]
    #[arg(long)]
    from: Option<String>,
    /// Messaging Service to send through [default: TWILIO_MESSAGING_SERVICE_SID]
    #[arg(long)]
    messaging_service_sid: Option<String>,
    /// Print the id and return without waiting for the send
    #[arg(long)]
    no_wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The id printed by `send` or returned by POST /api/messages
    id: String,
    /// Print the JSON the API returns
    #[arg(long)]
    json: bool,
}

const FINAL: [&str; 3] = ["sent", "refused", "failed"];

fn request(args: &SendArgs, to: String, body: Option<String>) -> SendRequest {
    SendRequest {
        to,
        body: body.or_else(|| args.body.clone()),
        media_urls: args.media.clone(),
        from: args.from.clone(),
        messaging_service_sid: args.messaging_service_sid.clone(),
        status_callback: None,
    }
}

pub fn run(args: &SendArgs) -> Result<(), String> {
    let cx = Context::load()?;
    cx.runtime.block_on(async {
        let store = cx.store().await?;
        let worker = cx.worker(&store)?;
        match (&args.to, &args.csv) {
            (Some(to), _) => one(&cx, &store, worker, args, to).await,
            (None, Some(csv)) => many(&cx, &store, worker, args, csv).await,
            (None, None) => Err("give --to or --csv".into()),
        }
    })
}

async fn one(
    cx: &Context,
    store: &crate::store::Store,
    worker: crate::outbox::Wakeup,
    args: &SendArgs,
    to: &str,
) -> Result<(), String> {
    let new = validate_send(&cx.config.outbound, request(args, to.to_owned(), None))?;
    let segments = new.segments;
    let id = store.enqueue(new).await.map_err(|e| e.to_string())?;
    worker.wake();
    println!("id:       {id}\nsegments: {segments}");
    if args.no_wait {
        return Ok(());
    }
    loop {
        let row = store
            .outbox_message(&id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the send vanished")?;
        if FINAL.contains(&row.status.as_str()) {
            println!("status:   {}", row.status);
            if let Some(sid) = &row.message_sid {
                println!("twilio:   {sid}");
            }
            return match (row.status.as_str(), row.error_message) {
                ("sent", _) => Ok(()),
                (status, Some(why)) => Err(format!("{status}: {why}")),
                (status, None) => Err(status.to_owned()),
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn many(
    cx: &Context,
    store: &crate::store::Store,
    worker: crate::outbox::Wakeup,
    args: &SendArgs,
    path: &PathBuf,
) -> Result<(), String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let to_col =
        col("to").ok_or_else(|| format!("{}: no `to` column in the header row", path.display()))?;
    let body_col = col("body");
    let mut ids = Vec::new();
    let mut invalid = 0usize;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
        let to = record.get(to_col).unwrap_or("").to_owned();
        let body = body_col
            .and_then(|c| record.get(c))
            .filter(|b| !b.is_empty())
            .map(str::to_owned);
        match validate_send(&cx.config.outbound, request(args, to, body)) {
            Ok(new) => ids.push(store.enqueue(new).await.map_err(|e| e.to_string())?),
            Err(e) => {
                invalid += 1;
                eprintln!("{}:{}: refused: {e}", path.display(), line + 2);
            }
        }
    }
    worker.wake();
    let bar = ProgressBar::new(ids.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let counts = loop {
        let counts = statuses(store, &ids).await?;
        let done: i64 = FINAL
            .iter()
            .map(|s| counts.get(*s).copied().unwrap_or(0))
            .sum();
        bar.set_position(done as u64);
        if args.no_wait || done as usize == ids.len() {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    bar.finish_and_clear();
    let n = |s: &str| counts.get(s).copied().unwrap_or(0);
    println!(
        "{} accepted: {} sent, {} refused, {} failed; {invalid} rows invalid",
        ids.len(),
        n("sent"),
        n("refused"),
        n("failed")
    );
    if n("refused") + n("failed") > 0 || invalid > 0 {
        return Err("some messages were not sent; `switchboard status ID` says why".into());
    }
    Ok(())
}

async fn statuses(
    store: &crate::store::Store,
    ids: &[String],
) -> Result<HashMap<String, i64>, String> {
    store
        .outbox_status_counts(ids)
        .await
        .map_err(|e| e.to_string())
}

pub fn status(args: &StatusArgs) -> Result<(), String> {
    let cx = Context::load()?;
    cx.runtime.block_on(async {
        let store = cx.store().await?;
        let row = store
            .outbox_message(&args.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no message with id '{}'", args.id))?;
        let v = message_json(&store, &row)
            .await
            .map_err(|e| e.to_string())?;
        if args.json {
            println!("{v}");
            return Ok(());
        }
        println!(
            "id:       {}\nto:       {}\nstatus:   {}",
            row.id,
            row.to,
            v["status"].as_str().unwrap_or("")
        );
        if let Some(sid) = &row.message_sid {
            println!("twilio:   {sid}");
        }
        if let Some(e) = &row.error_message {
            println!("error:    {e}");
        }
        for h in store
            .outbox_history(&row)
            .await
            .map_err(|e| e.to_string())?
        {
            println!(
                "  {}  {:<10} {}",
                h.at,
                h.status,
                h.detail.unwrap_or_default()
            );
        }
        Ok(())
    })
}
