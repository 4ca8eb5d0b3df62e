//! `/v3/payments`: read-only here; payments are made by subscriptions and change through
//! the simulator's control methods and page (what a paying customer or a bank would do).

use axum::{
    Json,
    extract::{Path, Query, State},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;
use time::macros::time;

use super::{
    objects, pix,
    routes::{self, ApiError, ApiResult, Params, Sim},
    today,
    wire::{BillingType, DATE_TIME, PaymentStatus},
};

/// `GET /v3/payments?customer=&subscription=&externalReference=&status=&billingType=`.
pub(super) async fn list(State(sim): State<Sim>, Query(params): Query<Params>) -> ApiResult {
    let items = {
        let db = sim.db();
        db.payments
            .iter()
            .filter(|p| !p.deleted)
            .filter(|p| routes::matches(&params, "customer", Some(&p.customer)))
            .filter(|p| routes::matches(&params, "subscription", p.subscription.as_deref()))
            .filter(|p| {
                routes::matches(
                    &params,
                    "externalReference",
                    p.external_reference.as_deref(),
                )
            })
            .filter(|p| routes::matches(&params, "status", Some(p.status.as_str())))
            .filter(|p| routes::matches(&params, "billingType", Some(p.billing_type.as_str())))
            .map(|p| objects::payment(p, &sim.page_url))
            .collect()
    };
    routes::list(items, &params)
}

/// `GET /v3/payments/{id}`: deleted payments are gone (404).
pub(super) async fn show(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let db = sim.db();
    let payment = db
        .payment(&id)
        .filter(|p| !p.deleted)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(objects::payment(payment, &sim.page_url)))
}

/// `GET /v3/payments/{id}/pixQrCode`: the copy-and-paste payload and its QR image, valid
/// until the end of the due date (or of today, for an overdue charge).
pub(super) async fn pix_qr_code(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let payment = {
        let db = sim.db();
        db.payment(&id)
            .filter(|p| !p.deleted)
            .cloned()
            .ok_or_else(ApiError::not_found)?
    };
    let payable = matches!(
        payment.status,
        PaymentStatus::Pending | PaymentStatus::Overdue
    );
    if !payable || payment.billing_type == BillingType::CreditCard {
        return Err(ApiError::invalid(
            "invalid_action",
            "Esta cobrança não pode ser paga via Pix.",
        ));
    }
    let payload = pix::payload(&payment);
    let expires = payment.due_date.max(today()).with_time(time!(23:59:59));
    Ok(Json(json!({
        "encodedImage": STANDARD.encode(crate::simulators::qr_image::qr_png(&payload)),
        "payload": payload,
        "expirationDate": expires.format(DATE_TIME).unwrap_or_default(),
    })))
}
