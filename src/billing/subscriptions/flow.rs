//! Subscribe, change plan, cancel: each talks to Asaas outside any transaction and records
//! the outcome in one. Nothing is left half made: a subscribe first records its
//! subscription (our id is the Asaas subscription's `externalReference`), and a retry after
//! a failure or a lost answer finds the Asaas customer and subscription an earlier attempt
//! made instead of making them again.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    BILLING_TYPES, Payment, Pix, Status, Subscription,
    store::{self, CustomerRecord},
    sync::{self, Change},
};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    billing::{
        asaas::wire::{self, NewCustomer, NewSubscription},
        document, money,
        plans::{self, Plan},
    },
    entitlements::{self, Resource},
    platform::{
        clock,
        error::{AppError, AppResult, Overage},
        validate::Validator,
    },
    tenancy::AccountScope,
};

/// How long a subscribe holds the account's subscription while it talks to Asaas: longer
/// than its slowest run (six calls of 10 s, reads retried, 429s waited out).
const ATTEMPT: Duration = Duration::minutes(3);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeInput {
    pub plan_id: Uuid,
    /// `PIX`, `BOLETO`, `CREDIT_CARD` or `UNDEFINED` (the customer chooses on the invoice).
    #[schema(example = "PIX")]
    pub billing_type: String,
    pub customer: CustomerInput,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub name: String,
    /// CPF or CNPJ, with or without punctuation.
    #[schema(example = "529.982.247-25")]
    pub cpf_cnpj: String,
    pub email: String,
    pub mobile_phone: Option<String>,
}

/// A payment with, for an open PIX charge, its code.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirstCharge {
    #[serde(flatten)]
    pub payment: Payment,
    pub pix: Option<Pix>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribed {
    pub subscription: super::routes::SubscriptionView,
    pub payment: Option<FirstCharge>,
}

/// The checked customer of a subscribe.
struct Customer {
    name: String,
    cpf_cnpj: String,
    email: String,
    mobile_phone: Option<String>,
}

fn check(input: &SubscribeInput) -> AppResult<Customer> {
    let c = &input.customer;
    let phone: Option<String> = c
        .mobile_phone
        .as_deref()
        .map(|p| p.chars().filter(char::is_ascii_digit).collect());
    let mut v = Validator::default();
    v.text("customer.name", &c.name, 100)
        .email("customer.email", c.email.trim())
        .check(
            BILLING_TYPES.contains(&input.billing_type.as_str()),
            "billing_type",
            "must be PIX, BOLETO, CREDIT_CARD or UNDEFINED",
        )
        .check(
            phone.as_ref().is_none_or(|p| (10..=13).contains(&p.len())),
            "customer.mobile_phone",
            "must be a phone number with area code",
        );
    v.finish()?;
    let cpf_cnpj = document::normalise(&c.cpf_cnpj).ok_or(AppError::Unprocessable {
        code: "invalid_cpf_cnpj",
        message: "customer.cpf_cnpj is not a valid CPF or CNPJ (its check digits do not match)."
            .into(),
    })?;
    Ok(Customer {
        name: c.name.trim().to_string(),
        cpf_cnpj,
        email: c.email.trim().to_lowercase(),
        mobile_phone: phone,
    })
}

async fn plan_on_offer(state: &AppState, plan_id: Uuid) -> AppResult<Plan> {
    plans::store::get(&state.db, plan_id)
        .await?
        .filter(|p| p.active)
        .ok_or_else(|| AppError::validation("plan_id", "is not a plan on offer"))
}

fn already_subscribed() -> AppError {
    AppError::Conflict {
        code: "already_subscribed",
        message: "The account already has a subscription: change its plan or cancel it.".into(),
    }
}

pub async fn subscribe(
    state: &AppState,
    scope: &AccountScope,
    input: SubscribeInput,
) -> AppResult<Subscribed> {
    state.billing.asaas()?;
    let customer = check(&input)?;
    let plan = plan_on_offer(state, input.plan_id).await?;
    let trial_days = match plan.trial_days {
        0 => i64::from(state.config.billing.trial_days),
        days => i64::from(days),
    };
    // 1. The subscription, ours first: its id names it at Asaas.
    let (sub, hold) = claim(state, scope, &plan, &input.billing_type, trial_days).await?;
    let id = sub.id;
    let finished = finish(state, scope, &input, &customer, &plan, sub).await;
    // Lets a retry in at once (on failure: what was made at Asaas is found again by it).
    if let Err(err) = store::release_hold(&state.db, id, hold).await {
        tracing::warn!(subscription = %id, error = %err, "releasing a subscribe attempt failed");
    }
    finished
}

