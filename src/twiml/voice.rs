//! Voice TwiML: the verbs a call runs (`Say`, `Play`, `Gather`, `Dial`, `Record`, ...), the
//! `<Dial>` nouns, and their attribute value types.

use std::io;

use super::write::{AttrValue, Sink, attr_enum, element, one_of};
use super::{Method, Text};

one_of! {
    /// A verb of a [`VoiceResponse`](super::VoiceResponse).
    pub enum VoiceVerb {
        Say, Play, Gather, Dial, Record, Redirect, Hangup, Pause, Reject, Enqueue, Leave,
    }
}

one_of! {
    /// What `<Gather>` may hold: Twilio's schema allows only these three.
    pub enum GatherChild { Say, Play, Pause }
}

one_of! {
    /// A party `<Dial>` connects to.
    pub enum DialNoun { Number, Client, Sip, Conference, Queue }
}

element! {
    /// `<Say>`: speaks its text with text-to-speech.
    pub struct Say = "Say" { text: Text }
    attrs {
        language: Text = "language",
        /// Times to repeat; `0` repeats until the call ends.
        loops: u32 = "loop",
        voice: Text = "voice",
    }
}

element! {
    /// `<Play>`: plays an audio file, or sends DTMF tones.
    pub struct Play = "Play" { url: Text }
    attrs {
        /// Digits `0-9*#` to send, `w` waiting half a second.
        digits: Text = "digits",
        /// Times to repeat; `0` repeats until the call ends.
        loops: u32 = "loop",
    }
}

element! {
    /// `<Gather>`: collects digits or speech while its prompts play.
    pub struct Gather = "Gather" { children: Vec<GatherChild> }
    attrs {
        action: Text = "action",
        /// With `true`, Twilio requests `action` even when nothing was entered.
        action_on_empty_result: bool = "actionOnEmptyResult",
        barge_in: bool = "bargeIn",
        enhanced: bool = "enhanced",
        /// An empty string disables the finish key.
        finish_on_key: Text = "finishOnKey",
        hints: Text = "hints",
        /// `dtmf`, `speech` or `dtmf speech`.
        input: Text = "input",
        language: Text = "language",
        max_speech_time: u32 = "maxSpeechTime",
        method: Method = "method",
        num_digits: u32 = "numDigits",
        partial_result_callback: Text = "partialResultCallback",
        partial_result_callback_method: Method = "partialResultCallbackMethod",
        profanity_filter: bool = "profanityFilter",
        speech_model: Text = "speechModel",
        speech_timeout: SpeechTimeout = "speechTimeout",
        timeout: u32 = "timeout",
    }
}

element! {
    /// `<Dial>`: connects the call to a number given as text, or to the nouns it holds.
    pub struct Dial = "Dial" { text: Text, nouns: Vec<DialNoun> }
    attrs {
        action: Text = "action",
        answer_on_bridge: bool = "answerOnBridge",
        caller_id: Text = "callerId",
        hangup_on_star: bool = "hangupOnStar",
        method: Method = "method",
        record: DialRecord = "record",
        recording_status_callback: Text = "recordingStatusCallback",
        /// Space-separated: `in-progress completed absent`.
        recording_status_callback_event: Text = "recordingStatusCallbackEvent",
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        recording_track: RecordingTrack = "recordingTrack",
        ring_tone: Text = "ringTone",
        sequential: bool = "sequential",
        time_limit: u32 = "timeLimit",
        timeout: u32 = "timeout",
        trim: Trim = "trim",
    }
}

element! {
    /// `<Number>`: a phone number to dial; up to ten ring at once and the first to answer wins.
    pub struct Number = "Number" { text: Text }
    attrs {
        machine_detection: MachineDetection = "machineDetection",
        method: Method = "method",
        send_digits: Text = "sendDigits",
        status_callback: Text = "statusCallback",
        /// Space-separated: `initiated ringing answered completed`.
        status_callback_event: Text = "statusCallbackEvent",
        status_callback_method: Method = "statusCallbackMethod",
        /// TwiML run on the callee before the parties are bridged.
        url: Text = "url",
    }
}

