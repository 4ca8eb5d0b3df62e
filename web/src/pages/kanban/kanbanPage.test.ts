import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, reactive, shallowRef, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { bridgeKey, type Bridge } from '../../embed/bridge'
import { fakeKanban, type FakeKanban } from '../../test/fakeKanban'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeKanban
let auth: Auth
let bridge: { status: { phase: string; reason: null }; openConversation: ReturnType<typeof vi.fn> } & Record<string, unknown>

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
async function mountAt(path: string, setup: (hub: FakeKanban) => void = () => {}, role = 'admin', kanbanEnabled = true) {
  hub = fakeKanban({ role, kanbanEnabled })
  setup(hub)
  vi.stubGlobal('fetch', hub.fetch)
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  bridge = fakeBridge()
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
    .provide(bridgeKey, bridge as unknown as Bridge)
    .use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

const $ = (selector: string) => root.querySelector<HTMLElement>(selector)
const $$ = (selector: string) => [...root.querySelectorAll<HTMLElement>(selector)]
const byTestId = (id: string) => $(`[data-testid="${id}"]`)
const column = (name: string) => $(`[data-testid="kanban-column"][data-stage-name="${name}"]`)!
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

function seed(h: FakeKanban) {
  const board = h.addBoard('Sales')
  const [fresh, doing] = board.stages
  h.addCard(board.id, {
    title: 'Acme renewal',
    stage_id: fresh!.id,
    value_minor: 150_000,
    contact_name: 'Joana Reis',
    labels: ['lead', 'vip'],
    priority: 'high',
    due_at: '2020-01-01T12:00:00Z',
    last_message: 'Can you send the proposal?',
    chatwoot_conversation_id: 41,
  })
  h.addCard(board.id, { title: 'Globex', stage_id: fresh!.id, value_minor: 50_000 })
  h.addCard(board.id, { title: 'Initech', stage_id: doing!.id })
  return board
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

describe('Kanban page', () => {
  it('without boards, offers admins to create one, which then shows', async () => {
    const router = await mountAt('/kanban')
    await vi.waitFor(() => expect(byTestId('kanban-empty')).not.toBeNull())
    expect(text(byTestId('kanban-empty'))).toContain('No boards yet')
    byTestId('new-board')!.click()
    await nextTick()
    const name = byTestId('board-name-input') as HTMLInputElement
    name.value = 'Sales'
    name.dispatchEvent(new Event('input'))
    ;(byTestId('new-board-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect($$('[data-testid="column-name"]').map(text)).toEqual(['New', 'In progress', 'Waiting', 'Won', 'Lost']))
    expect(router.currentRoute.value.query.board).toBe(hub.kanban.boards[0]!.id)
    expect(hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/boards'))?.body).toEqual({ name: 'Sales', description: '', currency: 'BRL' })
  })

  it('without boards, tells agents to ask for one', async () => {
    await mountAt('/kanban', () => {}, 'agent')
    await vi.waitFor(() => expect(byTestId('kanban-empty')).not.toBeNull())
    expect(byTestId('new-board')).toBeNull()
    expect(text(byTestId('kanban-empty'))).toContain('Ask a supervisor')
  })

  it('shows columns with counts and sums, and cards with their details', async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    const fresh = column('New')
    expect(text(fresh.querySelector('[data-testid="column-count"]'))).toBe('2')
    const total = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'BRL' }).format(2000)
    expect(text(fresh.querySelector('[data-testid="column-total"]'))).toBe(total)
    expect(text(column('In progress').querySelector('[data-testid="column-total"]'))).toBe('—')
    const acme = fresh.querySelector('[data-testid="kanban-card"]')!
    expect(text(acme.querySelector('[data-testid="card-title"]'))).toBe('Acme renewal')
    expect(text(acme.querySelector('[data-testid="card-contact"]'))).toContain('Joana Reis')
    expect([...acme.querySelectorAll('.kb-chip')].map(text)).toEqual(['lead', 'vip'])
    expect(text(acme.querySelector('[data-testid="card-priority"]'))).toBe('high')
    expect(acme.querySelector('[data-testid="card-overdue"]')).not.toBeNull()
    expect(text(acme.querySelector('[data-testid="card-last-message"]'))).toBe('Can you send the proposal?')
  })

  it('adds a card to a column', async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect(column('In progress')).not.toBeNull())
    ;(column('In progress').querySelector('[data-testid="add-card"]') as HTMLElement).click()
    await nextTick()
    const input = column('In progress').querySelector('[data-testid="add-card-input"]') as HTMLTextAreaElement
    input.value = 'Umbrella'
    input.dispatchEvent(new Event('input'))
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }))
    await vi.waitFor(() => expect(text(column('In progress').querySelector('[data-testid="column-count"]'))).toBe('2'))
    const post = hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/cards'))
    expect(post?.body).toEqual({ title: 'Umbrella', stage_id: hub.kanban.stages[1]!.id })
  })

  it("opens a card's drawer with its conversation as text outside Chatwoot", async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    $$('[data-testid="kanban-card"]')[0]!.click()
    await nextTick()
    expect(text(byTestId('conversation-ref'))).toBe('Conversation #41')
    expect(byTestId('open-conversation')).toBeNull()
    await vi.waitFor(() => expect($$('[data-testid="history-event"]').map(text).join()).toContain('Created in New'))
  })

  it('framed in Chatwoot, asks Chatwoot to open the conversation', async () => {
    await mountAt('/embedded/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    $$('[data-testid="kanban-card"]')[0]!.click()
    await nextTick()
    byTestId('open-conversation')!.click()
    expect(bridge.openConversation).toHaveBeenCalledWith(41)
  })

  it('saves edited fields with the version, and moves to Lost with a reason', async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    $$('[data-testid="kanban-card"]')[1]!.click()
    await nextTick()
    const value = byTestId('drawer-value-input') as HTMLInputElement
    value.value = '1.234,56'
    value.dispatchEvent(new Event('input'))
    const label = byTestId('drawer-label-input') as HTMLInputElement
    label.value = 'Hot Lead'
    label.dispatchEvent(new Event('input'))
    label.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }))
    await nextTick()
    byTestId('drawer-save')!.click()
    await vi.waitFor(() => expect(hub.calls.some((c) => c.method === 'PATCH')).toBe(true))
    expect(hub.calls.find((c) => c.method === 'PATCH')!.body).toEqual({ value_minor: 123_456, labels: ['hot-lead'], version: 1 })
    await vi.waitFor(() => expect(text(byTestId('drawer-history'))).toContain('Changed value, labels'))

    const stage = byTestId('drawer-stage-select') as HTMLSelectElement
    stage.value = hub.kanban.stages[4]!.id
    stage.dispatchEvent(new Event('change'))
    await vi.waitFor(() => expect(byTestId('lost-reason-input')).not.toBeNull())
    const reason = byTestId('lost-reason-input') as HTMLTextAreaElement
    reason.value = 'Chose a competitor'
    reason.dispatchEvent(new Event('input'))
    byTestId('lost-reason-submit')!.click()
    await vi.waitFor(() => expect(text(column('Lost').querySelector('[data-testid="column-count"]'))).toBe('1'))
    const move = hub.calls.find((c) => c.path.endsWith('/move'))!
    expect(move.body).toMatchObject({ stage_id: hub.kanban.stages[4]!.id, version: 2, lost_reason: 'Chose a competitor' })
    await vi.waitFor(() => expect(text(byTestId('drawer-history'))).toContain('Lost: moved to Lost'))
    expect(text(byTestId('drawer-lost-reason'))).toContain('Chose a competitor')
  })

  it('shows why a move was refused', async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    $$('[data-testid="kanban-card"]')[2]!.click()
    await nextTick()
    hub.kanban.failNext = { status: 409, code: 'version_conflict', detail: 'This was changed by someone else (now at version 3); reload and try again.' }
    const stage = byTestId('drawer-stage-select') as HTMLSelectElement
    stage.value = hub.kanban.stages[0]!.id
    stage.dispatchEvent(new Event('change'))
    await vi.waitFor(() => expect(text(byTestId('kanban-notice'))).toContain('changed by someone else'))
    expect(text(column('In progress').querySelector('[data-testid="column-count"]'))).toBe('1')
  })

  it('archives a card after asking', async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    $$('[data-testid="kanban-card"]')[0]!.click()
    await nextTick()
    byTestId('drawer-archive')!.click()
    await nextTick()
    expect(hub.calls.some((c) => c.method === 'DELETE')).toBe(false)
    byTestId('confirm-button')!.click()
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(2))
    expect(byTestId('card-drawer')).toBeNull()
    expect(text(column('New').querySelector('[data-testid="column-count"]'))).toBe('1')
  })

  it('explains a plan without the Kanban', async () => {
    await mountAt('/kanban', () => {}, 'admin', false)
    await vi.waitFor(() => expect(byTestId('kanban-disabled')).not.toBeNull())
    expect(text(byTestId('kanban-disabled'))).toContain('The Kanban is not in your plan')
    expect(byTestId('new-board')).toBeNull()
  })
})
