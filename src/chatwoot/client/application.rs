//! Application API calls (`/auth`, `/api/v1`), each sent as the given user.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{
    ChatwootClient, ChatwootError, Credential,
    transport::{Auth, Data, Payload, Req},
    types::*,
};

impl ChatwootClient {
    /// `POST /auth/sign_in`: trades email and password for a dashboard session. Sent
    /// once; a wrong password is `Unauthorized`.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<(Credential, Profile), ChatwootError> {
        let body = json!({ "email": email, "password": password.expose_secret() });
        let req = Req::new(
            Method::POST,
            "/auth/sign_in",
            "/auth/sign_in".into(),
            Auth::Anonymous,
        );
        let reply = self.send(req.json(body)).await?;
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| ChatwootError::Unexpected(format!("sign_in: no {name} header")))
        };
        let credential = Credential::Session {
            access_token: SecretString::from(header("access-token")?),
            client: SecretString::from(header("client")?),
            uid: header("uid")?,
        };
        let Data { data } = reply.json::<Data<Profile>>()?;
        Ok((credential, data))
    }

    pub async fn profile(&self, cred: &Credential) -> Result<Profile, ChatwootError> {
        self.get(cred, "/api/v1/profile", "/api/v1/profile".into())
            .await
    }

    pub async fn account(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Account, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}");
        self.get(cred, "/api/v1/accounts/{account_id}", path).await
    }

    pub async fn inboxes(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Vec<Inbox>, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/inboxes");
        let list: Payload<_> = self
            .get(cred, "/api/v1/accounts/{account_id}/inboxes", path)
            .await?;
        Ok(list.payload)
    }

    pub async fn agents(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Vec<Agent>, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/agents");
        self.get(cred, "/api/v1/accounts/{account_id}/agents", path)
            .await
    }

    /// The ids of the agents who are members of the inbox (an administrator sees every
    /// inbox without being one).
    pub async fn inbox_members(
        &self,
        cred: &Credential,
        account_id: i64,
        inbox_id: i64,
    ) -> Result<Vec<i64>, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/inbox_members/{inbox_id}");
        let list: Payload<Vec<Agent>> = self
            .get(
                cred,
                "/api/v1/accounts/{account_id}/inbox_members/{inbox_id}",
                path,
            )
            .await?;
        Ok(list.payload.into_iter().map(|a| a.id).collect())
    }

    pub async fn teams(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Vec<Team>, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/teams");
        self.get(cred, "/api/v1/accounts/{account_id}/teams", path)
            .await
    }

    pub async fn labels(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Vec<Label>, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/labels");
        let list: Payload<_> = self
            .get(cred, "/api/v1/accounts/{account_id}/labels", path)
            .await?;
        Ok(list.payload)
    }

    /// `POST /api/v1/accounts/:id/inboxes` (administrators): `channel` is the channel's
    /// own object (`{type: "whatsapp", provider: "whatsapp_cloud", …}`). Sent once.
    pub async fn create_inbox(
        &self,
        cred: &Credential,
        account_id: i64,
        name: &str,
        channel: serde_json::Value,
    ) -> Result<Inbox, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/inboxes");
        let template = "/api/v1/accounts/{account_id}/inboxes";
        let req = Req::new(Method::POST, template, path, Auth::User(cred));
        let body = json!({"name": name, "channel": channel});
        self.send(req.json(body)).await?.json()
    }

    pub(super) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        cred: &Credential,
        template: &'static str,
        path: String,
    ) -> Result<T, ChatwootError> {
        self.send(Req::new(Method::GET, template, path, Auth::User(cred)))
            .await?
            .json()
    }
}
