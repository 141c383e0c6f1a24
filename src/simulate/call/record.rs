//! `<Record>` in a simulated call: the action request with the recording, and the recording
//! status and transcription callbacks Twilio posts after it.

use reqwest::Url;

use super::{Call, Callback, Fetch, Params};
use crate::simulate::twiml::Element;
use crate::simulate::{Line, Method, Problem, sid};

/// Record's `finishOnKey` default: any key.
const FINISH_KEYS: &str = "1234567890*#";
const MAX_LENGTH: u32 = 3600;
const API: &str = "https://api.twilio.com/2010-04-01/Accounts";

impl Call<'_> {
    /// The caller records; an empty recording makes no request and falls through, as on Twilio.
    pub(super) fn record(
        &mut self,
        document: &Url,
        record: &Element,
    ) -> Result<Option<Fetch>, Problem> {
        let max = record
            .attr_value("maxLength")
            .and_then(|m| m.parse().ok())
            .unwrap_or(MAX_LENGTH);
        let seconds = self.script.record_seconds.min(max);
        self.transcript.push(Line::Recorded(seconds));
        if seconds == 0 {
            return Ok(None);
        }
        let action = self.action(document, record, "Record action")?;
        let recording_sid = sid("RE");
        let recording_url = format!("{API}/{}/Recordings/{recording_sid}", self.account_sid);
        let duration = seconds.to_string();
        // The key that ended the recording; with no finish key the caller can only hang up.
        let finish_keys = record.attr("finishOnKey").unwrap_or(FINISH_KEYS);
        let digits = match finish_keys.chars().next() {
            Some(key) => key.to_string(),
            None => "hangup".to_owned(),
        };
        let params = owned(&[
            ("RecordingUrl", &recording_url),
            ("RecordingSid", &recording_sid),
            ("RecordingDuration", &duration),
            ("Digits", &digits),
        ]);
        let mut fetch = self.fetch_of(action, record.attr("method"), params);
        let events = record
            .attr("recordingStatusCallbackEvent")
            .unwrap_or("completed");
        if let Some(url) = record.attr_value("recordingStatusCallback")
            && events.split_whitespace().any(|e| e == "completed")
        {
            let mut params = owned(&[
                ("AccountSid", &self.account_sid),
                ("CallSid", &self.call_sid),
                ("RecordingSid", &recording_sid),
                ("RecordingUrl", &recording_url),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", &duration),
                ("RecordingChannels", "1"),
                ("RecordingSource", "RecordVerb"),
            ]);
            params.push(("RecordingStartTime".to_owned(), now_rfc2822()));
            fetch.then.push(Callback {
                what: "recordingStatusCallback",
                url: self
                    .wire
                    .resolve(document, url, "recordingStatusCallback")?,
                method: Method::from_attr(record.attr("recordingStatusCallbackMethod")),
                params,
            });
        }
        if record.attr("transcribe") == Some("true")
            && let Some(url) = record.attr_value("transcribeCallback")
        {
            let transcription_sid = sid("TR");
            let transcription_url = format!(
                "{API}/{}/Transcriptions/{transcription_sid}",
                self.account_sid
            );
            let mut params = self.call_params();
            params.extend(owned(&[
                ("TranscriptionSid", &transcription_sid),
                ("TranscriptionText", &self.script.transcription),
                ("TranscriptionStatus", "completed"),
                ("TranscriptionUrl", &transcription_url),
                ("RecordingSid", &recording_sid),
                ("RecordingUrl", &recording_url),
            ]));
            fetch.then.push(Callback {
                what: "transcribeCallback",
                url: self.wire.resolve(document, url, "transcribeCallback")?,
                method: Method::Post,
                params,
            });
        }
        Ok(Some(fetch))
    }
}

fn owned(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `RecordingStartTime` is an RFC 2822 date, as in Twilio's REST resources.
fn now_rfc2822() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}
