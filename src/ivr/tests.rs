//! Exhaustive tests of the IVR steps on the shipped Acme menu and on edge states.

use std::path::Path;

use super::*;
use crate::templates::Templates;

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const SAY: &str = r#"<Say language="en-US" voice="Polly.Joanna">"#;
const PROMPT: &str = "Thanks for calling Acme. For sales, press 1. For support, press 2. To leave a message, press 3.";

fn flow() -> Flow {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    Templates::load_with_env(&dir, &|_| None).unwrap().voice
}

fn menu_xml(attempt: u32, base: &str) -> String {
    format!(
        r#"<Gather action="{base}/voice/menu-selection?menu=main&amp;attempt={attempt}&amp;lang=en" numDigits="1" timeout="5">{SAY}{PROMPT}</Say></Gather><Redirect method="POST">{base}/voice/incoming?menu=main&amp;attempt={}&amp;lang=en</Redirect>"#,
        attempt + 1
    )
}

fn voicemail_xml(lead: &str) -> String {
    format!(
        r##"{lead}{SAY}Please leave a message after the beep. Press the pound key when you are finished.</Say><Record action="/voice/recording?lang=en" finishOnKey="#" maxLength="120" method="POST" playBeep="true" />{SAY}We did not get a message. Goodbye.</Say><Hangup />"##
    )
}

fn ivr(flow: &Flow) -> Ivr<'_> {
    Ivr {
        flow,
        base_path: "",
    }
}

fn state(attempt: u32) -> CallState {
    CallState::new("main", attempt, "en")
}

#[test]
fn incoming_presents_the_menu_with_state_in_urls() {
    let f = flow();
    let xml = ivr(&f).incoming(&state(1)).to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", menu_xml(1, ""))
    );
}

#[test]
fn base_path_prefixes_every_url() {
    let f = flow();
    let xml = Ivr {
        flow: &f,
        base_path: "/hooks",
    }
    .incoming(&state(1))
    .to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", menu_xml(1, "/hooks"))
    );
}

#[test]
fn press_1_dials_sales_and_2_support() {
    let f = flow();
    let xml = ivr(&f).selection(&state(1), Some("1")).to_xml();
    assert_eq!(
        xml,
        format!(
            "{DECL}<Response>{SAY}Connecting you to sales.</Say><Dial>+14155550100</Dial></Response>"
        )
    );
    let xml = ivr(&f).selection(&state(2), Some("2")).to_xml();
    assert!(
        xml.contains("Connecting you to support.</Say><Dial>+14155550101</Dial>"),
        "{xml}"
    );
}

#[test]
fn press_3_records_voicemail() {
    let f = flow();
    let xml = ivr(&f).selection(&state(1), Some("3")).to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", voicemail_xml(""))
    );
}

#[test]
fn invalid_key_apologises_and_repeats_with_attempt_raised() {
    let f = flow();
    for bad in ["9", "*", "12", "x"] {
        let xml = ivr(&f).selection(&state(1), Some(bad)).to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<Response>{SAY}Sorry, that is not an option.</Say>{}</Response>",
                menu_xml(2, "")
            ),
            "{bad}"
        );
    }
}

#[test]
fn third_failure_runs_the_final_action() {
    let f = flow();
    let xml = ivr(&f).selection(&state(3), Some("9")).to_xml();
    let lead =
        format!("{SAY}Sorry, that is not an option.</Say>{SAY}We did not get a choice.</Say>");
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", voicemail_xml(&lead))
    );
}

#[test]
fn no_input_comes_back_raised_until_the_limit() {
    let f = flow();
    let xml = ivr(&f).incoming(&state(3)).to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", menu_xml(3, ""))
    );
    let xml = ivr(&f).incoming(&state(4)).to_xml();
    let lead = format!("{SAY}We did not get a choice.</Say>");
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", voicemail_xml(&lead))
    );
    // An empty Digits (only the finish key pressed) counts as no input.
    let xml = ivr(&f).selection(&state(1), Some("")).to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", menu_xml(2, ""))
    );
    assert_eq!(ivr(&f).selection(&state(1), None).to_xml(), xml);
}

#[test]
fn unknown_menu_restarts_at_start() {
    let f = flow();
    let xml = ivr(&f).incoming(&CallState::new("gone", 1, "en")).to_xml();
    assert_eq!(
        xml,
        format!("{DECL}<Response>{}</Response>", menu_xml(1, ""))
    );
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
        '4',
        Action::Menu {
            menu: "billing".into(),
            say: None,
        },
    );
    main.options.insert(
        '5',
        Action::Redirect {
            url: "/voice/incoming?menu=billing".into(),
        },
    );
    let i = Ivr {
        flow: &f,
        base_path: "/p",
    };
    let xml = i.selection(&state(2), Some("4")).to_xml();
    assert!(
        xml.contains("/p/voice/menu-selection?menu=billing&amp;attempt=1&amp;lang=en"),
        "{xml}"
    );
    let xml = i
        .selection(&CallState::new("billing", 1, "en"), Some("0"))
        .to_xml();
    assert_eq!(xml, format!("{DECL}<Response><Hangup /></Response>"));
    let xml = i.selection(&state(1), Some("5")).to_xml();
    assert!(
        xml.contains(r#"<Redirect method="POST">/p/voice/incoming?menu=billing</Redirect>"#),
        "{xml}"
    );
}

#[test]
fn recording_done_thanks_and_hangs_up() {
    let f = flow();
    let xml = ivr(&f).recording_done("en").to_xml();
    assert_eq!(
        xml,
        format!(
            "{DECL}<Response>{SAY}Thank you. Your message has been recorded. Goodbye.</Say><Hangup /></Response>"
        )
    );
}
