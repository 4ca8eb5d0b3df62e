//! The simulator driven over real HTTP, as the hub's client and webhook endpoint see it.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use reqwest::Method;
use serde_json::{Value, json};

use super::{AsaasSimulator, BillingType, PaymentStatus, Release};

const KEY: &str = "$aact_hmlg_simulator_key";
/// A CPF with valid check digits.
const CPF: &str = "52998224725";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Calls the API as the hub's client does: key, User-Agent, JSON.
async fn call(
    sim: &AsaasSimulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = http()
        .request(method, format!("{}{path}", sim.base_url()))
        .header("access_token", KEY)
        .header("User-Agent", "whatpro-hub-tests");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

async fn customer(sim: &AsaasSimulator, external_reference: &str) -> String {
    let body = json!({
        "name": "Padaria Pão Quente", "cpfCnpj": CPF, "email": "dono@padaria.example",
        "externalReference": external_reference,
    });
    let (status, _, customer) = call(sim, Method::POST, "/customers", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{customer}");
    customer["id"].as_str().unwrap().to_string()
}

async fn subscription(sim: &AsaasSimulator, customer: &str, reference: &str) -> Value {
    let body = json!({
        "customer": customer, "billingType": "PIX", "value": 149.9,
        "nextDueDate": "2030-01-31", "cycle": "MONTHLY",
        "description": "Plano Pro", "externalReference": reference,
    });
    let (status, _, sub) = call(sim, Method::POST, "/subscriptions", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{sub}");
    sub
}

/// A webhook endpoint that records what it receives and answers `status`.
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let receiver = Receiver {
            url: format!("http://{}/webhooks/asaas", listener.local_addr().unwrap()),
            hits: Arc::default(),
            status: Arc::new(AtomicU16::new(status)),
        };
        let app = Router::new()
            .route("/webhooks/asaas", post(record))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn events(&self) -> Vec<String> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .map(|(_, body)| body["event"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn bodies(&self) -> Vec<Value> {
        let hits = self.hits.lock().unwrap();
        hits.iter().map(|(_, body)| body.clone()).collect()
    }
}

async fn record(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let body = serde_json::from_str(&body).unwrap_or(Value::Null);
    receiver.hits.lock().unwrap().push((headers, body));
    StatusCode::from_u16(receiver.status.load(Ordering::SeqCst)).unwrap()
}

#[tokio::test]
async fn the_api_wants_the_key_and_a_user_agent() {
    let sim = AsaasSimulator::start(KEY).await;
    let url = format!("{}/customers", sim.base_url());

    let no_key = http()
        .get(&url)
        .header("User-Agent", "t")
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::UNAUTHORIZED);
    assert!(no_key.headers().contains_key("ratelimit-remaining"));
    let body: Value = no_key.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "invalid_access_token");

    let wrong_key = http()
        .get(&url)
        .header("access_token", "nope")
        .header("User-Agent", "t");
    assert_eq!(
        wrong_key.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let no_agent = http()
        .get(&url)
        .header("access_token", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(no_agent.status(), StatusCode::BAD_REQUEST);
    let body: Value = no_agent.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "invalid_user_agent");

    let (status, _, list) = call(&sim, Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["object"], "list");
    assert_eq!(sim.requests().len(), 4);
    assert_eq!(sim.requests()[0].path, "/v3/customers");
    assert_eq!(sim.requests()[2].user_agent, None);
}

#[tokio::test]
async fn a_subscription_bills_its_first_payment_at_once() {
    let sim = AsaasSimulator::start(KEY).await;
    let (status, _, missing) = call(
        &sim,
        Method::POST,
        "/customers",
        Some(json!({ "cpfCnpj": CPF })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["errors"][0]["code"], "invalid_name");
    let bad_document = json!({ "name": "X", "cpfCnpj": "12345678900" });
    let (status, _, _) = call(&sim, Method::POST, "/customers", Some(bad_document)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let customer = customer(&sim, "tenant-7").await;
    assert!(
        customer.starts_with("cus_") && customer.len() == 16,
        "{customer}"
    );
    let sub = subscription(&sim, &customer, "tenant-7").await;
    assert_eq!(sub["object"], "subscription");
    assert_eq!(sub["status"], "ACTIVE");
    assert_eq!(sub["value"], 149.9);
    // The first payment took 2030-01-31; the next lands on the last day of February.
    assert_eq!(sub["nextDueDate"], "2030-02-28");

    let sub_id = sub["id"].as_str().unwrap();
    let path = format!("/subscriptions/{sub_id}/payments");
    let (_, _, payments) = call(&sim, Method::GET, &path, None).await;
    assert_eq!(payments["totalCount"], 1);
    let payment = &payments["data"][0];
    assert_eq!(payment["status"], "PENDING");
    assert_eq!(payment["dueDate"], "2030-01-31");
    assert_eq!(payment["subscription"], sub_id);
    assert_eq!(payment["externalReference"], "tenant-7");
    let payment_id = payment["id"].as_str().unwrap();
    assert_eq!(
        payment["invoiceUrl"],
        format!("{}/i/{payment_id}", sim.page_url())
    );

    let (status, _, shown) =
        call(&sim, Method::GET, &format!("/payments/{payment_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["value"], 149.9);

    let unknown = json!({ "customer": "cus_000000000000", "billingType": "PIX", "value": 10,
        "nextDueDate": "2030-01-01", "cycle": "MONTHLY" });
    let (status, _, _) = call(&sim, Method::POST, "/subscriptions", Some(unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let weekly_typo = json!({ "customer": customer, "billingType": "PIX", "value": 10,
        "nextDueDate": "2030-01-01", "cycle": "weekly" });
    let (status, _, error) = call(&sim, Method::POST, "/subscriptions", Some(weekly_typo)).await;
    assert_eq!(
        (status, &error["errors"][0]["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_cycle"))
    );
    let (status, _, _) = call(&sim, Method::GET, "/payments/pay_unknown00000", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_filter_by_external_reference() {
    let sim = AsaasSimulator::start(KEY).await;
    let first = customer(&sim, "tenant-1").await;
    let second = customer(&sim, "tenant-2").await;
    subscription(&sim, &first, "tenant-1").await;
    subscription(&sim, &second, "tenant-2").await;

    let (_, _, customers) = call(
        &sim,
        Method::GET,
        "/customers?externalReference=tenant-2",
        None,
    )
    .await;
    assert_eq!(customers["totalCount"], 1);
    assert_eq!(customers["data"][0]["id"], second.as_str());
    let (_, _, by_document) =
        call(&sim, Method::GET, "/customers?cpfCnpj=529.982.247-25", None).await;
    assert_eq!(by_document["totalCount"], 2);

    let (_, _, subs) = call(
        &sim,
        Method::GET,
        "/subscriptions?externalReference=tenant-1",
        None,
    )
    .await;
    assert_eq!(subs["totalCount"], 1);
    assert_eq!(subs["data"][0]["customer"], first.as_str());
    let (_, _, page) = call(&sim, Method::GET, "/subscriptions?limit=1&offset=1", None).await;
    assert_eq!(
        (
            page["hasMore"].clone(),
            page["data"].as_array().unwrap().len()
        ),
        (json!(false), 1)
    );
}

#[tokio::test]
async fn the_quota_is_announced_and_then_enforced() {
    let sim = AsaasSimulator::start(KEY).await;
    sim.rate_limit(2, 60);
    let header = |headers: &HeaderMap, name: &str| -> u64 {
        headers[name].to_str().unwrap().parse().unwrap()
    };
    let (_, first, _) = call(&sim, Method::GET, "/customers", None).await;
    assert_eq!(header(&first, "ratelimit-limit"), 2);
    assert_eq!(header(&first, "ratelimit-remaining"), 1);
    assert!((1..=60).contains(&header(&first, "ratelimit-reset")));
    let (status, second, _) = call(&sim, Method::GET, "/customers", None).await;
    assert_eq!(
        (status, header(&second, "ratelimit-remaining")),
        (StatusCode::OK, 0)
    );
    let (status, third, body) = call(&sim, Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&third, "ratelimit-remaining"), 0);
    assert!(body["errors"][0]["code"].is_string());
}

#[tokio::test]
async fn faults_and_delays_are_injected() {
    let sim = AsaasSimulator::start(KEY).await;
    sim.fail_next(1, 503);
    let (status, _, body) = call(&sim, Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["errors"].is_array());
    assert_eq!(
        call(&sim, Method::GET, "/customers", None).await.0,
        StatusCode::OK
    );

    // The request is carried out even though the client gave up waiting for the answer.
    sim.delay_next(1, Duration::from_millis(400));
    let impatient = http()
        .post(format!("{}/customers", sim.base_url()))
        .timeout(Duration::from_millis(100))
        .header("access_token", KEY)
        .header("User-Agent", "t")
        .json(&json!({ "name": "Slow", "cpfCnpj": CPF }))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    assert_eq!(sim.customers().len(), 1);
    let posts = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn webhooks_reach_the_receiver_with_the_token() {
    let sim = AsaasSimulator::start(KEY).await;
    let receiver = Receiver::start(200).await;
    let config = json!({
        "name": "hub", "url": receiver.url, "email": "ops@example.com", "enabled": true,
        "interrupted": false, "authToken": "whsec-0123456789abcdef0123456789abcdef",
        "sendType": "SEQUENTIALLY",
        "events": ["PAYMENT_CREATED", "PAYMENT_RECEIVED", "SUBSCRIPTION_CREATED"],
    });
    let (status, _, hook) = call(&sim, Method::POST, "/webhooks", Some(config)).await;
    assert_eq!(status, StatusCode::OK, "{hook}");
    assert_eq!(hook["hasAuthToken"], true);

    let customer = customer(&sim, "tenant-9").await;
    let sub = subscription(&sim, &customer, "tenant-9").await;
    sim.settle().await;

    assert_eq!(
        receiver.events(),
        ["SUBSCRIPTION_CREATED", "PAYMENT_CREATED"]
    );
    let hits = receiver.hits.lock().unwrap().clone();
    let (headers, body) = &hits[1];
    assert_eq!(
        headers["asaas-access-token"],
        "whsec-0123456789abcdef0123456789abcdef"
    );
    assert_eq!(headers["content-type"], "application/json");
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("evt_") && id.contains('&'), "{id}");
    assert_eq!(body["account"]["ownerId"], Value::Null);
    assert!(body["account"]["id"].is_string());
    assert_eq!(body["payment"]["object"], "payment");
    assert_eq!(body["payment"]["subscription"], sub["id"]);
    assert_eq!(body["payment"]["externalReference"], "tenant-9");
    assert_eq!(
        body["dateCreated"].as_str().unwrap().len(),
        "2030-01-01 00:00:00".len()
    );
    // The subscription example in Asaas's docs writes dates as DD/MM/YYYY.
    assert_eq!(hits[0].1["subscription"]["nextDueDate"], "28/02/2030");
    assert!(sim.deliveries().iter().all(|d| d.succeeded()));
}

#[tokio::test]
async fn resend_repeats_the_event_id() {
    let sim = AsaasSimulator::start(KEY).await;
    let receiver = Receiver::start(200).await;
    sim.set_webhook(&receiver.url, "token");
    let customer = customer(&sim, "t").await;
    subscription(&sim, &customer, "t").await;
    sim.settle().await;
    let created = sim
        .events()
        .into_iter()
        .find(|e| e.event == "PAYMENT_CREATED")
        .unwrap();
    sim.resend(&created.id);
    sim.settle().await;
    let ids: Vec<Value> = receiver.bodies().iter().map(|b| b["id"].clone()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[1], ids[2]);
    assert_eq!(ids[2], created.id.as_str());
}

#[tokio::test]
async fn failed_deliveries_block_the_queue_until_redelivered() {
    let sim = AsaasSimulator::start(KEY).await;
    let receiver = Receiver::start(500).await;
    sim.set_webhook(&receiver.url, "token");
    let customer = customer(&sim, "t").await;
    subscription(&sim, &customer, "t").await;
    sim.settle().await;
    // The first event failed; sequential delivery holds the second back behind it.
    assert_eq!(receiver.events(), ["SUBSCRIPTION_CREATED"]);
    assert_eq!(sim.deliveries().len(), 1);
    assert!(!sim.deliveries()[0].succeeded());

    receiver.status.store(200, Ordering::SeqCst);
    sim.redeliver_failed();
    sim.settle().await;
    assert_eq!(
        receiver.events(),
        [
            "SUBSCRIPTION_CREATED",
            "SUBSCRIPTION_CREATED",
            "PAYMENT_CREATED"
        ]
    );
}

#[tokio::test]
async fn held_events_can_be_released_out_of_order() {
    let sim = AsaasSimulator::start(KEY).await;
    let receiver = Receiver::start(200).await;
    sim.set_webhook(&receiver.url, "token");
    let customer = customer(&sim, "t").await;
    let sub = subscription(&sim, &customer, "t").await;
    sim.settle().await;
    let sub_id = sub["id"].as_str().unwrap();
    let first = sim.payments_of(sub_id)[0].id.clone();

    sim.hold_webhooks(true);
    sim.overdue(&first);
    sim.pay(&first, BillingType::Pix);
    sim.settle().await;
    assert_eq!(receiver.events().len(), 2, "nothing sent while held");
    sim.release_webhooks(Release::Reversed);
    sim.settle().await;
    assert_eq!(
        receiver.events()[2..],
        ["PAYMENT_RECEIVED", "PAYMENT_OVERDUE"]
    );
}

#[tokio::test]
async fn deleting_a_subscription_removes_its_unpaid_payments() {
    let sim = AsaasSimulator::start(KEY).await;
    let receiver = Receiver::start(200).await;
    sim.set_webhook(&receiver.url, "token");
    let customer = customer(&sim, "t").await;
    let sub = subscription(&sim, &customer, "t").await;
    let sub_id = sub["id"].as_str().unwrap();
    let paid = sim.payments_of(sub_id)[0].id.clone();
    sim.pay(&paid, BillingType::CreditCard);
    let unpaid = sim.next_cycle(sub_id);
    assert_eq!(sim.payment(&paid).unwrap().status, PaymentStatus::Confirmed);

    let (status, _, body) = call(
        &sim,
        Method::DELETE,
        &format!("/subscriptions/{sub_id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, &body),
        (StatusCode::OK, &json!({ "deleted": true, "id": sub_id }))
    );
    sim.settle().await;
    assert_eq!(
        receiver.events()[2..],
        [
            "PAYMENT_CONFIRMED",
            "PAYMENT_CREATED",
            "SUBSCRIPTION_DELETED",
            "PAYMENT_DELETED"
        ]
    );
    let (status, _, _) = call(&sim, Method::GET, &format!("/payments/{unpaid}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, shown) = call(&sim, Method::GET, &format!("/subscriptions/{sub_id}"), None).await;
    assert_eq!(
        (shown["deleted"].clone(), shown["status"].clone()),
        (json!(true), json!("INACTIVE"))
    );
    let (_, _, listed) = call(&sim, Method::GET, "/subscriptions", None).await;
    assert_eq!(listed["totalCount"], 0);
}

#[tokio::test]
async fn paying_on_the_page_emits_payment_received() {
    let sim = AsaasSimulator::start(KEY).await;
    let receiver = Receiver::start(200).await;
    sim.set_webhook(&receiver.url, "token");
    let body = json!({ "name": "Ana <script>", "cpfCnpj": "11.222.333/0001-81" });
    let (_, _, customer) = call(&sim, Method::POST, "/customers", Some(body)).await;
    let sub = subscription(&sim, customer["id"].as_str().unwrap(), "t").await;
    let payment = sim.payments_of(sub["id"].as_str().unwrap())[0].id.clone();

    let path = format!("/payments/{payment}/pixQrCode");
    let (status, _, qr) = call(&sim, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(qr["payload"].as_str().unwrap().starts_with("000201"));
    assert!(
        qr["encodedImage"]
            .as_str()
            .unwrap()
            .starts_with("iVBORw0KGgo"),
        "a PNG"
    );

    let invoice = format!("{}/i/{payment}", sim.page_url());
    let page = http()
        .get(&invoice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Pay with PIX (simulated)") && page.contains("<code>000201"));
    let index = http()
        .get(sim.page_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains(&payment) && index.contains("Ana &lt;script&gt;"));

    let paid = http().post(format!("{invoice}/pay")).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(paid.headers()["location"], format!("/i/{payment}"));
    sim.settle().await;
    assert_eq!(receiver.events().last().unwrap(), "PAYMENT_RECEIVED");
    let received = receiver.bodies().pop().unwrap();
    assert_eq!(received["payment"]["status"], "RECEIVED");
    assert!(received["payment"]["paymentDate"].is_string());

    let (_, _, shown) = call(&sim, Method::GET, &format!("/payments/{payment}"), None).await;
    assert_eq!(shown["status"], "RECEIVED");
    let (status, _, _) = call(&sim, Method::GET, &path, None).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a paid charge has no QR code"
    );
}

#[tokio::test]
async fn updating_with_pending_payments_reprices_them() {
    let sim = AsaasSimulator::start(KEY).await;
    let customer = customer(&sim, "t").await;
    let sub = subscription(&sim, &customer, "t").await;
    let sub_id = sub["id"].as_str().unwrap();
    let path = format!("/subscriptions/{sub_id}");
    let change = json!({ "value": 199.0, "updatePendingPayments": true });
    let (status, _, updated) = call(&sim, Method::PUT, &path, Some(change)).await;
    assert_eq!((status, &updated["value"]), (StatusCode::OK, &json!(199.0)));
    assert_eq!(sim.payments_of(sub_id)[0].value, 199.0);
    let past = json!({ "customer": customer, "billingType": "PIX", "value": 10,
        "nextDueDate": "2001-01-01", "cycle": "MONTHLY" });
    let (status, _, _) = call(&sim, Method::POST, "/subscriptions", Some(past)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_account_has_at_most_ten_webhooks() {
    let sim = AsaasSimulator::start(KEY).await;
    let config = json!({ "name": "h", "url": "http://127.0.0.1:9/h", "email": "a@b.c",
        "enabled": true, "interrupted": false, "sendType": "NON_SEQUENTIALLY",
        "events": ["PAYMENT_RECEIVED"] });
    for _ in 0..10 {
        let (status, _, _) = call(&sim, Method::POST, "/webhooks", Some(config.clone())).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, _) = call(&sim, Method::POST, "/webhooks", Some(config)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, _, list) = call(&sim, Method::GET, "/webhooks", None).await;
    assert_eq!(list["totalCount"], 10);
    let typo = json!({ "url": "http://x/h", "events": ["PAYMENT_PAID"] });
    let (status, _, _) = call(&sim, Method::POST, "/webhooks", Some(typo)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
