//! Golden tests: the TwiML builder reproduces twilio-python 9.13.0's output byte for byte for the
//! oracle pairs O1-O11 of `reference/twiml.md`, stored in `tests/fixtures/twiml/`.

use switchboard::twiml::{
    Dial, DialRecord, Gather, Hangup, Message, MessagingResponse, Method, Number, Pause, Play,
    Record, Redirect, Reject, RejectReason, Say, SpeechTimeout, Trim, VoiceResponse,
};

/// Compares as strings so that a mismatch prints readable XML.
fn assert_golden(actual: &str, expected: &str) {
    assert_eq!(actual, expected);
    assert!(
        !expected.ends_with('\n'),
        "fixtures have no trailing newline"
    );
}

#[test]
fn twiml_o1_ivr_menu_gather_with_fallback() {
    let mut r = VoiceResponse::new();
    r.push(
        Gather::new()
            .input("dtmf")
            .num_digits(1)
            .timeout(5)
            .action("/ivr/menu?step=main&lang=en")
            .method(Method::Post)
            .say(
                Say::new("Press 1 for sales, 2 for support.")
                    .voice("Polly.Joanna")
                    .language("en-US"),
            ),
    );
    r.push(Say::new("Sorry, I did not get that."));
    r.push(Redirect::new("/ivr/start?retry=1&lang=en").method(Method::Post));
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o1.xml"));
}

#[test]
fn twiml_o2_dial_with_number_noun() {
    let r = VoiceResponse::new().with(
        Dial::empty()
            .action("/ivr/dial-done?step=sales&attempt=1")
            .method(Method::Post)
            .timeout(20)
            .caller_id("+15551234567")
            .answer_on_bridge(true)
            .record(DialRecord::RecordFromAnswer)
            .time_limit(600)
            .number(Number::new("+15557654321")),
    );
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o2.xml"));
}

#[test]
fn twiml_o3_voicemail_record_with_transcription() {
    let r = VoiceResponse::new()
        .with(Say::new(
            "Leave a message after the beep. Press pound when finished.",
        ))
        .with(
            Record::new()
                .action("/voicemail/done?box=42")
                .method(Method::Post)
                .max_length(120)
                .timeout(5)
                .finish_on_key("#")
                .play_beep(true)
                .transcribe(true)
                .transcribe_callback("/voicemail/transcript?box=42")
                .trim(Trim::TrimSilence),
        )
        .with(Say::new("No message recorded. Goodbye."))
        .with(Hangup);
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o3.xml"));
}

#[test]
fn twiml_o4_message_with_body_and_media() {
    let r = MessagingResponse::new().with(
        Message::empty()
            .to("+15551230000")
            .from("+15559990000")
            .action("/sms/status")
            .method(Method::Post)
            .body("Tom & Jerry <3 \"quotes\" 'apostrophe'")
            .media("https://example.com/img.jpg?w=200&h=100"),
    );
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o4.xml"));
}

#[test]
fn twiml_o5_chinese_say_is_raw_utf8() {
    let text = String::from("您好，欢迎致电。请按1。");
    let r = VoiceResponse::new().with(Say::new(text).voice("Polly.Zhiyu").language("zh-CN"));
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o5.xml"));
}

#[test]
fn twiml_o6_escaping_in_text_and_attributes() {
    let r = VoiceResponse::new()
        .with(Say::new("a < b && c > d \"q\" 's'").loops(2))
        .with(Play::new("https://example.com/a.mp3?x=1&y=2").loops(0))
        .with(Redirect::new("/next?a=1&b=<2>").method(Method::Get))
        .with(Say::new("x").voice("v\"1'\n\t"));
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o6.xml"));
}

#[test]
fn twiml_o7_empty_voice_response() {
    assert_golden(
        &VoiceResponse::new().to_xml(),
        include_str!("fixtures/twiml/o7.xml"),
    );
}

#[test]
fn twiml_o8_plain_reply_message() {
    let r = MessagingResponse::new().with(Message::new("Thanks! Reply STOP to opt out."));
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o8.xml"));
}

#[test]
fn twiml_o9_pause_and_reject_self_close() {
    let r = VoiceResponse::new()
        .with(Pause::new().length(1))
        .with(Reject::new().reason(RejectReason::Busy));
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o9.xml"));
}

#[test]
fn twiml_o10_speech_gather_with_empty_finish_key() {
    let r = VoiceResponse::new().with(
        Gather::new()
            .input("dtmf speech")
            .action("/ivr/menu?step=2")
            .action_on_empty_result(true)
            .speech_timeout(SpeechTimeout::Auto)
            .hints("sales, support, billing")
            .language("en-US")
            .finish_on_key("")
            .say(Say::new("Say or press the department.")),
    );
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o10.xml"));
}

#[test]
fn twiml_o11_two_messages_and_redirect() {
    let mut r = MessagingResponse::new();
    r.push(Message::new("First"))
        .push(Message::new("Second").to("+15550001111"))
        .push(Redirect::new("/sms/next?step=3").method(Method::Post));
    assert_golden(&r.to_xml(), include_str!("fixtures/twiml/o11.xml"));
}
