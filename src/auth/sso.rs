//! Single sign-on from Chatwoot: a Chatwoot credential (a user's API token, or the
//! dashboard session's devise headers) is checked against Chatwoot's `GET /api/v1/profile`,
//! failing closed; the user, the account and the membership are brought up to date; and a
//! hub session is opened.

use axum::{extract::State, response::Response};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::sessions::{self, TokenResponse};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    chatwoot::{
        client::{ChatwootError, Credential, Profile, Role as ChatwootRole},
        installations::Known,
    },
    entitlements::{self, Resource},
    platform::{
        client::ClientMeta,
        clock,
        db::Tx,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        validate::Validator,
    },
    tenancy::{
        Role, accounts,
        users::{self, store::Identity},
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoRequest {
    /// A Chatwoot user's personal access token.
    pub chatwoot_api_token: Option<String>,
    /// The devise headers of a Chatwoot dashboard session (`cw_d_session_info`).
    pub chatwoot_session: Option<ChatwootSession>,
    /// Which Chatwoot account to sign into (default: the profile's active account).
    pub chatwoot_account_id: Option<i64>,
    /// Which Chatwoot installation (default: the one configured by `CHATWOOT_URL`).
    pub installation_id: Option<Uuid>,
    /// A label for the session list, e.g. "Chrome on macOS".
    pub device: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatwootSession {
    #[serde(rename = "access-token")]
    pub access_token: String,
    pub client: String,
    pub uid: String,
}

impl ChatwootSession {
    pub fn credential(&self) -> AppResult<Credential> {
        if self.access_token.is_empty() || self.client.is_empty() || self.uid.is_empty() {
            return Err(AppError::validation(
                "chatwoot_session",
                "must hold access-token, client and uid",
            ));
        }
        Ok(Credential::Session {
            access_token: SecretString::from(self.access_token.clone()),
            client: SecretString::from(self.client.clone()),
            uid: self.uid.clone(),
        })
    }
}

impl SsoRequest {
    fn credential(&self) -> AppResult<Credential> {
        match (&self.chatwoot_api_token, &self.chatwoot_session) {
            (Some(token), None) if !token.trim().is_empty() => {
                Ok(Credential::api_token(token.trim()))
            }
            (None, Some(session)) => session.credential(),
            _ => Err(AppError::validation(
                "chatwoot_api_token",
                "send exactly one of chatwoot_api_token or chatwoot_session (access-token, client, uid)",
            )),
        }
    }

    /// What rate limits count attempts by, without keeping the secret.
    fn fingerprint(&self) -> Vec<u8> {
        let raw = match (&self.chatwoot_api_token, &self.chatwoot_session) {
            (Some(token), _) => token.clone(),
            (_, Some(s)) => format!("{}:{}", s.uid, s.client),
            _ => String::new(),
        };
        super::opaque::hash(&raw)
    }
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(sso))
}

/// Signs in with a Chatwoot credential.
#[utoipa::path(post, path = "/api/v1/auth/sso", tag = "auth", security(()), request_body = SsoRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem), (status = 503, body = Problem)))]
async fn sso(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(body): ApiJson<SsoRequest>,
) -> AppResult<Response> {
    super::attempts::count(&state.db, client.ip, &body.fingerprint()).await?;
    let credential = body.credential()?;
    if let Some(device) = &body.device {
        Validator::default().text("device", device, 120).finish()?;
    }
    let installation = match body.installation_id {
        Some(id) => state.installations.by_id(id).ok_or_else(|| {
            AppError::validation("installation_id", "no such Chatwoot installation")
        })?,
        None => {
            state
                .installations
                .default_installation()
                .ok_or_else(|| AppError::Unavailable {
                    reason: "Single sign-on needs CHATWOOT_URL to be configured.".into(),
                })?
        }
    };
    let (tx, member) = admit(
        &state,
        &installation,
        &credential,
        body.chatwoot_account_id,
        &client,
    )
    .await?;
    let signed_in = SignedIn {
        method: sessions::Method::ChatwootSso,
        device: body.device.as_deref().map(str::trim),
        audit_action: "auth.sso_login",
    };
    signed_in.finish(&state, tx, member, &client).await
}

/// How a sign-in that admitted a member ends: a session, its audit entry, the tokens.
pub struct SignedIn<'a> {
    pub method: sessions::Method,
    pub device: Option<&'a str>,
    pub audit_action: &'static str,
}

