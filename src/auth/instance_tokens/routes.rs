use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SCOPES, store};
use crate::{
    app::{config::Config, state::AppState},
    audit::{self, Actor, AuditEntry},
    auth::{
        Authentication, opaque,
        sessions::{self, TokenResponse},
        sso::{self, ChatwootSession, Member, SignedIn},
    },
    chatwoot::client::Credential,
    platform::{
        client::ClientMeta,
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
    },
    tenancy::{accounts, users},
};

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(issue))
        .routes(utoipa_axum::routes!(validate))
        .routes(utoipa_axum::routes!(exchange))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The Chatwoot account shown on the screen (from `/app/accounts/:id/…`).
    pub chatwoot_account_id: i64,
    /// The devise headers of the dashboard session (cookie `cw_d_session_info`).
    pub chatwoot_session: ChatwootSession,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    pub instance_token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub scopes: Vec<String>,
    pub account_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Validity {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    pub instance_token: String,
}

/// The request's `Origin`, as browsers send it on cross-origin calls: `None` when there is
/// none (a server, or a same-origin GET). An opaque origin (`null`: a sandboxed frame, a
/// `data:` or `file:` page) is nobody the hub knows, and is refused, never taken for none.
pub fn request_origin(headers: &HeaderMap) -> AppResult<Option<&str>> {
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(origin)) if origin != "null" => Ok(Some(origin)),
        Some(_) => Err(origin_not_allowed()),
    }
}

/// The origin is a page of the hub itself: `PUBLIC_URL`'s, or this very server's under the
/// name the browser asked for (`Host`: a hub opened at 127.0.0.1 while `PUBLIC_URL` says
/// localhost), over `PUBLIC_URL`'s scheme. A foreign page cannot make its origin match the
/// host it calls.
pub fn is_hub_page(config: &Config, headers: &HeaderMap, origin: &str) -> bool {
    let public = config.public_origin();
    let scheme = public
        .split_once("://")
        .map_or("http", |(scheme, _)| scheme);
    let same_host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| origin == format!("{scheme}://{host}"));
    same_host || origin == public
}

/// Issues an instance token for the Chatwoot user at the screen.
#[utoipa::path(post, path = "/api/v1/instance-tokens", tag = "auth", security(()),
    request_body = IssueRequest,
    responses((status = 201, body = Issued), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem), (status = 503, body = Problem)))]
async fn issue(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<IssueRequest>,
) -> AppResult<(StatusCode, ApiJson<Issued>)> {
    let session = &body.chatwoot_session;
    let fingerprint = opaque::hash(&format!("{}:{}", session.uid, session.client));
    state.rate_limits.embed_attempt(client.ip, &fingerprint)?;
    let origin = request_origin(&headers)?.ok_or_else(origin_not_allowed)?;
    let installation = state
        .installations
        .by_origin(origin)
        .ok_or_else(origin_not_allowed)?;
    if body.chatwoot_account_id <= 0 {
        return Err(AppError::validation(
            "chatwoot_account_id",
            "must be positive",
        ));
    }
    let credential: Credential = session.credential()?;
    let (mut tx, member) = sso::admit(
        &state,
        &installation,
        &credential,
        Some(body.chatwoot_account_id),
        &client,
    )
    .await?;

    let token = opaque::new_instance_token();
    let now = clock::now();
    let ttl = state.config.instance_token_ttl;
    let id = store::insert(
        &mut tx,
        &store::NewInstanceToken {
            token_hash: &opaque::hash(&token),
            account_id: member.account.id,
            user_id: member.user_id,
            origin,
            scopes: &SCOPES,
            created_at: now,
            expires_at: now + ttl,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::user(member.user_id, &client),
            Some(member.account.id),
            "auth.instance_token_issued",
            "instance_token",
            id,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Issued {
            instance_token: token,
            expires_in: ttl.as_secs(),
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            account_id: member.account.id,
        }),
    ))
}

/// Whether the bearer instance token is valid, and what it allows.
#[utoipa::path(get, path = "/api/v1/instance-tokens/validate", tag = "auth",
    responses((status = 200, body = Validity), (status = 401, body = Problem)))]
