import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { setAuthHandler } from '../api/client'
import { kanbanApi } from '../api/kanban'
import { fakeKanban, type FakeKanban } from '../test/fakeKanban'
import { withBoardExtras } from '../pages/kanban/fakeBoardExtras'
import { groupByStage } from './board'
import { useBoard } from './useBoard'

let hub: FakeKanban

beforeEach(() => {
  hub = fakeKanban()
  hub.access = 'access-test'
  vi.stubGlobal('fetch', hub.fetch)
  setAuthHandler({ accessToken: async () => hub.access, refreshAfterExpiry: async () => false, rejected: () => {} })
})

afterEach(() => {
  setAuthHandler(null)
  vi.unstubAllGlobals()
})

/** A board with New: a, b, c and In progress: x. */
async function setup() {
  const detail = hub.addBoard('Sales')
  const [fresh, doing, , , lost] = detail.stages
  for (const title of ['a', 'b', 'c']) hub.addCard(detail.id, { title, stage_id: fresh!.id, value_minor: 1000 })
  hub.addCard(detail.id, { title: 'x', stage_id: doing!.id, value_minor: 500, currency: 'USD' })
  const state = useBoard(kanbanApi('account-1'))
  await state.load(detail.id)
  const titles = (stageId: string) => (state.columns.value.get(stageId) ?? []).map((c) => c.title)
  const id = (title: string) => state.cards.value.find((c) => c.title === title)!.id
  return { state, detail, fresh: fresh!, doing: doing!, lost: lost!, titles, id }
}

