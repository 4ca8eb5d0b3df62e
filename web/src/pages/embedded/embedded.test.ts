import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, reactive, shallowRef, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { bridgeKey, parseAppContext, type AppContext, type Bridge } from '../../embed/bridge'
import { fakeHub, type FakeHub } from '../../test/fakeHub'
import { fakeKanban, type FakeKanban } from '../../test/fakeKanban'

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

/** Mounts the app at `path` on `fake` (the fake hub unless given), signed in when asked. */
async function mountAt(path: string, { fake, signIn = false }: { fake?: FakeHub; signIn?: boolean } = {}) {
  hub = fake ?? fakeHub()
  vi.stubGlobal('fetch', hub.fetch)
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  void auth.startWithoutRestore()
  if (signIn) await auth.signInWithInstanceToken('wphi_good')
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
const $$ = (selector: string) => [...root.querySelectorAll<HTMLElement>(selector)]
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

/** Chatwoot's `appContext` for conversation #42 of Joana Reis (contact 9) in inbox 3. */
function context(contact: Record<string, unknown> | null = { id: 9, name: 'Joana Reis', email: 'joana@example.com', phone_number: '+351912345678' }) {
  return parseAppContext(
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
        contact,
        currentAgent: { id: 1, name: 'Ana Admin', email: 'ana@demo.test' },
      },
    }),
  )
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
    bridge.appContext.value = context()
    await nextTick()
    const summary = byTestId('conversation-summary')?.textContent ?? ''
    expect(byTestId('contact-name')?.textContent).toBe('Joana Reis')
    expect(byTestId('conversation-id')?.textContent).toBe('#42')
    for (const text of ['joana@example.com', '+351912345678', 'pending', 'Bruno Agent', 'lead']) {
      expect(summary).toContain(text)
    }
    // The Kanban needs a session: nothing is asked of it without one.
    expect(byTestId('conversation-kanban')).toBeNull()
    expect(hub.calls.some((c) => c.path.includes('/boards'))).toBe(false)
  })
})

