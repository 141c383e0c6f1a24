//! What the server is put through while its output is watched: a call through the menu to
//! voicemail, texts and STOP/START, refusals of every kind, the API (see `api.rs`), status
//! callbacks, `simulate`, health and metrics.

use switchboard::signature::Algorithm;

use super::driver::{Driver, Headers};
use super::twilio::{NUMBER, OK, SID, THROTTLED, UNAUTHORIZED};
use super::{Seen, Server, TOKEN, WEBHOOK_KEY_SECRET, WEBHOOK_KEY_SID, sign, sign_with};

const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";

/// A call's fields; the caller's number is one whose texts Twilio refuses (401, echoed).
fn call(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut p = vec![
        ("AccountSid", SID),
        ("CallSid", CALL),
        ("From", UNAUTHORIZED),
        ("To", NUMBER),
        ("CallStatus", "in-progress"),
    ];
    p.extend_from_slice(extra);
    p
}

fn sms<'a>(sid: &'a str, from: &'a str, body: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("MessageSid", sid),
        ("From", from),
        ("To", NUMBER),
        ("Body", body),
    ]
}

pub async fn run(client: &reqwest::Client, server: &Server, seen: &mut Seen) {
    let mut d = Driver {
        client,
        server,
        seen,
    };
    voice(&mut d).await;
    messaging(&mut d).await;
    refusals(&mut d).await;
    let ids = super::api::sends(&mut d).await;
    super::api::verify(&mut d).await;
    super::api::statuses(&mut d, &ids).await;
    simulate(&mut d).await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        d.get(path).await;
    }
}

/// A call through the menu: sales by key and by voice, nobody answers, voicemail with its
/// callbacks (staff are texted through a Twilio that fails), the text-me option, the call's
/// status callback, and a GET webhook.
async fn voice(d: &mut Driver<'_>) {
    assert!(
        d.webhook("/voice/incoming", &call(&[]))
            .await
            .contains("<Gather")
    );
    let menu = "/voice/menu-selection?menu=main&attempt=1&lang=en";
    for input in [("Digits", "1"), ("SpeechResult", "sales please")] {
        assert!(d.webhook(menu, &call(&[input])).await.contains("<Dial"));
    }
    for hunt in 0..2 {
        let path = format!("/voice/dial-status?menu=main&attempt=1&lang=en&via=1&hunt={hunt}");
        d.webhook(&path, &call(&[("DialCallStatus", "no-answer")]))
            .await;
    }
    let recording = [
        ("RecordingSid", RECORDING),
        ("RecordingUrl", "https://api.twilio.com/r"),
    ];
    let mut params = call(&recording);
    params.push(("RecordingDuration", "12"));
    d.webhook("/voice/recording?lang=en", &params).await;
    params.push(("RecordingStatus", "completed"));
    d.webhook("/voice/recording-status", &params).await;
    let mut params = call(&recording);
    params.extend([
        ("TranscriptionStatus", "completed"),
        ("TranscriptionText", "Call me back."),
    ]);
    d.webhook("/voice/transcription?lang=en", &params).await;
    assert!(
        d.webhook(menu, &call(&[("Digits", "4")]))
            .await
            .contains("<Say")
    );
    d.webhook_get("/voice/incoming", &call(&[])).await;
    let done = [("CallStatus", "completed"), ("CallDuration", "42")];
    d.webhook("/voice/status", &call(&done)).await;
}

