//! Sign-in sessions: opened by single sign-on (or the operator CLI), carried by short
//! access tokens, kept alive by rotating refresh tokens, and ended for real — a revoked
//! session's access tokens fail on the very next request.

mod routes;
pub mod store;

use std::time::Duration;

use axum::http::{HeaderValue, header};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{opaque, tokens::MintedToken};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    platform::{
        client::ClientMeta,
        clock,
        db::Tx,
        error::{AppError, AppResult},
    },
    realtime::Recheck,
};

pub use routes::{TokenResponse, admin_router, router};

/// The refresh-token cookie for same-site browsers: host-only, HTTPS-only, script-proof.
pub const REFRESH_COOKIE: &str = "__Host-whatpro_refresh";

/// How a session was opened.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    ChatwootSso,
    InstanceToken,
    Cli,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::ChatwootSso => "chatwoot_sso",
            Method::InstanceToken => "instance_token",
            Method::Cli => "cli",
        }
    }
}

/// A session as its owner sees it.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SessionView {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    /// `chatwoot_sso`, `instance_token` or `cli`.
    pub method: String,
    pub device: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// True for the session making this request.
    pub current: bool,
}

/// What a sign-in or a refresh hands back.
pub struct Issued {
    pub session_id: Uuid,
    pub access: MintedToken,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

pub struct NewSession<'a> {
    pub user_id: Uuid,
    pub account_id: Option<Uuid>,
    pub method: Method,
    pub device: Option<&'a str>,
    pub client: Option<&'a ClientMeta>,
}

/// Opens a session inside `tx` and issues its first token pair.
pub async fn open(tx: &mut Tx, state: &AppState, new: NewSession<'_>) -> AppResult<Issued> {
    open_for(tx, state, new, state.config.session_absolute_timeout).await
}

/// Opens a session that lives at most `lifetime` (the CLI's short operator sessions).
pub async fn open_for(
    tx: &mut Tx,
    state: &AppState,
    new: NewSession<'_>,
    lifetime: Duration,
) -> AppResult<Issued> {
    let session_id = Uuid::now_v7();
    let absolute_expires_at = clock::now() + lifetime;
    store::insert(
        tx,
        &store::NewSessionRow {
            id: session_id,
            user_id: new.user_id,
            account_id: new.account_id,
            method: new.method.as_str(),
            device: new.device,
            ip: new.client.map(|c| c.ip.to_string()),
            user_agent: new.client.and_then(|c| c.user_agent.as_deref()),
            absolute_expires_at,
        },
    )
    .await?;
    let refresh_token = opaque::new_refresh_token();
    store::insert_refresh(tx, session_id, &opaque::hash(&refresh_token), None).await?;
    let ttl = state.tokens.ttl().min(lifetime);
    Ok(Issued {
        session_id,
        access: state.tokens.mint_access_for(new.user_id, session_id, ttl),
        refresh_token,
        refresh_expires_in: remaining_secs(absolute_expires_at),
    })
}

fn remaining_secs(until: OffsetDateTime) -> u64 {
    (until - clock::now()).whole_seconds().max(0) as u64
}

/// Trades a refresh token for a new pair. A token used twice means it leaked: the whole
/// session (its token family) is revoked and the event audited.
pub async fn refresh(state: &AppState, presented: &str, client: &ClientMeta) -> AppResult<Issued> {
    let invalid = || AppError::Unauthorized {
        code: "invalid_refresh_token",
        message: "The refresh token is not valid.",
    };
    let mut tx = state.db.begin().await?;
    let found = store::find_refresh(&mut tx, &opaque::hash(presented))
        .await?
        .ok_or_else(invalid)?;
    if found.used_at.is_some() || !store::mark_used(&mut tx, found.id).await? {
        store::revoke(
            &mut tx,
            found.user_id,
            found.session_id,
            "refresh_token_reuse",
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEntry::by(
                Actor::anonymous(client),
                found.account_id,
                "auth.refresh_reuse_detected",
                "session",
                found.session_id,
            ),
        )
        .await?;
        tx.commit().await?;
        state.realtime.recheck(Recheck::User(found.user_id));
        return Err(AppError::Unauthorized {
            code: "refresh_token_reused",
            message: "This refresh token was already used; the session has been ended. Sign in again.",
        });
    }
    super::ensure_session_live(found.revoked_at, found.absolute_expires_at)?;
    let idle_for = clock::now() - found.last_seen_at;
    if idle_for > state.config.session_idle_timeout {
        return Err(AppError::Unauthorized {
            code: "session_expired",
            message: "The session was idle too long; sign in again.",
        });
    }
    let refresh_token = opaque::new_refresh_token();
    store::insert_refresh(
        &mut tx,
        found.session_id,
        &opaque::hash(&refresh_token),
        Some(found.id),
    )
    .await?;
    store::touch(&mut tx, found.session_id).await?;
    tx.commit().await?;
    let remaining = remaining_secs(found.absolute_expires_at);
    let ttl = state.tokens.ttl().min(Duration::from_secs(remaining));
    let issued = Issued {
        session_id: found.session_id,
        access: state
            .tokens
            .mint_access_for(found.user_id, found.session_id, ttl),
        refresh_token,
        refresh_expires_in: remaining,
    };
    Ok(issued)
}

/// `Set-Cookie` for the refresh token (or its removal when `token` is `None`).
pub fn refresh_cookie(token: Option<(&str, u64)>) -> HeaderValue {
    let value = match token {
        Some((token, max_age)) => {
            format!(
                "{REFRESH_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
            )
        }
        None => format!("{REFRESH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"),
    };
    HeaderValue::from_str(&value).expect("cookie text is ASCII")
}

/// Reads the refresh cookie from a `Cookie` header.
pub fn refresh_from_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.to_string())
}
