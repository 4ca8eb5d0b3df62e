/**
 * The team chat's state for the chat page: the people directory, the rooms, each opened
 * room's messages (paged by `seq`), threads, typing hints, the send queue, read markers,
 * who is online, and the realtime socket that keeps them current. Without the socket (a hub that has not
 * got it yet, or a connection that is down) the page still works: it reads on open and
 * after sending, and every few seconds while the tab is visible.
 */
import { reactive } from 'vue'
import { ApiError } from '../api/client'
import type { Attachment, ChatApi, ChatUser, Message, NewRoom, Room } from '../api/chat'
import { nowMs } from '../utils/clock'
import { mentionsAsText } from './mentions'
import { applyPresence, createAwayReporter, type PresenceMap, type PresenceStatus } from './presence'
import { createSendQueue, type Outgoing } from './sendQueue'
import { ChatSocket, type ChatFrame, type SocketConstructor, type SocketStatus } from './socket'
import { mergeMessages } from './timeline'

export const PAGE_SIZE = 50
export const POLL_MS = 15_000
export const TYPING_MS = 6_000
export const READ_DEBOUNCE_MS = 600
/** While the socket is up, the room list is still read this often (public channels). */
export const LIST_EVERY_MS = 60_000
/** A message whose file links failed is read again at most this often. */
export const LINK_RETRY_MS = 60_000

export interface RoomView {
  items: Message[]
  loaded: boolean
  loading: boolean
  loadingOlder: boolean
  hasOlder: boolean
  /** Opened at a message (a search hit): newer messages lie after the last one loaded. */
  hasNewer: boolean
  loadingNewer: boolean
  error: string | null
  /** The read marker when the room was opened: the "new messages" divider stays there. */
  dividerAfter: number | null
  /** "Mark unread" was used: do not mark read again until the room is opened anew. */
  holdRead: boolean
}

export interface ThreadView {
  items: Message[]
  loading: boolean
  error: string | null
}

export interface ChatNotification {
  title: string
  body: string
  roomId: string
  tag: string
}

export interface ChatOptions {
  api: Pick<
    ChatApi,
    | 'rooms'
    | 'room'
    | 'createRoom'
    | 'archive'
    | 'unarchive'
    | 'mute'
    | 'markRead'
    | 'markUnread'
    | 'addMembers'
    | 'removeMember'
    | 'messages'
    | 'send'
    | 'edit'
    | 'remove'
    | 'react'
    | 'unreact'
    | 'users'
    | 'realtimeTicket'
    | 'updateRoom'
    | 'upload'
    | 'presence'
  >
  /** The signed-in person's id. */
  me: string
  /** The realtime socket's URL for a ticket; without it (or without WebSocket) there is no socket. */
  socketUrl?: (ticket: string) => string
  WebSocket?: SocketConstructor
  socketDelay?: (attempt: number) => number
  /** Unread totals changed (the sidebar badge reads them again). */
  unreadChanged?: () => void
  /** A message someone should hear about while the tab is hidden. */
  notify?: (notification: ChatNotification) => void
  /** Whether the tab is hidden (notifications are only for a hidden tab). */
  hidden?: () => boolean
  pollMs?: number
  sendDelay?: (attempt: number) => number
  newId?: () => string
}

function message(error: unknown, fallback: string): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'The hub could not be reached.'
    if (error.code === 'room_archived') return 'This room is archived.'
    if (error.status === 404 || error.status === 405) return 'The hub does not offer this yet.'
    return error.message || fallback
  }
  return fallback
}

