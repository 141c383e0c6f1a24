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
    fn refuses_with_the_number_named() {
        for bad in ["4155550100", "+1555123456", "+", "hello", "+999 123"] {
            let e = parse_e164(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
