//! Which menu option a caller's speech names: a keyword said anywhere in it, or a key said alone.

use crate::templates::Menu;

const NUMBER_WORDS: [(&str, char); 10] = [
    ("zero", '0'),
    ("one", '1'),
    ("two", '2'),
    ("three", '3'),
    ("four", '4'),
    ("five", '5'),
    ("six", '6'),
    ("seven", '7'),
    ("eight", '8'),
    ("nine", '9'),
];

/// The key of the option `speech` chooses. A keyword matches case-insensitively on whole words
/// (so "sales" is not found in "wholesales"); a keyword in a script without spaces between
/// words (Chinese, Japanese) matches anywhere. A speech that is only a key ("2", "two") is that key.
pub fn match_speech(menu: &Menu, speech: &str) -> Option<char> {
    let lower = speech.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if let [only] = words.as_slice() {
        let key = NUMBER_WORDS
            .iter()
            .find(|(w, _)| w == only)
            .map(|(_, k)| *k)
            .or_else(|| {
                let mut c = only.chars();
                match (c.next(), c.next()) {
                    (Some(k), None) if k.is_ascii_digit() => Some(k),
                    _ => None,
                }
            });
        if let Some(k) = key.filter(|k| menu.options.contains_key(k)) {
            return Some(k);
        }
    }
    menu.keywords
        .iter()
        .find(|(keyword, _)| mentions(&words, &lower, keyword))
        .map(|(_, key)| *key)
}

fn mentions(words: &[&str], lower: &str, keyword: &str) -> bool {
    if !keyword.is_ascii() {
        return lower.contains(keyword);
    }
    let wanted: Vec<&str> = keyword
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    !wanted.is_empty() && words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::templates::Action;

    fn menu(keywords: &[(&str, char)]) -> Menu {
        let hangup = || Action::Hangup { say: None };
        let flow_text = crate::templates::Text::default();
        Menu {
            prompt: flow_text.clone(),
            invalid: flow_text,
            timeout: 5,
            options: BTreeMap::from([('1', hangup()), ('2', hangup()), ('9', hangup())]),
            input: "dtmf speech",
            hints: None,
            keywords: keywords
                .iter()
                .map(|(w, k)| ((*w).to_owned(), *k))
                .collect(),
        }
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let m = menu(&[("sales", '1'), ("customer service", '2'), ("中文", '9')]);
        assert_eq!(match_speech(&m, "Sales."), Some('1'));
        assert_eq!(
            match_speech(&m, "I'd like to talk to SALES please"),
            Some('1')
        );
        assert_eq!(match_speech(&m, "wholesales"), None);
        assert_eq!(match_speech(&m, "Customer service, please."), Some('2'));
        assert_eq!(match_speech(&m, "customer"), None);
        assert_eq!(match_speech(&m, "我要说中文"), Some('9'));
        assert_eq!(match_speech(&m, "something else"), None);
    }

    #[test]
    fn a_key_said_alone_is_that_key() {
        let m = menu(&[]);
        assert_eq!(match_speech(&m, "2."), Some('2'));
        assert_eq!(match_speech(&m, "Two"), Some('2'));
        assert_eq!(match_speech(&m, "nine"), Some('9'));
        // No option 3, and a number inside a sentence is not a key press.
        assert_eq!(match_speech(&m, "three"), None);
        assert_eq!(match_speech(&m, "I have 2 questions"), None);
    }
}
