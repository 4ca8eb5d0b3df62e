import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { fakeChatwoot, type FakeChatwoot } from '../../test/fakeChatwoot'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeChatwoot
let auth: Auth

/**
 * Mounts the app signed in (the refresh cookie restores a session) at `path`; `prepare`
 * sets up the fake Chatwoot before the page first reads it.
 */
async function mountAt(
  path: string,
  options: Parameters<typeof fakeChatwoot>[0] = {},
  prepare: (chatwoot: FakeChatwoot['chatwoot']) => void = () => {},
) {
  hub = fakeChatwoot(options)
  prepare(hub.chatwoot)
  vi.stubGlobal('fetch', hub.fetch)
  hub.refresh = 'refresh-0'
  hub.cookie = 'refresh-0'
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  const router = createAppRouter(createMemoryHistory(), auth)
  app = createApp(App).provide(authKey, auth).use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

function byTestId(id: string, within: ParentNode = root) {
  return within.querySelector<HTMLElement>(`[data-testid="${id}"]`)
}

function text(id: string, within?: ParentNode) {
  return byTestId(id, within)?.textContent?.replace(/\s+/g, ' ').trim()
}

function rows() {
  return [...root.querySelectorAll<HTMLElement>('[data-testid="inbox-row"]')]
}

function row(name: string) {
  const found = rows().find((r) => text('inbox-name', r) === name)
  if (!found) throw new Error(`no inbox row ${name}`)
  return found
}

/** The page has loaded its status and inboxes. */
async function loaded() {
  await vi.waitFor(() => {
    expect(byTestId('chatwoot-status')).not.toBeNull()
    expect(byTestId('inboxes-table') ?? byTestId('inboxes-empty')).not.toBeNull()
  })
}

function setInput(id: string, value: string) {
  const input = byTestId(id) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
}

async function click(id: string, within?: ParentNode) {
  byTestId(id, within)!.click()
  await nextTick()
}

/** Confirms the open ConfirmDialog (teleported to <body>). */
async function confirm() {
  await vi.waitFor(() => expect(document.querySelector('[data-testid="confirm-button"]')).not.toBeNull())
  document.querySelector<HTMLElement>('[data-testid="confirm-button"]')!.click()
  await nextTick()
}

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
})

afterEach(() => {
  app?.unmount()
  app = undefined
  auth?.dispose()
  setAuthHandler(null)
  root.remove()
  vi.unstubAllGlobals()
})

