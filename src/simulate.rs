//! `simulate`: drive a running server exactly as Twilio would, without a phone. A call POSTs
//! signed webhooks to `/voice/incoming` and then runs whatever TwiML comes back; an SMS POSTs
//! `/sms` and lists the replies. Everything past the entry points follows the TwiML alone.

mod call;
mod sms;
mod transcript;
pub mod twiml;
mod wire;

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;

pub use transcript::{End, Line, Reply, Transcript};

/// Where to send requests, and how the server checks them.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where requests are sent, e.g. `http://127.0.0.1:3000`.
    pub base_url: String,
    /// The URL the server signs against (its `PUBLIC_URL`); `None` means `base_url`.
    pub public_url: Option<String>,
    /// The server's Twilio auth token.
    pub token: SecretString,
}

impl Target {
    pub fn new(base_url: impl Into<String>, token: SecretString) -> Target {
        Target {
            base_url: base_url.into(),
            public_url: None,
            token,
        }
    }
}

/// One thing the caller does at a `<Gather>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Keys pressed (0-9, *, #).
    Press(String),
    /// A phrase spoken, heard only by a Gather whose `input` includes `speech`.
    Say(String),
}

/// How a `<Dial>` ends, as Twilio reports it in `DialCallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialStatus {
    Completed,
    Answered,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl DialStatus {
    pub const ALL: [DialStatus; 6] = [
        DialStatus::Completed,
        DialStatus::Answered,
        DialStatus::Busy,
        DialStatus::NoAnswer,
        DialStatus::Failed,
        DialStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DialStatus::Completed => "completed",
            DialStatus::Answered => "answered",
            DialStatus::Busy => "busy",
            DialStatus::NoAnswer => "no-answer",
            DialStatus::Failed => "failed",
            DialStatus::Canceled => "canceled",
        }
    }

    /// The callee picked up, so the legs were bridged.
    pub fn bridged(self) -> bool {
        matches!(self, DialStatus::Completed | DialStatus::Answered)
    }
}

impl fmt::Display for DialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DialStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<DialStatus, String> {
        DialStatus::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a dial status (completed, answered, busy, no-answer, failed, canceled)"
                )
            })
    }
}

/// What the caller does during a simulated call.
#[derive(Debug, Clone)]
pub struct CallScript {
    pub from: String,
    pub to: String,
    /// Consumed one per `<Gather>`, in order.
    pub inputs: Vec<Input>,
    /// Consumed one per `<Dial>`; the last repeats, and none means `completed`.
    pub dial_statuses: Vec<DialStatus>,
    /// How long the caller speaks at a `<Record>`; 0 is an empty recording.
    pub record_seconds: u32,
    /// What the transcription callback reports.
    pub transcription: String,
    /// TwiML requests allowed before the call counts as stuck in a loop.
    pub max_requests: usize,
}

impl Default for CallScript {
    fn default() -> CallScript {
        CallScript {
            from: "+15005550006".to_owned(),
            to: "+15005550000".to_owned(),
            inputs: Vec::new(),
            dial_statuses: Vec::new(),
            record_seconds: 12,
            transcription: "Hello, this is a simulated voicemail.".to_owned(),
            max_requests: 40,
        }
    }
}

/// One inbound text message.
#[derive(Debug, Clone)]
pub struct SmsScript {
    pub from: String,
    pub to: String,
    pub body: String,
}

impl SmsScript {
    pub fn new(from: impl Into<String>, body: impl Into<String>) -> SmsScript {
        SmsScript {
            from: from.into(),
            to: "+15005550000".to_owned(),
            body: body.into(),
        }
    }
}

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// A TwiML `method` attribute; Twilio's default is POST.
    fn from_attr(value: Option<&str>) -> Method {
        match value {
            Some(m) if m.trim().eq_ignore_ascii_case("GET") => Method::Get,
            _ => Method::Post,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
        })
    }
}

/// Why a simulation stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Problem {
    #[error("{method} {url} answered {status}: {excerpt}")]
    Status {
        method: Method,
        url: String,
        status: reqwest::StatusCode,
        excerpt: String,
    },
    #[error("{method} {url} answered TwiML Twilio cannot run: {problem} (body: {excerpt})")]
    Malformed {
        method: Method,
        url: String,
        problem: String,
        excerpt: String,
    },
    #[error("{method} {url} failed: {error}")]
    Transport {
        method: Method,
        url: String,
        error: String,
    },
    #[error("{what} to {url} leaves the server; stopped")]
    LeavesServer { what: String, url: String },
    #[error("{what} '{url}' is not a usable URL: {reason}")]
    BadUrl {
        what: String,
        url: String,
        reason: String,
    },
    #[error("the call did not end after {0} requests")]
    TooManyRequests(usize),
    #[error("the SMS was still being redirected after {0} requests")]
    SmsLoop(usize),
}

/// A simulation that stopped early: the problem, and what happened up to it.
#[derive(Debug, Clone)]
pub struct SimError {
    pub problem: Problem,
    pub transcript: Transcript,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

impl std::error::Error for SimError {}

/// Places one call against `target` and runs it to its end.
pub async fn simulate_call(target: &Target, script: &CallScript) -> Result<Transcript, SimError> {
    let wire = wire::Wire::new(target).map_err(|problem| SimError {
        problem,
        transcript: Transcript::default(),
    })?;
    call::run(&wire, script).await
}

/// Sends one inbound SMS to `target` and collects the replies.
pub async fn simulate_sms(target: &Target, sms: &SmsScript) -> Result<Transcript, SimError> {
    let wire = wire::Wire::new(target).map_err(|problem| SimError {
        problem,
        transcript: Transcript::default(),
    })?;
    sms::run(&wire, sms).await
}

/// `prefix` + 32 lowercase hex digits: the shape of every Twilio SID.
fn sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}
