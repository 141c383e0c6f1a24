//! The phone menu as pure steps: (flow, call state, input) to the TwiML the caller hears next.

mod speech;

use crate::call_state::{CallState, DialState, Via};
use crate::templates::{Action, DialAction, Flow, Menu, Text};
use crate::twiml::{
    Dial, DialRecord, Gather, Hangup, Method, Number, Record, Redirect, Say, SpeechTimeout,
    VoiceResponse,
};

pub use speech::match_speech;

pub const INCOMING_PATH: &str = "/voice/incoming";
pub const MENU_SELECTION_PATH: &str = "/voice/menu-selection";
pub const DIAL_STATUS_PATH: &str = "/voice/dial-status";
pub const RECORDING_PATH: &str = "/voice/recording";
pub const TRANSCRIPTION_PATH: &str = "/voice/transcription";
pub const RECORDING_STATUS_PATH: &str = "/voice/recording-status";

/// The flow plus what a step needs to know of the request.
pub struct Ivr<'a> {
    pub flow: &'a Flow,
    /// The path prefix every URL we hand Twilio must carry (from `PUBLIC_URL`).
    pub base_path: &'a str,
    /// The caller's number (`From`), texted by an `sms` action when it is a phone number.
    pub caller: Option<&'a str>,
}

/// One step's answer: the TwiML, and the texts to send the caller once it is committed.
#[derive(Debug, Default)]
pub struct Step {
    pub response: VoiceResponse,
    pub texts: Vec<String>,
}

impl Step {
    pub fn to_xml(&self) -> String {
        self.response.to_xml()
    }

    fn push(&mut self, verb: impl Into<crate::twiml::VoiceVerb>) {
        self.response.push(verb);
    }
}

