//! The simulator's pages, for the demo: `GET /` lists subscriptions and payments, and
//! `GET /i/{id}` is the invoice a customer opens from `invoiceUrl`, where one click pays
//! (`POST /i/{id}/pay`, exactly like `AsaasSimulator::pay`). Plain HTML forms, no script.

use std::fmt::Write;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::platform::text::escape_html as escape;

use super::{
    control,
    model::{Db, SimPayment},
    pix,
    routes::Sim,
    wire::{self, BillingType, PaymentStatus},
};

/// `R$ 1234,50`, as a Brazilian invoice shows money.
fn money(value: f64) -> String {
    format!("R$ {value:.2}").replace('.', ",")
}

fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Asaas (simulator)</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">Asaas <small>simulator</small></a></header>\
         <main>{body}</main></body></html>",
        title = escape(title),
    ))
}

fn badge(status: PaymentStatus) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        status.as_str().to_ascii_lowercase(),
        status.as_str()
    )
}

/// A payment can be paid from the page while pending or overdue.
fn payable(payment: &SimPayment) -> bool {
    !payment.deleted
        && matches!(
            payment.status,
            PaymentStatus::Pending | PaymentStatus::Overdue
        )
}

fn pay_button(payment: &SimPayment) -> String {
    let label = if payment.billing_type == BillingType::CreditCard {
        "Pay with card (simulated)"
    } else {
        "Pay with PIX (simulated)"
    };
    format!(
        "<form method=\"post\" action=\"/i/{id}/pay\"><button type=\"submit\">{label}</button></form>",
        id = escape(&payment.id),
    )
}

/// `GET /`.
pub(super) async fn index(State(sim): State<Sim>) -> Html<String> {
    let db = sim.db();
    let mut body = String::from("<h1>Subscriptions</h1>");
    if db.subscriptions.is_empty() {
        body.push_str("<p class=\"muted\">None yet.</p>");
    }
    for sub in &db.subscriptions {
        let customer = db.customer(&sub.customer).map_or("?", |c| c.name.as_str());
        let _ = write!(
            body,
            "<section class=\"card\"><h2>{customer} <small>{id} · {cycle} · {value} · {status}{deleted}</small></h2>",
            customer = escape(customer),
            id = escape(&sub.id),
            cycle = sub.cycle.as_str(),
            value = money(sub.value),
            status = sub.status.as_str(),
            deleted = if sub.deleted { " · deleted" } else { "" },
        );
        body.push_str(&payments_table(&db, &sub.id));
        body.push_str("</section>");
    }
    layout("Index", &body)
}

