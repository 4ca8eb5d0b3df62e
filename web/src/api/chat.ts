/**
 * The team chat of one account (docs/chat.md): rooms (direct rooms and channels), their
 * messages paged by `seq`, read markers, members, reactions and threads, under
 * `/accounts/{accountId}/chat/`. The hub grows this API slice by slice, so every field
 * that came later is optional here and the UI does without it.
 */
import { api, upload, type UploadOptions } from './client'
import { realtimeApi } from './realtime'
import type { Member } from './kanban'
import type { Page } from './types'

export type RoomKind = 'direct' | 'channel' | 'team'
export type RoomRole = 'owner' | 'moderator' | 'member'

export interface Room {
  id: string
  kind: RoomKind | (string & {})
  /** A channel's name; null for a direct room. */
  name: string | null
  topic: string
  private: boolean
  team_id: string | null
  member_ids: string[]
  /** The seq of the room's latest message (0 before the first). */
  last_seq: number
  /** Everything that happened in the room; realtime frames carry it. */
  event_seq?: number
  unread_count: number
  unread_mentions: number
  archived: boolean
  /** The caller's role; null when they are not in the room (a public channel). */
  role?: RoomRole | null
  muted?: boolean
  last_message_at?: string | null
  /** The caller's read marker, when the hub sends it. */
  last_read_seq?: number
}

export interface Reaction {
  emoji: string
  count: number
  user_ids: string[]
}

/** A file sent with a message (or uploaded and not sent yet). */
export interface Attachment {
  id: string
  /** Made safe by the hub, but still someone's text: render it as text only. */
  filename: string
  content_type: string
  size: number
  kind: 'image' | 'file' | (string & {})
  /** An image's size in pixels (the original's). */
  width?: number | null
  height?: number | null
  /** The file, through a signed link that expires (an hour): read the message again for a fresh one. */
  url: string
  /** An image's thumbnail (at most 320 px a side); null for a file. */
  thumbnail_url?: string | null
}

export interface Message {
  id: string
  room_id: string
  seq: number
  author_id: string | null
  /** Markdown source; a person is `<@USER_ID>`, everyone `@room`. Empty once deleted. */
  body: string
  /** The body rendered and sanitised by the hub; the only HTML the UI ever shows. */
  html?: string | null
  client_id: string
  parent_id: string | null
  reply_count: number
  last_reply_at?: string | null
  reactions: Reaction[]
  mentions: string[]
  mentions_room?: boolean
  /** The Chatwoot conversations it refers to (`#123` or a pasted link), by display id. */
  conversation_refs?: number[]
  edited_at: string | null
  deleted: boolean
  created_at: string
  /** The files sent with it, in the order sent (none for a tombstone). */
  attachments?: Attachment[]
}

export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'resolved'

/** A Chatwoot conversation a message refers to, as the caller may see it (docs/chat.md). */
export interface ConversationCard {
  /** The display id, as in `#123`. */
  id: number
  status: ConversationStatus | (string & {})
  inbox: { id: number; name: string | null }
  contact: { name: string | null; thumbnail?: string | null }
  assignee: { name: string } | null
  /** The conversation in Chatwoot's dashboard. */
  url: string
  last_activity_at: string | null
}

export interface MessagePage {
  items: Message[]
  has_more: boolean
  has_older?: boolean
  has_newer?: boolean
}

export interface MessageQuery {
  before?: number
  after?: number
  limit?: number
  around?: string
  parent_id?: string
}

export interface NewRoom {
  kind: RoomKind
  name?: string
  topic?: string
  private?: boolean
  member_ids: string[]
}

export interface UnreadTotals {
  count: number
  unread_count: number
  unread_mentions: number
  rooms: number
}

export interface SearchQuery {
  q: string
  room_id?: string
  author_id?: string
  /** RFC 3339: sent at or after. */
  from?: string
  /** RFC 3339: sent before. */
  to?: string
  has_attachment?: boolean
  limit?: number
  cursor?: string | null
}

export interface SearchHit {
  message: Message
  room_id: string
  /** The body around the first match, HTML-escaped by the hub with `<mark>` around matches. */
  snippet: string
}

export interface ChatSettings {
  /** Days messages are kept; null keeps them forever. */
  retention_days: number | null
}

export interface Erasure {
  user_id: string
  messages_erased: number
  reactions_removed: number
}

export type { Member as ChatUser }

/** `key=value&…` of the values that are set. */
function queryOf(query: object): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

/** Who in the account has the chat open (everyone else is offline). */
export interface ChatPresence {
  online: string[]
  away: string[]
}

const id = encodeURIComponent

