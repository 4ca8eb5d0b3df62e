//! Tickets open a realtime stream. Browsers cannot put an `Authorization` header on an
//! `EventSource`, and an access token must not travel in a URL (proxies log URLs), so a
//! signed-in person first trades their token for a ticket: opaque, stored hashed, good for
//! one stream and 30 seconds, bound to their session in one account. A ticket for the
//! team chat's socket may also carry where it resumes, so the socket replays what the client
//! missed before anything live.

use std::{collections::HashMap, sync::LazyLock};

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    app::state::AppState,
    auth::opaque,
    on_writer,
    platform::{
        clock,
        db::Db,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        validate::Validator,
    },
    tenancy::{Grant as AccessGrant, GrantParams, RecalledScope, still_holds},
};

const TTL: time::Duration = time::Duration::seconds(30);
/// Rooms one resume may name (a ticket's or a `resume` frame's).
pub const RESUME_ROOMS_MAX: usize = 1000;

/// The last event number a client has per room.
pub type Positions = HashMap<Uuid, i64>;

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

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// For the team chat's socket: the last `event_seq` the client has per room (at most
    /// 1,000 rooms). The socket replays each room's events after it right after `ready`,
    /// before any live frame, and the client need not send a `resume` frame.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, i64>>)]
    pub resume: Option<Positions>,
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
    params(("accountId" = Uuid, Path)), request_body = TicketRequest,
    responses((status = 201, body = Ticket), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn issue(
    State(state): State<AppState>,
    recalled: RecalledScope,
    body: Option<ApiJson<TicketRequest>>,
) -> AppResult<(StatusCode, ApiJson<Ticket>)> {
    let access = recalled.grant()?;
    // The body is optional: a client that follows no chat room sends none.
    let body = body.map(|ApiJson(body)| body).unwrap_or_default();
    let resume = body.resume.as_ref();
    let mut v = Validator::default();
    v.check(
        resume.is_none_or(|rooms| rooms.len() <= RESUME_ROOMS_MAX),
        "resume",
        &format!("at most {RESUME_ROOMS_MAX} rooms"),
    )
    .check(
        resume.is_none_or(|rooms| rooms.values().all(|seq| *seq >= 0)),
        "resume",
        "event numbers are 0 or more",
    );
    v.finish()?;
    let ticket = opaque::new_realtime_ticket();
    let grant = Grant {
        account_id: recalled.scope.account_id,
        user_id: access.user_id,
        session_id: access.session_id,
    };
    let resume = resume.map(|rooms| serde_json::to_string(rooms).expect("ids and numbers encode"));
    let new = NewTicket {
        token_hash: &opaque::hash(&ticket),
        grant: &grant,
        resume: resume.as_deref(),
        expires_at: clock::now() + TTL,
    };
    if !insert(&state.db, &new, recalled.to_check()).await? {
        // The remembered access no longer holds: the database says why (or that it does).
        recalled.confirm(&state).await?;
        insert(&state.db, &new, None).await?;
    }
    Ok((
        StatusCode::CREATED,
        ApiJson(Ticket {
            ticket,
            expires_in: TTL.whole_seconds().unsigned_abs(),
        }),
    ))
}

struct NewTicket<'a> {
    token_hash: &'a [u8],
    grant: &'a Grant,
    resume: Option<&'a str>,
    expires_at: OffsetDateTime,
}

// $1 id, $2 token hash, $3 account, $4 person, $5 session, $6 resume, $7 expiry, $8 now,
// $9 the remembered role and $10 revision to check (none: the access was read just now).
const ACCESS: GrantParams = GrantParams {
    account: "$3",
    user: "$4",
    now: "$8",
    session: "$5",
    role: "$9",
    revision: "$10",
};

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO realtime_tickets (id, token_hash, account_id, user_id, session_id, resume,
             expires_at)
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE $9 IS NULL OR {}",
        still_holds(&ACCESS)
    )
});

/// One statement outside a transaction: a reconnecting crowd asks for thousands at once.
/// Whether it stored the ticket: not when `check` no longer holds.
async fn insert(db: &Db, new: &NewTicket<'_>, check: Option<AccessGrant>) -> AppResult<bool> {
    let sql = sqlx::AssertSqlSafe(INSERT.as_str());
    let mut writer = db.writer().await?;
    let stored = on_writer!(&mut writer, c => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(new.token_hash).bind(new.grant.account_id)
        .bind(new.grant.user_id).bind(new.grant.session_id).bind(new.resume)
        .bind(new.expires_at).bind(clock::now()).bind(check.map(|g| g.role.as_str()))
        .bind(check.map(|g| g.revision)).execute(c).await?.rows_affected());
    Ok(stored == 1)
}

/// Uses the ticket up: its grant (and where its socket resumes) if it was unused and
/// unexpired, in one statement so two streams cannot both open with it.
pub async fn redeem(db: &Db, ticket: &str) -> AppResult<(Grant, Option<Positions>)> {
    #[derive(sqlx::FromRow)]
    struct Redeemed {
        #[sqlx(flatten)]
        grant: Grant,
        resume: Option<String>,
    }
    let sql = "UPDATE realtime_tickets SET used_at = $2
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
               RETURNING account_id, user_id, session_id, resume";
    let mut writer = db.writer().await?;
    let redeemed: Option<Redeemed> = on_writer!(&mut writer, c => sqlx::query_as(sql)
        .bind(opaque::hash(ticket)).bind(clock::now()).fetch_optional(c).await?);
    let redeemed = redeemed.ok_or(AppError::Unauthorized {
        code: "ticket_invalid",
        message: "The realtime ticket is unknown, used or expired; ask for a new one.",
    })?;
    let resume = redeemed
        .resume
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|err| AppError::Internal(anyhow::anyhow!("a ticket's resume: {err}")))?;
    Ok((redeemed.grant, resume))
}

/// Forgets tickets that expired before `before`.
pub async fn purge_expired(db: &Db, before: OffsetDateTime) -> AppResult<u64> {
    let sql = "DELETE FROM realtime_tickets WHERE expires_at < $1";
    let mut writer = db.writer().await?;
    Ok(
        on_writer!(&mut writer, c => sqlx::query(sql).bind(before).execute(c).await?.rows_affected()),
    )
}
