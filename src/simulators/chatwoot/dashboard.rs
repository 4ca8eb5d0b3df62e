//! A stand-in for Chatwoot's dashboard pages, enough to exercise what runs inside them: the
//! hub's dashboard script (Chatwoot's `DASHBOARD_SCRIPTS`) and Dashboard App frames.
//!
//! `GET /app/login` signs in through `/auth/sign_in` and writes the `cw_d_session_info`
//! cookie as Chatwoot's front end does (the devise headers as URI-encoded JSON, js-cookie
//! style). `GET /app/accounts/{id}/{*rest}` is a small single-page shell shaped like
//! Chatwoot v4's: an `<aside>` sidebar whose `<nav><ul><li><a>` items navigate with
//! `history.pushState` and are re-rendered on every route change (as Vue does), a content
//! area, Dashboard App tabs on conversation pages, a "Log out" link, and the configured
//! scripts emitted raw at the end of `<body>`. The pages carry no CSP, like Chatwoot's.

use axum::{
    extract::{Path, Query, State},
    response::Html,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Simulator, routes::Sim, state::lock};

impl Simulator {
    /// What Chatwoot's `DASHBOARD_SCRIPTS` holds: emitted raw at the end of every dashboard
    /// page's body.
    pub fn set_dashboard_scripts(&self, html: &str) {
        *lock(&self.shared.dashboard_scripts) = html.to_string();
    }
}

/// `GET /app/login`.
pub(super) async fn login() -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Chatwoot (simulator)</title>{HEAD}<style>{STYLE}</style></head>\
         <body><main class=\"login\"><h1>Login to Chatwoot</h1>{LOGIN_FORM}</main>\
         <script>{LOGIN_SCRIPT}</script></body></html>"
    ))
}

#[derive(Deserialize)]
pub(super) struct ShellQuery {
    theme: Option<String>,
}

/// `GET /app/accounts/{account_id}/{*rest}`.
pub(super) async fn shell(
    State(sim): State<Sim>,
    Path((account_id, _rest)): Path<(i64, String)>,
    Query(query): Query<ShellQuery>,
) -> Html<String> {
    let (account_name, apps) = {
        let db = sim.db();
        let name = db.accounts.get(&account_id).map(|a| a.name.clone());
        // Chatwoot shows one tab per app, framing its first `frame` item.
        let apps: Vec<Value> =
            db.dashboard_apps
                .values()
                .filter(|a| a.account_id == account_id)
                .filter_map(|a| {
                    let url = a.content.as_array()?.iter().find_map(|c| {
                        (c["type"] == "frame").then(|| c["url"].as_str()).flatten()
                    })?;
                    Some(json!({ "title": a.title, "url": url }))
                })
                .collect();
        (name.unwrap_or_else(|| "Unknown account".into()), apps)
    };
    let scripts = lock(&sim.dashboard_scripts).clone();
    let dark = if query.theme.as_deref() == Some("dark") {
        " class=\"dark\""
    } else {
        ""
    };
    let config = script_json(&json!({ "accountId": account_id, "apps": apps }));
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Chatwoot (simulator)</title>{HEAD}<style>{STYLE}</style></head>\
         <body{dark}><div id=\"app\" class=\"layout\">\
         <aside class=\"sidebar\"><header class=\"brand\">{name}</header>\
         <nav><ul id=\"menu\"></ul></nav>\
         <footer><a href=\"/app/login\" id=\"logout\">Log out</a></footer></aside>\
         <main class=\"content\"><h1 id=\"title\"></h1><div id=\"tabs\" class=\"tabs\"></div>\
         <div id=\"pane\"></div></main></div>\
         <script>const SIM = {config};{SHELL_SCRIPT}</script>\n{scripts}\n</body></html>",
        name = escape(&account_name),
    ))
}

/// JSON that is safe inside a `<script>` element.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const LOGIN_FORM: &str = "<form id=\"login\">\
    <label>Email <input name=\"email\" type=\"email\" autocomplete=\"username\" required></label>\
    <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
    <button type=\"submit\">Login</button><p id=\"error\" role=\"alert\"></p></form>";

