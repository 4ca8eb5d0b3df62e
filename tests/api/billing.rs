//! Billing end to end over HTTP, against the Asaas simulator: plans, subscribe, Asaas's
//! webhooks (token, de-duplication, read-back, order), access following payment (402 while
//! suspended), plan changes, cancellation, reconciliation and what is left when Asaas fails.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use whatpro_hub::{
    billing::subscriptions,
    simulators::asaas::{AsaasSimulator, BillingType, Release},
};

use crate::{
    support::{Caller, Resp, Tenant, TestApp},
    webhooks::eventually,
};

pub(crate) const ASAAS_KEY: &str = "$aact_test_billing_key";
pub(crate) const WEBHOOK_TOKEN: &str = "asaas-webhook-token-for-tests";
pub(crate) const CPF: &str = "529.982.247-25";

/// A hub billing through a fresh Asaas simulator that posts its webhooks to the hub.
pub(crate) async fn billed_with(vars: &[(&str, &str)]) -> (AsaasSimulator, TestApp) {
    let sim = AsaasSimulator::start(ASAAS_KEY).await;
    let url = sim.base_url();
    let mut all = vec![
        ("ASAAS_API_KEY", ASAAS_KEY),
        ("ASAAS_API_URL", url.as_str()),
        ("ASAAS_WEBHOOK_TOKEN", WEBHOOK_TOKEN),
    ];
    all.extend_from_slice(vars);
    let app = TestApp::spawn_with(&all).await;
    sim.set_webhook(
        &format!("{}/api/v1/webhooks/asaas", app.base),
        WEBHOOK_TOKEN,
    );
    (sim, app)
}

struct Billed {
    sim: AsaasSimulator,
    app: TestApp,
    root: Caller,
    tenant: Tenant,
    pro: Uuid,
}

async fn billed(vars: &[(&str, &str)]) -> Billed {
    let (sim, app) = billed_with(vars).await;
    let root = app.user("root@billing.test", true).await;
    let tenant = app.tenant(&root, "Acme").await;
    let pro = plan(&app, &root, "pro", "149.90", 10).await;
    Billed {
        sim,
        app,
        root,
        tenant,
        pro,
    }
}

fn plan_body(code: &str, price: &str, max_boards: i64) -> Value {
    json!({
        "code": code,
        "name": format!("Plan {code}"),
        "description": "For tests",
        "price": price,
        "cycle": "MONTHLY",
        "entitlements": {
            "limits": {"max_agents": 20, "max_teams": 10, "max_inboxes": 10, "max_boards": max_boards,
                       "max_providers": 3, "max_instances": 5, "max_monthly_messages": 10},
            "features": {"kanban_enabled": true, "internal_chat_enabled": true, "analytics_enabled": true}
        }
    })
}

