//! Draws TwiML documents from the fuzzer's bytes: which verbs and nouns, which attributes are set
//! and to what, together with the tree a parser should read back from the written document.

use arbitrary::{Result, Unstructured};
use switchboard::twiml::{
    Client, Conference, ConferenceBeep, ConferenceRecord, Dial, DialRecord, Enqueue, Gather,
    Hangup, Leave, MachineDetection, Message, MessagingResponse, MessagingVerb, Method, Number,
    Pause, Play, Queue, Record, RecordingTrack, Redirect, Reject, RejectReason, Say, Sip,
    SpeechTimeout, Trim, VoiceResponse, VoiceVerb,
};

use super::{Node, attr_value, text_value};

/// A document as `to_xml` gives it, and as `write_to` appends it after `b"prefix"`.
pub(super) struct Written {
    pub xml: String,
    pub appended: Vec<u8>,
}

pub(super) fn document(u: &mut Unstructured<'_>) -> Result<(Written, Node)> {
    let mut verbs = Vec::new();
    let mut appended = b"prefix".to_vec();
    let xml = if u.arbitrary()? {
        let mut doc = MessagingResponse::new();
        for _ in 0..u.int_in_range(0..=4)? {
            doc.push(messaging_verb(u, &mut verbs)?);
        }
        doc.write_to(&mut appended);
        doc.to_xml()
    } else {
        let mut doc = VoiceResponse::new();
        for _ in 0..u.int_in_range(0..=5)? {
            doc.push(voice_verb(u, &mut verbs)?);
        }
        doc.write_to(&mut appended);
        doc.to_xml()
    };
    let root = Node {
        name: "Response".into(),
        children: verbs,
        ..Node::default()
    };
    Ok((Written { xml, appended }, root))
}

/// A non-text attribute type: the values worth trying and how each is written.
trait Values: Copy + 'static {
    const ALL: &'static [Self];
    fn show(self) -> String;
}

impl Values for u32 {
    const ALL: &'static [u32] = &[0, 1, 59, u32::MAX];
    fn show(self) -> String {
        self.to_string()
    }
}

impl Values for bool {
    const ALL: &'static [bool] = &[true, false];
    fn show(self) -> String {
        self.to_string()
    }
}

impl Values for SpeechTimeout {
    const ALL: &'static [SpeechTimeout] = &[Self::Auto, Self::Seconds(0), Self::Seconds(u32::MAX)];
    fn show(self) -> String {
        match self {
            Self::Auto => "auto".into(),
            Self::Seconds(s) => s.to_string(),
        }
    }
}

/// Implements [`Values`] for attribute enums, which all spell themselves with `as_str`.
macro_rules! enum_values {
    ($($ty:ident: [$($variant:ident),+];)+) => {$(
        impl Values for $ty {
            const ALL: &'static [$ty] = &[$($ty::$variant),+];
            fn show(self) -> String {
                self.as_str().into()
            }
        }
    )+};
}

enum_values! {
    Method: [Get, Post];
    Trim: [TrimSilence, DoNotTrim];
    DialRecord: [DoNotRecord, RecordFromAnswer, RecordFromRingingDual];
    RecordingTrack: [Both, Inbound, Outbound];
    MachineDetection: [Enable, DetectMessageEnd];
    ConferenceBeep: [Always, Never, OnEnter, OnExit];
    ConferenceRecord: [DoNotRecord, RecordFromStart];
    RejectReason: [Rejected, Busy];
}

/// Draws one element's attributes, recording the value a parser should read for each one set.
struct Attrs<'a, 'u> {
    u: &'a mut Unstructured<'u>,
    set: Vec<(String, String)>,
}

impl<'a, 'u> Attrs<'a, 'u> {
    fn text<E>(&mut self, e: E, name: &str, set: fn(E, String) -> E) -> Result<E> {
        if !self.u.arbitrary::<bool>()? {
            return Ok(e);
        }
        let value = super::super::text(self.u, 24)?;
        self.set.push((name.into(), attr_value(&value)));
        Ok(set(e, value))
    }

    fn pick<E, V: Values>(&mut self, e: E, name: &str, set: fn(E, V) -> E) -> Result<E> {
        if !self.u.arbitrary::<bool>()? {
            return Ok(e);
        }
        let value = *self.u.choose(V::ALL)?;
        self.set.push((name.into(), value.show()));
        Ok(set(e, value))
    }

    /// The expected node: Twilio sorts attributes by name, whatever order they were set in.
    fn node(mut self, name: &str, text: &str, children: Vec<Node>) -> Node {
        self.set.sort();
        Node {
            name: name.into(),
            attrs: self.set,
            text: text_value(text),
            children,
        }
    }
}

