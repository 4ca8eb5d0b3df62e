import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, reactive, shallowRef, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../App.vue'
import { createAppRouter } from '../router'
import { api, setAuthHandler } from '../api/client'
import { authKey, createAuth, type Auth } from '../auth/store'
import { bridgeKey, type Bridge } from '../embed/bridge'
import { fakeBilling, type BillingOptions, type FakeBilling } from '../test/fakeBilling'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeBilling
let auth: Auth

function fakeBridge() {
  return {
    status: reactive({ phase: 'connected', reason: null }),
    appContext: shallowRef(null),
    start: vi.fn(),
    sessionEnded: vi.fn(),
    requestAppContext: vi.fn(),
    openConversation: vi.fn(),
    stop: vi.fn(),
  }
}

/** Mounts the app at `path`, signed in (by the refresh cookie, or framed by an instance token). */
async function mountAt(path: string, options: BillingOptions = {}, prepare: (h: FakeBilling) => void = () => {}) {
  hub = fakeBilling(options)
  prepare(hub)
  vi.stubGlobal('fetch', hub.fetch)
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  const router = createAppRouter(createMemoryHistory(), auth)
  if (path.startsWith('/embedded')) {
    void auth.startWithoutRestore()
    await auth.signInWithInstanceToken('wphi_good')
  } else {
    hub.refresh = 'refresh-0'
    hub.cookie = 'refresh-0'
  }
  app = createApp(App)
    .provide(authKey, auth)
    .provide(bridgeKey, fakeBridge() as unknown as Bridge)
    .use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

const byTestId = (id: string, within: ParentNode = root) => within.querySelector<HTMLElement>(`[data-testid="${id}"]`)
const allByTestId = (id: string) => [...root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)]
const text = (id: string, within?: ParentNode) => byTestId(id, within)?.textContent?.replace(/\s+/g, ' ').trim()
const navItems = () => [...root.querySelectorAll('nav[aria-label="Main"] a')].map((a) => a.getAttribute('data-testid'))

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

describe('billing banners in the shell', () => {
  it('past due: a warning above the page whose "Pay now" opens Settings → Billing', async () => {
    const router = await mountAt('/kanban', { status: 'past_due' })
    await vi.waitFor(() => expect(byTestId('billing-banner')).not.toBeNull())
    const banner = byTestId('billing-banner')!
    expect(banner.dataset.kind).toBe('past_due')
    expect(banner.dataset.tone).toBe('warning')
    expect(text('billing-banner-message')).toMatch(/^Payment overdue — full access until .*2026.*\.$/)
    // Above the page, below the header.
    const main = root.querySelector('main')!
    expect([...main.children].map((el) => el.className.split(' ')[0])).toEqual(['header', 'banners', 'content'])

    const action = byTestId('billing-banner-action') as HTMLAnchorElement
    expect(action.textContent?.trim()).toBe('Pay now')
    expect(action.getAttribute('href')).toBe('/settings/billing')
    action.click()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('settings-billing'))
  })

  it('suspended: a danger banner; agents are told to ask an administrator', async () => {
    await mountAt('/kanban', { status: 'suspended', role: 'agent' })
    await vi.waitFor(() => expect(byTestId('billing-banner')).not.toBeNull())
    expect(byTestId('billing-banner')!.dataset.tone).toBe('danger')
    expect(byTestId('billing-banner')!.getAttribute('role')).toBe('alert')
    expect(text('billing-banner-message')).toBe(
      'Subscription suspended: the account is read-only until payment. Ask an administrator to pay it.',
    )
    expect(byTestId('billing-banner-action')).toBeNull()
  })

  it('monthly messages near the limit: an info banner', async () => {
    await mountAt('/kanban', {}, (h) => (h.billing.messagesThisMonth = 950))
    await vi.waitFor(() => expect(byTestId('billing-banner')).not.toBeNull())
    expect(byTestId('billing-banner')!.dataset.kind).toBe('messages')
    expect(text('billing-banner-message')).toBe('This account has used 95% of its 1,000 messages this month.')
    expect(text('billing-banner-action')).toBe('See plans')
  })

  it('no banner for an active subscription', async () => {
    await mountAt('/kanban', { status: 'active' })
    await vi.waitFor(() => expect(hub.calls.some((c) => c.path === '/accounts/account-1/usage')).toBe(true))
    await nextTick()
    expect(byTestId('billing-banner')).toBeNull()
  })

  it('a 402 from a write shows a notice linking to billing, and the banner follows', async () => {
    const router = await mountAt('/kanban', { status: 'active' })
    await vi.waitFor(() => expect(hub.calls.some((c) => c.path === '/accounts/account-1/billing')).toBe(true))
    hub.billing.subscription!.status = 'suspended'
    await expect(api.post('/accounts/account-1/things', {})).rejects.toMatchObject({ code: 'subscription_suspended' })
    await vi.waitFor(() => expect(byTestId('billing-notice')).not.toBeNull())
    expect(text('billing-notice')).toContain('This change was not saved: the subscription is suspended')
    await vi.waitFor(() => expect(byTestId('billing-banner')?.dataset.kind).toBe('suspended'))

    byTestId('billing-notice-action')!.click()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('settings-billing'))
    await nextTick()
    expect(byTestId('billing-notice')).toBeNull()
  })
})

