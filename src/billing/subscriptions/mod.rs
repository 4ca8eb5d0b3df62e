//! An account's subscription to a plan, charged through Asaas, and the payments Asaas
//! makes for it. What the account may do follows its [`Status`] (see [`standing`]).

mod flow;
mod routes;
pub mod standing;
pub mod store;
mod sync;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

pub use flow::Subscribed;
pub use routes::router;
pub use sync::{
    Applied, apply_payment, apply_subscription, keep_in_step, reconcile_all, settle_due,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its first payment; the account keeps what it had.
    Pending,
    Trialing,
    Active,
    /// A charge is overdue: full access until `grace_until`.
    PastDue,
    /// Read-only until paid: every other write answers 402.
    Suspended,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Trialing => "trialing",
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Suspended => "suspended",
            Status::Canceled => "canceled",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Trialing,
            Status::Active,
            Status::PastDue,
            Status::Suspended,
            Status::Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A subscription as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub id: Uuid,
    pub account_id: Uuid,
    pub plan_id: Uuid,
    pub pending_plan_id: Option<Uuid>,
    pub status: Status,
    pub billing_type: String,
    pub asaas_id: Option<String>,
    pub trial_ends_at: Option<OffsetDateTime>,
    pub current_period_end: Option<OffsetDateTime>,
    pub next_due_date: Option<Date>,
    pub grace_until: Option<OffsetDateTime>,
    pub cancel_at_period_end: bool,
    /// When a scheduled downgrade or cancellation takes effect.
    pub change_at: Option<OffsetDateTime>,
    pub canceled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A payment (an Asaas charge) as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Payment {
    pub id: Uuid,
    pub asaas_id: String,
    /// Decimal string, e.g. `"149.90"`.
    #[sqlx(skip)]
    pub value: String,
    #[serde(skip)]
    pub value_cents: i64,
    /// Asaas's status, as Asaas writes it (`PENDING`, `RECEIVED`, `OVERDUE`, …).
    pub status: String,
    pub billing_type: String,
    /// `YYYY-MM-DD`.
    #[serde(with = "crate::platform::time_input::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub due_date: Date,
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    pub invoice_url: Option<String>,
    #[serde(skip)]
    pub subscription_id: Uuid,
}

/// An open PIX charge's code, to copy or scan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pix {
    /// The copy-paste code.
    pub payload: String,
    /// A PNG of the QR code, base64.
    pub encoded_image: String,
    pub expiration_date: Option<String>,
}

/// `billing_type`s Asaas takes; `UNDEFINED` lets the customer choose on the invoice.
pub const BILLING_TYPES: [&str; 4] = ["PIX", "BOLETO", "CREDIT_CARD", "UNDEFINED"];