element! {
    /// `<Client>`: a Voice SDK client identity to dial.
    pub struct Client = "Client" { text: Text }
    attrs {
        method: Method = "method",
        status_callback: Text = "statusCallback",
        status_callback_event: Text = "statusCallbackEvent",
        status_callback_method: Method = "statusCallbackMethod",
        url: Text = "url",
    }
}

element! {
    /// `<Sip>`: a SIP URI to dial.
    pub struct Sip = "Sip" { text: Text }
    attrs {
        method: Method = "method",
        password: Text = "password",
        status_callback: Text = "statusCallback",
        status_callback_event: Text = "statusCallbackEvent",
        status_callback_method: Method = "statusCallbackMethod",
        url: Text = "url",
        username: Text = "username",
    }
}

element! {
    /// `<Conference>`: a conference room, named by its text, to join.
    pub struct Conference = "Conference" { text: Text }
    attrs {
        beep: ConferenceBeep = "beep",
        coach: Text = "coach",
        end_conference_on_exit: bool = "endConferenceOnExit",
        max_participants: u32 = "maxParticipants",
        muted: bool = "muted",
        participant_label: Text = "participantLabel",
        record: ConferenceRecord = "record",
        region: Text = "region",
        start_conference_on_enter: bool = "startConferenceOnEnter",
        status_callback: Text = "statusCallback",
        status_callback_event: Text = "statusCallbackEvent",
        status_callback_method: Method = "statusCallbackMethod",
        trim: Trim = "trim",
        wait_method: Method = "waitMethod",
        wait_url: Text = "waitUrl",
    }
}

element! {
    /// `<Queue>`: a call queue, named by its text, whose front caller is dialed.
    pub struct Queue = "Queue" { text: Text }
    attrs {
        method: Method = "method",
        post_work_activity_sid: Text = "postWorkActivitySid",
        reservation_sid: Text = "reservationSid",
        url: Text = "url",
    }
}

element! {
    /// `<Record>`: records the caller, then requests `action` (unless the recording is empty).
    pub struct Record = "Record" {}
    attrs {
        action: Text = "action",
        finish_on_key: Text = "finishOnKey",
        max_length: u32 = "maxLength",
        method: Method = "method",
        play_beep: bool = "playBeep",
        recording_status_callback: Text = "recordingStatusCallback",
        recording_status_callback_event: Text = "recordingStatusCallbackEvent",
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        timeout: u32 = "timeout",
        transcribe: bool = "transcribe",
        transcribe_callback: Text = "transcribeCallback",
        trim: Trim = "trim",
    }
}

element! {
    /// `<Redirect>`: continues with the TwiML at its URL (voice and messaging alike).
    pub struct Redirect = "Redirect" { url: Text }
    attrs { method: Method = "method" }
}

element! {
    /// `<Pause>`: waits silently.
    pub struct Pause = "Pause" {}
    attrs {
        /// Seconds to wait (Twilio's default is 1).
        length: u32 = "length",
    }
}

element! {
    /// `<Reject>`: declines the incoming call without answering it.
    pub struct Reject = "Reject" {}
    attrs { reason: RejectReason = "reason" }
}

element! {
    /// `<Enqueue>`: puts the caller into the queue named by its text.
    pub struct Enqueue = "Enqueue" { queue: Text }
    attrs {
        action: Text = "action",
        max_queue_size: u32 = "maxQueueSize",
        method: Method = "method",
        wait_url: Text = "waitUrl",
        wait_url_method: Method = "waitUrlMethod",
        workflow_sid: Text = "workflowSid",
    }
}

/// `<Hangup />`: ends the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Hangup;

/// `<Leave />`: takes the caller out of the queue (used in a queue's wait TwiML).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Leave;

