//! Programmable Messaging: sending a message (`POST Messages.json`) and fetching its state.

use serde::{Deserialize, Deserializer};

use super::{TwilioClient, TwilioError, check_sid, null_as_default};

/// One outbound SMS/MMS. Needs `from` or `messaging_service_sid`, and `body` or media.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessage {
    /// Recipient, E.164.
    pub to: String,
    /// Sending number; optional when a Messaging Service picks the sender.
    pub from: Option<String>,
    /// Messaging Service (`MG…`); required for US A2P 10DLC campaign traffic.
    pub messaging_service_sid: Option<String>,
    /// Text of the message.
    pub body: Option<String>,
    /// Public URLs of media to attach (MMS); each becomes one `MediaUrl` field.
    pub media_urls: Vec<String>,
    /// URL Twilio posts delivery status changes to.
    pub status_callback: Option<String>,
}

impl SendMessage {
    /// The form fields, in the order Twilio documents them; absent options are left out.
    fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![("To", self.to.as_str())];
        let optional = [
            ("From", &self.from),
            ("MessagingServiceSid", &self.messaging_service_sid),
            ("Body", &self.body),
        ];
        form.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_deref()?))),
        );
        form.extend(self.media_urls.iter().map(|url| ("MediaUrl", url.as_str())));
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback.as_str()));
        }
        form
    }

    /// Catches what Twilio would reject anyway, without spending a request (and a rate-limit
    /// slot) on it.
    fn validate(&self) -> Result<(), TwilioError> {
        let missing = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
        if self.to.trim().is_empty() {
            return Err(TwilioError::Config("message has no 'To' number".to_owned()));
        }
        if missing(&self.from) && missing(&self.messaging_service_sid) {
            return Err(TwilioError::Config(
                "message needs a 'From' number or a MessagingServiceSid".to_owned(),
            ));
        }
        if missing(&self.body) && self.media_urls.is_empty() {
            return Err(TwilioError::Config(
                "message has neither a body nor media".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The parts of Twilio's Message resource switchboard uses. Extra fields are ignored and
/// `null` becomes empty/`None`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageResource {
    /// Message SID (`SM…` or `MM…`).
    pub sid: String,
    /// `queued`, `accepted`, `sent`, `delivered`, `failed`, … (13 values; kept as text so a
    /// new one does not break parsing).
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    /// Number of segments, as Twilio sends it (a string).
    #[serde(default, deserialize_with = "lenient_string")]
    pub num_segments: Option<String>,
    /// Delivery error code, set once the message failed.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub error_code: Option<i64>,
    /// Delivery error text.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Recipient.
    #[serde(default, deserialize_with = "null_as_default")]
    pub to: String,
    /// Sender; `null` while a Messaging Service has not picked one yet.
    #[serde(default)]
    pub from: Option<String>,
}

/// A string field that some mocks and older payloads send as a number.
fn lenient_string<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(de)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// An integer field that status-callback-shaped payloads send as a string.
fn lenient_i64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(de)? {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

impl TwilioClient {
    /// Creates a message (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, 201).
    pub async fn send_message(&self, m: &SendMessage) -> Result<MessageResource, TwilioError> {
        m.validate()?;
        let url = self.account_url("Messages.json");
        self.post_form(&url, &m.form()).await
    }

    /// Fetches a message's current state (`GET …/Messages/{Sid}.json`).
    pub async fn fetch_message(&self, sid: &str) -> Result<MessageResource, TwilioError> {
        let sid = check_sid("message SID", sid)?;
        let url = self.account_url(&format!("Messages/{sid}.json"));
        self.get(&url, &[]).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, ResponseTemplate};

    use super::*;
    use crate::twilio::explain;
    use crate::twilio::tests::{
        ACCOUNT, basic_auth_header, client_for, error_body, form_of, mock_server,
    };

    const MESSAGES_PATH: &str = "/2010-04-01/Accounts/ACtest0123456789/Messages.json";

    fn created_json() -> serde_json::Value {
        serde_json::json!({
            "sid": "SM0123456789abcdef", "status": "queued", "num_segments": "1",
            "error_code": null, "error_message": null, "to": "+14155550100",
            "from": "+14155550199", "body": "hi", "price": null, "direction": "outbound-api",
            "subresource_uris": {"media": "/x"}, "something_new": [1, 2, 3]
        })
    }

    fn full_message() -> SendMessage {
        SendMessage {
            to: "+14155550100".into(),
            from: Some("+14155550199".into()),
            messaging_service_sid: None,
            body: Some("Hello & welcome ✓".into()),
            media_urls: vec![
                "https://example.com/a.jpg".into(),
                "https://example.com/b.png".into(),
            ],
            status_callback: Some("https://hooks.example.com/sms/status?x=1".into()),
        }
    }

    #[tokio::test]
    async fn send_message_posts_exact_form_with_basic_auth() {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES_PATH))
            .and(header("authorization", basic_auth_header().as_str()))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(ResponseTemplate::new(201).set_body_json(created_json()))
            .expect(1)
            .mount(&server)
            .await;
        let client = client_for(&server);

        let sent = client.send_message(&full_message()).await.expect("send");

        assert_eq!(sent.sid, "SM0123456789abcdef");
        assert_eq!(sent.status, "queued");
        assert_eq!(sent.num_segments.as_deref(), Some("1"));
        assert_eq!(sent.error_code, None);
        assert_eq!(sent.from.as_deref(), Some("+14155550199"));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(
            form_of(&requests[0]),
            vec![
                ("To", "+14155550100"),
                ("From", "+14155550199"),
                ("Body", "Hello & welcome ✓"),
                ("MediaUrl", "https://example.com/a.jpg"),
                ("MediaUrl", "https://example.com/b.png"),
                ("StatusCallback", "https://hooks.example.com/sms/status?x=1"),
            ]
        );
        assert!(ACCOUNT.starts_with("AC"));
    }

    #[tokio::test]
    async fn send_via_messaging_service_omits_absent_fields() {
        let server = mock_server().await;
        let mut reply = created_json();
        reply["from"] = serde_json::Value::Null;
        reply["status"] = "accepted".into();
        Mock::given(method("POST"))
            .and(path(MESSAGES_PATH))
            .respond_with(ResponseTemplate::new(201).set_body_json(reply))
            .mount(&server)
            .await;
        let message = SendMessage {
            to: "+14155550100".into(),
            messaging_service_sid: Some("MG0123".into()),
            body: Some("hi".into()),
            ..SendMessage::default()
        };

        let sent = client_for(&server)
            .send_message(&message)
            .await
            .expect("send");

        assert_eq!(sent.status, "accepted");
        assert_eq!(sent.from, None);
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(
            form_of(&requests[0]),
            vec![
                ("To", "+14155550100"),
                ("MessagingServiceSid", "MG0123"),
                ("Body", "hi")
            ]
        );
    }

    #[tokio::test]
    async fn each_documented_400_code_is_a_non_retryable_api_error() {
        let codes = [
            20429, 21211, 21408, 21606, 21608, 21610, 21611, 21614, 30007, 30034, 63016, 60200,
            60202, 60203, 60212, 20404, 30003, 30005, 30006,
        ];
        for code in codes {
            let server = mock_server().await;
            Mock::given(method("POST"))
                .and(path(MESSAGES_PATH))
                .respond_with(ResponseTemplate::new(400).set_body_json(error_body(code, 400)))
                .mount(&server)
                .await;

            let err = client_for(&server)
                .send_message(&full_message())
                .await
                .unwrap_err();

            assert_eq!(err.status(), Some(400), "{code}");
            assert_eq!(err.code(), Some(code));
            assert!(
                !err.is_retryable(),
                "{code} with HTTP 400 must not be retried"
            );
            assert!(!explain(code).unwrap_or_default().is_empty(), "{code}");
            assert!(
                err.to_string()
                    .contains(&format!("Twilio error {code} (HTTP 400)"))
            );
        }
    }

    #[tokio::test]
    async fn too_many_requests_is_retryable_with_retry_after() {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES_PATH))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "2")
                    .set_body_json(error_body(20429, 429)),
            )
            .mount(&server)
            .await;

        let err = client_for(&server)
            .send_message(&full_message())
            .await
            .unwrap_err();

        assert_eq!((err.status(), err.code()), (Some(429), Some(20429)));
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    }

    #[tokio::test]
    async fn server_errors_are_retryable() {
        for status in [500, 503] {
            let server = mock_server().await;
            Mock::given(method("POST"))
                .and(path(MESSAGES_PATH))
                .respond_with(ResponseTemplate::new(status).set_body_string("upstream sad"))
                .mount(&server)
                .await;

            let err = client_for(&server)
                .send_message(&full_message())
                .await
                .unwrap_err();

            assert_eq!(err.status(), Some(status));
            assert!(err.is_retryable(), "{status}");
            assert_eq!(err.retry_after(), None);
        }
    }

    #[tokio::test]
    async fn fetch_message_tolerates_nulls_and_string_error_code() {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .and(path(
                "/2010-04-01/Accounts/ACtest0123456789/Messages/SM42.json",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "sid": "SM42", "status": "undelivered", "num_segments": 2,
                "error_code": "30007", "error_message": null, "to": null, "from": "+1"
            })))
            .mount(&server)
            .await;

        let m = client_for(&server)
            .fetch_message("SM42")
            .await
            .expect("fetch");

        assert_eq!(m.error_code, Some(30007));
        assert_eq!(m.num_segments.as_deref(), Some("2"));
        assert_eq!(m.to, "");
    }

    #[tokio::test]
    async fn invalid_input_is_refused_before_any_request() {
        let server = mock_server().await;
        let client = client_for(&server);
        let no_sender = SendMessage {
            from: None,
            ..full_message()
        };
        let no_content = SendMessage {
            body: None,
            media_urls: vec![],
            ..full_message()
        };
        for m in [
            no_sender,
            no_content,
            SendMessage {
                to: " ".into(),
                ..full_message()
            },
        ] {
            assert!(matches!(
                client.send_message(&m).await,
                Err(TwilioError::Config(_))
            ));
        }
        assert!(matches!(
            client.fetch_message("../x").await,
            Err(TwilioError::Config(_))
        ));
        assert!(
            server
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty()
        );
    }
}
