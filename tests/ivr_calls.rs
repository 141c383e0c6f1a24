//! Whole calls through the shipped Acme menu, driven by the simulator against the real app:
//! every destination (sales, support, voicemail with transcription, no-answer fallback, text-me,
//! a language switch, after hours) and what each leaves in the store.

mod common;

use secrecy::SecretString;
use switchboard::simulate::{CallScript, DialStatus, End, Input, Target, simulate_call};

use common::*;

const CALLER: &str = "+14155551234";
const OUR_NUMBER: &str = "+14155550000";
const STAFF: &str = "+14155550199";
const PROMPT_EN: &str = "Thanks for calling Acme. For sales, press 1 or say sales.";
const THANKS: &str = "Thank you. Your message has been recorded. Goodbye.";

fn target(app: &TestApp) -> Target {
    Target::new(app.url(""), SecretString::from(TOKEN))
}

fn call(inputs: Vec<Input>, dial: Vec<DialStatus>) -> CallScript {
    CallScript {
        from: CALLER.into(),
        to: OUR_NUMBER.into(),
        inputs,
        dial_statuses: dial,
        ..CallScript::default()
    }
}

fn press(keys: &str) -> Input {
    Input::Press(keys.to_owned())
}

fn say(words: &str) -> Input {
    Input::Say(words.to_owned())
}

#[tokio::test]
async fn sales_answers_and_the_call_ends() {
    let app = spawn_app(&[]).await;
    let t = simulate_call(&target(&app), &call(vec![press("1")], vec![]))
        .await
        .unwrap();
    assert!(t.heard()[0].starts_with(PROMPT_EN), "{t}");
    assert_eq!(t.heard()[1], "Connecting you to sales.");
    assert_eq!(
        t.dialled(),
        [(vec!["+14155550100".to_owned()], "completed".to_owned())]
    );
    assert_eq!(
        t.requests().last(),
        Some(&"/voice/dial-status?menu=main&attempt=1&lang=en&via=1&hunt=0")
    );
    assert_eq!(t.ended(), &End::HungUp);
}

#[tokio::test]
async fn no_answer_hunts_then_falls_back_to_voicemail() {
    let app = spawn_app(&[]).await;
    let script = call(vec![press("1")], vec![DialStatus::NoAnswer]);
    let t = simulate_call(&target(&app), &script).await.unwrap();
    assert_eq!(
        t.dialled(),
        [
            (vec!["+14155550100".to_owned()], "no-answer".to_owned()),
            (vec!["+14155550110".to_owned()], "no-answer".to_owned()),
        ],
        "{t}"
    );
    assert!(
        t.heard()
            .contains(&"Our sales team cannot take your call right now."),
        "{t}"
    );
    assert_eq!(t.recordings(), [12]);
    assert_eq!(t.heard().last(), Some(&THANKS));
    // The second number answering ends the hunt there.
    let script = call(
        vec![press("1")],
        vec![DialStatus::Busy, DialStatus::Completed],
    );
    let t = simulate_call(&target(&app), &script).await.unwrap();
    assert_eq!(t.dialled().len(), 2);
    assert!(t.recordings().is_empty(), "{t}");
}

#[tokio::test]
async fn support_by_speech_rings_both_numbers_at_once() {
    let app = spawn_app(&[]).await;
    let script = call(vec![say("Support, please.")], vec![DialStatus::Failed]);
    let t = simulate_call(&target(&app), &script).await.unwrap();
    assert_eq!(t.heard()[1], "Connecting you to support.", "{t}");
    assert_eq!(
        t.dialled(),
        [(
            vec!["+14155550101".to_owned(), "+14155550102".to_owned()],
            "failed".to_owned()
        )]
    );
    // Nobody answered: the default fallback, voicemail.
    assert_eq!(t.recordings(), [12]);
}

#[tokio::test]
async fn voicemail_is_stored_with_its_transcription_and_staff_are_texted() {
    let app = spawn_app(&[("STAFF_PHONE", STAFF)]).await;
    let mut script = call(vec![press("3")], vec![]);
    script.record_seconds = 31;
    script.transcription = "Please call me back about my order.".into();
    let t = simulate_call(&target(&app), &script).await.unwrap();
    assert_eq!(t.heard().last(), Some(&THANKS));
    assert_eq!(t.callbacks().len(), 2, "{t}");

    let vms = app.store.recent_voicemails(10).await.unwrap();
    assert_eq!(vms.len(), 1, "{vms:?}");
    let vm = &vms[0];
    assert_eq!(vm.from.as_deref(), Some(CALLER));
    assert_eq!(vm.to.as_deref(), Some(OUR_NUMBER));
    assert_eq!(vm.duration, Some(31));
    assert_eq!(vm.recording_status.as_deref(), Some("completed"));
    assert_eq!(
        vm.transcription_text.as_deref(),
        Some("Please call me back about my order.")
    );
    assert_eq!(vm.transcription_status.as_deref(), Some("completed"));
    assert!(vm.recording_url.is_some());

    let mut texts: Vec<String> = app
        .store
        .outbox_to(STAFF)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            assert_eq!(r.from.as_deref(), Some(OUR_NUMBER));
            r.body.unwrap_or_default()
        })
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            format!(
                "New voicemail from {CALLER} (31 s). The transcription follows when Twilio has it."
            ),
            format!("Voicemail from {CALLER}: \"Please call me back about my order.\""),
        ]
    );
}

