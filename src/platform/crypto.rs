//! Secrets at rest (Chatwoot and provider tokens, webhook secrets): AES-256-GCM under
//! `ENCRYPTION_KEY`, each value with its own random nonce and the name of the key that
//! sealed it, so the key can rotate: new values use the current key, old values still open
//! with a key listed in `ENCRYPTION_KEYS_PREVIOUS` until they are re-sealed.
//!
//! Sealed text: `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id is the
//! first 8 hex digits of the key's SHA-256 — it names the key without revealing it.
//! `context` (for example `"chatwoot_account_token"`) is bound as associated data, so a
//! value sealed for one purpose cannot be replayed into another column.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed with a key that is not configured (key id {0})")]
    UnknownKey(String),
    #[error("sealed value failed authentication")]
    Tampered,
}

struct Key {
    id: String,
    key: LessSafeKey,
}

/// The configured keys; the first seals, all open.
pub struct Vault {
    keys: Vec<Key>,
    random: SystemRandom,
}

impl Vault {
    /// `current` and `previous` are 32-byte keys.
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        let keys = std::iter::once(current)
            .chain(previous)
            .map(|bytes| Key {
                id: hex_prefix(&Sha256::digest(bytes)),
                key: LessSafeKey::new(
                    UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte AES-256 key"),
                ),
            })
            .collect();
        Vault {
            keys,
            random: SystemRandom::new(),
        }
    }

    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let current = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .expect("the OS random source works");
        let mut buffer = plaintext.as_bytes().to_vec();
        current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buffer,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut payload = nonce.to_vec();
        payload.extend_from_slice(&buffer);
        format!(
            "{VERSION}.{}.{}",
            current.id,
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<String, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.into()))?;
        let payload = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        if payload.len() < NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Malformed)?;
        let mut buffer = ciphertext.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Malformed)
    }

    /// Whether `sealed` was sealed with an older key and should be re-sealed.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) != Some(self.keys[0].id.as_str())
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_fresh_nonces() {
        let vault = Vault::new(&[7; 32], &[]);
        let a = vault.seal("chatwoot_token", "s3cret");
        let b = vault.seal("chatwoot_token", "s3cret");
        assert_ne!(a, b, "every seal uses a new nonce");
        assert!(!a.contains("s3cret"));
        assert_eq!(vault.open("chatwoot_token", &a).unwrap(), "s3cret");
    }

    #[test]
    fn refuses_tampering_and_another_context() {
        let vault = Vault::new(&[7; 32], &[]);
        let sealed = vault.seal("chatwoot_token", "s3cret");
        assert_eq!(
            vault.open("webhook_secret", &sealed),
            Err(CryptoError::Tampered)
        );
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            vault.open("chatwoot_token", &String::from_utf8(bytes).unwrap()),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            vault.open("chatwoot_token", "v2.x.y"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = Vault::new(&[1; 32], &[]);
        let sealed = old.seal("ctx", "value");
        let rotated = Vault::new(&[2; 32], &[[1; 32]]);
        assert_eq!(rotated.open("ctx", &sealed).unwrap(), "value");
        assert!(rotated.needs_reseal(&sealed));
        assert!(!rotated.needs_reseal(&rotated.seal("ctx", "value")));
        let forgot = Vault::new(&[2; 32], &[]);
        assert!(matches!(
            forgot.open("ctx", &sealed),
            Err(CryptoError::UnknownKey(_))
        ));
    }
}
