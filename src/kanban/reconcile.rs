//! Keeping the Kanban in step with Chatwoot when events were missed: on an admin's request
//! and every `RECONCILE_MINUTES` for each connected account, with the outcome recorded on
//! the account's connection.

use axum::extract::State;

use super::follow::{self, Repairs};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    chatwoot::connection,
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
