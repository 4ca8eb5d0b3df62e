/**
 * For unit tests: what the fake Kanban hub (test/fakeKanban.ts) does not answer yet, in
 * memory and in the hub's shapes: stage create, edit and delete (supervisors and admins;
 * `move_cards_to` for a stage with cards), a board's metrics, the account's members and
 * its inboxes. Wraps `hub.fetch`; everything else goes to the fake as before.
 */
import type { Inbox } from '../../api/chatwoot'
import type { BoardMetrics, Member, Stage, StageKind } from '../../api/kanban'
import { FIXTURE_AT as AT } from '../../test/clock'
import type { FakeKanban } from '../../test/fakeKanban'
import { nowIso } from '../../utils/clock'

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

function invalid(field: string, message: string) {
  return problem(422, 'validation_failed', 'The request has invalid fields.', { errors: [{ field, message }] })
}

export function member(id: string, name: string, role = 'agent'): Member {
  return {
    id,
    email: `${id}@demo.test`,
    name,
    avatar_url: null,
    chatwoot_user_id: null,
    role,
    active: true,
    created_at: AT,
    updated_at: AT,
  }
}

export function inbox(id: string, chatwootInboxId: number, name: string): Inbox {
  return {
    id,
    chatwoot_inbox_id: chatwootInboxId,
    name,
    channel_type: 'Channel::Whatsapp',
    phone_number: null,
    enabled: true,
    disabled_reason: null,
    removed_at: null,
    synced_at: AT,
  }
}

/** Metrics in the hub's shape for the board's stages (override parts with `extra`). */
export function sampleMetrics(hub: FakeKanban, boardId: string, from: string, to: string, extra: Partial<BoardMetrics> = {}): BoardMetrics {
  const duration = (count: number, median: number | null) => ({
    count,
    mean_seconds: median,
    median_seconds: median,
    p90_seconds: median === null ? null : median * 2,
  })
  return {
    board_id: boardId,
    from,
    to,
    currency: hub.kanban.boards.find((b) => b.id === boardId)?.currency ?? 'BRL',
    lead_time: duration(3, 2 * 86_400 + 4 * 3600),
    cycle_time: duration(3, 5 * 3600),
    won: { count: 2, value_minor: 150_000 },
    lost: { count: 1, value_minor: 0 },
    throughput: [
      { week_start: '2026-11-09', won: 1, lost: 0 },
      { week_start: '2026-11-23', won: 1, lost: 1 },
    ],
    stages: hub.stagesOf(boardId).map((s) => ({
      stage_id: s.id,
      name: s.name,
      kind: s.kind,
      color: s.color,
      sla_hours: s.sla_hours,
      wip: hub.inStage(s.id).length,
      wip_value_minor: hub.inStage(s.id).reduce((sum, c) => sum + (c.value_minor ?? 0), 0),
      time_in_stage: duration(s.kind === 'open' ? 5 : 0, s.kind === 'open' ? 3600 : null),
      sla: s.sla_hours ? { over_now: 1, breaches: 2 } : null,
    })),
    ...extra,
  }
}

export interface ExtrasOptions {
  /** The signed-in person's role (agents may not change stages). */
  role?: string
  members?: Member[]
  inboxes?: Inbox[]
  /** The metrics answer; `sampleMetrics` by default. */
  metrics?: (boardId: string, from: string, to: string) => BoardMetrics | Response
}

