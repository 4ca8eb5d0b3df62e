//! Compares our JSON against Chatwoot's sample payloads: same keys, same value kinds.

use serde_json::Value;

/// Free-form maps whose keys vary per record.
const FREE_FORM: &[&str] = &[
    "additional_attributes",
    "custom_attributes",
    "content_attributes",
    "external_source_ids",
    "sentiment",
];

/// Panics with the path of the first difference. `null` on either side matches any kind
/// (a sample's null may be our value and the reverse); arrays compare first items.
pub(crate) fn assert_same_shape(path: &str, sample: &Value, ours: &Value) {
    match (sample, ours) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(a), Value::Object(b)) => {
            let mut ka: Vec<_> = a.keys().collect();
            let mut kb: Vec<_> = b.keys().collect();
            ka.sort();
            kb.sort();
            assert_eq!(ka, kb, "keys differ at {path}");
            for (key, value) in a {
                if !FREE_FORM.contains(&key.as_str()) {
                    assert_same_shape(&format!("{path}.{key}"), value, &b[key]);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                assert_same_shape(&format!("{path}[0]"), x, y);
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        _ => panic!("kinds differ at {path}: sample {sample} vs ours {ours}"),
    }
}

pub(crate) fn sample(name: &str) -> Value {
    let text = match name {
        "conversation_created" => include_str!("fixtures/conversation_created.json"),
        "conversation_status_changed" => include_str!("fixtures/conversation_status_changed.json"),
        "message_created" => include_str!("fixtures/message_created.json"),
        other => panic!("no sample {other}"),
    };
    serde_json::from_str(text).expect("sample JSON")
}

#[test]
fn the_comparator_catches_missing_keys_and_kind_changes() {
    let conv = sample("conversation_created");
    assert_same_shape("$", &conv, &conv);
    let mut missing = conv.clone();
    missing.as_object_mut().unwrap().remove("can_reply");
    assert!(std::panic::catch_unwind(|| assert_same_shape("$", &conv, &missing)).is_err());
    let mut retyped = conv.clone();
    retyped["meta"]["sender"]["id"] = Value::String("5407".into());
    assert!(std::panic::catch_unwind(|| assert_same_shape("$", &conv, &retyped)).is_err());
}
