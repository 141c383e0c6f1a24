//! The properties the fuzz targets check, one module per target, each entered by `check(data)`,
//! which panics on a violation. tests/fuzz_regressions.rs compiles this same directory, so stable
//! `cargo test` replays the seeds and every saved crash through exactly these checks.

pub mod form;
pub mod signature;
pub mod templates;
pub mod twiml;

use arbitrary::{Result, Unstructured};

/// Characters some part of the code under test treats specially: form and URL delimiters,
/// markup, the whitespace XML attributes normalise, characters XML forbids, `${}` of
/// substitution, and multi-byte UTF-8.
const SPECIAL: &[char] = &[
    '&', '=', '%', '+', '?', '#', '/', ':', '@', '[', ']', '<', '>', '"', '\'', ';', '$', '{', '}',
    ',', ' ', '\n', '\r', '\t', '\0', '\u{b}', '\u{1f}', '\u{7f}', '\u{85}', '\u{2028}',
    '\u{fffd}', '\u{fffe}', '\u{ffff}', 'ñ', '您', '😀',
];

/// A string of up to `max_len` characters drawn from the fuzzer's bytes. Plain `String`
/// arbitrary would rarely produce a `<` next to a `\r`; weighting towards [`SPECIAL`] makes the
/// interesting mixtures common while any `char` stays possible.
fn text(u: &mut Unstructured<'_>, max_len: usize) -> Result<String> {
    let len = u.int_in_range(0..=max_len)?;
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        let c = match u.int_in_range(0u8..=3)? {
            0 => *u.choose(SPECIAL)?,
            1 => u.arbitrary::<char>()?,
            _ => char::from(u.int_in_range(b' '..=b'~')?),
        };
        s.push(c);
    }
    Ok(s)
}

/// Up to `max` pairs of [`text`] strings, without NUL: the form parser refuses it (Twilio never
/// sends one and PostgreSQL cannot store one), which the form check covers on raw bytes.
fn pairs(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<(String, String)>> {
    let n = u.int_in_range(0..=max)?;
    let field = |u: &mut Unstructured<'_>| Ok(text(u, 12)?.replace('\0', " "));
    (0..n).map(|_| Ok((field(u)?, field(u)?))).collect()
}
