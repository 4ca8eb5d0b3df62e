use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Instance, StatusChange,
    live::{Live, Opened},
    seal,
    store::{self, NewInstance, Seen},
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    entitlements::{self, Resource},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
    providers::adapters::{Connection, Qr, Session},
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_instances, create_instance))
        .routes(routes!(get_instance, delete_instance))
        .routes(routes!(connect_instance))
        .routes(routes!(check_instance))
        .routes(routes!(logout_instance))
        .routes(routes!(instance_history))
}

async fn found(state: &AppState, scope: &AccountScope, id: Uuid) -> AppResult<Instance> {
    store::get(&state.db, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The account's WhatsApp numbers (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances", tag = "providers",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Vec<Instance>), (status = 404, body = Problem)))]
async fn list_instances(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Vec<Instance>>> {
    Ok(ApiJson(store::list(&state.db, scope.account_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstanceInput {
    pub provider_id: Uuid,
    /// Its name on the provider server: letters, digits, `-` and `_`.
    pub name: String,
}

/// Creates a number on a provider server (admins), within `max_instances`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances", tag = "providers",
    params(("accountId" = Uuid, Path)), request_body = NewInstanceInput,
    responses((status = 201, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn create_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<NewInstanceInput>,
) -> AppResult<(StatusCode, ApiJson<Instance>)> {
    scope.require(Role::Admin)?;
    let mut v = Validator::default();
    let name_ok = (1..=64).contains(&body.name.len())
        && body
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    v.check(
        name_ok,
        "name",
        "must be 1 to 64 of letters, digits, - and _",
    );
    v.finish()?;
    let opened = Opened::of(&state, scope.account_id, body.provider_id).await?;
    // The slot first (without holding it across the call), then again when recording.
    let defaults = &state.config.plan_defaults;
    {
        let mut tx = state.db.begin().await?;
        entitlements::ensure_capacity(&mut tx, defaults, scope.account_id, Resource::Instances)
            .await?;
    }
    let made = super::make_on_server(&state, opened.adapter, &opened.server(), &body.name).await?;
    let id = made.id;
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    if let Err(err) =
        entitlements::ensure_capacity(&mut tx, defaults, scope.account_id, Resource::Instances)
            .await
    {
        drop(tx);
        // Another create took the last slot meanwhile: the number made is taken back.
        let session = Session {
            name: &body.name,
            token: &made.token,
        };
        let _ = opened
            .adapter
            .delete(&state.providers, &opened.server(), &session)
            .await;
        return Err(err);
    }
    let sealed = seal(&state.vault, id, &made.token);
    let sealed_secret = super::seal_secret(&state.vault, id, &made.secret);
    let new = NewInstance {
        id,
        account_id: scope.account_id,
        provider_id: body.provider_id,
        name: &body.name,
        sealed: &sealed,
        sealed_secret: &sealed_secret,
        now,
    };
    store::insert(&mut tx, &new).await?;
    let instance = store::get(&mut tx, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry = AuditEntry::new(&scope, "instance.created", "instance", id)
        .changes(None::<&Instance>, Some(&instance));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(instance)))
}

/// One number (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances/{instanceId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Instance), (status = 404, body = Problem)))]
async fn get_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Instance>> {
    Ok(ApiJson(found(&state, &scope, path.1).await?))
}

/// Records what the provider said of the instance, audited when it changed.
async fn seen(
    state: &AppState,
    scope: &AccountScope,
    id: Uuid,
    connection: &Connection,
    reason: &str,
    source: &str,
) -> AppResult<Instance> {
    let mut tx = state.db.begin().await?;
    let before = store::get(&mut tx, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let seen = Seen {
        status: connection.status.as_str(),
        raw: &connection.raw,
        reason,
        source,
    };
    if store::record(&mut tx, scope.account_id, id, &seen, clock::now()).await? {
        let after = store::get(&mut tx, scope.account_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let entry = AuditEntry::new(scope, "instance.status_changed", "instance", id).changes(
            Some(&serde_json::json!({"status": before.status})),
            Some(&serde_json::json!({"status": after.status})),
        );
        audit::record(&mut tx, entry).await?;
    }
    let instance = store::get(&mut tx, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(instance)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectInput {
    /// `qr` (scan with the phone) or `pairing_code` (type a code on the phone).
    #[schema(example = "qr")]
    pub method: String,
    /// With `pairing_code`: the number, digits with country code.
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Connecting {
    pub instance: Instance,
    /// The QR to scan, while one is shown (providers rotate it: ask again).
    pub qr: Option<Qr>,
    pub pairing_code: Option<String>,
}

/// Starts (or resumes) the session of a number (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/connect", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)), request_body = ConnectInput,
    responses((status = 200, body = Connecting), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn connect_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ConnectInput>,
) -> AppResult<ApiJson<Connecting>> {
    scope.require(Role::Admin)?;
    let phone = body
        .phone
        .as_deref()
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>());
    let mut v = Validator::default();
    v.check(
        matches!(body.method.as_str(), "qr" | "pairing_code"),
        "method",
        "must be qr or pairing_code",
    );
    if body.method == "pairing_code" {
        v.check(
            phone.as_ref().is_some_and(|p| (10..=15).contains(&p.len())),
            "phone",
            "must be the number with country code",
        );
    }
    v.finish()?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let (opened, session) = (&live.opened, live.session());
    let phone = phone.filter(|_| body.method == "pairing_code");
    let connection = opened
        .adapter
        .connect(
            &state.providers,
            &opened.server(),
            &session,
            phone.as_deref(),
        )
        .await?;
    let instance = seen(&state, &scope, path.1, &connection, "connect", "user").await?;
    Ok(ApiJson(Connecting {
        instance,
        qr: connection.qr,
        pairing_code: connection.pairing_code,
    }))
}

/// Asks the provider where the session stands now (admins and supervisors).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/check", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 502, body = Problem)))]
async fn check_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Instance>> {
    scope.require(Role::Supervisor)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let (opened, session) = (&live.opened, live.session());
    let connection = opened
        .adapter
        .status(&state.providers, &opened.server(), &session)
        .await?;
    Ok(ApiJson(
        seen(&state, &scope, path.1, &connection, "check", "check").await?,
    ))
}

/// Ends the number's session; the instance stays, to connect again (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/logout", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 502, body = Problem)))]
async fn logout_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Instance>> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let (opened, session) = (&live.opened, live.session());
    opened
        .adapter
        .logout(&state.providers, &opened.server(), &session)
        .await?;
    let ended = Connection {
        status: crate::providers::adapters::Status::Disconnected,
        raw: "close".into(),
        qr: None,
        pairing_code: None,
    };
    Ok(ApiJson(
        seen(&state, &scope, path.1, &ended, "logout", "user").await?,
    ))
}

/// Deletes the number from its provider server and from the hub (admins); its slot is free
/// at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/instances/{instanceId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 502, body = Problem)))]
async fn delete_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let (opened, session) = (&live.opened, live.session());
    opened
        .adapter
        .delete(&state.providers, &opened.server(), &session)
        .await?;
    let mut tx = state.db.begin().await?;
    store::delete(&mut tx, scope.account_id, path.1, clock::now()).await?;
    let entry = AuditEntry::new(&scope, "instance.deleted", "instance", path.1)
        .changes(Some(&live.instance), None::<&Instance>);
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The number's changes of status, newest first (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/history", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Vec<StatusChange>), (status = 404, body = Problem)))]
async fn instance_history(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Vec<StatusChange>>> {
    found(&state, &scope, path.1).await?;
    Ok(ApiJson(
        store::history(&state.db, scope.account_id, path.1).await?,
    ))
}
