//! Exhaustive tests of the IVR steps on the shipped Acme menu and on edge states.

use std::path::Path;

use super::*;
use crate::templates::Templates;

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const SAY: &str = r#"<Say language="en-US" voice="Polly.Joanna">"#;
const SAY_ZH: &str = r#"<Say language="zh-CN" voice="Polly.Zhiyu">"#;
/// Wednesday 2026-11-25, 10:00 in Los Angeles: open.
const OPEN: i64 = 1_795_629_600_000;
/// Sunday 2026-11-29, 10:00 in Los Angeles: closed.
const SUNDAY: i64 = 1_795_975_200_000;

fn flow() -> Flow {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    Templates::load_with_env(&dir, &|_| None).unwrap().voice
}

fn ivr(flow: &Flow) -> Ivr<'_> {
    Ivr {
        flow,
        base_path: "",
        caller: Some("+14155551234"),
    }
}

fn state(attempt: u32) -> CallState {
    CallState::new("main", attempt, "en")
}

fn dial_at(via: Via, hunt: u32) -> DialState {
    DialState { via, hunt }
}

/// The start of the menu's Gather and the Redirect after it, for `attempt`.
fn gather_urls(xml: &str, attempt: u32) {
    let gather = format!(
        r#"<Gather action="/voice/menu-selection?menu=main&amp;attempt={attempt}&amp;lang=en" hints="#
    );
    assert!(xml.contains(&gather), "{xml}");
    let redirect = format!(
        r#"<Redirect method="POST">/voice/incoming?menu=main&amp;attempt={}&amp;lang=en</Redirect>"#,
        attempt + 1
    );
    assert!(xml.ends_with(&format!("{redirect}</Response>")), "{xml}");
}