/// Steps 2 to 4 of a subscribe, at Asaas then here.
async fn finish(
    state: &AppState,
    scope: &AccountScope,
    input: &SubscribeInput,
    customer: &Customer,
    plan: &Plan,
    sub: Subscription,
) -> AppResult<Subscribed> {
    let asaas = state.billing.asaas()?;
    let customer_id = customer_of(state, scope, customer).await?;
    // 3. The Asaas subscription: one an earlier attempt made (brought to this attempt's
    // price), or a new one.
    let reference = sub.id.to_string();
    let first_due = sub.trial_ends_at.unwrap_or_else(clock::now).date();
    let value = money::to_reais(plan.price_cents);
    let made = match asaas.find_subscription(&reference).await? {
        Some(found) => {
            if money::from_reais(found.value) != plan.price_cents {
                asaas.set_value(&found.id, value, true).await?;
            }
            found
        }
        None => {
            asaas
                .create_subscription(&NewSubscription {
                    customer: &customer_id,
                    billing_type: &input.billing_type,
                    value,
                    next_due_date: wire::format_date(first_due),
                    cycle: plan.cycle.as_str(),
                    description: &plan.name,
                    external_reference: reference,
                })
                .await?
        }
    };
    let fetched_at = clock::now_micros();
    let payments = asaas.subscription_payments(&made.id).await?;
    // 4. Recorded: the Asaas id, its first charge, the state they make.
    let sub = amend(state, scope, sub.id, "subscription.created", |s| {
        s.asaas_id = Some(made.id.clone());
        s.next_due_date = Some(first_due);
    })
    .await?;
    let read = Change::Payments(payments, Some(made.is_live()), fetched_at);
    sync::settle(state, sub.id, read, Actor::from(scope)).await?;
    let sub = store::get(&state.db, sub.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let payment = first_charge(state, &sub).await?;
    Ok(Subscribed {
        subscription: super::routes::view(state, &sub).await?,
        payment,
    })
}

/// Step 2: the account's Asaas customer: ours, or one an earlier attempt made (its
/// `externalReference` is the account), or a new one.
async fn customer_of(
    state: &AppState,
    scope: &AccountScope,
    customer: &Customer,
) -> AppResult<String> {
    if let Some(id) = store::customer(&state.db, scope.account_id).await? {
        return Ok(id);
    }
    let asaas = state.billing.asaas()?;
    let reference = scope.account_id.to_string();
    let made = match asaas.find_customer(&reference).await? {
        Some(found) => found,
        None => {
            asaas
                .create_customer(&NewCustomer {
                    name: &customer.name,
                    cpf_cnpj: &customer.cpf_cnpj,
                    email: &customer.email,
                    mobile_phone: customer.mobile_phone.as_deref(),
                    external_reference: reference,
                    notification_disabled: false,
                })
                .await?
        }
    };
    let mut tx = state.db.begin().await?;
    let record = CustomerRecord {
        account_id: scope.account_id,
        asaas_id: &made.id,
        name: &customer.name,
        cpf_cnpj: &customer.cpf_cnpj,
        email: &customer.email,
        mobile_phone: customer.mobile_phone.as_deref(),
    };
    store::save_customer(&mut tx, &record, clock::now()).await?;
    tx.commit().await?;
    Ok(made.id)
}

fn in_progress() -> AppError {
    AppError::Conflict {
        code: "subscription_in_progress",
        message: "A subscribe for this account is under way; try again in a minute.".into(),
    }
}

/// Records the account's new subscription (pending: it grants nothing until Asaas has it),
/// or takes back one an earlier attempt left unfinished, and holds it for this attempt;
/// 409 while it has a subscription or another attempt is under way. A trial is for the
/// account's first subscription only.
async fn claim(
    state: &AppState,
    scope: &AccountScope,
    plan: &Plan,
    billing_type: &str,
    trial_days: i64,
) -> AppResult<(Subscription, OffsetDateTime)> {
    let now = clock::now();
    let hold = now + ATTEMPT;
    let mut tx = state.db.begin().await?;
    if !tx.lock_account(scope.account_id).await? {
        return Err(AppError::NotFound);
    }
    let trial = trial_days > 0 && !store::subscribed_before(&mut tx, scope.account_id).await?;
    let trial_ends_at = trial.then(|| now + Duration::days(trial_days));
    let sub = match store::live(&mut tx, scope.account_id).await? {
        Some(existing) if existing.asaas_id.is_some() => return Err(already_subscribed()),
        Some(mut unfinished) => {
            let held = store::attempt_until(&mut tx, unfinished.id).await?;
            if held.is_some_and(|t| t > now) {
                return Err(in_progress());
            }
            unfinished.plan_id = plan.id;
            unfinished.billing_type = billing_type.to_string();
            unfinished.trial_ends_at = trial_ends_at;
            store::save(&mut tx, &unfinished, now).await?;
            store::hold(&mut tx, unfinished.id, hold).await?;
            unfinished
        }
        None => {
            let fresh = Subscription {
                id: Uuid::now_v7(),
                account_id: scope.account_id,
                plan_id: plan.id,
                pending_plan_id: None,
                status: Status::Pending,
                billing_type: billing_type.to_string(),
                asaas_id: None,
                trial_ends_at,
                current_period_end: None,
                next_due_date: None,
                grace_until: None,
                cancel_at_period_end: false,
                change_at: None,
                canceled_at: None,
                created_at: now,
            };
            if !store::insert(&mut tx, &fresh, hold).await? {
                return Err(already_subscribed());
            }
            fresh
        }
    };
    tx.commit().await?;
    Ok((sub, hold))
}

/// The subscription's oldest open charge, with its PIX code when it is paid by PIX (a PIX
/// code Asaas cannot give now is left out, not an error: the invoice link still pays).
pub async fn first_charge(state: &AppState, sub: &Subscription) -> AppResult<Option<FirstCharge>> {
    let payments = store::payments_of(&state.db, sub.id).await?;
    let Some(payment) = payments
        .into_iter()
        .find(|p| wire::standing(&p.status) != wire::Standing::Paid)
    else {
        return Ok(None);
    };
    let pix = match payment.billing_type.as_str() {
        "PIX" | "UNDEFINED" => pix_of(state, &payment).await.ok(),
        _ => None,
    };
    Ok(Some(FirstCharge { payment, pix }))
}

/// The PIX code of an open charge.
pub async fn pix_of(state: &AppState, payment: &Payment) -> AppResult<Pix> {
    if !matches!(
        wire::standing(&payment.status),
        wire::Standing::Open | wire::Standing::Overdue
    ) {
        return Err(AppError::Conflict {
            code: "payment_not_open",
            message: "This charge is not open for payment.".into(),
        });
    }
    let code = state
        .billing
        .asaas()?
        .pix_qr_code(&payment.asaas_id)
        .await?;
    Ok(Pix {
        payload: code.payload,
        encoded_image: code.encoded_image,
        expiration_date: code.expiration_date,
    })
}

/// The plan the account's live subscription is on, and the subscription.
async fn subscribed(state: &AppState, scope: &AccountScope) -> AppResult<(Subscription, Plan)> {
    let sub = store::live(&state.db, scope.account_id)
        .await?
        .filter(|s| s.asaas_id.is_some())
        .ok_or(AppError::Conflict {
            code: "not_subscribed",
            message: "The account has no subscription to change.".into(),
        })?;
    let plan = plans::store::get(&state.db, sub.plan_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((sub, plan))
}

/// Moves the subscription to `plan_id` (same cycle): a dearer plan at once (its unpaid
/// charges take the new price); a cheaper one, once the account fits it, at the end of
/// the period paid now (at once when none is). Choosing the current plan again withdraws a
/// pending downgrade.
pub async fn change(
    state: &AppState,
    scope: &AccountScope,
    plan_id: Uuid,
) -> AppResult<Subscription> {
    let asaas = state.billing.asaas()?;
    let (sub, current) = subscribed(state, scope).await?;
    let asaas_id = sub.asaas_id.clone().unwrap_or_default();
    let paid_until = sub.current_period_end.filter(|end| *end > clock::now());
    // What changes here, decided before Asaas is told: (plan, pending plan, when, action).
    let (plan_now, pending, change_at, action) = if plan_id == current.id {
        if sub.pending_plan_id.is_none() {
            return Ok(sub);
        }
        asaas
            .set_value(&asaas_id, money::to_reais(current.price_cents), false)
            .await?;
        let keep = sub.change_at.filter(|_| sub.cancel_at_period_end);
        (current.id, None, keep, "subscription.downgrade_withdrawn")
    } else {
        let target = plan_on_offer(state, plan_id).await?;
        if target.cycle != current.cycle {
            return Err(AppError::validation(
                "plan_id",
                "must be charged on the same cycle as the current plan; cancel and subscribe to change cycle",
            ));
        }
        let value = money::to_reais(target.price_cents);
        if target.price_cents > current.price_cents {
            asaas.set_value(&asaas_id, value, true).await?;
            (target.id, None, sub.change_at, "subscription.upgraded")
        } else {
            fits(state, scope, &target).await?;
            match paid_until {
                Some(end) => {
                    asaas.set_value(&asaas_id, value, false).await?;
                    let scheduled = "subscription.downgrade_scheduled";
                    (current.id, Some(target.id), Some(end), scheduled)
                }
                None => {
                    asaas.set_value(&asaas_id, value, true).await?;
                    (target.id, None, sub.change_at, "subscription.downgraded")
                }
            }
        }
    };
    amend(state, scope, sub.id, action, |s| {
        s.plan_id = plan_now;
        s.pending_plan_id = pending;
        s.change_at = change_at;
    })
    .await
}

/// Applies `edit` to the subscription as stored now (webhooks may have moved it on while
/// Asaas was called), under the account's lock, and audits it as `action`.
async fn amend(
    state: &AppState,
    scope: &AccountScope,
    id: Uuid,
    action: &'static str,
    edit: impl FnOnce(&mut Subscription),
) -> AppResult<Subscription> {
    let mut tx = state.db.begin().await?;
    tx.lock_account(scope.account_id).await?;
    let before = store::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let mut after = before.clone();
    edit(&mut after);
    store::save(&mut tx, &after, clock::now()).await?;
    let entry =
        AuditEntry::new(scope, action, "subscription", id).changes(Some(&before), Some(&after));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(after)
}

/// 409 `usage_exceeds_plan` listing what the account has beyond `plan`'s limits.
async fn fits(state: &AppState, scope: &AccountScope, plan: &Plan) -> AppResult<()> {
    let mut over = Vec::new();
    for resource in Resource::ALL {
        let current = entitlements::store::count(&state.db, scope.account_id, resource).await?;
        let limit = resource.limit(&plan.entitlements.limits);
        if current > limit {
            over.push(Overage {
                resource: resource.name(),
                limit,
                current,
            });
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(AppError::ExceedsPlan(over))
    }
}

/// Cancels at the end of the paid period, or at once (`immediately`, or when nothing
/// was paid yet: there is no period to finish).
pub async fn cancel(
    state: &AppState,
    scope: &AccountScope,
    immediately: bool,
) -> AppResult<Subscription> {
    let sub = store::live(&state.db, scope.account_id)
        .await?
        .ok_or(AppError::Conflict {
            code: "not_subscribed",
            message: "The account has no subscription to cancel.".into(),
        })?;
    if sub.asaas_id.is_none()
        && store::attempt_until(&state.db, sub.id)
            .await?
            .is_some_and(|t| t > clock::now())
    {
        return Err(in_progress());
    }
    match sub.current_period_end.filter(|end| *end > clock::now()) {
        Some(end) if !immediately => {
            return amend(state, scope, sub.id, "subscription.cancel_scheduled", |s| {
                s.cancel_at_period_end = true;
                s.change_at = Some(end);
            })
            .await;
        }
        _ => {
            sync::end_at_asaas(state, &sub, Actor::from(scope)).await?;
        }
    }
    store::get(&state.db, sub.id)
        .await?
        .ok_or(AppError::NotFound)
}
