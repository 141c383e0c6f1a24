//! A simulated inbound SMS: the webhook Twilio posts to `/sms`, and the `<Message>` replies (and
//! messaging `<Redirect>`s) in the answer.

use reqwest::Url;

use super::twiml::{self, Element};
use super::wire::{Request, Wire, excerpt};
use super::{Line, Method, Problem, Reply, SimError, SmsScript, Transcript, sid};

pub const SMS_PATH: &str = "/sms";
/// Messaging redirects followed before the exchange counts as a loop.
const MAX_REQUESTS: usize = 10;

pub async fn run(wire: &Wire, sms: &SmsScript) -> Result<Transcript, SimError> {
    let mut transcript = Transcript::default();
    match exchange(wire, sms, &mut transcript).await {
        Ok(()) => Ok(transcript),
        Err(problem) => Err(SimError {
            problem,
            transcript,
        }),
    }
}

async fn exchange(
    wire: &Wire,
    sms: &SmsScript,
    transcript: &mut Transcript,
) -> Result<(), Problem> {
    let message_sid = sid("SM");
    let params: Vec<(String, String)> = [
        ("MessageSid", message_sid.as_str()),
        ("SmsSid", &message_sid),
        ("SmsMessageSid", &message_sid),
        ("AccountSid", &sid("AC")),
        ("From", &sms.from),
        ("To", &sms.to),
        ("Body", &sms.body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut url = wire.entry(SMS_PATH);
    let mut method = Method::Post;
    let mut replied = false;
    for _ in 0..MAX_REQUESTS {
        transcript.push(Line::Request {
            method,
            path: wire.path_of(&url),
        });
        let request = Request {
            method,
            url: &url,
            params: &params,
        };
        let body = wire.send(&request).await?;
        // Twilio accepts an empty 200 as "no reply" for messaging.
        if body.trim().is_empty() {
            if !replied {
                transcript.push(Line::NoReply);
            }
            return Ok(());
        }
        let document = twiml::parse(&body).map_err(|e| Problem::Malformed {
            method,
            url: wire.sent_string(&url),
            problem: e.to_string(),
            excerpt: excerpt(&body),
        })?;
        match read(wire, &url, &document, transcript, &mut replied)? {
            Some((next, next_method)) => {
                url = next;
                method = next_method;
            }
            None => {
                if !replied {
                    transcript.push(Line::NoReply);
                }
                return Ok(());
            }
        }
    }
    Err(Problem::SmsLoop(MAX_REQUESTS))
}

/// Records each `<Message>`; returns the redirect to follow, if the document ends in one.
fn read(
    wire: &Wire,
    url: &Url,
    document: &Element,
    transcript: &mut Transcript,
    replied: &mut bool,
) -> Result<Option<(Url, Method)>, Problem> {
    for verb in &document.children {
        match verb.name.as_str() {
            "Message" => {
                let body = verb.child("Body").map_or(verb.content(), Element::content);
                let media = verb
                    .children
                    .iter()
                    .filter(|c| c.name == "Media")
                    .map(|c| c.content().to_owned())
                    .collect();
                transcript.push(Line::Reply(Reply {
                    body: body.to_owned(),
                    to: verb.attr_value("to").map(str::to_owned),
                    from: verb.attr_value("from").map(str::to_owned),
                    media,
                }));
                *replied = true;
            }
            "Redirect" => {
                let next = wire.resolve(url, verb.content(), "redirect")?;
                return Ok(Some((next, Method::from_attr(verb.attr("method")))));
            }
            other => transcript.push(Line::Skipped(other.to_owned())),
        }
    }
    Ok(None)
}