describe('Settings → Chatwoot', () => {
  it('is in the settings navigation and titled', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    expect(byTestId('settings-nav-chatwoot')?.classList.contains('is-active')).toBe(true)
    expect(document.title).toBe('Chatwoot · Settings · Whatpro Hub')
  })

  it('agents are sent to their profile', async () => {
    const router = await mountAt('/settings/chatwoot', { role: 'agent' })
    expect(router.currentRoute.value.path).toBe('/settings/profile')
    expect(byTestId('settings-nav-chatwoot')).toBeNull()
    expect(hub.calls.some((c) => c.path.includes('/chatwoot/'))).toBe(false)
  })

  it('shows a connected account: health, webhook, Dashboard App, last sync and inboxes', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    expect(text('chatwoot-status')).toBe('Connected')
    expect(byTestId('chatwoot-status')?.dataset.status).toBe('connected')
    expect(text('chatwoot-health')).toBe('Chatwoot answered')
    expect(text('chatwoot-webhook-url')).toBe('http://hub.test/api/v1/webhooks/chatwoot/account-1')
    expect(text('chatwoot-webhook-signed')).toBe('Signed')
    expect(text('chatwoot-dashboard-app')).toBe('Registered in Chatwoot (#28)')
    expect(text('chatwoot-token-source')).toBe("An administrator's access token")
    expect(text('chatwoot-last-sync')).toContain('Inboxes: 2 added · Agents: 2 added · Teams: 1 added')
    expect(byTestId('chatwoot-connect-form')).toBeNull()
    expect(byTestId('chatwoot-disconnect')).not.toBeNull()

    expect(rows().map((r) => [text('inbox-name', r), text('inbox-phone', r), text('inbox-channel', r), text('inbox-state', r)])).toEqual([
      ['WhatsApp Vendas', '+5511999990000', 'WhatsApp', 'Enabled'],
      ['Website chat', undefined, 'Website', 'Enabled'],
    ])
    const toggle = byTestId('inbox-toggle', row('Website chat'))!
    expect(toggle.getAttribute('role')).toBe('switch')
    expect(toggle.getAttribute('aria-checked')).toBe('true')
    expect(toggle.getAttribute('aria-label')).toBe('Use Website chat in the hub')
    // The status and the inboxes were read with the session's bearer token.
    const status = hub.calls.find((c) => c.path === '/accounts/account-1/chatwoot/status')
    expect(status?.authorization).toBe(`Bearer ${hub.access}`)
  })

  it('says when Chatwoot did not answer the stored token', async () => {
    await mountAt('/settings/chatwoot', {}, (chatwoot) => (chatwoot.unhealthy = true))
    await loaded()
    expect(text('chatwoot-health')).toBe('Chatwoot did not answer')
  })

  it('disables and re-enables an inbox', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    await click('inbox-toggle', row('Website chat'))
    await vi.waitFor(() => expect(text('inbox-state', row('Website chat'))).toBe('Disabled by an admin'))
    expect(hub.calls.filter((c) => c.method === 'PATCH')).toMatchObject([
      { path: '/accounts/account-1/inboxes/inbox-2', body: { enabled: false } },
    ])
    expect(byTestId('inbox-toggle', row('Website chat'))?.getAttribute('aria-checked')).toBe('false')
    expect(row('Website chat').dataset.state).toBe('disabled_by_admin')
    expect(text('inboxes-notice')).toMatch(/Disabled “Website chat”/)

    await click('inbox-toggle', row('Website chat'))
    await vi.waitFor(() => expect(text('inbox-state', row('Website chat'))).toBe('Enabled'))
    expect(hub.chatwoot.inboxes[1]!.enabled).toBe(true)
  })

  it("explains the plan's inbox limit when enabling one more is refused", async () => {
    await mountAt('/settings/chatwoot', { maxInboxes: 1 }, (chatwoot) =>
      Object.assign(chatwoot.inboxes[1]!, { enabled: false, disabled_reason: 'over_quota' }),
    )
    await loaded()
    expect(text('inbox-state', row('Website chat'))).toBe("Over your plan's inbox limit")

    await click('inbox-toggle', row('Website chat'))
    await vi.waitFor(() => expect(byTestId('inboxes-error')).not.toBeNull())
    expect(text('inboxes-error')).toBe(
      'Your plan allows 1 enabled inbox and 1 is enabled already. Disable another inbox first, or ask to upgrade the plan.',
    )
    expect(byTestId('inbox-toggle', row('Website chat'))?.getAttribute('aria-checked')).toBe('false')
  })

  it('shows removed inboxes as removed, with their switch off', async () => {
    await mountAt('/settings/chatwoot', {}, (chatwoot) =>
      Object.assign(chatwoot.inboxes[0]!, { enabled: false, removed_at: '2026-11-28T13:00:00Z' }),
    )
    await loaded()
    expect(text('inbox-state', row('WhatsApp Vendas'))).toBe('Removed in Chatwoot')
    expect((byTestId('inbox-toggle', row('WhatsApp Vendas')) as HTMLButtonElement).disabled).toBe(true)
  })

  it('"Sync now" pulls from Chatwoot and shows what changed', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    hub.chatwoot.remote = [
      ...hub.chatwoot.inboxes,
      { ...hub.chatwoot.inboxes[0]!, id: 'inbox-3', chatwoot_inbox_id: 9, name: 'Support email', channel_type: 'Channel::Email', phone_number: null },
    ]
    await click('chatwoot-sync')
    await vi.waitFor(() => expect(text('inboxes-notice')).toBe('Synced with Chatwoot. Inboxes: 1 added'))
    await vi.waitFor(() => expect(rows()).toHaveLength(3))
    expect(text('inbox-channel', row('Support email'))).toBe('Email')
    expect(text('inbox-state', row('Support email'))).toBe("Over your plan's inbox limit")
    expect(text('chatwoot-last-sync')).toContain('Inboxes: 1 added')
  })

  it('disconnects after confirming, then reconnects with an admin token', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    await click('chatwoot-disconnect')
    await confirm()
    await vi.waitFor(() => expect(text('chatwoot-status')).toBe('Not connected'))
    expect(text('chatwoot-notice')).toMatch(/Removed the hub’s webhook and Dashboard App from Chatwoot/)
    expect(byTestId('chatwoot-health')).toBeNull()
    expect(text('chatwoot-webhook-signed')).toBe('Not registered')
    expect(text('chatwoot-dashboard-app')).toBe('Not registered')
    expect((byTestId('chatwoot-sync') as HTMLButtonElement).disabled).toBe(true)
    // The inboxes stay listed.
    expect(rows()).toHaveLength(2)

    const input = byTestId('chatwoot-token-input') as HTMLInputElement
    expect(input.type).toBe('password')
    await click('chatwoot-connect')
    expect(text('chatwoot-connect-form')).toContain('Enter the access token of a Chatwoot administrator')
    expect(hub.calls.some((c) => c.path.endsWith('/chatwoot/connect'))).toBe(false)

    setInput('chatwoot-token-input', '  cw-admin  ')
    await nextTick()
    ;(byTestId('chatwoot-connect-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(text('chatwoot-status')).toBe('Connected'))
    expect(hub.calls.filter((c) => c.path.endsWith('/chatwoot/connect'))).toMatchObject([
      { method: 'POST', body: { chatwoot_api_token: 'cw-admin' } },
    ])
    const report = text('chatwoot-connect-report')
    expect(report).toContain('Registered the hub’s webhook in Chatwoot.')
    expect(report).toContain('Added the Whatpro Hub Dashboard App')
    expect(byTestId('chatwoot-connect-form')).toBeNull()
    expect(text('chatwoot-dashboard-app')).toBe('Registered in Chatwoot (#29)')
    // Nothing of the token is kept in the browser.
    expect(JSON.stringify({ ...localStorage })).not.toContain('cw-admin')
    expect(JSON.stringify({ ...sessionStorage })).not.toContain('cw-admin')
  })

  it("shows Chatwoot's refusal of a token, and of a non-admin", async () => {
    await mountAt('/settings/chatwoot', { connected: false })
    await loaded()
    expect(text('chatwoot-status')).toBe('Not connected')
    expect(byTestId('inboxes-empty')).not.toBeNull()

    setInput('chatwoot-token-input', 'nope')
    await click('chatwoot-connect')
    await vi.waitFor(() => expect(text('chatwoot-connect-error')).toBe('Chatwoot did not accept this token.'))

    setInput('chatwoot-token-input', 'cw-agent')
    await click('chatwoot-connect')
    await vi.waitFor(() => expect(text('chatwoot-connect-error')).toMatch(/must belong to an administrator/))

    await click('chatwoot-connect-platform')
    await vi.waitFor(() => expect(text('chatwoot-connect-error')).toMatch(/no platform-app token/))
    expect(hub.calls.filter((c) => c.path.endsWith('/chatwoot/connect')).at(-1)?.body).toEqual({})

    hub.chatwoot.down = true
    await click('chatwoot-connect')
    await vi.waitFor(() => expect(text('chatwoot-connect-error')).toBe('Chatwoot cannot be reached; try again.'))
    expect(text('chatwoot-status')).toBe('Not connected')
  })

  it('connects with the platform token when the installation has one', async () => {
    await mountAt('/settings/chatwoot', { connected: false }, (chatwoot) => (chatwoot.platformToken = true))
    await loaded()
    await click('chatwoot-connect-platform')
    await vi.waitFor(() => expect(text('chatwoot-status')).toBe('Connected'))
    expect(text('chatwoot-connect-report')).toContain('Connected to Chatwoot')
  })

  it('reconnecting is offered while connected and can be cancelled', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    await click('chatwoot-reconnect')
    expect(byTestId('chatwoot-connect-form')).not.toBeNull()
    expect(byTestId('chatwoot-disconnect')).toBeNull()
    setInput('chatwoot-token-input', 'half-typed')
    await click('chatwoot-reconnect-cancel')
    expect(byTestId('chatwoot-connect-form')).toBeNull()
    await click('chatwoot-reconnect')
    expect((byTestId('chatwoot-token-input') as HTMLInputElement).value).toBe('')
    setInput('chatwoot-token-input', 'cw-admin')
    await click('chatwoot-connect')
    await vi.waitFor(() => expect(byTestId('chatwoot-connect-report')).not.toBeNull())
    expect(text('chatwoot-connect-report')).toContain('already registered')
    expect(byTestId('chatwoot-connect-form')).toBeNull()
  })

  it('a sync while not connected says to connect first', async () => {
    await mountAt('/settings/chatwoot')
    await loaded()
    // Disconnected elsewhere: the page still thinks it is connected.
    hub.chatwoot.connected = false
    await click('chatwoot-sync')
    await vi.waitFor(() => expect(text('inboxes-error')).toMatch(/not connected to Chatwoot/))
  })
})