/** A reaction's emoji as a path segment; the API client encodes it. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀', '✅'] as const

export function createChat(options: ChatOptions) {
  const { api, me } = options
  const pollMs = options.pollMs ?? POLL_MS
  const hidden = options.hidden ?? (() => typeof document !== 'undefined' && document.hidden)

  const state = reactive({
    users: {} as Record<string, ChatUser>,
    rooms: {} as Record<string, Room>,
    roomsLoaded: false,
    roomsError: null as string | null,
    roomId: null as string | null,
    views: {} as Record<string, RoomView>,
    threadId: null as string | null,
    threads: {} as Record<string, ThreadView>,
    /** room → person → until (ms). */
    typing: {} as Record<string, Record<string, number>>,
    /** The caller's read marker per room. */
    readSeq: {} as Record<string, number>,
    connection: 'offline' as SocketStatus,
    /** Who in the account has the chat open (anyone absent is offline). */
    presence: Object.create(null) as PresenceMap, // no inherited keys: an id is never "constructor"
    /** A short message about something that did not work. */
    notice: null as string | null,
    /**
     * The message a search hit opened, shown highlighted; `anchorId` is where the room's
     * list goes (a reply's thread's first message); `key` changes with each opening.
     */
    focus: null as { messageId: string; anchorId: string; key: number } | null,
  })

  const queue = createSendQueue<Message>({
    send: (item) =>
      api.send(item.roomId, {
        body: item.body,
        client_id: item.clientId,
        parent_id: item.parentId,
        attachment_ids: item.attachments.map((file) => file.id),
      }),
    settled: (_item, sent) => {
      upsert(sent)
      const room = state.rooms[sent.room_id]
      if (room && !sent.parent_id) {
        if (sent.seq > room.last_seq) room.last_seq = sent.seq
        // The sender has read what they wrote.
        state.readSeq[sent.room_id] = Math.max(state.readSeq[sent.room_id] ?? 0, sent.seq)
        room.unread_count = Math.max(0, room.last_seq - state.readSeq[sent.room_id]!)
      }
      if (room) room.last_message_at = sent.created_at
      // Without the socket, what others wrote meanwhile comes with the next page.
      if (state.connection !== 'live' && !sent.parent_id) void loadNewer(sent.room_id)
      options.unreadChanged?.()
    },
    delay: options.sendDelay,
    newId: options.newId,
    now: nowMs,
  })

  let socket: ChatSocket | null = null
  const away = createAwayReporter({ hidden, send: (status) => socket?.presence(status) ?? false })
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let typingTimer: ReturnType<typeof setInterval> | undefined
  const readTimers = new Map<string, ReturnType<typeof setTimeout>>()
  let noticeTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let wasLive = false
  let listReadAt = 0
  let focusKey = 0
  /** When each message's file links were last read again (ms). */
  const linksReadAt = new Map<string, number>()

  function say(text: string) {
    state.notice = text
    clearTimeout(noticeTimer)
    noticeTimer = setTimeout(() => {
      state.notice = null
    }, 6000)
  }

  // ---- the directory ----

  function nameOf(id: string | null | undefined): string {
    if (!id) return 'Someone'
    if (id === me) return state.users[id]?.name ?? 'You'
    return state.users[id]?.name ?? 'Unknown'
  }

  const lookupName = (id: string) => state.users[id]?.name

  async function loadUsers() {
    const all: ChatUser[] = []
    let cursor: string | null = null
    try {
      for (let page = 0; page < 20; page++) {
        const answer: { items: ChatUser[]; next_cursor?: string | null } = await api.users(cursor)
        all.push(...answer.items)
        cursor = answer.next_cursor ?? null
        if (!cursor) break
      }
    } catch {
      // Names fall back to "Unknown"; the chat still works.
    }
    const users: Record<string, ChatUser> = {}
    for (const user of all) users[user.id] = user
    state.users = users
  }

  // ---- rooms ----

  function roomName(room: Room | undefined | null): string {
    if (!room) return ''
    if (room.kind !== 'direct') return room.name ?? 'Untitled'
    const others = room.member_ids.filter((id) => id !== me)
    if (others.length === 0) return `${nameOf(me)} (you)`
    return others.map(nameOf).join(', ')
  }

  function readMarker(room: Room): number {
    if (typeof room.last_read_seq === 'number') return room.last_read_seq
    return Math.max(0, room.last_seq - room.unread_count)
  }

  /**
   * Tells the socket how far the page has a room, for the rooms this person is in (the hub
   * replays only those: a public channel one is not in would come back as removed).
   */
  function noteRoom(room: Room) {
    if (socket && room.member_ids.includes(me)) socket.note(room.id, room.event_seq)
  }

  /** Keeps a room as the hub answered it. */
  function putRoom(room: Room) {
    state.rooms[room.id] = { ...room }
    state.readSeq[room.id] = readMarker(room)
    noteRoom(room)
  }

  async function loadRooms() {
    listReadAt = nowMs()
    try {
      const rooms = await api.rooms()
      const fresh: Record<string, Room> = {}
      for (const room of rooms) fresh[room.id] = { ...room }
      state.rooms = fresh
      for (const room of rooms) {
        state.readSeq[room.id] = readMarker(room)
        noteRoom(room)
      }
      state.roomsLoaded = true
      state.roomsError = null
      watchPresence()
      if (state.roomId && !fresh[state.roomId]) state.roomId = null
    } catch (error) {
      state.roomsError = message(error, 'The rooms could not be loaded.')
      state.roomsLoaded = true
    }
  }

  function view(roomId: string): RoomView {
    let current = state.views[roomId]
    if (!current) {
      state.views[roomId] = {
        items: [],
        loaded: false,
        loading: false,
        loadingOlder: false,
        hasOlder: false,
        hasNewer: false,
        loadingNewer: false,
        error: null,
        dividerAfter: null,
        holdRead: false,
      }
      current = state.views[roomId]!
    }
    return current
  }

  const topLevel = (items: Message[]) => items.filter((m) => !m.parent_id)
  const maxSeq = (items: Message[]) => items.reduce((max, m) => Math.max(max, m.seq), 0)

  async function loadLatest(roomId: string) {
    const current = view(roomId)
    current.loading = true
    current.error = null
    try {
      const page = await api.messages(roomId, { limit: PAGE_SIZE })
      const items = topLevel(page.items)
      // Messages that came (by the socket, or one's own send) while the page was on its
      // way are newer than it: they stay.
      const newest = maxSeq(items)
      current.items = mergeMessages(
        current.items.filter((m) => m.seq > newest),
        items,
      )
      current.hasOlder = page.has_older ?? page.has_more
      current.hasNewer = false
      current.loaded = true
    } catch (error) {
      current.error = message(error, 'The messages could not be loaded.')
    } finally {
      current.loading = false
    }
  }

  async function loadOlder(roomId: string) {
    const current = view(roomId)
    if (current.loadingOlder || !current.hasOlder || current.items.length === 0) return
    current.loadingOlder = true
    try {
      const before = current.items[0]!.seq
      const page = await api.messages(roomId, { before, limit: PAGE_SIZE })
      current.items = mergeMessages(current.items, topLevel(page.items))
      current.hasOlder = page.has_older ?? page.has_more
    } catch (error) {
      say(message(error, 'Older messages could not be loaded.'))
    } finally {
      current.loadingOlder = false
    }
  }

  /**
   * Messages after the newest one shown (a few pages at most; more reloads the latest). A
   * room opened at a message pages forward only when asked (`loadNext`).
   */
  async function loadNewer(roomId: string) {
    const current = state.views[roomId]
    if (!current?.loaded || current.loading || current.hasNewer) return
    try {
      for (let page = 0; page < 4; page++) {
        const after = maxSeq(current.items)
        const answer = await api.messages(roomId, { after, limit: PAGE_SIZE })
        current.items = mergeMessages(current.items, topLevel(answer.items))
        if (!(answer.has_newer ?? answer.has_more)) return
      }
      await loadLatest(roomId)
    } catch {
      // The next poll or frame tries again.
    }
  }

  /** In a room opened at a message: the next page towards the latest. */
  async function loadNext(roomId: string) {
    const current = state.views[roomId]
    if (!current?.hasNewer || current.loadingNewer) return
    current.loadingNewer = true
    try {
      const answer = await api.messages(roomId, { after: maxSeq(current.items), limit: PAGE_SIZE })
      current.items = mergeMessages(current.items, topLevel(answer.items))
      current.hasNewer = answer.has_newer ?? answer.has_more
    } catch (error) {
      say(message(error, 'Newer messages could not be loaded.'))
    } finally {
      current.loadingNewer = false
    }
  }

  /** Back to the room's latest messages (from a room opened at a message). */
  async function jumpToLatest(roomId: string) {
    state.focus = null
    const current = state.views[roomId]
    if (current?.hasNewer) await loadLatest(roomId)
  }

  function leave(roomId: string | null) {
    if (state.roomId) {
      const previous = state.views[state.roomId]
      if (previous) previous.holdRead = false
    }
    state.roomId = roomId
    state.threadId = null
    state.focus = null
  }

  async function select(roomId: string | null) {
    if (state.roomId === roomId) return
    leave(roomId)
    if (!roomId) return
    const room = state.rooms[roomId]
    const current = view(roomId)
    current.dividerAfter = room && room.unread_count > 0 ? (state.readSeq[roomId] ?? readMarker(room)) : null
    if (!current.loaded || current.hasNewer) await loadLatest(roomId)
    else await loadNewer(roomId)
    // Open at the first unread message even when it lies before the latest page (a few
    // pages at most; beyond that the divider is above what is loaded).
    const divider = current.dividerAfter
    for (let page = 0; page < 3 && divider !== null && current.hasOlder; page++) {
      const first = current.items[0]?.seq
      if (first === undefined || first <= divider + 1) break
      await loadOlder(roomId)
    }
  }

  /**
   * Opens a room at one message (a search hit): the page around it (a reply: around its
   * thread's first message, with the thread open), the message highlighted. The room is
   * marked read only once its latest messages are reached.
   */
  async function openAround(roomId: string, messageId: string, parentId: string | null = null) {
    if (state.roomId !== roomId) leave(roomId)
    const current = view(roomId)
    state.focus = { messageId, anchorId: parentId ?? messageId, key: ++focusKey }
    state.threadId = null
    current.dividerAfter = null
    current.loading = true
    current.error = null
    try {
      const page = await api.messages(roomId, { around: parentId ?? messageId, limit: PAGE_SIZE })
      current.items = mergeMessages([], topLevel(page.items))
      current.hasOlder = page.has_older ?? page.has_more
      current.hasNewer = page.has_newer ?? false
      current.loaded = true
    } catch (error) {
      current.loading = false
      say(
        error instanceof ApiError && error.status === 404
          ? 'That message is no longer there.'
          : message(error, 'The message could not be opened.'),
      )
      state.focus = null
      await loadLatest(roomId)
      return
    } finally {
      current.loading = false
    }
    if (parentId) await openThread(parentId)
  }

  // ---- threads ----

  async function openThread(parentId: string | null) {
    state.threadId = parentId
    if (!parentId || !state.roomId) return
    const roomId = state.roomId
    const thread = state.threads[parentId] ?? { items: [], loading: false, error: null }
    state.threads[parentId] = thread
    const current = state.threads[parentId]!
    current.loading = true
    current.error = null
    try {
      const page = await api.messages(roomId, { parent_id: parentId, limit: 200 })
      // A hub without threads answers the room's messages: keep only the replies.
      current.items = mergeMessages([], page.items.filter((m) => m.parent_id === parentId))
    } catch (error) {
      current.error = message(error, 'The thread could not be loaded.')
    } finally {
      current.loading = false
    }
  }

  function findMessage(id: string): Message | undefined {
    for (const current of Object.values(state.views)) {
      const found = current.items.find((m) => m.id === id)
      if (found) return found
    }
    for (const thread of Object.values(state.threads)) {
      const found = thread.items.find((m) => m.id === id)
      if (found) return found
    }
    return undefined
  }

  /** Puts a message the hub sent where it shows (its room's list or its thread). */
  function upsert(incoming: Message) {
    if (incoming.parent_id) {
      const thread = state.threads[incoming.parent_id]
      const isNew = thread ? !thread.items.some((m) => m.id === incoming.id) : true
      if (thread) thread.items = mergeMessages(thread.items, [incoming])
      // A hub that does not announce the parent's new count yet: count it here.
      const parent = findMessage(incoming.parent_id)
      if (parent && isNew && thread && parent.reply_count < thread.items.length) {
        parent.reply_count = thread.items.length
        parent.last_reply_at = incoming.created_at
      }
      return
    }
    const current = state.views[incoming.room_id]
    if (!current) return
    // Opened at an older message: what comes after the window is read by paging forward.
    if (current.hasNewer && incoming.seq > maxSeq(current.items)) return
    if (!current.loaded) {
      // Its first page is on its way: kept, and merged with that page when it comes.
      if (current.loading) current.items = mergeMessages(current.items, [incoming])
      return
    }
    const newest = maxSeq(current.items)
    current.items = mergeMessages(current.items, [incoming])
    // A gap (frames missed while the list was loading): read what lies between.
    if (newest > 0 && incoming.seq > newest + 1) void loadNewer(incoming.room_id)
  }

  // ---- sending and changing messages ----

  /** Queues a message; its body may be empty when files go with it (already uploaded). */
  function send(roomId: string, body: string, parentId: string | null = null, attachments: Attachment[] = []): string | null {
    const text = body.trim()
    if (!text && attachments.length === 0) return null
    if (state.rooms[roomId]?.archived) {
      say('This room is archived.')
      return null
    }
    socket?.typed(roomId)
    // Written from an older part of the room: back to its latest, where the message goes.
    if (!parentId && state.views[roomId]?.hasNewer) void jumpToLatest(roomId)
    return queue.enqueue(roomId, text, parentId, attachments)
  }

  /**
   * A file link of this message failed (links expire after an hour): read it again, with
   * its neighbours, for fresh links; at most once a minute a message.
   */
  async function refreshLinks(target: Message) {
    const now = nowMs()
    const last = linksReadAt.get(target.id)
    if (last !== undefined && now - last < LINK_RETRY_MS) return
    linksReadAt.set(target.id, now)
    const query = target.parent_id
      ? { parent_id: target.parent_id, around: target.id, limit: 20 }
      : { around: target.id, limit: 20 }
    try {
      const page = await api.messages(target.room_id, query)
      for (const fresh of page.items) {
        linksReadAt.set(fresh.id, now)
        // Only the copies of what is shown (the page may reach past what is loaded).
        if (findMessage(fresh.id)) upsert(fresh)
      }
    } catch {
      // The file stays a placeholder; the next failure after a minute tries again.
    }
  }

  /** Uploads a file to a room, to send with a message. */
  function upload(roomId: string, file: File, onProgress: (sent: number, total: number) => void, signal: AbortSignal) {
    return api.upload(roomId, file, { onProgress, signal })
  }

  /** Messages of this room (or thread) not yet stored by the hub. */
  function outgoing(roomId: string, parentId: string | null = null): Outgoing[] {
    return queue.items.filter((item) => item.roomId === roomId && item.parentId === parentId)
  }

  async function edit(target: Message, body: string): Promise<boolean> {
    const text = body.trim()
    if (!text || text === target.body) return true
    try {
      upsert(await api.edit(target.room_id, target.id, text))
      return true
    } catch (error) {
      say(message(error, 'The message could not be edited.'))
      return false
    }
  }

  async function remove(target: Message) {
    try {
      const answer = await api.remove(target.room_id, target.id)
      upsert(answer && typeof answer === 'object' ? answer : { ...target, body: '', html: null, deleted: true })
    } catch (error) {
      say(message(error, 'The message could not be deleted.'))
    }
  }

  async function toggleReaction(target: Message, emoji: string) {
    const mine = target.reactions.find((r) => r.emoji === emoji)?.user_ids.includes(me) ?? false
    try {
      upsert(mine ? await api.unreact(target.room_id, target.id, emoji) : await api.react(target.room_id, target.id, emoji))
    } catch (error) {
      say(message(error, 'The reaction could not be saved.'))
    }
  }

  // ---- read state ----

  /**
   * The latest messages of the room are on screen and the tab has the focus: mark them read
   * (after a short pause, so scrolling through does not post each step).
   */
  function seen(roomId: string) {
    const current = state.views[roomId]
    if (!current?.loaded || current.holdRead || current.hasNewer) return
    clearTimeout(readTimers.get(roomId))
    readTimers.set(
      roomId,
      setTimeout(() => {
        readTimers.delete(roomId)
        void markRead(roomId)
      }, READ_DEBOUNCE_MS),
    )
  }

  async function markRead(roomId: string) {
    const room = state.rooms[roomId]
    const current = state.views[roomId]
    if (!room || !current || current.holdRead) return
    // Replies take the room's numbers too: the replies on screen count as read, and with
    // the socket up (the list is current) so does everything up to the room's last number,
    // or a reply in a thread nobody opened would keep the room unread for good.
    const replies = Object.values(state.threads).flatMap((thread) => thread.items.filter((m) => m.room_id === roomId))
    const live = state.connection === 'live' ? room.last_seq : 0
    const seq = Math.max(maxSeq(current.items), maxSeq(replies), live, 0)
    if (seq <= (state.readSeq[roomId] ?? 0) && room.unread_count === 0) return
    state.readSeq[roomId] = Math.max(state.readSeq[roomId] ?? 0, seq)
    room.unread_count = Math.max(0, room.last_seq - state.readSeq[roomId]!)
    if (room.unread_count === 0) room.unread_mentions = 0
    try {
      const answer = await api.markRead(roomId, seq)
      if (answer && typeof answer === 'object' && answer.id === roomId) mergeRoom(answer)
    } catch {
      // The next view of the room tries again.
    }
    options.unreadChanged?.()
  }

  async function markUnread(target: Message) {
    const roomId = target.room_id
    const room = state.rooms[roomId]
    const current = state.views[roomId]
    try {
      const answer = await api.markUnread(roomId, target.seq)
      if (current) {
        current.holdRead = true
        current.dividerAfter = target.seq - 1
      }
      state.readSeq[roomId] = target.seq - 1
      if (answer && typeof answer === 'object' && answer.id === roomId) mergeRoom(answer)
      else if (room) room.unread_count = Math.max(0, room.last_seq - (target.seq - 1))
      options.unreadChanged?.()
    } catch (error) {
      say(message(error, 'It could not be marked unread.'))
    }
  }

  /**
   * Takes the hub's copy of a room. A realtime `room.updated` carries only the room's shared
   * fields (not this person's unread counts, role or mute), so what it leaves out is kept
   * and the unread count follows the known read marker.
   */
  function mergeRoom(room: Partial<Room> & { id: string }, fromFrame = false) {
    const before = state.rooms[room.id]
    const merged = { ...before, ...room } as Room
    state.rooms[room.id] = merged
    if (typeof room.unread_count === 'number' || typeof room.last_read_seq === 'number') {
      state.readSeq[room.id] = readMarker(merged)
    } else {
      merged.unread_count = Math.max(0, merged.last_seq - (state.readSeq[room.id] ?? merged.last_seq))
      merged.unread_mentions ??= 0
    }
    // A frame's room is as of now, not as of its own number: only REST reads place rooms.
    if (!fromFrame) noteRoom(merged)
  }

  // ---- rooms: create, mute, archive, members ----

  async function createRoom(body: NewRoom): Promise<Room> {
    const room = await api.createRoom(body)
    putRoom(room)
    await select(room.id)
    return room
  }

  async function setMuted(roomId: string, muted: boolean) {
    try {
      mergeRoom(await api.mute(roomId, muted))
      options.unreadChanged?.()
    } catch (error) {
      say(message(error, 'The room could not be muted.'))
    }
  }

  async function setArchived(roomId: string, archived: boolean) {
    try {
      mergeRoom(archived ? await api.archive(roomId) : await api.unarchive(roomId))
      options.unreadChanged?.()
    } catch (error) {
      say(message(error, archived ? 'The room could not be archived.' : 'The room could not be unarchived.'))
    }
  }

  async function updateRoom(roomId: string, body: { name?: string; topic?: string }) {
    mergeRoom(await api.updateRoom(roomId, body))
  }

  async function addMembers(roomId: string, userIds: string[]) {
    mergeRoom(await api.addMembers(roomId, userIds))
  }

  async function removeMember(roomId: string, userId: string) {
    const answer = await api.removeMember(roomId, userId)
    if (userId === me) {
      const room = state.rooms[roomId]
      // Leaving a public channel keeps it in the list; a private room goes.
      if (answer && typeof answer === 'object') mergeRoom(answer)
      else if (room) room.member_ids = room.member_ids.filter((id) => id !== me)
      if (room?.private) forgetRoom(roomId)
      return
    }
    if (answer && typeof answer === 'object') mergeRoom(answer)
    else {
      const room = state.rooms[roomId]
      if (room) room.member_ids = room.member_ids.filter((id) => id !== userId)
    }
  }

  function forgetRoom(roomId: string) {
    delete state.rooms[roomId]
    delete state.views[roomId]
    socket?.forget(roomId)
    if (state.roomId === roomId) {
      state.roomId = null
      state.threadId = null
    }
    options.unreadChanged?.()
  }

  // ---- typing ----

  function typing(roomId: string) {
    socket?.typing(roomId)
  }

  function typingIn(roomId: string): string[] {
    const now = nowMs()
    return Object.entries(state.typing[roomId] ?? {})
      .filter(([id, until]) => until > now && id !== me)
      .map(([id]) => nameOf(id))
  }

  function sweepTyping() {
    const now = nowMs()
    for (const [roomId, people] of Object.entries(state.typing)) {
      for (const [id, until] of Object.entries(people)) if (until <= now) delete people[id]
      if (Object.keys(people).length === 0) delete state.typing[roomId]
    }
  }

  // ---- realtime ----

  function notifyAbout(incoming: Message, room: Room) {
    if (!options.notify || !hidden() || room.muted || incoming.author_id === me || incoming.deleted) return
    const mentioned = incoming.mentions.includes(me) || incoming.mentions_room === true
    if (room.kind !== 'direct' && !mentioned) return
    const author = nameOf(incoming.author_id)
    const text = mentionsAsText(incoming.body, lookupName)
    options.notify({
      title: room.kind === 'direct' ? author : `${author} in #${roomName(room)}`,
      body: text.length > 140 ? `${text.slice(0, 139)}…` : text,
      roomId: room.id,
      tag: `chat-${incoming.id}`,
    })
  }

  function applyFrame(frame: ChatFrame) {
    const roomId = frame.room_id
    switch (frame.type) {
      case 'message.created':
      case 'message.updated': {
        const incoming = frame.data as Message
        if (!incoming || typeof incoming.id !== 'string') return
        const room = state.rooms[incoming.room_id]
        if (!room) {
          // A room this person was just added to: read the list again.
          void loadRooms()
          options.unreadChanged?.()
          return
        }
        if (incoming.author_id === me && incoming.client_id) queue.acknowledge(incoming.client_id)
        const known = findMessage(incoming.id) !== undefined
        upsert(incoming)
        if (frame.type === 'message.created' && !known && !incoming.parent_id) {
          room.last_seq = Math.max(room.last_seq, incoming.seq)
          room.last_message_at = incoming.created_at
          if (incoming.author_id === me) {
            state.readSeq[room.id] = Math.max(state.readSeq[room.id] ?? 0, incoming.seq)
          } else {
            room.unread_count = Math.max(0, room.last_seq - (state.readSeq[room.id] ?? 0))
            if (incoming.mentions.includes(me) || incoming.mentions_room) room.unread_mentions += 1
            const typists = state.typing[room.id]
            if (typists && incoming.author_id) delete typists[incoming.author_id]
            notifyAbout(incoming, room)
          }
          options.unreadChanged?.()
        }
        return
      }
      case 'room.updated': {
        const room = frame.data as Partial<Room> & { id?: string }
        if (!room || typeof room.id !== 'string') return
        if (!state.rooms[room.id]) {
          // Someone added this person to a room: its unread counts come with the list.
          void loadRooms()
        } else {
          mergeRoom(room as Partial<Room> & { id: string }, true)
        }
        options.unreadChanged?.()
        return
      }
      case 'room.removed':
        if (roomId) forgetRoom(roomId)
        return
      case 'read': {
        const data = frame.data as { last_read_seq?: number; unread_count?: number; unread_mentions?: number }
        const room = roomId ? state.rooms[roomId] : undefined
        if (!room || !roomId) return
        if (typeof data.last_read_seq === 'number') state.readSeq[roomId] = data.last_read_seq
        if (typeof data.unread_count === 'number') room.unread_count = data.unread_count
        if (typeof data.unread_mentions === 'number') room.unread_mentions = data.unread_mentions
        options.unreadChanged?.()
        return
      }
      case 'typing': {
        const userId = (frame.data as { user_id?: string })?.user_id
        if (!roomId || !userId || userId === me) return
        state.typing[roomId] = { ...(state.typing[roomId] ?? {}), [userId]: nowMs() + TYPING_MS }
        return
      }
      case 'presence':
        applyPresence(state.presence, frame.data)
        return
      case 'resync':
        if (roomId) void reloadRoom(roomId)
        else void reloadAll()
        return
      default:
        return
    }
  }

  // ---- presence ----

  function presenceOf(userId: string | null | undefined): PresenceStatus | undefined {
    return userId ? state.presence[userId] : undefined
  }

  /** A direct room's other person (oneself in one's own); none for a group or another kind. */
  function partnerOf(room: Room): string | undefined {
    if (room.kind !== 'direct') return undefined
    const others = room.member_ids.filter((id) => id !== me)
    return others.length > 1 ? undefined : (others[0] ?? me)
  }

  /** A direct room with one other person: theirs. */
  function roomPresence(room: Room): PresenceStatus | undefined {
    const partner = partnerOf(room)
    return partner === me ? undefined : presenceOf(partner)
  }

  /**
   * Tells the socket whose presence the page shows: the people of this person's direct
   * rooms first, then the directory (the hub takes the first 300).
   */
  function watchPresence() {
    const partners = Object.values(state.rooms)
      .filter((room) => room.kind === 'direct')
      .flatMap((room) => room.member_ids)
    socket?.watchPresence([...partners, ...Object.keys(state.users)].filter((id) => id !== me))
  }

  /** Without the socket: who is online, read like the rest (a hub without it answers 404). */
  async function loadPresence() {
    try {
      applyPresence(state.presence, await api.presence())
    } catch {
      // The dots stay as they were.
    }
  }

  async function reloadRoom(roomId: string) {
    try {
      mergeRoom(await api.room(roomId))
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        forgetRoom(roomId)
        return
      }
    }
    if (state.views[roomId]?.loaded) await loadLatest(roomId)
    if (state.threadId && state.roomId === roomId) await openThread(state.threadId)
    options.unreadChanged?.()
  }

  async function reloadAll() {
    await loadRooms()
    const roomId = state.roomId
    for (const id of Object.keys(state.views)) if (id !== roomId) delete state.views[id]
    if (roomId && state.rooms[roomId]) await loadLatest(roomId)
    if (state.threadId) await openThread(state.threadId)
    options.unreadChanged?.()
  }

  /**
   * Without the socket: the rooms' counts and the open room's new messages. With it, only
   * the list now and then: a public channel someone opens sends nothing to those not in it.
   */
  async function poll() {
    if (stopped || hidden()) return
    if (state.connection === 'live') {
      if (nowMs() - listReadAt >= LIST_EVERY_MS) await loadRooms()
      return
    }
    await Promise.all([loadRooms(), loadPresence()])
    const roomId = state.roomId
    const current = roomId ? state.views[roomId] : undefined
    const room = roomId ? state.rooms[roomId] : undefined
    if (roomId && current?.loaded && room && room.last_seq > maxSeq(current.items)) await loadNewer(roomId)
    if (state.threadId && roomId) await openThread(state.threadId)
  }

  function onOnline() {
    queue.retryFailed()
    void poll()
  }

  function onVisible() {
    away.update()
    if (!hidden()) void poll()
  }

  async function start() {
    stopped = false
    await Promise.all([loadUsers(), loadRooms()])
    if (options.socketUrl && (options.WebSocket || typeof WebSocket !== 'undefined')) {
      socket = new ChatSocket({
        ticket: async (resume) => (await api.realtimeTicket(resume)).ticket,
        url: options.socketUrl,
        WebSocket: options.WebSocket,
        delay: options.socketDelay,
        onFrame: applyFrame,
        onStatus: (status) => {
          const back = status === 'live' && wasLive
          if (status === 'live') wasLive = true
          state.connection = status
          if (status === 'live') away.reconnected()
          // Back after a break: the hub resumes each known room; the list itself (rooms
          // opened meanwhile) is read again.
          if (back) void loadRooms()
        },
      })
      for (const room of Object.values(state.rooms)) noteRoom(room)
      watchPresence()
      socket.start()
      away.update()
    } else {
      void loadPresence()
    }
    pollTimer = setInterval(() => void poll(), pollMs)
    typingTimer = setInterval(sweepTyping, 1000)
    if (typeof window !== 'undefined') {
      window.addEventListener('online', onOnline)
      document.addEventListener('visibilitychange', onVisible)
    }
  }

  function stop() {
    stopped = true
    socket?.close()
    socket = null
    clearInterval(pollTimer)
    clearInterval(typingTimer)
    clearTimeout(noticeTimer)
    away.stop()
    for (const timer of readTimers.values()) clearTimeout(timer)
    readTimers.clear()
    queue.dispose()
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', onOnline)
      document.removeEventListener('visibilitychange', onVisible)
    }
  }

  return {
    state,
    me,
    queue,
    nameOf,
    lookupName,
    roomName,
    start,
    stop,
    loadRooms,
    select,
    openAround,
    jumpToLatest,
    loadOlder,
    loadNewer,
    loadNext,
    refreshLinks,
    upload,
    openThread,
    send,
    outgoing,
    edit,
    remove,
    toggleReaction,
    seen,
    markRead,
    markUnread,
    createRoom,
    setMuted,
    setArchived,
    updateRoom,
    addMembers,
    removeMember,
    typing,
    typingIn,
    presenceOf,
    partnerOf,
    roomPresence,
    applyFrame,
    poll,
    dismissNotice() {
      state.notice = null
    },
  }
}

export type Chat = ReturnType<typeof createChat>
