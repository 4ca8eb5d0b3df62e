//! The JSON objects Asaas answers and posts: camelCase, money as numbers, dates as text.

use serde_json::{Value, json};
use time::Date;
use time::format_description::BorrowedFormatItem;

use super::model::{SimCustomer, SimPayment, SimSubscription, SimWebhook};
use super::wire::{self, BillingType, DATE, DATE_BR};

fn date_in(date: Date, format: &[BorrowedFormatItem<'_>]) -> String {
    date.format(format).unwrap_or_default()
}

fn optional_date(date: Option<Date>) -> Value {
    date.map_or(Value::Null, |d| Value::String(wire::date(d)))
}

pub(super) fn customer(c: &SimCustomer) -> Value {
    let person_type = if c.cpf_cnpj.len() == 11 {
        "FISICA"
    } else {
        "JURIDICA"
    };
    json!({
        "object": "customer",
        "id": c.id,
        "dateCreated": wire::date(c.date_created),
        "name": c.name,
        "email": c.email,
        "phone": null,
        "mobilePhone": c.mobile_phone,
        "cpfCnpj": c.cpf_cnpj,
        "personType": person_type,
        "externalReference": c.external_reference,
        "notificationDisabled": false,
        "deleted": c.deleted,
    })
}

/// Where a subscription is shown: the API writes `YYYY-MM-DD`, while Asaas's subscription
/// webhook example writes `DD/MM/YYYY` (FACTS). The simulator reproduces both, so a client
/// that parses only one breaks here first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    Api,
    Webhook,
}

pub(super) fn subscription(s: &SimSubscription, shown: Shown) -> Value {
    let format = match shown {
        Shown::Api => DATE,
        Shown::Webhook => DATE_BR,
    };
    json!({
        "object": "subscription",
        "id": s.id,
        "dateCreated": date_in(s.date_created, format),
        "customer": s.customer,
        "paymentLink": null,
        "billingType": s.billing_type.as_str(),
        "cycle": s.cycle.as_str(),
        "value": s.value,
        "nextDueDate": date_in(s.next_due_date, format),
        "endDate": null,
        "description": s.description,
        "status": s.status.as_str(),
        "deleted": s.deleted,
        "maxPayments": null,
        "externalReference": s.external_reference,
    })
}

/// The invoice page of a payment on the simulator: what Asaas's `invoiceUrl` opens.
pub(super) fn invoice_url(page_url: &str, payment_id: &str) -> String {
    format!("{page_url}/i/{payment_id}")
}

pub(super) fn payment(p: &SimPayment, page_url: &str) -> Value {
    let invoice = invoice_url(page_url, &p.id);
    // Asaas fills these only when they apply: a slip for boleto-payable charges, a
    // receipt once paid.
    let bank_slip = matches!(p.billing_type, BillingType::Boleto | BillingType::Undefined)
        .then(|| invoice.clone());
    let receipt = p.status.is_paid().then(|| invoice.clone());
    json!({
        "object": "payment",
        "id": p.id,
        "dateCreated": wire::date(p.date_created),
        "customer": p.customer,
        "subscription": p.subscription,
        "installment": null,
        "value": p.value,
        "netValue": p.net_value,
        "originalValue": null,
        "interestValue": null,
        "description": p.description,
        "billingType": p.billing_type.as_str(),
        "status": p.status.as_str(),
        "dueDate": wire::date(p.due_date),
        "originalDueDate": wire::date(p.original_due_date),
        "paymentDate": optional_date(p.payment_date),
        "clientPaymentDate": optional_date(p.client_payment_date),
        "confirmedDate": optional_date(p.confirmed_date),
        "creditDate": optional_date(p.credit_date),
        "invoiceUrl": invoice,
        "invoiceNumber": p.invoice_number,
        "bankSlipUrl": bank_slip,
        "transactionReceiptUrl": receipt,
        "externalReference": p.external_reference,
        "deleted": p.deleted,
        "anticipated": false,
        "anticipable": false,
    })
}

pub(super) fn webhook(w: &SimWebhook) -> Value {
    // Asaas never shows the token back, only whether one is set.
    json!({
        "object": "webhook",
        "id": w.id,
        "name": w.name,
        "url": w.url,
        "email": w.email,
        "enabled": w.enabled,
        "interrupted": w.interrupted,
        "apiVersion": 3,
        "hasAuthToken": w.auth_token.is_some(),
        "authToken": null,
        "sendType": w.send_type.as_str(),
        "events": w.events,
    })
}
