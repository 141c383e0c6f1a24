//! A simulated call: the webhooks Twilio makes for one inbound call, and each voice verb run the
//! way Twilio runs it (section 1 and 5 of the TwiML notes), driven only by the TwiML received.

mod record;

use std::collections::VecDeque;

use reqwest::Url;

use super::twiml::{self, Element};
use super::wire::{Request, Wire, excerpt};
use super::{CallScript, DialStatus, End, Input, Line, Method, Problem, SimError, Transcript, sid};

pub const INCOMING_PATH: &str = "/voice/incoming";

/// Speech recognition's confidence in a simulated phrase.
const SPEECH_CONFIDENCE: &str = "0.93";
/// `DialCallDuration` of a bridged dial.
const BRIDGED_SECONDS: &str = "42";

type Params = Vec<(String, String)>;

/// The next TwiML request, and the callbacks Twilio posts once it is answered.
struct Fetch {
    url: Url,
    method: Method,
    params: Params,
    then: Vec<Callback>,
}

/// A status or transcription callback: its response is not TwiML and is not run.
struct Callback {
    what: &'static str,
    url: Url,
    method: Method,
    params: Params,
}

/// What a document leads to once its verbs are run.
enum Next {
    Fetch(Fetch),
    End(End),
}

struct Call<'a> {
    wire: &'a Wire,
    script: &'a CallScript,
    inputs: VecDeque<Input>,
    dials: usize,
    call_sid: String,
    account_sid: String,
    requests: usize,
    transcript: Transcript,
}

pub async fn run(wire: &Wire, script: &CallScript) -> Result<Transcript, SimError> {
    let mut call = Call {
        wire,
        script,
        inputs: script.inputs.iter().cloned().collect(),
        dials: 0,
        call_sid: sid("CA"),
        account_sid: sid("AC"),
        requests: 0,
        transcript: Transcript::default(),
    };
    match call.drive().await {
        Ok(end) => {
            call.transcript.push(Line::Ended(end));
            Ok(call.transcript)
        }
        Err(problem) => Err(SimError {
            problem,
            transcript: call.transcript,
        }),
    }
}