const LOGIN_SCRIPT: &str = r#"
// js-cookie writes a URI-encoded value but leaves a few characters cookies tolerate as they are.
function cookieValue(text) {
  return encodeURIComponent(text).replace(/%7B|%7D|%3A|%40|%5B|%5D/g, decodeURIComponent)
}
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  const response = await fetch('/auth/sign_in', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
  })
  if (!response.ok) {
    document.getElementById('error').textContent = 'Invalid login credentials. Please try again.'
    return
  }
  const body = await response.json()
  // Chatwoot stores the sign-in answer's headers: the devise session.
  const session = {}
  for (const name of ['access-token', 'token-type', 'client', 'expiry', 'uid']) {
    session[name] = response.headers.get(name)
  }
  const expires = new Date(Number(session.expiry) * 1000).toUTCString()
  document.cookie = `cw_d_session_info=${cookieValue(JSON.stringify(session))}; expires=${expires}; path=/; SameSite=Lax`
  location.assign(`/app/accounts/${body.data.accounts[0].id}/dashboard`)
})
"#;

const SHELL_SCRIPT: &str = r#"
const ITEMS = [['conversations', 'Conversations'], ['contacts', 'Contacts'], ['reports', 'Reports'], ['settings', 'Settings']]
const $ = (id) => document.getElementById(id)
const session = () => {
  const pair = document.cookie.split('; ').find((c) => c.startsWith('cw_d_session_info='))
  try { return pair ? JSON.parse(decodeURIComponent(pair.slice(18))) : null } catch { return null }
}
// Chatwoot answers fetch-info only for the visible app tab.
let shownApp = null
let context = null

async function api(path) {
  const s = session()
  const response = await fetch(path, { headers: { 'access-token': s['access-token'], client: s.client, uid: s.uid } })
  return response.ok ? response.json() : null
}

async function appContext(id) {
  const [conversation, agent] = await Promise.all([
    api(`/api/v1/accounts/${SIM.accountId}/conversations/${id}`),
    api('/api/v1/profile'),
  ])
  return JSON.stringify({
    event: 'appContext',
    data: {
      conversation,
      contact: conversation && conversation.meta ? conversation.meta.sender : null,
      currentAgent: agent ? { id: agent.id, name: agent.name, email: agent.email } : null,
    },
  })
}

function showTab(index, id) {
  for (const [i, tab] of [...$('tabs').children].entries()) tab.classList.toggle('active', i === index)
  for (const frame of $('pane').querySelectorAll('iframe')) frame.hidden = frame.id !== `app-${index}`
  $('messages').hidden = index !== 0
  shownApp = null
  if (index === 0) return
  let frame = $(`app-${index}`)
  if (!frame) {
    frame = document.createElement('iframe')
    frame.id = `app-${index}`
    frame.className = 'app-frame'
    frame.src = SIM.apps[index - 1].url
    frame.addEventListener('load', async () => frame.contentWindow.postMessage(await appContext(id), '*'))
    $('pane').append(frame)
  }
  shownApp = frame
}

