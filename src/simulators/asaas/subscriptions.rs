//! `/v3/subscriptions`. A subscription schedules payments: creating one generates its first
//! payment at once and moves `nextDueDate` a cycle on (FACTS, "criando uma assinatura").

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    model::{SimSubscription, new_id},
    objects::{self, Shown},
    routes::{self, ApiError, ApiResult, Params, Sim},
    today,
    webhooks::{emit_payment, emit_subscription},
    wire::{self, BillingType, Cycle, Event, PaymentStatus, SubscriptionStatus},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSubscription {
    customer: Option<String>,
    billing_type: Option<String>,
    value: Option<f64>,
    next_due_date: Option<String>,
    cycle: Option<String>,
    description: Option<String>,
    external_reference: Option<String>,
}

fn billing_type(text: &str) -> ApiResult<BillingType> {
    BillingType::parse(text).ok_or_else(|| {
        ApiError::invalid(
            "invalid_billingType",
            "Forma de pagamento inválida: use BOLETO, CREDIT_CARD, PIX ou UNDEFINED.",
        )
    })
}

fn cycle(text: &str) -> ApiResult<Cycle> {
    Cycle::parse(text)
        .ok_or_else(|| ApiError::invalid("invalid_cycle", "Periodicidade da assinatura inválida."))
}

fn value(value: f64) -> ApiResult<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            "invalid_value",
            "O valor da assinatura deve ser maior que zero.",
        ))
    }
}

fn due_date(text: &str) -> ApiResult<time::Date> {
    wire::parse_date(text).ok_or_else(|| {
        ApiError::invalid(
            "invalid_nextDueDate",
            "A data de vencimento deve estar no formato AAAA-MM-DD.",
        )
    })
}

/// `POST /v3/subscriptions`.
pub(super) async fn create(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let input: NewSubscription = routes::parse(&body)?;
    let customer = routes::required(
        input.customer,
        "invalid_customer",
        "O cliente deve ser informado.",
    )?;
    let billing = billing_type(input.billing_type.as_deref().unwrap_or_default())?;
    let amount = value(input.value.unwrap_or_default())?;
    let next_due_date = due_date(input.next_due_date.as_deref().unwrap_or_default())?;
    let cycle = cycle(input.cycle.as_deref().unwrap_or_default())?;

    let today = today();
    if next_due_date < today {
        return Err(ApiError::invalid(
            "invalid_nextDueDate",
            "A data de vencimento não pode ser anterior à data atual.",
        ));
    }
    let mut db = sim.db();
    if db.customer(&customer).is_none_or(|c| c.deleted) {
        return Err(ApiError::invalid(
            "invalid_customer",
            "Cliente inválido ou inexistente.",
        ));
    }
    let subscription = SimSubscription {
        id: new_id("sub_"),
        date_created: today,
        customer,
        billing_type: billing,
        cycle,
        value: amount,
        next_due_date,
        due_day: next_due_date.day(),
        description: input.description,
        status: SubscriptionStatus::Active,
        deleted: false,
        external_reference: input.external_reference,
    };
    let id = subscription.id.clone();
    db.subscriptions.push(subscription);
    let first = db.bill_next(&id, today).expect("subscription just stored");
    let subscription = db
        .subscription(&id)
        .cloned()
        .expect("subscription just stored");
    emit_subscription(&sim, &mut db, Event::SubscriptionCreated, &subscription);
    emit_payment(&sim, &mut db, Event::PaymentCreated, &first);
    Ok(Json(objects::subscription(&subscription, Shown::Api)))
}

/// `GET /v3/subscriptions?customer=&externalReference=&status=&billingType=&includeDeleted=`.
pub(super) async fn list(State(sim): State<Sim>, Query(params): Query<Params>) -> ApiResult {
    let include_deleted = params.get("includeDeleted").is_some_and(|v| v == "true");
    let items = {
        let db = sim.db();
        db.subscriptions
            .iter()
            .filter(|s| include_deleted || !s.deleted)
            .filter(|s| routes::matches(&params, "customer", Some(&s.customer)))
            .filter(|s| {
                routes::matches(
                    &params,
                    "externalReference",
                    s.external_reference.as_deref(),
                )
            })
            .filter(|s| routes::matches(&params, "status", Some(s.status.as_str())))
            .filter(|s| routes::matches(&params, "billingType", Some(s.billing_type.as_str())))
            .map(|s| objects::subscription(s, Shown::Api))
            .collect()
    };
    routes::list(items, &params)
}

