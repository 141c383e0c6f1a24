//! The client side of the server scenarios: signed webhooks, API calls with a bearer key, and
//! every answer recorded whole in [`Seen`].

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{API_KEY, Seen, Server, sign};

const FORM: &str = "application/x-www-form-urlencoded";

pub fn encode(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// Extra request headers, e.g. a signature and its settings.
pub type Headers = Vec<(&'static str, String)>;

pub struct Driver<'a> {
    pub client: &'a reqwest::Client,
    pub server: &'a Server,
    pub seen: &'a mut Seen,
}

impl Driver<'_> {
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// POSTs a form with exactly the given headers.
    pub async fn post(
        &mut self,
        path: &str,
        params: &[(&str, &str)],
        headers: &[(&'static str, String)],
    ) -> (u16, String) {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", FORM)
            .body(encode(params));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let r = req.send().await.unwrap();
        self.seen.response(&format!("POST {path}"), r).await
    }

    /// POSTs a webhook signed as Twilio signs it; it must succeed.
    pub async fn webhook(&mut self, path: &str, params: &[(&str, &str)]) -> String {
        let sig = sign(&self.url(path), params);
        let (status, body) = self
            .post(path, params, &[("x-twilio-signature", sig)])
            .await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// GETs a webhook with its parameters in the signed query.
    pub async fn webhook_get(&mut self, path: &str, params: &[(&str, &str)]) -> String {
        let path = format!("{path}?{}", encode(params));
        let sig = sign(&self.url(&path), &[]);
        let r = self
            .client
            .get(self.url(&path))
            .header("x-twilio-signature", sig)
            .send()
            .await
            .unwrap();
        let (status, body) = self.seen.response(&format!("GET {path}"), r).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// POSTs JSON to the API with `key` as the bearer key (none when `None`).
    pub async fn api(&mut self, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let r = req.send().await.unwrap();
        let (status, text) = self.seen.response(&format!("POST {path}"), r).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GETs an API resource with the right key.
    pub async fn api_get(&mut self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        let (status, text) = self.seen.response(&format!("GET {path}"), r).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&mut self, path: &str) -> String {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        self.seen.response(&format!("GET {path}"), r).await.1
    }

    /// Waits until the outbox has nothing left to send or retry.
    pub async fn outbox_drained(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let metrics = self.get("/metrics").await;
            if metrics.lines().any(|l| l == "switchboard_outbox_depth 0") {
                return;
            }
            assert!(Instant::now() < deadline, "the outbox never drained");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