impl Call<'_> {
    async fn drive(&mut self) -> Result<End, Problem> {
        let mut fetch = Fetch {
            url: self.wire.entry(INCOMING_PATH),
            method: Method::Post,
            params: Vec::new(),
            then: Vec::new(),
        };
        loop {
            let document = self.fetch(&fetch).await?;
            for callback in &fetch.then {
                self.post_callback(callback).await?;
            }
            match self.run_document(&fetch.url, &document).await? {
                Next::Fetch(next) => fetch = next,
                Next::End(end) => return Ok(end),
            }
        }
    }

    /// Every voice request carries the call's parameters; the first says the call is ringing.
    fn call_params(&self) -> Params {
        let status = if self.requests == 0 {
            "ringing"
        } else {
            "in-progress"
        };
        let s = self.script;
        [
            ("CallSid", self.call_sid.as_str()),
            ("AccountSid", self.account_sid.as_str()),
            ("From", s.from.as_str()),
            ("To", s.to.as_str()),
            ("Caller", s.from.as_str()),
            ("Called", s.to.as_str()),
            ("CallStatus", status),
            ("Direction", "inbound"),
            ("ApiVersion", "2010-04-01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    async fn fetch(&mut self, fetch: &Fetch) -> Result<Element, Problem> {
        if self.requests >= self.script.max_requests {
            return Err(Problem::TooManyRequests(self.script.max_requests));
        }
        let mut params = self.call_params();
        params.extend(fetch.params.iter().cloned());
        self.requests += 1;
        self.transcript.push(Line::Request {
            method: fetch.method,
            path: self.wire.path_of(&fetch.url),
        });
        let request = Request {
            method: fetch.method,
            url: &fetch.url,
            params: &params,
        };
        let body = self.wire.send(&request).await?;
        twiml::parse(&body).map_err(|e| Problem::Malformed {
            method: fetch.method,
            url: self.wire.sent_string(&fetch.url),
            problem: e.to_string(),
            excerpt: excerpt(&body),
        })
    }

    async fn post_callback(&mut self, callback: &Callback) -> Result<(), Problem> {
        self.transcript.push(Line::Callback {
            what: callback.what.to_owned(),
            method: callback.method,
            path: self.wire.path_of(&callback.url),
        });
        let request = Request {
            method: callback.method,
            url: &callback.url,
            params: &callback.params,
        };
        self.wire.send(&request).await.map(drop)
    }

    async fn run_document(&mut self, url: &Url, document: &Element) -> Result<Next, Problem> {
        for verb in &document.children {
            let next = match verb.name.as_str() {
                "Say" | "Play" | "Pause" => {
                    self.hear(verb);
                    None
                }
                "Gather" => self.gather(url, verb)?,
                "Dial" => self.dial(url, verb)?,
                "Record" => self.record(url, verb)?,
                "Redirect" => {
                    let target = self.wire.resolve(url, verb.content(), "redirect")?;
                    Some(self.fetch_of(target, verb.attr("method"), Vec::new()))
                }
                "Hangup" => return Ok(Next::End(End::HungUp)),
                "Reject" => {
                    let reason = verb.attr_value("reason").unwrap_or("rejected");
                    return Ok(Next::End(End::Rejected(reason.to_owned())));
                }
                other => {
                    self.transcript.push(Line::Skipped(other.to_owned()));
                    None
                }
            };
            if let Some(fetch) = next {
                return Ok(Next::Fetch(fetch));
            }
        }
        Ok(Next::End(End::NoMoreVerbs))
    }

    fn fetch_of(&self, url: Url, method: Option<&str>, params: Params) -> Fetch {
        Fetch {
            url,
            method: Method::from_attr(method),
            params,
            then: Vec::new(),
        }
    }

    /// An action URL, defaulting to the current document as Twilio does.
    fn action(&self, document: &Url, verb: &Element, what: &str) -> Result<Url, Problem> {
        match verb.attr_value("action") {
            Some(action) => self.wire.resolve(document, action, what),
            None => Ok(document.clone()),
        }
    }

    /// Say, Play and Pause, alone or nested in a Gather.
    fn hear(&mut self, verb: &Element) {
        let line = match verb.name.as_str() {
            "Say" => Line::Heard {
                text: verb.content().to_owned(),
                language: verb.attr_value("language").map(str::to_owned),
                voice: verb.attr_value("voice").map(str::to_owned),
            },
            "Play" => match verb.attr_value("digits") {
                Some(digits) => Line::PlayedDigits(digits.to_owned()),
                None => Line::PlayedAudio(verb.content().to_owned()),
            },
            "Pause" => Line::Paused(
                verb.attr_value("length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(1),
            ),
            other => Line::Skipped(other.to_owned()),
        };
        self.transcript.push(line);
    }

    /// Plays the prompts, then takes the next input: with one the Gather requests its action
    /// and the rest of the document never runs; without, it falls through to the next verb.
    fn gather(&mut self, document: &Url, gather: &Element) -> Result<Option<Fetch>, Problem> {
        for child in &gather.children {
            self.hear(child);
        }
        let input = gather.attr("input").unwrap_or("dtmf");
        let listens = |kind: &str| input.split_whitespace().any(|w| w == kind);
        let mut params = Vec::new();
        match self.inputs.pop_front() {
            Some(Input::Press(keys)) => {
                self.transcript.push(Line::Pressed(keys.clone()));
                if listens("dtmf") {
                    let finish = gather.attr("finishOnKey").unwrap_or("#");
                    let digits = match finish.chars().next() {
                        Some(k) => keys.strip_suffix(k).unwrap_or(&keys),
                        None => &keys,
                    };
                    params.push(("Digits".to_owned(), digits.to_owned()));
                } else {
                    let why = "this Gather listens for speech only";
                    self.transcript.push(Line::Ignored(why.to_owned()));
                }
            }
            Some(Input::Say(phrase)) => {
                self.transcript.push(Line::Said(phrase.clone()));
                if listens("speech") {
                    params.push(("SpeechResult".to_owned(), phrase));
                    params.push(("Confidence".to_owned(), SPEECH_CONFIDENCE.to_owned()));
                } else {
                    let why = "this Gather does not listen for speech";
                    self.transcript.push(Line::Ignored(why.to_owned()));
                }
            }
            None => {}
        }
        if params.is_empty() {
            self.transcript.push(Line::NoInput);
            if gather.attr("actionOnEmptyResult") != Some("true") {
                return Ok(None);
            }
        }
        let action = self.action(document, gather, "Gather action")?;
        Ok(Some(self.fetch_of(action, gather.attr("method"), params)))
    }

    /// The numbers dialled and the scripted outcome; only a Dial with an action makes a request.
    fn dial(&mut self, document: &Url, dial: &Element) -> Result<Option<Fetch>, Problem> {
        let mut numbers: Vec<String> = Vec::new();
        if !dial.content().is_empty() {
            numbers.push(dial.content().to_owned());
        }
        for noun in &dial.children {
            let name = match noun.name.as_str() {
                "Client" => match noun.child("Identity") {
                    Some(identity) => format!("client:{}", identity.content()),
                    None => format!("client:{}", noun.content()),
                },
                "Conference" => format!("conference:{}", noun.content()),
                "Queue" => format!("queue:{}", noun.content()),
                _ => noun.content().to_owned(),
            };
            numbers.push(name);
        }
        let s = &self.script.dial_statuses;
        let outcome = s
            .get(self.dials)
            .or(s.last())
            .copied()
            .unwrap_or(DialStatus::Completed);
        self.dials += 1;
        self.transcript.push(Line::Dialled { numbers, outcome });
        let Some(action) = dial.attr_value("action") else {
            return Ok(None);
        };
        let action = self.wire.resolve(document, action, "Dial action")?;
        let duration = if outcome.bridged() {
            BRIDGED_SECONDS
        } else {
            "0"
        };
        let params = vec![
            ("DialCallStatus".to_owned(), outcome.as_str().to_owned()),
            ("DialCallSid".to_owned(), sid("CA")),
            ("DialCallDuration".to_owned(), duration.to_owned()),
            ("DialBridged".to_owned(), outcome.bridged().to_string()),
        ];
        Ok(Some(self.fetch_of(action, dial.attr("method"), params)))
    }
}