pub(crate) async fn plan(
    app: &TestApp,
    root: &Caller,
    code: &str,
    price: &str,
    max_boards: i64,
) -> Uuid {
    let resp = app
        .post(
            "/api/v1/plans",
            &root.token,
            plan_body(code, price, max_boards),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.id()
}

pub(crate) fn subscription_body(plan: Uuid, billing_type: &str) -> Value {
    json!({
        "plan_id": plan,
        "billing_type": billing_type,
        "customer": {"name": "Acme Ltda", "cpf_cnpj": CPF, "email": "billing@acme.test"}
    })
}

async fn subscribe_as(b: &Billed, token: &str, body: Value) -> Resp {
    b.app
        .post(&b.tenant.path("/billing/subscription"), token, body)
        .await
}

async fn subscribe(b: &Billed, plan: Uuid) -> Resp {
    subscribe_as(b, &b.tenant.admin.token, subscription_body(plan, "PIX")).await
}

async fn billing(b: &Billed) -> Value {
    let resp = b
        .app
        .get(&b.tenant.path("/billing"), &b.tenant.admin.token)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body
}

async fn status_becomes(b: &Billed, wanted: &str) {
    eventually(&format!("billing status {wanted}"), || async {
        billing(b).await["status"] == wanted
    })
    .await;
}

/// The Asaas id of the subscription's open charge.
fn open_charge(subscribed: &Resp) -> String {
    let payment = &subscribed.body["payment"];
    assert!(payment.is_object(), "{:?}", subscribed.body);
    payment["asaas_id"].as_str().unwrap().to_string()
}

/// Waits until the simulator sent everything and the hub processed it all, so a test that
/// then sets a date by hand is not overtaken by a late event.
async fn quiet(b: &Billed) {
    b.sim.settle().await;
    eventually("every Asaas delivery processed", || async {
        let open: i64 = whatpro_hub::on_db!(&b.app.state.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas' AND status <> 'done'")
            .fetch_one(pool).await.unwrap());
        open == 0
    })
    .await;
}

/// What a subscribe whose answers were lost leaves at Asaas: the account's customer and a
/// subscription at Pro's price named by our (unfinished) subscription, whose id it answers.
async fn lost_answers(b: &Billed) -> Uuid {
    let ours: Uuid = whatpro_hub::on_db!(&b.app.state.db, pool => sqlx::query_scalar(
        "SELECT id FROM subscriptions").fetch_one(pool).await.unwrap());
    let asaas = |path: &str, body: Value| {
        b.app
            .client
            .post(format!("{}{path}", b.sim.base_url()))
            .header("access_token", ASAAS_KEY)
            .header("user-agent", "lost-answer")
            .json(&body)
            .send()
    };
    let customer: Value = asaas(
        "/customers",
        json!({"name": "Acme Ltda", "cpfCnpj": "52998224725",
        "email": "billing@acme.test", "externalReference": b.tenant.id.to_string()}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let today =
        whatpro_hub::billing::asaas::wire::format_date(whatpro_hub::platform::clock::now().date()); // wall-clock: Asaas takes no due date before its today
    let made = asaas("/subscriptions", json!({"customer": customer["id"], "billingType": "PIX",
        "value": 149.9, "nextDueDate": today, "cycle": "MONTHLY", "externalReference": ours.to_string()}))
        .await.unwrap();
    assert_eq!(made.status(), StatusCode::OK);
    ours
}

async fn audit_actions(b: &Billed) -> Vec<String> {
    let resp = b
        .app
        .get(
            &b.tenant.path("/audit-logs?limit=200"),
            &b.tenant.admin.token,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn post_webhook(app: &TestApp, token: Option<&str>, body: &Value) -> Resp {
    let mut request = app
        .client
        .post(format!("{}/api/v1/webhooks/asaas", app.base))
        .json(body);
    if let Some(token) = token {
        request = request.header("asaas-access-token", token);
    }
    Resp::read(request.send().await.unwrap()).await
}

async fn asaas_deliveries(app: &TestApp) -> i64 {
    whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas'").fetch_one(pool).await.unwrap())
}

#[tokio::test]
async fn plans_are_public_and_only_super_admins_write_them() {
    let b = billed(&[]).await;
    let app = &b.app;
    let listed = app
        .request(reqwest::Method::GET, "/api/v1/plans", None, None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body[0]["price"], "149.90");
    assert_eq!(listed.body[0]["currency"], "BRL");
    // Account admins write no plan; a bad body names its fields.
    let resp = app
        .post(
            "/api/v1/plans",
            &b.tenant.admin.token,
            plan_body("x", "1", 1),
        )
        .await;
    resp.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let mut bad = plan_body("Bad Code", "1.999", 1);
    bad["cycle"] = json!("WEEKLY");
    let resp = app.post("/api/v1/plans", &b.root.token, bad).await;
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(resp.error_fields(), ["code", "price", "cycle"]);
    let resp = app
        .post("/api/v1/plans", &b.root.token, plan_body("pro", "10", 1))
        .await;
    resp.assert_problem(StatusCode::CONFLICT, "plan_code_taken");
    // A plan no one subscribed to goes; one with a subscriber is archived and kept.
    let unused = plan(app, &b.root, "unused", "9.90", 1).await;
    let gone = app
        .delete(&format!("/api/v1/plans/{unused}"), &b.root.token)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(subscribe(&b, b.pro).await.status, StatusCode::CREATED);
    let archived = app
        .delete(&format!("/api/v1/plans/{}", b.pro), &b.root.token)
        .await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);
    let public = app
        .request(reqwest::Method::GET, "/api/v1/plans", None, None)
        .await;
    assert_eq!(public.body, json!([]));
    let all = app
        .get("/api/v1/plans?include_archived=true", &b.root.token)
        .await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);
    assert_eq!(all.body[0]["active"], false);
    let refused = app
        .get("/api/v1/plans?include_archived=true", &b.tenant.admin.token)
        .await;
    refused.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // The archived plan still grants its subscriber what it did.
    assert_eq!(billing(&b).await["subscription"]["plan"]["code"], "pro");
}

#[tokio::test]
async fn without_an_asaas_key_billing_answers_503_and_the_rest_works() {
    let app = TestApp::spawn().await;
    let root = app.user("root@billing.test", true).await;
    let tenant = app.tenant(&root, "Acme").await;
    let pro = plan(&app, &root, "pro", "149.90", 10).await;
    let resp = app
        .post(
            &tenant.path("/billing/subscription"),
            &tenant.admin.token,
            subscription_body(pro, "PIX"),
        )
        .await;
    resp.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "billing_unavailable");
    let resp = post_webhook(
        &app,
        Some("anything"),
        &json!({"id": "evt_1", "event": "PAYMENT_RECEIVED"}),
    )
    .await;
    resp.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "billing_unavailable");
    let view = app.get(&tenant.path("/billing"), &tenant.agent.token).await;
    view.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "billing_unavailable");
    let board = app
        .post(
            &tenant.path("/boards"),
            &tenant.admin.token,
            json!({"name": "Sales"}),
        )
        .await;
    assert_eq!(board.status, StatusCode::CREATED);
}