impl SignedIn<'_> {
    /// Opens the session inside `tx`, commits, and answers like single sign-on.
    pub async fn finish(
        self,
        state: &AppState,
        mut tx: Tx,
        member: Member,
        client: &ClientMeta,
    ) -> AppResult<Response> {
        let new = sessions::NewSession {
            user_id: member.user_id,
            account_id: Some(member.account.id),
            method: self.method,
            device: self.device,
            client: Some(client),
        };
        let issued = sessions::open(&mut tx, state, new).await?;
        audit::record(
            &mut tx,
            AuditEntry::by(
                Actor::user(member.user_id, client),
                Some(member.account.id),
                self.audit_action,
                "session",
                issued.session_id,
            ),
        )
        .await?;
        tx.commit().await?;

        let (mut response, max_age) = TokenResponse::new(issued);
        response.user = users::store::profile(&state.db, member.user_id).await?;
        response.account = Some(member.account);
        Ok(response.into_response_with_cookie(max_age))
    }
}

/// A Chatwoot user admitted into a hub account.
pub struct Member {
    pub account: accounts::Account,
    pub user_id: Uuid,
}

/// Checks `credential` against the installation's Chatwoot (failing closed), then brings
/// the account, the user and the membership up to date in a transaction the caller
/// finishes (opening a session, or issuing an instance token) and commits.
pub async fn admit(
    state: &AppState,
    installation: &Known,
    credential: &Credential,
    chatwoot_account_id: Option<i64>,
    client: &ClientMeta,
) -> AppResult<(Tx, Member)> {
    let profile = match installation.client.profile(credential).await {
        Ok(profile) => profile,
        Err(ChatwootError::Unauthorized | ChatwootError::Forbidden) => {
            refuse(state, client, None, "auth.sso_failed").await?;
            return Err(AppError::Unauthorized {
                code: "chatwoot_credential_rejected",
                message: "Chatwoot did not accept this credential.",
            });
        }
        Err(err) => {
            tracing::warn!(error = %err, "single sign-on: Chatwoot did not answer");
            return Err(AppError::Unavailable {
                reason: "Chatwoot cannot be reached to check the sign-in.".into(),
            });
        }
    };
    let chatwoot_account_id = chatwoot_account_id.or(profile.account_id);
    let Some(membership) = profile
        .accounts
        .iter()
        .find(|a| Some(a.id) == chatwoot_account_id)
    else {
        refuse(state, client, None, "auth.sso_not_a_member").await?;
        return Err(AppError::Forbidden {
            code: "not_a_member",
            message: "This Chatwoot user is not a member of that Chatwoot account.",
        });
    };
    // Chatwoot itself refuses a suspended account's members; so does the hub.
    if membership.status.as_deref() == Some("suspended") {
        refuse(state, client, None, "auth.sso_account_suspended").await?;
        return Err(AppError::Forbidden {
            code: "chatwoot_account_suspended",
            message: "Chatwoot reports this account as suspended.",
        });
    }

    let mut tx = state.db.begin().await?;
    let linked = Linked {
        installation_id: installation.installation.id,
        chatwoot_account_id: membership.id,
        name: &membership.name,
    };
    let account = upsert_account(&mut tx, &linked, client).await?;
    let user_id = upsert_user(&mut tx, installation.installation.id, &profile).await?;
    upsert_membership(&mut tx, state, account.id, user_id, membership.role).await?;
    Ok((tx, Member { account, user_id }))
}

/// Audits a refused sign-in in its own transaction (nothing else is written).
async fn refuse(
    state: &AppState,
    client: &ClientMeta,
    account: Option<Uuid>,
    action: &'static str,
) -> AppResult<()> {
    let entry = AuditEntry::by(Actor::anonymous(client), account, action, "session", "-");
    audit::record_alone(&state.db, entry).await
}