describe('useBoard', () => {
  it('loads the board with its stages in order and its cards', async () => {
    const { state, fresh, doing, titles } = await setup()
    expect(state.stages.value.map((s) => s.name)).toEqual(['New', 'In progress', 'Waiting', 'Won', 'Lost'])
    expect(titles(fresh.id)).toEqual(['a', 'b', 'c'])
    expect(titles(doing.id)).toEqual(['x'])
    expect(hub.calls.some((c) => c.path.includes('/cards?limit=200'))).toBe(true)
  })

  it('follows next_cursor to read every page', async () => {
    hub = fakeKanban({ pageSize: 2 })
    hub.access = 'access-test'
    vi.stubGlobal('fetch', hub.fetch)
    const { state } = await setup()
    expect(state.cards.value).toHaveLength(4)
    expect(state.nextCursor.value).toBeNull()
    expect(hub.calls.filter((c) => c.path.includes('/cards?')).length).toBe(2)
  })

  it('moves a card at once, and keeps the move the hub confirms', async () => {
    const { state, fresh, doing, titles, id } = await setup()
    let resolve!: () => void
    const gate = new Promise<void>((r) => (resolve = r))
    const answer = hub.fetch.getMockImplementation()!
    hub.fetch.mockImplementationOnce(async (...args) => {
      await gate
      return answer(...args)
    })
    const moving = state.moveCard(id('a'), doing.id, 0)
    // Shown before the hub answers.
    expect(titles(fresh.id)).toEqual(['b', 'c'])
    expect(titles(doing.id)).toEqual(['a', 'x'])
    resolve()
    await expect(moving).resolves.toBe(true)
    expect(titles(doing.id)).toEqual(['a', 'x'])
    const moved = state.cards.value.find((c) => c.title === 'a')!
    expect(moved.version).toBe(2)
    const call = hub.calls.find((c) => c.path.endsWith('/move'))!
    expect(call.body).toEqual({ stage_id: doing.id, position: 0, version: 1 })
    // The hub agrees with what is shown.
    expect(hub.inStage(doing.id).map((c) => c.title)).toEqual(['a', 'x'])
  })

  it('rolls a refused move back and says why', async () => {
    const { state, fresh, doing, titles, id } = await setup()
    hub.kanban.failNext = { status: 403, code: 'forbidden', detail: 'no' }
    await expect(state.moveCard(id('b'), doing.id, 1)).resolves.toBe(false)
    expect(titles(fresh.id)).toEqual(['a', 'b', 'c'])
    expect(titles(doing.id)).toEqual(['x'])
    expect(state.columns.value.get(fresh.id)!.map((c) => c.position)).toEqual([0, 1, 2])
    expect(state.notice.value).toBe('Your role does not allow this. Ask an administrator.')
  })

  it("shows the hub's detail for a version conflict and reads the board again", async () => {
    const { state, fresh, titles, id } = await setup()
    // Someone else changed "c" meanwhile.
    hub.kanban.cards.find((c) => c.title === 'c')!.version = 5
    await expect(state.moveCard(id('c'), fresh.id, 0)).resolves.toBe(false)
    expect(titles(fresh.id)).toEqual(['a', 'b', 'c'])
    expect(state.notice.value).toMatch(/changed by someone else/)
    await vi.waitFor(() => expect(state.cards.value.find((c) => c.title === 'c')!.version).toBe(5))
  })

  it('moves within a column', async () => {
    const { state, fresh, titles, id } = await setup()
    await state.moveCard(id('a'), fresh.id, 2)
    expect(titles(fresh.id)).toEqual(['b', 'c', 'a'])
    expect(hub.inStage(fresh.id).map((c) => c.title)).toEqual(['b', 'c', 'a'])
  })

  it('sends the lost reason into a lost stage', async () => {
    const { state, lost, id } = await setup()
    await state.moveCard(id('b'), lost.id, undefined, '  Too expensive ')
    expect(state.cards.value.find((c) => c.title === 'b')).toMatchObject({ status: 'lost', lost_reason: 'Too expensive' })
    expect(hub.kanban.events.at(-1)).toMatchObject({ kind: 'lost', reason: 'Too expensive' })
  })

  it('adds, updates (with the version) and archives cards', async () => {
    const { state, fresh, titles } = await setup()
    const card = await state.addCard(fresh.id, ' d ')
    expect(titles(fresh.id)).toEqual(['a', 'b', 'c', 'd'])
    await state.updateCard(card!.id, { value_minor: 2500, labels: ['vip'] })
    expect(hub.calls.at(-1)!.body).toEqual({ value_minor: 2500, labels: ['vip'], version: 1 })
    expect(state.cards.value.find((c) => c.id === card!.id)).toMatchObject({ value_minor: 2500, version: 2 })
    await state.archiveCard(state.cards.value.find((c) => c.title === 'a')!.id)
    expect(titles(fresh.id)).toEqual(['b', 'c', 'd'])
    expect(state.columns.value.get(fresh.id)!.map((c) => c.position)).toEqual([0, 1, 2])
  })

  it('moves a column and rolls it back when refused', async () => {
    const { state, detail } = await setup()
    const won = detail.stages[3]!
    await expect(state.moveStage(won.id, 0)).resolves.toBe(true)
    expect(state.stages.value.map((s) => s.name)).toEqual(['Won', 'New', 'In progress', 'Waiting', 'Lost'])
    hub.kanban.failNext = { status: 422, code: 'validation_failed', detail: 'position must not be negative' }
    await expect(state.moveStage(won.id, 3)).resolves.toBe(false)
    expect(state.stages.value.map((s) => s.name)).toEqual(['Won', 'New', 'In progress', 'Waiting', 'Lost'])
    expect(state.notice.value).toBe('position must not be negative')
  })

  it('sends the filters and keeps column totals to what matches', async () => {
    const { state, detail, fresh } = await setup()
    state.filters.q = 'x'
    await state.load(detail.id, { silent: true })
    expect(state.cards.value.map((c) => c.title)).toEqual(['x'])
    expect(hub.calls.at(-1)!.path).toContain('q=x')
    expect(groupByStage(state.stages.value, state.cards.value).get(fresh.id)).toEqual([])
  })

  it('adds a stage where asked, with the positions the hub gives', async () => {
    withBoardExtras(hub)
    const { state } = await setup()
    const stage = await state.createStage({ name: 'Proposal', color: '#5b5bd6', sla_hours: 48, position: 1 })
    expect(stage).toMatchObject({ name: 'Proposal', sla_hours: 48, position: 1 })
    expect(state.stages.value.map((s) => `${s.name}@${s.position}`)).toEqual([
      'New@0',
      'Proposal@1',
      'In progress@2',
      'Waiting@3',
      'Won@4',
      'Lost@5',
    ])
    expect(hub.calls.at(-1)).toMatchObject({ method: 'POST', body: { name: 'Proposal', color: '#5b5bd6', sla_hours: 48, position: 1 } })
  })

  it('edits a stage, and reads the cards again when its kind changes', async () => {
    withBoardExtras(hub)
    const { state, doing } = await setup()
    await state.updateStage(doing.id, { name: 'Negotiation', sla_hours: 24 })
    expect(state.stages.value[1]).toMatchObject({ name: 'Negotiation', sla_hours: 24, kind: 'open' })
    expect(hub.calls.at(-1)).toMatchObject({ method: 'PATCH', body: { name: 'Negotiation', sla_hours: 24 } })
    const reads = hub.calls.filter((c) => c.path.includes('/cards?')).length
    await state.updateStage(doing.id, { kind: 'won' })
    await vi.waitFor(() => expect(state.cards.value.find((c) => c.title === 'x')).toMatchObject({ status: 'won', version: 2 }))
    expect(hub.calls.filter((c) => c.path.includes('/cards?')).length).toBe(reads + 1)
  })

  it("throws the hub's refusal of a stage change and keeps the stage as it was", async () => {
    withBoardExtras(hub, { role: 'agent' })
    const { state, fresh } = await setup()
    await expect(state.updateStage(fresh.id, { name: 'Mine' })).rejects.toMatchObject({ code: 'forbidden' })
    expect(state.stages.value[0]!.name).toBe('New')
    await expect(state.createStage({ name: 'Extra' })).rejects.toMatchObject({ status: 403 })
    expect(state.stages.value).toHaveLength(5)
  })

  it('deletes a stage, its cards shown at the bottom of the target at once', async () => {
    withBoardExtras(hub)
    const { state, fresh, doing, titles } = await setup()
    await state.deleteStage(fresh.id, doing.id)
    expect(hub.calls.find((c) => c.method === 'DELETE')!.path).toContain(`move_cards_to=${doing.id}`)
    expect(state.stages.value.map((s) => `${s.name}@${s.position}`)).toEqual(['In progress@0', 'Waiting@1', 'Won@2', 'Lost@3'])
    expect(titles(doing.id)).toEqual(['x', 'a', 'b', 'c'])
    // Then read again, with the versions the hub gave them.
    await vi.waitFor(() => expect(state.cards.value.find((c) => c.title === 'a')!.version).toBe(2))
    expect(titles(doing.id)).toEqual(['x', 'a', 'b', 'c'])
  })

  it('keeps a stage whose deletion the hub refuses', async () => {
    withBoardExtras(hub)
    const { state, fresh } = await setup()
    await expect(state.deleteStage(fresh.id, null)).rejects.toMatchObject({ code: 'stage_not_empty' })
    expect(state.stages.value).toHaveLength(5)
  })

  it('sends the assignee and inbox filters', async () => {
    const { state, detail } = await setup()
    state.filters.assignee_id = 'user-9'
    state.filters.inbox_id = 7
    await state.load(detail.id, { silent: true })
    const path = hub.calls.filter((c) => c.path.includes('/cards?')).at(-1)!.path
    expect(new URLSearchParams(path.split('?')[1]).get('assignee_id')).toBe('user-9')
    expect(new URLSearchParams(path.split('?')[1]).get('inbox_id')).toBe('7')
    expect(state.filtered.value).toBe(true)
  })

  it('explains a plan without Kanban', async () => {
    hub = fakeKanban({ kanbanEnabled: false })
    hub.access = 'access-test'
    vi.stubGlobal('fetch', hub.fetch)
    const state = useBoard(kanbanApi('account-1'))
    await state.load('board-1')
    expect(state.disabled.value).toBe(true)
    expect(state.loadError.value).toMatch(/plan does not include the Kanban/)
  })
})

