//! Voice TwiML: the verbs a call runs (`Say`, `Play`, `Gather`, `Dial`, `Record`, ...) and the
//! nouns `<Dial>` connects to.

use std::io;

use super::write::{Sink, element, one_of};
use super::{
    ConferenceBeep, ConferenceRecord, DialRecord, MachineDetection, Method, RecordingTrack,
    RejectReason, SpeechTimeout, Text, Trim,
};

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
    pub struct Say = "Say" (text)
    attrs {
        language: Text = "language",
        /// Times to repeat; `0` repeats until the call ends.
        loops: u32 = "loop",
        voice: Text = "voice",
    }
}

element! {
    /// `<Play>`: plays an audio file, or sends DTMF tones.
    pub struct Play = "Play" (url)
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
    pub struct Number = "Number" (text)
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
    pub struct Client = "Client" (text)
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
    pub struct Sip = "Sip" (text)
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
    pub struct Conference = "Conference" (text)
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
    pub struct Queue = "Queue" (text)
    attrs {
        method: Method = "method",
        post_work_activity_sid: Text = "postWorkActivitySid",
        reservation_sid: Text = "reservationSid",
        url: Text = "url",
    }
}

element! {
    /// `<Record>`: records the caller, then requests `action` (unless the recording is empty).
    pub struct Record = "Record" ()
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
    pub struct Redirect = "Redirect" (url)
    attrs { method: Method = "method" }
}

element! {
    /// `<Pause>`: waits silently.
    pub struct Pause = "Pause" ()
    attrs {
        /// Seconds to wait (Twilio's default is 1).
        length: u32 = "length",
    }
}

element! {
    /// `<Reject>`: declines the incoming call without answering it.
    pub struct Reject = "Reject" ()
    attrs { reason: RejectReason = "reason" }
}

element! {
    /// `<Enqueue>`: puts the caller into the queue named by its text.
    pub struct Enqueue = "Enqueue" (queue)
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

impl Play {
    /// Sends DTMF `digits` instead of playing audio (`<Play digits=".." />`).
    pub fn dtmf(digits: impl Into<Text>) -> Self {
        Self::default().digits(digits)
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

    /// The verb's XML alone, without the declaration and `<Response>` around it.
    fn xml(verb: impl Into<VoiceVerb>) -> String {
        let doc = VoiceResponse::new().with(verb).to_xml();
        let prefix = r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#;
        doc.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("</Response>"))
            .unwrap()
            .to_owned()
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

    #[test]
    fn a_fully_loaded_gather_writes_every_attribute_sorted() {
        let gather = Gather::new()
            .timeout(5)
            .speech_timeout(SpeechTimeout::Auto)
            .speech_model("phone_call")
            .profanity_filter(false)
            .partial_result_callback_method(Method::Get)
            .partial_result_callback("/p")
            .num_digits(4)
            .method(Method::Post)
            .max_speech_time(60)
            .language("en-US")
            .input("speech")
            .hints("h")
            .finish_on_key("#")
            .enhanced(true)
            .barge_in(false)
            .action_on_empty_result(true)
            .action("/a");
        let expected = concat!(
            r#"<Gather action="/a" actionOnEmptyResult="true" bargeIn="false" enhanced="true" "#,
            r##"finishOnKey="#" hints="h" input="speech" language="en-US" maxSpeechTime="60" "##,
            r#"method="POST" numDigits="4" partialResultCallback="/p" "#,
            r#"partialResultCallbackMethod="GET" profanityFilter="false" "#,
            r#"speechModel="phone_call" speechTimeout="auto" timeout="5" />"#,
        );
        assert_eq!(xml(gather), expected);
    }
}
