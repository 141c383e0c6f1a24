//! `simulate` against servers: the real app's phone menu and SMS replies, and a scripted fake
//! that checks every request Twilio would make (parameters, methods, signatures).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use secrecy::SecretString;
use switchboard::signature::{Algorithm, compute};
use switchboard::simulate::{
    CallScript, DialStatus, End, Input, Line, Problem, SmsScript, Target, simulate_call,
    simulate_sms,
};

use common::*;

const THANKS: &str = "Thank you. Your message has been recorded. Goodbye.";

fn target(app: &TestApp) -> Target {
    Target::new(app.url(""), SecretString::from(TOKEN))
}

fn script(inputs: Vec<Input>) -> CallScript {
    CallScript {
        inputs,
        ..CallScript::default()
    }
}

#[tokio::test]
async fn sms_keywords_get_their_reply_and_stop_gets_none() {
    let app = spawn_app(&[]).await;
    let t = simulate_sms(&target(&app), &SmsScript::new("+14155551234", "HOURS"))
        .await
        .unwrap();
    assert_eq!(t.requests(), ["/sms"]);
    let replies = t.replies();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].body,
        "Acme is open Monday to Friday, 9am to 5pm Pacific."
    );
    let t = simulate_sms(&target(&app), &SmsScript::new("+14155551234", "STOP"))
        .await
        .unwrap();
    assert!(t.replies().is_empty());
    assert!(t.lines().contains(&Line::NoReply));
    assert!(t.to_string().contains("  no reply\n"), "{t}");
}

#[tokio::test]
async fn a_wrong_token_stops_at_the_403_with_the_transcript_so_far() {
    let app = spawn_app(&[]).await;
    let wrong = Target::new(app.url(""), SecretString::from("not-the-token"));
    let err = simulate_call(&wrong, &CallScript::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err.problem, Problem::Status { status, .. } if status == StatusCode::FORBIDDEN)
    );
    let message = err.to_string();
    assert!(message.contains("403"), "{message}");
    assert!(message.contains("/voice/incoming"), "{message}");
    assert_eq!(err.transcript.requests(), ["/voice/incoming"]);
    assert_eq!(err.transcript.ended(), &End::Open);
}

/// One request the fake server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    params: HashMap<String, String>,
    signed: bool,
}

#[derive(Clone)]
struct Fake {
    origin: String,
    routes: Arc<HashMap<String, String>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A server answering each path (query ignored) with a fixed body, 404 otherwise, that checks
/// each signature the way our server does.
async fn fake(routes: &[(&str, &str)]) -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = Fake {
        origin: format!("http://{}", listener.local_addr().unwrap()),
        routes: Arc::new(
            routes
                .iter()
                .map(|(p, b)| ((*p).to_owned(), (*b).to_owned()))
                .collect(),
        ),
        seen: Arc::default(),
    };
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    fake
}

async fn answer(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let query = uri.query().unwrap_or("");
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (&**k, &**v)).collect();
    pairs.sort_unstable();
    let url = format!("{}{uri}", fake.origin);
    let expected = compute(Algorithm::HmacSha1, TOKEN.as_bytes(), &url, &pairs);
    let mut params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    params.extend(form.iter().cloned());
    fake.seen.lock().unwrap().push(Seen {
        method,
        path: uri.path().to_owned(),
        params,
        signed: headers
            .get("x-twilio-signature")
            .is_some_and(|s| s.to_str().ok() == Some(expected.as_str())),
    });
    match fake.routes.get(uri.path()) {
        Some(body) => (StatusCode::OK, body.clone()),
        None => (StatusCode::NOT_FOUND, "no such route".to_owned()),
    }
}