/// Which Chatwoot account a hub account mirrors.
pub struct Linked<'a> {
    pub installation_id: Uuid,
    pub chatwoot_account_id: i64,
    pub name: &'a str,
}

/// The hub account for a Chatwoot account, created on first sight.
pub async fn upsert_account(
    tx: &mut Tx,
    linked: &Linked<'_>,
    client: &ClientMeta,
) -> AppResult<accounts::Account> {
    let existing = accounts::store::by_chatwoot_id(
        &mut *tx,
        linked.installation_id,
        linked.chatwoot_account_id,
    )
    .await?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let now = clock::now();
    let account = accounts::Account {
        id: Uuid::now_v7(),
        chatwoot_installation_id: Some(linked.installation_id),
        chatwoot_account_id: Some(linked.chatwoot_account_id),
        name: linked.name.trim().chars().take(120).collect(),
        locale: "en".into(),
        status: "active".into(),
        settings: serde_json::json!({}),
        created_at: now,
        updated_at: now,
    };
    if !accounts::store::insert(tx, &account).await? {
        // A racing first sign-in created it since: use theirs.
        return accounts::store::by_chatwoot_id(
            &mut *tx,
            linked.installation_id,
            linked.chatwoot_account_id,
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("an account neither inserted nor found").into());
    }
    audit::record(
        tx,
        AuditEntry::by(
            Actor::anonymous(client),
            Some(account.id),
            "account.created",
            "account",
            account.id,
        )
        .changes(None::<&accounts::Account>, Some(&account)),
    )
    .await?;
    Ok(account)
}

/// The hub person for this Chatwoot user of this installation, created on first sight and
/// kept in step with Chatwoot's profile. Matched on (installation, Chatwoot id) alone: never
/// by email, never into a person of another installation or kind.
async fn upsert_user(tx: &mut Tx, installation_id: Uuid, profile: &Profile) -> AppResult<Uuid> {
    let email = profile.email.trim().to_lowercase();
    let name = profile.name.trim();
    let avatar = profile
        .avatar_url
        .as_deref()
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"));
    let identity = Identity::Chatwoot {
        installation_id,
        user_id: profile.id,
    };
    match users::store::find(&mut *tx, identity, &email).await? {
        Some(id) => {
            users::store::update_from_chatwoot(tx, id, &email, name, avatar).await?;
            Ok(id)
        }
        None => {
            let new = users::store::NewUser {
                identity,
                email: &email,
                name,
                avatar_url: avatar,
                is_super_admin: false,
            };
            users::store::insert_user(tx, &new).await
        }
    }
}

/// Chatwoot decides admin or agent; a supervisor role granted in the hub survives while
/// Chatwoot still says agent. A membership deactivated in the hub stays deactivated.
async fn upsert_membership(
    tx: &mut Tx,
    state: &AppState,
    account_id: Uuid,
    user_id: Uuid,
    chatwoot_role: ChatwootRole,
) -> AppResult<()> {
    let mapped = match chatwoot_role {
        ChatwootRole::Administrator => Role::Admin,
        ChatwootRole::Agent => Role::Agent,
    };
    match users::store::get(&mut *tx, account_id, user_id).await? {
        Some(member) if !member.active => Err(AppError::Forbidden {
            code: "membership_deactivated",
            message: "Your access to this account was deactivated by an admin.",
        }),
        Some(member) => {
            let keep_supervisor = member.role == Role::Supervisor.as_str() && mapped == Role::Agent;
            let role = if keep_supervisor {
                Role::Supervisor
            } else {
                mapped
            };
            if role.as_str() != member.role {
                users::store::update_membership(tx, account_id, user_id, role.as_str(), true)
                    .await?;
            }
            Ok(())
        }
        None => {
            entitlements::ensure_capacity(
                tx,
                &state.config.plan_defaults,
                account_id,
                Resource::Agents,
            )
            .await?;
            // A racing first sign-in may have added it since: theirs stands, with the same role.
            users::store::insert_membership(tx, account_id, user_id, mapped.as_str()).await?;
            Ok(())
        }
    }
}
