import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Message, Room } from '../api/chat'
import { ApiError } from '../api/client'
import { FIXTURE_AT, startClockAt, TEST_NOW } from '../test/clock'
import { FakeWebSocket } from '../test/fakeWebSocket'
import { createChat, type ChatNotification, type ChatOptions } from './useChat'

function room(id: string, fields: Partial<Room> = {}): Room {
  return {
    id,
    kind: 'channel',
    name: id,
    topic: '',
    private: false,
    team_id: null,
    member_ids: ['me', 'ana'],
    last_seq: 2,
    event_seq: 10,
    unread_count: 0,
    unread_mentions: 0,
    archived: false,
    role: 'member',
    muted: false,
    ...fields,
  }
}

function message(roomId: string, seq: number, fields: Partial<Message> = {}): Message {
  return {
    id: `${roomId}-m${seq}`,
    room_id: roomId,
    seq,
    author_id: 'ana',
    body: `message ${seq}`,
    html: `<p>message ${seq}</p>`,
    client_id: `c${seq}`,
    parent_id: null,
    reply_count: 0,
    reactions: [],
    mentions: [],
    mentions_room: false,
    edited_at: null,
    deleted: false,
    created_at: FIXTURE_AT,
    ...fields,
  }
}

let rooms: Room[]
let notifications: ChatNotification[]
let hidden: boolean
let unreadChanged: number

function fakeApi() {
  return {
    rooms: vi.fn(async () => rooms.map((r) => ({ ...r }))),
    room: vi.fn(async (id: string) => ({ ...rooms.find((r) => r.id === id)! })),
    createRoom: vi.fn(),
    archive: vi.fn(),
    unarchive: vi.fn(),
    mute: vi.fn(),
    markRead: vi.fn(async (id: string, seq: number) => ({ ...rooms.find((r) => r.id === id)!, unread_count: 0, last_read_seq: seq })),
    markUnread: vi.fn(),
    addMembers: vi.fn(),
    removeMember: vi.fn(),
    messages: vi.fn(async (id: string) => ({ items: [message(id, 1), message(id, 2)], has_more: false })),
    send: vi.fn(),
    edit: vi.fn(),
    remove: vi.fn(),
    react: vi.fn(),
    unreact: vi.fn(),
    users: vi.fn(async () => ({ items: [{ id: 'ana', name: 'Ana', email: 'ana@x', avatar_url: null }], next_cursor: null })),
    realtimeTicket: vi.fn(async (_resume?: Record<string, number>) => ({ ticket: 't', expires_in: 60 })),
    updateRoom: vi.fn(),
    presence: vi.fn(async () => ({ online: ['ana'], away: [] })),
  }
}

async function started(extra: Partial<ChatOptions> = {}) {
  const api = fakeApi()
  const chat = createChat({
    api: api as unknown as ChatOptions['api'],
    me: 'me',
    socketUrl: (ticket) => `ws://hub.test/ws?ticket=${ticket}`,
    WebSocket: FakeWebSocket,
    notify: (n) => notifications.push(n),
    hidden: () => hidden,
    unreadChanged: () => {
      unreadChanged += 1
    },
    pollMs: 60_000,
    ...extra,
  })
  await chat.start()
  await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
  const ws = FakeWebSocket.last()
  ws.open()
  ws.frame('ready')
  return { chat, api, ws }
}

beforeEach(() => {
  FakeWebSocket.reset()
  rooms = [room('general'), room('dm', { kind: 'direct', name: null }), room('quiet', { muted: true, kind: 'direct', name: null })]
  notifications = []
  hidden = true
  unreadChanged = 0
})

afterEach(() => {
  vi.useRealTimers()
})

