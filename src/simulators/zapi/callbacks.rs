//! Z-API's callback bodies: flat JSON with a `type` naming the callback and `momment`
//! (sic) in milliseconds (`samples/zapi-webhook-*.json`).

use serde_json::{Value, json};

use super::{SentText, ZapiInstance};
use crate::simulators::now_millis;

/// The phone connected (after a scan, or a restart of a connected instance).
pub(super) fn connected(instance: &ZapiInstance) -> Value {
    json!({
        "type": "ConnectedCallback",
        "connected": true,
        "momment": now_millis(),
        "instanceId": instance.id,
        "phone": instance.phone,
    })
}

/// The phone's session ended on its side.
pub(super) fn disconnected(instance: &ZapiInstance) -> Value {
    json!({
        "type": "DisconnectedCallback",
        "momment": now_millis(),
        "error": "Device has been disconnected",
        "disconnected": true,
        "instanceId": instance.id,
    })
}

/// A text in the chat with `phone`: one a contact wrote, or (`from_me`) one the instance
/// sent, echoed when `receiveCallbackSentByMe` is on.
pub(super) fn received(
    instance: &ZapiInstance,
    phone: &str,
    text: &str,
    from_me: bool,
    message_id: &str,
) -> Value {
    json!({
        "isStatusReply": false,
        "senderLid": format!("{}@lid", lid(phone)),
        "connectedPhone": instance.phone,
        "waitingMessage": false,
        "isEdit": false,
        "isGroup": false,
        "isNewsletter": false,
        "instanceId": instance.id,
        "messageId": message_id,
        "phone": phone,
        "fromMe": from_me,
        "momment": now_millis(),
        "status": if from_me { "SENT" } else { "RECEIVED" },
        "chatName": phone,
        "senderPhoto": null,
        "senderName": phone,
        "participantPhone": null,
        "photo": null,
        "broadcast": false,
        "type": "ReceivedCallback",
        "text": {"message": text},
    })
}

/// A text the instance sent went out.
pub(super) fn delivery(instance: &ZapiInstance, sent: &SentText) -> Value {
    json!({
        "type": "DeliveryCallback",
        "phone": sent.phone,
        "zaapId": sent.zaap_id,
        "messageId": sent.message_id,
        "instanceId": instance.id,
        "momment": now_millis(),
    })
}

/// A stable 15-digit LID for a phone: WhatsApp's private id of a contact, not its number.
fn lid(phone: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a
    for byte in phone.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    100_000_000_000_000 + hash % 900_000_000_000_000
}