/// The newcomer's path: subscribe with PIX, get the code, pay, and the plan is in force.
#[tokio::test]
async fn a_pix_subscription_is_pending_until_paid_then_the_plan_is_in_force() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    assert_eq!(
        subscribed.status,
        StatusCode::CREATED,
        "{:?}",
        subscribed.body
    );
    let body = &subscribed.body;
    assert_eq!(body["subscription"]["status"], "pending");
    assert_eq!(body["payment"]["value"], "149.90");
    assert_eq!(body["payment"]["status"], "PENDING");
    assert_eq!(
        body["subscription"]["next_due_date"],
        body["payment"]["due_date"]
    );
    assert!(
        body["payment"]["invoice_url"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
    assert!(
        body["payment"]["pix"]["payload"]
            .as_str()
            .unwrap()
            .starts_with("000201")
    );
    assert!(
        !body["payment"]["pix"]["encoded_image"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    // At Asaas: the account's customer and a subscription named by ours.
    let customers = b.sim.customers();
    assert_eq!(customers.len(), 1);
    assert_eq!(
        customers[0].external_reference.as_deref(),
        Some(b.tenant.id.to_string().as_str())
    );
    let subs = b.sim.subscriptions();
    assert_eq!(
        subs[0].external_reference.as_deref(),
        body["subscription"]["id"].as_str()
    );
    // Pending keeps the free plan.
    assert_eq!(billing(&b).await["entitlements"]["limits"]["max_boards"], 2);
    let second = subscribe(&b, b.pro).await;
    second.assert_problem(StatusCode::CONFLICT, "already_subscribed");

    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    let view = billing(&b).await;
    assert_eq!(view["entitlements"]["limits"]["max_boards"], 10);
    assert_eq!(view["plan"]["code"], "pro");
    assert!(view["current_period_end"].is_string());
    assert_eq!(view["payments"][0]["status"], "RECEIVED");
    assert_eq!(view["next_due_date"], Value::Null, "nothing left to pay");
    assert!(view["payments"][0]["paid_at"].is_string());
    let usage = b
        .app
        .get(&b.tenant.path("/usage"), &b.tenant.agent.token)
        .await;
    assert_eq!(usage.body["limits"]["max_boards"], 10);
    let features = b
        .app
        .get(&b.tenant.path("/features"), &b.tenant.agent.token)
        .await;
    assert_eq!(
        features.body,
        json!({"kanban_enabled": true, "internal_chat_enabled": true, "analytics_enabled": true})
    );
    // A super admin's override sits on top of the plan.
    let overridden = b
        .app
        .put(
            &b.tenant.path("/entitlements"),
            &b.root.token,
            json!({"limits": {"max_boards": 3}, "features": {"analytics_enabled": false}}),
        )
        .await;
    assert_eq!(
        overridden.body["limits"]["max_boards"], 3,
        "{:?}",
        overridden.body
    );
    assert_eq!(
        overridden.body["limits"]["max_teams"], 10,
        "the rest is the plan's"
    );
    let features = b
        .app
        .get(&b.tenant.path("/features"), &b.tenant.agent.token)
        .await;
    assert_eq!(features.body["analytics_enabled"], false);
    let actions = audit_actions(&b).await;
    assert!(
        actions.contains(&"subscription.created".to_string()),
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subscription.activated")
            .count(),
        1
    );
    // Agents read the status only; the history pages.
    let agent = b
        .app
        .get(&b.tenant.path("/billing"), &b.tenant.agent.token)
        .await;
    assert_eq!(agent.body, json!({"status": "active", "grace_until": null}));
    let page = b
        .app
        .get(
            &b.tenant.path("/billing/payments?limit=1"),
            &b.tenant.supervisor.token,
        )
        .await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let pix = b
        .app
        .get(
            &b.tenant.path(&format!(
                "/billing/payments/{}/pix",
                view["payments"][0]["id"].as_str().unwrap()
            )),
            &b.tenant.admin.token,
        )
        .await;
    pix.assert_problem(StatusCode::CONFLICT, "payment_not_open");
}

#[tokio::test]
async fn bad_input_is_refused_before_asaas_hears_of_it() {
    let b = billed(&[]).await;
    let mut body = subscription_body(b.pro, "PIX");
    body["customer"]["cpf_cnpj"] = json!("529.982.247-24");
    let resp = subscribe_as(&b, &b.tenant.admin.token, body).await;
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_cpf_cnpj");
    let resp = subscribe_as(
        &b,
        &b.tenant.admin.token,
        subscription_body(b.pro, "BITCOIN"),
    )
    .await;
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let resp = subscribe_as(
        &b,
        &b.tenant.supervisor.token,
        subscription_body(b.pro, "PIX"),
    )
    .await;
    resp.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(b.sim.requests().is_empty(), "{:?}", b.sim.requests());
    assert_eq!(billing(&b).await["status"], "none");
}

/// Asaas failing mid-way leaves a subscription a retry finishes: one customer, one Asaas
/// subscription, whatever failed where, answers lost after Asaas made them included.
#[tokio::test]
async fn asaas_failing_during_subscribe_leaves_nothing_a_retry_duplicates() {
    let b = billed(&[]).await;
    // Asaas down: the first call fails, nothing is made there.
    b.sim.fail_next(1, 500);
    subscribe(&b, b.pro)
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "asaas_unreachable");
    assert!(b.sim.customers().is_empty());
    assert_eq!(billing(&b).await["status"], "pending");
    // Answers lost after Asaas made the customer and the subscription: both exist there,
    // named by the account and by our subscription.
    let ours = lost_answers(&b).await;
    // The retry finds and finishes them.
    let retried = subscribe(&b, b.pro).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{:?}", retried.body);
    assert_eq!(retried.body["subscription"]["id"], ours.to_string());
    assert_eq!(b.sim.customers().len(), 1);
    assert_eq!(b.sim.subscriptions().len(), 1);
    let created_by_hub = b
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.user_agent.as_deref() != Some("lost-answer"))
        .count();
    assert_eq!(
        created_by_hub,
        0,
        "the hub made nothing twice: {:?}",
        b.sim.requests()
    );
    // A subscribe while another is talking to Asaas waits its turn.
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool => sqlx::query(
        "UPDATE subscriptions SET asaas_id = NULL, attempt_until = $1")
        .bind(whatpro_hub::platform::clock::now() + time::Duration::minutes(1)) // wall-clock: a hold the hub's clock sees live
        .execute(pool).await.unwrap().rows_affected());
    subscribe(&b, b.pro)
        .await
        .assert_problem(StatusCode::CONFLICT, "subscription_in_progress");
}

#[tokio::test]
async fn the_webhook_needs_its_token_and_stores_each_event_once() {
    let b = billed(&[]).await;
    let event =
        json!({"id": "evt_05a1&1", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_unknown"}});
    post_webhook(&b.app, None, &event)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    post_webhook(&b.app, Some("asaas-webhook-token-for-testz"), &event)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        asaas_deliveries(&b.app).await,
        0,
        "a refused post stores nothing"
    );
    let first = post_webhook(&b.app, Some(WEBHOOK_TOKEN), &event).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["status"], "accepted");
    let again = post_webhook(&b.app, Some(WEBHOOK_TOKEN), &event).await;
    assert_eq!(
        (again.status, again.body["status"].clone()),
        (StatusCode::OK, json!("duplicate"))
    );
    // Unknown events and payments are kept, marked ignored, still 200.
    let odd = json!({"id": "evt_odd", "event": "PAYMENT_SOMETHING_NEW_IN_2027", "payment": {"id": "pay_x"}});
    assert_eq!(
        post_webhook(&b.app, Some(WEBHOOK_TOKEN), &odd).await.status,
        StatusCode::OK
    );
    let other = json!({"id": "evt_other", "event": "INVOICE_CREATED"});
    assert_eq!(
        post_webhook(&b.app, Some(WEBHOOK_TOKEN), &other)
            .await
            .status,
        StatusCode::OK
    );
    let not_json = b
        .app
        .client
        .post(format!("{}/api/v1/webhooks/asaas", b.app.base))
        .header("asaas-access-token", WEBHOOK_TOKEN)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(
        not_json.status(),
        StatusCode::OK,
        "kept and answered 200: Asaas pauses on failures"
    );
    // Only the ids are kept: a card payment's token is not.
    let card = json!({"id": "evt_card", "event": "PAYMENT_CONFIRMED",
        "payment": {"id": "pay_card", "creditCard": {"creditCardToken": "tok-secret-card"}}});
    assert_eq!(
        post_webhook(&b.app, Some(WEBHOOK_TOKEN), &card)
            .await
            .status,
        StatusCode::OK
    );
    let stored: String = whatpro_hub::on_db!(&b.app.state.db, pool => sqlx::query_scalar(
        "SELECT body FROM webhook_deliveries WHERE dedupe_key = 'evt_card'").fetch_one(pool).await.unwrap());
    assert!(!stored.contains("tok-secret-card"), "{stored}");
    assert!(stored.contains("pay_card"), "{stored}");
    assert_eq!(asaas_deliveries(&b.app).await, 5);
    eventually("every Asaas delivery done and marked ignored", || async {
        let ignored: i64 = whatpro_hub::on_db!(&b.app.state.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas' AND status = 'done' AND ignored IS NOT NULL")
            .fetch_one(pool).await.unwrap());
        ignored == 5
    }).await;
}