async fn validate(
    State(state): State<AppState>,
    headers: HeaderMap,
    authentication: Option<axum::Extension<Authentication>>,
) -> AppResult<ApiJson<Validity>> {
    let Some(axum::Extension(Authentication::InstanceToken { hash })) = authentication else {
        return Err(AppError::Unauthorized {
            code: "unauthenticated",
            message: "Send the instance token as `Authorization: Bearer wphi_…`.",
        });
    };
    let origin = request_origin(&headers)?;
    let valid = match store::find(&state.db, &hash).await? {
        Some(row) if is_usable(&row, origin) => Validity {
            valid: true,
            account_id: Some(row.account_id),
            scopes: Some(row.scopes.0),
            expires_at: Some(row.expires_at),
            origin: Some(row.origin),
        },
        _ => Validity {
            valid: false,
            account_id: None,
            scopes: None,
            expires_at: None,
            origin: None,
        },
    };
    Ok(ApiJson(valid))
}

/// Unused, unexpired, and (when a browser says where it runs) presented by its own origin.
pub fn is_usable(row: &store::InstanceTokenRow, origin: Option<&str>) -> bool {
    row.exchanged_at.is_none()
        && row.expires_at > clock::now()
        && origin.is_none_or(|o| o == row.origin)
}

/// Trades an instance token for a session, once.
#[utoipa::path(post, path = "/api/v1/auth/exchange", tag = "auth", security(()),
    request_body = ExchangeRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 429, body = Problem)))]
async fn exchange(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ExchangeRequest>,
) -> AppResult<Response> {
    let hash = opaque::hash(body.instance_token.trim());
    state.rate_limits.embed_attempt(client.ip, &hash)?;
    // The framed UI exchanges from the hub's own origin; a script may do it from the
    // Chatwoot origin the token was issued to. Any other page may not.
    let origin = request_origin(&headers)?;
    let mut tx = state.db.begin().await?;
    let consumed = store::consume(&mut tx, &hash, clock::now()).await?;
    let Some(row) = consumed.filter(|row| {
        origin.is_none_or(|o| is_hub_page(&state.config, &headers, o) || o == row.origin)
    }) else {
        tx.rollback().await?;
        return Err(refuse_exchange(&state, &client, &hash).await?);
    };
    let account = accounts::store::get(&mut tx, row.account_id)
        .await?
        .filter(|a| a.status == "active");
    let member = users::store::get(&mut tx, row.account_id, row.user_id)
        .await?
        .filter(|m| m.active);
    let (Some(account), Some(_)) = (account, member) else {
        return Err(AppError::Forbidden {
            code: "membership_inactive",
            message: "This account or your access to it is no longer active.",
        });
    };
    let signed_in = SignedIn {
        method: sessions::Method::InstanceToken,
        device: Some("Chatwoot dashboard"),
        audit_action: "auth.instance_token_exchanged",
    };
    let member = Member {
        account,
        user_id: row.user_id,
    };
    signed_in.finish(&state, tx, member, &client).await
}

/// Why an exchange failed; a second exchange of a real token is audited in its account.
async fn refuse_exchange(
    state: &AppState,
    client: &ClientMeta,
    hash: &[u8],
) -> AppResult<AppError> {
    match store::find(&state.db, hash).await? {
        Some(row) if row.exchanged_at.is_some() => {
            let entry = AuditEntry::by(
                Actor::anonymous(client),
                Some(row.account_id),
                "auth.instance_token_reused",
                "instance_token",
                row.id,
            );
            audit::record_alone(&state.db, entry).await?;
            Ok(AppError::Unauthorized {
                code: "instance_token_used",
                message: "This instance token was already exchanged; ask for a new one.",
            })
        }
        _ => Ok(AppError::Unauthorized {
            code: "instance_token_invalid",
            message: "The instance token is unknown, expired or not for this origin.",
        }),
    }
}

fn origin_not_allowed() -> AppError {
    AppError::Forbidden {
        code: "origin_not_allowed",
        message: "This page's origin is not a Chatwoot dashboard the hub knows.",
    }
}