#[tokio::test]
async fn no_staff_number_means_no_notification_and_an_empty_recording_says_goodbye() {
    let app = spawn_app(&[]).await;
    let mut script = call(vec![press("3")], vec![]);
    script.record_seconds = 0;
    let t = simulate_call(&target(&app), &script).await.unwrap();
    assert_eq!(
        t.heard().last(),
        Some(&"We did not get a message. Goodbye.")
    );
    let script = call(vec![press("3")], vec![]);
    simulate_call(&target(&app), &script).await.unwrap();
    assert_eq!(app.store.outbox_pending().await.unwrap(), 0);
}

#[tokio::test]
async fn text_me_queues_one_text_to_the_caller() {
    let app = spawn_app(&[]).await;
    let t = simulate_call(&target(&app), &call(vec![press("4")], vec![]))
        .await
        .unwrap();
    assert_eq!(
        t.heard().last(),
        Some(&"We have sent our address to your phone. Goodbye.")
    );
    let rows = app.store.outbox_to(CALLER).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].from.as_deref(), Some(OUR_NUMBER));
    assert_eq!(rows[0].status, "queued");
    assert!(
        rows[0]
            .body
            .as_deref()
            .is_some_and(|b| b.starts_with("Acme, 1 Market St")),
        "{rows:?}"
    );
    // Twilio's retry of the same menu request is answered again without a second text.
    let path = "/voice/menu-selection?menu=main&attempt=1&lang=en";
    let params = voice_params(&[("Digits", "4"), ("From", CALLER), ("To", OUR_NUMBER)]);
    let first = app.post_signed(path, &params).await.text().await.unwrap();
    let again = app.post_signed(path, &params).await.text().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(app.store.outbox_to(CALLER).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_language_switch_speaks_and_listens_in_chinese() {
    let app = spawn_app(&[]).await;
    let script = call(vec![press("9"), say("销售")], vec![]);
    let t = simulate_call(&target(&app), &script).await.unwrap();
    assert!(t.heard()[1].starts_with("感谢您致电 Acme。"), "{t}");
    assert_eq!(t.heard()[2], "正在为您转接销售部。");
    assert!(
        t.requests()
            .iter()
            .any(|r| r.ends_with("lang=zh-CN&via=1&hunt=0")),
        "{t}"
    );
    assert!(t.to_string().contains("[zh-CN, Polly.Zhiyu]"), "{t}");
    assert_eq!(t.dialled()[0].0, ["+14155550100"]);
}

#[tokio::test]
async fn after_hours_callers_hear_closed_then_voicemail() {
    let app = spawn_app(&[("SWITCHBOARD_CLOCK", CLOSED_HOURS)]).await;
    let t = simulate_call(&target(&app), &call(vec![], vec![]))
        .await
        .unwrap();
    assert!(t.heard()[0].starts_with("Acme is closed now."), "{t}");
    assert!(!t.heard().iter().any(|h| h.starts_with(PROMPT_EN)), "{t}");
    assert_eq!(t.recordings(), [12]);
    assert_eq!(t.heard().last(), Some(&THANKS));
}

#[tokio::test]
async fn no_choice_walks_the_attempts_to_the_final_action() {
    let app = spawn_app(&[]).await;
    let script = call(vec![say("the weather"), press("7")], vec![]);
    let t = simulate_call(&target(&app), &script).await.unwrap();
    let heard = t.heard();
    assert_eq!(
        heard.iter().filter(|h| h.starts_with(PROMPT_EN)).count(),
        3,
        "{t}"
    );
    assert_eq!(
        heard
            .iter()
            .filter(|h| **h == "Sorry, that is not an option.")
            .count(),
        2
    );
    assert!(heard.contains(&"We did not get a choice."), "{t}");
    assert_eq!(heard.last(), Some(&THANKS));
}
