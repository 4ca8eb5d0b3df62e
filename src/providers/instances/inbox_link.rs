//! Linking a number to an inbox of the account's Chatwoot, with one bridge per number:
//! Evolution through its own Chatwoot bridge (which makes the API inbox by name), Cloud API
//! as Chatwoot's own WhatsApp Cloud inbox. A number already linked, or an inbox already fed
//! by another number, is refused (409) before anything is asked of the provider: two paths
//! into one inbox are what duplicate every message (FACTS.md §7).

use axum::extract::State;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Instance, live::Live, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    chatwoot::{
        client::Credential,
        connection::{self, Link},
    },
    entitlements::{self, Resource},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
    providers::{ProviderKind, adapters::ChatwootInbox, http::ProviderError},
    tenancy::{AccountScope, Role, accounts},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(link_inbox))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxLinkInput {
    /// The inbox's name in Chatwoot (default: the number's name).
    pub name: Option<String>,
    /// Cloud API only: the WhatsApp Business Account id Chatwoot's inbox needs.
    pub business_account_id: Option<String>,
}

fn already(code: &'static str, message: &str) -> AppError {
    AppError::Conflict {
        code,
        message: message.into(),
    }
}

/// Links the number to a Chatwoot inbox (admins); counts towards `max_inboxes`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/chatwoot-inbox", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)), request_body = InboxLinkInput,
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn link_inbox(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<InboxLinkInput>,
) -> AppResult<ApiJson<Instance>> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let cloud = live.opened.kind == ProviderKind::CloudApi;
    let name = body
        .name
        .as_deref()
        .unwrap_or(&live.instance.name)
        .trim()
        .to_string();
    let mut v = Validator::default();
    v.check(
        (1..=100).contains(&name.chars().count()),
        "name",
        "must be 1 to 100 characters",
    );
    if cloud {
        let waba = body.business_account_id.as_deref().unwrap_or_default();
        let digits =
            !waba.is_empty() && waba.len() <= 32 && waba.chars().all(|c| c.is_ascii_digit());
        v.check(
            digits,
            "business_account_id",
            "must be the WhatsApp Business Account id (digits)",
        );
    }
    v.finish()?;
    if !live.opened.adapter.capabilities().chatwoot_inbox {
        return Err(ProviderError::NotSupported("Chatwoot inboxes").into());
    }
    if live.instance.chatwoot_inbox_id.is_some() {
        return Err(already(
            "instance_already_linked",
            "This number already feeds a Chatwoot inbox.",
        ));
    }
    let account = accounts::store::get(&state.db, scope.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (link, credential) = connection::credential(&state, &account).await?;
    {
        let mut tx = state.db.begin().await?;
        let defaults = &state.config.plan_defaults;
        entitlements::ensure_capacity(&mut tx, defaults, scope.account_id, Resource::Inboxes)
            .await?;
    }
    let existing = named_inbox(&link, &credential, &name).await?;
    if let Some(inbox_id) = existing
        && store::linked_to(&state.db, scope.account_id, inbox_id)
            .await?
            .is_some()
    {
        return Err(already(
            "inbox_already_linked",
            "Another number already feeds this inbox.",
        ));
    }
    let inbox_id = match cloud {
        true => cloud_inbox(&live, &link, &credential, &name, &body).await?,
        false => bridged_inbox(&live, &link, &credential, &name).await?,
    };
    connection::pull(&state, scope.account_id, &link, &credential).await?;
    let mut tx = state.db.begin().await?;
    store::link_inbox(&mut tx, scope.account_id, path.1, inbox_id, clock::now()).await?;
    let after = store::get(&mut tx, scope.account_id, path.1)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry = AuditEntry::new(&scope, "instance.inbox_linked", "instance", path.1).changes(
        None::<&()>,
        Some(&json!({"chatwoot_inbox_id": inbox_id, "name": name})),
    );
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}

/// The Chatwoot id of the account's inbox named `name`, if there is one.
async fn named_inbox(link: &Link, credential: &Credential, name: &str) -> AppResult<Option<i64>> {
    let inboxes = link
        .known
        .client
        .inboxes(credential, link.chatwoot_account_id)
        .await
        .map_err(connection::chatwoot_failure)?;
    Ok(inboxes.into_iter().find(|i| i.name == name).map(|i| i.id))
}

/// Turns on the provider's bridge, which makes the inbox (or finds it by name).
async fn bridged_inbox(
    live: &Live,
    link: &Link,
    credential: &Credential,
    name: &str,
) -> AppResult<i64> {
    let Credential::ApiToken(token) = credential else {
        return Err(already(
            "chatwoot_not_connected",
            "Connect this account to Chatwoot with an access token first.",
        ));
    };
    let inbox = ChatwootInbox {
        url: &link.known.installation.base_url,
        account_id: link.chatwoot_account_id,
        token: token.expose_secret(),
        name,
    };
    let (opened, session) = (&live.opened, live.session());
    opened
        .adapter
        .bridge_to_chatwoot(&opened.server(), &session, &inbox)
        .await?;
    named_inbox(link, credential, name)
        .await?
        .ok_or(AppError::Upstream {
            status: axum::http::StatusCode::BAD_GATEWAY,
            code: "provider_unreachable",
            message: "The provider's Chatwoot bridge made no inbox of that name.".into(),
        })
}

/// Makes Chatwoot's own WhatsApp Cloud inbox for the number.
async fn cloud_inbox(
    live: &Live,
    link: &Link,
    credential: &Credential,
    name: &str,
    body: &InboxLinkInput,
) -> AppResult<i64> {
    let phone = live.instance.phone.clone().ok_or_else(|| {
        already(
            "instance_not_connected",
            "Check the number first: its phone number is not known yet.",
        )
    })?;
    let server = live.opened.server();
    let channel = json!({
        "type": "whatsapp",
        "phone_number": format!("+{phone}"),
        "provider": "whatsapp_cloud",
        "provider_config": {
            "api_key": server.credentials.get("access_token"),
            "phone_number_id": live.session().token,
            "business_account_id": body.business_account_id,
        },
    });
    let made = link
        .known
        .client
        .create_inbox(credential, link.chatwoot_account_id, name, channel)
        .await
        .map_err(connection::chatwoot_failure)?;
    Ok(made.id)
}
