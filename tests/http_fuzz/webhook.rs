//! Validly signed webhooks with odd contents: every real route, its call state in the query
//! (good, out of range, repeated, unknown), and Twilio's own fields missing, empty, huge,
//! non-numeric, repeated or holding any Unicode; so each one gets past the signature layer
//! into the handler.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::raw::FORM;
use super::sign;
use super::wire::{Framing, RawRequest};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sid,
    Phone,
    Number,
    Text,
    Status,
    Digits,
}

const FIELDS: &[(&str, Kind)] = &[
    ("CallSid", Kind::Sid),
    ("MessageSid", Kind::Sid),
    ("AccountSid", Kind::Sid),
    ("RecordingSid", Kind::Sid),
    ("TranscriptionSid", Kind::Sid),
    ("MessagingServiceSid", Kind::Sid),
    ("From", Kind::Phone),
    ("To", Kind::Phone),
    ("Digits", Kind::Digits),
    ("SpeechResult", Kind::Text),
    ("DialCallStatus", Kind::Status),
    ("CallStatus", Kind::Status),
    ("MessageStatus", Kind::Status),
    ("SmsStatus", Kind::Status),
    ("RecordingStatus", Kind::Status),
    ("TranscriptionStatus", Kind::Status),
    ("OptOutType", Kind::Status),
    ("Direction", Kind::Status),
    ("Body", Kind::Text),
    ("TranscriptionText", Kind::Text),
    ("RecordingUrl", Kind::Text),
    ("RecordingDuration", Kind::Number),
    ("CallDuration", Kind::Number),
    ("ErrorCode", Kind::Number),
    ("NumMedia", Kind::Number),
    ("NumSegments", Kind::Number),
    ("MediaUrl0", Kind::Text),
    ("MediaContentType0", Kind::Text),
    ("MediaUrl1", Kind::Text),
    ("FromCity", Kind::Text),
];

/// Long text: one character repeated (compresses to nothing), or random (does not).
fn long() -> impl Strategy<Value = String> {
    prop_oneof![
        (100usize..9_000, select(&['9', 'ñ'][..])).prop_map(|(n, c)| c.to_string().repeat(n)),
        "[a-zA-Z0-9]{2000,8000}",
    ]
}

fn value(kind: Kind) -> BoxedStrategy<String> {
    let fixed: &'static [&'static str] = match kind {
        Kind::Sid => &[
            "CA0123456789abcdef0123456789abcdef",
            "SM0123456789abcdef0123456789abcdef",
            "RE1",
            "MG0123456789abcdef0123456789abcdef",
            "",
            "a\0b",
            "../../etc",
            "SM1 SM2",
        ],
        Kind::Phone => &[
            "+14155551234",
            "+15005550006",
            "whatsapp:+14155551234",
            "client:alice",
            "sip:a@b.example",
            "",
            "+",
            "abc",
            "+1415555123412341234",
            "+1\0",
            "whatsapp:",
        ],
        Kind::Number => &[
            "0",
            "1",
            "7",
            "-1",
            "10",
            "11",
            "2",
            "99999999999999999999",
            "-9223372036854775808",
            "9223372036854775807",
            "1.5",
            " 3",
            "",
            "x",
            "١",
        ],
        Kind::Text => &[
            "",
            "STOP",
            "start",
            "HELP",
            "hours",
            "sales please",
            "销售",
            "\0",
            "\u{202e}abc",
            "<Say>&amp;</Say>",
            "https://example.com/a.jpg",
            "😀😀😀",
        ],
        Kind::Status => &[
            "completed",
            "answered",
            "busy",
            "no-answer",
            "failed",
            "canceled",
            "in-progress",
            "ringing",
            "queued",
            "delivered",
            "undelivered",
            "absent",
            "STOP",
            "START",
            "inbound",
            "",
            "bogus",
        ],
        Kind::Digits => &[
            "1", "2", "3", "4", "8", "9", "0", "*", "#", "12", "", "٣", "1#",
        ],
    };
    prop_oneof![
        6 => select(fixed).prop_map(str::to_owned),
        2 => "\\PC{0,30}",
        1 => any::<String>(),
        2 => long(),
    ]
    .boxed()
}

/// A form field with a typical value.
type Field = (&'static str, &'static str);

/// Each route with the fields Twilio always sends it, and the call state it takes.
const ROUTES: &[(&str, &[Field], State)] = &[
    ("/voice/incoming", &[CALL, FROM, TO], State::Menu),
    (
        "/voice/menu-selection",
        &[CALL, FROM, TO, ("Digits", "1")],
        State::Menu,
    ),
    (
        "/voice/dial-status",
        &[CALL, FROM, TO, ("DialCallStatus", "no-answer")],
        State::Dial,
    ),
    (
        "/voice/recording",
        &[CALL, FROM, TO, RECORDING, ("RecordingDuration", "12")],
        State::Lang,
    ),
    (
        "/voice/recording-status",
        &[CALL, RECORDING, ("RecordingStatus", "completed")],
        State::None,
    ),
    (
        "/voice/transcription",
        &[
            CALL,
            RECORDING,
            ("TranscriptionStatus", "completed"),
            ("TranscriptionText", "hi"),
        ],
        State::Lang,
    ),
    (
        "/voice/status",
        &[CALL, FROM, TO, ("CallStatus", "completed")],
        State::None,
    ),
    ("/sms", &[MESSAGE, FROM, TO, ("Body", "hello")], State::None),
    (
        "/sms/status",
        &[MESSAGE, FROM, TO, ("MessageStatus", "delivered")],
        State::None,
    ),
];

