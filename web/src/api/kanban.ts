/**
 * The Kanban API of one account (see the OpenAPI document at /api/openapi.json):
 * boards, their stages (add, edit, move, delete), cards, card moves, card history and a
 * board's metrics under `/accounts/{accountId}/boards`, plus the account's members
 * (`/accounts/{accountId}/users`) for the assignee filter.
 */
import { api } from './client'
import { realtimeApi } from './realtime'
import type { Page, Role } from './types'

/** `open`, `won` or `lost`: cards moved into a won or lost stage are closed that way. */
export type StageKind = 'open' | 'won' | 'lost'
export type Priority = 'low' | 'medium' | 'high' | 'urgent'
export const PRIORITIES: readonly Priority[] = ['urgent', 'high', 'medium', 'low']
export type DueFilter = 'overdue' | 'today' | 'week'

export interface Board {
  id: string
  name: string
  description: string
  /** ISO 4217 code card values default to. */
  currency: string
  inbox_ids: number[]
  custom_fields: { key: string; label: string; type: string }[]
  version: number
  /** Moves on with every change to the board, its stages or its cards. */
  revision: number
  created_at: string
  updated_at: string
}

export interface Stage {
  id: string
  board_id: string
  name: string
  /** `#rrggbb`. */
  color: string
  position: number
  sla_hours: number | null
  kind: StageKind
  created_at: string
  updated_at: string
}

export interface BoardDetail extends Board {
  stages: Stage[]
}

export interface Card {
  id: string
  board_id: string
  stage_id: string
  /** 0 for the top of its stage; dense per stage. */
  position: number
  /** When the card entered its current stage (RFC 3339): what the stage's SLA counts from. */
  stage_entered_at: string
  title: string
  /** The Chatwoot conversation's display id. */
  chatwoot_conversation_id: number | null
  chatwoot_contact_id: number | null
  chatwoot_inbox_id: number | null
  contact_name: string | null
  contact_avatar_url: string | null
  last_message: string | null
  last_message_at: string | null
  /** Minor units (cents) of `currency`. */
  value_minor: number | null
  currency: string | null
  priority: Priority | null
  due_at: string | null
  assignee_id: string | null
  labels: string[]
  custom_fields: Record<string, unknown>
  status: StageKind
  lost_reason: string | null
  version: number
  created_at: string
  updated_at: string
}

/** The fields a person edits (create and update). */
export interface CardFields {
  title?: string
  /** Checked with Chatwoot; the card's inbox and contact then come from Chatwoot. */
  chatwoot_conversation_id?: number
  contact_name?: string
  value_minor?: number | null
  currency?: string
  priority?: Priority | null
  due_at?: string | null
  labels?: string[]
}

export interface NewCard extends CardFields {
  title: string
  stage_id?: string
  position?: number
}

export interface CardMove {
  stage_id: string
  position?: number
  version?: number
  lost_reason?: string
}

export type CardEventKind =
  | 'created'
  | 'moved'
  | 'updated'
  | 'won'
  | 'lost'
  | 'reopened'
  | 'archived'
  | (string & {})

export interface CardEvent {
  id: string
  card_id: string
  kind: CardEventKind
  from_stage_id: string | null
  to_stage_id: string | null
  /** `user`, `api_key` or `chatwoot`. */
  actor_type: string
  actor_user_id: string | null
  reason: string | null
  /** For `updated`: `{field: {from, to}}`. */
  changes: Record<string, { from: unknown; to: unknown }> | null
  created_at: string
}

export interface NewBoard {
  name: string
  description?: string
  currency?: string
}

export interface CardQuery {
  q?: string
  label?: string
  priority?: Priority | ''
  due?: DueFilter | ''
  /** A member's id (see `members`). */
  assignee_id?: string
  /** A Chatwoot inbox id (an inbox's `chatwoot_inbox_id`). */
  inbox_id?: number | ''
  /** A Chatwoot conversation's display id: its card on the board, if any. */
  conversation_id?: number | null
}

/** A new column (supervisors and admins). */
export interface NewStage {
  name: string
  /** `#rrggbb`; the hub's default is Chatwoot's brand blue. */
  color?: string
  /** 1 to 8760. */
  sla_hours?: number | null
  kind?: StageKind
  /** Where to insert it, 0 for the first column (default: last). */
  position?: number
}

/** A column's changes; `sla_hours: null` removes the SLA. */
export interface StageUpdate {
  name?: string
  color?: string
  sla_hours?: number | null
  /** Changing it re-labels the stage's cards (open, won or lost). */
  kind?: StageKind
}

/** The SLA's limits the hub accepts, in hours. */
export const SLA_HOURS = { min: 1, max: 8760 } as const

/** A member of the account (`GET /accounts/{accountId}/users`). */
export interface Member {
  id: string
  email: string
  name: string
  avatar_url: string | null
  chatwoot_user_id: number | null
  role: Role
  active: boolean
  created_at: string
  updated_at: string
}