#[test]
fn incoming_presents_the_menu_listening_for_keys_and_speech() {
    let f = flow();
    let xml = ivr(&f).incoming(&state(1)).to_xml();
    gather_urls(&xml, 1);
    assert!(
        xml.contains(r#"input="dtmf speech" language="en-US" numDigits="1" speechTimeout="auto" timeout="5">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"hints="sales, 销售, support, help"#),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("{SAY}Thanks for calling Acme.")),
        "{xml}"
    );
}

#[test]
fn base_path_prefixes_every_url() {
    let f = flow();
    let i = Ivr {
        flow: &f,
        base_path: "/hooks",
        caller: Some("+14155551234"),
    };
    let xml = i.incoming(&state(1)).to_xml();
    assert!(
        xml.contains(r#"action="/hooks/voice/menu-selection?"#),
        "{xml}"
    );
    assert!(xml.contains(">/hooks/voice/incoming?"), "{xml}");
    let xml = i.selection(&state(1), Some("3"), None).to_xml();
    assert!(
        xml.contains(r#"action="/hooks/voice/recording?lang=en""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"transcribeCallback="/hooks/voice/transcription?lang=en""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"recordingStatusCallback="/hooks/voice/recording-status""#),
        "{xml}"
    );
}

#[test]
fn arrival_outside_hours_runs_the_closed_action() {
    let f = flow();
    let open = ivr(&f).arrive(&state(1), OPEN).to_xml();
    assert_eq!(open, ivr(&f).incoming(&state(1)).to_xml());
    let closed = ivr(&f).arrive(&state(1), SUNDAY).to_xml();
    assert!(
        closed.starts_with(&format!("{DECL}<Response>{SAY}Acme is closed now.")),
        "{closed}"
    );
    assert!(closed.contains("<Record "), "{closed}");
    // Thanksgiving is a Thursday, but listed as a holiday.
    let thanksgiving = OPEN + 24 * 3600 * 1000;
    assert!(
        ivr(&f)
            .arrive(&state(1), thanksgiving)
            .to_xml()
            .contains("closed now")
    );
}

#[test]
fn sales_is_a_hunt_list_with_a_dial_action() {
    let f = flow();
    let xml = ivr(&f).selection(&state(1), Some("1"), None).to_xml();
    assert_eq!(
        xml,
        format!(
            r#"{DECL}<Response>{SAY}Connecting you to sales.</Say><Dial action="/voice/dial-status?menu=main&amp;attempt=1&amp;lang=en&amp;via=1&amp;hunt=0" method="POST" timeout="20">+14155550100</Dial></Response>"#
        )
    );
    // No answer: the second number, without the announcement.
    let xml = ivr(&f)
        .dial_status(&state(1), dial_at(Via::Option('1'), 0), "no-answer")
        .to_xml();
    assert_eq!(
        xml,
        format!(
            r#"{DECL}<Response><Dial action="/voice/dial-status?menu=main&amp;attempt=1&amp;lang=en&amp;via=1&amp;hunt=1" method="POST" timeout="20">+14155550110</Dial></Response>"#
        )
    );
    // The list is used up: the fallback, voicemail.
    for status in ["no-answer", "busy", "failed", "canceled"] {
        let xml = ivr(&f)
            .dial_status(&state(1), dial_at(Via::Option('1'), 1), status)
            .to_xml();
        assert!(
            xml.contains("Our sales team cannot take your call right now.</Say>"),
            "{status}: {xml}"
        );
        assert!(xml.contains("<Record "), "{xml}");
    }
    let done = ivr(&f)
        .dial_status(&state(1), dial_at(Via::Option('1'), 0), "completed")
        .to_xml();
    assert_eq!(done, format!("{DECL}<Response><Hangup /></Response>"));
}

#[test]
fn support_rings_both_numbers_at_once() {
    let f = flow();
    let xml = ivr(&f).selection(&state(1), Some("2"), None).to_xml();
    assert!(
        xml.contains(r#"via=2&amp;hunt=0" method="POST" timeout="25"><Number>+14155550101</Number><Number>+14155550102</Number></Dial>"#),
        "{xml}"
    );
    // Nobody answered: no second round, straight to the fallback.
    let xml = ivr(&f)
        .dial_status(&state(1), dial_at(Via::Option('2'), 0), "no-answer")
        .to_xml();
    assert!(!xml.contains("<Dial"), "{xml}");
    assert!(xml.contains("<Record "), "{xml}");
}

#[test]
fn dial_attributes_come_from_the_template() {
    let mut f = flow();
    let Some(Action::Dial(d)) = f.menus.get_mut("main").unwrap().options.get_mut(&'1') else {
        panic!("option 1 is a dial");
    };
    d.caller_id = Some("+15005550006".into());
    d.time_limit = Some(600);
    d.record = true;
    let xml = ivr(&f).selection(&state(1), Some("1"), None).to_xml();
    assert!(
        xml.contains(r#"callerId="+15005550006" method="POST" record="record-from-answer" timeLimit="600" timeout="20">"#),
        "{xml}"
    );
}

#[test]
fn voicemail_records_with_transcription_and_callbacks() {
    let f = flow();
    let xml = ivr(&f).selection(&state(1), Some("3"), None).to_xml();
    assert_eq!(
        xml,
        format!(
            r##"{DECL}<Response>{SAY}Please leave a message after the beep. Press the pound key when you are finished.</Say><Record action="/voice/recording?lang=en" finishOnKey="#" maxLength="120" method="POST" playBeep="true" recordingStatusCallback="/voice/recording-status" recordingStatusCallbackMethod="POST" transcribe="true" transcribeCallback="/voice/transcription?lang=en" />{SAY}We did not get a message. Goodbye.</Say><Hangup /></Response>"##
        )
    );
}

#[test]
fn speech_chooses_by_keyword_and_silence_is_no_input() {
    let f = flow();
    let by_key = ivr(&f).selection(&state(1), Some("2"), None).to_xml();
    let said = ivr(&f)
        .selection(&state(1), None, Some("Support, please."))
        .to_xml();
    assert_eq!(said, by_key);
    let unknown = ivr(&f)
        .selection(&state(1), None, Some("the weather"))
        .to_xml();
    assert!(
        unknown.contains("Sorry, that is not an option."),
        "{unknown}"
    );
    gather_urls(&unknown, 2);
    for (digits, speech) in [(None, None), (Some(""), Some("  ")), (Some(""), None)] {
        let xml = ivr(&f).selection(&state(1), digits, speech).to_xml();
        assert!(!xml.contains("not an option"), "{xml}");
        gather_urls(&xml, 2);
    }
}

#[test]
fn language_switch_carries_lang_in_the_url() {
    let f = flow();
    let xml = ivr(&f).selection(&state(2), Some("9"), None).to_xml();
    assert!(
        xml.contains(r#"action="/voice/menu-selection?menu=main&amp;attempt=1&amp;lang=zh-CN""#),
        "{xml}"
    );
    assert!(xml.contains(r#"language="cmn-Hans-CN""#), "{xml}");
    assert!(xml.contains(&format!("{SAY_ZH}感谢您致电 Acme。")), "{xml}");
    let zh = CallState::new("main", 1, "zh-CN");
    let xml = ivr(&f).selection(&zh, None, Some("销售")).to_xml();
    assert!(
        xml.contains(&format!("{SAY_ZH}正在为您转接销售部。</Say>")),
        "{xml}"
    );
    assert!(xml.contains("lang=zh-CN&amp;via=1&amp;hunt=0"), "{xml}");
    // And back to English.
    let xml = ivr(&f).selection(&zh, Some("8"), None).to_xml();
    assert!(
        xml.contains(&format!("{SAY}Thanks for calling Acme.")),
        "{xml}"
    );
}

#[test]
fn text_me_queues_a_text_and_confirms() {
    let f = flow();
    let step = ivr(&f).selection(&state(1), Some("4"), None);
    assert_eq!(
        step.texts,
        ["Acme, 1 Market St, San Francisco, CA 94105. Map: https://acme.example/map"]
    );
    assert_eq!(
        step.to_xml(),
        format!(
            "{DECL}<Response>{SAY}We have sent our address to your phone. Goodbye.</Say><Hangup /></Response>"
        )
    );
    let zh = ivr(&f).selection(&CallState::new("main", 1, "zh-CN"), Some("4"), None);
    assert!(zh.texts[0].starts_with("Acme 地址"), "{:?}", zh.texts);
    // A caller we cannot text hears the menu again instead.
    let i = Ivr {
        caller: Some("client:alice"),
        ..ivr(&f)
    };
    let step = i.selection(&state(1), Some("4"), None);
    assert!(step.texts.is_empty());
    gather_urls(&step.to_xml(), 2);
}

#[test]
fn invalid_key_apologises_and_repeats_until_the_final_action() {
    let f = flow();
    for bad in ["7", "*", "12", "x"] {
        let xml = ivr(&f).selection(&state(1), Some(bad), None).to_xml();
        assert!(
            xml.starts_with(&format!(
                "{DECL}<Response>{SAY}Sorry, that is not an option.</Say><Gather"
            )),
            "{bad}: {xml}"
        );
        gather_urls(&xml, 2);
    }
    let xml = ivr(&f).selection(&state(3), Some("7"), None).to_xml();
    assert!(
        xml.contains(&format!(
            "{SAY}Sorry, that is not an option.</Say>{SAY}We did not get a choice.</Say>{SAY}Please leave a message"
        )),
        "{xml}"
    );
    let xml = ivr(&f).incoming(&state(4)).to_xml();
    assert!(
        xml.starts_with(&format!(
            "{DECL}<Response>{SAY}We did not get a choice.</Say>"
        )),
        "{xml}"
    );
}

#[test]
fn unknown_menu_restarts_at_start() {
    let f = flow();
    let xml = ivr(&f).incoming(&CallState::new("gone", 1, "en")).to_xml();
    assert_eq!(xml, ivr(&f).incoming(&state(1)).to_xml());
    // A dial state that names no dial (templates edited mid-call) starts over too.
    let xml = ivr(&f)
        .dial_status(&state(1), dial_at(Via::Option('3'), 0), "no-answer")
        .to_xml();
    assert_eq!(xml, ivr(&f).incoming(&state(1)).to_xml());
}

#[test]
fn submenu_hangup_and_redirect_actions() {
    let mut f = flow();
    let mut billing = f.menus["main"].clone();
    billing.options.clear();
    billing.options.insert('0', Action::Hangup { say: None });
    f.menus.insert("billing".into(), billing);
    let main = f.menus.get_mut("main").unwrap();
    main.options.insert(
        '5',
        Action::Menu {
            menu: "billing".into(),
            say: None,
        },
    );
    main.options.insert(
        '6',
        Action::Redirect {
            url: "/voice/incoming?menu=billing".into(),
        },
    );
    let i = Ivr {
        flow: &f,
        base_path: "/p",
        caller: Some("+14155551234"),
    };
    let xml = i.selection(&state(2), Some("5"), None).to_xml();
    assert!(
        xml.contains("/p/voice/menu-selection?menu=billing&amp;attempt=1&amp;lang=en"),
        "{xml}"
    );
    let xml = i
        .selection(&CallState::new("billing", 1, "en"), Some("0"), None)
        .to_xml();
    assert_eq!(xml, format!("{DECL}<Response><Hangup /></Response>"));
    let xml = i.selection(&state(1), Some("6"), None).to_xml();
    assert!(
        xml.contains(r#"<Redirect method="POST">/p/voice/incoming?menu=billing</Redirect>"#),
        "{xml}"
    );
}

#[test]
fn recording_done_thanks_or_says_goodbye_when_empty() {
    let f = flow();
    let xml = ivr(&f).recording_done("en", 14).to_xml();
    assert_eq!(
        xml,
        format!(
            "{DECL}<Response>{SAY}Thank you. Your message has been recorded. Goodbye.</Say><Hangup /></Response>"
        )
    );
    let xml = ivr(&f).recording_done("zh-CN", 0).to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{SAY_ZH}我们没有收到留言。再见。</Say><Hangup /></Response>")
    );
}
