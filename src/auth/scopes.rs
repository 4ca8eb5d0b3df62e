//! API-key scopes: `<resource>:<read|write>`, checked on every account route. The
//! resource is the first path segment after `/api/v1/accounts/{accountId}`; reads are GET
//! and HEAD, everything else writes. A segment missing from the table is closed to keys,
//! so a new route is safe before anyone maps it.

use axum::http::Method;

/// Every scope a key may hold.
pub const ALL: &[&str] = &[
    "account:read",
    "account:write",
    "users:read",
    "users:write",
    "teams:read",
    "teams:write",
    "audit:read",
    "inboxes:read",
    "inboxes:write",
    "kanban:read",
    "kanban:write",
    "chat:read",
    "chat:write",
    "providers:read",
    "providers:write",
    "billing:read",
    "billing:write",
];

fn resource_of(segment: &str) -> Option<&'static str> {
    Some(match segment {
        "" | "usage" | "features" | "chatwoot" | "webhook-deliveries" => "account",
        "users" => "users",
        "teams" => "teams",
        "audit-logs" => "audit",
        "inboxes" => "inboxes",
        "boards" => "kanban",
        "chat" => "chat",
        "providers" | "instances" => "providers",
        "billing" | "subscription" | "invoices" => "billing",
        _ => return None,
    })
}

/// The section of an account route: the first segment after
/// `/api/v1/accounts/{accountId}` (`""` for the account itself); `None` for other routes.
pub fn section_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/accounts/")?;
    Some(rest.split('/').nth(1).unwrap_or(""))
}

/// The scope a request to `path` with `method` needs, or `None` when keys may not call it.
pub fn required(path: &str, method: &Method) -> Option<String> {
    let segment = section_of(path)?;
    // A number's QR is the number itself to whoever scans it: reading it is managing it.
    let hands_over_a_number = segment == "instances" && path.ends_with("/qr");
    let action = if matches!(*method, Method::GET | Method::HEAD) && !hands_over_a_number {
        "read"
    } else {
        "write"
    };
    let scope = format!("{}:{action}", resource_of(segment)?);
    ALL.contains(&scope.as_str()).then_some(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_routes_to_scopes_and_closes_unknown_ones() {
        let id = "0190f0e6-0000-7000-8000-000000000000";
        let scope =
            |method: Method, rest: &str| required(&format!("/api/v1/accounts/{id}{rest}"), &method);
        assert_eq!(scope(Method::GET, "").as_deref(), Some("account:read"));
        assert_eq!(scope(Method::PUT, "").as_deref(), Some("account:write"));
        assert_eq!(
            scope(Method::GET, "/teams/x/members").as_deref(),
            Some("teams:read")
        );
        assert_eq!(
            scope(Method::DELETE, "/users/x/sessions").as_deref(),
            Some("users:write")
        );
        assert_eq!(
            scope(Method::GET, "/audit-logs").as_deref(),
            Some("audit:read")
        );
        assert_eq!(
            scope(Method::POST, "/audit-logs"),
            None,
            "audit:write does not exist"
        );
        assert_eq!(
            scope(Method::GET, "/api-keys"),
            None,
            "keys cannot manage keys"
        );
        assert_eq!(scope(Method::PUT, "/entitlements"), None);
        assert_eq!(
            scope(Method::GET, "/instances/x/qr").as_deref(),
            Some("providers:write")
        );
        assert_eq!(
            scope(Method::GET, "/instances/x/history").as_deref(),
            Some("providers:read")
        );
        assert_eq!(required("/api/v1/auth/me", &Method::GET), None);
    }
}
