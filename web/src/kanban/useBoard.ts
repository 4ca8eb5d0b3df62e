/**
 * One board's state: its stages and cards (all pages, with the filters), and the changes a
 * person makes to it. Moves are shown at once and rolled back with the hub's reason when
 * the hub refuses them.
 */
import { computed, reactive, ref, shallowRef } from 'vue'
import { ApiError } from '../api/client'
import type { BoardDetail, Card, CardFields, CardQuery, KanbanApi, Stage } from '../api/kanban'
import { problemMessage } from '../auth/messages'
import { applyMove, groupByStage, reorder } from './board'

/** Pages of cards read without asking (200 each); beyond, "Load more". */
export const AUTO_PAGES = 5

/** A sentence for a failed Kanban call: the problem's own detail where it is specific. */
export function kanbanMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'quota_exceeded') {
      const limit = error.problem.limit
      return typeof limit === 'number'
        ? `Your plan allows ${limit} ${limit === 1 ? 'board' : 'boards'}. Archive one or upgrade the plan to add another.`
        : error.problem.detail || 'Your plan has no room for another board.'
    }
    if (error.code === 'feature_disabled') {
      return 'Your plan does not include the Kanban. Ask an administrator to upgrade it.'
    }
    if (['version_conflict', 'validation_failed', 'conversation_has_card'].includes(error.code) && error.problem.detail) {
      const field = error.fieldErrors[0]
      return field ? `${field.field.replace(/_/g, ' ')} ${field.message}.` : error.problem.detail
    }
  }
  return problemMessage(error)
}

export function emptyFilters(): Required<Omit<CardQuery, 'conversation_id'>> {
  return { q: '', label: '', priority: '', due: '' }
}