/// The same event twice, events in reverse order, a replay: one activation, the newest
/// state.
#[tokio::test]
async fn duplicate_reordered_and_replayed_events_converge_on_asaas_state() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    let charge = open_charge(&subscribed);
    b.sim.hold_webhooks(true);
    b.sim.overdue(&charge);
    b.sim.pay(&charge, BillingType::Pix);
    // Paid late: RECEIVED arrives first, OVERDUE after it.
    b.sim.release_webhooks(Release::Reversed);
    b.sim.settle().await;
    status_becomes(&b, "active").await;
    for sent in b.sim.events() {
        b.sim.resend(&sent.id);
    }
    b.sim.settle().await;
    eventually("the duplicates are recognised", || async {
        b.sim.deliveries().iter().all(|d| d.status == Some(200))
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(billing(&b).await["status"], "active");
    let actions = audit_actions(&b).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subscription.activated")
            .count(),
        1,
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|a| a == "subscription.past_due"),
        "{actions:?}"
    );
}

/// Overdue with no grace: suspended at once, read-only (402 on writes, billing still
/// open), and a late payment restores everything at the next request.
#[tokio::test]
async fn an_unpaid_account_is_read_only_until_it_pays() {
    let b = billed(&[("BILLING_GRACE_DAYS", "0")]).await;
    let subscribed = subscribe(&b, b.pro).await;
    let first = open_charge(&subscribed);
    b.sim.pay(&first, BillingType::Pix);
    status_becomes(&b, "active").await;
    let sub_id = b.sim.subscriptions()[0].id.clone();
    let next = b.sim.next_cycle(&sub_id);
    b.sim.overdue(&next);
    status_becomes(&b, "suspended").await;
    let write = b
        .app
        .post(
            &b.tenant.path("/boards"),
            &b.tenant.admin.token,
            json!({"name": "Sales"}),
        )
        .await;
    write.assert_problem(StatusCode::PAYMENT_REQUIRED, "subscription_suspended");
    assert!(
        write.body["billing_url"]
            .as_str()
            .unwrap()
            .ends_with("/settings/billing")
    );
    // Reads, billing and super admins go on.
    assert_eq!(
        b.app
            .get(&b.tenant.path("/boards"), &b.tenant.agent.token)
            .await
            .status,
        StatusCode::OK
    );
    let ticket = b
        .app
        .post(
            &b.tenant.path("/realtime/tickets"),
            &b.tenant.agent.token,
            json!({}),
        )
        .await;
    assert!(ticket.status.is_success(), "{:?}", ticket.body);
    let by_root = b
        .app
        .post(
            &b.tenant.path("/boards"),
            &b.root.token,
            json!({"name": "Root"}),
        )
        .await;
    assert_eq!(by_root.status, StatusCode::CREATED, "{:?}", by_root.body);
    // Shrinking to fit a cheaper plan stays possible.
    let board = by_root.body["id"].as_str().unwrap();
    let deleted = b
        .app
        .delete(
            &b.tenant.path(&format!("/boards/{board}")),
            &b.tenant.admin.token,
        )
        .await;
    assert!(deleted.status.is_success(), "{:?}", deleted.body);
    assert_eq!(
        billing(&b).await["entitlements"]["limits"]["max_boards"],
        10
    );
    b.sim.pay(&next, BillingType::Pix);
    status_becomes(&b, "active").await;
    let write = b
        .app
        .post(
            &b.tenant.path("/boards"),
            &b.tenant.admin.token,
            json!({"name": "Sales"}),
        )
        .await;
    assert_eq!(write.status, StatusCode::CREATED, "{:?}", write.body);
    let actions = audit_actions(&b).await;
    for action in ["subscription.suspended", "subscription.activated"] {
        assert!(actions.contains(&action.to_string()), "{actions:?}");
    }
}

