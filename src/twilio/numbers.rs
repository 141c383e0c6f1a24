//! Account provisioning: the account itself (a credentials check) and incoming phone numbers,
//! whose voice/SMS/status webhooks `switchboard` points at itself.

use serde::Deserialize;

use super::{TwilioClient, TwilioError, check_sid, null_as_default};

/// Where a number should send its webhooks. All are sent with method `POST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberWebhooks {
    /// `VoiceUrl`: incoming calls.
    pub voice_url: String,
    /// `SmsUrl`: incoming messages.
    pub sms_url: String,
    /// `StatusCallback`: call status changes.
    pub status_callback: String,
}

/// The parts of an IncomingPhoneNumber resource switchboard uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IncomingNumber {
    /// Number SID (`PN…`).
    pub sid: String,
    /// The number, E.164.
    #[serde(default, deserialize_with = "null_as_default")]
    pub phone_number: String,
    /// Current voice webhook.
    #[serde(default)]
    pub voice_url: Option<String>,
    /// Current SMS webhook.
    #[serde(default)]
    pub sms_url: Option<String>,
    /// Current call status callback.
    #[serde(default)]
    pub status_callback: Option<String>,
}

/// The parts of the Account resource switchboard uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountResource {
    /// Account SID (`AC…`).
    pub sid: String,
    /// Account name.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// `active`, `suspended` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
    /// `Trial` or `Full`; trial accounts can only text verified numbers (21608).
    #[serde(default)]
    pub r#type: Option<String>,
}

/// One page of `GET IncomingPhoneNumbers.json`; paging fields are ignored because a
/// `PhoneNumber` filter returns at most a handful of rows.
#[derive(Debug, Deserialize)]
struct NumberList {
    #[serde(default, deserialize_with = "null_as_default")]
    incoming_phone_numbers: Vec<IncomingNumber>,
}

impl TwilioClient {
    /// Fetches the account the client authenticates as (`GET /2010-04-01/Accounts/{Sid}.json`).
    pub async fn fetch_account(&self) -> Result<AccountResource, TwilioError> {
        let url = self.api_url(&format!("/2010-04-01/Accounts/{}.json", self.account_sid()));
        self.get(&url, &[]).await
    }

    /// Looks up one of the account's numbers by its E.164 form
    /// (`GET …/IncomingPhoneNumbers.json?PhoneNumber=…`); `None` if the account does not own it.
    pub async fn find_incoming_number(
        &self,
        phone_number: &str,
    ) -> Result<Option<IncomingNumber>, TwilioError> {
        let wanted = digits(phone_number);
        if wanted.is_empty() {
            return Err(TwilioError::Config(format!(
                "{phone_number:?} is not a phone number"
            )));
        }
        let url = self.account_url("IncomingPhoneNumbers.json");
        let list: NumberList = self.get(&url, &[("PhoneNumber", phone_number)]).await?;
        // Twilio's filter also matches partial numbers, so insist on the whole number.
        Ok(list
            .incoming_phone_numbers
            .into_iter()
            .find(|n| digits(&n.phone_number) == wanted))
    }

    /// Points a number's voice, SMS and status webhooks at the given URLs
    /// (`POST …/IncomingPhoneNumbers/{Sid}.json`).
    pub async fn update_number_webhooks(
        &self,
        number_sid: &str,
        w: &NumberWebhooks,
    ) -> Result<IncomingNumber, TwilioError> {
        let number_sid = check_sid("phone number SID", number_sid)?;
        let url = self.account_url(&format!("IncomingPhoneNumbers/{number_sid}.json"));
        // Methods are set explicitly because a number may have been switched to GET by hand,
        // and our routes and signature check expect POST.
        let form = [
            ("VoiceUrl", w.voice_url.as_str()),
            ("VoiceMethod", "POST"),
            ("SmsUrl", w.sms_url.as_str()),
            ("SmsMethod", "POST"),
            ("StatusCallback", w.status_callback.as_str()),
            ("StatusCallbackMethod", "POST"),
        ];
        self.post_form(&url, &form).await
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, ResponseTemplate};