impl Ivr<'_> {
    /// A call's first request: closed outside business hours, else the start menu.
    pub fn arrive(&self, state: &CallState, now_ms: i64) -> Step {
        match &self.flow.hours {
            Some(h) if !h.hours.is_open(now_ms) => {
                let mut out = Step::default();
                self.perform(&mut out, &h.closed, state, Via::Closed);
                out
            }
            _ => self.incoming(state),
        }
    }

    /// A call coming back after no input (attempt raised): present the state's menu, or run
    /// the final action once the attempts are used up.
    pub fn incoming(&self, state: &CallState) -> Step {
        let mut out = Step::default();
        let state = self.known_menu(state);
        if state.attempt > self.flow.max_attempts {
            self.perform(&mut out, &self.flow.final_action, &state, Via::Final);
        } else {
            self.present(&mut out, &state);
        }
        out
    }

    /// The keys pressed or words spoken at a menu; neither is the no-input path.
    pub fn selection(&self, state: &CallState, digits: Option<&str>, speech: Option<&str>) -> Step {
        let state = self.known_menu(state);
        let digits = digits.map(str::trim).filter(|d| !d.is_empty());
        let speech = speech.map(str::trim).filter(|s| !s.is_empty());
        let menu = self.menu(&state);
        let key = match (digits, speech) {
            (None, None) => return self.incoming(&state.next_attempt()),
            (Some(d), _) => {
                let mut keys = d.chars();
                match (keys.next(), keys.next()) {
                    (Some(k), None) => Some(k),
                    _ => None,
                }
            }
            (None, Some(s)) => match_speech(menu, s),
        };
        let mut out = Step::default();
        match key.and_then(|k| menu.options.get(&k).map(|a| (k, a))) {
            Some((k, action)) => self.perform(&mut out, action, &state, Via::Option(k)),
            None => {
                out.push(self.say(&menu.invalid, &state.lang));
                let next = state.next_attempt();
                if next.attempt > self.flow.max_attempts {
                    self.perform(&mut out, &self.flow.final_action, &next, Via::Final);
                } else {
                    self.present(&mut out, &next);
                }
            }
        }
        out
    }

    /// A `<Dial>` ended with `status`: done when answered, else the next number of the hunt
    /// list, else the dial's fallback.
    pub fn dial_status(&self, state: &CallState, dial: DialState, status: &str) -> Step {
        let mut out = Step::default();
        let action = match dial.via {
            Via::Option(k) => self
                .flow
                .menus
                .get(&state.menu)
                .and_then(|m| m.options.get(&k)),
            Via::Final => Some(&self.flow.final_action),
            Via::Closed => self.flow.hours.as_ref().map(|h| &h.closed),
        };
        let Some(Action::Dial(d)) = action else {
            // The templates changed under a live call: start it over rather than drop it.
            tracing::warn!(menu = %state.menu, "dial state names no dial; restarting the call");
            return self.incoming(&CallState::new(&self.flow.start, 1, &state.lang));
        };
        match status {
            "completed" | "answered" => out.push(Hangup),
            _ => {
                let next = dial.hunt + 1;
                if !d.simultaneous && (next as usize) < d.numbers.len() {
                    let next = DialState { hunt: next, ..dial };
                    self.dial(&mut out, d, state, next);
                } else {
                    self.perform(&mut out, &d.fallback, state, dial.via);
                }
            }
        }
        out
    }

    /// After a voicemail recording: thank the caller, or for an empty one say goodbye.
    pub fn recording_done(&self, lang: &str, seconds: u32) -> Step {
        let vm = &self.flow.voicemail;
        let mut out = Step::default();
        let text = if seconds == 0 {
            &vm.no_message
        } else {
            &vm.thanks
        };
        out.push(self.say(text, lang));
        out.push(Hangup);
        out
    }

    /// When we cannot answer in time: an apology, then voicemail, so the caller is never cut off.
    pub fn apology(&self, lang: &str) -> VoiceResponse {
        let mut out = Step::default();
        out.push(self.speak("Sorry, we are having trouble right now.".to_owned(), lang));
        self.voicemail(&mut out, lang);
        out.response
    }

    /// A state naming a menu the templates no longer have (they were edited mid-call) restarts
    /// at the start menu rather than failing the caller.
    fn known_menu(&self, state: &CallState) -> CallState {
        if self.flow.menus.contains_key(&state.menu) {
            state.clone()
        } else {
            tracing::warn!(menu = %state.menu, "call state names an unknown menu; restarting at the start menu");
            CallState::new(self.flow.start.clone(), state.attempt, state.lang.clone())
        }
    }

    fn menu(&self, state: &CallState) -> &Menu {
        // known_menu() guarantees the name exists; the start menu is validated at load.
        self.flow
            .menus
            .get(&state.menu)
            .or_else(|| self.flow.menus.get(&self.flow.start))
            .unwrap_or_else(|| unreachable!("validated templates always have the start menu"))
    }

    fn url(&self, path: &str, state: &CallState) -> String {
        let mut url = String::with_capacity(self.base_path.len() + path.len() + 40);
        url.push_str(self.base_path);
        url.push_str(path);
        state.write_query(&mut url);
        url
    }

    fn say(&self, text: &Text, lang: &str) -> Say {
        self.speak(text.get(lang).to_owned(), lang)
    }

    fn speak(&self, text: String, lang: &str) -> Say {
        let mut say = Say::new(text);
        if let Some(l) = self.flow.language(lang) {
            say = say.language(l.say_language.clone());
            if let Some(v) = &l.voice {
                say = say.voice(v.clone());
            }
        }
        say
    }

    /// The menu prompt in a Gather; if the caller gives nothing, Gather falls through to the
    /// Redirect, which comes back to /voice/incoming with the attempt raised.
    fn present(&self, out: &mut Step, state: &CallState) {
        let menu = self.menu(state);
        let mut gather = Gather::new()
            .action(self.url(MENU_SELECTION_PATH, state))
            .num_digits(1)
            .timeout(menu.timeout);
        if menu.takes_speech() {
            gather = gather.input(menu.input).speech_timeout(SpeechTimeout::Auto);
            if let Some(l) = self.flow.language(&state.lang) {
                gather = gather.language(l.speech_language.clone());
            }
            if let Some(h) = &menu.hints {
                gather = gather.hints(h.clone());
            }
        }
        out.push(gather.say(self.say(&menu.prompt, &state.lang)));
        out.push(
            Redirect::new(self.url(INCOMING_PATH, &state.next_attempt())).method(Method::Post),
        );
    }

    fn perform(&self, out: &mut Step, action: &Action, state: &CallState, via: Via) {
        let lang = &state.lang;
        let say = |out: &mut Step, s: &Option<Text>, lang: &str| {
            if let Some(s) = s {
                out.push(self.say(s, lang));
            }
        };
        match action {
            Action::Dial(d) => {
                say(out, &d.say, lang);
                self.dial(out, d, state, DialState { via, hunt: 0 });
            }
            Action::Voicemail { say: s } => {
                say(out, s, lang);
                self.voicemail(out, lang);
            }
            Action::Menu { menu, say: s } => {
                say(out, s, lang);
                self.present(out, &CallState::new(menu.clone(), 1, lang.clone()));
            }
            Action::Hangup { say: s } => {
                say(out, s, lang);
                out.push(Hangup);
            }
            Action::Redirect { url } => {
                let url = if url.starts_with('/') {
                    format!("{}{url}", self.base_path)
                } else {
                    url.clone()
                };
                out.push(Redirect::new(url).method(Method::Post));
            }
            // Checked only here: the numbering plans cost a first caller 100 ms to load.
            Action::Sms { body, say: s }
                if self
                    .caller
                    .is_some_and(|c| crate::phone::parse_e164(c).is_ok()) =>
            {
                out.texts.push(body.get(lang).to_owned());
                say(out, s, lang);
                out.push(Hangup);
            }
            Action::Sms { .. } => {
                // A withheld or non-phone caller (client:, sip:) cannot be texted.
                let menu = self.menu(state);
                out.push(self.say(&menu.invalid, lang));
                self.present(out, &state.next_attempt());
            }
            Action::Language {
                language,
                menu,
                say: s,
            } => {
                let menu = menu.clone().unwrap_or_else(|| state.menu.clone());
                say(out, s, language);
                self.present(out, &CallState::new(menu, 1, language.clone()));
            }
        }
    }

    /// One number of a hunt list, or all of them at once; Twilio reports the outcome to
    /// /voice/dial-status with the state to pick up from.
    fn dial(&self, out: &mut Step, d: &DialAction, state: &CallState, at: DialState) {
        let mut action = self.url(DIAL_STATUS_PATH, state);
        at.write_query(&mut action);
        let mut dial = if d.simultaneous {
            d.numbers
                .iter()
                .fold(Dial::empty(), |dial, n| dial.number(Number::new(n.clone())))
        } else {
            let n = d.numbers.get(at.hunt as usize).or(d.numbers.last());
            Dial::new(n.cloned().unwrap_or_default())
        };
        dial = dial.action(action).method(Method::Post);
        if let Some(c) = &d.caller_id {
            dial = dial.caller_id(c.clone());
        }
        if let Some(t) = d.timeout {
            dial = dial.timeout(t);
        }
        if let Some(t) = d.time_limit {
            dial = dial.time_limit(t);
        }
        if d.record {
            dial = dial.record(DialRecord::RecordFromAnswer);
        }
        out.push(dial);
    }

    /// Prompt, Record (its action thanks the caller), and for an empty recording, which makes
    /// Twilio skip the action and run the next verb, a goodbye.
    fn voicemail(&self, out: &mut Step, lang: &str) {
        let vm = &self.flow.voicemail;
        out.push(self.say(&vm.prompt, lang));
        let with_lang = |path: &str| format!("{}{path}?lang={lang}", self.base_path);
        let mut record = Record::new()
            .action(with_lang(RECORDING_PATH))
            .method(Method::Post)
            .max_length(vm.max_length)
            .finish_on_key(vm.finish_on_key.clone())
            .play_beep(true)
            .recording_status_callback(format!("{}{RECORDING_STATUS_PATH}", self.base_path))
            .recording_status_callback_method(Method::Post);
        if vm.transcribe {
            record = record
                .transcribe(true)
                .transcribe_callback(with_lang(TRANSCRIPTION_PATH));
        }
        out.push(record);
        out.push(self.say(&vm.no_message, lang));
        out.push(Hangup);
    }
}

#[cfg(test)]
mod tests;
