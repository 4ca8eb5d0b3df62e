import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from './App.vue'
import { createAppRouter } from './router'
import { api, setAuthHandler } from './api/client'
import { authKey, createAuth, type Auth } from './auth/store'
import { fakeHub, type FakeHub } from './test/fakeHub'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeHub
let auth: Auth

/** Mounts the app at `path`; with `signedIn`, the refresh cookie restores a session. */
async function mountAt(path: string, { signedIn = true, role = 'admin' } = {}) {
  hub = fakeHub({ role })
  vi.stubGlobal('fetch', hub.fetch)
  if (signedIn) {
    hub.refresh = 'refresh-0'
    hub.cookie = 'refresh-0'
  }
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  const router = createAppRouter(createMemoryHistory(), auth)
  app = createApp(App).provide(authKey, auth).use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

function byTestId(id: string) {
  return root.querySelector<HTMLElement>(`[data-testid="${id}"]`)
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

describe('App shell', () => {
  it('renders the sidebar with its three nav items and the signed-in user', async () => {
    await mountAt('/kanban')

    expect(byTestId('app-shell')).not.toBeNull()
    expect(byTestId('sidebar')).not.toBeNull()
    const nav = [...root.querySelectorAll('nav[aria-label="Main"] a')].map((a) => [
      a.getAttribute('data-testid'),
      a.getAttribute('href'),
      a.textContent?.trim(),
    ])
    expect(nav).toEqual([
      ['nav-kanban', '/kanban', 'Kanban'],
      ['nav-chat', '/chat', 'Team chat'],
      ['nav-settings', '/settings', 'Settings'],
    ])
    expect(byTestId('theme-toggle')).not.toBeNull()
    expect(byTestId('current-user-name')?.textContent).toBe('Ana Admin')
    expect(byTestId('current-account-name')?.textContent).toBe('Demo Co')
    expect(byTestId('user-menu')?.textContent).toContain('AA')
  })

  it('shows the current page title and marks the active item', async () => {
    const router = await mountAt('/kanban')
    expect(byTestId('page-title')?.textContent).toBe('Kanban')
    expect(byTestId('nav-kanban')?.classList.contains('is-active')).toBe(true)

    await router.push('/settings')
    await nextTick()
    expect(router.currentRoute.value.path).toBe('/settings/profile')
    expect(byTestId('page-title')?.textContent).toBe('Settings')
    expect(byTestId('nav-settings')?.classList.contains('is-active')).toBe(true)
    expect(byTestId('nav-kanban')?.classList.contains('is-active')).toBe(false)
    expect(document.title).toBe('Profile · Settings · Whatpro Hub')
  })

  it('redirects / to /kanban and shows a not-found page for unknown paths', async () => {
    const router = await mountAt('/')
    expect(router.currentRoute.value.path).toBe('/kanban')

    await router.push('/no/such/page')
    await nextTick()
    expect(byTestId('page-title')?.textContent).toBe('Not found')
  })
})

describe('sign-in guard', () => {
  it('sends a signed-out visitor to /sign-in, remembering where they were going', async () => {
    const router = await mountAt('/chat', { signedIn: false })
    expect(router.currentRoute.value.name).toBe('sign-in')
    expect(router.currentRoute.value.query).toEqual({ redirect: '/chat' })
    expect(byTestId('sign-in-page')).not.toBeNull()
    expect(byTestId('app-shell')).toBeNull()
    expect(root.querySelector('input[type="password"]')).not.toBeNull()
    expect(root.textContent).toContain('Profile settings')
  })

  it('keeps a signed-in person away from /sign-in', async () => {
    const router = await mountAt('/sign-in?redirect=/chat')
    expect(router.currentRoute.value.path).toBe('/chat')
  })

  it('returns to /sign-in when the session ends elsewhere', async () => {
    const router = await mountAt('/chat')
    hub.revoked = true
    await api.get('/things').catch(() => undefined)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('sign-in'))
    expect(router.currentRoute.value.query).toEqual({ redirect: '/chat' })
    await nextTick()
    expect(byTestId('sign-in-notice')?.textContent).toMatch(/session was ended/)
  })
})

describe('settings navigation', () => {
  it('admins see Profile, Sessions, WhatsApp, API keys, Chatwoot, Team chat and Billing', async () => {
    await mountAt('/settings/profile')
    const items = [...root.querySelectorAll('nav[aria-label="Settings"] a')].map((a) => a.textContent?.trim())
    expect(items).toEqual(['Profile', 'Sessions', 'WhatsApp', 'API keys', 'Chatwoot', 'Team chat', 'Billing'])
    expect(byTestId('profile-role')?.textContent).toBe('Administrator')
  })

  it('agents see WhatsApp but not API keys or Chatwoot, and cannot open those', async () => {
    const router = await mountAt('/settings/api-keys', { role: 'agent' })
    expect(router.currentRoute.value.path).toBe('/settings/profile')
    const items = [...root.querySelectorAll('nav[aria-label="Settings"] a')].map((a) => a.textContent?.trim())
    expect(items).toEqual(['Profile', 'Sessions', 'WhatsApp'])
  })
})
