//! `switchboard segments`: how Twilio will encode and split a message body, before it is sent.

use crate::segments::{Segmentation, check_body_length, segment};

#[derive(Debug, clap::Args)]
pub struct SegmentsArgs {
    /// The message text
    // A body may well start with '-' ("-- Ana"); `--` is not something users think to type.
    #[arg(allow_hyphen_values = true)]
    text: String,
    /// Print one JSON object instead of the human-readable summary
    #[arg(long)]
    json: bool,
}

/// Refuses what Twilio would refuse (an empty or over-long body) rather than price it.
pub fn run(args: &SegmentsArgs) -> Result<(), String> {
    check_body_length(&args.text)?;
    let s = segment(&args.text);
    if args.json {
        let json = serde_json::to_string(&s).map_err(|e| format!("cannot write JSON: {e}"))?;
        println!("{json}");
    } else {
        print!("{}", format_human(&s));
    }
    Ok(())
}

pub fn format_human(s: &Segmentation) -> String {
    let per_segment: Vec<String> = s.units_per_segment.iter().map(|u| u.to_string()).collect();
    let mut out = format!(
        "encoding:   {}\nsegments:   {}\ncharacters: {}\nper segment: {}\n",
        s.encoding,
        s.segments,
        s.characters,
        per_segment.join(", ")
    );
    if !s.non_gsm.is_empty() {
        let culprits: Vec<String> = s.non_gsm.iter().map(|&c| visible(c)).collect();
        out.push_str(&format!("forced UCS-2 by: {}\n", culprits.join(" ")));
    }
    out
}

/// The usual culprits pasted from word processors (no-break space, tab, zero-width joiner,
/// variation selector, combining accent) print as nothing, so they are named by code point.
fn visible(c: char) -> String {
    let invisible = c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{300}'..='\u{36f}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{206f}')
        || matches!(c, '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{e0000}'..='\u{e007f}');
    if invisible {
        format!("U+{:04X}", u32::from(c))
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_output_for_ucs2() {
        let s = segment(&format!("“{}”", "a".repeat(69)));
        assert_eq!(
            format_human(&s),
            "encoding:   UCS-2\nsegments:   2\ncharacters: 71\nper segment: 67, 4\n\
             forced UCS-2 by: “ ”\n"
        );
    }

    #[test]
    fn human_output_for_gsm7_has_no_culprit_line() {
        assert_eq!(
            format_human(&segment("Hello World")),
            "encoding:   GSM-7\nsegments:   1\ncharacters: 11\nper segment: 11\n"
        );
    }

    #[test]
    fn invisible_culprits_are_named_by_code_point() {
        let out = format_human(&segment("a\u{a0}b\tc\u{200d}"));
        assert!(
            out.ends_with("forced UCS-2 by: U+00A0 U+0009 U+200D\n"),
            "{out}"
        );
    }

    #[test]
    fn json_output() {
        let s = segment(&format!("“{}”", "a".repeat(69)));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"encoding":"UCS-2","segments":2,"characters":71,"units_per_segment":[67,4],"non_gsm":["“","”"]}"#
        );
        let gsm = serde_json::to_string(&segment("[x]")).unwrap();
        assert_eq!(
            gsm,
            r#"{"encoding":"GSM-7","segments":1,"characters":5,"units_per_segment":[5],"non_gsm":[]}"#
        );
    }

    #[test]
    fn refuses_over_long_and_empty_bodies() {
        let long = SegmentsArgs {
            text: "a".repeat(1601),
            json: false,
        };
        let err = run(&long).unwrap_err();
        assert!(err.contains("1601"), "{err}");
        let empty = SegmentsArgs {
            text: String::new(),
            json: true,
        };
        assert!(run(&empty).is_err());
    }
}
