//! The phone's side, for the demo: a page listing the instances with a button that "scans"
//! the QR of one waiting for it, and the endpoint the button (or a test) calls. Not part of
//! Evolution's API: no key, like a phone in the room.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::Shared;

pub(super) async fn page(State(shared): State<Arc<Shared>>) -> Html<String> {
    let mut rows = String::new();
    let mut instances: Vec<_> = shared.instances().values().cloned().collect();
    instances.sort_by(|a, b| a.name.cmp(&b.name));
    for i in &instances {
        let name = escape(&i.name);
        let action = if i.state == "connecting" {
            format!(
                "<form method=\"post\" action=\"/simulator/instances/{name}/scan\">\
                 <button>Scan QR with the phone (simulated)</button></form>"
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            i.state,
            escape(i.owner.as_deref().unwrap_or("—"))
        ));
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Evolution API (simulator)</title><style>\
         body{{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1f2937}}\
         table{{border-collapse:collapse}}td,th{{padding:.4rem .8rem;border-bottom:1px solid #e5e7eb;text-align:left}}\
         button{{padding:.35rem .8rem;border-radius:6px;border:1px solid #1f93ff;background:#1f93ff;color:#fff;cursor:pointer}}\
         </style></head><body><h1>Evolution API (simulator)</h1>\
         <p>Instances on this server. One showing a QR can be \"scanned\" here.</p>\
         <table><tr><th>Instance</th><th>State</th><th>Phone</th><th></th></tr>{rows}</table>\
         </body></html>"
    ))
}

/// Opens the session of an instance showing a QR, as the phone would; back to the page.
pub(super) async fn scan(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match open_session(&shared, &name, "5511999990000") {
        Ok(()) => (StatusCode::SEE_OTHER, [(header::LOCATION, "/manager")]).into_response(),
        Err(why) => (StatusCode::CONFLICT, why).into_response(),
    }
}

/// The phone scans instance `name`'s QR (or types its pairing code) as `phone`.
pub(super) fn open_session(shared: &Shared, name: &str, phone: &str) -> Result<(), &'static str> {
    let mut instances = shared.instances();
    let instance = instances.get_mut(name).ok_or("no such instance")?;
    if instance.state != "connecting" {
        return Err("this instance shows no QR");
    }
    instance.state = "open";
    let wuid = format!("{phone}@s.whatsapp.net");
    instance.owner = Some(wuid.clone());
    let data = serde_json::json!({"instance": name, "wuid": wuid, "profileName": "Demo phone",
        "profilePictureUrl": null, "state": "open", "statusReason": 200});
    super::events::emit(shared, instance, "connection.update", data);
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
