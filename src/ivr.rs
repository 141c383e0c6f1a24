//! The phone menu as pure steps: (flow, call state, input) to the TwiML the caller hears next.

use crate::call_state::CallState;
use crate::templates::{Action, Flow, Menu, Text};
use crate::twiml::{Dial, Gather, Hangup, Method, Record, Redirect, Say, VoiceResponse};

pub const INCOMING_PATH: &str = "/voice/incoming";
pub const MENU_SELECTION_PATH: &str = "/voice/menu-selection";
pub const RECORDING_PATH: &str = "/voice/recording";

/// The flow plus the path prefix every URL we hand Twilio must carry (from `PUBLIC_URL`).
pub struct Ivr<'a> {
    pub flow: &'a Flow,
    pub base_path: &'a str,
}

impl Ivr<'_> {
    /// A call arriving (or coming back after no input): present the state's menu, or run the
    /// final action once the attempts are used up.
    pub fn incoming(&self, state: &CallState) -> VoiceResponse {
        let mut r = VoiceResponse::new();
        let state = self.known_menu(state);
        if state.attempt > self.flow.max_attempts {
            self.perform(&mut r, &self.flow.final_action, &state);
        } else {
            self.present(&mut r, &state);
        }
        r
    }

    /// The keys a caller pressed at a menu.
    pub fn selection(&self, state: &CallState, digits: Option<&str>) -> VoiceResponse {
        let mut r = VoiceResponse::new();
        let state = self.known_menu(state);
        let digits = digits.map(str::trim).filter(|d| !d.is_empty());
        let Some(digits) = digits else {
            // Twilio posts an empty Digits when the caller presses only the finish key.
            return self.incoming(&state.next_attempt());
        };
        let menu = self.menu(&state);
        let mut keys = digits.chars();
        let choice = match (keys.next(), keys.next()) {
            (Some(k), None) => menu.options.get(&k),
            _ => None,
        };
        match choice {
            Some(action) => self.perform(&mut r, action, &state),
            None => {
                r.push(self.say(&menu.invalid, &state.lang));
                let next = state.next_attempt();
                if next.attempt > self.flow.max_attempts {
                    self.perform(&mut r, &self.flow.final_action, &next);
                } else {
                    self.present(&mut r, &next);
                }
            }
        }
        r
    }

    /// After a voicemail recording: thank the caller and hang up.
    pub fn recording_done(&self, lang: &str) -> VoiceResponse {
        let mut r = VoiceResponse::new();
        r.push(self.say(&self.flow.voicemail.thanks, lang));
        r.push(Hangup);
        r
    }

    /// When we cannot answer in time: an apology, then voicemail, so the caller is never cut off.
    pub fn apology(&self, lang: &str) -> VoiceResponse {
        let mut r = VoiceResponse::new();
        let mut say = Say::new("Sorry, we are having trouble right now.");
        if let Some(l) = self.flow.language(lang) {
            say = say.language(l.say_language.clone());
            if let Some(v) = &l.voice {
                say = say.voice(v.clone());
            }
        }
        r.push(say);
        self.voicemail(&mut r, lang);
        r
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
        let mut say = Say::new(text.get(lang).to_owned());
        if let Some(l) = self.flow.language(lang) {
            say = say.language(l.say_language.clone());
            if let Some(v) = &l.voice {
                say = say.voice(v.clone());
            }
        }
        say
    }

    /// The menu prompt in a Gather; if the caller presses nothing, Gather falls through to the
    /// Redirect, which comes back to /voice/incoming with the attempt raised.
    fn present(&self, r: &mut VoiceResponse, state: &CallState) {
        let menu = self.menu(state);
        let gather = Gather::new()
            .action(self.url(MENU_SELECTION_PATH, state))
            .num_digits(1)
            .timeout(menu.timeout)
            .say(self.say(&menu.prompt, &state.lang));
        r.push(gather);
        r.push(Redirect::new(self.url(INCOMING_PATH, &state.next_attempt())).method(Method::Post));
    }

    fn perform(&self, r: &mut VoiceResponse, action: &Action, state: &CallState) {
        let lang = &state.lang;
        match action {
            Action::Dial { number, say } => {
                if let Some(s) = say {
                    r.push(self.say(s, lang));
                }
                r.push(Dial::new(number.clone()));
            }
            Action::Voicemail { say } => {
                if let Some(s) = say {
                    r.push(self.say(s, lang));
                }
                self.voicemail(r, lang);
            }
            Action::Menu { menu, say } => {
                if let Some(s) = say {
                    r.push(self.say(s, lang));
                }
                self.present(r, &CallState::new(menu.clone(), 1, lang.clone()));
            }
            Action::Hangup { say } => {
                if let Some(s) = say {
                    r.push(self.say(s, lang));
                }
                r.push(Hangup);
            }
            Action::Redirect { url } => {
                let url = if url.starts_with('/') {
                    format!("{}{url}", self.base_path)
                } else {
                    url.clone()
                };
                r.push(Redirect::new(url).method(Method::Post));
            }
        }
    }

    /// Prompt, Record (its action thanks the caller), and for an empty recording, which makes
    /// Twilio skip the action and run the next verb, a goodbye.
    fn voicemail(&self, r: &mut VoiceResponse, lang: &str) {
        let vm = &self.flow.voicemail;
        r.push(self.say(&vm.prompt, lang));
        let mut action = format!("{}{RECORDING_PATH}", self.base_path);
        action.push_str("?lang=");
        action.push_str(lang);
        r.push(
            Record::new()
                .action(action)
                .method(Method::Post)
                .max_length(vm.max_length)
                .finish_on_key(vm.finish_on_key.clone())
                .play_beep(true),
        );
        r.push(self.say(&vm.no_message, lang));
        r.push(Hangup);
    }
}

#[cfg(test)]
mod tests;
