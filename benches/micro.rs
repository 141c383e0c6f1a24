//! Criterion micro-benchmarks of the pure cores on every webhook's path: signature checking,
//! form parsing, TwiML writing and segment counting.
//! Run: `cargo bench --bench micro` (one group: `cargo bench --bench micro -- signature`).

use std::hint::black_box;
use std::path::Path;

use axum::http::Request;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard::call_state::CallState;
use switchboard::config::{Config, ServeArgs};
use switchboard::form::FormParams;
use switchboard::ivr::Ivr;
use switchboard::segments::segment;
use switchboard::signature::layer::Verifier;
use switchboard::signature::{self, Algorithm};
use switchboard::templates::Templates;
use switchboard::twiml::{Message, MessagingResponse};

const TOKEN: &str = "12345678901234567890123456789012";
const URL: &str = "http://127.0.0.1:18090/voice/incoming";
/// The load harness's voice webhook: 26 fields, 485 bytes, as Twilio sends them.
const VOICE_FORM: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&\
CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Called=%2B15005550006&\
CalledCity=SAN+FRANCISCO&CalledCountry=US&CalledState=CA&CalledZip=94105&Caller=%2B14155551234&\
CallerCity=OAKLAND&CallerCountry=US&CallerState=CA&CallerZip=94607&Direction=inbound&\
From=%2B14155551234&FromCity=OAKLAND&FromCountry=US&FromState=CA&FromZip=94607&\
To=%2B15005550006&ToCity=SAN+FRANCISCO&ToCountry=US&ToState=CA&ToZip=94105";

fn signed_request() -> (axum::http::request::Parts, Bytes) {
    let params = FormParams::parse(Bytes::from_static(VOICE_FORM.as_bytes())).expect("form");
    let sig = signature::compute(
        Algorithm::HmacSha1,
        TOKEN.as_bytes(),
        URL,
        &params.signing_pairs(),
    );
    let (parts, ()) = Request::post("/voice/incoming")
        .header("host", "127.0.0.1:18090")
        .header("x-twilio-signature", sig)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(())
        .expect("request")
        .into_parts();
    (parts, Bytes::from_static(VOICE_FORM.as_bytes()))
}

fn verifier() -> Verifier {
    let env = |name: &str| match name {
        "TWILIO_AUTH_TOKEN" => Some(TOKEN.to_owned()),
        "TWILIO_ACCOUNT_SID" => Some("AC0123456789abcdef0123456789abcdef".to_owned()),
        "PUBLIC_URL" => Some("http://127.0.0.1:18090".to_owned()),
        _ => None,
    };
    Verifier::from_config(&Config::from_sources(&ServeArgs::default(), env).expect("config"))
}

fn signature_checking(c: &mut Criterion) {
    let mut g = c.benchmark_group("signature");
    g.throughput(Throughput::Bytes(VOICE_FORM.len() as u64));
    let verifier = verifier();
    let (parts, body) = signed_request();
    assert!(
        verifier.check(&parts, body.clone()).is_ok(),
        "the bench request must verify"
    );
    g.bench_function("check voice webhook (parse + HMAC-SHA1 + compare)", |b| {
        b.iter(|| verifier.check(black_box(&parts), black_box(body.clone())))
    });
    let params = FormParams::parse(body.clone()).expect("form");
    let pairs = params.signing_pairs();
    g.bench_function("canonicalise 26 fields", |b| {
        let mut buf = Vec::with_capacity(1024);
        b.iter(|| {
            buf.clear();
            signature::canonical_into(&mut buf, black_box(URL), black_box(&pairs));
            buf.len()
        })
    });
    g.finish();
}

fn form_parsing(c: &mut Criterion) {
    let mut g = c.benchmark_group("form");
    g.throughput(Throughput::Bytes(VOICE_FORM.len() as u64));
    let body = Bytes::from_static(VOICE_FORM.as_bytes());
    g.bench_function("parse voice webhook", |b| {
        b.iter(|| FormParams::parse(black_box(body.clone())))
    });
    let params = FormParams::parse(body).expect("form");
    g.bench_function("sorted signing pairs", |b| {
        b.iter(|| black_box(&params).signing_pairs().len())
    });
    g.finish();
}

fn twiml_writing(c: &mut Criterion) {
    let mut g = c.benchmark_group("twiml");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let templates = Templates::load_with_env(&dir, &|_| None).expect("shipped templates");
    let ivr = Ivr {
        flow: &templates.voice,
        base_path: "",
        caller: Some("+14155551234"),
    };
    let state = CallState::new("main", 0, "en");
    g.bench_function("main menu (Gather + Say + Redirect)", |b| {
        b.iter(|| ivr.incoming(black_box(&state)).to_xml())
    });
    g.bench_function("menu selection 1 (Dial with fallback)", |b| {
        b.iter(|| ivr.selection(black_box(&state), Some("1"), None).to_xml())
    });
    g.bench_function("SMS reply (Message)", |b| {
        b.iter(|| {
            MessagingResponse::new()
                .with(Message::new(black_box(
                    "Thanks! We'll text you back shortly.",
                )))
                .to_xml()
        })
    });
    g.finish();
}

fn segment_counting(c: &mut Criterion) {
    let mut g = c.benchmark_group("segments");
    let gsm = "Your Acme appointment is confirmed for Tuesday at 10:30. Reply STOP to opt out. "
        .repeat(3);
    let ucs2 = "您的预约已确认。回复 STOP 退订。👋 ".repeat(6);
    for (name, body) in [("GSM-7, 3 segments", &gsm), ("UCS-2 with emoji", &ucs2)] {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(name, |b| b.iter(|| segment(black_box(body))));
    }
    g.finish();
}

criterion_group!(
    benches,
    signature_checking,
    form_parsing,
    twiml_writing,
    segment_counting
);
criterion_main!(benches);