describe("the Dashboard App's Kanban cards", () => {
  let kanban: FakeKanban

  /** Two boards; conversation #42 has a card on the second (and #41 one on the first). */
  function seed() {
    kanban = fakeKanban()
    const sales = kanban.addBoard('Sales')
    const support = kanban.addBoard('Support', 'EUR')
    kanban.addCard(sales.id, { title: 'Other deal', chatwoot_conversation_id: 41 })
    const card = kanban.addCard(support.id, {
      title: 'Joana onboarding',
      stage_id: support.stages[1]!.id,
      chatwoot_conversation_id: 42,
      value_minor: 150_000,
      priority: 'high',
      labels: ['vip', 'renewal'],
      due_at: '2020-01-01T12:00:00Z',
    })
    return { sales, support, card }
  }

  async function open(fake: FakeKanban, contact?: Record<string, unknown> | null) {
    await mountAt('/embedded/conversation', { fake, signIn: true })
    bridge.appContext.value = contact === undefined ? context() : context(contact)
    await nextTick()
  }

  function choose(select: HTMLSelectElement, value: string) {
    select.value = value
    select.dispatchEvent(new Event('change'))
  }

  it("shows the conversation's card with its board, stage, status and details", async () => {
    const { sales, support } = seed()
    await open(kanban)
    await vi.waitFor(() => expect($$('[data-testid="conversation-card"]')).toHaveLength(1))
    const lists = kanban.calls.filter((c) => c.method === 'GET' && /\/cards\?/.test(c.path)).map((c) => c.path)
    expect(lists).toHaveLength(2)
    for (const board of [sales, support]) {
      expect(lists.some((p) => p.startsWith(`/accounts/account-1/boards/${board.id}/cards?`) && p.includes('conversation_id=42'))).toBe(true)
    }
    expect(text(byTestId('conversation-card-board'))).toBe('Support')
    expect(text(byTestId('conversation-card-title'))).toBe('Joana onboarding')
    expect(text(byTestId('conversation-card-status'))).toBe('Open')
    const stage = byTestId('conversation-card-stage') as HTMLSelectElement
    expect(stage.value).toBe(support.stages[1]!.id)
    expect(text(stage.selectedOptions[0])).toBe('In progress')
    expect(text(byTestId('conversation-card-value'))).toMatch(/1,500\.00/)
    expect(text(byTestId('conversation-card-priority'))).toBe('high')
    expect($$('[data-testid="conversation-card-labels"] li').map(text)).toEqual(['vip', 'renewal'])
    expect(text(byTestId('conversation-card-due'))).toContain('Overdue')
    expect(byTestId('conversation-kanban-add')).toBeNull()
    expect(byTestId('kanban-card-note')).toBeNull()
  })

  it('moves the card to another stage', async () => {
    const { support, card } = seed()
    await open(kanban)
    await vi.waitFor(() => expect(byTestId('conversation-card-stage')).not.toBeNull())
    choose(byTestId('conversation-card-stage') as HTMLSelectElement, support.stages[3]!.id)
    await vi.waitFor(() => expect(text(byTestId('conversation-card-status'))).toBe('Won'))
    const move = kanban.calls.find((c) => c.path.endsWith('/move'))!
    expect(move.path).toBe(`/accounts/account-1/boards/${support.id}/cards/${card.id}/move`)
    expect(move.body).toEqual({ stage_id: support.stages[3]!.id, version: 1 })
    expect((byTestId('conversation-card-stage') as HTMLSelectElement).value).toBe(support.stages[3]!.id)
    expect(kanban.kanban.cards.find((c) => c.id === card.id)!.status).toBe('won')
  })

  it('asks why when the card moves to a Lost stage, and keeps it when cancelled', async () => {
    const { support, card } = seed()
    await open(kanban)
    await vi.waitFor(() => expect(byTestId('conversation-card-stage')).not.toBeNull())
    const lost = support.stages[4]!.id
    choose(byTestId('conversation-card-stage') as HTMLSelectElement, lost)
    await vi.waitFor(() => expect(byTestId('lost-reason-input')).not.toBeNull())
    root.querySelector<HTMLButtonElement>('.dialog .foot button')!.click()
    await vi.waitFor(() => expect(byTestId('lost-reason-input')).toBeNull())
    expect((byTestId('conversation-card-stage') as HTMLSelectElement).value).toBe(support.stages[1]!.id)
    expect(kanban.calls.some((c) => c.path.endsWith('/move'))).toBe(false)

    choose(byTestId('conversation-card-stage') as HTMLSelectElement, lost)
    await vi.waitFor(() => expect(byTestId('lost-reason-input')).not.toBeNull())
    const reason = byTestId('lost-reason-input') as HTMLTextAreaElement
    reason.value = 'Chose a competitor'
    reason.dispatchEvent(new Event('input'))
    byTestId('lost-reason-submit')!.click()
    await vi.waitFor(() => expect(text(byTestId('conversation-card-status'))).toBe('Lost'))
    expect(kanban.calls.find((c) => c.path.endsWith('/move'))!.body).toEqual({
      stage_id: lost,
      version: 1,
      lost_reason: 'Chose a competitor',
    })
    expect(kanban.kanban.cards.find((c) => c.id === card.id)!.lost_reason).toBe('Chose a competitor')
    expect(text(byTestId('conversation-card'))).toContain('Chose a competitor')
  })

  it("shows the problem's detail when a move is refused", async () => {
    const { support } = seed()
    await open(kanban)
    await vi.waitFor(() => expect(byTestId('conversation-card-stage')).not.toBeNull())
    kanban.kanban.failNext = { status: 422, code: 'stage_closed', detail: 'The stage no longer takes cards.' }
    choose(byTestId('conversation-card-stage') as HTMLSelectElement, support.stages[2]!.id)
    await vi.waitFor(() => expect(text(byTestId('conversation-kanban-notice'))).toContain('The stage no longer takes cards.'))
    expect((byTestId('conversation-card-stage') as HTMLSelectElement).value).toBe(support.stages[1]!.id)
    expect(text(byTestId('conversation-card-status'))).toBe('Open')
  })

  it('adds the conversation to the chosen board when it has no card', async () => {
    kanban = fakeKanban()
    kanban.addBoard('Sales')
    const support = kanban.addBoard('Support')
    await open(kanban)
    await vi.waitFor(() => expect(byTestId('conversation-kanban-add')).not.toBeNull())
    expect($$('[data-testid="conversation-card"]')).toHaveLength(0)
    const board = byTestId('conversation-kanban-board') as HTMLSelectElement
    expect([...board.options].map(text)).toEqual(['Sales', 'Support'])
    board.value = support.id
    board.dispatchEvent(new Event('change'))
    byTestId('conversation-kanban-add-button')!.click()
    await vi.waitFor(() => expect($$('[data-testid="conversation-card"]')).toHaveLength(1))
    const create = kanban.calls.find((c) => c.method === 'POST' && c.path.endsWith('/cards'))!
    expect(create.path).toBe(`/accounts/account-1/boards/${support.id}/cards`)
    expect(create.body).toEqual({
      title: 'Joana Reis',
      chatwoot_conversation_id: 42,
      contact_name: 'Joana Reis',
    })
    expect(text(byTestId('conversation-card-board'))).toBe('Support')
    expect(text((byTestId('conversation-card-stage') as HTMLSelectElement).selectedOptions[0])).toBe('New')
    expect(byTestId('conversation-kanban-add')).toBeNull()
  })

  it('names a card after the conversation when Chatwoot sends no contact, with one board', async () => {
    kanban = fakeKanban()
    const sales = kanban.addBoard('Sales')
    await open(kanban, null)
    await vi.waitFor(() => expect(byTestId('conversation-kanban-add')).not.toBeNull())
    expect(byTestId('conversation-kanban-board')).toBeNull()
    byTestId('conversation-kanban-add-button')!.click()
    await vi.waitFor(() => expect($$('[data-testid="conversation-card"]')).toHaveLength(1))
    const create = kanban.calls.find((c) => c.method === 'POST' && c.path.endsWith('/cards'))!
    expect(create.path).toBe(`/accounts/account-1/boards/${sales.id}/cards`)
    // The conversation's sender stands in for the contact.
    expect(create.body).toEqual({
      title: 'Joana Reis',
      chatwoot_conversation_id: 42,
      contact_name: 'Joana Reis',
    })
  })

  it('offers nothing to add to without boards', async () => {
    kanban = fakeKanban()
    await open(kanban)
    await vi.waitFor(() => expect(byTestId('conversation-kanban-no-boards')).not.toBeNull())
    expect(byTestId('conversation-kanban-add')).toBeNull()
  })

  it("says so when the plan has no Kanban", async () => {
    kanban = fakeKanban({ kanbanEnabled: false })
    await open(kanban)
    await vi.waitFor(() => expect(byTestId('conversation-kanban-disabled')).not.toBeNull())
  })
})
