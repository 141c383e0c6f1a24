//! Verify v2: starting and checking one-time-code verifications, and fetching the Verify
//! service (used to check configuration at startup).

use serde::Deserialize;

use super::{TwilioClient, TwilioError, check_sid, null_as_default};

/// A verification or verification check. A wrong code is not an error: it comes back with
/// `status` still `pending`; the right one gives `approved`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Verification {
    /// Verification SID (`VE…`).
    pub sid: String,
    /// `pending`, `approved`, `canceled`, `max_attempts_reached`, `deleted`, `failed`,
    /// `expired`; kept as text so new values do not break parsing.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    /// The number or address being verified.
    #[serde(default, deserialize_with = "null_as_default")]
    pub to: String,
    /// `sms`, `call`, `email`, `whatsapp` or `sna`.
    #[serde(default)]
    pub channel: Option<String>,
    /// Whether the checked code was correct (checks only; `null` on start).
    #[serde(default)]
    pub valid: Option<bool>,
}

impl Verification {
    /// True once the user has entered the right code.
    pub fn is_approved(&self) -> bool {
        self.status == "approved"
    }
}

/// The parts of a Verify service switchboard uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerifyService {
    /// Service SID (`VA…`).
    pub sid: String,
    /// Name shown in the code's text message.
    #[serde(default)]
    pub friendly_name: Option<String>,
}

impl TwilioClient {
    /// Sends a code (`POST /v2/Services/{ServiceSid}/Verifications`).
    pub async fn start_verification(
        &self,
        service_sid: &str,
        to: &str,
        channel: &str,
        locale: Option<&str>,
    ) -> Result<Verification, TwilioError> {
        let service_sid = check_sid("Verify service SID", service_sid)?;
        let url = self.verify_url(&format!("/v2/Services/{service_sid}/Verifications"));
        let mut form = vec![("To", to), ("Channel", channel)];
        if let Some(locale) = locale {
            form.push(("Locale", locale));
        }
        self.post_form(&url, &form).await
    }

    /// Checks a code (`POST /v2/Services/{ServiceSid}/VerificationCheck`). A 404 with code
    /// 20404 means the verification expired or was already used: start a new one.
    pub async fn check_verification(
        &self,
        service_sid: &str,
        to: &str,
        code: &str,
    ) -> Result<Verification, TwilioError> {
        let service_sid = check_sid("Verify service SID", service_sid)?;
        let url = self.verify_url(&format!("/v2/Services/{service_sid}/VerificationCheck"));
        self.post_form(&url, &[("To", to), ("Code", code)]).await
    }

    /// Fetches a Verify service (`GET /v2/Services/{Sid}`).
    pub async fn fetch_verify_service(
        &self,
        service_sid: &str,
    ) -> Result<VerifyService, TwilioError> {
        let service_sid = check_sid("Verify service SID", service_sid)?;
        let url = self.verify_url(&format!("/v2/Services/{service_sid}"));
        self.get(&url, &[]).await
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, ResponseTemplate};

    use super::*;
    use crate::twilio::tests::{basic_auth_header, client_for, error_body, form_of, mock_server};

    const SERVICE: &str = "VA0123456789";

    fn verification_json(status: &str, valid: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "sid": "VE42", "service_sid": SERVICE, "account_sid": "ACtest0123456789",
            "to": "+14155550100", "channel": "sms", "status": status, "valid": valid,
            "lookup": {}, "send_code_attempts": [], "url": "https://verify/x"
        })
    }

    #[tokio::test]
    async fn start_posts_to_channel_and_locale() {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path("/v2/Services/VA0123456789/Verifications"))
            .and(header("authorization", basic_auth_header().as_str()))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(verification_json("pending", serde_json::Value::Null)),
            )
            .expect(2)
            .mount(&server)
            .await;
        let client = client_for(&server);

        let v = client
            .start_verification(SERVICE, "+14155550100", "sms", Some("fr"))
            .await
            .expect("start");
        client
            .start_verification(SERVICE, "+14155550100", "call", None)
            .await
            .expect("start");

        assert_eq!((v.sid.as_str(), v.status.as_str()), ("VE42", "pending"));
        assert_eq!((v.channel.as_deref(), v.valid), (Some("sms"), None));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(
            form_of(&requests[0]),
            vec![("To", "+14155550100"), ("Channel", "sms"), ("Locale", "fr")]
        );
        assert_eq!(
            form_of(&requests[1]),
            vec![("To", "+14155550100"), ("Channel", "call")]
        );
    }

    #[tokio::test]
    async fn check_posts_to_and_code() {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path("/v2/Services/VA0123456789/VerificationCheck"))
            .and(header("authorization", basic_auth_header().as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(verification_json("approved", true.into())),
            )
            .mount(&server)
            .await;

        let v = client_for(&server)
            .check_verification(SERVICE, "+14155550100", "123456")
            .await
            .expect("check");

        assert!(v.is_approved());
        assert_eq!(v.valid, Some(true));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(
            form_of(&requests[0]),
            vec![("To", "+14155550100"), ("Code", "123456")]
        );
    }

    #[tokio::test]
    async fn wrong_code_is_pending_not_an_error() {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path("/v2/Services/VA0123456789/VerificationCheck"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(verification_json("pending", false.into())),
            )
            .mount(&server)
            .await;

        let v = client_for(&server)
            .check_verification(SERVICE, "+14155550100", "000000")
            .await
            .expect("check");

        assert!(!v.is_approved());
        assert_eq!((v.status.as_str(), v.valid), ("pending", Some(false)));
    }

    #[tokio::test]
    async fn expired_check_is_404_with_20404() {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path("/v2/Services/VA0123456789/VerificationCheck"))
            .respond_with(ResponseTemplate::new(404).set_body_json(error_body(20404, 404)))
            .mount(&server)
            .await;

        let err = client_for(&server)
            .check_verification(SERVICE, "+14155550100", "123456")
            .await
            .unwrap_err();

        assert!(matches!(
            err,
            TwilioError::Api {
                status: 404,
                code: Some(20404),
                ..
            }
        ));
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("start a new one"), "{err}");
    }

    #[tokio::test]
    async fn verify_rate_limits_are_429_api_errors() {
        // 60202/60203 only clear when the verification expires; 60212 clears in moments.
        for (code, retryable) in [(60202, false), (60203, false), (60212, true)] {
            let server = mock_server().await;
            Mock::given(method("POST"))
                .and(path("/v2/Services/VA0123456789/Verifications"))
                .respond_with(ResponseTemplate::new(429).set_body_json(error_body(code, 429)))
                .mount(&server)
                .await;

            let err = client_for(&server)
                .start_verification(SERVICE, "+14155550100", "sms", None)
                .await
                .unwrap_err();

            assert_eq!((err.status(), err.code()), (Some(429), Some(code)));
            assert_eq!(err.is_retryable(), retryable, "{code}");
            assert!(err.explanation().is_some(), "{code}");
        }
    }

    #[tokio::test]
    async fn fetch_service() {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .and(path("/v2/Services/VA0123456789"))
            .and(header("authorization", basic_auth_header().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "sid": SERVICE, "friendly_name": "Switchboard", "code_length": 6, "push": null
            })))
            .mount(&server)
            .await;

        let service = client_for(&server)
            .fetch_verify_service(SERVICE)
            .await
            .expect("fetch");

        assert_eq!(service.sid, SERVICE);
        assert_eq!(service.friendly_name.as_deref(), Some("Switchboard"));
    }
}