/// Overdue with grace: past due, full access and a banner date; when the grace is over
/// (here: moved into the past), writes are refused at once, and the schedule records it.
#[tokio::test]
async fn grace_keeps_access_until_it_ends() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    let next = b.sim.next_cycle(&b.sim.subscriptions()[0].id);
    b.sim.overdue(&next);
    status_becomes(&b, "past_due").await;
    let view = billing(&b).await;
    let grace: time::OffsetDateTime = time::OffsetDateTime::parse(
        view["grace_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (grace - whatpro_hub::platform::clock::now()).whole_hours(); // wall-clock: the hub dated the grace from its clock
    assert!((119..=120).contains(&days), "grace of {days} hours");
    let write = b
        .app
        .post(
            &b.tenant.path("/boards"),
            &b.tenant.admin.token,
            json!({"name": "Sales"}),
        )
        .await;
    assert_eq!(write.status, StatusCode::CREATED);
    let agent = b
        .app
        .get(&b.tenant.path("/billing"), &b.tenant.agent.token)
        .await;
    assert_eq!(agent.body["status"], "past_due");
    assert!(agent.body["grace_until"].is_string());
    quiet(&b).await;
    // The grace over: refused before the schedule runs (the account's revision moves so
    // the kept status is read again, as any transition would).
    let over = whatpro_hub::platform::clock::now() - time::Duration::minutes(1); // wall-clock: a grace the hub's clock sees over
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool =>
        sqlx::query("UPDATE subscriptions SET grace_until = $1")
            .bind(over).execute(pool).await.unwrap().rows_affected());
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool =>
        sqlx::query("UPDATE accounts SET revision = revision + 1")
            .execute(pool).await.unwrap().rows_affected());
    let write = b
        .app
        .post(
            &b.tenant.path("/boards"),
            &b.tenant.admin.token,
            json!({"name": "Later"}),
        )
        .await;
    write.assert_problem(StatusCode::PAYMENT_REQUIRED, "subscription_suspended");
    assert_eq!(subscriptions::settle_due(&b.app.state).await.unwrap(), 1);
    assert_eq!(billing(&b).await["status"], "suspended");
    assert!(
        audit_actions(&b)
            .await
            .contains(&"subscription.suspended".to_string())
    );
}

