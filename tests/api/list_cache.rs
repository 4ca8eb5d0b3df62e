//! Lists answered from memory while their account is unchanged: every write shows up at
//! once, and clients can revalidate with the ETag.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{accounts::super_admin, support::TestApp};

async fn get_with_etag(
    app: &TestApp,
    path: &str,
    token: &str,
    etag: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut request = app
        .client
        .request(Method::GET, format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(tag) = etag {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let tag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, tag, response.text().await.unwrap())
}

#[tokio::test]
async fn an_unchanged_list_revalidates_and_a_write_shows_at_once() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = tenant.path("/users?limit=100");

    let (status, tag, body) = get_with_etag(&app, &path, &tenant.agent.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let tag = tag.expect("lists carry an ETag");
    assert!(!body.contains("new@acme.test"));

    let (status, again, body) = get_with_etag(&app, &path, &tenant.agent.token, Some(&tag)).await;
    assert_eq!(
        (status, again.as_deref()),
        (StatusCode::NOT_MODIFIED, Some(tag.as_str()))
    );
    assert!(body.is_empty());

    let created = app
        .post(
            &tenant.path("/users"),
            &tenant.admin.token,
            json!({ "email": "new@acme.test", "name": "New" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let (status, fresh, body) = get_with_etag(&app, &path, &tenant.agent.token, Some(&tag)).await;
    assert_eq!(status, StatusCode::OK, "the write retired the cached list");
    assert_ne!(fresh.as_deref(), Some(tag.as_str()));
    assert!(body.contains("new@acme.test"));

    let deactivated = app
        .post(
            &tenant.path(&format!("/users/{}/deactivate", created.id())),
            &tenant.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::OK);
    let list = app.get(&path, &tenant.agent.token).await;
    let entry = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "new@acme.test")
        .unwrap()
        .clone();
    assert_eq!(entry["active"], false);
}

#[tokio::test]
async fn a_shared_profile_change_reaches_every_account_list() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    app.join(globex.id, acme.agent.id, "agent").await;
    let globex_list = globex.path("/users?limit=100");
    let before = app.get(&globex_list, &globex.agent.token).await;
    assert!(!before.body.to_string().contains("Renamed Everywhere"));

    let renamed = app
        .put(
            &acme.path(&format!("/users/{}", acme.agent.id)),
            &root.token,
            json!({ "name": "Renamed Everywhere" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let after = app.get(&globex_list, &globex.agent.token).await;
    assert!(
        after.body.to_string().contains("Renamed Everywhere"),
        "Globex's cached list was retired too"
    );
}

#[tokio::test]
async fn cached_lists_never_cross_accounts() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let acme_list = app.get(&acme.path("/teams"), &acme.admin.token).await;
    assert_eq!(acme_list.status, StatusCode::OK);
    let created = app
        .post(
            &globex.path("/teams"),
            &globex.admin.token,
            json!({ "name": "Globex only" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let globex_list = app.get(&globex.path("/teams"), &globex.admin.token).await;
    assert!(globex_list.body.to_string().contains("Globex only"));
    let acme_again = app.get(&acme.path("/teams"), &acme.admin.token).await;
    assert!(!acme_again.body.to_string().contains("Globex only"));
    // Same URL shape, other account: never the other's cached answer.
    let foreign = app.get(&acme.path("/teams"), &globex.admin.token).await;
    foreign.assert_problem(StatusCode::NOT_FOUND, "not_found");
}