export function useBoard(api: KanbanApi) {
  const board = shallowRef<BoardDetail | null>(null)
  const cards = shallowRef<Card[]>([])
  const loading = ref(false)
  const loadingMore = ref(false)
  const loadError = ref<string | null>(null)
  /** Kept when the plan has no Kanban: the page explains instead of showing an error. */
  const disabled = ref(false)
  /** The last action the hub refused, with its reason. */
  const notice = ref<string | null>(null)
  const nextCursor = ref<string | null>(null)
  const filters = reactive(emptyFilters())
  /** Writes in flight: a refetch then waits, so it cannot undo what is on its way. */
  const pending = ref(0)
  /** Which load is the latest; a write bumps `writes`, which makes loads begun before it stale. */
  let loads = 0
  let writes = 0

  const stages = computed<Stage[]>(() => board.value?.stages ?? [])
  const columns = computed(() => groupByStage(stages.value, cards.value))
  const filtered = computed(() => Object.values(filters).some((v) => v !== ''))

  async function readCards(boardId: string, cursor: string | null, pages: number) {
    let items: Card[] = []
    let next = cursor
    for (let page = 0; page < pages; page++) {
      const result = await api.cards(boardId, { ...filters }, next)
      items = items.concat(result.items)
      next = result.next_cursor ?? null
      if (!next) break
    }
    return { items, next }
  }

  /** Reads the board and its cards; `silent` keeps what is shown until the answer comes. */
  async function load(boardId: string, { silent = false } = {}) {
    const mine = ++loads
    const epoch = writes
    if (!silent) {
      loading.value = true
      board.value = null
      cards.value = []
    }
    loadError.value = null
    try {
      const [detail, page] = await Promise.all([api.board(boardId), readCards(boardId, null, AUTO_PAGES)])
      if (mine !== loads || epoch !== writes) return
      board.value = { ...detail, stages: [...detail.stages].sort((a, b) => a.position - b.position) }
      cards.value = page.items
      nextCursor.value = page.next
      disabled.value = false
    } catch (error) {
      if (mine !== loads) return
      if (error instanceof ApiError && error.code === 'feature_disabled') disabled.value = true
      if (!silent || !board.value) loadError.value = kanbanMessage(error)
    } finally {
      if (mine === loads) loading.value = false
    }
  }

  /** Reads again (window focus), unless a change is on its way. */
  async function refresh() {
    if (!board.value || pending.value > 0) return
    await load(board.value.id, { silent: true })
  }

  async function loadMore() {
    if (!board.value || !nextCursor.value) return
    const boardId = board.value.id
    const mine = loads
    loadingMore.value = true
    try {
      const page = await readCards(boardId, nextCursor.value, 1)
      if (mine !== loads || board.value?.id !== boardId) return
      const known = new Set(cards.value.map((c) => c.id))
      cards.value = cards.value.concat(page.items.filter((c) => !known.has(c.id)))
      nextCursor.value = page.next
    } catch (error) {
      notice.value = kanbanMessage(error)
    } finally {
      loadingMore.value = false
    }
  }

  /** Work on `board` that must not be undone by a concurrent reload. */
  async function write<T>(run: () => Promise<T>): Promise<T> {
    pending.value += 1
    writes += 1 // a reload already on its way is stale now
    try {
      return await run()
    } finally {
      pending.value -= 1
    }
  }

  function replaceCard(card: Card) {
    cards.value = cards.value.map((c) => (c.id === card.id ? card : c))
  }

  /**
   * Moves a card (shown at once); on failure puts it back and says why. Resolves true
   * when the hub took the move.
   */
  async function moveCard(cardId: string, stageId: string, position: number | undefined, lostReason?: string) {
    const current = board.value
    const card = cards.value.find((c) => c.id === cardId)
    const stage = current?.stages.find((s) => s.id === stageId)
    if (!current || !card || !stage) return false
    notice.value = null
    const reason = stage.kind === 'lost' ? lostReason?.trim() || null : null
    cards.value = applyMove(cards.value, cardId, stage, position, reason)
    const placed = cards.value.find((c) => c.id === cardId)!
    let stale = false
    const ok = await write(async () => {
      try {
        const moved = await api.moveCard(current.id, cardId, {
          stage_id: stageId,
          position: placed.position,
          version: card.version,
          ...(reason ? { lost_reason: reason } : {}),
        })
        replaceCard(moved)
        return true
      } catch (error) {
        rollbackMove(card)
        notice.value = kanbanMessage(error)
        stale = error instanceof ApiError && (error.code === 'version_conflict' || error.status === 404)
        return false
      }
    })
    // What is shown is out of date: read the board again.
    if (stale) void refresh()
    return ok
  }

  /** Puts `original` back where it was, closing up where it went. */
  function rollbackMove(original: Card) {
    const home = { id: original.stage_id, kind: original.status }
    cards.value = applyMove(cards.value, original.id, home, original.position).map((c) =>
      c.id === original.id ? original : c,
    )
  }

  /** Adds a card at the bottom of a stage. */
  async function addCard(stageId: string, title: string) {
    const current = board.value
    if (!current) return null
    return write(async () => {
      const card = await api.createCard(current.id, { title: title.trim(), stage_id: stageId })
      if (!cards.value.some((c) => c.id === card.id)) cards.value = [...cards.value, card]
      return card
    })
  }

  /** Saves a card's fields against the version shown; throws the hub's refusal. */
  async function updateCard(cardId: string, fields: CardFields) {
    const current = board.value
    const card = cards.value.find((c) => c.id === cardId)
    if (!current || !card) throw new Error('unknown card')
    return write(async () => {
      const updated = await api.updateCard(current.id, cardId, { ...fields, version: card.version })
      replaceCard(updated)
      return updated
    })
  }

  /** Archives a card: it leaves the board and its place closes up. */
  async function archiveCard(cardId: string) {
    const current = board.value
    const card = cards.value.find((c) => c.id === cardId)
    if (!current || !card) return
    await write(() => api.archiveCard(current.id, cardId))
    cards.value = cards.value
      .filter((c) => c.id !== cardId)
      .map((c) =>
        c.stage_id === card.stage_id && c.position > card.position ? { ...c, position: c.position - 1 } : c,
      )
  }

  /** Moves a column (shown at once, rolled back on failure). */
  async function moveStage(stageId: string, to: number) {
    const current = board.value
    if (!current) return false
    const from = current.stages.findIndex((s) => s.id === stageId)
    if (from < 0 || from === to) return false
    notice.value = null
    const before = current.stages
    board.value = { ...current, stages: reorder(before, from, to).map((s, i) => ({ ...s, position: i })) }
    return write(async () => {
      try {
        const stages = await api.moveStage(current.id, stageId, to)
        if (board.value?.id === current.id) board.value = { ...board.value, stages }
        return true
      } catch (error) {
        if (board.value?.id === current.id) board.value = { ...board.value, stages: before }
        notice.value = kanbanMessage(error)
        return false
      }
    })
  }

  function clear() {
    loads += 1
    board.value = null
    cards.value = []
    nextCursor.value = null
    loadError.value = null
    loading.value = false
  }

  return {
    board,
    cards,
    stages,
    columns,
    filters,
    filtered,
    loading,
    loadingMore,
    loadError,
    disabled,
    notice,
    nextCursor,
    pending,
    load,
    refresh,
    loadMore,
    moveCard,
    addCard,
    updateCard,
    archiveCard,
    moveStage,
    replaceCard,
    clear,
  }
}

export type BoardState = ReturnType<typeof useBoard>