impl Fake {
    fn target(&self) -> Target {
        Target::new(self.origin.clone(), SecretString::from(TOKEN))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn malformed_twiml_stops_with_the_parse_problem() {
    let server = fake(&[("/voice/incoming", "<Response><Say>hi</Response>")]).await;
    let err = simulate_call(&server.target(), &CallScript::default())
        .await
        .unwrap_err();
    assert!(matches!(err.problem, Problem::Malformed { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("not well-formed XML"), "{message}");
    assert!(message.contains("/voice/incoming"), "{message}");
    let server = fake(&[("/voice/incoming", "<Reply><Say>hi</Say></Reply>")]).await;
    let err = simulate_call(&server.target(), &CallScript::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the root element is <Reply>, not <Response>"),
        "{err}"
    );
}

#[tokio::test]
async fn every_verb_makes_the_requests_twilio_makes() {
    let server = fake(&[
        (
            "/voice/incoming",
            r#"<Response><Gather input="dtmf speech" action="gathered?step=1" method="GET">
               <Say language="en-GB">Say something</Say><Play digits="1w2"/><Pause length="2"/>
               </Gather><Say>never heard</Say></Response>"#,
        ),
        (
            "/voice/gathered",
            r#"<Response><Dial action="/voice/dialled"><Number>+14155550100</Number>
               <Client>bob</Client></Dial><Hangup/></Response>"#,
        ),
        (
            "/voice/dialled",
            r##"<Response><Record action="/voice/recorded" finishOnKey="#*" maxLength="5"
               recordingStatusCallback="/voice/recording-status" transcribe="true"
               transcribeCallback="/voice/transcription"/></Response>"##,
        ),
        (
            "/voice/recorded",
            r#"<Response><Reject reason="busy"/></Response>"#,
        ),
        ("/voice/recording-status", ""),
        ("/voice/transcription", "<Response/>"),
    ])
    .await;
    let mut s = script(vec![Input::Say("sales please".to_owned())]);
    s.dial_statuses = vec![DialStatus::Busy];
    let t = simulate_call(&server.target(), &s).await.unwrap();
    assert_eq!(t.ended(), &End::Rejected("busy".to_owned()));
    assert_eq!(t.heard(), ["Say something"]);
    assert_eq!(
        t.dialled(),
        [(
            vec!["+14155550100".to_owned(), "client:bob".to_owned()],
            "busy".to_owned()
        )]
    );
    assert_eq!(t.recordings(), [5], "capped at maxLength");
    assert_eq!(
        t.callbacks(),
        ["/voice/recording-status", "/voice/transcription"]
    );

    let seen = server.seen();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/voice/incoming",
            "/voice/gathered",
            "/voice/dialled",
            "/voice/recorded",
            "/voice/recording-status",
            "/voice/transcription"
        ]
    );
    assert!(seen.iter().all(|s| s.signed), "{seen:#?}");
    let call_sid = &seen[0].params["CallSid"];
    assert!(
        call_sid.starts_with("CA") && call_sid.len() == 34,
        "{call_sid}"
    );
    assert_eq!(seen[0].params["CallStatus"], "ringing");
    assert_eq!(seen[0].params["Caller"], "+15005550006");
    assert_eq!(seen[0].params["Called"], "+15005550000");
    assert_eq!(seen[0].params["Direction"], "inbound");

    let gathered = &seen[1];
    assert_eq!(gathered.method, Method::GET);
    assert_eq!(gathered.params["step"], "1");
    assert_eq!(gathered.params["SpeechResult"], "sales please");
    assert_eq!(gathered.params["Confidence"], "0.93");
    assert_eq!(gathered.params["CallStatus"], "in-progress");
    assert_eq!(&gathered.params["CallSid"], call_sid);

    let dialled = &seen[2].params;
    assert_eq!(seen[2].method, Method::POST);
    assert_eq!(dialled["DialCallStatus"], "busy");
    assert_eq!(dialled["DialCallDuration"], "0");
    assert_eq!(dialled["DialBridged"], "false");
    assert!(dialled["DialCallSid"].starts_with("CA"));

    let recorded = &seen[3].params;
    assert_eq!(recorded["RecordingDuration"], "5");
    assert_eq!(recorded["Digits"], "#");
    let recording_sid = &recorded["RecordingSid"];
    assert!(recording_sid.starts_with("RE") && recording_sid.len() == 34);

    let status = &seen[4].params;
    assert_eq!(&status["RecordingSid"], recording_sid);
    assert_eq!(status["RecordingStatus"], "completed");
    assert_eq!(status["RecordingChannels"], "1");
    assert_eq!(status["RecordingSource"], "RecordVerb");

    let transcription = &seen[5].params;
    assert!(transcription["TranscriptionSid"].starts_with("TR"));
    assert_eq!(
        transcription["TranscriptionText"],
        "Hello, this is a simulated voicemail."
    );
    assert_eq!(transcription["TranscriptionStatus"], "completed");
    assert_eq!(&transcription["RecordingUrl"], &recorded["RecordingUrl"]);
    assert_eq!(&transcription["CallSid"], call_sid);
}

#[tokio::test]
async fn action_on_empty_result_requests_the_action_without_input() {
    let server = fake(&[(
        "/voice/incoming",
        r#"<Response><Gather actionOnEmptyResult="true"/><Say>fell through</Say></Response>"#,
    )])
    .await;
    let s = CallScript {
        max_requests: 3,
        ..CallScript::default()
    };
    let err = simulate_call(&server.target(), &s).await.unwrap_err();
    // The Gather's default action is the document itself, so this loops until the limit.
    assert_eq!(err.to_string(), "the call did not end after 3 requests");
    assert!(err.transcript.heard().is_empty());
    assert!(
        server
            .seen()
            .iter()
            .all(|s| !s.params.contains_key("Digits"))
    );
}

#[tokio::test]
async fn a_redirect_off_the_server_is_refused() {
    let server = fake(&[(
        "/voice/incoming",
        "<Response><Redirect>https://other.example/next</Redirect></Response>",
    )])
    .await;
    let err = simulate_call(&server.target(), &CallScript::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "redirect to https://other.example/next leaves the server; stopped"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn sms_replies_keep_their_attributes_and_follow_redirects() {
    let server = fake(&[
        (
            "/sms",
            "<Response><Redirect>/sms/next</Redirect></Response>",
        ),
        (
            "/sms/next",
            r#"<Response><Message to="+1555" from="+1666">one</Message>
               <Message><Body>two</Body><Media>https://x/y.png</Media></Message></Response>"#,
        ),
    ])
    .await;
    let t = simulate_sms(&server.target(), &SmsScript::new("+14155551234", "hi"))
        .await
        .unwrap();
    assert_eq!(t.requests(), ["/sms", "/sms/next"]);
    let replies = t.replies();
    assert_eq!(replies[0].body, "one");
    assert_eq!(replies[0].to.as_deref(), Some("+1555"));
    assert_eq!(replies[1].body, "two");
    assert_eq!(replies[1].media, ["https://x/y.png"]);
    let seen = server.seen();
    assert!(seen.iter().all(|s| s.signed));
    let p = &seen[0].params;
    assert!(p["MessageSid"].starts_with("SM") && p["MessageSid"].len() == 34);
    assert_eq!((p["Body"].as_str(), p["NumMedia"].as_str()), ("hi", "0"));
    assert_eq!(p["NumSegments"], "1");
    assert_eq!(p["ApiVersion"], "2010-04-01");
}

/// The binary in an empty environment, so no `.env` or `PUBLIC_URL` leaks in.
async fn cli(dir: &std::path::Path, token: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .current_dir(dir)
        .env_clear()
        .env("TWILIO_AUTH_TOKEN", token)
        .arg("simulate")
        .args(args)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cli_prints_the_transcript_and_fails_with_the_problem() {
    let app = spawn_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = app.url("");
    let out = cli(
        dir.path(),
        TOKEN,
        &["call", "--url", &url, "--say", "hi", "--press", "3"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("  says \"hi\"\n"), "{stdout}");
    assert!(stdout.contains("  records 12 s\n"), "{stdout}");
    assert!(
        stdout.ends_with(&format!(
            "  hears: {THANKS} [en-US, Polly.Joanna]\ncall ended: hung up by the server\n"
        )),
        "{stdout}"
    );

    let out = cli(
        dir.path(),
        "wrong",
        &["sms", "--url", &url, "--from", "+1", "--body", "HOURS"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "> POST /sms\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: POST http://"), "{stderr}");
    assert!(stderr.contains("/sms answered 403 Forbidden"), "{stderr}");
}