export function chatApi(accountId: string) {
  const account = `/accounts/${id(accountId)}`
  const chat = `${account}/chat`
  const room = (roomId: string) => `${chat}/rooms/${id(roomId)}`
  const message = (roomId: string, messageId: string) => `${room(roomId)}/messages/${id(messageId)}`
  return {
    rooms: () => api.get<Room[]>(`${chat}/rooms`),
    room: (roomId: string) => api.get<Room>(room(roomId)),
    /** 201 a new room; 200 the direct room these people already have. */
    createRoom: (body: NewRoom) => api.post<Room>(`${chat}/rooms`, body),
    updateRoom: (roomId: string, body: { name?: string; topic?: string }) => api.patch<Room>(room(roomId), body),
    archive: (roomId: string) => api.post<Room>(`${room(roomId)}/archive`, {}),
    unarchive: (roomId: string) => api.post<Room>(`${room(roomId)}/unarchive`, {}),
    mute: (roomId: string, muted: boolean) => api.put<Room>(`${room(roomId)}/mute`, { muted }),
    markRead: (roomId: string, seq: number) => api.post<Room>(`${room(roomId)}/read`, { seq }),
    markUnread: (roomId: string, seq: number) => api.post<Room>(`${room(roomId)}/unread`, { seq }),
    addMembers: (roomId: string, userIds: string[]) =>
      api.post<Room>(`${room(roomId)}/members`, { user_ids: userIds }),
    removeMember: (roomId: string, userId: string) =>
      api.delete<Room | undefined>(`${room(roomId)}/members/${id(userId)}`),
    unread: () => api.get<UnreadTotals>(`${chat}/unread`),
    messages: (roomId: string, query: MessageQuery = {}) =>
      api.get<MessagePage>(`${room(roomId)}/messages${queryOf(query)}`),
    presence: () => api.get<ChatPresence>(`${chat}/presence`),
    /** 201 the first time, 200 with the stored message when `client_id` was sent before. */
    send: (
      roomId: string,
      body: { body: string; client_id: string; parent_id?: string | null; attachment_ids?: string[] },
    ) => {
      const payload: Record<string, unknown> = { body: body.body, client_id: body.client_id }
      if (body.parent_id) payload.parent_id = body.parent_id
      if (body.attachment_ids?.length) payload.attachment_ids = body.attachment_ids
      return api.post<Message>(`${room(roomId)}/messages`, payload)
    },
    /** 201 with the file, not sent yet: send its id with a message of this room. */
    upload: (roomId: string, file: File, options: UploadOptions = {}) => {
      const form = new FormData()
      form.append('file', file, file.name)
      return upload<Attachment>(`${room(roomId)}/attachments`, form, options)
    },
    search: (query: SearchQuery) => api.get<Page<SearchHit>>(`${chat}/search${queryOf(query)}`),
    settings: () => api.get<ChatSettings>(`${chat}/settings`),
    saveSettings: (body: ChatSettings) => api.put<ChatSettings>(`${chat}/settings`, body),
    /** Every message of the person becomes a tombstone and their reactions go (LGPD). */
    erase: (userId: string) => api.post<Erasure>(`${chat}/erasures`, { user_id: userId }),
    edit: (roomId: string, messageId: string, body: string) =>
      api.patch<Message>(message(roomId, messageId), { body }),
    remove: (roomId: string, messageId: string) => api.delete<Message | undefined>(message(roomId, messageId)),
    react: (roomId: string, messageId: string, emoji: string) =>
      api.put<Message>(`${message(roomId, messageId)}/reactions/${id(emoji)}`, {}),
    unreact: (roomId: string, messageId: string, emoji: string) =>
      api.delete<Message>(`${message(roomId, messageId)}/reactions/${id(emoji)}`),
    /**
     * The account's people, a page at a time: the active ones (the directory of names and
     * avatars), or everyone with `active` false.
     */
    users: (cursor: string | null = null, limit = 200, active = true) => {
      const query = new URLSearchParams(active ? { active: 'true', limit: String(limit) } : { limit: String(limit) })
      if (cursor) query.set('cursor', cursor)
      return api.get<Page<Member>>(`${account}/users?${query}`)
    },
    /** A conversation's card: 404 when it does not exist or the caller may not see it. */
    conversation: (conversationId: number) =>
      api.get<ConversationCard>(`${chat}/conversations/${id(String(conversationId))}`),
    /** A one-use ticket for the realtime WebSocket (and the SSE stream). */
    realtimeTicket: realtimeApi(accountId).realtimeTicket,
  }
}

export type ChatApi = ReturnType<typeof chatApi>
