//! Chatwoot conversation references in a message's text (ADR 26): `#123`, and an address of
//! a conversation of the account's own Chatwoot account
//! (`{dashboard}/app/accounts/{id}/conversations/{number}`, anything after it allowed).
//! Only the scanning lives here; the renderer decides where text is looked at (never in
//! code) and keeps the first [`MAX`] of them.

/// Distinct conversations one message refers to; later ones stay plain text.
pub const MAX: usize = 10;
/// Digits of a conversation number: up to 9,999,999,999.
const DIGITS_MAX: usize = 10;

/// `#123` at byte `i` of `text` (which holds `#`): its number and length. Not preceded by a
/// word character, `&` or `/` (an entity, a URL's fragment, `issue#12`), not followed by
/// one, no leading zero.
pub fn hash_token(text: &str, i: usize) -> Option<(i64, usize)> {
    let before = text[..i].chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '&' | '/')) {
        return None;
    }
    let (number, digits) = number_at(text, i + 1)?;
    Some((number, 1 + digits))
}

/// An address of one of `addresses` (each ending in `/conversations/`, compared without
/// regard to case) at byte `i` of `text`: its conversation's number and the address's
/// length up to the number. Not inside another URL (after a letter, a digit or one of
/// `/=?&%#+.-_~@`).
pub fn address_at(text: &str, i: usize, addresses: &[String]) -> Option<(i64, usize)> {
    let before = text[..i].chars().next_back();
    let joined = |c: char| c.is_alphanumeric() || "/=?&%#+.-_~@".contains(c);
    if before.is_some_and(joined) {
        return None;
    }
    let rest = &text.as_bytes()[i..];
    addresses.iter().find_map(|address| {
        let head = rest.get(..address.len())?;
        if !head.eq_ignore_ascii_case(address.as_bytes()) {
            return None;
        }
        let (number, digits) = number_at(text, i + address.len())?;
        Some((number, address.len() + digits))
    })
}

/// A conversation number starting at byte `at`: 1 to [`DIGITS_MAX`] digits, the first not
/// `0`, then no further letter, digit or `_`.
fn number_at(text: &str, at: usize) -> Option<(i64, usize)> {
    let bytes = text.as_bytes().get(at..)?;
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > DIGITS_MAX || bytes[0] == b'0' {
        return None;
    }
    let after = text[at + digits..].chars().next();
    if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let number = text[at..at + digits].parse().ok()?;
    Some((number, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> Option<(i64, usize)> {
        hash_token(text, text.find('#').unwrap())
    }

    #[test]
    fn a_hash_and_digits_name_a_conversation() {
        assert_eq!(hash("#123"), Some((123, 4)));
        assert_eq!(hash("see #7, then"), Some((7, 2)));
        assert_eq!(hash("(#42)"), Some((42, 3)));
        assert_eq!(hash("é #9."), Some((9, 2)));
        assert_eq!(hash("#9999999999"), Some((9_999_999_999, 11)));
        for text in [
            "#",
            "# 12",
            "#0",
            "#012",
            "#12345678901",
            "#12a",
            "#12_",
            "issue#12",
            "ação#12",
            "x_#12",
            "&#12;",
            "https://a.test/#12",
            "#-1",
        ] {
            assert_eq!(hash(text), None, "{text}");
        }
    }

    #[test]
    fn an_address_of_the_account_names_a_conversation() {
        let ours = vec![
            "https://chat.example.com/app/accounts/7/conversations/".to_string(),
            "http://chatwoot:3000/app/accounts/7/conversations/".to_string(),
        ];
        let at = |text: &str| {
            let i = text.to_ascii_lowercase().rfind("http").unwrap();
            address_at(text, i, &ours)
        };
        let base = "https://chat.example.com/app/accounts/7/conversations/";
        assert_eq!(at(&format!("{base}15")), Some((15, base.len() + 2)));
        assert_eq!(
            at(&format!("see {base}15/messages?x=1#m")),
            Some((15, base.len() + 2))
        );
        assert_eq!(at(&format!("({base}15)")), Some((15, base.len() + 2)));
        assert_eq!(
            at("HTTPS://Chat.Example.com/app/accounts/7/conversations/3"),
            Some((3, base.len() + 1))
        );
        assert_eq!(
            at("http://chatwoot:3000/app/accounts/7/conversations/3"),
            Some((3, ours[1].len() + 1))
        );
        for text in [
            "https://chat.example.com/app/accounts/8/conversations/15",
            "https://chat.example.com/app/accounts/77/conversations/15",
            "https://evil.test/app/accounts/7/conversations/15",
            "https://chat.example.com.evil.test/app/accounts/7/conversations/15",
            "https://chat.example.com/app/accounts/7/conversations/",
            "https://chat.example.com/app/accounts/7/conversations/0",
            "https://chat.example.com/app/accounts/7/conversations/15abc",
            "https://chat.example.com/app/accounts/7/contacts/15",
            "https://evil.test/?next=https://chat.example.com/app/accounts/7/conversations/15",
            "xhttps://chat.example.com/app/accounts/7/conversations/15",
        ] {
            assert_eq!(at(text), None, "{text}");
        }
        assert_eq!(address_at("https://x", 0, &[]), None);
    }
}