function render() {
  const path = location.pathname
  if (path.startsWith('/app/login') || !session()) {
    document.querySelector('aside').hidden = true
    $('title').textContent = 'You are signed out'
    $('tabs').replaceChildren()
    $('pane').innerHTML = '<a href="/app/login" id="login-again">Log in again</a>'
    return
  }
  const [, , , , section = 'dashboard', id] = path.split('/')
  // Like Vue re-rendering the sidebar: the list's children are replaced on every route change.
  $('menu').replaceChildren(...ITEMS.map(([key, label]) => {
    const li = document.createElement('li')
    const a = document.createElement('a')
    a.href = `/app/accounts/${SIM.accountId}/${key}`
    a.dataset.route = key
    a.textContent = label
    if (key === section) a.className = 'active'
    li.append(a)
    return li
  }))
  const conversation = section === 'conversations' && /^\d+$/.test(id || '') ? id : null
  $('title').textContent = conversation ? `Conversation ${conversation}` : section[0].toUpperCase() + section.slice(1)
  $('tabs').replaceChildren()
  $('pane').innerHTML = '<div id="messages"></div>'
  shownApp = null
  if (conversation && SIM.apps.length) {
    for (const [i, title] of ['Messages', ...SIM.apps.map((a) => a.title)].entries()) {
      const tab = document.createElement('button')
      tab.type = 'button'
      tab.textContent = title
      tab.addEventListener('click', () => showTab(i, conversation))
      $('tabs').append(tab)
    }
    showTab(0, conversation)
  }
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-route]')
  if (!link || event.defaultPrevented) return
  event.preventDefault()
  history.pushState({}, '', link.href)
  render()
})
$('logout').addEventListener('click', (event) => {
  event.preventDefault()
  document.cookie = 'cw_d_session_info=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
  history.pushState({}, '', '/app/login')
  render()
})
window.addEventListener('popstate', render)
window.addEventListener('message', async (event) => {
  if (event.data !== 'chatwoot-dashboard-app:fetch-info' || !shownApp) return
  const id = location.pathname.split('/')[5]
  shownApp.contentWindow.postMessage(await appContext(id), '*')
})
render()
"#;

/// No favicon request (it would 404 here).
const HEAD: &str = "<link rel=\"icon\" href=\"data:,\">";

/// Chatwoot's look, roughly: Inter, 14px, its `n-*` colours, light and `body.dark`.
const STYLE: &str = "\
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { font: 14px/21px 'Inter', -apple-system, system-ui, 'Segoe UI', Roboto, sans-serif; color: #1c2024; background: #f7f7f7; }
body.dark { color: #edeef0; background: #1c1d20; }
.layout { display: flex; height: 100%; }
.sidebar { display: flex; flex-direction: column; width: 200px; flex-shrink: 0; border-right: 1px solid #eaeaea; background: #f7f7f7; }
.dark .sidebar { border-color: #1f1f25; background: #1c1d20; }
.brand { padding: 12px 16px; font-weight: 500; }
.sidebar nav { flex: 1; padding: 0 8px; }
.sidebar ul { display: flex; flex-direction: column; gap: 2px; margin: 0; padding: 0; list-style: none; }
.sidebar a { display: flex; align-items: center; height: 32px; padding: 0 8px; border-radius: 8px; color: #60646c; text-decoration: none; }
.sidebar a:hover, .sidebar a.active { background: rgba(196, 197, 198, 0.22); color: #1c2024; }
.dark .sidebar a { color: #b0b4ba; }
.dark .sidebar a:hover, .dark .sidebar a.active { background: rgba(147, 153, 176, 0.12); color: #edeef0; }
.sidebar footer { padding: 8px; }
.content { display: flex; flex-direction: column; flex: 1; min-width: 0; background: #fefefe; }
.dark .content { background: #141517; }
.content h1 { margin: 0; padding: 12px 24px; font-size: 18px; font-weight: 520; border-bottom: 1px solid #eaeaea; }
.dark .content h1 { border-color: #1f1f25; }
.tabs { display: flex; gap: 4px; padding: 0 24px; }
.tabs button { height: 40px; border: 0; border-bottom: 2px solid transparent; background: none; color: inherit; font: inherit; cursor: pointer; }
.tabs button.active { border-bottom-color: #2781f6; }
#pane { flex: 1; position: relative; }
.app-frame { display: block; width: 100%; height: 100%; border: 0; }
.login { max-width: 360px; margin: 80px auto; }
.login form { display: flex; flex-direction: column; gap: 12px; }
.login label { display: flex; flex-direction: column; gap: 4px; }
.login input { height: 36px; padding: 0 8px; border: 1px solid #e2e3e7; border-radius: 8px; font: inherit; }
.login button { height: 36px; border: 0; border-radius: 8px; background: #2781f6; color: #fff; font: inherit; cursor: pointer; }
#error { color: #e54666; }
[hidden] { display: none !important; }
";
