/**
 * The fake hub (fakeHub.ts) plus the team chat of account-1 (docs/chat.md), in memory, for
 * unit tests of the chat page: the plan's features, the people directory, rooms (direct
 * rooms one per set of people, channels), messages paged by seq with idempotent sends,
 * threads, edits, tombstones, reactions, read markers, mute, archive, members, the unread
 * totals and realtime tickets; file uploads (told apart by name: `huge…` is too large,
 * `.exe` and `.svg` refused, `broken…` an unreadable image) sent by id, with signed links
 * whose `signature` changes with `linkGeneration`; search with snippets; retention
 * settings and erasures; who is online. `legacy: true` answers as the first slice of the hub did (no
 * `html`, no `event_seq`, 404 for what came later); `failSends` makes the next sends fail
 * as if the network were down.
 */
import { vi } from 'vitest'
import type { Attachment, Message, Room } from '../api/chat'
import { FIXTURE_AT, minutesBefore } from './clock'
import { fakeHub } from './fakeHub'

const ACCOUNT = '/accounts/account-1'

function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

function problem(status: number, code: string, detail = code) {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code })
}

export const PEOPLE = [
  { id: 'user-1', email: 'ana@demo.test', name: 'Ana Admin' },
  { id: 'user-2', email: 'bruno@demo.test', name: 'Bruno Agent' },
  { id: 'user-3', email: 'carla@demo.test', name: 'Carla Costa' },
].map((p) => ({
  ...p,
  avatar_url: null,
  chatwoot_user_id: null,
  role: p.id === 'user-1' ? 'admin' : 'agent',
  active: true,
  created_at: FIXTURE_AT,
  updated_at: FIXTURE_AT,
}))

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export interface ChatOptions {
  legacy?: boolean
  chatEnabled?: boolean
  role?: string
}

interface StoredRoom extends Room {
  read: Record<string, number>
  mutedBy: string[]
}

interface StoredFile {
  id: string
  roomId: string
  messageId: string | null
  filename: string
  size: number
  kind: 'image' | 'file'
}

