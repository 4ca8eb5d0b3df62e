//! Plans and payments through Asaas: the plans the operator sells, each account's
//! subscription and its payments, Asaas's webhooks, and what an account may do while it
//! has not paid (read-only: 402 on writes). See ADR 21.

pub mod asaas;
pub mod document;
mod guard;
pub mod money;
pub mod plans;
pub mod subscriptions;
pub mod webhooks;

use std::sync::Arc;

use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;

pub use guard::{Standing, SuspendedWrites};

use crate::{
    app::{config::BillingEnv, state::AppState},
    platform::error::{AppError, AppResult},
};
use asaas::Asaas;

/// What billing keeps for the life of the hub.
pub struct Billing {
    asaas: Option<Asaas>,
    /// Each account's subscription status as of its revision.
    pub standings: guard::Standings,
}

impl Billing {
    pub fn new(env: &BillingEnv) -> anyhow::Result<Billing> {
        Ok(Billing {
            asaas: env.asaas.as_ref().map(Asaas::new).transpose()?,
            standings: Default::default(),
        })
    }

    /// The Asaas client; 503 `billing_unavailable` when no key is configured.
    pub fn asaas(&self) -> AppResult<&Asaas> {
        self.asaas.as_ref().ok_or_else(|| AppError::Upstream {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "billing_unavailable",
            message: "Billing is not configured on this hub (ASAAS_API_KEY).".into(),
        })
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(plans::router())
        .merge(subscriptions::router())
        .merge(webhooks::router())
}

/// Keeps subscriptions in step with Asaas and the clock (see `subscriptions::keep_in_step`).
pub fn keep_in_step(
    state: AppState,
    shutdown: tokio_util::sync::CancellationToken,
) -> impl std::future::Future<Output = ()> {
    subscriptions::keep_in_step(state, shutdown)
}

/// Shared so the write gate can be handed to tenancy without it knowing billing.
pub fn gate() -> Arc<dyn crate::tenancy::WriteGate> {
    Arc::new(SuspendedWrites)
}