describe('useBoard realtime changes', () => {
  it('reads the named cards again and puts them in their place', async () => {
    const { state, detail, fresh, doing, titles, id } = await setup()
    // Someone else moved "c" to the top of In progress and added "d".
    const c = hub.kanban.cards.find((card) => card.title === 'c')!
    Object.assign(c, { stage_id: doing.id, position: 0 })
    for (const card of hub.kanban.cards.filter((k) => k.stage_id === doing.id && k !== c)) card.position += 1
    const d = hub.addCard(detail.id, { title: 'd', stage_id: fresh.id })
    await state.applyChange({
      account_id: 'account-1',
      board_id: detail.id,
      revision: 9,
      cards: [id('c'), d.id],
      structure: false,
    })
    expect(titles(fresh.id)).toEqual(['a', 'b', 'd'])
    expect(titles(doing.id)).toEqual(['c', 'x'])
    expect(state.columns.value.get(doing.id)!.map((k) => k.position)).toEqual([0, 1])
  })

  it('drops a card the hub no longer has on the board', async () => {
    const { state, detail, fresh, titles, id } = await setup()
    const gone = id('a')
    hub.kanban.cards = hub.kanban.cards.filter((card) => card.id !== gone)
    await state.applyChange({ account_id: 'a', board_id: detail.id, revision: 2, cards: [gone], structure: false })
    expect(titles(fresh.id)).toEqual(['b', 'c'])
    expect(state.columns.value.get(fresh.id)!.map((k) => k.position)).toEqual([0, 1])
  })

  it('ignores other boards and reloads the board when its structure changed', async () => {
    vi.useFakeTimers()
    try {
      const { state, detail } = await setup()
      const before = hub.calls.length
      await state.applyChange({ account_id: 'a', board_id: 'another', revision: 2, cards: ['x'], structure: false })
      expect(hub.calls.length).toBe(before)
      await state.applyChange({ account_id: 'a', board_id: detail.id, revision: 3, cards: null, structure: true })
      await state.applyChange({ account_id: 'a', board_id: detail.id, revision: 4, cards: null, structure: true })
      await vi.advanceTimersByTimeAsync(200)
      const reloads = hub.calls.slice(before).filter((c) => c.method === 'GET' && c.path.endsWith(detail.id))
      expect(reloads).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
  })
})
