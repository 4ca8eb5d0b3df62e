//! A board's flow and SLA metrics through the API: counts, values, work in progress and
//! stage times from cards moved through the board; exact durations and SLA breaches from a
//! history whose times are set back; the window's checks; tenants and the plan's flag.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use whatpro_hub::{on_db, on_writer, platform::clock};

use crate::{
    accounts::{assert_hidden, assert_invalid, super_admin},
    support::{Caller, Resp, Tenant, TestApp},
};

const HOUR: i64 = 3600;

async fn tenant(vars: &[(&str, &str)]) -> (TestApp, Caller, Tenant) {
    let app = TestApp::spawn_with(vars).await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    (app, root, tenant)
}

/// A new board with the default pipeline: New, In progress, Waiting, Won, Lost.
struct Board {
    id: String,
    stages: Vec<String>,
}

async fn new_board(app: &TestApp, t: &Tenant) -> Board {
    let resp = app
        .post(
            &t.path("/boards"),
            &t.admin.token,
            json!({ "name": "Sales" }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    Board {
        id: resp.body["id"].as_str().unwrap().to_string(),
        stages: resp.body["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect(),
    }
}

async fn set_sla(app: &TestApp, t: &Tenant, b: &Board, stage: usize, hours: i64) {
    let path = t.path(&format!("/boards/{}/stages/{}", b.id, b.stages[stage]));
    let body = json!({ "sla_hours": hours });
    let resp = app
        .request(Method::PATCH, &path, Some(&t.supervisor.token), Some(body))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
}

/// A card in the entry stage; its id.
async fn card(app: &TestApp, t: &Tenant, b: &Board, title: &str, value: Option<i64>) -> String {
    let resp = app
        .post(
            &t.path(&format!("/boards/{}/cards", b.id)),
            &t.agent.token,
            json!({ "title": title, "value_minor": value }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["id"].as_str().unwrap().to_string()
}

async fn move_to(app: &TestApp, t: &Tenant, b: &Board, card: &str, stage: usize) {
    let path = t.path(&format!("/boards/{}/cards/{card}/move", b.id));
    let resp = app
        .post(
            &path,
            &t.agent.token,
            json!({ "stage_id": b.stages[stage] }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
}

async fn metrics(app: &TestApp, t: &Tenant, b: &Board, query: &str) -> Resp {
    let path = t.path(&format!("/boards/{}/metrics{query}", b.id));
    app.get(&path, &t.agent.token).await
}

async fn ok_metrics(app: &TestApp, t: &Tenant, b: &Board, query: &str) -> Value {
    let resp = metrics(app, t, b, query).await;
    assert_eq!(resp.status, StatusCode::OK, "{query}: {:?}", resp.body);
    resp.body
}

/// Sets when each of the card's events happened (oldest first, one time per event) and
/// its creation time to the first: the API records "now", the SLA needs hours.
async fn backdate(app: &TestApp, card: &str, times: &[OffsetDateTime]) {
    let card: Uuid = card.parse().unwrap();
    let sql = "SELECT id FROM card_events WHERE card_id = $1 ORDER BY id";
    let ids: Vec<Uuid> = on_db!(&app.state.db, pool => sqlx::query_scalar(sql)
        .bind(card).fetch_all(pool).await.unwrap());
    assert_eq!(ids.len(), times.len(), "one time per event");
    for (id, at) in ids.iter().zip(times) {
        let sql = "UPDATE card_events SET created_at = $2 WHERE id = $1";
        on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(sql)
            .bind(id).bind(at).execute(pool).await.unwrap().rows_affected());
    }
    let sql = "UPDATE cards SET created_at = $2 WHERE id = $1";
    on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(sql)
        .bind(card).bind(times[0]).execute(pool).await.unwrap().rows_affected());
}

fn stage<'a>(m: &'a Value, name: &str) -> &'a Value {
    m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name} in {m}"))
}

fn sums(m: &Value) -> (i64, i64) {
    m["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .fold((0, 0), |(w, l), week| {
            (
                w + week["won"].as_i64().unwrap(),
                l + week["lost"].as_i64().unwrap(),
            )
        })
}

fn rfc3339(value: &Value) -> OffsetDateTime {
    let text = value.as_str().unwrap();
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test]
async fn metrics_follow_the_cards_through_the_board() {
    let (app, _, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    set_sla(&app, &t, &b, 0, 24).await;
    let a = card(&app, &t, &b, "a", Some(150_000)).await;
    move_to(&app, &t, &b, &a, 1).await;
    move_to(&app, &t, &b, &a, 3).await;
    let won = card(&app, &t, &b, "b", Some(50_000)).await;
    move_to(&app, &t, &b, &won, 3).await;
    let lost = card(&app, &t, &b, "c", None).await;
    move_to(&app, &t, &b, &lost, 4).await;
    card(&app, &t, &b, "d", Some(1_000)).await;
    let gone = card(&app, &t, &b, "e", Some(999)).await;
    let path = t.path(&format!("/boards/{}/cards/{gone}", b.id));
    assert_eq!(
        app.delete(&path, &t.agent.token).await.status,
        StatusCode::NO_CONTENT
    );

    let m = ok_metrics(&app, &t, &b, "").await;
    assert_eq!(m["board_id"], b.id.as_str());
    assert_eq!(m["currency"], "BRL");
    let (from, to) = (rfc3339(&m["from"]), rfc3339(&m["to"]));
    assert_eq!(to - from, Duration::days(30));
    assert!((clock::now() - to).abs() < Duration::minutes(1));
    assert_eq!(m["won"], json!({ "count": 2, "value_minor": 200_000 }));
    assert_eq!(m["lost"], json!({ "count": 1, "value_minor": 0 }));
    assert_eq!(m["lead_time"]["count"], 3);
    assert_eq!(m["cycle_time"]["count"], 3);
    assert!(m["lead_time"]["p90_seconds"].as_i64().unwrap() < 60);
    assert_eq!(sums(&m), (2, 1));
    let weeks = m["throughput"].as_array().unwrap();
    assert!((5..=6).contains(&weeks.len()), "{weeks:?}");
    let mondays: Vec<time::Date> = weeks
        .iter()
        .map(|w| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(w["week_start"].as_str().unwrap(), &format).unwrap()
        })
        .collect();
    assert!(mondays.iter().all(|d| d.weekday() == time::Weekday::Monday));
    assert!(
        mondays
            .windows(2)
            .all(|w| w[1] - w[0] == Duration::weeks(1))
    );
    assert!(mondays[0] <= from.date() && from.date() - mondays[0] < Duration::weeks(1));

    let names: Vec<&str> = m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["New", "In progress", "Waiting", "Won", "Lost"]);
    let new = stage(&m, "New");
    assert_eq!(new["stage_id"], b.stages[0].as_str());
    assert_eq!(
        (new["kind"].as_str(), new["sla_hours"].as_i64()),
        (Some("open"), Some(24))
    );
    assert_eq!(
        (new["wip"].as_i64(), new["wip_value_minor"].as_i64()),
        (Some(1), Some(1_000))
    );
    // a, b and c moved out and e was archived: four stays ended.
    assert_eq!(new["time_in_stage"]["count"], 4);
    assert_eq!(new["sla"], json!({ "over_now": 0, "breaches": 0 }));
    let doing = stage(&m, "In progress");
    assert_eq!(
        (
            doing["wip"].as_i64(),
            doing["time_in_stage"]["count"].as_i64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(doing["sla"], Value::Null);
    let won_stage = stage(&m, "Won");
    assert_eq!(
        (
            won_stage["wip"].as_i64(),
            won_stage["wip_value_minor"].as_i64()
        ),
        (Some(2), Some(200_000))
    );
    assert_eq!(
        won_stage["time_in_stage"],
        json!({ "count": 0, "mean_seconds": null, "median_seconds": null, "p90_seconds": null })
    );
    assert_eq!(stage(&m, "Lost")["wip"], 1);

    // A reopened deal won again is a second close.
    move_to(&app, &t, &b, &won, 0).await;
    move_to(&app, &t, &b, &won, 3).await;
    let m = ok_metrics(&app, &t, &b, "").await;
    assert_eq!(m["won"], json!({ "count": 3, "value_minor": 250_000 }));
    assert_eq!(sums(&m), (3, 1));
    assert_eq!(stage(&m, "Won")["time_in_stage"]["count"], 1);
}

#[tokio::test]
async fn durations_and_slas_come_from_the_recorded_times() {
    let (app, _, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    set_sla(&app, &t, &b, 0, 24).await;
    set_sla(&app, &t, &b, 1, 12).await;
    let now = clock::now();
    let ago = |hours: i64| now - Duration::hours(hours);

    // Won: 30 h in New (over 24), 18 h in progress (over 12).
    let x = card(&app, &t, &b, "x", Some(10_000)).await;
    move_to(&app, &t, &b, &x, 1).await;
    move_to(&app, &t, &b, &x, 3).await;
    backdate(&app, &x, &[ago(50), ago(20), ago(2)]).await;
    // In New for 30 h now (over 24).
    let y = card(&app, &t, &b, "y", None).await;
    backdate(&app, &y, &[ago(30)]).await;
    // Just created.
    card(&app, &t, &b, "z", None).await;
    // 9 h in New, in progress for an hour.
    let w = card(&app, &t, &b, "w", None).await;
    move_to(&app, &t, &b, &w, 1).await;
    backdate(&app, &w, &[ago(10), ago(1)]).await;

    let m = ok_metrics(&app, &t, &b, "").await;
    let exactly =
        |s: i64| json!({ "count": 1, "mean_seconds": s, "median_seconds": s, "p90_seconds": s });
    assert_eq!(m["lead_time"], exactly(48 * HOUR));
    assert_eq!(m["cycle_time"], exactly(18 * HOUR));
    assert_eq!(m["won"], json!({ "count": 1, "value_minor": 10_000 }));
    let new = stage(&m, "New");
    // Stays of 30 h and 9 h: mean and median 19.5 h, p90 9 h + 0.9 × 21 h.
    assert_eq!(
        new["time_in_stage"],
        json!({ "count": 2, "mean_seconds": 70_200, "median_seconds": 70_200, "p90_seconds": 100_440 })
    );
    assert_eq!(new["sla"], json!({ "over_now": 1, "breaches": 1 }));
    assert_eq!(new["wip"], 2);
    let doing = stage(&m, "In progress");
    assert_eq!(doing["time_in_stage"], exactly(18 * HOUR));
    assert_eq!(doing["sla"], json!({ "over_now": 0, "breaches": 1 }));
    assert_eq!(doing["wip"], 1);

    // A window that ends before x left New sees none of it; the present stays the same.
    let to = ago(25)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let m = ok_metrics(&app, &t, &b, &format!("?to={to}")).await;
    assert_eq!(m["won"]["count"], 0);
    assert_eq!(stage(&m, "New")["time_in_stage"]["count"], 0);
    assert_eq!(
        stage(&m, "New")["sla"],
        json!({ "over_now": 1, "breaches": 0 })
    );
    assert_eq!(stage(&m, "New")["wip"], 2);

    // A deal won and then archived still counts in a window that saw it won.
    let v = card(&app, &t, &b, "v", Some(7_000)).await;
    move_to(&app, &t, &b, &v, 3).await;
    let path = t.path(&format!("/boards/{}/cards/{v}", b.id));
    assert_eq!(
        app.delete(&path, &t.agent.token).await.status,
        StatusCode::NO_CONTENT
    );
    backdate(&app, &v, &[ago(40), ago(5), ago(4)]).await;
    let since = |hours: i64| {
        let from = ago(hours)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        format!("?from={from}")
    };
    let m = ok_metrics(&app, &t, &b, &since(6)).await;
    assert_eq!(m["won"], json!({ "count": 2, "value_minor": 17_000 }));
    assert_eq!(stage(&m, "Won")["time_in_stage"], exactly(HOUR));
    assert_eq!(stage(&m, "Won")["wip"], 1);
    let m = ok_metrics(&app, &t, &b, &since(3)).await;
    assert_eq!(m["won"], json!({ "count": 1, "value_minor": 10_000 }));
    assert_eq!(stage(&m, "Won")["time_in_stage"]["count"], 0);
}

#[tokio::test]
async fn the_window_is_checked_and_echoed_in_utc() {
    let (app, _, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let a = card(&app, &t, &b, "a", Some(5)).await;
    move_to(&app, &t, &b, &a, 3).await;

    let m = ok_metrics(
        &app,
        &t,
        &b,
        "?from=2020-01-06T03:00:00%2B03:00&to=2020-01-20T00:00:00Z",
    )
    .await;
    assert_eq!(m["from"], "2020-01-06T00:00:00Z");
    assert_eq!(m["to"], "2020-01-20T00:00:00Z");
    assert_eq!(
        m["throughput"],
        json!([
            { "week_start": "2020-01-06", "won": 0, "lost": 0 },
            { "week_start": "2020-01-13", "won": 0, "lost": 0 },
        ])
    );
    assert_eq!(m["won"]["count"], 0);
    assert_eq!(
        stage(&m, "Won")["wip"],
        1,
        "work in progress is the present"
    );

    for (query, field) in [
        ("?from=yesterday", "from"),
        ("?to=2026-13-01T00:00:00Z", "to"),
        ("?from=2020-01-06", "from"),
        ("?from=2020-01-20T00:00:00Z&to=2020-01-20T00:00:00Z", "from"),
        ("?from=2020-02-01T00:00:00Z&to=2020-01-20T00:00:00Z", "from"),
        ("?from=2020-01-01T00:00:00Z&to=2021-01-02T00:00:01Z", "from"),
    ] {
        let resp = metrics(&app, &t, &b, query).await;
        assert_invalid(&resp, field);
    }
    // 366 days is the longest window (2020 is a leap year).
    ok_metrics(
        &app,
        &t,
        &b,
        "?from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z",
    )
    .await;
}

#[tokio::test]
async fn another_accounts_board_is_not_found() {
    let (app, root, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let other = app.tenant(&root, "Other").await;
    let missing = app
        .get(
            &other.path(&format!("/boards/{}/metrics", Uuid::now_v7())),
            &other.admin.token,
        )
        .await;
    let under_own = app
        .get(
            &other.path(&format!("/boards/{}/metrics", b.id)),
            &other.admin.token,
        )
        .await;
    assert_hidden(&under_own, &missing);
    let under_victim = app
        .get(
            &t.path(&format!("/boards/{}/metrics", b.id)),
            &other.admin.token,
        )
        .await;
    under_victim.assert_problem(StatusCode::NOT_FOUND, "not_found");
    // An archived board is gone too.
    let path = t.path(&format!("/boards/{}", b.id));
    assert_eq!(
        app.delete(&path, &t.admin.token).await.status,
        StatusCode::NO_CONTENT
    );
    metrics(&app, &t, &b, "")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_plan_can_turn_the_metrics_off() {
    let (app, _, t) = tenant(&[("DEFAULT_PLAN_KANBAN_ENABLED", "false")]).await;
    let path = t.path(&format!("/boards/{}/metrics", Uuid::now_v7()));
    app.get(&path, &t.agent.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
}
