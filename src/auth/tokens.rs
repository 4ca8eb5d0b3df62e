//! Access tokens: short-lived JWTs (RFC 9068 `at+jwt`), HS256 only, signed with the first
//! configured key and verified with any configured key, so keys rotate without logging
//! everyone out.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{app::config::SigningKey, platform::clock};

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
const AUDIENCE: &str = "whatpro-hub";
/// Clock skew allowed between replicas, on expiry and on the lifetime checks.
const LEEWAY_SECS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    /// The session this token belongs to; ending the session stops the token.
    pub sid: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

struct Key {
    id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

pub struct TokenService {
    keys: Vec<Key>,
    issuer: String,
    ttl: Duration,
    validation: Validation,
}

/// A freshly minted access token.
pub struct MintedToken {
    pub token: String,
    pub expires_in: u64,
}

impl TokenService {
    pub fn new(keys: &[SigningKey], issuer: String, ttl: Duration) -> Self {
        let keys = keys
            .iter()
            .map(|k| {
                let secret = k.secret.expose_secret().as_bytes();
                Key {
                    id: k.id.clone(),
                    encoding: EncodingKey::from_secret(secret),
                    decoding: DecodingKey::from_secret(secret),
                }
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "aud", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS as u64;
        TokenService {
            keys,
            issuer,
            ttl,
            validation,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn mint_access(&self, user_id: Uuid, session_id: Uuid) -> MintedToken {
        self.mint_access_for(user_id, session_id, self.ttl)
    }

    /// Mints with an explicit lifetime (never longer than the session's).
    pub fn mint_access_for(&self, user_id: Uuid, session_id: Uuid, ttl: Duration) -> MintedToken {
        let signing = &self.keys[0];
        let now = clock::now().unix_timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: user_id,
            sid: session_id,
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs() as i64,
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(signing.id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &signing.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        MintedToken {
            token,
            expires_in: ttl.as_secs(),
        }
    }

    /// Checks type, key id, algorithm, signature, issuer, audience and time window.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or(TokenError::Invalid)?;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        // The hub never mints a token living longer than the configured lifetime, nor one
        // issued in the future: one that claims either was not minted here (a leaked
        // signing key cannot buy a ten-year token).
        let lifetime = claims.exp.saturating_sub(claims.iat);
        let issued_ahead = claims.iat.saturating_sub(clock::now().unix_timestamp());
        if lifetime > self.ttl.as_secs() as i64 + LEEWAY_SECS || issued_ahead > LEEWAY_SECS {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use secrecy::SecretString;

    use super::*;

    fn key(id: &str, secret: &str) -> SigningKey {
        SigningKey {
            id: id.into(),
            secret: SecretString::from(secret.to_string()),
        }
    }

    fn service(keys: &[SigningKey]) -> TokenService {
        TokenService::new(keys, "https://hub.test".into(), Duration::from_secs(900))
    }

    #[test]
    fn round_trips_and_survives_key_rotation() {
        let old = service(&[key("k1", &"a".repeat(32))]);
        let token = old.mint_access(Uuid::now_v7(), Uuid::now_v7()).token;
        let rotated = service(&[key("k2", &"b".repeat(32)), key("k1", &"a".repeat(32))]);
        assert!(rotated.verify_access(&token).is_ok());
        let retired = service(&[key("k2", &"b".repeat(32))]);
        assert_eq!(retired.verify_access(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn refuses_alg_none_and_wrong_type() {
        let svc = service(&[key("k1", &"a".repeat(32))]);
        let token = svc.mint_access(Uuid::now_v7(), Uuid::now_v7()).token;
        let payload = token.split('.').nth(1).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt","kid":"k1"}"#);
        assert_eq!(
            svc.verify_access(&format!("{none_header}.{payload}.")),
            Err(TokenError::Invalid)
        );

        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        header.typ = Some("JWT".into());
        let claims: AccessClaims = svc.verify_access(&token).unwrap();
        let plain =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[b'a'; 32])).unwrap();
        assert_eq!(svc.verify_access(&plain), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_tokens_are_reported_as_expired() {
        let svc = service(&[key("k1", &"a".repeat(32))]);
        let mut claims = svc
            .verify_access(&svc.mint_access(Uuid::now_v7(), Uuid::now_v7()).token)
            .unwrap();
        claims.exp -= 3600;
        claims.iat -= 3600;
        claims.nbf -= 3600;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        let stale =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[b'a'; 32])).unwrap();
        assert_eq!(svc.verify_access(&stale), Err(TokenError::Expired));
    }
}
