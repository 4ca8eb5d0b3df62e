//! Tickets open a realtime stream. Browsers cannot put an `Authorization` header on an
//! `EventSource`, and an access token must not travel in a URL (proxies log URLs), so a
//! signed-in person first trades their token for a ticket: opaque, stored hashed, good for
//! one stream and 30 seconds, bound to their session in one account.

use axum::{extract::State, http::StatusCode};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    app::state::AppState,
    auth::opaque,
    on_db, on_tx,
    platform::{
        clock,
        db::{Db, Tx},
        error::{AppError, AppResult, Problem},
        json::ApiJson,
    },
    tenancy::{AccountScope, Principal},
};

const TTL: time::Duration = time::Duration::seconds(30);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    /// Open `GET /api/v1/realtime/events?ticket=…` with it, once, within `expires_in`.
    pub ticket: String,
    /// Seconds.
    pub expires_in: u64,
}

/// Who a redeemed ticket speaks for.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Grant {
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// A ticket to follow the account's changes in real time (people only, not API keys).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/realtime/tickets", tag = "realtime",
    params(("accountId" = Uuid, Path)),
    responses((status = 201, body = Ticket), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn issue(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<(StatusCode, ApiJson<Ticket>)> {
    scope.require_person()?;
    let Principal::User {
        user_id,
        session_id,
    } = scope.principal
    else {
        unreachable!("require_person admits people only");
    };
    let ticket = opaque::new_realtime_ticket();
    let grant = Grant {
        account_id: scope.account_id,
        user_id,
        session_id,
    };
    let mut tx = state.db.begin().await?;
    insert(&mut tx, &opaque::hash(&ticket), &grant, clock::now() + TTL).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Ticket {
            ticket,
            expires_in: TTL.whole_seconds().unsigned_abs(),
        }),
    ))
}

async fn insert(
    tx: &mut Tx,
    token_hash: &[u8],
    grant: &Grant,
    expires_at: OffsetDateTime,
) -> AppResult<()> {
    let sql = "INSERT INTO realtime_tickets (id, token_hash, account_id, user_id, session_id,
                   expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(token_hash).bind(grant.account_id).bind(grant.user_id)
        .bind(grant.session_id).bind(expires_at).execute(c).await?.rows_affected());
    Ok(())
}

/// Uses the ticket up: its grant if it was unused and unexpired, in one statement so two
/// streams cannot both open with it.
pub async fn redeem(db: &Db, ticket: &str) -> AppResult<Grant> {
    let sql = "UPDATE realtime_tickets SET used_at = $2
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
               RETURNING account_id, user_id, session_id";
    let grant: Option<Grant> = on_db!(db, pool => sqlx::query_as(sql)
        .bind(opaque::hash(ticket)).bind(clock::now()).fetch_optional(pool).await?);
    grant.ok_or(AppError::Unauthorized {
        code: "ticket_invalid",
        message: "The realtime ticket is unknown, used or expired; ask for a new one.",
    })
}

/// Forgets tickets that expired before `before`.
pub async fn purge_expired(db: &Db, before: OffsetDateTime) -> AppResult<u64> {
    let sql = "DELETE FROM realtime_tickets WHERE expires_at < $1";
    Ok(on_db!(db, pool => sqlx::query(sql).bind(before).execute(pool).await?.rows_affected()))
}
