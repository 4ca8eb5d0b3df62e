//! Asaas's values as its API spells them (shared/asaas/FACTS.md), written here apart from
//! the hub's client: a misspelt enum in the client must fail against the simulator, not be
//! mirrored by it.

use time::{Date, Duration, Month, format_description::BorrowedFormatItem, macros};

/// An enum whose variants travel as fixed upper-case words.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }
    };
}

wire_enum!(
    /// How the customer pays; `Undefined` lets them choose on the invoice page.
    BillingType {
        Boleto => "BOLETO",
        CreditCard => "CREDIT_CARD",
        Pix => "PIX",
        Undefined => "UNDEFINED",
    }
);

wire_enum!(
    Cycle {
        Weekly => "WEEKLY",
        Biweekly => "BIWEEKLY",
        Monthly => "MONTHLY",
        Bimonthly => "BIMONTHLY",
        Quarterly => "QUARTERLY",
        Semiannually => "SEMIANNUALLY",
        Yearly => "YEARLY",
    }
);

wire_enum!(
    /// The payment statuses the simulator produces (Asaas has more; see FACTS).
    PaymentStatus {
        Pending => "PENDING",
        Confirmed => "CONFIRMED",
        Received => "RECEIVED",
        ReceivedInCash => "RECEIVED_IN_CASH",
        Overdue => "OVERDUE",
        Refunded => "REFUNDED",
    }
);

wire_enum!(
    SubscriptionStatus {
        Active => "ACTIVE",
        Inactive => "INACTIVE",
        Expired => "EXPIRED",
    }
);

wire_enum!(
    /// `sendType` of a webhook configuration.
    SendType {
        Sequentially => "SEQUENTIALLY",
        NonSequentially => "NON_SEQUENTIALLY",
    }
);

wire_enum!(
    /// The webhook events the simulator emits.
    Event {
        PaymentCreated => "PAYMENT_CREATED",
        PaymentUpdated => "PAYMENT_UPDATED",
        PaymentConfirmed => "PAYMENT_CONFIRMED",
        PaymentReceived => "PAYMENT_RECEIVED",
        PaymentOverdue => "PAYMENT_OVERDUE",
        PaymentDeleted => "PAYMENT_DELETED",
        PaymentRefunded => "PAYMENT_REFUNDED",
        SubscriptionCreated => "SUBSCRIPTION_CREATED",
        SubscriptionUpdated => "SUBSCRIPTION_UPDATED",
        SubscriptionInactivated => "SUBSCRIPTION_INACTIVATED",
        SubscriptionDeleted => "SUBSCRIPTION_DELETED",
    }
);

impl PaymentStatus {
    /// Money reached (or is on its way to) the account: no longer chargeable.
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            PaymentStatus::Confirmed | PaymentStatus::Received | PaymentStatus::ReceivedInCash
        )
    }
}

impl Event {
    /// Whether the body carries `subscription` rather than `payment`.
    pub fn is_subscription(self) -> bool {
        self.as_str().starts_with("SUBSCRIPTION_")
    }
}

/// Every event name a webhook configuration may subscribe to (FACTS), emitted or not.
pub const KNOWN_EVENTS: &[&str] = &[
    "PAYMENT_CREATED",
    "PAYMENT_UPDATED",
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_OVERDUE",
    "PAYMENT_DELETED",
    "PAYMENT_RESTORED",
    "PAYMENT_REFUNDED",
    "PAYMENT_PARTIALLY_REFUNDED",
    "PAYMENT_REFUND_IN_PROGRESS",
    "PAYMENT_RECEIVED_IN_CASH_UNDONE",
    "PAYMENT_ANTICIPATED",
    "PAYMENT_AUTHORIZED",
    "PAYMENT_AWAITING_RISK_ANALYSIS",
    "PAYMENT_APPROVED_BY_RISK_ANALYSIS",
    "PAYMENT_REPROVED_BY_RISK_ANALYSIS",
    "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",
    "PAYMENT_CHARGEBACK_REQUESTED",
    "PAYMENT_CHARGEBACK_DISPUTE",
    "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
    "PAYMENT_DUNNING_REQUESTED",
    "PAYMENT_DUNNING_RECEIVED",
    "PAYMENT_BANK_SLIP_VIEWED",
    "PAYMENT_CHECKOUT_VIEWED",
    "SUBSCRIPTION_CREATED",
    "SUBSCRIPTION_UPDATED",
    "SUBSCRIPTION_INACTIVATED",
    "SUBSCRIPTION_DELETED",
    "SUBSCRIPTION_SPLIT_DIVERGENCE_BLOCK",
    "SUBSCRIPTION_SPLIT_DIVERGENCE_BLOCK_FINISHED",
];

impl Cycle {
    /// The due date one cycle after `from`. Month-based cycles land on `day` (the day of
    /// the month the subscription was set up for), clamped to short months, so a plan due
    /// on the 31st goes Jan 31 → Feb 28 → Mar 31 instead of drifting to the 28th.
    pub fn after(self, from: Date, day: u8) -> Date {
        let months = match self {
            Cycle::Weekly => return from + Duration::weeks(1),
            Cycle::Biweekly => return from + Duration::weeks(2),
            Cycle::Monthly => 1,
            Cycle::Bimonthly => 2,
            Cycle::Quarterly => 3,
            Cycle::Semiannually => 6,
            Cycle::Yearly => 12,
        };
        let index = from.year() * 12 + i32::from(u8::from(from.month())) - 1 + months;
        let year = index.div_euclid(12);
        let month = Month::try_from(index.rem_euclid(12) as u8 + 1).unwrap_or(Month::January);
        Date::from_calendar_date(year, month, day.min(month.length(year))).unwrap_or(from)
    }
}

/// `2025-03-01`: how Asaas writes dates in the API and in payment webhooks.
pub const DATE: &[BorrowedFormatItem<'_>] = macros::format_description!("[year]-[month]-[day]");

/// `01/03/2025`: how Asaas's subscription webhook example writes dates (the FACTS trap).
pub const DATE_BR: &[BorrowedFormatItem<'_>] = macros::format_description!("[day]/[month]/[year]");

/// `2025-03-01 14:05:09`: event `dateCreated` and the PIX `expirationDate`.
pub const DATE_TIME: &[BorrowedFormatItem<'_>] =
    macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

pub fn date(date: Date) -> String {
    date.format(DATE).unwrap_or_default()
}

pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, DATE).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn month_cycles_keep_the_day_of_the_month() {
        let feb = Cycle::Monthly.after(date!(2025 - 01 - 31), 31);
        assert_eq!(feb, date!(2025 - 02 - 28));
        assert_eq!(Cycle::Monthly.after(feb, 31), date!(2025 - 03 - 31));
        assert_eq!(
            Cycle::Yearly.after(date!(2024 - 02 - 29), 29),
            date!(2025 - 02 - 28)
        );
        assert_eq!(
            Cycle::Quarterly.after(date!(2025 - 11 - 15), 15),
            date!(2026 - 02 - 15)
        );
        assert_eq!(
            Cycle::Biweekly.after(date!(2025 - 12 - 25), 25),
            date!(2026 - 01 - 08)
        );
    }

    #[test]
    fn names_round_trip() {
        for cycle in Cycle::ALL {
            assert_eq!(Cycle::parse(cycle.as_str()), Some(*cycle));
        }
        assert_eq!(BillingType::parse("pix"), None);
        assert!(
            Event::ALL
                .iter()
                .all(|event| KNOWN_EVENTS.contains(&event.as_str()))
        );
    }
}
