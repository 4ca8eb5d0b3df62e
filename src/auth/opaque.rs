//! Opaque secrets: refresh tokens and API keys. About 190–256 random bits from a CSPRNG
//! (rand's thread RNG, seeded by the OS), shown
//! once, stored only as a SHA-256 hash (a fast hash suffices for secrets of this entropy).
//!
//! API keys look like `wph_<32 base62 chars><6 base62 checksum chars>`: the prefix names
//! the product for secret scanners, and the CRC-32 checksum lets them (and us) reject a
//! mistyped or made-up key without a database lookup.

use rand::RngExt;
use sha2::{Digest, Sha256};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const API_KEY_PREFIX: &str = "wph_";
const API_KEY_BODY: usize = 32;
const CHECKSUM_LEN: usize = 6;
const REFRESH_PREFIX: &str = "wphr_";
pub const INSTANCE_TOKEN_PREFIX: &str = "wphi_";
const REALTIME_TICKET_PREFIX: &str = "wpht_";

fn base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

fn checksum(body: &str) -> String {
    let mut value = crc32(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// CRC-32 (IEEE), bitwise: keys are short and this runs once per request at most.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new refresh token (`wphr_` + 43 base62 characters ≈ 256 bits).
pub fn new_refresh_token() -> String {
    format!("{REFRESH_PREFIX}{}", base62(43))
}

/// A new instance token (`wphi_` + 43 base62 characters ≈ 256 bits).
pub fn new_instance_token() -> String {
    format!("{INSTANCE_TOKEN_PREFIX}{}", base62(43))
}

/// A new realtime ticket (`wpht_` + 43 base62 characters ≈ 256 bits).
pub fn new_realtime_ticket() -> String {
    format!("{REALTIME_TICKET_PREFIX}{}", base62(43))
}

/// A shared secret for signing (≈ 256 bits of base62).
pub fn new_shared_secret() -> String {
    base62(43)
}

/// A new API key and the short prefix shown in lists to recognise it.
pub fn new_api_key() -> (String, String) {
    let body = base62(API_KEY_BODY);
    let key = format!("{API_KEY_PREFIX}{body}{}", checksum(&body));
    let display = key[..API_KEY_PREFIX.len() + 6].to_string();
    (key, display)
}

/// Whether `candidate` has the shape and checksum of a key we issue.
pub fn is_well_formed_api_key(candidate: &str) -> bool {
    let Some(rest) = candidate.strip_prefix(API_KEY_PREFIX) else {
        return false;
    };
    if rest.len() != API_KEY_BODY + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return false;
    }
    let (body, sum) = rest.split_at(API_KEY_BODY);
    checksum(body) == sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_carry_a_checksum_that_catches_typos() {
        let (key, display) = new_api_key();
        assert!(key.starts_with("wph_") && key.starts_with(&display));
        assert_eq!(key.len(), 4 + 32 + 6);
        assert!(is_well_formed_api_key(&key));
        let mut typo = key.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!is_well_formed_api_key(&String::from_utf8(typo).unwrap()));
        assert!(!is_well_formed_api_key("wph_short"));
        assert!(!is_well_formed_api_key(&key.replace("wph_", "ghp_")));
    }

    #[test]
    fn secrets_are_unique_and_hashed() {
        assert_ne!(new_refresh_token(), new_refresh_token());
        assert_eq!(hash("a"), hash("a"));
        assert_eq!(hash("a").len(), 32);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "CRC-32/IEEE check value");
    }
}
