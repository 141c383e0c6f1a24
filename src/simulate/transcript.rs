//! What a simulated caller or texter experienced, line by line: typed for tests, printable for
//! a person following the call.

use std::fmt;

use super::{DialStatus, Method};

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A `<Hangup>`.
    HungUp,
    /// A `<Reject>`, with its reason (`rejected` or `busy`).
    Rejected(String),
    /// A document ran out of verbs, so Twilio hung up.
    NoMoreVerbs,
    /// Not ended: an SMS, or a simulation stopped by a problem.
    Open,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::HungUp => f.write_str("hung up by the server"),
            End::Rejected(reason) => write!(f, "rejected by the server ({reason})"),
            End::NoMoreVerbs => f.write_str("the TwiML ran out of verbs"),
            End::Open => f.write_str("not ended"),
        }
    }
}

/// One `<Message>` sent back to a texter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub body: String,
    pub to: Option<String>,
    pub from: Option<String>,
    pub media: Vec<String>,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A request for TwiML: its method and the path (with query) it reached the server at.
    Request {
        method: Method,
        path: String,
    },
    /// `<Say>` text, with its `language` and `voice` attributes.
    Heard {
        text: String,
        language: Option<String>,
        voice: Option<String>,
    },
    /// `<Play>` of an audio URL.
    PlayedAudio(String),
    /// `<Play digits>`: tones.
    PlayedDigits(String),
    Paused(u32),
    Pressed(String),
    Said(String),
    /// An input the `<Gather>` was not listening for, and why.
    Ignored(String),
    /// A `<Gather>` timed out with nothing entered.
    NoInput,
    Dialled {
        numbers: Vec<String>,
        outcome: DialStatus,
    },
    /// A `<Record>` of this many seconds (0: an empty recording).
    Recorded(u32),
    /// A status or transcription callback: which attribute named it, method and path.
    Callback {
        what: String,
        method: Method,
        path: String,
    },
    Reply(Reply),
    /// An SMS answered with no `<Message>`.
    NoReply,
    /// A verb the simulator does not run.
    Skipped(String),
    Ended(End),
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Request { method, path } => write!(f, "> {method} {path}"),
            Line::Heard {
                text,
                language,
                voice,
            } => {
                write!(f, "  hears: {text}")?;
                let attrs: Vec<&str> = [language, voice]
                    .into_iter()
                    .filter_map(|a| a.as_deref())
                    .collect();
                if !attrs.is_empty() {
                    write!(f, " [{}]", attrs.join(", "))?;
                }
                Ok(())
            }
            Line::PlayedAudio(url) => write!(f, "  hears audio: {url}"),
            Line::PlayedDigits(digits) => write!(f, "  hears tones: {digits}"),
            Line::Paused(seconds) => write!(f, "  waits {seconds} s"),
            Line::Pressed(digits) => write!(f, "  presses {digits}"),
            Line::Said(phrase) => write!(f, "  says \"{phrase}\""),
            Line::Ignored(why) => write!(f, "    (ignored: {why})"),
            Line::NoInput => f.write_str("  enters nothing; the Gather times out"),
            Line::Dialled { numbers, outcome } => {
                write!(f, "  dials {}: {outcome}", numbers.join(", "))
            }
            Line::Recorded(0) => f.write_str("  records nothing (an empty recording)"),
            Line::Recorded(seconds) => write!(f, "  records {seconds} s"),
            Line::Callback { what, method, path } => {
                write!(f, "  callback ({what}): {method} {path}")
            }
            Line::Reply(r) => {
                write!(f, "  reply: {}", r.body)?;
                for url in &r.media {
                    write!(f, " [media {url}]")?;
                }
                match (&r.to, &r.from) {
                    (Some(to), Some(from)) => write!(f, " (to {to}, from {from})"),
                    (Some(to), None) => write!(f, " (to {to})"),
                    (None, Some(from)) => write!(f, " (from {from})"),
                    (None, None) => Ok(()),
                }
            }
            Line::NoReply => f.write_str("  no reply"),
            Line::Skipped(verb) => write!(f, "  skips <{verb}> (not simulated)"),
            Line::Ended(end) => write!(f, "call ended: {end}"),
        }
    }
}

/// Everything that happened, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<Line>,
}

impl Transcript {
    pub fn push(&mut self, line: Line) {
        self.lines.push(line);
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The `<Say>` texts heard, in order.
    pub fn heard(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Heard { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Each `<Dial>`: the numbers (or clients, SIP URIs) and how it ended.
    pub fn dialled(&self) -> Vec<(Vec<String>, String)> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Dialled { numbers, outcome } => {
                    Some((numbers.clone(), outcome.as_str().to_owned()))
                }
                _ => None,
            })
            .collect()
    }

    /// The path (with query) of each TwiML request, in order; callbacks are not included.
    pub fn requests(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Request { path, .. } => Some(path.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The path of each status or transcription callback, in order.
    pub fn callbacks(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Callback { path, .. } => Some(path.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The length of each recording, in order.
    pub fn recordings(&self) -> Vec<u32> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Recorded(seconds) => Some(*seconds),
                _ => None,
            })
            .collect()
    }

    /// How the call ended; [`End::Open`] for an SMS or a stopped simulation.
    pub fn ended(&self) -> &End {
        const OPEN: &End = &End::Open;
        self.lines
            .iter()
            .rev()
            .find_map(|l| match l {
                Line::Ended(end) => Some(end),
                _ => None,
            })
            .unwrap_or(OPEN)
    }

    /// The SMS replies, in order (empty when the server sent none).
    pub fn replies(&self) -> Vec<&Reply> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Reply(r) => Some(r),
                _ => None,
            })
            .collect()
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_a_readable_transcript_and_answers_accessors() {
        let mut t = Transcript::default();
        assert_eq!(t.ended(), &End::Open);
        for line in [
            Line::Request {
                method: Method::Post,
                path: "/voice/incoming".into(),
            },
            Line::Heard {
                text: "Press 1.".into(),
                language: Some("en-US".into()),
                voice: Some("Polly.Joanna".into()),
            },
            Line::Pressed("1".into()),
            Line::Dialled {
                numbers: vec!["+14155550100".into()],
                outcome: DialStatus::NoAnswer,
            },
            Line::Ended(End::HungUp),
        ] {
            t.push(line);
        }
        assert_eq!(
            t.to_string(),
            concat!(
                "> POST /voice/incoming\n",
                "  hears: Press 1. [en-US, Polly.Joanna]\n",
                "  presses 1\n",
                "  dials +14155550100: no-answer\n",
                "call ended: hung up by the server\n",
            )
        );
        assert_eq!(t.heard(), ["Press 1."]);
        assert_eq!(t.requests(), ["/voice/incoming"]);
        assert_eq!(
            t.dialled(),
            [(vec!["+14155550100".to_owned()], "no-answer".to_owned())]
        );
        assert_eq!(t.ended(), &End::HungUp);
    }
}
