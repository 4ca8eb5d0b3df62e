import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { setAuthHandler } from '../api/client'
import { kanbanApi } from '../api/kanban'
import { fakeKanban, type FakeKanban } from '../test/fakeKanban'
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