/// `GET /v3/subscriptions/{id}`: deleted ones too, with `deleted: true`.
pub(super) async fn show(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let db = sim.db();
    let subscription = db.subscription(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(objects::subscription(subscription, Shown::Api)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionUpdate {
    value: Option<f64>,
    billing_type: Option<String>,
    next_due_date: Option<String>,
    cycle: Option<String>,
    description: Option<String>,
    external_reference: Option<String>,
    #[serde(default)]
    update_pending_payments: bool,
}

/// `PUT /v3/subscriptions/{id}`. With `updatePendingPayments` the subscription's pending
/// payments take the new value, billing type and description (one PAYMENT_UPDATED each).
pub(super) async fn update(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let input: SubscriptionUpdate = routes::parse(&body)?;
    let amount = input.value.map(value).transpose()?;
    let billing = input
        .billing_type
        .as_deref()
        .map(billing_type)
        .transpose()?;
    let next_due_date = input.next_due_date.as_deref().map(due_date).transpose()?;
    let new_cycle = input.cycle.as_deref().map(cycle).transpose()?;

    let mut db = sim.db();
    let sub = db.subscription_mut(&id).ok_or_else(ApiError::not_found)?;
    if sub.deleted {
        return Err(ApiError::invalid(
            "invalid_action",
            "Não é possível alterar uma assinatura removida.",
        ));
    }
    sub.value = amount.unwrap_or(sub.value);
    sub.billing_type = billing.unwrap_or(sub.billing_type);
    sub.cycle = new_cycle.unwrap_or(sub.cycle);
    if let Some(date) = next_due_date {
        sub.next_due_date = date;
        sub.due_day = date.day();
    }
    if input.description.is_some() {
        sub.description = input.description;
    }
    if input.external_reference.is_some() {
        sub.external_reference = input.external_reference;
    }
    let subscription = sub.clone();
    emit_subscription(&sim, &mut db, Event::SubscriptionUpdated, &subscription);
    if input.update_pending_payments {
        let pending: Vec<String> = db
            .payments
            .iter()
            .filter(|p| p.subscription.as_deref() == Some(id.as_str()))
            .filter(|p| !p.deleted && p.status == PaymentStatus::Pending)
            .map(|p| p.id.clone())
            .collect();
        for payment_id in pending {
            let Some(payment) = db.payment_mut(&payment_id) else {
                continue;
            };
            payment.value = subscription.value;
            payment.net_value = subscription.value;
            payment.billing_type = subscription.billing_type;
            payment.description.clone_from(&subscription.description);
            let payment = payment.clone();
            emit_payment(&sim, &mut db, Event::PaymentUpdated, &payment);
        }
    }
    Ok(Json(objects::subscription(&subscription, Shown::Api)))
}

/// `DELETE /v3/subscriptions/{id}`: marks it deleted (and inactive) and removes its unpaid
/// payments, as Asaas does; paid ones stay.
pub(super) async fn remove(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let mut db = sim.db();
    let sub = db
        .subscription_mut(&id)
        .filter(|s| !s.deleted)
        .ok_or_else(ApiError::not_found)?;
    sub.deleted = true;
    sub.status = SubscriptionStatus::Inactive;
    let subscription = sub.clone();
    emit_subscription(&sim, &mut db, Event::SubscriptionDeleted, &subscription);
    let unpaid: Vec<String> = db
        .payments
        .iter()
        .filter(|p| p.subscription.as_deref() == Some(id.as_str()) && !p.deleted)
        .filter(|p| matches!(p.status, PaymentStatus::Pending | PaymentStatus::Overdue))
        .map(|p| p.id.clone())
        .collect();
    for payment_id in unpaid {
        let Some(payment) = db.payment_mut(&payment_id) else {
            continue;
        };
        payment.deleted = true;
        let payment = payment.clone();
        emit_payment(&sim, &mut db, Event::PaymentDeleted, &payment);
    }
    Ok(Json(json!({ "deleted": true, "id": id })))
}

/// `GET /v3/subscriptions/{id}/payments?status=`: its payments not deleted, latest due
/// date first.
pub(super) async fn payments(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    let items = {
        let db = sim.db();
        db.subscription(&id).ok_or_else(ApiError::not_found)?;
        let mut payments: Vec<_> = db
            .payments
            .iter()
            .filter(|p| p.subscription.as_deref() == Some(id.as_str()) && !p.deleted)
            .filter(|p| routes::matches(&params, "status", Some(p.status.as_str())))
            .collect();
        payments.sort_by_key(|p| std::cmp::Reverse(p.due_date));
        payments
            .into_iter()
            .map(|p| objects::payment(p, &sim.page_url))
            .collect()
    };
    routes::list(items, &params)
}