    use super::*;
    use crate::twilio::tests::{basic_auth_header, client_for, form_of, mock_server};

    const NUMBERS_PATH: &str = "/2010-04-01/Accounts/ACtest0123456789/IncomingPhoneNumbers.json";

    fn number_json(sid: &str, number: &str) -> serde_json::Value {
        serde_json::json!({
            "sid": sid, "phone_number": number, "voice_url": "https://old/voice",
            "sms_url": null, "status_callback": "", "capabilities": {"sms": true},
            "emergency_status": "Inactive"
        })
    }

    #[tokio::test]
    async fn find_number_filters_by_phone_number() {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .and(path(NUMBERS_PATH))
            .and(query_param("PhoneNumber", "+14155550100"))
            .and(header("authorization", basic_auth_header().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "incoming_phone_numbers": [
                    number_json("PN1", "+141555501000"),
                    number_json("PN2", "+14155550100"),
                ],
                "next_page_uri": null, "page": 0, "page_size": 50
            })))
            .mount(&server)
            .await;

        let found = client_for(&server)
            .find_incoming_number("+14155550100")
            .await
            .expect("list");

        let found = found.expect("number is owned");
        assert_eq!(found.sid, "PN2");
        assert_eq!(found.voice_url.as_deref(), Some("https://old/voice"));
        assert_eq!(found.sms_url, None);
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests[0].url.query(), Some("PhoneNumber=%2B14155550100"));
    }

    #[tokio::test]
    async fn find_number_returns_none_for_empty_list() {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .and(path(NUMBERS_PATH))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"incoming_phone_numbers": []})),
            )
            .mount(&server)
            .await;

        let found = client_for(&server)
            .find_incoming_number("+14155550100")
            .await
            .expect("list");

        assert_eq!(found, None);
    }

    #[tokio::test]
    async fn update_webhooks_posts_urls_and_methods() {
        let server = mock_server().await;
        let mut updated = number_json("PN2", "+14155550100");
        updated["voice_url"] = "https://me.example/voice".into();
        updated["sms_url"] = "https://me.example/sms".into();
        Mock::given(method("POST"))
            .and(path(
                "/2010-04-01/Accounts/ACtest0123456789/IncomingPhoneNumbers/PN2.json",
            ))
            .and(header("authorization", basic_auth_header().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(updated))
            .mount(&server)
            .await;
        let hooks = NumberWebhooks {
            voice_url: "https://me.example/voice".into(),
            sms_url: "https://me.example/sms".into(),
            status_callback: "https://me.example/voice/status".into(),
        };

        let number = client_for(&server)
            .update_number_webhooks("PN2", &hooks)
            .await
            .expect("update");

        assert_eq!(number.sms_url.as_deref(), Some("https://me.example/sms"));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(
            form_of(&requests[0]),
            vec![
                ("VoiceUrl", "https://me.example/voice"),
                ("VoiceMethod", "POST"),
                ("SmsUrl", "https://me.example/sms"),
                ("SmsMethod", "POST"),
                ("StatusCallback", "https://me.example/voice/status"),
                ("StatusCallbackMethod", "POST"),
            ]
        );
    }

    #[tokio::test]
    async fn fetch_account_reads_type_and_status() {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .and(path("/2010-04-01/Accounts/ACtest0123456789.json"))
            .and(header("authorization", basic_auth_header().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "sid": "ACtest0123456789", "friendly_name": "My account", "status": "active",
                "type": "Trial", "auth_token": "never-read", "subresource_uris": {}
            })))
            .mount(&server)
            .await;

        let account = client_for(&server).fetch_account().await.expect("fetch");

        assert_eq!(account.sid, "ACtest0123456789");
        assert_eq!(account.r#type.as_deref(), Some("Trial"));
        assert_eq!(account.status.as_deref(), Some("active"));
        assert_eq!(account.friendly_name.as_deref(), Some("My account"));
    }
}
