/**
 * The fake hub (fakeHub.ts) plus the Kanban API of account-1, in memory, for unit tests
 * of the board: boards (list, create with the default pipeline, get), stage moves, cards
 * (list with filters, `conversation_id` among them, and cursor pages; create, at most one
 * per conversation and board; update with versions, archive, move with dense positions,
 * won/lost status) and card history. `failNext` makes the next write
 * answer with a problem instead. Requests need the fake hub's bearer token.
 */
import { vi } from 'vitest'
import type { Board, Card, CardEvent, Stage, StageKind } from '../api/kanban'
import { nowMs } from '../utils/clock'
import { FIXTURE_AT as AT } from './clock'
import { fakeHub } from './fakeHub'

const ACCOUNT = '/accounts/account-1'

function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code, ...extra })
}

const DEFAULT_STAGES: [string, string, StageKind][] = [
  ['New', '#2781f6', 'open'],
  ['In progress', '#5b5bd6', 'open'],
  ['Waiting', '#ffc53d', 'open'],
  ['Won', '#12a594', 'won'],
  ['Lost', '#e54666', 'lost'],
]

export interface KanbanOptions {
  role?: string
  maxBoards?: number
  kanbanEnabled?: boolean
  pageSize?: number
}

export function fakeKanban({ role = 'admin', maxBoards = 2, kanbanEnabled = true, pageSize = 200 }: KanbanOptions = {}) {
  const hub = fakeHub({ role })
  const authFetch = hub.fetch.getMockImplementation()!
  let ids = 0
  const nextId = (prefix: string) => `${prefix}-${++ids}`
  const kanban = {
    boards: [] as Board[],
    stages: [] as Stage[],
    cards: [] as Card[],
    events: [] as CardEvent[],
    /** The next write (POST, PATCH, DELETE) answers this problem. */
    failNext: null as null | { status: number; code: string; detail: string },
  }

  function addBoard(name: string, currency = 'BRL'): Board & { stages: Stage[] } {
    const board: Board = {
      id: nextId('board'),
      name,
      description: '',
      currency,
      inbox_ids: [],
      custom_fields: [],
      version: 1,
      revision: 0,
      created_at: AT,
      updated_at: AT,
    }
    kanban.boards.push(board)
    const stages = DEFAULT_STAGES.map(([stageName, color, kind], position) => ({
      id: nextId('stage'),
      board_id: board.id,
      name: stageName,
      color,
      position,
      sla_hours: null,
      kind,
      created_at: AT,
      updated_at: AT,
    }))
    kanban.stages.push(...stages)
    return { ...board, stages }
  }

  const stagesOf = (boardId: string) =>
    kanban.stages.filter((s) => s.board_id === boardId).sort((a, b) => a.position - b.position)
  const inStage = (stageId: string) =>
    kanban.cards.filter((c) => c.stage_id === stageId).sort((a, b) => a.position - b.position)

  function record(card: Card, kind: string, extra: Partial<CardEvent> = {}) {
    kanban.events.push({
      id: nextId('event'),
      card_id: card.id,
      kind,
      from_stage_id: null,
      to_stage_id: null,
      actor_type: 'user',
      actor_user_id: 'user-1',
      reason: null,
      changes: null,
      created_at: AT,
      ...extra,
    })
  }

  function addCard(boardId: string, fields: Partial<Card> & { title: string }): Card {
    const stageId = fields.stage_id ?? stagesOf(boardId).find((s) => s.kind === 'open')!.id
    const stage = kanban.stages.find((s) => s.id === stageId)!
    const count = inStage(stageId).length
    const position = Math.min(Math.max(fields.position ?? count, 0), count)
    for (const c of inStage(stageId)) if (c.position >= position) c.position += 1
    const card: Card = {
      board_id: boardId,
      stage_entered_at: AT,
      chatwoot_conversation_id: null,
      chatwoot_contact_id: null,
      chatwoot_inbox_id: null,
      contact_name: null,
      contact_avatar_url: null,
      last_message: null,
      last_message_at: null,
      value_minor: null,
      currency: null,
      priority: null,
      due_at: null,
      assignee_id: null,
      labels: [],
      custom_fields: {},
      lost_reason: null,
      version: 1,
      created_at: AT,
      updated_at: AT,
      ...fields,
      id: nextId('card'),
      stage_id: stageId,
      position,
      status: stage.kind,
    }
    if (card.value_minor !== null && !card.currency) {
      card.currency = kanban.boards.find((b) => b.id === boardId)!.currency
    }
    kanban.cards.push(card)
    record(card, 'created', { to_stage_id: stageId })
    return card
  }

  function moveKind(from: StageKind, to: StageKind) {
    if (from === to) return 'moved'
    return to === 'won' ? 'won' : to === 'lost' ? 'lost' : 'reopened'
  }

  function listCards(boardId: string, query: URLSearchParams) {
    const order = new Map(stagesOf(boardId).map((s, i) => [s.id, i]))
    let list = kanban.cards
      .filter((c) => c.board_id === boardId)
      .sort((a, b) => order.get(a.stage_id)! - order.get(b.stage_id)! || a.position - b.position)
    const q = query.get('q')?.toLowerCase()
    if (q) list = list.filter((c) => `${c.title} ${c.contact_name ?? ''}`.toLowerCase().includes(q))
    const label = query.get('label')
    if (label) list = list.filter((c) => c.labels.includes(label.toLowerCase()))
    const priority = query.get('priority')
    if (priority) list = list.filter((c) => c.priority === priority)
    const conversation = query.get('conversation_id')
    if (conversation) list = list.filter((c) => c.chatwoot_conversation_id === Number(conversation))
    if (query.get('due') === 'overdue') {
      list = list.filter((c) => c.status === 'open' && c.due_at && Date.parse(c.due_at) < nowMs())
    }
    const start = Number(query.get('cursor') ?? 0)
    const limit = Math.min(Number(query.get('limit') ?? 50), pageSize)
    const items = list.slice(start, start + limit)
    return { items, next_cursor: start + limit < list.length ? String(start + limit) : null }
  }

  async function answer(method: string, path: string, url: URL, body: any): Promise<Response> {
    if (!kanbanEnabled) {
      return problem(403, 'feature_disabled', 'The plan does not include kanban.', { feature: 'kanban' })
    }
    const boards = `${ACCOUNT}/boards`
    if (path === boards) {
      if (method === 'GET') return json(200, { items: kanban.boards, next_cursor: null })
      if (method === 'POST') {
        if (role === 'agent') return problem(403, 'forbidden', 'This needs a supervisor.')
        if (kanban.boards.length >= maxBoards) {
          return problem(403, 'quota_exceeded', `quota exceeded for boards`, {
            resource: 'boards',
            limit: maxBoards,
            current: kanban.boards.length,
          })
        }
        if (!body?.name?.trim()) {
          return problem(422, 'validation_failed', 'The request has invalid fields.', {
            errors: [{ field: 'name', message: 'must not be empty' }],
          })
        }
        return json(201, addBoard(body.name.trim(), body.currency ?? 'BRL'))
      }
    }
    const match = new RegExp(`^${boards}/([^/]+)(?:/(stages|cards)(?:/([^/]+)(?:/(move|history))?)?)?$`).exec(path)
    if (!match) return problem(404, 'not_found', 'The resource does not exist.')
    const [, boardId, kind, itemId, action] = match.map((m) => (m ? decodeURIComponent(m) : m))
    const board = kanban.boards.find((b) => b.id === boardId)
    if (!board) return problem(404, 'not_found', 'The resource does not exist.')

    if (!kind && method === 'GET') return json(200, { ...board, stages: stagesOf(board.id) })
    if (kind === 'stages' && action === 'move' && method === 'POST') {
      const list = stagesOf(board.id)
      const from = list.findIndex((s) => s.id === itemId)
      if (from < 0) return problem(404, 'not_found', 'The resource does not exist.')
      const [stage] = list.splice(from, 1)
      list.splice(Math.min(body.position, list.length), 0, stage!)
      list.forEach((s, i) => (s.position = i))
      return json(200, list)
    }
    if (kind !== 'cards') return problem(404, 'not_found', 'The resource does not exist.')
    if (!itemId) {
      if (method === 'GET') return json(200, listCards(board.id, url.searchParams))
      if (method === 'POST') {
        const conversation = body?.chatwoot_conversation_id
        if (conversation != null && kanban.cards.some((c) => c.board_id === board.id && c.chatwoot_conversation_id === conversation)) {
          return problem(409, 'conversation_has_card', 'This conversation already has a card on this board.')
        }
        return json(201, addCard(board.id, body))
      }
    }
    const card = kanban.cards.find((c) => c.id === itemId && c.board_id === board.id)
    if (!card) return problem(404, 'not_found', 'The resource does not exist.')
    if (action === 'history' && method === 'GET') {
      return json(200, kanban.events.filter((e) => e.card_id === card.id))
    }
    if (action === 'move' && method === 'POST') {
      if (body.version !== undefined && body.version !== card.version) {
        return problem(409, 'version_conflict', `This was changed by someone else (now at version ${card.version}); reload and try again.`)
      }
      const from = kanban.stages.find((s) => s.id === card.stage_id)!
      const to = kanban.stages.find((s) => s.id === body.stage_id && s.board_id === board.id)
      if (!to) return problem(404, 'not_found', 'The resource does not exist.')
      for (const c of inStage(from.id)) if (c.position > card.position) c.position -= 1
      card.position = -1
      const count = inStage(to.id).filter((c) => c.id !== card.id).length
      const position = Math.min(Math.max(body.position ?? count, 0), count)
      for (const c of inStage(to.id)) if (c.id !== card.id && c.position >= position) c.position += 1
      Object.assign(card, {
        stage_id: to.id,
        position,
        status: to.kind,
        lost_reason: to.kind === 'lost' ? body.lost_reason ?? null : null,
        version: card.version + 1,
      })
      if (from.id !== to.id) {
        record(card, moveKind(from.kind, to.kind), {
          from_stage_id: from.id,
          to_stage_id: to.id,
          reason: to.kind === 'lost' ? body.lost_reason ?? null : null,
        })
      }
      return json(200, card)
    }
    if (!action && method === 'GET') return json(200, card)
    if (!action && method === 'PATCH') {
      if (body.version !== undefined && body.version !== card.version) {
        return problem(409, 'version_conflict', `This was changed by someone else (now at version ${card.version}); reload and try again.`)
      }
      const { version: _version, ...fields } = body
      const changes: Record<string, { from: unknown; to: unknown }> = {}
      for (const [key, value] of Object.entries(fields)) {
        const before = (card as unknown as Record<string, unknown>)[key]
        if (JSON.stringify(before) !== JSON.stringify(value)) changes[key] = { from: before, to: value }
      }
      Object.assign(card, fields, { version: card.version + 1 })
      if (Object.keys(changes).length) record(card, 'updated', { changes })
      return json(200, card)
    }
    if (!action && method === 'DELETE') {
      kanban.cards = kanban.cards.filter((c) => c !== card)
      for (const c of inStage(card.stage_id)) if (c.position > card.position) c.position -= 1
      record(card, 'archived', { from_stage_id: card.stage_id })
      return json(204, null)
    }
    return problem(404, 'not_found', 'The resource does not exist.')
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    if (!path.startsWith(`${ACCOUNT}/boards`)) return authFetch(input, init)
    const method = init.method ?? 'GET'
    const headers = (init.headers ?? {}) as Record<string, string>
    const authorization = headers.Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    hub.calls.push({ method, path: `${path}${url.search}`, body, authorization })
    if (!hub.access || authorization !== `Bearer ${hub.access}`) {
      return problem(401, 'invalid_token', 'The access token is not valid.')
    }
    if (method !== 'GET' && kanban.failNext) {
      const { status, code, detail } = kanban.failNext
      kanban.failNext = null
      return problem(status, code, detail)
    }
    return answer(method, path, url, body)
  })

  return Object.assign(hub, { fetch, kanban, addBoard, addCard, stagesOf, inStage })
}

export type FakeKanban = ReturnType<typeof fakeKanban>