/// Keyword replies, STOP then a text while opted out then START, a replay, WhatsApp, and
/// message status callbacks (one of them 21610).
async fn messaging(d: &mut Driver<'_>) {
    for (sid, body) in [
        ("SM01", "hello"),
        ("SM02", "HOURS"),
        ("SM03", "HELP"),
        ("SM04", "STOP"),
        ("SM05", "hello again"),
        ("SM06", "START"),
    ] {
        d.webhook("/sms", &sms(sid, OK, body)).await;
    }
    let params = sms("SM07", OK, "replayed");
    let headers = vec![
        ("x-twilio-signature", sign(&d.url("/sms"), &params)),
        ("i-twilio-idempotency-token", "idem-1".to_owned()),
    ];
    for _ in 0..2 {
        assert_eq!(d.post("/sms", &params, &headers).await.0, 200);
    }
    d.webhook("/sms", &sms("SM08", "whatsapp:+14155550101", "hi"))
        .await;
    for (status, code) in [
        ("delivered", ""),
        ("undelivered", "21610"),
        ("failed", "30007"),
    ] {
        let params = [
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("MessageStatus", status),
            ("ErrorCode", code),
            ("From", NUMBER),
            ("To", THROTTLED),
        ];
        d.webhook("/sms/status", &params).await;
    }
}

/// Each way a webhook is refused logs why; none may say more than why.
async fn refusals(d: &mut Driver<'_>) {
    let params = call(&[]);
    let url = d.url("/voice/incoming");
    let signed = |alg, key: &str, url: &str| -> Headers {
        vec![("x-twilio-signature", sign_with(alg, key, url, &params))]
    };
    let with = |mut headers: Headers, name: &'static str, value: &str| {
        headers.push((name, value.to_owned()));
        headers
    };
    let sha1 = Algorithm::HmacSha1;
    let sha256 = Algorithm::HmacSha256;
    let settings = "x-twilio-webhooks-signature-settings";
    let shared = format!("key={WEBHOOK_KEY_SID},algorithm=HMAC_SHA256");
    let https = url.replacen("http://", "https://", 1);
    let proxied = signed(sha1, TOKEN, "https://abc.ngrok.app/voice/incoming");
    let proxied = with(proxied, "x-forwarded-proto", "https");
    let cases: Vec<(&str, Headers, u16)> = vec![
        ("no signature", vec![], 403),
        (
            "empty signature",
            vec![("x-twilio-signature", String::new())],
            403,
        ),
        ("signed for https", signed(sha1, TOKEN, &https), 403),
        (
            "signed behind a proxy",
            with(proxied, "x-forwarded-host", "abc.ngrok.app"),
            403,
        ),
        (
            "signed with another token",
            signed(sha1, &TOKEN.replace('7', "8"), &url),
            403,
        ),
        (
            "shared key",
            with(signed(sha256, WEBHOOK_KEY_SECRET, &url), settings, &shared),
            200,
        ),
        (
            "unknown shared key",
            with(signed(sha256, WEBHOOK_KEY_SECRET, &url), settings, "key=k9"),
            403,
        ),
        (
            "token for the shared key",
            with(signed(sha256, TOKEN, &url), settings, &shared),
            403,
        ),
        (
            "unknown algorithm",
            with(signed(sha1, TOKEN, &url), settings, "algorithm=MD5"),
            403,
        ),
    ];
    for (what, headers, want) in cases {
        let (status, body) = d.post("/voice/incoming", &params, &headers).await;
        assert_eq!(status, want, "{what}: {body}");
    }
    let incomplete = [("From", OK)];
    let headers = vec![("x-twilio-signature", sign(&d.url("/sms"), &incomplete))];
    assert_eq!(d.post("/sms", &incomplete, &headers).await.0, 400);
}

/// `simulate` signs with the token it finds in the environment, as an operator runs it.
async fn simulate(d: &mut Driver<'_>) {
    let url = d.url("");
    for args in [
        vec![
            "simulate",
            "call",
            "--press",
            "3",
            "--from",
            UNAUTHORIZED,
            "--url",
            &url,
        ],
        vec![
            "simulate", "sms", "--from", OK, "--body", "HOURS", "--url", &url,
        ],
    ] {
        let out = tokio::process::Command::new(super::BIN)
            .args(&args)
            .env_clear()
            .env("TWILIO_AUTH_TOKEN", TOKEN)
            .env("RUST_LOG", "trace")
            .output()
            .await
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {text}");
        d.seen.add(format!("switchboard {}", args.join(" ")), text);
    }
}