describe('features of the plan', () => {
  it('hides Kanban and Team chat when the plan does not include them', async () => {
    await mountAt('/settings/profile', {}, (h) => {
      h.billing.features.kanban_enabled = false
      h.billing.features.internal_chat_enabled = false
    })
    await vi.waitFor(() => expect(navItems()).toEqual(['nav-settings']))
  })

  it('starts on the first section the plan includes', async () => {
    const router = await mountAt('/', {}, (h) => (h.billing.features.kanban_enabled = false))
    expect(router.currentRoute.value.name).toBe('chat')
    app!.unmount()
    auth.dispose()

    const other = await mountAt('/', {}, (h) => {
      h.billing.features.kanban_enabled = false
      h.billing.features.internal_chat_enabled = false
    })
    expect(other.currentRoute.value.path).toBe('/settings/profile')
  })

  it('sends /kanban to "not available on your plan", with a way to billing', async () => {
    const router = await mountAt('/kanban', {}, (h) => (h.billing.features.kanban_enabled = false))
    expect(router.currentRoute.value.name).toBe('not-available')
    expect(router.currentRoute.value.query).toEqual({ feature: 'kanban_enabled' })
    expect(text('not-available')).toContain('Not available on your plan')
    expect(text('not-available')).toContain("Kanban CRM is not part of this account's plan.")
    expect(navItems()).toEqual(['nav-chat', 'nav-settings'])
    expect(hub.calls.some((c) => c.path.includes('/boards'))).toBe(false)

    await router.push('/chat')
    expect(router.currentRoute.value.name).toBe('chat')
  })

  it('agents are told to ask an administrator', async () => {
    await mountAt('/chat', { role: 'agent' }, (h) => (h.billing.features.internal_chat_enabled = false))
    await vi.waitFor(() => expect(byTestId('not-available')).not.toBeNull())
    expect(text('not-available')).toContain("Team chat is not part of this account's plan. Ask an administrator to upgrade the plan.")
    expect(byTestId('not-available-billing')).toBeNull()
  })

  it('shows every entry while the features cannot be read', async () => {
    await mountAt('/kanban', {}, (h) => {
      const original = h.fetch.getMockImplementation()!
      h.fetch.mockImplementation(async (input, init) =>
        String(input).endsWith('/features') ? new Response('down', { status: 503 }) : original(input, init),
      )
    })
    await nextTick()
    expect(navItems()).toEqual(['nav-kanban', 'nav-chat', 'nav-settings'])
  })
})

describe('embedded pages', () => {
  it('show the banner (its link opens a new tab) and "not available" for a feature off', async () => {
    await mountAt('/embedded/chat', { status: 'suspended' }, (h) => (h.billing.features.internal_chat_enabled = false))
    await vi.waitFor(() => expect(byTestId('not-available')).not.toBeNull())
    await vi.waitFor(() => expect(byTestId('billing-banner')).not.toBeNull())
    const action = byTestId('billing-banner-action') as HTMLAnchorElement
    expect(action.getAttribute('href')).toBe('/settings/billing')
    expect(action.getAttribute('target')).toBe('_blank')
    expect(action.getAttribute('rel')).toBe('noopener noreferrer')
    expect(allByTestId('billing-banner')).toHaveLength(1)
    const link = byTestId('not-available-billing') as HTMLAnchorElement
    expect(link.getAttribute('target')).toBe('_blank')
  })
})
