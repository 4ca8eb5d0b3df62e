/**
 * The Kanban API of one account (see the OpenAPI document at /api/openapi.json):
 * boards, their stages, cards, card moves and card history under
 * `/accounts/{accountId}/boards`.
 */
import { api } from './client'
import type { Page } from './types'

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
  chatwoot_conversation_id?: number
  chatwoot_contact_id?: number
  chatwoot_inbox_id?: number
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
  /** A Chatwoot conversation's display id: its card on the board, if any. */
  conversation_id?: number | null
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
    moveStage: (boardId: string, stageId: string, position: number) =>
      api.post<Stage[]>(`${board(boardId)}/stages/${id(stageId)}/move`, { position }),
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
    archiveCard: (boardId: string, cardId: string) => api.delete(card(boardId, cardId)),
    moveCard: (boardId: string, cardId: string, body: CardMove) =>
      api.post<Card>(`${card(boardId, cardId)}/move`, body),
    history: (boardId: string, cardId: string) =>
      api.get<CardEvent[]>(`${card(boardId, cardId)}/history`),
  }
}

export type KanbanApi = ReturnType<typeof kanbanApi>
