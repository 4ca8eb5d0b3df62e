//! Evolution API v2: one `apikey` header; the server's global key is the provider's
//! credential (it alone may create instances, and `POST /verify-creds` accepts only it).
//! Errors come as `{status, error, response: {message}}` with `message` a string, a list,
//! or a list of lists.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{Adapter, Server};
use crate::providers::http::{ProviderClient, ProviderError, unreachable};

pub struct Evolution;

impl Adapter for Evolution {
    fn verify<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let response = client
                .0
                .post(format!("{}/verify-creds", server.base_url))
                .header("apikey", server.credentials.get("api_key"))
                .send()
                .await
                .map_err(|e| unreachable(&e))?;
            match response.status().as_u16() {
                200 | 201 => {
                    // Anything answering 200 is not yet an Evolution server.
                    let body: Value = response
                        .json()
                        .await
                        .map_err(|_| ProviderError::Unreachable("not an Evolution API server"))?;
                    if body.get("status").is_some() || body.get("message").is_some() {
                        Ok(())
                    } else {
                        Err(ProviderError::Unreachable("not an Evolution API server"))
                    }
                }
                401 | 403 => Err(ProviderError::CredentialsRefused),
                404 => Err(ProviderError::Unreachable(
                    "not an Evolution API server (no /verify-creds)",
                )),
                400 | 422 => {
                    let body: Value = response.json().await.unwrap_or_default();
                    Err(ProviderError::Rejected(message_of(&body)))
                }
                _ => Err(ProviderError::Unreachable(
                    "the server answered with an error",
                )),
            }
        })
    }
}

/// Evolution's `response.message`, whatever its shape, as one line.
fn message_of(body: &Value) -> String {
    fn flatten(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
            Value::Object(_) => out.push(value.to_string()),
            _ => {}
        }
    }
    let mut parts = Vec::new();
    flatten(&body["response"]["message"], &mut parts);
    if parts.is_empty() {
        "The Evolution server refused the request.".into()
    } else {
        crate::platform::text::one_line(&parts.join("; "), 500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_of_every_shape_read_as_one_line() {
        let text = |m: Value| message_of(&json!({"status": 400, "response": {"message": m}}));
        assert_eq!(text(json!("Unauthorized")), "Unauthorized");
        assert_eq!(text(json!(["a", "b"])), "a; b");
        assert_eq!(
            text(json!([["instance requires property \"rejectCall\""]])),
            "instance requires property \"rejectCall\""
        );
        assert!(text(json!([{"exists": false, "number": "55"}])).contains("\"exists\":false"));
        assert_eq!(
            text(json!(null)),
            "The Evolution server refused the request."
        );
    }
}
