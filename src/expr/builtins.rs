//! The string and list functions as plain Rust over `&str`: positions count characters (Unicode
//! scalar values), case mapping is the invariant culture's one-to-one mapping, and numbers are i64.

use base64::Engine as _;

/// Parses a decimal integer (surrounding whitespace allowed) or a `&H` hex number.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("&H").or_else(|| s.strip_prefix("&h")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// VB's CBool on text: "True"/"False" in any case, or a number (non-zero is true); empty is false.
pub(crate) fn truthy(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("false") {
        Some(false)
    } else if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else {
        t.parse::<f64>()
            .ok()
            .filter(|n| !n.is_nan())
            .map(|n| n != 0.0)
    }
}

/// Base64 of the UTF-16LE bytes (.NET's `Encoding.Unicode`).
pub(crate) fn to_base64_utf16le(s: &str) -> String {
    let bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The UTF-8 bytes as upper-case hex.
pub(crate) fn to_utf8_hex(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes()
        .fold(String::with_capacity(s.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02X}");
            out
        })
}

/// `Left`: N ≤ 0 as documented (0 → "", negative → the whole input), otherwise the first N chars.
pub(crate) fn left(s: &str, n: i64) -> String {
    match usize::try_from(n) {
        Ok(n) => s.chars().take(n).collect(),
        Err(_) => s.to_owned(),
    }
}

/// `Mid`: 1-based start; a length that runs past the end stops at the end.
pub(crate) fn mid(s: &str, start: i64, len: i64) -> Result<String, String> {
    if start < 1 {
        return Err(format!(
            "start must be 1 or more (positions start at 1), got {start}"
        ));
    }
    let len =
        usize::try_from(len).map_err(|_| format!("length must not be negative, got {len}"))?;
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    Ok(s.chars().skip(skip).take(len).collect())
}

/// `InStr`: 1-based position of `needle` at or after `start`, 0 if absent.
pub(crate) fn instr(
    haystack: &str,
    needle: &str,
    start: i64,
    ignore_case: bool,
) -> Result<usize, String> {
    if start < 1 {
        return Err(format!("start must be 1 or more, got {start}"));
    }
    let fold = |s: &str| -> Vec<char> {
        if ignore_case {
            s.chars().map(lower_char).collect()
        } else {
            s.chars().collect()
        }
    };
    let (h, n) = (fold(haystack), fold(needle));
    let from = usize::try_from(start - 1).unwrap_or(usize::MAX);
    if from > h.len() {
        return Ok(0);
    }
    if n.is_empty() {
        return Ok(from + 1);
    }
    Ok(h.get(from..)
        .and_then(|rest| rest.windows(n.len()).position(|w| w == n.as_slice()))
        .map_or(0, |p| from + p + 1))
}

/// Invariant-culture lower case of one char (one-to-one, like .NET's `ToLowerInvariant`).
fn lower_char(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn upper_char(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `ToLower`/`ToUpper`: invariant culture unless the culture is Turkish or Azerbaijani (dotted and
/// dotless i); other cultures map like the invariant one.
pub(crate) fn change_case(s: &str, upper: bool, culture: Option<&str>) -> String {
    let turkic = culture.is_some_and(|c| {
        let lang = c.split(['-', '_']).next().unwrap_or_default();
        lang.eq_ignore_ascii_case("tr") || lang.eq_ignore_ascii_case("az")
    });
    s.chars()
        .map(|c| match (upper, turkic, c) {
            (true, true, 'i') => 'İ',
            (false, true, 'I') => 'ı',
            (true, _, c) => upper_char(c),
            (false, _, c) => lower_char(c),
        })
        .collect()
}

/// Default PCase separators, approximating .NET `ToTitleCase`: whitespace, controls, punctuation and
/// symbols separate words; letters, digits, combining marks and the apostrophe do not.
fn is_default_separator(c: char) -> bool {
    let combining = matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}');
    !(c.is_alphanumeric() || combining || c == '\'' || c == '\u{2019}')
}

/// `PCase`: upper-case the first letter of each word, lower-case the rest.
pub(crate) fn pcase(s: &str, separators: Option<&str>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        let is_sep = match separators {
            Some(seps) => seps.contains(c),
            None => is_default_separator(c),
        };
        if is_sep {
            out.push(c);
            at_word_start = true;
        } else {
            out.push(if at_word_start {
                upper_char(c)
            } else {
                lower_char(c)
            });
            at_word_start = false;
        }
    }
    out
}

/// `Word`: the N-th (1-based) non-empty run between any of the delimiter chars; "" if none.
pub(crate) fn word(s: &str, n: i64, delimiters: &str) -> String {
    let Some(index) = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)) else {
        return String::new();
    };
    s.split(|c| delimiters.contains(c))
        .filter(|w| !w.is_empty())
        .nth(index)
        .unwrap_or_default()
        .to_owned()
}

/// `Split`: elements are trimmed of surrounding whitespace, matching the documented vector
/// (`"PermissionSetOne, PermissionSetTwo"` → `["PermissionSetOne", "PermissionSetTwo"]`).
/// An empty delimiter leaves the string whole.
pub(crate) fn split(s: &str, delimiter: &str) -> Vec<String> {
    if delimiter.is_empty() {
        return vec![s.trim().to_owned()];
    }
    s.split(delimiter).map(|p| p.trim().to_owned()).collect()
}

/// `RemoveDuplicates`: keeps the first of each value, in order.
pub(crate) fn dedupe<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
