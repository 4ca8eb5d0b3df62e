import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, reactive, shallowRef, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { bridgeKey, type Bridge } from '../../embed/bridge'
import { minutesBefore } from '../../test/clock'
import { fakeKanban, type FakeKanban } from '../../test/fakeKanban'
import { inbox, member, withBoardExtras, type ExtrasOptions } from './fakeBoardExtras'

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

/** `seed`, with the stage, metrics, members and inbox answers of fakeBoardExtras. */
const seeded =
  (options: ExtrasOptions = {}) =>
  (h: FakeKanban) => {
    seed(h)
    withBoardExtras(h, options)
  }

/** Sets a form control's value as a person would (input and change). */
function fill(el: HTMLElement | null, value: string) {
  const control = el as HTMLInputElement | HTMLSelectElement
  control.value = value
  control.dispatchEvent(new Event('input'))
  control.dispatchEvent(new Event('change'))
}

function openStageMenu(name: string) {
  ;(column(name).querySelector('[data-testid="stage-menu-button"]') as HTMLElement).click()
}

describe('Kanban stages', () => {
  it('lets supervisors edit, add and delete stages from the column menu', async () => {
    await mountAt('/kanban', seeded({ role: 'supervisor' }), 'supervisor')
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))

    // Edit "In progress": name, SLA and colour.
    openStageMenu('In progress')
    await nextTick()
    byTestId('stage-menu-edit')!.click()
    await vi.waitFor(() => expect(byTestId('stage-form')).not.toBeNull())
    expect((byTestId('stage-name-input') as HTMLInputElement).value).toBe('In progress')
    fill(byTestId('stage-name-input'), 'Negotiation')
    fill(byTestId('stage-sla-input'), '24')
    ;($('input[name="stage-color"][value="#12a594"]') as HTMLInputElement).click()
    ;(byTestId('stage-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(byTestId('stage-form')).toBeNull())
    expect(hub.calls.find((c) => c.method === 'PATCH')!.body).toEqual({ name: 'Negotiation', color: '#12a594', sla_hours: 24 })
    expect($$('[data-testid="column-name"]').map(text)).toEqual(['New', 'Negotiation', 'Waiting', 'Won', 'Lost'])
    // Its card entered the stage at FIXTURE_AT, two hours before the tests' clock: none is over.
    expect(text(column('Negotiation').querySelector('[data-testid="column-sla"]'))).toBe('SLA 24h')

    // Add a stage at the end.
    byTestId('add-stage')!.click()
    await vi.waitFor(() => expect(byTestId('stage-form')).not.toBeNull())
    fill(byTestId('stage-name-input'), 'Follow-up')
    fill(byTestId('stage-kind-select'), 'open')
    ;(byTestId('stage-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect($$('[data-testid="column-name"]').map(text).at(-1)).toBe('Follow-up'))
    expect(hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/stages'))!.body).toEqual({
      name: 'Follow-up',
      color: '#2781f6',
      kind: 'open',
      position: 5,
    })

    // Delete "New": its two cards go to the stage picked (its right neighbour by default).
    openStageMenu('New')
    await nextTick()
    byTestId('stage-menu-delete')!.click()
    await vi.waitFor(() => expect(byTestId('delete-stage-form')).not.toBeNull())
    const target = byTestId('delete-stage-target') as HTMLSelectElement
    expect(target.selectedOptions[0]!.textContent!.trim()).toBe('Negotiation')
    fill(target, hub.kanban.stages.find((s) => s.name === 'Waiting')!.id)
    byTestId('delete-stage-submit')!.click()
    await vi.waitFor(() => expect($$('[data-testid="column-name"]').map(text)).toEqual(['Negotiation', 'Waiting', 'Won', 'Lost', 'Follow-up']))
    const waiting = hub.kanban.stages.find((s) => s.name === 'Waiting')!
    expect(hub.calls.find((c) => c.method === 'DELETE')!.path).toContain(`move_cards_to=${waiting.id}`)
    await vi.waitFor(() => expect(text(column('Waiting').querySelector('[data-testid="column-count"]'))).toBe('2'))
    expect([...column('Waiting').querySelectorAll('[data-testid="card-title"]')].map(text)).toEqual(['Acme renewal', 'Globex'])
  })

  it("shows the hub's reason when it refuses a stage change, and keeps the dialog open", async () => {
    // The person is a supervisor here, but the hub has since made them an agent.
    await mountAt('/kanban', seeded({ role: 'agent' }), 'supervisor')
    await vi.waitFor(() => expect(column('New')).not.toBeNull())
    openStageMenu('New')
    await nextTick()
    byTestId('stage-menu-edit')!.click()
    await vi.waitFor(() => expect(byTestId('stage-form')).not.toBeNull())
    fill(byTestId('stage-name-input'), 'Leads')
    ;(byTestId('stage-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(text(byTestId('stage-error'))).toBe('Your role does not allow this. Ask an administrator.'))
    expect(byTestId('stage-form')).not.toBeNull()
    expect(text(column('New').querySelector('[data-testid="column-name"]'))).toBe('New')
  })

  it('checks the SLA before sending, and shows a field the hub refuses', async () => {
    await mountAt('/kanban', seeded(), 'admin')
    await vi.waitFor(() => expect(column('New')).not.toBeNull())
    byTestId('add-stage')!.click()
    await vi.waitFor(() => expect(byTestId('stage-form')).not.toBeNull())
    fill(byTestId('stage-name-input'), 'Quick')
    fill(byTestId('stage-sla-input'), '0')
    ;(byTestId('stage-form') as HTMLFormElement).requestSubmit()
    await nextTick()
    expect(text(byTestId('stage-form'))).toContain('Use whole hours from 1 to 8760')
    expect(hub.calls.some((c) => c.path.endsWith('/stages'))).toBe(false)
    fill(byTestId('stage-sla-input'), '')
    hub.kanban.failNext = { status: 409, code: 'too_many_stages', detail: 'A board has at most 20 stages.' }
    ;(byTestId('stage-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(text(byTestId('stage-error'))).toBe('A board has at most 20 stages.'))
  })

  it('offers agents no stage menu and no "Add stage"', async () => {
    await mountAt('/kanban', seeded({ role: 'agent' }), 'agent')
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    expect(byTestId('stage-menu-button')).toBeNull()
    expect(byTestId('add-stage')).toBeNull()
  })

  it('shows red and amber SLA badges on cards in a stage with an SLA', async () => {
    await mountAt('/kanban', (h) => {
      const board = h.addBoard('Sales')
      const fresh = h.kanban.stages.find((s) => s.board_id === board.id && s.name === 'New')!
      fresh.sla_hours = 1
      h.addCard(board.id, { title: 'Late', stage_id: fresh.id, stage_entered_at: minutesBefore(190) })
      h.addCard(board.id, { title: 'Close', stage_id: fresh.id, stage_entered_at: minutesBefore(55.5) })
      h.addCard(board.id, { title: 'Fine', stage_id: fresh.id, stage_entered_at: minutesBefore(5) })
      withBoardExtras(h)
    })
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    const badge = (title: string) =>
      $$('[data-testid="kanban-card"]').find((c) => text(c.querySelector('[data-testid="card-title"]')) === title)!.querySelector<HTMLElement>('[data-testid="card-sla"]')
    expect(text(badge('Late'))).toBe('SLA +2h')
    expect(badge('Late')!.dataset.sla).toBe('breached')
    expect(badge('Late')!.title).toBe('Over the 1h SLA by 2h 10m')
    expect(text(badge('Close'))).toBe('SLA 4m left')
    expect(badge('Close')!.dataset.sla).toBe('warning')
    expect(badge('Fine')).toBeNull()
    expect(text(column('New').querySelector('[data-testid="column-sla"]'))).toBe('SLA 1h · 1 over')
    expect($$('[data-testid="kanban-card"]')[0]!.getAttribute('aria-label')).toBe('Late, Over the 1h SLA by 2h 10m, open details')
  })
})

describe('Kanban filters by assignee and inbox', () => {
  it('lists members and inboxes, and sends the ones picked', async () => {
    await mountAt('/kanban', seeded({
        members: [member('user-2', 'Zoe Agent'), member('user-3', 'Ana Agent')],
        inboxes: [inbox('inbox-1', 7, 'WhatsApp Sales'), { ...inbox('inbox-2', 8, 'Old'), removed_at: '2026-11-01T00:00:00Z' }],
      }),
    )
    await vi.waitFor(() => expect(byTestId('filter-inbox')).not.toBeNull())
    const assignee = byTestId('filter-assignee') as HTMLSelectElement
    expect([...assignee.options].map((o) => o.textContent!.trim())).toEqual(['Any assignee', 'Ana Agent', 'Zoe Agent'])
    const inboxes = byTestId('filter-inbox') as HTMLSelectElement
    expect([...inboxes.options].map((o) => o.textContent!.trim())).toEqual(['Any inbox', 'WhatsApp Sales'])
    fill(assignee, 'user-2')
    fill(inboxes, '7')
    await vi.waitFor(() => {
      const last = hub.calls.filter((c) => c.path.includes('/cards?')).at(-1)!.path
      const query = new URLSearchParams(last.split('?')[1])
      expect(query.get('assignee_id')).toBe('user-2')
      expect(query.get('inbox_id')).toBe('7')
    })
    byTestId('filter-clear')!.click()
    await nextTick()
    expect(assignee.value).toBe('')
    expect(inboxes.value).toBe('')
  })

  it('leaves the filters out when the lists cannot be read', async () => {
    await mountAt('/kanban', seed)
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    expect(byTestId('filter-assignee')).toBeNull()
    expect(byTestId('filter-inbox')).toBeNull()
  })
})

describe('Kanban metrics', () => {
  it('switches to the metrics of the board, and back', async () => {
    const router = await mountAt('/kanban', seeded())
    await vi.waitFor(() => expect($$('[data-testid="kanban-card"]')).toHaveLength(3))
    byTestId('view-metrics')!.click()
    await vi.waitFor(() => expect(byTestId('metric-won')).not.toBeNull())
    expect(router.currentRoute.value.query.view).toBe('metrics')
    expect(byTestId('view-metrics')!.getAttribute('aria-selected')).toBe('true')
    expect(byTestId('kanban-board')).toBeNull()
    expect(byTestId('filter-q')).toBeNull()

    const call = hub.calls.find((c) => c.path.includes('/metrics?'))!
    const query = new URLSearchParams(call.path.split('?')[1])
    const span = Date.parse(query.get('to')!) - Date.parse(query.get('from')!)
    expect(span).toBe(30 * 86_400_000)
    expect(call.path).toContain(`/boards/${hub.kanban.boards[0]!.id}/metrics?`)

    const brl = (minor: number) => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'BRL' }).format(minor / 100)
    expect(text(byTestId('metric-won-count'))).toBe('2')
    expect(text(byTestId('metric-won'))).toContain(brl(150_000))
    expect(text(byTestId('metric-won'))).toContain('win rate 67%')
    expect(text(byTestId('metric-lost-count'))).toBe('1')
    expect(text(byTestId('metric-lead'))).toContain('2d 4h')
    expect(text(byTestId('metric-lead'))).toContain('p90 4d 8h · 3 closes')
    expect(text(byTestId('metric-cycle'))).toContain('5h')
    // Three weeks (one filled in), won and lost bars with their tooltips.
    expect($$('[data-testid="throughput-week"]')).toHaveLength(3)
    expect($$('[data-testid="throughput-chart"] rect.won')).toHaveLength(2)
    expect($$('[data-testid="throughput-chart"] rect.lost')).toHaveLength(1)
    expect(text($('[data-testid="throughput-chart"] rect.lost title'))).toMatch(/^Week of .+: 1 lost$/)
    expect($$('[data-testid="wip-row"]')).toHaveLength(5)
    const rows = $$('[data-testid="metrics-stage-row"]')
    expect(rows.map((r) => text(r.querySelector('th')))).toEqual(['New', 'In progress', 'Waiting', 'Won Won', 'Lost Lost'])
    expect(text(rows[0]!.querySelector('[data-testid="metrics-sla-over"]'))).toBe('—')

    fill(byTestId('metrics-range'), '7')
    await vi.waitFor(() => expect(hub.calls.filter((c) => c.path.includes('/metrics?'))).toHaveLength(2))
    const last = new URLSearchParams(hub.calls.filter((c) => c.path.includes('/metrics?')).at(-1)!.path.split('?')[1])
    expect(Date.parse(last.get('to')!) - Date.parse(last.get('from')!)).toBe(7 * 86_400_000)

    byTestId('view-board')!.click()
    await vi.waitFor(() => expect(byTestId('kanban-board')).not.toBeNull())
    expect(router.currentRoute.value.query.view).toBeUndefined()
  })

  it('opens on metrics from the URL, and says why they cannot be read', async () => {
    const refused = () =>
      new Response(JSON.stringify({ type: 'about:blank', title: 'Error', status: 403, detail: 'no', code: 'forbidden' }), {
        status: 403,
        headers: { 'Content-Type': 'application/problem+json' },
      })
    await mountAt('/kanban?view=metrics', seeded({ metrics: refused }))
    await vi.waitFor(() => expect(text(byTestId('metrics-error'))).toContain('Your role does not allow this'))
  })
})