attr_enum! {
    /// `record` on `<Dial>`.
    pub enum DialRecord {
        /// `do-not-record`
        DoNotRecord = "do-not-record",
        /// `record-from-answer`
        RecordFromAnswer = "record-from-answer",
        /// `record-from-ringing`
        RecordFromRinging = "record-from-ringing",
        /// `record-from-answer-dual`
        RecordFromAnswerDual = "record-from-answer-dual",
        /// `record-from-ringing-dual`
        RecordFromRingingDual = "record-from-ringing-dual",
    }
}

attr_enum! {
    /// `trim` on `<Dial>`, `<Record>` and `<Conference>`.
    pub enum Trim {
        /// `trim-silence`
        TrimSilence = "trim-silence",
        /// `do-not-trim`
        DoNotTrim = "do-not-trim",
    }
}

attr_enum! {
    /// `recordingTrack` on `<Dial>`.
    pub enum RecordingTrack {
        /// `both`
        Both = "both",
        /// `inbound`
        Inbound = "inbound",
        /// `outbound`
        Outbound = "outbound",
    }
}

attr_enum! {
    /// `machineDetection` on `<Number>`.
    pub enum MachineDetection {
        /// `Enable`
        Enable = "Enable",
        /// `DetectMessageEnd`
        DetectMessageEnd = "DetectMessageEnd",
    }
}

attr_enum! {
    /// `beep` on `<Conference>`.
    pub enum ConferenceBeep {
        /// `true`
        Always = "true",
        /// `false`
        Never = "false",
        /// `onEnter`
        OnEnter = "onEnter",
        /// `onExit`
        OnExit = "onExit",
    }
}

attr_enum! {
    /// `record` on `<Conference>`.
    pub enum ConferenceRecord {
        /// `do-not-record`
        DoNotRecord = "do-not-record",
        /// `record-from-start`
        RecordFromStart = "record-from-start",
    }
}

attr_enum! {
    /// `reason` on `<Reject>`.
    pub enum RejectReason {
        /// `rejected`: the caller hears "not in service".
        Rejected = "rejected",
        /// `busy`: the caller hears a busy signal.
        Busy = "busy",
    }
}

/// `speechTimeout` on `<Gather>`: seconds of silence, or `auto` to end on a natural pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpeechTimeout {
    /// `auto`
    Auto,
    /// A number of seconds.
    Seconds(u32),
}

impl From<u32> for SpeechTimeout {
    fn from(seconds: u32) -> Self {
        Self::Seconds(seconds)
    }
}

impl AttrValue for SpeechTimeout {
    fn push_escaped(&self, out: &mut String) {
        match self {
            Self::Auto => out.push_str("auto"),
            Self::Seconds(seconds) => seconds.push_escaped(out),
        }
    }
}

impl Say {
    /// Speaks `text`; an empty text gives `<Say />`.
    pub fn new(text: impl Into<Text>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
        self.open(sink);
        sink.leaf(&self.text)
    }
}

impl Play {
    /// Plays the audio at `url`.
    pub fn new(url: impl Into<Text>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Sends DTMF `digits` instead of playing audio (`<Play digits=".." />`).
    pub fn dtmf(digits: impl Into<Text>) -> Self {
        Self::default().digits(digits)
    }

    pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
        self.open(sink);
        sink.leaf(&self.url)
    }
}

impl Gather {
    /// A `<Gather>` with no prompt and Twilio's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a prompt or pause to play while waiting for input.
    pub fn child(mut self, child: impl Into<GatherChild>) -> Self {
        self.children.push(child.into());
        self
    }

    /// Adds a `<Say>` prompt.
    pub fn say(self, say: Say) -> Self {
        self.child(say)
    }

    /// Adds a `<Play>` prompt.
    pub fn play(self, play: Play) -> Self {
        self.child(play)
    }

    /// Adds a `<Pause>`.
    pub fn pause(self, pause: Pause) -> Self {
        self.child(pause)
    }

    pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
        self.open(sink);
        sink.parent("", &self.children, GatherChild::write)
    }
}