export function fakeChat({ legacy = false, chatEnabled = true, role = 'admin' }: ChatOptions = {}) {
  const hub = fakeHub({ role })
  const authFetch = hub.fetch.getMockImplementation()!
  let ids = 0
  const chat = {
    rooms: [] as StoredRoom[],
    messages: [] as Message[],
    /** The next `failSends` sends fail as a lost connection would. */
    failSends: 0,
    tickets: 0,
    /** Where each ticket asked its socket to resume (`{room_id: event_seq}`). */
    resumes: [] as (Record<string, number> | undefined)[],
    me: 'user-1',
    files: [] as StoredFile[],
    /** Bumped to make every link the hub gives from now on a new one (an expired link renewed). */
    linkGeneration: 1,
    /** The links' `expires` (Unix seconds). */
    linkExpires: 1_900_000_000,
    settings: { retention_days: null as number | null },
    erased: [] as string[],
    /** Who `GET …/chat/presence` says is online. */
    online: [] as string[],
  }

  function fileView(file: StoredFile): Attachment {
    const sign = `expires=${chat.linkExpires}&signature=g${chat.linkGeneration}`
    const url = `http://hub.test/api/v1/chat/files/${file.id}`
    return {
      id: file.id,
      filename: file.filename,
      content_type: file.kind === 'image' ? 'image/png' : 'application/pdf',
      size: file.size,
      kind: file.kind,
      width: file.kind === 'image' ? 640 : null,
      height: file.kind === 'image' ? 480 : null,
      url: `${url}?${sign}`,
      thumbnail_url: file.kind === 'image' ? `${url}/thumbnail?${sign}` : null,
    }
  }

  function upload(room: StoredRoom, form: FormData): Response {
    const file = form.get('file')
    if (!(file instanceof File)) return problem(422, 'validation_failed')
    const name = file.name
    if (name.startsWith('huge')) return problem(413, 'payload_too_large', 'the request body is too large')
    if (/\.(exe|svg)$/.test(name)) {
      return problem(415, 'unsupported_media_type', name.endsWith('.svg') ? 'HTML, XML and SVG files are not accepted.' : 'This type of file is not accepted.')
    }
    if (name.startsWith('broken')) {
      return problem(422, 'image_unreadable', 'This image could not be read (damaged, or larger than 16,384 pixels a side).')
    }
    const stored: StoredFile = {
      id: `att-${++ids}`,
      roomId: room.id,
      messageId: null,
      filename: name,
      size: file.size,
      kind: /\.(png|jpe?g|gif|webp)$/i.test(name) ? 'image' : 'file',
    }
    chat.files.push(stored)
    return json(201, fileView(stored))
  }

  function search(params: URLSearchParams) {
    const words = (params.get('q') ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)
    if (words.length === 0) return { items: [], next_cursor: null }
    const mine = new Set(chat.rooms.filter((r) => r.member_ids.includes(chat.me)).map((r) => r.id))
    const withFiles = params.get('has_attachment')
    const found = chat.messages
      .filter((m) => mine.has(m.room_id) && !m.deleted)
      .filter((m) => words.every((w) => m.body.toLowerCase().includes(w)))
      .filter((m) => !params.get('room_id') || m.room_id === params.get('room_id'))
      .filter((m) => !params.get('author_id') || m.author_id === params.get('author_id'))
      .filter((m) => withFiles === null || chat.files.some((f) => f.messageId === m.id) === (withFiles === 'true'))
      .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id))
    const start = Number(params.get('cursor') ?? 0)
    const limit = Number(params.get('limit') ?? 20)
    const page = found.slice(start, start + limit)
    const mark = (text: string) =>
      escape(text).replace(new RegExp(`(${words.join('|')})`, 'gi'), '<mark>$1</mark>')
    return {
      items: page.map((m) => ({ message: messageView(m), room_id: m.room_id, snippet: mark(m.body) })),
      next_cursor: start + limit < found.length ? String(start + limit) : null,
    }
  }

  function html(body: string) {
    const named = escape(body).replace(/&lt;@([\w-]+)&gt;/g, (_m, id: string) => {
      const name = PEOPLE.find((p) => p.id === id)?.name ?? 'unknown'
      return `<span class="mention" data-user-id="${id}">@${escape(name)}</span>`
    })
    return `<p>${named.replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')}</p>`
  }

  function view(room: StoredRoom, who = chat.me): Room {
    const { read, mutedBy, ...rest } = room
    const lastRead = read[who] ?? 0
    const out: Room = {
      ...rest,
      unread_count: room.member_ids.includes(who) ? Math.max(0, room.last_seq - lastRead) : 0,
      unread_mentions: room.member_ids.includes(who)
        ? chat.messages.filter((m) => m.room_id === room.id && m.seq > lastRead && m.mentions.includes(who) && !m.parent_id).length
        : 0,
    }
    if (legacy) {
      delete out.event_seq
      delete out.muted
      delete out.role
      delete out.last_message_at
    } else {
      out.muted = mutedBy.includes(who)
      out.role = room.member_ids.includes(who) ? (room.role ?? 'member') : null
    }
    return out
  }

  function messageView(message: Message): Message {
    if (!legacy) {
      const files = message.deleted ? [] : chat.files.filter((f) => f.messageId === message.id).map(fileView)
      return { ...message, html: message.deleted ? null : html(message.body), attachments: files }
    }
    const copy = { ...message }
    delete copy.html
    delete copy.mentions_room
    delete copy.last_reply_at
    return copy
  }

  function addRoom(fields: Partial<Room> & { kind: Room['kind'] }, members = [chat.me]): StoredRoom {
    const room: StoredRoom = {
      id: `room-${++ids}`,
      name: null,
      topic: '',
      private: fields.kind === 'direct',
      team_id: null,
      member_ids: members,
      last_seq: 0,
      event_seq: 0,
      unread_count: 0,
      unread_mentions: 0,
      archived: false,
      role: 'owner',
      muted: false,
      last_message_at: null,
      read: {},
      mutedBy: [],
      ...fields,
    }
    chat.rooms.push(room)
    return room
  }

  function addMessage(roomId: string, author: string, body: string, fields: Partial<Message> = {}): Message {
    const room = chat.rooms.find((r) => r.id === roomId)!
    const parent = fields.parent_id ?? null
    const seq = parent ? 0 : room.last_seq + 1
    if (!parent) room.last_seq = seq
    room.event_seq = (room.event_seq ?? 0) + 1
    const message: Message = {
      id: `msg-${++ids}`,
      room_id: roomId,
      seq: parent ? 1000 + ids : seq,
      author_id: author,
      body,
      client_id: fields.client_id ?? `seed-${ids}`,
      parent_id: parent,
      reply_count: 0,
      last_reply_at: null,
      reactions: [],
      mentions: [...body.matchAll(/<@([\w-]+)>/g)].map((m) => m[1]!).filter((id) => room.member_ids.includes(id)),
      mentions_room: /(^|\s)@room\b/.test(body),
      edited_at: null,
      deleted: false,
      created_at: minutesBefore(Math.max(0, 100 - ids)),
      ...fields,
    }
    chat.messages.push(message)
    room.last_message_at = message.created_at
    if (parent) {
      const root = chat.messages.find((m) => m.id === parent)
      if (root) {
        root.reply_count += 1
        root.last_reply_at = message.created_at
      }
    } else {
      room.read[author] = Math.max(room.read[author] ?? 0, seq)
    }
    return message
  }

  function listMessages(room: StoredRoom, params: URLSearchParams): Record<string, unknown> | null {
    const limit = Number(params.get('limit') ?? 50)
    const parentId = params.get('parent_id')
    if (parentId && !legacy) {
      const items = chat.messages.filter((m) => m.parent_id === parentId).sort((a, b) => a.seq - b.seq)
      return { items: items.map(messageView), has_more: false, has_older: false, has_newer: false }
    }
    const all = chat.messages.filter((m) => m.room_id === room.id && !m.parent_id).sort((a, b) => a.seq - b.seq)
    const before = params.get('before')
    const after = params.get('after')
    const around = params.get('around')
    let items: Message[]
    let hasMore: boolean
    if (around !== null && !legacy) {
      const target = chat.messages.find((m) => m.id === around)
      const anchor = target?.parent_id ? chat.messages.find((m) => m.id === target.parent_id) : target
      const at = anchor ? all.findIndex((m) => m.id === anchor.id) : -1
      if (at < 0) return null
      const from = Math.max(0, at - Math.floor(limit / 2))
      items = all.slice(from, from + limit)
      return {
        items: items.map(messageView),
        has_more: from > 0,
        has_older: from > 0,
        has_newer: from + limit < all.length,
      }
    }
    if (after !== null) {
      const newer = all.filter((m) => m.seq > Number(after))
      items = newer.slice(0, limit)
      hasMore = newer.length > limit
    } else {
      const older = before !== null ? all.filter((m) => m.seq < Number(before)) : all
      items = older.slice(-limit)
      hasMore = older.length > limit
    }
    const page: Record<string, unknown> = { items: items.map(messageView), has_more: hasMore }
    if (!legacy) {
      page.has_older = after !== null ? items.length > 0 && all[0]!.seq < items[0]!.seq : hasMore
      page.has_newer = after !== null ? hasMore : false
    }
    return page
  }

  function answer(
    method: string,
    path: string,
    url: URL,
    body: Record<string, unknown> | undefined,
    form?: FormData,
  ): Response {
    if (path === `${ACCOUNT}/features` && method === 'GET') {
      return json(200, { kanban_enabled: true, internal_chat_enabled: chatEnabled, analytics_enabled: false })
    }
    if (path === `${ACCOUNT}/users` && method === 'GET') return json(200, { items: PEOPLE, next_cursor: null })
    if (path === `${ACCOUNT}/realtime/tickets` && method === 'POST') {
      chat.tickets += 1
      chat.resumes.push(body?.resume as Record<string, number> | undefined)
      return json(201, { ticket: `ticket-${chat.tickets}`, expires_in: 60 })
    }
    if (!path.startsWith(`${ACCOUNT}/chat`)) return problem(404, 'not_found')
    if (!chatEnabled) return problem(403, 'feature_disabled')
    const rest = path.slice(`${ACCOUNT}/chat`.length)
    if (rest === '/search' && method === 'GET' && !legacy) return json(200, search(url.searchParams))
    if (rest === '/settings' && !legacy) {
      if (method === 'GET') return json(200, chat.settings)
      if (method === 'PUT') {
        if (role !== 'admin') return problem(403, 'forbidden')
        const days = body!.retention_days as number | null
        if (days !== null && (days < 1 || days > 3650)) return problem(422, 'validation_failed')
        chat.settings = { retention_days: days }
        return json(200, chat.settings)
      }
    }
    if (rest === '/erasures' && method === 'POST' && !legacy) {
      if (role !== 'admin') return problem(403, 'forbidden')
      const userId = body!.user_id as string
      const theirs = chat.messages.filter((m) => m.author_id === userId && !m.deleted)
      for (const m of theirs) {
        m.deleted = true
        m.body = ''
      }
      chat.erased.push(userId)
      return json(200, { user_id: userId, messages_erased: theirs.length, reactions_removed: 1 })
    }
    if (rest === '/unread' && method === 'GET') {
      const mine = chat.rooms.filter((r) => r.member_ids.includes(chat.me) && !r.archived && !r.mutedBy.includes(chat.me))
      const count = mine.reduce((sum, r) => sum + view(r).unread_count, 0)
      return json(200, { count, unread_count: count, unread_mentions: 0, rooms: mine.filter((r) => view(r).unread_count > 0).length })
    }
    if (rest === '/presence' && method === 'GET') {
      if (legacy) return problem(404, 'not_found')
      return json(200, { online: chat.online, away: [] })
    }
    if (rest === '/rooms') {
      if (method === 'GET') {
        return json(200, chat.rooms.filter((r) => r.member_ids.includes(chat.me) || (!r.private && r.kind !== 'direct')).map((r) => view(r)))
      }
      if (method === 'POST') {
        const members = [...new Set([...(body!.member_ids as string[]), chat.me])].sort()
        if (body!.kind === 'direct') {
          const existing = chat.rooms.find((r) => r.kind === 'direct' && [...r.member_ids].sort().join() === members.join())
          if (existing) return json(200, view(existing))
          return json(201, view(addRoom({ kind: 'direct' }, members)))
        }
        return json(
          201,
          view(addRoom({ kind: 'channel', name: body!.name as string, topic: (body!.topic as string) ?? '', private: !!body!.private }, members)),
        )
      }
    }
    const match = /^\/rooms\/([^/]+)(?:\/([^/]+)(?:\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?)?)?$/.exec(rest)
    if (!match) return problem(404, 'not_found')
    const [, roomId, part, itemId, sub, emoji] = match.map((m) => (m ? decodeURIComponent(m) : m))
    const room = chat.rooms.find((r) => r.id === roomId)
    if (!room || (room.private && !room.member_ids.includes(chat.me))) return problem(404, 'not_found')
    if (!part && method === 'GET') return json(200, view(room))
    if (!part && method === 'PATCH' && !legacy) {
      if (typeof body!.name === 'string') room.name = body!.name
      if (typeof body!.topic === 'string') room.topic = body!.topic
      return json(200, view(room))
    }
    if (part === 'read' && method === 'POST') {
      room.read[chat.me] = Math.max(room.read[chat.me] ?? 0, Math.min(Number(body!.seq), room.last_seq))
      return json(200, view(room))
    }
    if (legacy && part !== 'messages' && part !== 'members') return problem(404, 'not_found')
    if (part === 'unread' && method === 'POST') {
      room.read[chat.me] = Math.max(0, Number(body!.seq) - 1)
      return json(200, view(room))
    }
    if (part === 'mute' && method === 'PUT') {
      room.mutedBy = body!.muted ? [...room.mutedBy, chat.me] : room.mutedBy.filter((id) => id !== chat.me)
      return json(200, view(room))
    }
    if ((part === 'archive' || part === 'unarchive') && method === 'POST') {
      room.archived = part === 'archive'
      return json(200, view(room))
    }
    if (part === 'attachments' && method === 'POST' && !legacy) {
      if (room.archived) return problem(409, 'room_archived')
      return upload(room, form!)
    }
    if (part === 'messages') {
      if (!itemId && method === 'GET') {
        const page = listMessages(room, url.searchParams)
        return page ? json(200, page) : problem(404, 'not_found')
      }
      if (!itemId && method === 'POST') {
        if (room.archived) return problem(409, 'room_archived')
        const sent = chat.messages.find((m) => m.room_id === room.id && m.author_id === chat.me && m.client_id === body!.client_id)
        if (sent) return json(200, messageView(sent))
        if (!room.member_ids.includes(chat.me)) room.member_ids.push(chat.me)
        const wanted = (body!.attachment_ids as string[] | undefined) ?? []
        const files = wanted.map((id) => chat.files.find((f) => f.id === id && f.roomId === room.id && f.messageId === null))
        if (files.some((f) => !f)) {
          return json(422, { type: 'about:blank', title: 'Error', status: 422, detail: 'invalid', code: 'validation_failed', errors: [{ field: 'attachment_ids', message: 'are not files you uploaded to this room' }] })
        }
        if (!(body!.body as string) && files.length === 0) return problem(422, 'validation_failed')
        const message = addMessage(room.id, chat.me, body!.body as string, {
          client_id: body!.client_id as string,
          parent_id: (body!.parent_id as string) ?? null,
          created_at: new Date(Date.parse(minutesBefore(0))).toISOString(),
        })
        for (const file of files) file!.messageId = message.id
        return json(201, messageView(message))
      }
      const message = chat.messages.find((m) => m.id === itemId && m.room_id === room.id)
      if (!message) return problem(404, 'not_found')
      if (legacy) return problem(404, 'not_found')
      if (!sub && method === 'PATCH') {
        message.body = body!.body as string
        message.edited_at = minutesBefore(0)
        return json(200, messageView(message))
      }
      if (!sub && method === 'DELETE') {
        message.body = ''
        message.deleted = true
        return json(200, messageView(message))
      }
      if (sub === 'reactions' && emoji) {
        const existing = message.reactions.find((r) => r.emoji === emoji)
        if (method === 'PUT') {
          if (!existing) message.reactions.push({ emoji, count: 1, user_ids: [chat.me] })
          else if (!existing.user_ids.includes(chat.me)) {
            existing.user_ids.push(chat.me)
            existing.count += 1
          }
        } else if (method === 'DELETE' && existing) {
          existing.user_ids = existing.user_ids.filter((id) => id !== chat.me)
          existing.count = existing.user_ids.length
          if (existing.count === 0) message.reactions = message.reactions.filter((r) => r !== existing)
        }
        return json(200, messageView(message))
      }
    }
    if (part === 'members') {
      if (!itemId && method === 'POST') {
        room.member_ids = [...new Set([...room.member_ids, ...(body!.user_ids as string[])])]
        return json(200, view(room))
      }
      if (itemId && method === 'DELETE') {
        room.member_ids = room.member_ids.filter((id) => id !== itemId)
        return json(200, view(room))
      }
    }
    return problem(404, 'not_found')
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    if (!path.startsWith(ACCOUNT)) return authFetch(input, init)
    const method = init.method ?? 'GET'
    const headers = (init.headers ?? {}) as Record<string, string>
    const authorization = headers.Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    const form = init.body instanceof FormData ? init.body : undefined
    hub.calls.push({ method, path: `${path}${url.search}`, body, authorization })
    if (!hub.access || authorization !== `Bearer ${hub.access}`) return problem(401, 'invalid_token')
    if (method === 'POST' && /\/messages$/.test(path) && chat.failSends > 0) {
      chat.failSends -= 1
      throw new TypeError('Failed to fetch')
    }
    return answer(method, path, url, body, form)
  })

  return Object.assign(hub, { fetch, chat, addRoom, addMessage, view, messageView })
}

export type FakeChat = ReturnType<typeof fakeChat>
