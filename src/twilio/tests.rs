//! Shared wiremock helpers for the client's tests, and tests of the transport itself:
//! configuration, timeouts, connection errors and keeping the auth token out of output.

use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;

pub(crate) const ACCOUNT: &str = "ACtest0123456789";
pub(crate) const TOKEN: &str = "tok3n-s3cret-do-not-leak-42";

pub(crate) async fn mock_server() -> MockServer {
    // MockServer binds 127.0.0.1 on a random port: these tests never leave the machine.
    MockServer::start().await
}

pub(crate) fn config_for(base: &str) -> ClientConfig {
    ClientConfig {
        api_base: format!("{base}/"),
        verify_base: base.to_owned(),
        timeout: Duration::from_secs(5),
        ..ClientConfig::new(ACCOUNT, SecretString::from(TOKEN))
    }
}

pub(crate) fn client_for(server: &MockServer) -> TwilioClient {
    TwilioClient::new(config_for(&server.uri())).expect("valid test config")
}

pub(crate) fn basic_auth_header() -> String {
    let pair = format!("{ACCOUNT}:{TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Twilio's error JSON for `code`.
pub(crate) fn error_body(code: i64, status: u16) -> serde_json::Value {
    serde_json::json!({
        "code": code,
        "message": format!("Twilio says no ({code})"),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// Decoded form fields of a request, in the order they were sent.
#[derive(Debug)]
pub(crate) struct Form(Vec<(String, String)>);

impl PartialEq<Vec<(&str, &str)>> for Form {
    fn eq(&self, other: &Vec<(&str, &str)>) -> bool {
        self.0.len() == other.len()
            && self
                .0
                .iter()
                .zip(other)
                .all(|((k, v), (ok, ov))| k == ok && v == ov)
    }
}

pub(crate) fn form_of(request: &Request) -> Form {
    Form(form_urlencoded::parse(&request.body).into_owned().collect())
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN), "auth token leaked: {text}");
    let encoded = basic_auth_header();
    let encoded = encoded.trim_start_matches("Basic ");
    assert!(!text.contains(encoded), "basic credentials leaked: {text}");
}

/// A port nothing listens on: bind, note the port, close.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn debug_output_never_shows_the_token() {
    let cfg = config_for("http://127.0.0.1:9");
    assert_no_secret(&format!("{cfg:?}"));
    let client = TwilioClient::new(cfg).expect("client");
    let shown = format!("{client:?}");
    assert_no_secret(&shown);
    assert!(shown.contains(ACCOUNT), "{shown}");
}

#[test]
fn base_urls_lose_their_trailing_slash() {
    let client = TwilioClient::new(config_for("http://127.0.0.1:9")).expect("client");
    assert_eq!(
        client.account_url("Messages.json"),
        "http://127.0.0.1:9/2010-04-01/Accounts/ACtest0123456789/Messages.json"
    );
    assert_eq!(
        client.verify_url("/v2/Services/VA1"),
        "http://127.0.0.1:9/v2/Services/VA1"
    );
}

#[test]
fn bad_config_is_rejected_without_echoing_the_token() {
    let bad = [
        ClientConfig {
            account_sid: String::new(),
            ..config_for("http://127.0.0.1:9")
        },
        ClientConfig {
            account_sid: "AC/../x".into(),
            ..config_for("http://127.0.0.1:9")
        },
        ClientConfig {
            auth_token: SecretString::from(""),
            ..config_for("http://127.0.0.1:9")
        },
        ClientConfig {
            api_base: "ftp://example.com".into(),
            ..config_for("http://127.0.0.1:9")
        },
        ClientConfig {
            verify_base: "not a url".into(),
            ..config_for("http://127.0.0.1:9")
        },
        ClientConfig {
            timeout: Duration::ZERO,
            ..config_for("http://127.0.0.1:9")
        },
    ];
    for cfg in bad {
        let err = TwilioClient::new(cfg).expect_err("must be rejected");
        assert!(matches!(err, TwilioError::Config(_)), "{err:?}");
        assert_no_secret(&format!("{err} {err:?}"));
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let cfg = ClientConfig {
        timeout: Duration::from_millis(200),
        ..config_for(&server.uri())
    };
    let client = TwilioClient::new(cfg).expect("client");

    let err = client.fetch_account().await.unwrap_err();

    assert!(matches!(err, TwilioError::Timeout), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn closed_port_is_a_retryable_connect_error() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let client = TwilioClient::new(config_for(&base)).expect("client");

    let err = client.fetch_account().await.unwrap_err();

    assert!(matches!(err, TwilioError::Connect(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn unparsable_success_body_is_a_decode_error() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>hello</html>"))
        .mount(&server)
        .await;

    let err = client_for(&server).fetch_account().await.unwrap_err();

    assert!(matches!(err, TwilioError::Decode(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("Location", "http://127.0.0.1:9/steal"),
        )
        .mount(&server)
        .await;

    let err = client_for(&server).fetch_account().await.unwrap_err();

    assert_eq!(err.status(), Some(307));
    assert!(!err.is_retryable());
}

/// Echoes the request's Authorization header back in an error body, as a badly behaved proxy
/// might: the credentials must still not reach the error.
struct EchoAuth;

impl wiremock::Respond for EchoAuth {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = serde_json::json!({"code": 20003, "message": format!("bad auth {auth} {TOKEN}"),
            "more_info": format!("https://x/{TOKEN}")});
        ResponseTemplate::new(401).set_body_json(body)
    }
}

#[tokio::test]
async fn errors_never_contain_the_token() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(EchoAuth)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2010-04-01/Accounts/ACtest0123456789.json"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("oops {TOKEN}")))
        .mount(&server)
        .await;
    let client = client_for(&server);
    let message = SendMessage {
        to: "+14155550100".into(),
        from: Some("+14155550199".into()),
        body: Some("hi".into()),
        ..SendMessage::default()
    };

    let errors = [
        client.send_message(&message).await.unwrap_err(),
        client
            .check_verification("VA1", "+14155550100", "1")
            .await
            .unwrap_err(),
        client.fetch_account().await.unwrap_err(),
    ];

    assert_eq!(errors[0].code(), Some(20003));
    for err in &errors {
        assert_no_secret(&format!("{err}"));
        assert_no_secret(&format!("{err:?}"));
    }
    assert!(
        errors[0].to_string().contains("[redacted]"),
        "{}",
        errors[0]
    );
}

/// A long non-JSON error page is cut to an excerpt; where the cut falls inside the echoed
/// credentials, no piece of them may survive (the secrets test found this).
#[tokio::test]
async fn an_error_excerpt_never_ends_in_a_piece_of_the_credentials() {
    let server = mock_server().await;
    let encoded = basic_auth_header();
    let lead = "<html>proxy error; request headers: authorization: ";
    // The excerpt keeps 200 characters: end it 10 characters into the token's own base64.
    let token_starts = "Basic ".len() + (ACCOUNT.len() + 1) * 4 / 3 + 2;
    let pad = "-".repeat(200 - lead.len() - token_starts - 10);
    let page = format!("{lead}{pad}{encoded} and {TOKEN}</html>");
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_string(page))
        .mount(&server)
        .await;

    let err = client_for(&server).fetch_account().await.unwrap_err();

    let text = err.to_string();
    let piece = &encoded[token_starts..token_starts + 8];
    assert!(
        !text.contains(piece),
        "a piece of the credentials leaked: {text}"
    );
    assert!(
        !text.contains(&TOKEN[..8]),
        "a piece of the token leaked: {text}"
    );
    assert!(text.contains("[redacted]"), "{text}");
}
