//! Platform API (`/platform/api/v1`, FACTS.md §6), sent with a platform app token. The app
//! may touch only accounts and users it created (its "permissibles"); others are `Forbidden`.

use std::fmt;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::{
    ChatwootClient, ChatwootError,
    transport::{Auth, Req},
    types::{Attributes, Role},
};

/// A `ChatwootClient` bound to one platform app token. Cheap to clone.
#[derive(Clone)]
pub struct PlatformClient {
    client: ChatwootClient,
    token: SecretString,
}

impl fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformClient")
            .field("base_url", &self.client.base_url())
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub name: String,
    pub locale: Option<String>,
    pub support_email: Option<String>,
    pub custom_attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlatformAccount {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub features: Attributes,
    #[serde(default)]
    pub custom_attributes: Attributes,
    #[serde(default)]
    pub limits: Value,
}

/// A user to create. An existing email adopts that user instead (Chatwoot's rule).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub password: SecretString,
    pub display_name: Option<String>,
    pub custom_attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlatformUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub custom_attributes: Attributes,
    #[serde(default)]
    pub accounts: Vec<PlatformUserAccount>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlatformUserAccount {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// An `account_users` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountUser {
    pub account_id: i64,
    pub user_id: i64,
    pub role: Role,
}

/// `POST users/:id/token`: the user's personal access token.
#[derive(Debug, Clone, Deserialize)]
pub struct UserToken {
    #[serde(deserialize_with = "secret")]
    pub access_token: SecretString,
    pub user: UserTokenUser,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserTokenUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

fn secret<'de, D: Deserializer<'de>>(de: D) -> Result<SecretString, D::Error> {
    String::deserialize(de).map(SecretString::from)
}

impl PlatformClient {
    pub(super) fn new(client: ChatwootClient, token: SecretString) -> Self {
        PlatformClient { client, token }
    }

    fn req(&self, method: Method, template: &'static str, path: String) -> Req<'_> {
        Req::new(method, template, path, Auth::Platform(&self.token))
    }

    pub async fn create_account(
        &self,
        account: &NewAccount,
    ) -> Result<PlatformAccount, ChatwootError> {
        let body = json!({
            "name": account.name,
            "locale": account.locale,
            "support_email": account.support_email,
            "custom_attributes": account.custom_attributes,
        });
        let req = self.req(
            Method::POST,
            "/platform/api/v1/accounts",
            "/platform/api/v1/accounts".into(),
        );
        self.client.send(req.json(body)).await?.json()
    }

    pub async fn account(&self, account_id: i64) -> Result<PlatformAccount, ChatwootError> {
        let path = format!("/platform/api/v1/accounts/{account_id}");
        let req = self.req(Method::GET, "/platform/api/v1/accounts/{account_id}", path);
        self.client.send(req).await?.json()
    }

    /// Chatwoot deletes the account in a background job; the call returns at once.
    pub async fn delete_account(&self, account_id: i64) -> Result<(), ChatwootError> {
        let path = format!("/platform/api/v1/accounts/{account_id}");
        let req = self.req(
            Method::DELETE,
            "/platform/api/v1/accounts/{account_id}",
            path,
        );
        self.client.send(req).await?;
        Ok(())
    }

    pub async fn create_user(&self, user: &NewUser) -> Result<PlatformUser, ChatwootError> {
        let body = json!({
            "name": user.name,
            "display_name": user.display_name,
            "email": user.email,
            "password": user.password.expose_secret(),
            "custom_attributes": user.custom_attributes,
        });
        let req = self.req(
            Method::POST,
            "/platform/api/v1/users",
            "/platform/api/v1/users".into(),
        );
        self.client.send(req.json(body)).await?.json()
    }

    /// Adds the user to the account or changes their role (an upsert, so safe to repeat).
    pub async fn add_account_user(
        &self,
        account_id: i64,
        user_id: i64,
        role: Role,
    ) -> Result<AccountUser, ChatwootError> {
        let path = format!("/platform/api/v1/accounts/{account_id}/account_users");
        let req = self.req(
            Method::POST,
            "/platform/api/v1/accounts/{account_id}/account_users",
            path,
        );
        let body = json!({ "user_id": user_id, "role": role });
        self.client.send(req.json(body).repeatable()).await?.json()
    }

    /// The user's personal access token (the same one on every call, so safe to repeat).
    pub async fn user_token(&self, user_id: i64) -> Result<UserToken, ChatwootError> {
        let path = format!("/platform/api/v1/users/{user_id}/token");
        let req = self.req(Method::POST, "/platform/api/v1/users/{user_id}/token", path);
        self.client.send(req.repeatable()).await?.json()
    }
}
