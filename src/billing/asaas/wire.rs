//! What Asaas sends and takes, as far as billing reads it. Enumerations stay strings:
//! Asaas adds values (statuses, events) without notice, and one unknown value must not
//! make a payment unreadable.

use serde::{Deserialize, Serialize};
use time::{Date, macros::format_description};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    #[serde(default)]
    pub external_reference: Option<String>,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomer<'a> {
    pub name: &'a str,
    pub cpf_cnpj: &'a str,
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<&'a str>,
    pub external_reference: String,
    /// Asaas's own e-mails and SMS about charges (invoice, due date, receipt): left on,
    /// they reach the person who pays.
    pub notification_disabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    #[serde(default)]
    pub value: f64,
    /// `ACTIVE`, `INACTIVE`, `EXPIRED`, or a value added later.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub external_reference: Option<String>,
}

impl Subscription {
    /// Whether Asaas still charges it: not deleted, and not ended (a status Asaas adds
    /// later is not taken for an ending).
    pub fn is_live(&self) -> bool {
        !self.deleted && !matches!(self.status.as_str(), "INACTIVE" | "EXPIRED")
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSubscription<'a> {
    pub customer: &'a str,
    pub billing_type: &'a str,
    pub value: f64,
    /// `YYYY-MM-DD`: the first charge's due date.
    pub next_due_date: String,
    pub cycle: &'a str,
    pub description: &'a str,
    pub external_reference: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    #[serde(default)]
    pub subscription: Option<String>,
    pub value: f64,
    /// `PENDING`, `RECEIVED`, `CONFIRMED`, `OVERDUE`, `REFUNDED`, … (see [`Standing`]).
    pub status: String,
    #[serde(default)]
    pub billing_type: String,
    pub due_date: String,
    #[serde(default)]
    pub payment_date: Option<String>,
    #[serde(default)]
    pub confirmed_date: Option<String>,
    #[serde(default)]
    pub client_payment_date: Option<String>,
    #[serde(default)]
    pub invoice_url: Option<String>,
    #[serde(default)]
    pub deleted: bool,
}

impl Payment {
    /// When it was paid, as far as Asaas says: settled, else confirmed, else the day the
    /// customer paid.
    pub fn paid_on(&self) -> Option<Date> {
        [
            &self.payment_date,
            &self.confirmed_date,
            &self.client_payment_date,
        ]
        .into_iter()
        .flatten()
        .find_map(|raw| parse_date(raw))
    }
}

/// What a payment's status means for access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Paid (settled or confirmed by the card network).
    Paid,
    /// Past its due date, unpaid.
    Overdue,
    /// Waiting for payment, or in a state that has not decided yet (risk analysis).
    Open,
    /// Money given back or taken back: it pays for nothing.
    Void,
}

pub fn standing(status: &str) -> Standing {
    match status {
        "RECEIVED" | "CONFIRMED" | "RECEIVED_IN_CASH" | "DUNNING_RECEIVED" => Standing::Paid,
        "OVERDUE" | "DUNNING_REQUESTED" => Standing::Overdue,
        "REFUNDED"
        | "REFUND_REQUESTED"
        | "REFUND_IN_PROGRESS"
        | "CHARGEBACK_REQUESTED"
        | "CHARGEBACK_DISPUTE"
        | "AWAITING_CHARGEBACK_REVERSAL" => Standing::Void,
        // PENDING, AWAITING_RISK_ANALYSIS, AUTHORIZED and whatever Asaas adds next.
        _ => Standing::Open,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PixQrCode {
    pub encoded_image: String,
    pub payload: String,
    #[serde(default)]
    pub expiration_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorItem {
    #[serde(default)]
    pub description: String,
}

/// A webhook as Asaas posts it: only what routes it; the rest is read back from the API.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    pub event: String,
    #[serde(default)]
    pub payment: Option<EventObject>,
    #[serde(default)]
    pub subscription: Option<EventObject>,
}

#[derive(Debug, Deserialize)]
pub struct EventObject {
    pub id: String,
}

/// A date as Asaas writes it: `YYYY-MM-DD` on payments, `DD/MM/YYYY` in some subscription
/// payloads, sometimes with a time after it.
pub fn parse_date(raw: &str) -> Option<Date> {
    let day = raw.get(..10)?;
    Date::parse(day, format_description!("[year]-[month]-[day]"))
        .or_else(|_| Date::parse(day, format_description!("[day]/[month]/[year]")))
        .ok()
}

pub fn format_date(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_either_form_and_unknown_statuses_parse() {
        let day = time::macros::date!(2026 - 12 - 06);
        assert_eq!(parse_date("2026-12-06"), Some(day));
        assert_eq!(parse_date("06/12/2026"), Some(day));
        assert_eq!(parse_date("2026-12-06 10:11:12"), Some(day));
        assert_eq!(parse_date("12/2026"), None);
        assert_eq!(standing("SOMETHING_NEW"), Standing::Open);
        assert_eq!(standing("CONFIRMED"), Standing::Paid);
        let payment: Payment = serde_json::from_value(serde_json::json!({
            "id": "pay_1", "value": 149.9, "status": "A_STATUS_FROM_2027",
            "dueDate": "2026-12-06", "unknownField": {"nested": true}
        }))
        .unwrap();
        assert_eq!(standing(&payment.status), Standing::Open);
    }
}
