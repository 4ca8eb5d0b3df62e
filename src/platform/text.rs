//! Text from outside the hub, made storable in one place. Client input holding a NUL is
//! refused (PostgreSQL cannot store one, and no name or note needs one); data from Chatwoot
//! is cleaned instead, since the hub cannot send it back, and names become one line.

use std::borrow::Cow;

/// Text safe inside HTML elements and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether JSON text spells a NUL (`\u0000`) in a string: an escape is a backslash that
/// is not itself escaped.
pub fn json_has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Whether JSON text nests arrays and objects at most `max` deep (brackets inside strings
/// do not count). A byte scan: cheaper than decoding, which refuses too deep a nesting only
/// after allocating all the way down.
pub fn json_nesting_within(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// JSON text with every `\u0000` escape spelt as U+FFFD instead, so what decodes from it
/// can be stored; unchanged (borrowed) when it has none.
pub fn json_without_nul(json: &str) -> Cow<'_, str> {
    if !json_has_nul(json.as_bytes()) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        if escape[1..].starts_with("u0000") {
            out.push_str("\\ufffd");
            rest = &escape[6..];
        } else {
            let end = escape
                .char_indices()
                .nth(2)
                .map_or(escape.len(), |(i, _)| i);
            out.push_str(&escape[..end]);
            rest = &escape[end..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A name as the hub keeps names: one line (control characters become spaces, runs of
/// white space one space), trimmed, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let words = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty());
    let joined = words.collect::<Vec<_>>().join(" ");
    let mut out: String = joined.chars().take(max).collect();
    out.truncate(out.trim_end().len());
    out
}

/// Free text (a message) without NULs, at most `max` characters.
pub fn storable(text: &str, max: usize) -> String {
    text.chars().filter(|c| *c != '\0').take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_escape_is_found_only_when_it_is_one() {
        assert!(json_has_nul(br#"{"a":"x\u0000y"}"#));
        assert!(
            !json_has_nul(br#"{"a":"x\\u0000y"}"#),
            "an escaped backslash"
        );
        assert!(json_has_nul(br#"{"a":"x\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"a":"\u0001"}"#));
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert!(json_nesting_within(br#"{"a":[[1]]}"#, 3));
        assert!(!json_nesting_within(br#"{"a":[[1]]}"#, 2));
        assert!(json_nesting_within(br#"{"a":"[[[[[[\"]]"}"#, 1));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!json_nesting_within(deep.as_bytes(), 128));
    }

    #[test]
    fn nul_escapes_are_replaced_and_the_rest_kept() {
        let json = r#"{"name":"Ana\u0000 \\u0000 \"é\" \u00e9"}"#;
        let clean = json_without_nul(json);
        assert_eq!(clean, r#"{"name":"Ana\ufffd \\u0000 \"é\" \u00e9"}"#);
        let value: serde_json::Value = serde_json::from_str(&clean).unwrap();
        assert_eq!(value["name"], "Ana\u{fffd} \\u0000 \"é\" é");
        assert!(matches!(json_without_nul("{}"), Cow::Borrowed(_)));
    }

    #[test]
    fn names_become_one_trimmed_line_of_bounded_length() {
        assert_eq!(
            one_line("  Ana\n\tMaria\u{0}  Silva ", 200),
            "Ana Maria Silva"
        );
        assert_eq!(one_line(&"x".repeat(300), 200).chars().count(), 200);
        assert_eq!(one_line("ab cd", 3), "ab");
        assert_eq!(one_line("ab cd", 4), "ab c");
        assert_eq!(one_line("ããã", 2), "ãã");
        assert_eq!(one_line("\n\n", 10), "");
    }
}
