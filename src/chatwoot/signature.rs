//! Chatwoot's webhook signature (≥ v4.11.2): `X-Chatwoot-Signature: sha256=<hex>` where the
//! hex is HMAC-SHA256 keyed by the webhook secret over `"<X-Chatwoot-Timestamp>.<raw body>"`.
//! Verify over the raw bytes as received; re-serialised JSON would not match.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";

/// Why a delivery was rejected. Callers answer 401 for all of them and log the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature or timestamp header is missing")]
    Missing,
    #[error("the signature or timestamp header is malformed")]
    Malformed,
    #[error("the timestamp is outside the accepted window")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// The header value Chatwoot would send for `body` at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("{PREFIX}{}", Signed(tag.into()).hex())
}

/// What a verified signature signed: the tag itself, decoded, so two spellings of one
/// signature (hex case, a timestamp's leading zeros) are one `Signed`. Replay checks key on
/// it, never on the header's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed([u8; 32]);

impl Signed {
    /// Lower-case hex, for storage.
    pub fn hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out
    }
}

/// Checks a delivery. `now` and `window_secs` bound replay: a timestamp further than
/// `window_secs` from `now` in either direction is `Stale` (Chatwoot itself enforces none;
/// 300 s is the advised window). The tag comparison is constant-time (`Mac::verify_slice`).
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    window_secs: i64,
) -> Result<Signed, SignatureError> {
    let (timestamp_header, signature_header) = (timestamp_header.trim(), signature_header.trim());
    if timestamp_header.is_empty() || signature_header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let timestamp: i64 = timestamp_header
        .parse()
        .map_err(|_| SignatureError::Malformed)?;
    let tag: [u8; 32] = signature_header
        .strip_prefix(PREFIX)
        .and_then(decode_hex)
        .and_then(|tag| tag.try_into().ok())
        .ok_or(SignatureError::Malformed)?;
    if now.abs_diff(timestamp) > window_secs.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    mac(secret, timestamp, body)
        .verify_slice(&tag)
        .map_err(|_| SignatureError::Mismatch)?;
    Ok(Signed(tag))
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example in /work/shared/chatwoot/samples/signing-example.md.
    const SECRET: &[u8] = b"t9XkQ2mLr7VwB4nZp8cYd3Fh";
    const TIMESTAMP: i64 = 1776334531;
    const EXPECTED: &str =
        "sha256=e5e7054d6fcc88d1ec01aa7d8799c031eea8306de43bff496ed26477880777ab";

    // A copy of shared/chatwoot/samples/message_created.compact.json, byte for byte.
    fn sample_body() -> Vec<u8> {
        include_bytes!("tests/fixtures/message_created.compact.json").to_vec()
    }

    #[test]
    fn signs_the_worked_example() {
        let body = sample_body();
        assert_eq!(body.len(), 2906);
        assert_eq!(sign(SECRET, TIMESTAMP, &body), EXPECTED);
    }

    #[test]
    fn verifies_the_worked_example() {
        let body = sample_body();
        let ts = TIMESTAMP.to_string();
        let signed = verify(SECRET, &ts, EXPECTED, &body, TIMESTAMP + 1, 300).unwrap();
        assert_eq!(signed.hex(), EXPECTED[7..]);
        // Upper-case hex and a zero-padded timestamp are the same signature (issue 13,
        // finding 7: replay checks key on this, so a respelt header is still a replay).
        let upper = format!("sha256={}", EXPECTED[7..].to_uppercase());
        assert_eq!(
            verify(SECRET, &ts, &upper, &body, TIMESTAMP, 300),
            Ok(signed)
        );
        let padded = format!("0{ts}");
        assert_eq!(
            verify(SECRET, &padded, EXPECTED, &body, TIMESTAMP, 300),
            Ok(signed)
        );
    }

    #[test]
    fn rejects_a_tampered_body_or_wrong_secret() {
        let mut body = sample_body();
        let ts = TIMESTAMP.to_string();
        assert_eq!(
            verify(b"another-secret", &ts, EXPECTED, &body, TIMESTAMP, 300),
            Err(SignatureError::Mismatch)
        );
        body[10] ^= 1;
        assert_eq!(
            verify(SECRET, &ts, EXPECTED, &body, TIMESTAMP, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rejects_stale_or_future_timestamps() {
        let body = sample_body();
        let ts = TIMESTAMP.to_string();
        for now in [TIMESTAMP + 301, TIMESTAMP - 301] {
            assert_eq!(
                verify(SECRET, &ts, EXPECTED, &body, now, 300),
                Err(SignatureError::Stale)
            );
        }
        assert!(verify(SECRET, &ts, EXPECTED, &body, TIMESTAMP + 300, 300).is_ok());
    }

    #[test]
    fn rejects_missing_and_malformed_headers() {
        let body = b"{}";
        let ts = TIMESTAMP.to_string();
        let good = sign(SECRET, TIMESTAMP, body);
        assert_eq!(
            verify(SECRET, "", &good, body, TIMESTAMP, 300),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, &ts, " ", body, TIMESTAMP, 300),
            Err(SignatureError::Missing)
        );
        for bad in ["abc", &good[7..], "sha256=zz", "sha256=abcd", "sha1=00"] {
            assert_eq!(
                verify(SECRET, &ts, bad, body, TIMESTAMP, 300),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify(SECRET, "12x", &good, body, TIMESTAMP, 300),
            Err(SignatureError::Malformed)
        );
    }
}
