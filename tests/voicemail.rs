//! The voicemail and dial routes at the HTTP level: callbacks in any order merged into one
//! voicemail, replays not texting staff twice, and bad input refused with 400 naming the field.

mod common;

use common::*;

const STAFF: &str = "+14155550199";
const OURS: &str = "+14155550000";

async fn post(app: &TestApp, path: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let mut params = voice_params(extra);
    params.retain(|(k, _)| *k != "To");
    params.push(("To", OURS));
    let r = app.post_signed(path, &params).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

const RECORDING: &[(&str, &str)] = &[
    ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
    ("RecordingDuration", "9"),
    (
        "RecordingUrl",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
    ),
];

#[tokio::test]
async fn transcription_before_the_record_action_is_merged_and_staff_texted_once_each() {
    let app = spawn_app(&[("STAFF_PHONE", STAFF)]).await;
    let transcription = [
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        ("TranscriptionSid", "TR0123456789abcdef0123456789abcdef"),
        ("TranscriptionStatus", "completed"),
        ("TranscriptionText", "Call me back."),
    ];
    let (s, body) = post(&app, "/voice/transcription?lang=en", &transcription).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.ends_with("<Response />"), "{body}");
    for _ in 0..2 {
        let (s, body) = post(&app, "/voice/recording?lang=en", RECORDING).await;
        assert_eq!(s, 200);
        assert!(body.contains("Your message has been recorded."), "{body}");
    }
    // Twilio's retry of the transcription callback is recognised too.
    post(&app, "/voice/transcription?lang=en", &transcription).await;
    let status = [
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "9"),
    ];
    assert_eq!(post(&app, "/voice/recording-status", &status).await.0, 200);

    let vm = app
        .store
        .voicemail("RE0123456789abcdef0123456789abcdef")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(vm.transcription_text.as_deref(), Some("Call me back."));
    assert_eq!(vm.duration, Some(9));
    assert_eq!(vm.recording_status.as_deref(), Some("completed"));
    assert_eq!(vm.from.as_deref(), Some("+14155551234"));
    assert_eq!(app.store.outbox_to(STAFF).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_transcription_is_stored_without_texting_staff() {
    let app = spawn_app(&[("STAFF_PHONE", STAFF)]).await;
    let failed = [("RecordingSid", "RE1"), ("TranscriptionStatus", "failed")];
    assert_eq!(post(&app, "/voice/transcription", &failed).await.0, 200);
    let vm = app.store.voicemail("RE1").await.unwrap().expect("stored");
    assert_eq!(vm.transcription_status.as_deref(), Some("failed"));
    assert!(app.store.outbox_to(STAFF).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_naming_what_is_wrong() {
    let app = spawn_app(&[]).await;
    for (path, extra, needle) in [
        (
            "/voice/recording",
            vec![("RecordingDuration", "9")],
            "'RecordingSid'",
        ),
        (
            "/voice/recording",
            vec![("RecordingSid", "RE1"), ("RecordingDuration", "nine")],
            "'RecordingDuration' is not a number",
        ),
        (
            "/voice/transcription",
            vec![("RecordingSid", "RE1")],
            "'TranscriptionStatus'",
        ),
        (
            "/voice/recording-status",
            vec![("RecordingSid", "RE1")],
            "'RecordingStatus'",
        ),
        (
            "/voice/dial-status?menu=main&attempt=1&lang=en&via=1&hunt=0",
            vec![],
            "'DialCallStatus'",
        ),
        (
            "/voice/dial-status?menu=main&attempt=1&lang=en&via=nine&hunt=0",
            vec![("DialCallStatus", "busy")],
            "via 'nine'",
        ),
        (
            "/voice/dial-status?menu=main&attempt=1&lang=en",
            vec![("DialCallStatus", "busy")],
            "'via' is missing",
        ),
    ] {
        let (s, body) = post(&app, path, &extra).await;
        assert_eq!(s, 400, "{path}: {body}");
        assert!(body.contains(needle), "{path}: {body}");
    }
    // Unsigned: refused before any handler.
    let r = app
        .client
        .post(app.url("/voice/transcription"))
        .header("content-type", FORM)
        .body("RecordingSid=RE1&TranscriptionStatus=completed")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn dial_status_hunts_and_falls_back_over_http() {
    let app = spawn_app(&[]).await;
    let base = "/voice/dial-status?menu=main&attempt=1&lang=en&via=1";
    let (_, body) = post(
        &app,
        &format!("{base}&hunt=0"),
        &[("DialCallStatus", "busy")],
    )
    .await;
    assert!(body.contains(">+14155550110</Dial>"), "{body}");
    let (_, body) = post(
        &app,
        &format!("{base}&hunt=1"),
        &[("DialCallStatus", "no-answer")],
    )
    .await;
    assert!(body.contains("<Record "), "{body}");
    let (_, body) = post(
        &app,
        &format!("{base}&hunt=0"),
        &[("DialCallStatus", "completed")],
    )
    .await;
    assert!(body.ends_with("<Response><Hangup /></Response>"), "{body}");
}
