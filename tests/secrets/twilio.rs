//! A Twilio that answers by recipient, and whose failures echo the credentials back: the worst
//! case of a proxy or a broken server repeating the request headers in its error page.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const VERIFY_SID: &str = "VA0123456789abcdef0123456789abcdef";
pub const NUMBER: &str = "+15005550006";

/// Recipients, each meeting its own answer from the mock.
pub const OK: &str = "+14155550101";
/// 401 whose JSON message and more_info repeat the Authorization header.
pub const UNAUTHORIZED: &str = "+14155550102";
/// 429 whose JSON message repeats `sid:token` in the clear.
pub const THROTTLED: &str = "+14155550103";
/// 500 with an HTML page listing the request headers, long enough to be cut short in the
/// error excerpt right inside the credentials.
pub const BROKEN: &str = "+14155550104";

/// How the mock answers every request.
#[derive(Clone, Copy)]
pub enum Mode {
    /// By recipient (`To`) and verification code, as the constants above say.
    ByRecipient,
    /// A 401 echoing the credentials, whatever is asked.
    AllUnauthorized,
}

struct Twilio {
    mode: Mode,
}

pub async fn start(mode: Mode) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Twilio { mode })
        .mount(&server)
        .await;
    server
}

fn header(req: &Request, name: &str) -> String {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn unauthorized(auth: &str) -> ResponseTemplate {
    let b64 = auth.trim_start_matches("Basic ");
    ResponseTemplate::new(401).set_body_json(json!({
        "code": 20003,
        "message": format!("Authenticate: you sent Authorization: {auth}"),
        "more_info": format!("https://www.twilio.com/docs/errors/20003?auth={b64}"),
        "status": 401,
    }))
}

fn throttled(auth: &str) -> ResponseTemplate {
    let pair = STANDARD
        .decode(auth.trim_start_matches("Basic "))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    ResponseTemplate::new(429).set_body_json(json!({
        "code": 20429,
        "message": format!("Too many requests from {pair}"),
        "status": 429,
    }))
}

/// The client keeps the first 200 characters of a non-JSON body; this page puts the 200th
/// inside the token's part of the Basic value.
fn broken(auth: &str) -> ResponseTemplate {
    let lead =
        "<html><body><h1>502 Bad Gateway</h1> upstream failed; request headers: authorization: ";
    let mut page = String::from(lead);
    let inside_token = "Basic ".len() + 70;
    page.push_str(&"-".repeat(200usize.saturating_sub(lead.len() + inside_token)));
    page.push_str(auth);
    page.push_str(" accept: application/json</body></html>");
    ResponseTemplate::new(500)
        .insert_header("content-type", "text/html")
        .set_body_string(page)
}

fn message(to: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": to,
        "from": NUMBER, "num_segments": "1",
    }))
}

fn verification(to: &str, status: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"sid": "VE1", "status": status, "to": to}))
}

impl Respond for Twilio {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let auth = header(req, "authorization");
        if let Mode::AllUnauthorized = self.mode {
            return unauthorized(&auth);
        }
        let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map_or("", |(_, v)| v.as_str())
        };
        let to = field("To");
        match to {
            UNAUTHORIZED => return unauthorized(&auth),
            THROTTLED => return throttled(&auth),
            BROKEN => return broken(&auth),
            _ => {}
        }
        let path = req.url.path();
        let numbers = format!("/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers");
        if path.ends_with("/Messages.json") {
            message(to)
        } else if path.ends_with("/Verifications") {
            verification(to, "pending")
        } else if path.ends_with("/VerificationCheck") {
            match field("Code") {
                "123456" => verification(to, "approved"),
                "000000" => ResponseTemplate::new(404)
                    .set_body_json(json!({"code": 20404, "message": "not found", "status": 404})),
                _ => broken(&auth),
            }
        } else if path == format!("/2010-04-01/Accounts/{SID}.json") {
            ResponseTemplate::new(200).set_body_json(
                json!({"sid": SID, "friendly_name": "Prod", "status": "active", "type": "Full"}),
            )
        } else if path == format!("/v2/Services/{VERIFY_SID}") {
            ResponseTemplate::new(200)
                .set_body_json(json!({"sid": VERIFY_SID, "friendly_name": "Switchboard"}))
        } else if path.starts_with(&numbers) {
            ResponseTemplate::new(200).set_body_json(json!({
                "incoming_phone_numbers": [{
                    "sid": "PN0123456789abcdef0123456789abcdef", "phone_number": NUMBER,
                    "voice_url": "https://old.example/voice/incoming", "sms_url": null,
                    "status_callback": null
                }],
                "sid": "PN0123456789abcdef0123456789abcdef", "phone_number": NUMBER,
                "voice_url": "https://abc.example/voice/incoming",
                "sms_url": "https://abc.example/sms",
                "status_callback": "https://abc.example/voice/status",
            }))
        } else {
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 20404, "message": "not found", "status": 404}))
        }
    }
}
