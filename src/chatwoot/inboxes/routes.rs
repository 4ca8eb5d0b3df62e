//! `/api/v1/accounts/{accountId}/inboxes`: the mirror of Chatwoot's inboxes.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Inbox, store, sync::SyncReport};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    chatwoot::connection,
    entitlements::{self, Resource},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
    },
    tenancy::{AccountScope, Role, accounts},
};

/// Why an admin's choice disabled an inbox (as opposed to the plan's limit).
const DISABLED_BY_ADMIN: &str = "disabled_by_admin";

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list_inboxes))
        .routes(utoipa_axum::routes!(sync_inboxes))
        .routes(utoipa_axum::routes!(update_inbox))
}

/// The account's inboxes as last synced from Chatwoot.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/inboxes", tag = "inboxes",
    params(("accountId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<Inbox>), (status = 404, body = Problem)))]
async fn list_inboxes(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<Inbox>>> {
    let page = page.parse()?;
    let rows = store::list(&state.db, scope.account_id, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |i| i.id)))
}

/// Pulls inboxes, agents and teams from Chatwoot (admins); safe to repeat.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/inboxes/sync", tag = "inboxes",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = SyncReport), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)))]
async fn sync_inboxes(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<SyncReport>> {
    scope.require(Role::Admin)?;
    let account = accounts::store::get(&state.db, scope.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (link, credential) = connection::credential(&state, &account).await?;
    let report = connection::pull(&state, account.id, &link, &credential).await?;
    audit::record_alone(
        &state.db,
        AuditEntry::new(&scope, "chatwoot.synced", "account", scope.account_id)
            .changes(None::<&SyncReport>, Some(&report)),
    )
    .await?;
    Ok(ApiJson(report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxUpdate {
    /// Use the inbox in the hub; enabling counts against the plan's `max_inboxes`.
    pub enabled: bool,
}

/// Enables or disables an inbox in the hub (admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/inboxes/{inboxId}", tag = "inboxes",
    params(("accountId" = Uuid, Path), ("inboxId" = Uuid, Path)), request_body = InboxUpdate,
    responses((status = 200, body = Inbox), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_inbox(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<InboxUpdate>,
) -> AppResult<ApiJson<Inbox>> {
    scope.require(Role::Admin)?;
    let inbox_id = path.1;
    let mut tx = state.db.begin().await?;
    let before = store::get_in(&mut tx, scope.account_id, inbox_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.enabled == body.enabled {
        tx.rollback().await?;
        return Ok(ApiJson(before));
    }
    if body.enabled {
        if before.removed_at.is_some() {
            return Err(AppError::Conflict {
                code: "inbox_removed",
                message: "This inbox no longer exists in Chatwoot.".into(),
            });
        }
        entitlements::ensure_capacity(
            &mut tx,
            &state.config.plan_defaults,
            scope.account_id,
            Resource::Inboxes,
        )
        .await?;
    }
    let after = Inbox {
        enabled: body.enabled,
        disabled_reason: (!body.enabled).then(|| DISABLED_BY_ADMIN.into()),
        updated_at: clock::now(),
        ..before.clone()
    };
    store::update(&mut tx, scope.account_id, &after).await?;
    let action = if body.enabled {
        "inbox.enabled"
    } else {
        "inbox.disabled"
    };
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, action, "inbox", inbox_id).changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}
