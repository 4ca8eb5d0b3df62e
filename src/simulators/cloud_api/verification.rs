//! Meta's verification handshake, run before an override callback is stored:
//! `GET <callback>?hub.mode=subscribe&hub.challenge=<int>&hub.verify_token=<token>`, passed
//! only by a 200 whose body is exactly the challenge. The failure reasons follow the text
//! Graph puts after "Callback verification failed with the following errors:".

use super::Shared;

/// Runs the handshake against `callback`; `Err` holds why it failed.
pub(super) async fn handshake(
    shared: &Shared,
    callback: &str,
    verify_token: &str,
) -> Result<(), String> {
    let Ok(mut url) = reqwest::Url::parse(callback) else {
        return Err(format!("Invalid callback URL: {callback}"));
    };
    let challenge = rand::random_range(100_000_000..2_000_000_000u32).to_string();
    url.query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", &challenge)
        .append_pair("hub.verify_token", verify_token);
    let Some(answer) = shared.webhooks.get("verification", url).await else {
        return Err("curl_errno = 7; curl_error = Couldn't connect to server; \
                    HTTP Status Code = 0; HTTP Message = Unknown Response Code"
            .to_string());
    };
    let status = answer.status();
    let reason = status.canonical_reason().unwrap_or_default();
    if status.as_u16() != 200 {
        return Err(format!(
            "HTTP Status Code = {}; HTTP Message = {reason}",
            status.as_u16()
        ));
    }
    let body = answer.text().await.unwrap_or_default();
    if body != challenge {
        let received: String = body.chars().take(64).collect();
        return Err(format!(
            "HTTP Status Code = 200; HTTP Message = OK; Response does not match challenge, \
             expected value=\"{challenge}\", received=\"{received}\""
        ));
    }
    Ok(())
}
