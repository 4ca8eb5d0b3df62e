/*
 * Whatpro Hub inside Chatwoot. Paste into Chatwoot's DASHBOARD_SCRIPTS:
 *   <script src="https://hub.example.com/embed/dashboard-script.js" defer></script>
 * It adds the hub's entries to Chatwoot's sidebar and opens the hub's UI in an iframe over
 * Chatwoot's content area. The protocol is docs/embedding.md. Plain JS, no build step: the
 * hub serves this file as it is.
 */
;(() => {
  'use strict'

  // Pasted twice, or a Chatwoot page that re-runs its scripts: only the first copy runs.
  const GUARD = '__whatproHubDashboardScript'
  if (window[GUARD]) return
  const script = document.currentScript
  const SCRIPT_PATH = /\/embed\/dashboard-script\.js(?:[?#].*)?$/
  if (!script || !SCRIPT_PATH.test(script.src)) return
  Object.defineProperty(window, GUARD, { value: true })

  // Everything the hub serves lives under the base, which keeps a path prefix if the hub is
  // mounted under one (same-origin mounting behind Chatwoot's proxy).
  const HUB_BASE = script.src.replace(SCRIPT_PATH, '')
  const HUB_ORIGIN = new URL(HUB_BASE).origin
  const COOKIE = 'cw_d_session_info'
  const POLL_MS = 30_000
  const RETRY_MS = 60_000
  const SESSION_CHECK_MS = 5_000
  const LOADER = { source: 'whatpro-hub-loader', version: 1 }

  // Static markup only: nothing that came from the network is ever put into innerHTML.
  const svg = (body) =>
    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`
  const ICONS = {
    kanban: svg('<rect x="3.5" y="3.5" width="17" height="17" rx="3"/><path d="M8.5 8v8M12 8v4.5M15.5 8v6"/>'),
    chat: svg('<path d="M20 11.5a7.5 7.5 0 0 1-11 6.6L4 19.5l1.4-4.6A7.5 7.5 0 1 1 20 11.5z"/>'),
    other: svg('<rect x="4" y="4" width="6.5" height="6.5" rx="1.5"/><rect x="13.5" y="4" width="6.5" height="6.5" rx="1.5"/><rect x="4" y="13.5" width="6.5" height="6.5" rx="1.5"/><rect x="13.5" y="13.5" width="6.5" height="6.5" rx="1.5"/>'),
    close: svg('<path d="M6 6l12 12M18 6L6 18"/>'),
  }

  const state = {
    path: null,
    // `accountId uid` of the Chatwoot session the entries belong to; null when signed out.
    owner: null,
    accountId: null,
    config: null,
    // Bumped by every reset, so an answer for an older session is dropped.
    generation: 0,
    active: null,
    items: new Map(),
    frames: new Map(),
    timers: [],
    minting: new WeakSet(),
    aside: null,
  }
  let overlay = null
  let launcher = null

  const theme = () => (document.body.classList.contains('dark') ? 'dark' : 'light')
  const underHub = (url) => typeof url === 'string' && url.startsWith(`${HUB_BASE}/`)
  const warn = (...args) => console.warn('[whatpro-hub]', ...args)

  /** The devise headers from Chatwoot's cookie (js-cookie wrote it URI-encoded); only the three the hub needs. */
  function readSession() {
    const pair = document.cookie.split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`))
    if (!pair) return null
    try {
      let value = pair.slice(COOKIE.length + 1)
      if (value.startsWith('"')) value = value.slice(1, -1)
      const data = JSON.parse(decodeURIComponent(value))
      const session = { 'access-token': data['access-token'], client: data.client, uid: data.uid }
      return Object.values(session).every((v) => typeof v === 'string' && v !== '') ? session : null
    } catch {
      return null
    }
  }

  function accountIdFromPath(path) {
    const match = /^\/app\/accounts\/(\d+)(?:\/|$)/.exec(path)
    return match ? Number(match[1]) : null
  }

  /** A fresh instance token: each is exchanged at most once, so none is kept. The only request that carries the Chatwoot session. */
  async function mintToken() {
    const session = readSession()
    if (!session || !state.accountId) throw new Error('no Chatwoot session')
    const response = await fetch(`${HUB_BASE}/api/v1/instance-tokens`, {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ chatwoot_account_id: state.accountId, chatwoot_session: session }),
    })
    if (!response.ok) throw failure('instance token', response)
    const body = await response.json()
    if (typeof body.instance_token !== 'string') throw new Error('instance token: malformed answer')
    return body.instance_token
  }

  async function hubGet(url) {
    const token = await mintToken()
    const response = await fetch(url, {
      credentials: 'omit',
      cache: 'no-store',
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    })
    if (!response.ok) throw failure(url, response)
    return response.json()
  }

  /** An error that knows its status and, for a 429 or 503, when to try again. */
  function failure(what, response) {
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') || '', 10)
    return Object.assign(new Error(`${what}: HTTP ${response.status}`), {
      status: response.status,
      retryAfter: Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter, 300) : null,
    })
  }

  function validEntry(entry) {
    const ok = entry && typeof entry.key === 'string' && /^[\w-]{1,40}$/.test(entry.key) &&
      typeof entry.label === 'string' && underHub(entry.url) &&
      (entry.unread_count_url == null || underHub(entry.unread_count_url))
    if (!ok) warn('ignored a menu entry outside', HUB_BASE, entry)
    return ok
  }

  async function load() {
    const generation = state.generation
    try {
      const config = await hubGet(`${HUB_BASE}/api/v1/platform-app/config`)
      if (generation !== state.generation) return
      state.config = { menu: (Array.isArray(config.menu) ? config.menu : []).filter(validEntry) }
      render()
      for (const entry of state.config.menu) {
        if (entry.unread_count_url == null) continue
        pollUnread(entry, generation)
        state.timers.push(setInterval(() => pollUnread(entry, generation), POLL_MS))
      }
    } catch (error) {
      if (generation !== state.generation) return
      warn(error.message)
      // Refusals (401/403) will not change by waiting; a busy or unreachable hub may.
      if (error.status !== 401 && error.status !== 403) {
        state.timers.push(setTimeout(load, error.retryAfter != null ? (error.retryAfter + 1) * 1000 : RETRY_MS))
      }
    }
  }

  async function pollUnread(entry, generation) {
    // Each poll costs a token; a tab in the background can wait.
    if (document.hidden) return
    try {
      const body = await hubGet(entry.unread_count_url)
      const badge = generation === state.generation && state.items.get(entry.key)?.querySelector('.whatpro-badge')
      if (!badge) return
      const count = Number.isSafeInteger(body.count) && body.count > 0 ? body.count : 0
      badge.textContent = count > 99 ? '99+' : String(count)
      badge.hidden = count === 0
    } catch (error) {
      warn(error.message)
    }
  }

  /** Chatwoot v4's sidebar: an <aside> whose <nav> holds a <ul>. Prefer the one that links to account pages (the contact panel is an aside too). */
  function findSidebarList() {
    const lists = [...document.querySelectorAll('aside nav')]
      .map((nav) => nav.querySelector(':scope > ul') || nav.querySelector('ul'))
      .filter((list) => list && !list.closest('.whatpro-launcher'))
    return lists.find((list) => list.closest('nav').querySelector('a[href*="/app/accounts/"]')) || lists[0] || null
  }

  function makeItem(entry) {
    const li = document.createElement('li')
    li.className = 'whatpro-item'
    li.dataset.whatproKey = entry.key
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'whatpro-link'
    button.innerHTML = `${ICONS[entry.key] || ICONS.other}<span class="whatpro-label"></span><span class="whatpro-badge" hidden></span>`
    button.querySelector('.whatpro-label').textContent = entry.label
    button.addEventListener('click', () => open(entry))
    li.append(button)
    return li
  }

  /** Puts the entries where they belong; the SPA re-renders its sidebar, so this runs again after DOM changes and must do nothing when all is in place. */
  function render() {
    const menu = state.config ? state.config.menu : []
    if (!menu.length) return
    const list = findSidebarList()
    let target = list
    if (!list) {
      ensureLauncher()
      target = launcher.querySelector('ul')
    } else if (launcher) {
      launcher.remove()
      launcher = null
    }
    for (const entry of menu) {
      if (!state.items.has(entry.key)) state.items.set(entry.key, makeItem(entry))
      const li = state.items.get(entry.key)
      if (li.parentElement !== target) target.append(li)
    }
    const aside = list ? list.closest('aside') : null
    if (aside !== state.aside) {
      state.aside = aside
      sizeObserver?.disconnect()
      if (aside) sizeObserver?.observe(aside)
    }
    place()
  }

  function ensureLauncher() {
    if (launcher) return
    launcher = document.createElement('div')
    launcher.className = 'whatpro-launcher'
    launcher.innerHTML = `<ul class="whatpro-launcher-menu" hidden></ul><button type="button" class="whatpro-launcher-button" aria-expanded="false" aria-label="Whatpro Hub">${ICONS.other}</button>`
    const menu = launcher.querySelector('ul')
    const toggle = launcher.querySelector('button')
    toggle.addEventListener('click', () => {
      menu.hidden = !menu.hidden
      toggle.setAttribute('aria-expanded', String(!menu.hidden))
    })
    document.body.append(launcher)
  }

  /** Over Chatwoot's content area: everything right of the sidebar, whose width the user can drag. */
  function place() {
    if (!overlay) return
    const left = state.aside && state.aside.isConnected ? Math.max(0, state.aside.getBoundingClientRect().right) : 0
    overlay.style.left = `${left}px`
  }

  function open(entry) {
    if (!overlay) {
      overlay = document.createElement('section')
      overlay.className = 'whatpro-overlay'
      overlay.innerHTML = `<header class="whatpro-bar"><span class="whatpro-title"></span><button type="button" class="whatpro-close" aria-label="Close">${ICONS.close}</button></header><div class="whatpro-body"></div>`
      overlay.querySelector('.whatpro-close').addEventListener('click', close)
      document.body.append(overlay)
    }
    let frame = state.frames.get(entry.key)
    if (!frame) {
      frame = document.createElement('iframe')
      frame.className = 'whatpro-frame'
      frame.title = entry.label
      // No top navigation: the hub's UI moves Chatwoot only through `open-conversation`.
      frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads')
      frame.src = entry.url
      state.frames.set(entry.key, frame)
      overlay.querySelector('.whatpro-body').append(frame)
    }
    // Frames stay loaded while hidden, so coming back keeps their state and session.
    for (const other of state.frames.values()) other.hidden = other !== frame
    overlay.querySelector('.whatpro-title').textContent = entry.label
    overlay.setAttribute('aria-label', entry.label)
    overlay.hidden = false
    state.active = entry.key
    markActive()
    place()
  }

  function close() {
    if (overlay) overlay.hidden = true
    state.active = null
    markActive()
  }

  function markActive() {
    for (const [key, li] of state.items) {
      const button = li.querySelector('button')
      if (key === state.active) button.setAttribute('aria-current', 'page')
      else button.removeAttribute('aria-current')
    }
  }

  /** Forgets everything of the current Chatwoot session: signed out, or another account. */
  function reset() {
    state.generation += 1
    state.config = null
    state.active = null
    for (const timer of state.timers) clearTimeout(timer)
    state.timers = []
    for (const li of state.items.values()) li.remove()
    state.items.clear()
    state.frames.clear()
    overlay?.remove()
    overlay = null
    launcher?.remove()
    launcher = null
  }

  /** Runs on every URL change (Chatwoot is a SPA) and every few seconds (logout may clear the cookie without one). */
  function sync() {
    const path = location.pathname
    // Chatwoot navigated to a page of its own: show it.
    if (path !== state.path && state.path !== null) close()
    state.path = path
    const session = path.startsWith('/app/login') ? null : readSession()
    const accountId = session ? accountIdFromPath(path) : null
    const owner = accountId ? `${accountId} ${session.uid}` : null
    if (owner === state.owner) return
    reset()
    state.owner = owner
    state.accountId = accountId
    if (owner) load()
  }

  function hubFrameOf(source) {
    if (!source) return null
    return [...document.querySelectorAll('iframe')].find((f) => f.contentWindow === source && underHub(f.src)) || null
  }

  function isHubMessage(data) {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return false
    if (data.source !== 'whatpro-hub' || data.version !== 1) return false
    const keys = Object.keys(data).sort().join()
    if (data.type === 'ready' || data.type === 'token-request') return keys === 'source,type,version'
    return data.type === 'open-conversation' && keys === 'conversation_id,source,type,version' &&
      Number.isSafeInteger(data.conversation_id) && data.conversation_id > 0
  }

  async function sendToken(target) {
    // One token at a time per frame: a frame that repeats itself does not mint a pile.
    if (state.minting.has(target) || !state.owner) return
    state.minting.add(target)
    const generation = state.generation
    try {
      const token = await mintToken()
      if (generation !== state.generation) return
      target.postMessage({ ...LOADER, type: 'token', instance_token: token, theme: theme() }, HUB_ORIGIN)
    } catch (error) {
      warn(error.message)
      // Rate limited: the frame is still waiting, so answer it once the hub allows.
      if (error.retryAfter != null && generation === state.generation) {
        state.timers.push(setTimeout(() => sendToken(target), (error.retryAfter + 1) * 1000))
      }
    } finally {
      state.minting.delete(target)
    }
  }

  function openConversation(id) {
    if (!state.accountId) return
    const path = `/app/accounts/${state.accountId}/conversations/${id}`
    try {
      // Chatwoot's vue-router follows a popstate; with no state it records the entry as its own.
      history.pushState(null, '', path)
      window.dispatchEvent(new PopStateEvent('popstate', { state: null }))
    } catch {
      location.assign(path)
    }
  }

  window.addEventListener('message', (event) => {
    if (event.origin !== HUB_ORIGIN || !isHubMessage(event.data) || !hubFrameOf(event.source)) return
    if (event.data.type === 'open-conversation') openConversation(event.data.conversation_id)
    else sendToken(event.source)
  })

  let renderQueued = false
  new MutationObserver(() => {
    if (renderQueued || !state.config) return
    renderQueued = true
    requestAnimationFrame(() => {
      renderQueued = false
      render()
    })
  }).observe(document.body, { childList: true, subtree: true })

  let lastTheme = theme()
  new MutationObserver(() => {
    if (theme() === lastTheme) return
    lastTheme = theme()
    for (const frame of document.querySelectorAll('iframe')) {
      if (underHub(frame.src)) frame.contentWindow?.postMessage({ ...LOADER, type: 'theme', theme: lastTheme }, HUB_ORIGIN)
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] })

  const sizeObserver = typeof ResizeObserver === 'function' ? new ResizeObserver(place) : null
  window.addEventListener('resize', place)
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && overlay && !overlay.hidden) close()
  })
  // A click on one of Chatwoot's own sidebar links shows its page even when the URL stays the same.
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element && event.target.closest('aside a[href]')
    if (link && !link.closest('.whatpro-item')) close()
  }, true)

  // Chatwoot's router calls history.pushState/replaceState; they fire no event of their own.
  for (const method of ['pushState', 'replaceState']) {
    const original = history[method]
    history[method] = function (...args) {
      const result = original.apply(this, args)
      queueMicrotask(sync)
      return result
    }
  }
  window.addEventListener('popstate', () => queueMicrotask(sync))
  setInterval(sync, SESSION_CHECK_MS)

  const font = "'Inter', -apple-system, system-ui, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Tahoma, Arial, sans-serif"
  const style = document.createElement('style')
  style.id = 'whatpro-style'
  // Chatwoot's sidebar item and pane look (its n-* tokens, light then body.dark).
  style.textContent = `
.whatpro-item { list-style: none; margin: 0; }
.whatpro-link { display: flex; align-items: center; gap: 8px; width: 100%; height: 32px; padding: 0 8px; margin: 0;
  border: 0; border-radius: 8px; background: transparent; color: #60646c; cursor: pointer; text-align: left;
  font: 420 14px/21px ${font}; letter-spacing: -0.21px; -webkit-font-smoothing: antialiased; }
.whatpro-link:hover, .whatpro-link[aria-current] { background: rgba(196, 197, 198, 0.22); color: #1c2024; }
.whatpro-link[aria-current] { font-weight: 500; }
.whatpro-link:focus-visible, .whatpro-close:focus-visible, .whatpro-launcher-button:focus-visible { outline: 2px solid #2781f6; outline-offset: 1px; }
.whatpro-link svg { width: 16px; height: 16px; flex-shrink: 0; }
.whatpro-label { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.whatpro-badge { min-width: 16px; height: 16px; padding: 0 4px; border-radius: 8px; background: #2781f6; color: #fff;
  font: 500 11px/16px ${font}; text-align: center; }
.whatpro-overlay { position: fixed; top: 0; right: 0; bottom: 0; left: 0; z-index: 40; display: flex; flex-direction: column;
  background: #fefefe; font: 420 14px/21px ${font}; }
.whatpro-bar { display: flex; align-items: center; justify-content: space-between; gap: 8px; height: 48px; flex-shrink: 0;
  padding: 0 8px 0 16px; border-bottom: 1px solid #eaeaea; color: #1c2024; font-weight: 500; letter-spacing: -0.21px; }
.whatpro-close { display: inline-grid; place-items: center; width: 32px; height: 32px; border: 0; border-radius: 8px;
  background: transparent; color: #60646c; cursor: pointer; }
.whatpro-close:hover { background: rgba(196, 197, 198, 0.22); color: #1c2024; }
.whatpro-close svg { width: 16px; height: 16px; }
.whatpro-body { position: relative; flex: 1; min-height: 0; }
.whatpro-frame { display: block; width: 100%; height: 100%; border: 0; }
.whatpro-overlay[hidden], .whatpro-overlay [hidden], .whatpro-launcher [hidden] { display: none !important; }
.whatpro-launcher { position: fixed; left: 16px; bottom: 16px; z-index: 41; font: 420 14px/21px ${font}; }
.whatpro-launcher-button { display: grid; place-items: center; width: 40px; height: 40px; border: 0; border-radius: 8px;
  background: #2781f6; color: #fff; cursor: pointer; box-shadow: 0 8px 24px rgba(16, 24, 40, 0.12); }
.whatpro-launcher-button:hover { filter: brightness(1.1); }
.whatpro-launcher-button svg { width: 20px; height: 20px; }
.whatpro-launcher-menu { position: absolute; left: 0; bottom: 48px; min-width: 200px; margin: 0; padding: 4px; list-style: none;
  border-radius: 12px; background: #fff; outline: 1px solid #ececec; box-shadow: 0 8px 24px rgba(16, 24, 40, 0.12); }
body.dark .whatpro-link, body.dark .whatpro-close { color: #b0b4ba; }
body.dark .whatpro-link:hover, body.dark .whatpro-link[aria-current], body.dark .whatpro-close:hover { background: rgba(147, 153, 176, 0.12); color: #edeef0; }
body.dark .whatpro-overlay { background: #141517; }
body.dark .whatpro-bar { border-bottom-color: #1f1f25; color: #edeef0; }
body.dark .whatpro-launcher-menu { background: #1d1e24; outline-color: #2e2d32; }
`
  document.head.append(style)
  sync()
})()
