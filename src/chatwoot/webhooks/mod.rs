//! Chatwoot's webhooks: received at one URL per account, checked (signature and a
//! 5-minute window, or explicitly unsigned for Chatwoot before 4.11.2) and stored in the
//! inbound queue with a de-duplication key before they are acknowledged. The worker hands
//! each one, decoded once, to every consumer registered for its event (`handler`).

mod handler;
mod intake;
mod receivers;

pub use handler::{Consumer, FromChatwoot};
pub use intake::router;
pub use receivers::Receivers;