/** Durations over the cards counted; the `*_seconds` are null when `count` is 0. */
export interface DurationStats {
  count: number
  mean_seconds: number | null
  median_seconds: number | null
  p90_seconds: number | null
}

export interface OutcomeStats {
  count: number
  /** Minor units of the board's currency. */
  value_minor: number
}

export interface WeekThroughput {
  /** `YYYY-MM-DD`. */
  week_start: string
  won: number
  lost: number
}

export interface StageMetrics {
  stage_id: string
  name: string
  kind: StageKind
  color: string
  sla_hours: number | null
  /** Cards in the stage now, and their value in minor units. */
  wip: number
  wip_value_minor: number
  time_in_stage: DurationStats
  /** Null when the stage has no SLA. */
  sla: { over_now: number; breaches: number } | null
}

/** `GET /accounts/{accountId}/boards/{boardId}/metrics?from=&to=`. */
export interface BoardMetrics {
  board_id: string
  from: string
  to: string
  currency: string
  lead_time: DurationStats
  cycle_time: DurationStats
  won: OutcomeStats
  lost: OutcomeStats
  throughput: WeekThroughput[]
  stages: StageMetrics[]
}

/** Cards per page: the API's maximum. */
export const CARD_PAGE = 200

const id = encodeURIComponent

/** The calls of one account. */
export function kanbanApi(accountId: string) {
  const boards = `/accounts/${id(accountId)}/boards`
  const board = (boardId: string) => `${boards}/${id(boardId)}`
  const card = (boardId: string, cardId: string) => `${board(boardId)}/cards/${id(cardId)}`
  return {
    boards: (cursor: string | null = null, limit = 200) => {
      const query = new URLSearchParams({ limit: String(limit) })
      if (cursor) query.set('cursor', cursor)
      return api.get<Page<Board>>(`${boards}?${query}`)
    },
    createBoard: (body: NewBoard) => api.post<BoardDetail>(boards, body),
    board: (boardId: string) => api.get<BoardDetail>(board(boardId)),
    createStage: (boardId: string, body: NewStage) => api.post<Stage>(`${board(boardId)}/stages`, body),
    updateStage: (boardId: string, stageId: string, body: StageUpdate) =>
      api.patch<Stage>(`${board(boardId)}/stages/${id(stageId)}`, body),
    /** Removes a stage; its cards (if any) go to the bottom of `moveCardsTo`. */
    deleteStage: (boardId: string, stageId: string, moveCardsTo: string | null) => {
      const query = moveCardsTo ? `?${new URLSearchParams({ move_cards_to: moveCardsTo })}` : ''
      return api.delete(`${board(boardId)}/stages/${id(stageId)}${query}`)
    },
    moveStage: (boardId: string, stageId: string, position: number) =>
      api.post<Stage[]>(`${board(boardId)}/stages/${id(stageId)}/move`, { position }),
    metrics: (boardId: string, from: string, to: string) =>
      api.get<BoardMetrics>(`${board(boardId)}/metrics?${new URLSearchParams({ from, to })}`),
    cards: (boardId: string, filters: CardQuery = {}, cursor: string | null = null, limit = CARD_PAGE) => {
      const query = new URLSearchParams({ limit: String(limit) })
      for (const [key, value] of Object.entries(filters)) {
        const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : ''
        if (text) query.set(key, text)
      }
      if (cursor) query.set('cursor', cursor)
      return api.get<Page<Card>>(`${board(boardId)}/cards?${query}`)
    },
    createCard: (boardId: string, body: NewCard) => api.post<Card>(`${board(boardId)}/cards`, body),
    updateCard: (boardId: string, cardId: string, body: CardFields & { version: number }) =>
      api.patch<Card>(card(boardId, cardId), body),
    card: (boardId: string, cardId: string) => api.get<Card>(card(boardId, cardId)),
    archiveCard: (boardId: string, cardId: string) => api.delete(card(boardId, cardId)),
    moveCard: (boardId: string, cardId: string, body: CardMove) =>
      api.post<Card>(`${card(boardId, cardId)}/move`, body),
    history: (boardId: string, cardId: string) =>
      api.get<CardEvent[]>(`${card(boardId, cardId)}/history`),
    /** A one-use ticket to open the account's realtime stream (see realtime/live.ts). */
    realtimeTicket: realtimeApi(accountId).realtimeTicket,
    /** The account's active members, a page at a time. */
    members: (cursor: string | null = null, limit = 200) => {
      const query = new URLSearchParams({ active: 'true', limit: String(limit) })
      if (cursor) query.set('cursor', cursor)
      return api.get<Page<Member>>(`/accounts/${id(accountId)}/users?${query}`)
    },
  }
}

export type KanbanApi = ReturnType<typeof kanbanApi>