/// A forged event naming one account's payment under another's subscription: the payment
/// is read back from Asaas, which ties it to its own subscription; nothing else moves.
#[tokio::test]
async fn an_event_cannot_move_another_accounts_subscription() {
    let b = billed(&[]).await;
    let other = b.app.tenant(&b.root, "Other").await;
    let theirs = b
        .app
        .post(&other.path("/billing/subscription"), &other.admin.token, {
            let mut body = subscription_body(b.pro, "PIX");
            body["customer"]["cpf_cnpj"] = json!("11.222.333/0001-81");
            body
        })
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{:?}", theirs.body);
    let ours = subscribe(&b, b.pro).await;
    let their_sub = b
        .sim
        .subscriptions()
        .into_iter()
        .find(|s| s.external_reference.as_deref() == theirs.body["subscription"]["id"].as_str())
        .unwrap();
    // Our charge paid, announced as if it were theirs.
    b.sim.hold_webhooks(true);
    b.sim.pay(&open_charge(&ours), BillingType::Pix);
    let forged = json!({"id": "evt_forged", "event": "PAYMENT_RECEIVED",
        "payment": {"id": open_charge(&ours), "subscription": their_sub.id, "status": "RECEIVED"}});
    assert_eq!(
        post_webhook(&b.app, Some(WEBHOOK_TOKEN), &forged)
            .await
            .status,
        StatusCode::OK
    );
    status_becomes(&b, "active").await;
    let their_view = b.app.get(&other.path("/billing"), &other.admin.token).await;
    assert_eq!(their_view.body["status"], "pending");
    assert_eq!(their_view.body["payments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn upgrades_apply_now_downgrades_at_period_end_once_usage_fits() {
    let b = billed(&[]).await;
    let basic = plan(&b.app, &b.root, "basic", "49.90", 1).await;
    let max = plan(&b.app, &b.root, "max", "299.00", 50).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    let path = b.tenant.path("/billing/subscription");
    let up = b
        .app
        .put(&path, &b.tenant.admin.token, json!({"plan_id": max}))
        .await;
    assert_eq!(up.status, StatusCode::OK, "{:?}", up.body);
    assert_eq!(up.body["plan"]["code"], "max");
    assert_eq!(
        billing(&b).await["entitlements"]["limits"]["max_boards"],
        50
    );
    assert_eq!(b.sim.subscriptions()[0].value, 299.0);
    // Two boards do not fit a plan of one.
    for name in ["One", "Two"] {
        let made = b
            .app
            .post(
                &b.tenant.path("/boards"),
                &b.tenant.admin.token,
                json!({"name": name}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    }
    let down = b
        .app
        .put(&path, &b.tenant.admin.token, json!({"plan_id": basic}))
        .await;
    down.assert_problem(StatusCode::CONFLICT, "usage_exceeds_plan");
    assert_eq!(
        down.body["exceeded"],
        json!([{"resource": "boards", "limit": 1, "current": 2}])
    );
    let boards = b
        .app
        .get(&b.tenant.path("/boards"), &b.tenant.admin.token)
        .await;
    let board = boards.body["items"][0]["id"]
        .as_str()
        .or(boards.body[0]["id"].as_str())
        .unwrap()
        .to_string();
    let archived = b
        .app
        .delete(
            &b.tenant.path(&format!("/boards/{board}")),
            &b.tenant.admin.token,
        )
        .await;
    assert!(archived.status.is_success(), "{:?}", archived.body);
    let down = b
        .app
        .put(&path, &b.tenant.admin.token, json!({"plan_id": basic}))
        .await;
    assert_eq!(down.status, StatusCode::OK, "{:?}", down.body);
    assert_eq!(down.body["plan"]["code"], "max");
    assert_eq!(down.body["pending_plan"]["code"], "basic");
    assert_eq!(b.sim.subscriptions()[0].value, 49.9);
    // The paid period over: the lower plan takes over.
    quiet(&b).await;
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool => sqlx::query("UPDATE subscriptions SET change_at = $1")
        .bind(whatpro_hub::platform::clock::now() - time::Duration::seconds(1)) // wall-clock: a period the hub's clock sees over
        .execute(pool).await.unwrap().rows_affected());
    subscriptions::settle_due(&b.app.state).await.unwrap();
    let view = billing(&b).await;
    assert_eq!(view["plan"]["code"], "basic");
    assert_eq!(view["pending_plan"], Value::Null);
    assert_eq!(view["entitlements"]["limits"]["max_boards"], 1);
}

#[tokio::test]
async fn cancelling_ends_at_the_period_end_or_at_once() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    let path = b.tenant.path("/billing/subscription");
    let later = b.app.delete(&path, &b.tenant.admin.token).await;
    assert_eq!(later.status, StatusCode::OK, "{:?}", later.body);
    assert_eq!(later.body["cancel_at_period_end"], true);
    assert_eq!(later.body["status"], "active");
    assert!(!b.sim.subscriptions()[0].deleted);
    let now = b
        .app
        .request(
            reqwest::Method::DELETE,
            &format!("{path}?immediately=true"),
            Some(&b.tenant.admin.token),
            None,
        )
        .await;
    assert_eq!(now.status, StatusCode::OK, "{:?}", now.body);
    assert_eq!(now.body["status"], "canceled");
    assert!(b.sim.subscriptions()[0].deleted);
    let view = billing(&b).await;
    assert_eq!(view["status"], "canceled");
    assert_eq!(
        view["entitlements"]["limits"]["max_boards"], 2,
        "back on the free plan"
    );
    // Subscribing again is possible; Asaas's customer is reused.
    assert_eq!(subscribe(&b, b.pro).await.status, StatusCode::CREATED);
    assert_eq!(b.sim.customers().len(), 1);
    b.app.delete(&path, &b.tenant.admin.token).await;
}

/// Webhooks Asaas never delivered: the reconciliation reads the payments and repairs.
#[tokio::test]
async fn reconciliation_repairs_what_lost_webhooks_left() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.hold_webhooks(true);
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    assert_eq!(billing(&b).await["status"], "pending");
    let (read, failed) = subscriptions::reconcile_all(&b.app.state).await.unwrap();
    assert_eq!((read, failed), (1, 0));
    assert_eq!(billing(&b).await["status"], "active");
    // Asaas ending it on its side is seen too.
    b.sim.inactivate(&b.sim.subscriptions()[0].id);
    subscriptions::reconcile_all(&b.app.state).await.unwrap();
    assert_eq!(billing(&b).await["status"], "canceled");
}

/// A delivery stored and not yet processed when the hub stops is processed by the next.
#[tokio::test]
async fn an_event_stored_before_a_restart_is_processed_after_it() {
    let mut b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    let charge = open_charge(&subscribed);
    b.sim.hold_webhooks(true);
    b.sim.pay(&charge, BillingType::Pix);
    let event =
        json!({"id": "evt_restart&1", "event": "PAYMENT_RECEIVED", "payment": {"id": charge}});
    // Stored with the worker stopped: the hub goes down right after acknowledging.
    let db = b.app.state.db.clone();
    let new = whatpro_hub::inbound::store::NewDelivery {
        account_id: None,
        source: whatpro_hub::inbound::FROM_ASAAS,
        event: "PAYMENT_RECEIVED".into(),
        dedupe_key: "evt_restart&1".into(),
        body: event.to_string(),
        received_at: whatpro_hub::platform::clock::now(), // wall-clock: received now, as the intake stamps it
    };
    b.app.stop().await;
    assert!(
        whatpro_hub::inbound::store::insert(&db, &new)
            .await
            .unwrap()
    );
    let restarted = b.app.replica().await;
    eventually("the stored event processed after the restart", || async {
        let view = restarted
            .get(&b.tenant.path("/billing"), &b.tenant.admin.token)
            .await;
        view.body["status"] == "active"
    })
    .await;
}

/// Metering: each conversation message counted once (a redelivery with a new delivery id
/// included), notes and activity not at all; 80 % and 100 % of the limit are told once.
#[tokio::test]
async fn messages_are_metered_once_per_message() {
    use crate::webhooks::{connected, deliver, signed_headers};
    let (sim, demo, app, admin) = connected(&[("DEFAULT_PLAN_MAX_MONTHLY_MESSAGES", "5")]).await;
    let secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let now = whatpro_hub::platform::clock::now().unix_timestamp(); // wall-clock: Chatwoot signs with the real time, checked in a 5-minute window
    let send = |n: usize, id: i64, kind: &'static str, private: bool| {
        let body = json!({
            "event": "message_created", "id": id, "message_type": kind, "private": private,
            "content": "hi", "created_at": now, "sender": {"id": 7, "type": "user"},
            "account": {"id": demo.account_id}
        })
        .to_string()
        .into_bytes();
        let headers = signed_headers(&secret, &body, now + n as i64, &format!("m-{n}"));
        (headers, body)
    };
    let messages = [
        (1, "incoming", false),
        (2, "outgoing", false),
        (2, "outgoing", false),
        (3, "outgoing", true),
        (4, "activity", false),
        (5, "incoming", false),
        (6, "incoming", false),
    ];
    for (n, (id, kind, private)) in messages.into_iter().enumerate() {
        let (headers, body) = send(n, id, kind, private);
        let resp = deliver(&app, admin.account_id, &headers, &body).await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    }
    let path = format!("/api/v1/accounts/{}/usage", admin.account_id);
    eventually("four messages counted", || async {
        app.get(&path, &admin.access).await.body["messages_this_month"] == 4
    })
    .await;
    let usage = app.get(&path, &admin.access).await;
    assert_eq!(usage.body["active_agents_this_month"], 1);
    let logs = app
        .get(
            &format!("/api/v1/accounts/{}/audit-logs?limit=200", admin.account_id),
            &admin.access,
        )
        .await;
    let told: Vec<i64> = logs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "usage.threshold_reached")
        .map(|e| e["after"]["percent"].as_i64().unwrap())
        .collect();
    assert_eq!(told, vec![80], "4 of 5 is 80 %, told once");
}