describe('createChat', () => {
  it('resumes each room from the event_seq the list gave', async () => {
    const { chat, api } = await started()
    expect(api.realtimeTicket).toHaveBeenCalledWith({ general: 10, dm: 10, quiet: 10 })
    expect(chat.state.connection).toBe('live')
    chat.stop()
  })

  it('notifies, in a hidden tab, of direct messages and mentions, never of muted rooms or one’s own', async () => {
    const { chat, ws } = await started()
    ws.frame('message.created', 'dm', 11, message('dm', 3, { body: 'hi <@me>' }))
    ws.frame('message.created', 'general', 11, message('general', 3, { body: 'just chatting' }))
    ws.frame('message.created', 'general', 12, message('general', 4, { body: 'look <@me>', mentions: ['me'] }))
    ws.frame('message.created', 'general', 13, message('general', 5, { body: 'all of you', mentions_room: true }))
    ws.frame('message.created', 'quiet', 11, message('quiet', 3))
    ws.frame('message.created', 'dm', 12, message('dm', 4, { author_id: 'me' }))
    expect(notifications.map((n) => [n.title, n.body, n.roomId])).toEqual([
      ['Ana', 'hi @unknown', 'dm'],
      ['Ana in #general', 'look @unknown', 'general'],
      ['Ana in #general', 'all of you', 'general'],
    ])
    // Unread counts follow, one's own message excepted.
    expect(chat.state.rooms.general!.unread_count).toBe(3)
    expect(chat.state.rooms.general!.unread_mentions).toBe(2)
    expect(chat.state.rooms.quiet!.unread_count).toBe(1)
    hidden = false
    ws.frame('message.created', 'dm', 13, message('dm', 5))
    expect(notifications).toHaveLength(3)
    expect(unreadChanged).toBeGreaterThan(0)
    chat.stop()
  })

  it('reads the list again for a room it did not know (just added), and forgets a removed one', async () => {
    const { chat, ws, api } = await started()
    rooms.push(room('new-dm', { kind: 'direct', name: null, unread_count: 1, last_seq: 1 }))
    ws.frame('message.created', 'new-dm', 1, message('new-dm', 1))
    await vi.waitFor(() => expect(chat.state.rooms['new-dm']?.unread_count).toBe(1))
    expect(api.rooms).toHaveBeenCalledTimes(2)
    await chat.select('general')
    ws.frame('room.removed', 'general', 11, {})
    expect(chat.state.rooms.general).toBeUndefined()
    expect(chat.state.roomId).toBeNull()
    chat.stop()
  })

  it('takes a room.updated without the person’s own fields, and reads the list for a room it did not know', async () => {
    const { chat, ws, api } = await started()
    expect(chat.state.rooms.general!.unread_count).toBe(0)
    // Renamed, and a message came meanwhile: shared fields only.
    ws.frame('room.updated', 'general', 11, { id: 'general', kind: 'channel', name: 'everyone', topic: 'hi', private: false, member_ids: ['me', 'ana'], last_seq: 3, event_seq: 11, archived: false })
    expect(chat.state.rooms.general!.name).toBe('everyone')
    expect(chat.state.rooms.general!.unread_count).toBe(1)
    expect(chat.state.rooms.general!.muted).toBe(false)
    expect(chat.state.rooms.general!.role).toBe('member')
    // The room in that frame is as of now (event_seq 12): the message frame 12 still counts.
    await chat.select('general')
    ws.frame('room.updated', 'general', 11, { ...chat.state.rooms.general, event_seq: 12, last_seq: 3 })
    ws.frame('message.created', 'general', 12, message('general', 3, { body: 'after the rename' }))
    expect(chat.state.views.general!.items.map((m) => m.body)).toContain('after the rename')
    ws.frame('room.updated', 'elsewhere', 1, { id: 'elsewhere', member_ids: ['me'] })
    await vi.waitFor(() => expect(api.rooms).toHaveBeenCalledTimes(2))
    chat.stop()
  })

  it('resumes only the rooms the person is in (not public channels they never joined)', async () => {
    rooms.push(room('lobby', { member_ids: ['ana'] }))
    const { chat, api } = await started()
    expect(Object.keys(api.realtimeTicket.mock.calls[0]![0]!).sort()).toEqual(['dm', 'general', 'quiet'])
    chat.stop()
  })

  it('keeps a message that arrives while the room’s first page is on its way', async () => {
    const { chat, ws, api } = await started()
    let answer!: (page: { items: Message[]; has_more: boolean }) => void
    api.messages.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)))
    const opening = chat.select('general')
    // The page was read before message 3 was stored; its frame comes first.
    ws.frame('message.created', 'general', 11, message('general', 3, { body: 'just now' }))
    answer({ items: [message('general', 1), message('general', 2)], has_more: false })
    await opening
    expect(chat.state.views.general!.items.map((m) => m.seq)).toEqual([1, 2, 3])
    chat.stop()
  })

  it('reloads a room on resync, and everything on a resync without a room', async () => {
    const { chat, ws, api } = await started()
    await chat.select('general')
    expect(api.messages).toHaveBeenCalledTimes(1)
    ws.frame('resync', 'general', null, {})
    await vi.waitFor(() => expect(api.messages).toHaveBeenCalledTimes(2))
    expect(api.room).toHaveBeenCalledWith('general')
    ws.frame('resync', null, null, {})
    await vi.waitFor(() => expect(api.rooms).toHaveBeenCalledTimes(2))
    await vi.waitFor(() => expect(api.messages).toHaveBeenCalledTimes(3))
    chat.stop()
  })

  it('marks read once after a pause, up to the latest message on screen', async () => {
    rooms[0] = room('general', { unread_count: 2 })
    const { chat, api } = await started()
    vi.useFakeTimers()
    await chat.select('general')
    chat.seen('general')
    chat.seen('general')
    chat.seen('general')
    await vi.advanceTimersByTimeAsync(1000)
    expect(api.markRead).toHaveBeenCalledTimes(1)
    expect(api.markRead).toHaveBeenCalledWith('general', 2)
    expect(chat.state.rooms.general!.unread_count).toBe(0)
    chat.stop()
  })

  it('with the socket up, marks read up to the room’s last number (replies in threads nobody opened)', async () => {
    rooms[0] = room('general', { last_seq: 5, unread_count: 3 })
    const { chat, api } = await started()
    vi.useFakeTimers()
    await chat.select('general')
    chat.seen('general')
    await vi.advanceTimersByTimeAsync(1000)
    expect(api.markRead).toHaveBeenCalledWith('general', 5)
    chat.stop()
  })

  it('opens at the first unread message even when it is pages back', async () => {
    rooms[0] = room('general', { last_seq: 120, unread_count: 100 })
    const { chat, api } = await started()
    api.messages.mockImplementation(async (id: string, query: { before?: number } = {}) => {
      const end = (query.before ?? 121) - 1
      const items = Array.from({ length: 50 }, (_, i) => message(id, end - 49 + i)).filter((m) => m.seq > 0)
      return { items, has_more: items[0]!.seq > 1 }
    })
    await chat.select('general')
    expect(chat.state.views.general!.dividerAfter).toBe(20)
    // The latest page (71–120), then one older (21–70), which holds the first unread.
    expect(chat.state.views.general!.items[0]!.seq).toBe(21)
    expect(api.messages).toHaveBeenCalledTimes(2)
    chat.stop()
  })

  it('reads the room list again when the socket comes back after a break', async () => {
    vi.useFakeTimers()
    const { chat, api, ws } = await started({ socketDelay: () => 1000 })
    expect(api.rooms).toHaveBeenCalledTimes(1)
    ws.drop()
    expect(chat.state.connection).toBe('offline')
    await vi.advanceTimersByTimeAsync(1000)
    const again = FakeWebSocket.last()
    expect(again).not.toBe(ws)
    again.open()
    again.frame('ready')
    expect(chat.state.connection).toBe('live')
    await vi.advanceTimersByTimeAsync(0)
    expect(api.rooms).toHaveBeenCalledTimes(2)
    chat.stop()
  })

  it('with the socket up, still reads the room list every minute (public channels)', async () => {
    vi.useFakeTimers()
    hidden = false
    const { chat, api } = await started({ pollMs: 15_000 })
    expect(api.rooms).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(45_000)
    expect(api.rooms).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(15_000)
    expect(api.rooms).toHaveBeenCalledTimes(2)
    expect(api.messages).not.toHaveBeenCalled()
    chat.stop()
  })

  it('keeps who is online from the socket, for direct rooms with one other person', async () => {
    rooms.push(room('group', { kind: 'direct', name: null, member_ids: ['me', 'ana', 'bia'] }))
    const { chat, ws } = await started()
    ws.frame('presence', null, null, { online: ['ana', 'me'], away: ['bia'] })
    expect(chat.state.presence).toEqual({ ana: 'online', me: 'online', bia: 'away' })
    expect(chat.roomPresence(chat.state.rooms.dm!)).toBe('online')
    expect(chat.roomPresence(chat.state.rooms.general!)).toBeUndefined()
    expect(chat.roomPresence(chat.state.rooms.group!)).toBeUndefined()
    ws.frame('presence', null, null, { user_id: 'ana', status: 'away' })
    expect(chat.presenceOf('ana')).toBe('away')
    ws.frame('presence', null, null, { changes: [{ user_id: 'ana', status: 'offline' }] })
    expect(chat.roomPresence(chat.state.rooms.dm!)).toBeUndefined()
    chat.stop()
  })

  it('tells the hub when the tab has been hidden a while, and when it is back', async () => {
    vi.useFakeTimers()
    hidden = false
    const { chat, ws } = await started()
    hidden = true
    document.dispatchEvent(new Event('visibilitychange'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(ws.sent).toContainEqual({ type: 'presence', status: 'away' })
    hidden = false
    document.dispatchEvent(new Event('visibilitychange'))
    expect(ws.sent.at(-1)).toEqual({ type: 'presence', status: 'online' })
    chat.stop()
  })

  it('without the socket, reads who is online with the rest', async () => {
    const api = fakeApi()
    const chat = createChat({ api: api as unknown as ChatOptions['api'], me: 'me', hidden: () => false })
    await chat.start()
    await vi.waitFor(() => expect(chat.presenceOf('ana')).toBe('online'))
    chat.stop()
  })

  it('without the socket, reads the rooms and the open room’s new messages every few seconds', async () => {
    vi.useFakeTimers()
    const api = fakeApi()
    const chat = createChat({ api: api as unknown as ChatOptions['api'], me: 'me', hidden: () => false, pollMs: 15_000 })
    await chat.start()
    await chat.select('general')
    rooms[0] = room('general', { last_seq: 3, unread_count: 1 })
    api.messages.mockImplementation(async (id: string) => ({ items: [message(id, 3)], has_more: false }))
    await vi.advanceTimersByTimeAsync(15_000)
    expect(api.rooms).toHaveBeenCalledTimes(2)
    expect(api.messages).toHaveBeenLastCalledWith('general', { after: 2, limit: 50 })
    expect(chat.state.views.general!.items.map((m) => m.seq)).toEqual([1, 2, 3])
    chat.stop()
  })

  it('opens a room at a search hit: the page around it, newer pages on request, the latest on jumping', async () => {
    rooms[0] = room('general', { last_seq: 200, unread_count: 5 })
    const { chat, api, ws } = await started()
    vi.useFakeTimers()
    const range = (id: string, from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => message(id, from + i))
    api.messages.mockImplementation(async (id: string, query: { around?: string; after?: number } = {}) => {
      if (query.around) return { items: range(id, 75, 124), has_more: true, has_older: true, has_newer: true }
      if (query.after !== undefined) {
        const to = Math.min(201, query.after + 50)
        return { items: range(id, query.after + 1, to), has_more: to < 201, has_older: true, has_newer: to < 201 }
      }
      return { items: range(id, 152, 201), has_more: true, has_older: true, has_newer: false }
    })
    await chat.openAround('general', 'general-m100')
    const view = chat.state.views.general!
    expect(api.messages).toHaveBeenLastCalledWith('general', { around: 'general-m100', limit: 50 })
    expect(chat.state.roomId).toBe('general')
    expect(chat.state.focus).toMatchObject({ messageId: 'general-m100', anchorId: 'general-m100' })
    expect([view.items[0]!.seq, view.items.at(-1)!.seq, view.hasOlder, view.hasNewer]).toEqual([75, 124, true, true])
    expect(view.dividerAfter).toBeNull()

    // What arrives live lies past the window: it waits for the paging, with no gap.
    ws.frame('message.created', 'general', 300, message('general', 201))
    expect(view.items.at(-1)!.seq).toBe(124)
    // Reading old messages does not mark the room read.
    chat.seen('general')
    await vi.advanceTimersByTimeAsync(1000)
    expect(api.markRead).not.toHaveBeenCalled()

    await chat.loadNext('general')
    expect(api.messages).toHaveBeenLastCalledWith('general', { after: 124, limit: 50 })
    expect([view.items.at(-1)!.seq, view.hasNewer]).toEqual([174, true])

    await chat.jumpToLatest('general')
    expect([view.items[0]!.seq, view.items.at(-1)!.seq, view.hasNewer]).toEqual([152, 201, false])
    expect(chat.state.focus).toBeNull()
    chat.seen('general')
    await vi.advanceTimersByTimeAsync(1000)
    expect(api.markRead).toHaveBeenCalledWith('general', 201)
    chat.stop()
  })

  it('opens a reply around its thread with the thread open, and says so when the message is gone', async () => {
    const { chat, api } = await started()
    const reply = message('general', 1000, { id: 'reply-1', parent_id: 'general-m2' })
    api.messages.mockImplementation(async (id: string, query: { around?: string; parent_id?: string } = {}) => {
      if (query.parent_id) return { items: [reply], has_more: false }
      if (query.around === 'gone') throw new ApiError({ type: 'about:blank', title: 'x', status: 404, detail: '', code: 'not_found' })
      return { items: [message(id, 1), message(id, 2)], has_more: false, has_older: false, has_newer: false }
    })
    await chat.openAround('general', 'reply-1', 'general-m2')
    expect(api.messages).toHaveBeenCalledWith('general', { around: 'general-m2', limit: 50 })
    expect(chat.state.threadId).toBe('general-m2')
    expect(chat.state.threads['general-m2']!.items.map((m) => m.id)).toEqual(['reply-1'])
    expect(chat.state.focus).toMatchObject({ messageId: 'reply-1', anchorId: 'general-m2' })

    await chat.openAround('general', 'gone')
    expect(chat.state.notice).toBe('That message is no longer there.')
    expect(chat.state.focus).toBeNull()
    expect(chat.state.views.general!.items.map((m) => m.seq)).toEqual([1, 2])
    chat.stop()
  })

  it('reads a message again for fresh file links when one fails, at most once a minute', async () => {
    const { chat, api } = await started()
    await chat.select('general')
    const old = { id: 'att-1', filename: 'a.png', content_type: 'image/png', size: 1, kind: 'image', url: 'u?signature=old' }
    const fresh = { ...old, url: 'u?signature=new' }
    chat.state.views.general!.items = [message('general', 1), message('general', 2, { attachments: [old] })]
    api.messages.mockImplementation(async (id: string) => ({
      items: [message(id, 2, { attachments: [fresh] }), message(id, 3)],
      has_more: false,
    }))
    const target = chat.state.views.general!.items[1]!
    await chat.refreshLinks(target)
    expect(api.messages).toHaveBeenLastCalledWith('general', { around: 'general-m2', limit: 20 })
    expect(chat.state.views.general!.items[1]!.attachments![0]!.url).toBe('u?signature=new')
    // Only what was shown is replaced: the page's other messages are not added.
    expect(chat.state.views.general!.items.map((m) => m.seq)).toEqual([1, 2])
    const calls = api.messages.mock.calls.length
    await chat.refreshLinks(target)
    expect(api.messages.mock.calls.length).toBe(calls)
    startClockAt(TEST_NOW + 120_000)
    await chat.refreshLinks(target)
    expect(api.messages.mock.calls.length).toBe(calls + 1)
    chat.stop()
  })
})
