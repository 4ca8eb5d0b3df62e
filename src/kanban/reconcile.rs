//! Keeping the Kanban in step with Chatwoot: a first board when an account connects, then,
//! when events were missed, reconciliation on an admin's request and every
//! `RECONCILE_MINUTES` for each connected account, with the outcome recorded on the
//! account's connection.

use axum::extract::State;
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::{
    boards,
    follow::{self, Repairs},
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    chatwoot::connection::{self, OnConnect},
    entitlements,
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
    },
    tenancy::{AccountScope, Role, accounts},
};

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(reconcile_now))
}

/// Compares the Kanban's cards with Chatwoot's open conversations now and fixes what is
/// out of step (admins); it also runs every `RECONCILE_MINUTES`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chatwoot/reconcile", tag = "chatwoot",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Repairs), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)))]
async fn reconcile_now(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Repairs>> {
    scope.require(Role::Admin)?;
    let account = accounts::store::get(&state.db, scope.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let repairs = reconcile(&state, &account).await?;
    audit::record_alone(
        &state.db,
        AuditEntry::new(&scope, "chatwoot.reconciled", "account", scope.account_id)
            .changes(None::<&()>, Some(&repairs)),
    )
    .await?;
    Ok(ApiJson(repairs))
}

/// Compares the account's cards with Chatwoot's conversations, fixes what is out of
/// step, and records when and what on the connection.
pub async fn reconcile(state: &AppState, account: &accounts::Account) -> AppResult<Repairs> {
    let repairs = follow::reconcile(state, account).await?;
    let report = serde_json::to_value(repairs).map_err(anyhow::Error::from)?;
    connection::store::record_reconcile(&state.db, account.id, clock::now(), &report).await?;
    Ok(repairs)
}

/// Reconciles every connected account every `every`, until `shutdown`.
pub async fn keep_reconciled(
    state: AppState,
    every: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            () = shutdown.cancelled() => return,
        }
        let accounts = match connection::store::connected_accounts(&state.db).await {
            Ok(accounts) => accounts,
            Err(err) => {
                tracing::warn!(error = %err, "listing connected accounts failed");
                continue;
            }
        };
        for account_id in accounts {
            let account = accounts::store::get(&state.db, account_id).await;
            let outcome = match account {
                Ok(Some(account)) => reconcile(&state, &account).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(err) => Err(err),
            };
            if let Err(err) = outcome {
                tracing::warn!(account = %account_id, error = %err, "reconciliation failed");
            }
        }
    }
}

/// When an account connects: a board for an account without one, and the conversations
/// already open become its cards.
pub struct FirstBoard;

impl OnConnect for FirstBoard {
    fn connected<'a>(
        &'a self,
        state: &'a AppState,
        account: &'a accounts::Account,
    ) -> BoxFuture<'a, AppResult<Option<Uuid>>> {
        Box::pin(async move {
            let board = default_board(state, account.id).await?;
            if board.is_some()
                && let Err(err) = reconcile(state, account).await
            {
                tracing::warn!(account = %account.id, error = %err, "first reconciliation failed");
            }
            Ok(board)
        })
    }
}

/// Gives an account without boards (whose plan has the Kanban and room for one) a board
/// with the default pipeline, so cards appear with no setup.
async fn default_board(state: &AppState, account_id: Uuid) -> AppResult<Option<Uuid>> {
    let mut tx = state.db.begin().await?;
    // The account lock the capacity check takes keeps two connects from making two boards.
    let room = entitlements::ensure_capacity(
        &mut tx,
        &state.config.plan_defaults,
        account_id,
        entitlements::Resource::Boards,
    )
    .await;
    match room {
        Ok(()) => {}
        Err(AppError::QuotaExceeded { .. }) => return Ok(None),
        Err(other) => return Err(other),
    }
    let plan =
        entitlements::store::effective(&mut tx, &state.config.plan_defaults, account_id).await?;
    let has_boards = !boards::store::all_live(&mut tx, account_id)
        .await?
        .is_empty();
    if !plan.features.kanban_enabled || has_boards {
        tx.rollback().await?;
        return Ok(None);
    }
    let draft = boards::Draft {
        name: "Pipeline".into(),
        description: "Conversations from every enabled inbox, created by Whatpro Hub.".into(),
        currency: "BRL".into(),
        inbox_ids: Vec::new(),
        custom_fields: Vec::new(),
        stages: boards::default_stages(),
    };
    let created = boards::create(&mut tx, account_id, draft).await?;
    tx.commit().await?;
    Ok(Some(created.board.id))
}