const CALL: Field = ("CallSid", "CA0123456789abcdef0123456789abcdef");
const MESSAGE: Field = ("MessageSid", "SM0123456789abcdef0123456789abcdef");
const RECORDING: Field = ("RecordingSid", "RE0123456789abcdef0123456789abcdef");
const FROM: Field = ("From", "+14155551234");
const TO: Field = ("To", "+15005550006");

#[derive(Clone, Copy, Debug)]
enum State {
    None,
    Lang,
    Menu,
    Dial,
}

/// The call state our own TwiML would put in the URL.
fn good_state(state: State) -> BoxedStrategy<String> {
    let menu = (1u32..=3, select(&["en", "zh-CN"][..]))
        .prop_map(|(attempt, lang)| format!("menu=main&attempt={attempt}&lang={lang}"));
    match state {
        State::None => Just(String::new()).boxed(),
        State::Lang => select(&["lang=en", "lang=zh-CN", ""][..])
            .prop_map(str::to_owned)
            .boxed(),
        State::Menu => prop_oneof![Just(String::new()), menu].boxed(),
        State::Dial => (
            menu,
            select(&["1", "2", "final", "closed", "3"][..]),
            0u32..3,
        )
            .prop_map(|(m, via, hunt)| format!("{m}&via={via}&hunt={hunt}"))
            .boxed(),
    }
}

/// Call state none of our TwiML writes: out of range, repeated, unknown.
fn odd_state() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        select(
            &[
                "main", "nowhere", "1", "2", "9", "0", "99", "100", "-1", "+1", "en", "zh-CN",
                "fr", "final", "closed", "star", "hash", "10", ""
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z0-9_-]{0,70}",
        "[%a-f0-9]{0,12}",
    ];
    let key = select(&["menu", "attempt", "lang", "via", "hunt", "x"][..]);
    vec((key, value), 1..6).prop_map(|pairs| {
        let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        q.join("&")
    })
}

/// A route, its query, and its form: the fields it needs (mostly), then fields of any kind
/// with odd values, some repeating or replacing the needed ones, and fields Twilio never sends.
fn route_and_fields() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    select(ROUTES).prop_flat_map(|(path, needed, state)| {
        let query = prop_oneof![4 => good_state(state), 1 => odd_state()];
        let field = select(FIELDS)
            .prop_flat_map(|(name, kind)| value(kind).prop_map(move |v| (name.to_owned(), v)));
        let odd = ("[A-Za-z0-9]{0,12}", "\\PC{0,20}");
        (
            query,
            proptest::bool::weighted(0.85),
            vec(field, 0..6),
            vec(odd, 0..2),
            proptest::bool::weighted(0.3),
        )
            .prop_map(move |(query, base, mut fields, odd, replace)| {
                if base {
                    for (n, v) in needed {
                        // An odd value usually comes on top of the needed one (a repeated
                        // name, whose first value wins); sometimes it takes its place.
                        let present = fields.iter().any(|(k, _)| k == n);
                        if !(replace && present) {
                            fields.insert(0, ((*n).to_owned(), (*v).to_owned()));
                        }
                    }
                }
                fields.extend(odd);
                let target = if query.is_empty() {
                    path.to_owned()
                } else {
                    format!("{path}?{query}")
                };
                (target, fields)
            })
    })
}

/// A signed webhook: mostly a POSTed form, sometimes a GET with the fields in the query, a
/// JSON body under `bodySHA256`, or signed with the shared key.
pub fn request(port: u16) -> impl Strategy<Value = RawRequest> {
    let host = select(vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "abc.ngrok.app".to_owned(),
    ]);
    let forwarded = proptest::option::weighted(0.2, select(&["https", "http"][..]));
    let how = select(
        &[
            "post", "post", "post", "post", "post", "get", "json", "shared",
        ][..],
    );
    let idempotency = proptest::option::weighted(0.2, "[a-z0-9-]{1,20}");
    (route_and_fields(), host, forwarded, how, idempotency).prop_map(
        |((target, fields), host, forwarded, how, idempotency)| {
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish();
            let mut req = RawRequest {
                method: b"POST".to_vec(),
                target: target.into_bytes(),
                headers: vec![("host".to_owned(), host.into_bytes())],
                body: Vec::new(),
                framing: Framing::Length,
            };
            match how {
                "get" => {
                    req.method = b"GET".to_vec();
                    let sep = if req.target.contains(&b'?') {
                        b'&'
                    } else {
                        b'?'
                    };
                    if !encoded.is_empty() {
                        req.target.push(sep);
                        req.target.extend_from_slice(encoded.as_bytes());
                    }
                }
                "json" => {
                    let map: serde_json::Map<String, serde_json::Value> =
                        fields.into_iter().map(|(k, v)| (k, v.into())).collect();
                    req.body = serde_json::to_vec(&map).unwrap_or_default();
                    req.headers
                        .push(("content-type".to_owned(), b"application/json".to_vec()));
                    sign::add_body_hash(&mut req);
                }
                _ => {
                    req.body = encoded.into_bytes();
                    req.headers
                        .push(("content-type".to_owned(), FORM.as_bytes().to_vec()));
                }
            }
            if how == "shared" {
                let settings = format!("key={},algorithm=HMAC_SHA256", sign::SHARED_KEY_SID);
                req.headers.push((
                    "x-twilio-webhooks-signature-settings".to_owned(),
                    settings.into_bytes(),
                ));
            }
            if let Some(proto) = forwarded {
                req.headers
                    .push(("x-forwarded-proto".to_owned(), proto.as_bytes().to_vec()));
                req.headers
                    .push(("x-forwarded-host".to_owned(), b"abc.ngrok.app".to_vec()));
            }
            if let Some(token) = idempotency {
                req.headers
                    .push(("i-twilio-idempotency-token".to_owned(), token.into_bytes()));
            }
            sign::sign(&mut req);
            req
        },
    )
}
