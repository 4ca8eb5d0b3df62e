//! What an admin does with a number's WhatsApp session: connect it (QR or pairing code),
//! ask where it stands, restart it, end it, send a text through it. Every answer of the
//! provider about the session is recorded, and a change audited.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Instance,
    live::Live,
    store::{self, Seen},
};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
    providers::{
        adapters::{Capabilities, Connection, Qr, Status},
        http::ProviderError,
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connect_instance))
        .routes(routes!(current_qr))
        .routes(routes!(check_instance))
        .routes(routes!(restart_instance))
        .routes(routes!(logout_instance))
        .routes(routes!(send_text))
}

/// 409 `not_supported_by_provider` unless the number's provider type can.
fn require(live: &Live, can: impl Fn(&Capabilities) -> bool, what: &'static str) -> AppResult<()> {
    match can(live.opened.adapter.capabilities()) {
        true => Ok(()),
        false => Err(ProviderError::NotSupported(what).into()),
    }
}

/// 409 `instance_not_connected` unless the number's session is open, as far as the hub
/// knows; a stale one is worth a try (a send or a restart is how its line gets tested).
fn require_session(live: &Live) -> AppResult<()> {
    let usable = [Status::Connected.as_str(), Status::Stale.as_str()];
    match usable.contains(&live.instance.status.as_str()) {
        true => Ok(()),
        false => Err(AppError::Conflict {
            code: "instance_not_connected",
            message: "Connect the number first.".into(),
        }),
    }
}

/// Records what the provider said of the instance.
async fn seen(
    state: &AppState,
    scope: &AccountScope,
    id: Uuid,
    connection: &Connection,
    reason: &str,
    source: &str,
) -> AppResult<Instance> {
    let mut tx = state.db.begin().await?;
    let seen = Seen {
        status: connection.status.as_str(),
        raw: &connection.raw,
        phone: connection.phone.as_deref(),
        seen_at: connection.seen_at,
        reason,
        source,
    };
    let actor = Actor::from(scope);
    let changed = super::observe(&mut tx, actor, scope.account_id, id, &seen, clock::now()).await?;
    let instance = store::get(&mut tx, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    if changed {
        super::announce(state, scope.account_id, id, connection.status);
    }
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
    /// The number's status now.
    pub status: Status,
    /// The QR to scan as an image (`data:image/png;base64,…`), while one is shown.
    pub qr_code: Option<String>,
    /// The QR, with its raw code.
    pub qr: Option<Qr>,
    pub pairing_code: Option<String>,
    /// When the QR or pairing code shown stops working: ask again
    /// (`GET …/instances/:id/qr`) before then, the provider rotates it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
}

impl Connecting {
    fn of(instance: Instance, connection: Connection, can: &Capabilities) -> Connecting {
        let life = match (&connection.qr, &connection.pairing_code) {
            (_, Some(_)) => Some(can.pairing_seconds),
            (Some(_), None) => Some(can.qr_seconds),
            (None, None) => None,
        };
        Connecting {
            instance,
            status: connection.status,
            qr_code: connection.qr.as_ref().map(|qr| qr.image.clone()),
            qr: connection.qr,
            pairing_code: connection.pairing_code,
            expires_at: life.map(|seconds| clock::now() + time::Duration::seconds(seconds.into())),
        }
    }
}

/// Digits of a phone number given with country code, when it has 10 to 15 of them.
pub(super) fn phone_digits(raw: Option<&str>) -> Option<String> {
    let digits: String = raw?.chars().filter(char::is_ascii_digit).collect();
    (10..=15).contains(&digits.len()).then_some(digits)
}

/// Starts (or resumes) the session of a number (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/connect", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)), request_body = ConnectInput,
    responses((status = 200, body = Connecting), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn connect_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ConnectInput>,
) -> AppResult<ApiJson<Connecting>> {
    scope.require(Role::Admin)?;
    let pairing = body.method == "pairing_code";
    let phone = phone_digits(body.phone.as_deref());
    let mut v = Validator::default();
    v.check(
        matches!(body.method.as_str(), "qr" | "pairing_code"),
        "method",
        "must be qr or pairing_code",
    );
    if pairing {
        v.check(
            phone.is_some(),
            "phone",
            "must be the number with country code",
        );
    }
    v.finish()?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    match pairing {
        true => require(&live, |c| c.pairing_code, "pairing codes")?,
        false => require(&live, |c| c.qr, "QR codes")?,
    }
    let phone = phone.filter(|_| pairing);
    let (opened, session) = (&live.opened, live.session());
    let connection = opened
        .adapter
        .connect(&opened.server(), &session, phone.as_deref())
        .await?;
    let instance = seen(&state, &scope, path.1, &connection, "connect", "user").await?;
    let can = opened.adapter.capabilities();
    Ok(ApiJson(Connecting::of(instance, connection, can)))
}

/// The QR the number shows now, read from the provider each time (a QR is never answered
/// past its life); admins only, like every QR. 409 `no_qr_shown` when the number is not
/// waiting for a scan.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/qr", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Connecting), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 502, body = Problem)))]
async fn current_qr(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Connecting>> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    require(&live, |c| c.qr, "QR codes")?;
    let waiting = [Status::QrPending.as_str(), Status::Connecting.as_str()];
    if !waiting.contains(&live.instance.status.as_str()) {
        return Err(AppError::Conflict {
            code: "no_qr_shown",
            message: "The number is not waiting for a scan: connect it first.".into(),
        });
    }
    let (opened, session) = (&live.opened, live.session());
    // Asked while a session connects, `connect` answers the QR it shows (and starts none).
    let connection = opened
        .adapter
        .connect(&opened.server(), &session, None)
        .await?;
    let instance = seen(&state, &scope, path.1, &connection, "qr", "user").await?;
    let can = opened.adapter.capabilities();
    Ok(ApiJson(Connecting::of(instance, connection, can)))
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
    let connection = live.read_back().await?;
    Ok(ApiJson(
        seen(&state, &scope, path.1, &connection, "check", "check").await?,
    ))
}

/// Restarts the number's session without a new scan (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/restart", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn restart_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Instance>> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    require(&live, |c| c.restart, "restarts")?;
    require_session(&live)?;
    let (opened, session) = (&live.opened, live.session());
    opened.adapter.restart(&opened.server(), &session).await?;
    let connection = live.read_back().await?;
    Ok(ApiJson(
        seen(&state, &scope, path.1, &connection, "restart", "user").await?,
    ))
}