/// A trial from `BILLING_TRIAL_DAYS`: the plan in force at once, the first charge due when
/// the trial ends; a refund takes the access back; a deleted charge stops counting.
#[tokio::test]
async fn trials_refunds_and_deleted_charges_do_what_their_names_say() {
    let b = billed(&[("BILLING_TRIAL_DAYS", "7")]).await;
    let subscribed = subscribe(&b, b.pro).await;
    assert_eq!(
        subscribed.body["subscription"]["status"], "trialing",
        "{:?}",
        subscribed.body
    );
    let today = whatpro_hub::platform::clock::now().date(); // wall-clock: the hub dates the trial from its clock
    let due = whatpro_hub::billing::asaas::wire::format_date(today + time::Duration::days(7));
    assert_eq!(subscribed.body["payment"]["due_date"], due);
    assert_eq!(
        billing(&b).await["entitlements"]["limits"]["max_boards"],
        10
    );
    let charge = open_charge(&subscribed);
    b.sim.pay(&charge, BillingType::CreditCard);
    status_becomes(&b, "active").await;
    b.sim.refund(&charge);
    status_becomes(&b, "pending").await;
    assert_eq!(billing(&b).await["entitlements"]["limits"]["max_boards"], 2);
    let next = b.sim.next_cycle(&b.sim.subscriptions()[0].id);
    quiet(&b).await;
    assert_eq!(billing(&b).await["payments"].as_array().unwrap().len(), 2);
    b.sim.delete_payment(&next);
    quiet(&b).await;
    let view = billing(&b).await;
    assert_eq!(view["payments"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["status"], "pending");
}

/// Asaas's rate limit is waited out (its `RateLimit-Reset`), not turned into a failure.
#[tokio::test]
async fn asaas_rate_limits_are_waited_out() {
    let b = billed(&[]).await;
    b.sim.rate_limit(2, 1);
    let subscribed = subscribe(&b, b.pro).await;
    assert_eq!(
        subscribed.status,
        StatusCode::CREATED,
        "{:?}",
        subscribed.body
    );
    assert!(b.sim.requests().len() > 2);
    assert!(b.sim.requests().iter().all(|r| {
        r.user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("whatpro-hub/"))
    }));
}

/// A billing transition reaches the account's open realtime streams.
#[tokio::test]
async fn a_status_change_is_announced_on_the_accounts_stream() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    let mut events = crate::realtime::Events::open_as(&b.app, &b.tenant, &b.tenant.agent).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    loop {
        let (name, data) = events.next().await;
        if name == "account" {
            assert_eq!(data["kind"], "billing.status_changed");
            assert_eq!(data["data"]["status"], "active");
            break;
        }
    }
}

/// Operators list Asaas's deliveries (which belong to no account) and replay them.
#[tokio::test]
async fn operators_list_and_replay_asaas_deliveries() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    quiet(&b).await;
    let listed = b
        .app
        .get("/api/v1/webhook-deliveries?status=done", &b.root.token)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let items = listed.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|d| d["source"] == "asaas"));
    b.app
        .get("/api/v1/webhook-deliveries", &b.tenant.admin.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // A dead one (as after eight failed attempts) goes back and is processed.
    let id = items[0]["id"].as_str().unwrap().to_string();
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool => sqlx::query(
        "UPDATE webhook_deliveries SET status = 'dead' WHERE id = $1")
        .bind(Uuid::parse_str(&id).unwrap()).execute(pool).await.unwrap().rows_affected());
    let replayed = b
        .app
        .post(
            "/api/v1/webhook-deliveries/replay",
            &b.root.token,
            json!({}),
        )
        .await;
    assert_eq!(replayed.body["replayed"], 1, "{:?}", replayed.body);
    quiet(&b).await;
    let one = b
        .app
        .post(
            &format!("/api/v1/webhook-deliveries/{id}/replay"),
            &b.root.token,
            json!({}),
        )
        .await;
    assert_eq!(one.body["replayed"], 1, "{:?}", one.body);
    quiet(&b).await;
    assert_eq!(billing(&b).await["status"], "active");
    let actions = audit_actions(&b).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subscription.activated")
            .count(),
        1
    );
}

/// A subscribe that never reached Asaas grants nothing, a trial included; a first charge
/// never paid leaves the account as it was (nothing to suspend); the trial is for the
/// first subscription only.
#[tokio::test]
async fn nothing_is_granted_before_asaas_has_the_subscription_and_a_first_charge_is_paid() {
    let b = billed(&[("BILLING_TRIAL_DAYS", "14")]).await;
    b.sim.fail_next(1, 500);
    subscribe(&b, b.pro)
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "asaas_unreachable");
    let view = billing(&b).await;
    assert_eq!(view["status"], "pending");
    assert_eq!(
        view["entitlements"]["limits"]["max_boards"], 2,
        "no plan without Asaas"
    );
    let write = b
        .app
        .post(
            &b.tenant.path("/boards"),
            &b.tenant.admin.token,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(write.status, StatusCode::CREATED);
    // Subscribed, then the first charge never paid: pending, never suspended.
    let subscribed = subscribe(&b, b.pro).await;
    assert_eq!(
        subscribed.body["subscription"]["status"], "trialing",
        "{:?}",
        subscribed.body
    );
    b.sim.overdue(&open_charge(&subscribed));
    status_becomes(&b, "pending").await;
    let view = billing(&b).await;
    assert_eq!(view["grace_until"], Value::Null);
    assert_eq!(view["entitlements"]["limits"]["max_boards"], 2);
    // Canceled and subscribed again: no second trial.
    let path = b.tenant.path("/billing/subscription");
    let canceled = b.app.delete(&path, &b.tenant.admin.token).await;
    assert_eq!(canceled.body["status"], "canceled", "{:?}", canceled.body);
    let again = subscribe(&b, b.pro).await;
    assert_eq!(
        again.body["subscription"]["status"], "pending",
        "{:?}",
        again.body
    );
    assert_eq!(again.body["subscription"]["trial_ends_at"], Value::Null);
}

