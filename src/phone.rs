//! Phone numbers: parsing and E.164 normalisation with the `phonenumber` crate.

use phonenumber::Mode;

/// A number that is not a valid phone number, named in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a valid phone number: {reason}")]
pub struct PhoneError {
    pub input: String,
    pub reason: String,
}

/// Parses an international number (with a leading `+`; spaces, dots, dashes and brackets allowed)
/// and returns it in E.164 form, e.g. "+1 (415) 555-0100" gives "+14155550100".
pub fn parse_e164(input: &str) -> Result<String, PhoneError> {
    let err = |reason: &str| PhoneError {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = input.trim();
    if !trimmed.starts_with('+') {
        return Err(err(
            "expected E.164 form with a country code, e.g. +14155550100",
        ));
    }
    let parsed = phonenumber::parse(None, trimmed).map_err(|e| err(&e.to_string()))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(err("no such number in its country's numbering plan"));
    }
    Ok(parsed.format().mode(Mode::E164).to_string())
}

/// The country calling codes in `phonenumber`'s metadata (a test keeps the two equal).
const COUNTRY_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211,
    212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
    254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298,
    299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377,
    378, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506,
    507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676,
    677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808, 850, 852,
    853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966, 967,
    968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 992, 993, 994, 995, 996, 998,
];

/// Checks the E.164 form (a `+`, a known country calling code, 8 to 15 digits; separators
/// allowed) and normalises it, without `phonenumber`'s numbering plans: loading those takes
/// about 100 ms and 7 MB, which a server start that only reads its templates should not pay.
/// `parse_e164` is the full check; `switchboard check` runs it.
pub fn check_e164_form(input: &str) -> Result<String, PhoneError> {
    let err = |reason: &str| PhoneError {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = input.trim();
    let Some(rest) = trimmed.strip_prefix('+') else {
        return Err(err(
            "expected E.164 form with a country code, e.g. +14155550100",
        ));
    };
    let mut digits = String::with_capacity(16);
    digits.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(err("only digits may follow the +")),
        }
    }
    let n = digits.len() - 1;
    if !(8..=15).contains(&n) {
        return Err(err(&format!("{n} digits; E.164 numbers have 8 to 15")));
    }
    // Country codes never start with 0, so "+01..." must not pass as code 1.
    let known = !digits[1..].starts_with('0')
        && (1..=3).any(|len| {
            digits[1..=len]
                .parse::<u16>()
                .is_ok_and(|code| COUNTRY_CODES.contains(&code))
        });
    if !known {
        return Err(err("no such country calling code"));
    }
    Ok(digits)
}

/// Normalises a recipient or sender: an E.164 number, a national number in `default_region`
/// (e.g. `US`), or either behind a `whatsapp:` prefix, which is kept.
pub fn parse_address(input: &str, default_region: Option<&str>) -> Result<String, PhoneError> {
    let trimmed = input.trim();
    if let Some(rest) = trimmed.strip_prefix("whatsapp:") {
        return parse_address(rest, default_region)
            .map(|n| format!("whatsapp:{n}"))
            .map_err(|e| PhoneError {
                input: input.to_owned(),
                reason: e.reason,
            });
    }
    if trimmed.starts_with('+') {
        return parse_e164(trimmed);
    }
    let err = |reason: &str| PhoneError {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(region) = default_region else {
        return Err(err(
            "no country code: write it as +<country><number>, or set DEFAULT_REGION",
        ));
    };
    let id = region
        .parse::<phonenumber::country::Id>()
        .map_err(|_| err("DEFAULT_REGION is not a region code"))?;
    let parsed = phonenumber::parse(Some(id), trimmed).map_err(|e| err(&e.to_string()))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(err("no such number in its country's numbering plan"));
    }
    Ok(parsed.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(parse_e164("+1 (415) 555-0100").unwrap(), "+14155550100");
        assert_eq!(parse_e164(" +14155550100 ").unwrap(), "+14155550100");
        assert_eq!(parse_e164("+44 20 7946 0958").unwrap(), "+442079460958");
    }

    #[test]
    fn addresses_with_region_and_whatsapp() {
        assert_eq!(
            parse_address("(415) 555-0100", Some("US")).unwrap(),
            "+14155550100"
        );
        assert_eq!(
            parse_address("whatsapp:+1 415 555 0100", None).unwrap(),
            "whatsapp:+14155550100"
        );
        assert!(
            parse_address("4155550100", None)
                .unwrap_err()
                .to_string()
                .contains("DEFAULT_REGION")
        );
        assert!(
            parse_address("whatsapp:12", Some("US"))
                .unwrap_err()
                .to_string()
                .contains("whatsapp:12")
        );
    }

    #[test]
    fn country_codes_match_the_metadata() {
        let known: Vec<u16> = (1u16..=999)
            .filter(|c| phonenumber::metadata::DATABASE.by_code(c).is_some())
            .collect();
        assert_eq!(known, COUNTRY_CODES);
    }

    #[test]
    fn form_check_agrees_with_the_full_check_on_form() {
        for ok in [
            "+14155550100",
            "+1 (415) 555-0100",
            "+442071838750",
            "+8613800138000",
        ] {
            assert_eq!(check_e164_form(ok), parse_e164(ok), "{ok}");
        }
        for (bad, needle) in [
            ("555-0100", "expected E.164 form"),
            ("+1415x550100", "only digits"),
            ("+1415", "4 digits"),
            ("+0123456789", "country calling code"),
            ("+2101234567", "country calling code"),
        ] {
            let e = check_e164_form(bad).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn refuses_with_the_number_named() {
        for bad in ["4155550100", "+1555123456", "+", "hello", "+999 123"] {
            let e = parse_e164(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
