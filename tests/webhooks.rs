//! Black-box tests of the webhook routes: signed requests in, TwiML out; refusals with 4xx.

mod common;

use common::*;

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

async fn text(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

#[tokio::test]
async fn incoming_call_gets_the_menu() {
    let app = spawn_app(&[]).await;
    let (status, ct, body) =
        text(app.post_signed("/voice/incoming", &voice_params(&[])).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ct, "text/xml");
    assert!(body.starts_with(&format!("{DECL}<Response><Gather action=\"/voice/menu-selection?menu=main&amp;attempt=1&amp;lang=en\" hints=")), "{body}");
    assert!(body.contains("input=\"dtmf speech\" language=\"en-US\" numDigits=\"1\" speechTimeout=\"auto\" timeout=\"5\">"), "{body}");
    assert!(body.ends_with("<Redirect method=\"POST\">/voice/incoming?menu=main&amp;attempt=2&amp;lang=en</Redirect></Response>"), "{body}");
}

#[tokio::test]
async fn menu_choices_end_to_end() {
    let app = spawn_app(&[("SALES_PHONE", "+12125550123")]).await;
    let path = "/voice/menu-selection?menu=main&attempt=1&lang=en";
    let (s, _, body) = text(
        app.post_signed(path, &voice_params(&[("Digits", "1")]))
            .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        body.contains("Connecting you to sales.</Say><Dial action=\"/voice/dial-status?menu=main&amp;attempt=1&amp;lang=en&amp;via=1&amp;hunt=0\" method=\"POST\" timeout=\"20\">+12125550123</Dial>"),
        "{body}"
    );
    let (_, _, body) = text(
        app.post_signed(path, &voice_params(&[("Digits", "3")]))
            .await,
    )
    .await;
    assert!(
        body.contains("<Record action=\"/voice/recording?lang=en\""),
        "{body}"
    );
    let (_, _, body) = text(
        app.post_signed(path, &voice_params(&[("Digits", "7")]))
            .await,
    )
    .await;
    assert!(body.contains("Sorry, that is not an option.</Say><Gather action=\"/voice/menu-selection?menu=main&amp;attempt=2"), "{body}");
    let last = "/voice/menu-selection?menu=main&attempt=3&lang=en";
    let (_, _, body) = text(
        app.post_signed(last, &voice_params(&[("Digits", "7")]))
            .await,
    )
    .await;
    assert!(
        body.contains("<Record "),
        "the third failure goes to voicemail: {body}"
    );
}

#[tokio::test]
async fn recording_action_thanks_the_caller() {
    let app = spawn_app(&[]).await;
    let params = voice_params(&[
        ("RecordingSid", "RE1"),
        ("RecordingDuration", "7"),
        ("RecordingUrl", "https://api.twilio.com/x"),
    ]);
    let (s, _, body) = text(app.post_signed("/voice/recording?lang=en", &params).await).await;
    assert_eq!(s, 200);
    assert!(
        body.ends_with("Your message has been recorded. Goodbye.</Say><Hangup /></Response>"),
        "{body}"
    );
}

#[tokio::test]
async fn sms_replies_from_templates() {
    let app = spawn_app(&[]).await;
    for (sid, input, reply) in [
        (
            "SM1",
            "hello",
            "<Message>Thank you for your response! We are confirming your message.</Message>",
        ),
        (
            "SM2",
            " hours ",
            "<Message>Acme is open Monday to Friday, 9am to 5pm Pacific.</Message>",
        ),
        ("SM3", "HELP", "<Message>Acme: for help call"),
    ] {
        let (s, ct, body) = text(app.post_signed("/sms", &sms_params(sid, input)).await).await;
        assert_eq!((s, ct.as_str()), (200, "text/xml"));
        assert!(body.contains(reply), "{input}: {body}");
    }
    let (_, _, body) = text(app.post_signed("/sms", &sms_params("SM4", "STOP")).await).await;
    assert_eq!(
        body,
        format!("{DECL}<Response />"),
        "Twilio confirms STOP itself"
    );
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_is_403() {
    let app = spawn_app(&[]).await;
    let r = app
        .client
        .post(app.url("/voice/incoming"))
        .header("content-type", FORM)
        .body(encode(&voice_params(&[])))
        .send()
        .await
        .unwrap();
    let (s, _, body) = text(r).await;
    assert_eq!((s, body.as_str()), (403, "missing X-Twilio-Signature\n"));
    let r = app
        .post_signed_as(
            "/voice/incoming",
            "http://elsewhere/voice/incoming",
            &voice_params(&[]),
            &[],
        )
        .await;
    let (s, _, body) = text(r).await;
    assert_eq!((s, body.as_str()), (403, "invalid X-Twilio-Signature\n"));
    // The signature covers the query: changing the call state breaks it.
    let signed = app.url("/voice/menu-selection?menu=main&attempt=1&lang=en");
    let r = app
        .post_signed_as(
            "/voice/menu-selection?menu=main&attempt=3&lang=en",
            &signed,
            &voice_params(&[]),
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn ngrok_forwarded_headers() {
    let signed = "https://abc.ngrok.app/voice/incoming";
    let fwd = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "abc.ngrok.app"),
    ];
    let app = spawn_app(&[]).await;
    let r = app
        .post_signed_as("/voice/incoming", signed, &voice_params(&[]), &fwd)
        .await;
    assert_eq!(
        r.status().as_u16(),
        403,
        "forwarded headers are not trusted by default"
    );
    let app = spawn_app(&[("TRUST_FORWARDED_HEADERS", "true")]).await;
    let r = app
        .post_signed_as("/voice/incoming", signed, &voice_params(&[]), &fwd)
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let app = spawn_app(&[("PUBLIC_URL", "https://abc.ngrok.app")]).await;
    let r = app
        .post_signed_as("/voice/incoming", signed, &voice_params(&[]), &fwd)
        .await;
    assert_eq!(r.status().as_u16(), 200);
    // Twilio's back end sometimes signs with the default port.
    let r = app
        .post_signed_as(
            "/voice/incoming",
            "https://abc.ngrok.app:443/voice/incoming",
            &voice_params(&[]),
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn public_url_prefix_reaches_twiml_urls() {
    let app = spawn_app(&[("PUBLIC_URL", "https://x.example/hooks")]).await;
    let r = app
        .post_signed_as(
            "/voice/incoming",
            "https://x.example/hooks/voice/incoming",
            &voice_params(&[]),
            &[],
        )
        .await;
    let (s, _, body) = text(r).await;
    assert_eq!(s, 200);
    assert!(
        body.contains("action=\"/hooks/voice/menu-selection?"),
        "{body}"
    );
}

#[tokio::test]
async fn bad_input_is_4xx_naming_the_problem() {
    let app = spawn_app(&[]).await;
    let (s, _, body) = text(
        app.post_signed("/voice/incoming", &[("From", "+14155551234")])
            .await,
    )
    .await;
    assert_eq!((s, body.as_str()), (400, "missing form field 'CallSid'\n"));
    let (s, _, body) = text(
        app.post_signed("/voice/menu-selection?attempt=zero", &voice_params(&[]))
            .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("attempt 'zero'"), "{body}");
    let (s, _, body) = text(
        app.post_signed("/sms", &[("MessageSid", "SM1"), ("To", "+15005550006")])
            .await,
    )
    .await;
    assert_eq!((s, body.as_str()), (400, "missing form field 'From'\n"));
    // Invalid UTF-8 after percent-decoding.
    let url = app.url("/sms");
    let r = app
        .client
        .post(&url)
        .header("content-type", FORM)
        .header("x-twilio-signature", sign(&url, &[]))
        .body("Body=%FF")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app(&[]).await;
    let big = "x".repeat(70 * 1024);
    let r = app.post_signed("/sms", &[("Body", big.as_str())]).await;
    assert_eq!(r.status().as_u16(), 413);
    // Also without a Content-Length (chunked), the limit holds.
    let stream = futures_body(big);
    let r = app
        .client
        .post(app.url("/sms"))
        .header("content-type", FORM)
        .header("x-twilio-signature", "x")
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
}

fn futures_body(s: String) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = s
        .into_bytes()
        .chunks(8192)
        .map(|c| Ok(c.to_vec()))
        .collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn get_webhooks_are_signed_over_the_query() {
    let app = spawn_app(&[]).await;
    let path = "/voice/menu-selection?menu=main&attempt=1&lang=en&CallSid=CA1&Digits=2";
    let url = app.url(path);
    let r = app
        .client
        .get(&url)
        .header("x-twilio-signature", sign(&url, &[]))
        .send()
        .await
        .unwrap();
    let (s, _, body) = text(r).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("Connecting you to support."), "{body}");
}

#[tokio::test]
async fn a_webhook_path_takes_only_get_head_and_post() {
    let app = spawn_app(&[]).await;
    let url = app.url("/voice/incoming");
    let params = voice_params(&[]);
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let r = app
            .client
            .request(method.clone(), &url)
            .header("content-type", FORM)
            .header("x-twilio-signature", sign(&url, &params))
            .body(encode(&params))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method}");
        assert_eq!(r.headers()["allow"], "GET,HEAD,POST", "{method}");
    }
    // Unsigned, the method is never looked at.
    let r = app.client.put(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Webhook paths match exactly, as Twilio calls them.
    for path in ["/voice/incoming/", "/Voice/incoming", "/sms/"] {
        let r = app.post_signed(path, &params).await;
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
}

#[tokio::test]
async fn healthz_needs_no_signature() {
    let app = spawn_app(&[]).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_count_requests_refusals_and_latency() {
    let app = spawn_app(&[]).await;
    app.post_signed("/sms", &sms_params("SMm1", "hi")).await;
    app.client
        .post(app.url("/sms"))
        .header("content-type", FORM)
        .body("Body=x")
        .send()
        .await
        .unwrap();
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    for prefix in [
        "switchboard_requests_total{route=\"/sms\",status=\"200\"} ",
        "switchboard_requests_total{route=\"/sms\",status=\"403\"} ",
        "switchboard_signature_failures_total{cause=\"missing_signature\"} ",
        "switchboard_webhook_seconds_bucket{le=\"+Inf\"} ",
        "switchboard_outbox_depth 0",
        "switchboard_send_attempts_total ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(prefix)),
            "missing {prefix}\n{text}"
        );
    }
}
