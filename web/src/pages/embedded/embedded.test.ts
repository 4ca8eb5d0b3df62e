import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, reactive, shallowRef, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { bridgeKey, parseAppContext, type AppContext, type Bridge } from '../../embed/bridge'
import { fakeHub, type FakeHub } from '../../test/fakeHub'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeHub
let auth: Auth

/** A bridge whose state the test sets. */
function fakeBridge() {
  const status = reactive({ phase: 'connecting', reason: null as string | null })
  const appContext = shallowRef<AppContext | null>(null)
  return {
    status,
    appContext,
    start: vi.fn(),
    sessionEnded: vi.fn(),
    requestAppContext: vi.fn(),
    openConversation: vi.fn(),
    stop: vi.fn(),
  }
}
let bridge: ReturnType<typeof fakeBridge>

async function mountAt(path: string) {
  hub = fakeHub()
  vi.stubGlobal('fetch', hub.fetch)
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  void auth.startWithoutRestore()
  bridge = fakeBridge()
  const router = createAppRouter(createMemoryHistory(), auth)
  app = createApp(App)
    .provide(authKey, auth)
    .provide(bridgeKey, bridge as unknown as Bridge)
    .use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

const byTestId = (id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`)

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

describe('embedded pages', () => {
  it('wait for Chatwoot instead of going to /sign-in, without the hub chrome', async () => {
    const router = await mountAt('/embedded/kanban')
    expect(router.currentRoute.value.path).toBe('/embedded/kanban')
    expect(byTestId('embedded-connecting')?.textContent).toContain('Connecting to Chatwoot…')
    expect(byTestId('app-shell')).toBeNull()
    expect(bridge.start).toHaveBeenCalled()
    // No refresh cookie was tried: a framed page gets its session from the parent.
    expect(hub.calls.map((c) => c.path)).not.toContain('/auth/refresh')
  })

  it('explain where to open the hub when no session comes', async () => {
    await mountAt('/embedded/chat')
    bridge.status.phase = 'unavailable'
    bridge.status.reason = 'not-framed'
    await nextTick()
    expect(byTestId('embedded-unavailable')?.textContent).toContain(
      "Open Whatpro Hub from Chatwoot's sidebar",
    )
    const link = byTestId('embedded-sign-in-link')
    expect(link?.getAttribute('href')).toBe('/sign-in')
    expect(link?.getAttribute('target')).toBe('_blank')
    expect(link?.getAttribute('rel')).toContain('noopener')
  })

  it('show the page once an instance token was exchanged, and stay when the session ends', async () => {
    const router = await mountAt('/embedded/kanban')
    await auth.signInWithInstanceToken('wphi_good')
    await nextTick()
    expect(byTestId('embedded-connecting')).toBeNull()
    await vi.waitFor(() => expect(root.textContent).toContain('No boards yet'))
    expect(hub.calls.find((c) => c.path === '/auth/exchange')?.body).toEqual({
      instance_token: 'wphi_good',
    })

    await auth.signOut()
    await nextTick()
    expect(router.currentRoute.value.path).toBe('/embedded/kanban')
    expect(byTestId('embedded-connecting')).not.toBeNull()
  })

  it('keeps the refresh token in memory and sends it in the body', async () => {
    await mountAt('/embedded/kanban')
    await auth.signInWithInstanceToken('wphi_good')
    await auth.refresh()
    const refresh = hub.calls.find((c) => c.path === '/auth/refresh')
    expect(refresh?.body).toEqual({ refresh_token: 'refresh-1' })
  })

  it('refuse an instance token used twice', async () => {
    await mountAt('/embedded/kanban')
    await auth.signInWithInstanceToken('wphi_good')
    await expect(auth.signInWithInstanceToken('wphi_good')).rejects.toMatchObject({
      code: 'instance_token_used',
    })
  })

  it("show the Dashboard App's conversation without a hub session", async () => {
    await mountAt('/embedded/conversation')
    expect(byTestId('conversation-waiting')).not.toBeNull()
    expect(bridge.requestAppContext).toHaveBeenCalled()
    bridge.appContext.value = parseAppContext(
      JSON.stringify({
        event: 'appContext',
        data: {
          conversation: {
            id: 42,
            status: 'pending',
            labels: ['lead'],
            inbox_id: 3,
            meta: { sender: { name: 'Joana Reis' }, assignee: { name: 'Bruno Agent' } },
          },
          contact: { name: 'Joana Reis', email: 'joana@example.com', phone_number: '+351912345678' },
          currentAgent: { id: 1, name: 'Ana Admin', email: 'ana@demo.test' },
        },
      }),
    )
    await nextTick()
    const summary = byTestId('conversation-summary')?.textContent ?? ''
    expect(byTestId('contact-name')?.textContent).toBe('Joana Reis')
    expect(byTestId('conversation-id')?.textContent).toBe('#42')
    for (const text of ['joana@example.com', '+351912345678', 'pending', 'Bruno Agent', 'lead']) {
      expect(summary).toContain(text)
    }
    expect(byTestId('kanban-card-note')?.textContent).toContain('Kanban card')
  })
})
