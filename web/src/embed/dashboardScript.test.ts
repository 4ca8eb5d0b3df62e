/**
 * The dashboard script (web/embed/dashboard-script.js, plain JS run in Chatwoot's page),
 * loaded here as Chatwoot would: at the end of a dashboard page of account 7, signed in.
 * It installs a global guard, so it runs once per file and the steps below build on each
 * other.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import source from '../../embed/dashboard-script.js?raw'

const HUB = 'https://hub.test/whatpro'
const SESSION = {
  'access-token': 'cw-access-token',
  'token-type': 'Bearer',
  client: 'cw-client',
  expiry: '1900000000',
  uid: 'ana@example.com',
}

type Call = { url: string; init: RequestInit }
const calls: Call[] = []
let minted = 0
let menu: unknown[] = []

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

const fakeFetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
  const url = String(input)
  calls.push({ url, init })
  if (url === `${HUB}/api/v1/instance-tokens`) return json(201, { instance_token: `wphi_${++minted}` })
  if (url === `${HUB}/api/v1/platform-app/config`) return json(200, { menu })
  return json(404, {})
})

/** Runs the script as if loaded by `<script src="{HUB}/embed/dashboard-script.js">`. */
function load() {
  Object.defineProperty(document, 'currentScript', {
    configurable: true,
    get: () => ({ src: `${HUB}/embed/dashboard-script.js` }),
  })
  new Function(source)()
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => null })
}

function renderSidebar() {
  document.querySelector('aside')?.remove()
  const aside = document.createElement('aside')
  aside.innerHTML =
    '<nav><ul><li><a href="/app/accounts/7/conversations">Conversations</a></li></ul></nav>'
  document.body.prepend(aside)
}

const until = (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true))
const items = () => [...document.querySelectorAll('aside nav ul > li.whatpro-item')]

beforeAll(() => {
  vi.stubGlobal('fetch', fakeFetch)
  menu = [
    { key: 'kanban', label: 'Kanban', url: `${HUB}/embedded/kanban` },
    { key: 'chat', label: 'Team <b>chat</b>', url: `${HUB}/embedded/chat`, unread_count_url: null },
    { key: 'evil', label: 'Elsewhere', url: 'https://hub.test/whatpro-evil/x' },
  ]
  history.replaceState(null, '', '/app/accounts/7/dashboard')
  // js-cookie's encoding, as Chatwoot writes it.
  const value = encodeURIComponent(JSON.stringify(SESSION)).replace(/%7B|%7D|%3A|%40/g, decodeURIComponent)
  document.cookie = `cw_d_session_info=${value}; path=/`
  renderSidebar()
  vi.spyOn(console, 'warn').mockImplementation(() => {})
  // happy-dom would load a frame's page; here `src` is only recorded.
  Object.defineProperty(HTMLIFrameElement.prototype, 'src', {
    configurable: true,
    get(this: HTMLIFrameElement) {
      return this.dataset.src ?? ''
    },
    set(this: HTMLIFrameElement, value: string) {
      this.dataset.src = value
    },
  })
  load()
})

afterAll(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe('dashboard script', () => {
  it("adds the config's entries to Chatwoot's sidebar", async () => {
    await until(() => items().length === 2)
    expect(items().map((li) => li.textContent)).toEqual(['Kanban', 'Team <b>chat</b>'])
    expect(document.querySelectorAll('style#whatpro-style')).toHaveLength(1)
  })

  it('sends only access-token, client and uid, and only to the instance-token endpoint', () => {
    const [mint, config] = calls
    expect(mint.url).toBe(`${HUB}/api/v1/instance-tokens`)
    expect(mint.init.method).toBe('POST')
    expect(mint.init.credentials).toBe('omit')
    expect(JSON.parse(String(mint.init.body))).toEqual({
      chatwoot_account_id: 7,
      chatwoot_session: { 'access-token': 'cw-access-token', client: 'cw-client', uid: 'ana@example.com' },
    })
    expect(config.url).toBe(`${HUB}/api/v1/platform-app/config`)
    expect(config.init.credentials).toBe('omit')
    expect((config.init.headers as Record<string, string>).Authorization).toBe('Bearer wphi_1')
    for (const call of calls) {
      if (call.url === `${HUB}/api/v1/instance-tokens`) continue
      expect(JSON.stringify(call.init)).not.toContain('cw-access-token')
    }
  })

  it('runs once when loaded twice', async () => {
    const before = calls.length
    load()
    await new Promise((done) => setTimeout(done, 20))
    expect(calls.length).toBe(before)
    expect(document.querySelectorAll('style#whatpro-style')).toHaveLength(1)
  })

  it('puts the entries back when Chatwoot re-renders its sidebar', async () => {
    renderSidebar()
    expect(items()).toHaveLength(0)
    await until(() => items().length === 2)
  })

  it('opens an entry in a frame over the content area and marks it active', () => {
    items()[0].querySelector('button')!.click()
    const frame = document.querySelector<HTMLIFrameElement>('.whatpro-overlay iframe.whatpro-frame')
    expect(frame?.src).toBe(`${HUB}/embedded/kanban`)
    expect(document.querySelector<HTMLElement>('.whatpro-overlay')!.hidden).toBe(false)
    expect(items()[0].querySelector('button')!.getAttribute('aria-current')).toBe('page')
    expect(document.querySelector('.whatpro-title')!.textContent).toBe('Kanban')
  })

  it("hides the frame when Chatwoot navigates to a page of its own", async () => {
    history.pushState(null, '', '/app/accounts/7/contacts')
    await until(() => document.querySelector<HTMLElement>('.whatpro-overlay')!.hidden)
    expect(items()[0].querySelector('button')!.getAttribute('aria-current')).toBeNull()
    // Same account and session: nothing is fetched again.
    expect(items()).toHaveLength(2)
  })

  it('forgets everything when the session ends', async () => {
    document.cookie = 'cw_d_session_info=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
    history.pushState(null, '', '/app/login')
    await until(() => items().length === 0)
    expect(document.querySelector('.whatpro-overlay')).toBeNull()
    expect(document.querySelector('iframe')).toBeNull()
  })
})
