//! What the webhooks commit: inbound messages, opt-outs with history, replays, status callbacks
//! in any order, calls and WhatsApp windows. Runs on SQLite, and on PostgreSQL in CI.

mod common;

use common::*;

const EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response />"#;
const ME: &str = "+15005550006";
const THEM: &str = "+14155551234";

async fn body(r: reqwest::Response) -> String {
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn inbound_message_is_stored_with_media_before_the_answer() {
    let app = spawn_app(&[]).await;
    let mut p = sms_params("MM1", "look");
    p.extend([
        ("NumMedia", "2"),
        ("MediaUrl0", "https://api.twilio.com/m0"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl1", "https://api.twilio.com/m1"),
        ("MediaContentType1", "image/png"),
        ("FromCity", "OAKLAND"),
    ]);
    p.retain(|(k, v)| !(*k == "NumMedia" && *v == "0"));
    let reply = body(app.post_signed("/sms", &p).await).await;
    assert!(reply.contains("<Message>"), "{reply}");
    let (from, to, text, media) = app.store.inbound_message("MM1").await.unwrap().unwrap();
    assert_eq!(
        (from.as_str(), to.as_str(), text.as_str()),
        (THEM, ME, "look")
    );
    assert_eq!(
        media,
        ["https://api.twilio.com/m0", "https://api.twilio.com/m1"]
    );
}

#[tokio::test]
async fn stop_start_help_state_history_and_replays() {
    let app = spawn_app(&[]).await;
    let steps = [
        ("SM-a", "STOP", true),
        ("SM-b", "start", false),
        ("SM-c", " Help ", false),
    ];
    let mut answers = Vec::new();
    for (sid, text, opted_out) in steps {
        answers.push(body(app.post_signed("/sms", &sms_params(sid, text)).await).await);
        assert_eq!(
            app.store.is_opted_out(ME, THEM).await.unwrap(),
            opted_out,
            "after {text}"
        );
    }
    assert_eq!(answers[0], EMPTY, "no reply of ours to STOP");
    assert_eq!(answers[1], EMPTY, "no reply of ours to START");
    assert!(answers[2].contains("Acme: for help call"), "{}", answers[2]);
    let history = app.store.opt_out_history(ME, THEM).await.unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|e| (e.opted_out, e.keyword.as_str(), e.source.as_str()))
        .collect();
    assert_eq!(
        seen,
        [(true, "STOP", "keyword"), (false, "START", "keyword")]
    );

    // Replaying every webhook, in any order, changes nothing and gives the same answers.
    for (i, (sid, text, _)) in steps.iter().enumerate().rev() {
        assert_eq!(
            body(app.post_signed("/sms", &sms_params(sid, text)).await).await,
            answers[i]
        );
    }
    assert_eq!(app.store.opt_out_history(ME, THEM).await.unwrap(), history);
    assert!(!app.store.is_opted_out(ME, THEM).await.unwrap());
    assert_eq!(app.store.count_inbound_messages().await.unwrap(), 3);
}

#[tokio::test]
async fn opted_out_sender_gets_no_reply_and_opt_out_type_wins() {
    let app = spawn_app(&[]).await;
    body(app.post_signed("/sms", &sms_params("SM1", "stop")).await).await;
    assert_eq!(
        body(app.post_signed("/sms", &sms_params("SM2", "hello")).await).await,
        EMPTY
    );
    assert!(
        body(app.post_signed("/sms", &sms_params("SM3", "help")).await)
            .await
            .contains("Acme: for help")
    );
    // A custom keyword of an Advanced Opt-Out Messaging Service: Twilio says what it meant.
    let mut p = sms_params("SM4", "arret");
    p.extend([("OptOutType", "START"), ("MessagingServiceSid", "MG0123")]);
    body(app.post_signed("/sms", &p).await).await;
    let history = app.store.opt_out_history("MG0123", THEM).await.unwrap();
    assert_eq!(
        (history[0].opted_out, history[0].source.as_str()),
        (false, "opt_out_type")
    );
}

#[tokio::test]
async fn idempotency_token_recognises_a_replay() {
    let app = spawn_app(&[]).await;
    let url = app.url("/sms");
    let token = [("i-twilio-idempotency-token", "tok-1")];
    let a = body(
        app.post_signed_as("/sms", &url, &sms_params("SM1", "hours"), &token)
            .await,
    )
    .await;
    // Same token, even with a different SID: the first answer, nothing stored twice.
    let b = body(
        app.post_signed_as("/sms", &url, &sms_params("SM2", "hello"), &token)
            .await,
    )
    .await;
    assert_eq!(a, b);
    assert_eq!(app.store.count_inbound_messages().await.unwrap(), 1);
}

fn status_params<'a>(
    sid: &'a str,
    status: &'a str,
    error: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("From", ME),
        ("To", THEM),
        ("AccountSid", "AC1"),
    ];
    if let Some(e) = error {
        p.push(("ErrorCode", e));
    }
    p
}

fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first.clone());
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn status_callbacks_in_every_order_end_at_the_highest_rank_with_the_first_error() {
    let app = spawn_app(&[]).await;
    let events = [
        ("queued", None),
        ("sending", None),
        ("sent", None),
        ("undelivered", Some("30003")),
    ];
    for (n, order) in permutations(&events).into_iter().enumerate() {
        let sid = format!("SM{n:04}");
        for (status, error) in &order {
            assert_eq!(
                body(
                    app.post_signed("/sms/status", &status_params(&sid, status, *error))
                        .await
                )
                .await,
                EMPTY
            );
        }
        let current = app.store.message_status(&sid).await.unwrap().unwrap();
        assert_eq!(
            current,
            ("undelivered".to_owned(), Some(30003)),
            "order {order:?}"
        );
        assert_eq!(app.store.message_events(&sid).await.unwrap().len(), 4);
    }
    // Two errors: the first one received is kept; `read` outranks `delivered`.
    let sid = "SMerr";
    for (status, error) in [
        ("failed", Some("30005")),
        ("undelivered", Some("30003")),
        ("sent", None),
    ] {
        body(
            app.post_signed("/sms/status", &status_params(sid, status, error))
                .await,
        )
        .await;
    }
    assert_eq!(
        app.store.message_status(sid).await.unwrap().unwrap(),
        ("failed".to_owned(), Some(30005))
    );
    for status in ["read", "delivered"] {
        body(
            app.post_signed("/sms/status", &status_params("SMread", status, None))
                .await,
        )
        .await;
    }
    assert_eq!(
        app.store.message_status("SMread").await.unwrap().unwrap().0,
        "read"
    );
}

#[tokio::test]
async fn status_replay_is_not_logged_twice_and_21610_opts_out() {
    let app = spawn_app(&[]).await;
    for _ in 0..3 {
        body(
            app.post_signed(
                "/sms/status",
                &status_params("SMx", "failed", Some("21610")),
            )
            .await,
        )
        .await;
    }
    assert_eq!(app.store.message_events("SMx").await.unwrap(), ["failed"]);
    assert!(app.store.is_opted_out(ME, THEM).await.unwrap());
    let history = app.store.opt_out_history(ME, THEM).await.unwrap();
    assert_eq!(
        (history.len(), history[0].source.as_str()),
        (1, "error_21610")
    );
    let r = app
        .post_signed("/sms/status", &status_params("SMy", "failed", Some("abc")))
        .await;
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn calls_are_recorded_and_call_status_never_regresses() {
    let app = spawn_app(&[]).await;
    let sid = "CA0123456789abcdef0123456789abcdef";
    body(app.post_signed("/voice/incoming", &voice_params(&[])).await).await;
    assert_eq!(
        app.store.call(sid).await.unwrap().unwrap(),
        (THEM.into(), ME.into(), "ringing".into())
    );
    let status = |s: &'static str| voice_params(&[("CallStatus", s), ("CallDuration", "42")]);
    for s in ["completed", "in-progress", "completed"] {
        let p: Vec<_> = status(s)
            .into_iter()
            .filter(|(k, v)| *k != "CallStatus" || *v == s)
            .collect();
        assert_eq!(
            body(app.post_signed("/voice/status", &p).await).await,
            EMPTY
        );
    }
    assert_eq!(app.store.call(sid).await.unwrap().unwrap().2, "completed");
    assert_eq!(
        app.store.call_events(sid).await.unwrap(),
        ["completed", "in-progress"]
    );
    // A replayed incoming request gets the same TwiML.
    let a = body(app.post_signed("/voice/incoming", &voice_params(&[])).await).await;
    assert!(a.contains("<Gather"), "{a}");
}

#[tokio::test]
async fn whatsapp_inbound_opens_the_window() {
    let app = spawn_app(&[]).await;
    let p = vec![
        ("MessageSid", "SMwa1"),
        ("From", "whatsapp:+14155551234"),
        ("To", "whatsapp:+15005550006"),
        ("Body", "hi"),
        ("ProfileName", "Ann"),
        ("WaId", "14155551234"),
    ];
    let before = switchboard::store::model::now_millis();
    body(app.post_signed("/sms", &p).await).await;
    let at = app
        .store
        .whatsapp_last_inbound("whatsapp:+15005550006", "whatsapp:+14155551234")
        .await
        .unwrap()
        .unwrap();
    assert!(at >= before, "{at} < {before}");
    assert_eq!(
        app.store
            .whatsapp_last_inbound("whatsapp:+15005550006", "whatsapp:+1999")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn concurrent_webhooks_are_all_committed() {
    let app = std::sync::Arc::new(spawn_app(&[]).await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let sid = format!("SMc{i:05}");
            let r = app.post_signed("/sms", &sms_params(&sid, "hello")).await;
            r.status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(app.store.count_inbound_messages().await.unwrap(), 200);
}

#[tokio::test]
async fn the_same_webhook_delivered_concurrently_is_processed_once() {
    let app = std::sync::Arc::new(spawn_app(&[]).await);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            body(app.post_signed("/sms", &sms_params("SMdup", "stop")).await).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(app.store.count_inbound_messages().await.unwrap(), 1);
    assert_eq!(app.store.opt_out_history(ME, THEM).await.unwrap().len(), 1);
}