/// A scheduled downgrade or cancellation happens at the end of the period paid when it
/// was asked for, even when the next charge is paid early.
#[tokio::test]
async fn scheduled_changes_keep_their_date_when_a_charge_is_paid_early() {
    let b = billed(&[]).await;
    let basic = plan(&b.app, &b.root, "basic", "49.90", 1).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    let path = b.tenant.path("/billing/subscription");
    let down = b
        .app
        .put(&path, &b.tenant.admin.token, json!({"plan_id": basic}))
        .await;
    assert_eq!(
        down.body["pending_plan"]["code"], "basic",
        "{:?}",
        down.body
    );
    let scheduled_end = billing(&b).await["current_period_end"].clone();
    // The next charge, paid early: the paid period moves on, the downgrade's date does not.
    let next = b.sim.next_cycle(&b.sim.subscriptions()[0].id);
    b.sim.pay(&next, BillingType::Pix);
    quiet(&b).await;
    assert_ne!(billing(&b).await["current_period_end"], scheduled_end);
    let change_at: time::OffsetDateTime = whatpro_hub::on_db!(&b.app.state.db, pool =>
        sqlx::query_scalar("SELECT change_at FROM subscriptions").fetch_one(pool).await.unwrap());
    let expected = time::OffsetDateTime::parse(
        scheduled_end.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(change_at, expected);
}

/// A retry with another plan makes Asaas charge that plan's price; a cancel waits for a
/// subscribe under way; the reconciliation adopts what an abandoned subscribe made.
#[tokio::test]
async fn abandoned_and_retried_subscribes_end_in_one_asaas_subscription_at_the_right_price() {
    let b = billed(&[]).await;
    let basic = plan(&b.app, &b.root, "basic", "49.90", 1).await;
    // An attempt whose answer was lost: Asaas made the subscription at Pro's price.
    b.sim.fail_next(1, 500);
    subscribe(&b, b.pro)
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "asaas_unreachable");
    let ours = lost_answers(&b).await;
    // Abandoned: the reconciliation finds and adopts it.
    subscriptions::reconcile_all(&b.app.state).await.unwrap();
    assert_eq!(billing(&b).await["subscription"]["id"], ours.to_string());
    let asaas_id: Option<String> = whatpro_hub::on_db!(&b.app.state.db, pool => sqlx::query_scalar(
        "SELECT asaas_id FROM subscriptions").fetch_one(pool).await.unwrap());
    assert_eq!(
        asaas_id.as_deref(),
        Some(b.sim.subscriptions()[0].id.as_str())
    );
    // Had it been retried with Basic instead, Asaas would charge Basic's price.
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool => sqlx::query("UPDATE subscriptions SET asaas_id = NULL")
        .execute(pool).await.unwrap().rows_affected());
    let retried = subscribe(&b, basic).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{:?}", retried.body);
    assert_eq!(retried.body["subscription"]["plan"]["code"], "basic");
    assert_eq!(b.sim.subscriptions().len(), 1);
    assert_eq!(b.sim.subscriptions()[0].value, 49.9);
    // A cancel while another subscribe holds the subscription waits.
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool => sqlx::query(
        "UPDATE subscriptions SET asaas_id = NULL, attempt_until = $1")
        .bind(whatpro_hub::platform::clock::now() + time::Duration::minutes(1)) // wall-clock: a hold the hub's clock sees live
        .execute(pool).await.unwrap().rows_affected());
    b.app
        .delete(
            &b.tenant.path("/billing/subscription"),
            &b.tenant.admin.token,
        )
        .await
        .assert_problem(StatusCode::CONFLICT, "subscription_in_progress");
}

/// Asaas not knowing a subscription the hub made is an error to look into, not an ending.
#[tokio::test]
async fn a_subscription_asaas_does_not_know_is_not_canceled() {
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    b.sim.pay(&open_charge(&subscribed), BillingType::Pix);
    status_becomes(&b, "active").await;
    whatpro_hub::on_writer!(&mut b.app.state.db.writer().await.unwrap(), pool => sqlx::query("UPDATE subscriptions SET asaas_id = 'sub_elsewhere'")
        .execute(pool).await.unwrap().rows_affected());
    let (read, failed) = subscriptions::reconcile_all(&b.app.state).await.unwrap();
    assert_eq!((read, failed), (1, 1));
    assert_eq!(billing(&b).await["status"], "active");
}

/// A plan with subscribers keeps its price and cycle; its limits may change.
#[tokio::test]
async fn a_plan_with_subscribers_keeps_its_price() {
    let b = billed(&[]).await;
    assert_eq!(subscribe(&b, b.pro).await.status, StatusCode::CREATED);
    let path = format!("/api/v1/plans/{}", b.pro);
    let repriced = b
        .app
        .put(&path, &b.root.token, plan_body("pro", "199.90", 10))
        .await;
    repriced.assert_problem(StatusCode::CONFLICT, "plan_has_subscribers");
    let widened = b
        .app
        .put(&path, &b.root.token, plan_body("pro", "149.90", 30))
        .await;
    assert_eq!(widened.status, StatusCode::OK, "{:?}", widened.body);
}

/// Two reads of one payment applied out of order (two workers, or a reconciliation racing a
/// webhook), within the same second: the older never overwrites the newer.
#[tokio::test]
async fn an_older_read_of_a_payment_never_overwrites_a_newer_one() {
    use whatpro_hub::billing::subscriptions::store::{PaymentUpdate, upsert_payment};
    let b = billed(&[]).await;
    let subscribed = subscribe(&b, b.pro).await;
    let sub: Uuid = subscribed.body["subscription"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = whatpro_hub::platform::clock::now(); // wall-clock: stamps rows as the hub would
    let read = |status: &'static str, fetched_at: i64| PaymentUpdate {
        account_id: b.tenant.id,
        subscription_id: sub,
        asaas_id: "pay_race",
        value_cents: 14990,
        status,
        billing_type: "PIX",
        due_date: now.date(),
        paid_at: None,
        invoice_url: None,
        fetched_at,
    };
    let at = whatpro_hub::platform::clock::now_micros(); // wall-clock: a read's own stamp
    let mut tx = b.app.state.db.begin().await.unwrap();
    upsert_payment(&mut tx, &read("RECEIVED", at + 1), now)
        .await
        .unwrap();
    upsert_payment(&mut tx, &read("PENDING", at), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let status: String = whatpro_hub::on_db!(&b.app.state.db, pool => sqlx::query_scalar(
        "SELECT status FROM payments WHERE asaas_id = 'pay_race'").fetch_one(pool).await.unwrap());
    assert_eq!(status, "RECEIVED");
}