/// Ends the number's session; the instance stays, to connect again (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/logout", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 502, body = Problem)))]
async fn logout_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Instance>> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    require(&live, |c| c.logout, "logging out")?;
    let (opened, session) = (&live.opened, live.session());
    opened.adapter.logout(&opened.server(), &session).await?;
    let ended = Connection::bare(Status::Disconnected, "logged_out");
    Ok(ApiJson(
        seen(&state, &scope, path.1, &ended, "logout", "user").await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    /// The recipient's number, digits with country code.
    #[schema(example = "5511988887777")]
    pub to: String,
    /// Up to 4,096 characters.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TextAccepted {
    /// The provider's id of the message.
    pub message_id: String,
    /// Always `accepted`: delivery is told later by the provider's status events.
    pub status: &'static str,
}

/// Sends a text through the number (admins): a test of the line, or a message outside
/// Chatwoot. Accepted means the provider took it, not that the phone received it.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/messages", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)), request_body = TextInput,
    responses((status = 201, body = TextAccepted), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn send_text(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<TextInput>,
) -> AppResult<(StatusCode, ApiJson<TextAccepted>)> {
    scope.require(Role::Admin)?;
    let to = phone_digits(Some(&body.to));
    let mut v = Validator::default();
    v.check(to.is_some(), "to", "must be a number with country code");
    let length = body.text.trim().chars().count();
    v.check(
        (1..=4096).contains(&length),
        "text",
        "must be 1 to 4,096 characters",
    );
    v.finish()?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    require(&live, |c| c.send_text, "sending messages")?;
    require_session(&live)?;
    let (opened, session) = (&live.opened, live.session());
    let to = to.unwrap_or_default();
    let message_id = opened
        .adapter
        .send_text(&opened.server(), &session, &to, &body.text)
        .await?;
    let entry = AuditEntry::new(&scope, "instance.message_sent", "instance", path.1).changes(
        None::<&()>,
        Some(&serde_json::json!({"to": to, "message_id": message_id})),
    );
    audit::record_alone(&state.db, entry).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(TextAccepted {
            message_id,
            status: "accepted",
        }),
    ))
}