export function withBoardExtras(hub: FakeKanban, options: ExtrasOptions = {}) {
  const { role = 'admin', members = [], inboxes = [] } = options
  const inner = hub.fetch.getMockImplementation()!
  let ids = 0

  function renumber(boardId: string, list: Stage[]) {
    list.forEach((s, i) => (s.position = i))
    hub.kanban.stages = hub.kanban.stages.filter((s) => s.board_id !== boardId).concat(list)
  }

  function stages(method: string, boardId: string, stageId: string | undefined, url: URL, body: any): Response {
    if (!hub.kanban.boards.some((b) => b.id === boardId)) return problem(404, 'not_found', 'The resource does not exist.')
    if (role === 'agent') return problem(403, 'forbidden', 'Your role does not allow this action.')
    const list = hub.stagesOf(boardId)
    const checkSla = (hours: unknown) => hours === null || hours === undefined || (Number.isInteger(hours) && (hours as number) >= 1 && (hours as number) <= 8760)
    if (method === 'POST' && !stageId) {
      if (!body?.name?.trim()) return invalid('name', 'must not be empty')
      if (!checkSla(body.sla_hours)) return invalid('sla_hours', 'must be 1 to 8760 hours')
      if (list.length >= 20) return problem(409, 'too_many_stages', 'A board has at most 20 stages.')
      const stage: Stage = {
        id: `stage-new-${++ids}`,
        board_id: boardId,
        name: body.name.trim(),
        color: (body.color ?? '#2781f6').toLowerCase(),
        position: 0,
        sla_hours: body.sla_hours ?? null,
        kind: (body.kind ?? 'open') as StageKind,
        created_at: AT,
        updated_at: AT,
      }
      list.splice(Math.min(body.position ?? list.length, list.length), 0, stage)
      renumber(boardId, list)
      return json(201, stage)
    }
    const stage = list.find((s) => s.id === stageId)
    if (!stage) return problem(404, 'not_found', 'The resource does not exist.')
    if (method === 'PATCH') {
      if (body.name !== undefined && !body.name.trim()) return invalid('name', 'must not be empty')
      if (!checkSla(body.sla_hours)) return invalid('sla_hours', 'must be 1 to 8760 hours')
      const kind = body.kind ?? stage.kind
      if (kind !== stage.kind) {
        for (const card of hub.inStage(stage.id)) Object.assign(card, { status: kind, version: card.version + 1 })
      }
      Object.assign(stage, {
        name: body.name?.trim() ?? stage.name,
        color: body.color?.toLowerCase() ?? stage.color,
        sla_hours: 'sla_hours' in body ? body.sla_hours : stage.sla_hours,
        kind,
      })
      return json(200, stage)
    }
    if (method === 'DELETE') {
      if (list.length === 1) return problem(409, 'last_stage', 'A board keeps at least one stage.')
      const cards = hub.inStage(stage.id)
      if (cards.length) {
        const target = list.find((s) => s.id === url.searchParams.get('move_cards_to') && s.id !== stage.id)
        if (!target) {
          return problem(409, 'stage_not_empty', 'The stage has cards; say where they go with ?move_cards_to=<stageId>.')
        }
        const offset = hub.inStage(target.id).length
        for (const card of cards) {
          Object.assign(card, {
            stage_id: target.id,
            position: offset + card.position,
            status: target.kind,
            version: card.version + 1,
            stage_entered_at: nowIso(),
          })
        }
      }
      renumber(boardId, list.filter((s) => s.id !== stage.id))
      return json(204, null)
    }
    return problem(404, 'not_found', 'The resource does not exist.')
  }

  hub.fetch.mockImplementation(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    const method = init.method ?? 'GET'
    const stage = new RegExp(`^${ACCOUNT}/boards/([^/]+)/stages(?:/([^/]+))?$`).exec(path)
    const metrics = new RegExp(`^${ACCOUNT}/boards/([^/]+)/metrics$`).exec(path)
    const mine =
      (stage && method !== 'GET') || (metrics && method === 'GET') || path === `${ACCOUNT}/users` || path === `${ACCOUNT}/inboxes`
    if (!mine) return inner(input, init)
    const authorization = ((init.headers ?? {}) as Record<string, string>).Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    hub.calls.push({ method, path: `${path}${url.search}`, body, authorization })
    if (!hub.access || authorization !== `Bearer ${hub.access}`) {
      return problem(401, 'invalid_token', 'The access token is not valid.')
    }
    if (method !== 'GET' && hub.kanban.failNext) {
      const { status, code, detail } = hub.kanban.failNext
      hub.kanban.failNext = null
      return problem(status, code, detail)
    }
    if (path === `${ACCOUNT}/users`) return json(200, { items: members, next_cursor: null })
    if (path === `${ACCOUNT}/inboxes`) return json(200, { items: inboxes, next_cursor: null })
    if (metrics) {
      const boardId = decodeURIComponent(metrics[1]!)
      const from = url.searchParams.get('from') ?? ''
      const to = url.searchParams.get('to') ?? ''
      const answer = options.metrics?.(boardId, from, to) ?? sampleMetrics(hub, boardId, from, to)
      return answer instanceof Response ? answer : json(200, answer)
    }
    const [, boardId, stageId] = stage!.map((m) => (m ? decodeURIComponent(m) : m))
    return stages(method, boardId!, stageId, url, body)
  })
  return hub
}