impl Dial {
    /// Dials the phone number `number`, given as the element's text.
    pub fn new(number: impl Into<Text>) -> Self {
        Self {
            text: number.into(),
            ..Self::default()
        }
    }

    /// A `<Dial>` with no target yet, for nouns added with [`Dial::noun`] and friends.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds a party to dial.
    pub fn noun(mut self, noun: impl Into<DialNoun>) -> Self {
        self.nouns.push(noun.into());
        self
    }

    /// Adds a `<Number>`.
    pub fn number(self, number: Number) -> Self {
        self.noun(number)
    }

    /// Adds a `<Client>`.
    pub fn client(self, client: Client) -> Self {
        self.noun(client)
    }

    /// Adds a `<Sip>`.
    pub fn sip(self, sip: Sip) -> Self {
        self.noun(sip)
    }

    /// Adds a `<Conference>`.
    pub fn conference(self, conference: Conference) -> Self {
        self.noun(conference)
    }

    /// Adds a `<Queue>`.
    pub fn queue(self, queue: Queue) -> Self {
        self.noun(queue)
    }

    pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
        self.open(sink);
        sink.parent(&self.text, &self.nouns, DialNoun::write)
    }
}

/// The text-only nouns and verbs share one shape: a constructor taking the text, and a writer.
macro_rules! text_element {
    ($($name:ident($field:ident): $doc:literal;)+) => {
        $(
            impl $name {
                #[doc = $doc]
                pub fn new($field: impl Into<Text>) -> Self {
                    Self { $field: $field.into(), ..Self::default() }
                }

                pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
                    self.open(sink);
                    sink.leaf(&self.$field)
                }
            }
        )+
    };
}

text_element! {
    Number(text): "Dials the phone number `text`.";
    Client(text): "Dials the client identity `text`.";
    Sip(text): "Dials the SIP URI `text`.";
    Conference(text): "Joins the conference room named `text`.";
    Queue(text): "Dials the front caller of the queue named `text`.";
    Redirect(url): "Continues with the TwiML at `url`.";
    Enqueue(queue): "Puts the caller into the queue named `queue`.";
}

/// Verbs with no content: a constructor with Twilio's defaults, and a writer.
macro_rules! empty_element {
    ($($name:ident: $doc:literal;)+) => {
        $(
            impl $name {
                #[doc = $doc]
                pub fn new() -> Self {
                    Self::default()
                }

                pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
                    self.open(sink);
                    sink.leaf("")
                }
            }
        )+
    };
}

empty_element! {
    Record: "A `<Record>` with Twilio's defaults.";
    Pause: "A one-second `<Pause>` (Twilio's default).";
    Reject: "A `<Reject>` with the default reason, `rejected`.";
}

impl Hangup {
    pub(crate) fn write(self, sink: &mut Sink<'_>) -> io::Result<()> {
        sink.start("Hangup");
        sink.leaf("")
    }
}

impl Leave {
    pub(crate) fn write(self, sink: &mut Sink<'_>) -> io::Result<()> {
        sink.start("Leave");
        sink.leaf("")
    }
}

