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
    fn refuses_with_the_number_named() {
        for bad in ["4155550100", "+1555123456", "+", "hello", "+999 123"] {
            let e = parse_e164(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
