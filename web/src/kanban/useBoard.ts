/**
 * One board's state: its stages and cards (all pages, with the filters), and the changes a
 * person makes to it. Moves are shown at once and rolled back with the hub's reason when
 * the hub refuses them; stage edits (supervisors and admins) show once the hub took them.
 */
import { computed, reactive, ref, shallowRef } from 'vue'
import { ApiError } from '../api/client'
import type {
  BoardDetail,
  Card,
  CardFields,
  CardQuery,
  KanbanApi,
  NewStage,
  Stage,
  StageUpdate,
} from '../api/kanban'
import { problemMessage } from '../auth/messages'
import { applyMove, groupByStage, placeCard, removeCard, reorder } from './board'
import type { BoardChange } from '../realtime/live'
import { nowIso } from '../utils/clock'

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
  return { q: '', label: '', priority: '', due: '', assignee_id: '', inbox_id: '' }
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
      if (pending.value === 0 && reloadWhenIdle) {
        reloadWhenIdle = false
        refreshSoon()
      }
    }
  }

  /** A reload asked for while writes were on their way: it runs when they are done. */
  let reloadWhenIdle = false
  let reloadTimer: ReturnType<typeof setTimeout> | null = null

  /** Reads the board again shortly, once for a burst of changes, after any write in flight. */
  function refreshSoon() {
    if (pending.value > 0) {
      reloadWhenIdle = true
      return
    }
    if (reloadTimer) return
    reloadTimer = setTimeout(() => {
      reloadTimer = null
      if (pending.value > 0) reloadWhenIdle = true
      else void refresh()
    }, 150)
  }

  /**
   * Brings in a change made elsewhere (realtime). The named cards are read again; the
   * whole board is when its structure changed, when too many cards did, or when the view
   * is filtered or partly loaded (a changed card may enter or leave it).
   */
  async function applyChange(change: BoardChange) {
    const current = board.value
    if (!current || change.board_id !== current.id) return
    if (change.structure || !change.cards || filtered.value || nextCursor.value) {
      refreshSoon()
      return
    }
    const epoch = writes
    const read = await Promise.all(
      change.cards.map(async (cardId) => {
        try {
          return { cardId, card: await api.card(current.id, cardId) }
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return { cardId, card: null }
          throw error
        }
      }),
    ).catch(() => null)
    if (board.value?.id !== current.id) return
    if (!read || epoch !== writes || pending.value > 0) {
      refreshSoon()
      return
    }
    let next: Card[] = cards.value
    for (const { cardId, card } of read) next = card ? placeCard(next, card) : removeCard(next, cardId)
    cards.value = next
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
    cards.value = removeCard(cards.value, cardId)
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

  // ---- Stages (supervisors and admins; the hub's refusal is thrown to the caller) ----

  /** `stages` in this order, with positions 0..n-1. */
  function setStages(boardId: string, stages: Stage[]) {
    if (board.value?.id !== boardId) return
    board.value = { ...board.value, stages: stages.map((s, i) => (s.position === i ? s : { ...s, position: i })) }
  }

  /** Adds a column (at `body.position`, or last). */
  async function createStage(body: NewStage) {
    const current = board.value
    if (!current) throw new Error('no board')
    return write(async () => {
      const stage = await api.createStage(current.id, body)
      const list = (board.value?.stages ?? []).filter((s) => s.id !== stage.id)
      list.splice(Math.min(stage.position, list.length), 0, stage)
      setStages(current.id, list)
      return stage
    })
  }

  /** Renames, recolours, sets the SLA or the kind of a column. */
  async function updateStage(stageId: string, body: StageUpdate) {
    const current = board.value
    const before = current?.stages.find((s) => s.id === stageId)
    if (!current || !before) throw new Error('unknown stage')
    const stage = await write(async () => {
      const updated = await api.updateStage(current.id, stageId, body)
      setStages(current.id, (board.value?.stages ?? []).map((s) => (s.id === stageId ? updated : s)))
      return updated
    })
    // A new kind re-labels the stage's cards (and bumps their versions): read them again.
    if (stage.kind !== before.kind) void load(current.id, { silent: true })
    return stage
  }

  /** Removes a column; its cards go to the bottom of `moveCardsTo`. */
  async function deleteStage(stageId: string, moveCardsTo: string | null) {
    const current = board.value
    if (!current) throw new Error('no board')
    await write(() => api.deleteStage(current.id, stageId, moveCardsTo))
    if (board.value?.id !== current.id) return
    const target = board.value.stages.find((s) => s.id === moveCardsTo)
    const moving = (columns.value.get(stageId) ?? []).map((c) => c.id)
    setStages(current.id, board.value.stages.filter((s) => s.id !== stageId))
    // Shown at the bottom of the target at once, as the hub did it.
    if (target && moving.length) {
      const at = nowIso()
      for (const cardId of moving) cards.value = applyMove(cards.value, cardId, target, undefined, null, at)
    }
    // Their versions changed, and a filtered view may hide some: read them again.
    if (moving.length || filtered.value) void load(current.id, { silent: true })
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
    applyChange,
    loadMore,
    moveCard,
    addCard,
    updateCard,
    archiveCard,
    moveStage,
    createStage,
    updateStage,
    deleteStage,
    replaceCard,
    clear,
  }
}

export type BoardState = ReturnType<typeof useBoard>