#[cfg(test)]
mod tests {
    use super::super::VoiceResponse;
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    /// The verb's XML alone, without the declaration and `<Response>` around it.
    fn xml(verb: impl Into<VoiceVerb>) -> String {
        let doc = VoiceResponse::new().with(verb).to_xml();
        let prefix = r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#;
        doc.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("</Response>"))
            .unwrap()
            .to_owned()
    }

    /// The attribute names of the outermost element, in output order.
    fn attribute_names(xml: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => e
                .attributes()
                .map(|a| a.unwrap().key.as_ref().to_owned())
                .collect(),
            other => panic!("not an element: {other:?}"),
        }
    }

    #[test]
    fn attributes_are_sorted_whatever_the_call_order() {
        let a = Say::new("x").voice("alice").language("en-GB").loops(3);
        let b = Say::new("x").loops(3).language("en-GB").voice("alice");
        let expected = r#"<Say language="en-GB" loop="3" voice="alice">x</Say>"#;
        assert_eq!(xml(a), expected);
        assert_eq!(xml(b), expected);
    }

    #[test]
    fn empty_text_and_no_children_self_close_with_a_space() {
        assert_eq!(xml(Say::new("")), "<Say />");
        assert_eq!(xml(Say::new("\u{0}\u{b}")), "<Say />");
        assert_eq!(xml(Gather::new().timeout(3)), r#"<Gather timeout="3" />"#);
        assert_eq!(xml(Hangup), "<Hangup />");
        assert_eq!(xml(Leave), "<Leave />");
        assert_eq!(xml(Record::new()), "<Record />");
    }

    #[test]
    fn play_digits_is_an_empty_element() {
        assert_eq!(xml(Play::dtmf("wwww3")), r#"<Play digits="wwww3" />"#);
        assert_eq!(
            xml(Play::new("https://x/a.mp3")),
            "<Play>https://x/a.mp3</Play>"
        );
    }

    #[test]
    fn pause_reject_and_enqueue() {
        assert_eq!(xml(Pause::new()), "<Pause />");
        assert_eq!(xml(Reject::new()), "<Reject />");
        assert_eq!(
            xml(Reject::new().reason(RejectReason::Rejected)),
            r#"<Reject reason="rejected" />"#
        );
        let enqueue = Enqueue::new("support")
            .wait_url("/hold")
            .action("/queue/done")
            .max_queue_size(10)
            .workflow_sid("WW1");
        assert_eq!(
            xml(enqueue),
            r#"<Enqueue action="/queue/done" maxQueueSize="10" waitUrl="/hold" workflowSid="WW1">support</Enqueue>"#
        );
    }

    #[test]
    fn dial_takes_a_plain_number_or_nouns() {
        assert_eq!(xml(Dial::new("415-123-4567")), "<Dial>415-123-4567</Dial>");
        let nouns = Dial::empty()
            .sequential(true)
            .number(Number::new("+15550001").send_digits("ww1"))
            .number(Number::new("+15550002"))
            .client(Client::new("alice"))
            .sip(Sip::new("sip:bob@example.com").username("bob"))
            .queue(Queue::new("support"))
            .conference(Conference::new("room").beep(ConferenceBeep::OnEnter));
        assert_eq!(
            xml(nouns),
            concat!(
                r#"<Dial sequential="true"><Number sendDigits="ww1">+15550001</Number>"#,
                "<Number>+15550002</Number><Client>alice</Client>",
                r#"<Sip username="bob">sip:bob@example.com</Sip><Queue>support</Queue>"#,
                r#"<Conference beep="onEnter">room</Conference></Dial>"#,
            )
        );
    }

    #[test]
    fn gather_holds_say_play_and_pause_in_order() {
        let gather = Gather::new()
            .speech_timeout(3.into())
            .play(Play::new("/a.mp3"))
            .pause(Pause::new().length(2))
            .say(Say::new("go"));
        assert_eq!(
            xml(gather),
            r#"<Gather speechTimeout="3"><Play>/a.mp3</Play><Pause length="2" /><Say>go</Say></Gather>"#
        );
    }

    /// Every attribute set at once: all are written, in Twilio's sorted order (the debug
    /// assertion in the sink also checks each declaration).
    #[test]
    fn every_attribute_is_written_sorted() {
        let url = "/u?a=1&b=2";
        let cases: Vec<(VoiceVerb, usize)> = vec![
            (Say::new("t").voice("v").language("l").loops(0).into(), 3),
            (Play::new("u").loops(1).digits("1").into(), 2),
            (
                Gather::new()
                    .action(url)
                    .action_on_empty_result(true)
                    .barge_in(false)
                    .enhanced(true)
                    .finish_on_key("#")
                    .hints("h")
                    .input("speech")
                    .language("en-US")
                    .max_speech_time(60)
                    .method(Method::Get)
                    .num_digits(4)
                    .partial_result_callback(url)
                    .partial_result_callback_method(Method::Post)
                    .profanity_filter(false)
                    .speech_model("phone_call")
                    .speech_timeout(SpeechTimeout::Auto)
                    .timeout(5)
                    .into(),
                17,
            ),
            (
                Dial::new("1")
                    .action(url)
                    .answer_on_bridge(true)
                    .caller_id("+1")
                    .hangup_on_star(true)
                    .method(Method::Post)
                    .record(DialRecord::RecordFromRingingDual)
                    .recording_status_callback(url)
                    .recording_status_callback_event("completed")
                    .recording_status_callback_method(Method::Get)
                    .recording_track(RecordingTrack::Inbound)
                    .ring_tone("uk")
                    .sequential(false)
                    .time_limit(60)
                    .timeout(30)
                    .trim(Trim::DoNotTrim)
                    .into(),
                15,
            ),
            (
                Record::new()
                    .action(url)
                    .finish_on_key("*")
                    .max_length(30)
                    .method(Method::Post)
                    .play_beep(false)
                    .recording_status_callback(url)
                    .recording_status_callback_event("absent")
                    .recording_status_callback_method(Method::Post)
                    .timeout(0)
                    .transcribe(false)
                    .transcribe_callback(url)
                    .trim(Trim::TrimSilence)
                    .into(),
                12,
            ),
            (Redirect::new(url).method(Method::Get).into(), 1),
            (
                Enqueue::new("q")
                    .action(url)
                    .max_queue_size(1)
                    .method(Method::Get)
                    .wait_url(url)
                    .wait_url_method(Method::Get)
                    .workflow_sid("WW")
                    .into(),
                6,
            ),
        ];
        let nouns: Vec<(DialNoun, usize)> = vec![
            (
                Number::new("+1")
                    .machine_detection(MachineDetection::DetectMessageEnd)
                    .method(Method::Get)
                    .send_digits("1")
                    .status_callback(url)
                    .status_callback_event("answered")
                    .status_callback_method(Method::Get)
                    .url(url)
                    .into(),
                7,
            ),
            (
                Client::new("c")
                    .method(Method::Get)
                    .status_callback(url)
                    .status_callback_event("ringing")
                    .status_callback_method(Method::Post)
                    .url(url)
                    .into(),
                5,
            ),
            (
                Sip::new("sip:x@y")
                    .method(Method::Get)
                    .password("p\"w")
                    .status_callback(url)
                    .status_callback_event("initiated")
                    .status_callback_method(Method::Get)
                    .url(url)
                    .username("u")
                    .into(),
                7,
            ),
            (
                Conference::new("room")
                    .beep(ConferenceBeep::Never)
                    .coach("CA1")
                    .end_conference_on_exit(true)
                    .max_participants(250)
                    .muted(false)
                    .participant_label("agent")
                    .record(ConferenceRecord::RecordFromStart)
                    .region("ie1")
                    .start_conference_on_enter(true)
                    .status_callback(url)
                    .status_callback_event("start end")
                    .status_callback_method(Method::Post)
                    .trim(Trim::TrimSilence)
                    .wait_method(Method::Get)
                    .wait_url(url)
                    .into(),
                15,
            ),
            (
                Queue::new("q")
                    .method(Method::Post)
                    .post_work_activity_sid("WA")
                    .reservation_sid("WR")
                    .url(url)
                    .into(),
                4,
            ),
        ];
        let nouns = nouns
            .into_iter()
            .map(|(noun, n)| (Dial::empty().noun(noun), n));
        for (verb, count) in cases.into_iter().chain(nouns.map(|(d, n)| (d.into(), n))) {
            let mut out = xml(verb);
            if let Some(inner) = out.strip_prefix("<Dial>") {
                out = inner.to_owned();
            }
            let names = attribute_names(&out);
            assert_eq!(names.len(), count, "{out}");
            assert!(names.is_sorted(), "{names:?}");
        }
    }
}