fn payments_table(db: &Db, subscription: &str) -> String {
    let mut rows = String::new();
    let payments = db
        .payments
        .iter()
        .filter(|p| !p.deleted && p.subscription.as_deref() == Some(subscription));
    for p in payments {
        let action = if payable(p) {
            pay_button(p)
        } else {
            String::new()
        };
        let _ = write!(
            rows,
            "<tr><td><a href=\"/i/{id}\">{id}</a></td><td>{due}</td><td>{value}</td>\
             <td>{billing}</td><td>{status}</td><td>{action}</td></tr>",
            id = escape(&p.id),
            due = wire::date(p.due_date),
            value = money(p.value),
            billing = p.billing_type.as_str(),
            status = badge(p.status),
        );
    }
    if rows.is_empty() {
        return "<p class=\"muted\">No payments.</p>".into();
    }
    format!(
        "<table><thead><tr><th>Payment</th><th>Due</th><th>Value</th><th>Billing</th>\
         <th>Status</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

/// `GET /i/{payment_id}`.
pub(super) async fn invoice(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    let (payment, customer) = {
        let db = sim.db();
        let Some(payment) = db.payment(&id).filter(|p| !p.deleted).cloned() else {
            return not_found();
        };
        let customer = db.customer(&payment.customer).map(|c| c.name.clone());
        (payment, customer.unwrap_or_default())
    };
    let mut body = format!(
        "<section class=\"card invoice\"><h1>{value}</h1>\
         <dl><dt>Customer</dt><dd>{customer}</dd><dt>Description</dt><dd>{description}</dd>\
         <dt>Due date</dt><dd>{due}</dd><dt>Billing</dt><dd>{billing}</dd>\
         <dt>Status</dt><dd>{status}{paid}</dd><dt>Invoice</dt><dd>{number} · {id}</dd></dl>",
        value = money(payment.value),
        customer = escape(&customer),
        description = escape(payment.description.as_deref().unwrap_or("—")),
        due = wire::date(payment.due_date),
        billing = payment.billing_type.as_str(),
        status = badge(payment.status),
        paid = payment
            .confirmed_date
            .map(|d| format!(" on {}", wire::date(d)))
            .unwrap_or_default(),
        number = escape(&payment.invoice_number),
        id = escape(&payment.id),
    );
    if payable(&payment) {
        if payment.billing_type != BillingType::CreditCard {
            let payload = pix::payload(&payment);
            let image = STANDARD.encode(crate::simulators::qr_image::qr_png(&payload));
            let _ = write!(
                body,
                "<h2>PIX</h2><img class=\"qr\" alt=\"PIX QR code (simulated, not scannable)\" \
                 src=\"data:image/png;base64,{image}\"><p class=\"muted\">Simulated: the picture is \
                 not a scannable code.</p><p>Copy and paste:</p><code>{payload}</code>",
                payload = escape(&payload),
            );
        }
        body.push_str(&pay_button(&payment));
    }
    body.push_str("</section>");
    layout(&format!("Invoice {}", payment.invoice_number), &body).into_response()
}

/// `POST /i/{payment_id}/pay`: pays by PIX (by card for a card charge), then shows the
/// invoice again. Paying twice just shows the invoice as it is.
pub(super) async fn pay(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    let billing = {
        let db = sim.db();
        match db.payment(&id).filter(|p| !p.deleted) {
            Some(p) if p.billing_type == BillingType::CreditCard => BillingType::CreditCard,
            Some(_) => BillingType::Pix,
            None => return not_found(),
        }
    };
    if let Err(message) = control::pay(&sim, &id, billing) {
        tracing::debug!(%message, "asaas simulator page: payment not made");
    }
    Redirect::to(&format!("/i/{id}")).into_response()
}

fn not_found() -> Response {
    let page = layout(
        "Not found",
        "<h1>Not found</h1><p>No such payment.</p><p><a href=\"/\">Back</a></p>",
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

const STYLE: &str = "\
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1d2433; background: #f4f6fb; }
header { padding: 12px 24px; background: #0030b9; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
header small { font-weight: 400; opacity: .75; }
main { max-width: 880px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin: 16px 0; }
h2 { font-size: 16px; margin: 0 0 12px; }
h2 small { color: #667085; font-weight: 400; }
.card { background: #fff; border: 1px solid #e3e8f2; border-radius: 10px; padding: 16px 20px; margin-bottom: 16px; }
.invoice { max-width: 480px; margin: 0 auto; }
.invoice h1 { font-size: 28px; }
dl { display: grid; grid-template-columns: 120px 1fr; gap: 6px 12px; margin: 0 0 16px; }
dt { color: #667085; }
dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 6px; border-top: 1px solid #eef1f6; vertical-align: middle; }
th { color: #667085; font-weight: 500; border-top: 0; }
td form { margin: 0; }
code { display: block; padding: 10px; background: #f4f6fb; border-radius: 6px; font-size: 12px; overflow-wrap: anywhere; }
.qr { display: block; width: 168px; height: 168px; margin: 8px 0; image-rendering: pixelated; }
button { margin-top: 12px; padding: 8px 16px; border: 0; border-radius: 6px; background: #0030b9; color: #fff; font: inherit; cursor: pointer; }
td button { margin: 0; padding: 4px 10px; }
button:hover { background: #00228a; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 99px; font-size: 12px; font-weight: 600; background: #eef1f6; }
.badge.pending { background: #fff4d6; color: #8a5a00; }
.badge.overdue { background: #fde2e1; color: #a3261b; }
.badge.received, .badge.confirmed, .badge.received_in_cash { background: #dcf5e6; color: #146c3a; }
.muted { color: #667085; }
";