/// Sets each listed attribute of `$e` or leaves it unset (`text` for strings, `pick` for the
/// rest); gives the element and the [`Attrs`] that recorded what was set.
macro_rules! attrs {
    ($u:ident, $e:expr, { $($kind:ident $name:literal $set:ident),* $(,)? }) => {{
        let mut a = Attrs { u: $u, set: Vec::new() };
        let e = $e;
        $(let e = a.$kind(e, $name, |e, v| e.$set(v))?;)*
        (e, a)
    }};
}

type Out<'a> = &'a mut Vec<Node>;

fn content(u: &mut Unstructured<'_>) -> Result<String> {
    super::super::text(u, 32)
}

fn empty(name: &str) -> Node {
    Node {
        name: name.into(),
        ..Node::default()
    }
}

fn voice_verb(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<VoiceVerb> {
    Ok(match u.int_in_range(0..=10)? {
        0 => say(u, out)?.into(),
        1 => play(u, out)?.into(),
        2 => gather(u, out)?.into(),
        3 => dial(u, out)?.into(),
        4 => record(u, out)?.into(),
        5 => redirect(u, out)?.into(),
        6 => pause(u, out)?.into(),
        7 => enqueue(u, out)?.into(),
        8 => {
            let (e, a) = attrs!(u, Reject::new(), { pick "reason" reason });
            out.push(a.node("Reject", "", Vec::new()));
            e.into()
        }
        9 => {
            out.push(empty("Hangup"));
            Hangup.into()
        }
        _ => {
            out.push(empty("Leave"));
            Leave.into()
        }
    })
}

fn messaging_verb(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<MessagingVerb> {
    if !u.arbitrary::<bool>()? {
        return Ok(redirect(u, out)?.into());
    }
    let text = content(u)?;
    let mut message = Message::new(text.clone());
    let mut nouns = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let value = content(u)?;
        let name = if u.arbitrary()? {
            message = message.body(value.clone());
            "Body"
        } else {
            message = message.media(value.clone());
            "Media"
        };
        nouns.push(Node {
            text: text_value(&value),
            ..empty(name)
        });
    }
    let (e, a) = attrs!(u, message, {
        text "action" action, text "from" from, pick "method" method,
        text "statusCallback" status_callback, text "to" to,
    });
    out.push(a.node("Message", &text, nouns));
    Ok(e.into())
}

fn say(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Say> {
    let text = content(u)?;
    let (e, a) = attrs!(u, Say::new(text.clone()), {
        text "language" language, pick "loop" loops, text "voice" voice,
    });
    out.push(a.node("Say", &text, Vec::new()));
    Ok(e)
}

fn play(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Play> {
    let url = content(u)?;
    let (e, a) = attrs!(u, Play::new(url.clone()), { text "digits" digits, pick "loop" loops });
    out.push(a.node("Play", &url, Vec::new()));
    Ok(e)
}

fn pause(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Pause> {
    let (e, a) = attrs!(u, Pause::new(), { pick "length" length });
    out.push(a.node("Pause", "", Vec::new()));
    Ok(e)
}

fn redirect(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Redirect> {
    let url = content(u)?;
    let (e, a) = attrs!(u, Redirect::new(url.clone()), { pick "method" method });
    out.push(a.node("Redirect", &url, Vec::new()));
    Ok(e)
}

fn gather(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Gather> {
    let mut children = Vec::new();
    let mut gather = Gather::new();
    for _ in 0..u.int_in_range(0..=3)? {
        gather = match u.int_in_range(0..=2)? {
            0 => gather.say(say(u, &mut children)?),
            1 => gather.play(play(u, &mut children)?),
            _ => gather.pause(pause(u, &mut children)?),
        };
    }
    let (e, a) = attrs!(u, gather, {
        text "action" action, pick "actionOnEmptyResult" action_on_empty_result,
        pick "bargeIn" barge_in, pick "enhanced" enhanced, text "finishOnKey" finish_on_key,
        text "hints" hints, text "input" input, text "language" language,
        pick "maxSpeechTime" max_speech_time, pick "method" method, pick "numDigits" num_digits,
        text "partialResultCallback" partial_result_callback,
        pick "partialResultCallbackMethod" partial_result_callback_method,
        pick "profanityFilter" profanity_filter, text "speechModel" speech_model,
        pick "speechTimeout" speech_timeout, pick "timeout" timeout,
    });
    out.push(a.node("Gather", "", children));
    Ok(e)
}

fn dial(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Dial> {
    let text = content(u)?;
    let mut nouns = Vec::new();
    let mut dial = Dial::new(text.clone());
    for _ in 0..u.int_in_range(0..=3)? {
        dial = match u.int_in_range(0..=4)? {
            0 => dial.number(number(u, &mut nouns)?),
            1 => dial.client(client(u, &mut nouns)?),
            2 => dial.sip(sip(u, &mut nouns)?),
            3 => dial.conference(conference(u, &mut nouns)?),
            _ => dial.queue(queue(u, &mut nouns)?),
        };
    }
    let (e, a) = attrs!(u, dial, {
        text "action" action, pick "answerOnBridge" answer_on_bridge,
        text "callerId" caller_id, pick "hangupOnStar" hangup_on_star, pick "method" method,
        pick "record" record, text "recordingStatusCallback" recording_status_callback,
        text "recordingStatusCallbackEvent" recording_status_callback_event,
        pick "recordingStatusCallbackMethod" recording_status_callback_method,
        pick "recordingTrack" recording_track, text "ringTone" ring_tone,
        pick "sequential" sequential, pick "timeLimit" time_limit, pick "timeout" timeout,
        pick "trim" trim,
    });
    out.push(a.node("Dial", &text, nouns));
    Ok(e)
}

fn number(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Number> {
    let text = content(u)?;
    let (e, a) = attrs!(u, Number::new(text.clone()), {
        pick "machineDetection" machine_detection, pick "method" method,
        text "sendDigits" send_digits, text "statusCallback" status_callback,
        text "statusCallbackEvent" status_callback_event,
        pick "statusCallbackMethod" status_callback_method, text "url" url,
    });
    out.push(a.node("Number", &text, Vec::new()));
    Ok(e)
}

fn client(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Client> {
    let text = content(u)?;
    let (e, a) = attrs!(u, Client::new(text.clone()), {
        pick "method" method, text "statusCallback" status_callback,
        text "statusCallbackEvent" status_callback_event,
        pick "statusCallbackMethod" status_callback_method, text "url" url,
    });
    out.push(a.node("Client", &text, Vec::new()));
    Ok(e)
}

fn sip(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Sip> {
    let text = content(u)?;
    let (e, a) = attrs!(u, Sip::new(text.clone()), {
        pick "method" method, text "password" password, text "statusCallback" status_callback,
        text "statusCallbackEvent" status_callback_event,
        pick "statusCallbackMethod" status_callback_method, text "url" url,
        text "username" username,
    });
    out.push(a.node("Sip", &text, Vec::new()));
    Ok(e)
}

fn conference(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Conference> {
    let text = content(u)?;
    let (e, a) = attrs!(u, Conference::new(text.clone()), {
        pick "beep" beep, text "coach" coach, pick "endConferenceOnExit" end_conference_on_exit,
        pick "maxParticipants" max_participants, pick "muted" muted,
        text "participantLabel" participant_label, pick "record" record, text "region" region,
        pick "startConferenceOnEnter" start_conference_on_enter,
        text "statusCallback" status_callback, text "statusCallbackEvent" status_callback_event,
        pick "statusCallbackMethod" status_callback_method, pick "trim" trim,
        pick "waitMethod" wait_method, text "waitUrl" wait_url,
    });
    out.push(a.node("Conference", &text, Vec::new()));
    Ok(e)
}

fn queue(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Queue> {
    let text = content(u)?;
    let (e, a) = attrs!(u, Queue::new(text.clone()), {
        pick "method" method, text "postWorkActivitySid" post_work_activity_sid,
        text "reservationSid" reservation_sid, text "url" url,
    });
    out.push(a.node("Queue", &text, Vec::new()));
    Ok(e)
}

fn record(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Record> {
    let (e, a) = attrs!(u, Record::new(), {
        text "action" action, text "finishOnKey" finish_on_key, pick "maxLength" max_length,
        pick "method" method, pick "playBeep" play_beep,
        text "recordingStatusCallback" recording_status_callback,
        text "recordingStatusCallbackEvent" recording_status_callback_event,
        pick "recordingStatusCallbackMethod" recording_status_callback_method,
        pick "timeout" timeout, pick "transcribe" transcribe,
        text "transcribeCallback" transcribe_callback, pick "trim" trim,
    });
    out.push(a.node("Record", "", Vec::new()));
    Ok(e)
}

fn enqueue(u: &mut Unstructured<'_>, out: Out<'_>) -> Result<Enqueue> {
    let queue = content(u)?;
    let (e, a) = attrs!(u, Enqueue::new(queue.clone()), {
        text "action" action, pick "maxQueueSize" max_queue_size, pick "method" method,
        text "waitUrl" wait_url, pick "waitUrlMethod" wait_url_method,
        text "workflowSid" workflow_sid,
    });
    out.push(a.node("Enqueue", &queue, Vec::new()));
    Ok(e)
}
