import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeWebSocket } from '../test/fakeWebSocket'
import { ChatSocket, MAX_DELAY_MS, socketDelay, socketUrl, type ChatFrame } from './socket'

let frames: ChatFrame[]
let statuses: string[]
let tickets: number
/** What each ticket was asked to resume. */
let resumed: Record<string, number>[]

function connect(
  options: Partial<ConstructorParameters<typeof ChatSocket>[0]> = {},
  before: (socket: ChatSocket) => void = () => {},
) {
  const socket = new ChatSocket({
    ticket: async (resume) => {
      resumed.push(resume)
      return `t${++tickets}`
    },
    url: (ticket) => `ws://hub.test/api/v1/realtime/ws?ticket=${ticket}`,
    onFrame: (frame) => frames.push(frame),
    onStatus: (status) => statuses.push(status),
    WebSocket: FakeWebSocket,
    delay: (attempt) => attempt * 1000,
    ...options,
  })
  before(socket)
  socket.start()
  return socket
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  frames = []
  statuses = []
  tickets = 0
  resumed = []
})

afterEach(() => {
  vi.useRealTimers()
})

describe('ChatSocket', () => {
  it('opens with a fresh ticket that resumes every room from its last event_seq', async () => {
    const socket = connect({}, (socket) => {
      socket.note('room-a', 57)
      socket.note('room-b', 3)
      socket.note('room-a', 40) // never backwards
    })
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    expect(ws.url).toBe('ws://hub.test/api/v1/realtime/ws?ticket=t1')
    expect(resumed).toEqual([{ 'room-a': 57, 'room-b': 3 }])
    ws.open()
    expect(ws.sent).toEqual([])
    ws.frame('ready', null, null, { user_id: 'me', account_id: 'acc' })
    expect(statuses).toEqual(['connecting', 'live'])
    expect(frames.map((f) => f.type)).toEqual(['ready'])
    socket.close()
    expect(ws.closedWith).toBe(1000)
  })

  it('hands on each room frame once, by (room_id, seq)', async () => {
    const socket = connect()
    socket.note('room-a', 5)
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    ws.open()
    ws.frame('ready')
    ws.frame('message.created', 'room-a', 5, { id: 'old' }) // already in the page
    ws.frame('message.created', 'room-a', 6, { id: 'm6' })
    ws.frame('message.created', 'room-a', 6, { id: 'm6' }) // replayed
    ws.frame('message.updated', 'room-b', 1, { id: 'b1' })
    ws.frame('typing', 'room-a', null, { user_id: 'ana' })
    ws.frame('typing', 'room-a', null, { user_id: 'ana' }) // ephemeral: not de-duplicated
    ws.frame('message.created', 'room-a', 7, { id: 'm7' })
    ws.onmessage?.({ data: 'not json' } as MessageEvent)
    expect(frames.map((f) => `${f.type}:${f.room_id ?? ''}:${f.seq ?? ''}`)).toEqual([
      'ready::',
      'message.created:room-a:6',
      'message.updated:room-b:1',
      'typing:room-a:',
      'typing:room-a:',
      'message.created:room-a:7',
    ])
    expect(socket.positions()).toEqual({ 'room-a': 7, 'room-b': 1 })
    socket.close()
  })

  it('reports the page hidden or shown only while live', async () => {
    const socket = connect()
    expect(socket.presence('away')).toBe(false)
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    ws.open()
    ws.frame('ready')
    expect(socket.presence('away')).toBe(true)
    expect(socket.presence('online')).toBe(true)
    expect(ws.sent).toEqual([
      { type: 'presence', status: 'away' },
      { type: 'presence', status: 'online' },
    ])
    ws.frame('presence', null, null, { user_id: 'ana', status: 'online' })
    expect(frames.map((f) => f.type)).toEqual(['ready', 'presence'])
    socket.close()
  })

  it('reconnects with backoff and a new ticket, resuming after what it saw', async () => {
    const socket = connect()
    socket.note('room-a', 1)
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const first = FakeWebSocket.last()
    first.open()
    first.frame('ready')
    first.frame('message.created', 'room-a', 2, { id: 'm2' })
    first.drop()
    expect(statuses.at(-1)).toBe('offline')
    await vi.advanceTimersByTimeAsync(999)
    expect(FakeWebSocket.opened).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeWebSocket.opened).toHaveLength(2)
    const second = FakeWebSocket.last()
    expect(second.url).toContain('ticket=t2')
    // It fails before it is ready: the next wait is longer.
    second.drop()
    await vi.advanceTimersByTimeAsync(1999)
    expect(FakeWebSocket.opened).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    const third = FakeWebSocket.last()
    expect(third.url).toContain('ticket=t3')
    expect(resumed.at(-1)).toEqual({ 'room-a': 2 })
    third.open()
    expect(third.sent).toEqual([])
    third.frame('ready')
    // Ready resets the backoff.
    third.frame('end', null, null, { code: 'session_ended' })
    third.drop(1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(FakeWebSocket.opened).toHaveLength(4)
    socket.close()
  })

  it('retries when the ticket cannot be had, and stops for good on close', async () => {
    let fail = true
    const socket = connect({
      ticket: async () => {
        if (fail) throw new Error('offline')
        return 'ok'
      },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeWebSocket.opened).toHaveLength(0)
    fail = false
    await vi.advanceTimersByTimeAsync(1000)
    expect(FakeWebSocket.opened).toHaveLength(1)
    socket.close()
    FakeWebSocket.last().drop()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(FakeWebSocket.opened).toHaveLength(1)
  })

  it('sends typing at most every three seconds per room, only while live', async () => {
    vi.setSystemTime(new Date('2026-11-28T14:00:00Z'))
    const socket = connect()
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    expect(socket.typing('room-a')).toBe(false) // not open yet
    ws.open()
    ws.frame('ready')
    expect(socket.typing('room-a')).toBe(true)
    expect(socket.typing('room-a')).toBe(false)
    expect(socket.typing('room-b')).toBe(true)
    vi.advanceTimersByTime(3000)
    expect(socket.typing('room-a')).toBe(true)
    // Sent: the next message's first keystroke says so again at once.
    socket.typed('room-a')
    expect(socket.typing('room-a')).toBe(true)
    expect(ws.sent).toEqual([
      { type: 'typing', room_id: 'room-a' },
      { type: 'typing', room_id: 'room-b' },
      { type: 'typing', room_id: 'room-a' },
      { type: 'typing', room_id: 'room-a' },
    ])
    socket.close()
  })

  it('keeps the frames that fill a gap after a later one, and resumes from the gap', async () => {
    const socket = connect()
    socket.note('room-a', 5)
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    ws.open()
    ws.frame('ready')
    // 8 comes before 6 and 7 (late announcements); they follow, and 8 again.
    ws.frame('message.created', 'room-a', 8, { id: 'm8' })
    expect(socket.positions()).toEqual({ 'room-a': 5 })
    ws.frame('message.created', 'room-a', 6, { id: 'm6' })
    ws.frame('message.created', 'room-a', 7, { id: 'm7' })
    ws.frame('message.created', 'room-a', 8, { id: 'm8' })
    ws.frame('message.created', 'room-a', 9, { id: 'm9' })
    expect(frames.filter((f) => f.room_id).map((f) => f.seq)).toEqual([8, 6, 7, 9])
    expect(socket.positions()).toEqual({ 'room-a': 9 })
    // Too far behind: a resync as of 40, and on from there.
    ws.frame('resync', 'room-a', 40, {})
    ws.frame('message.updated', 'room-a', 40, { id: 'old' })
    ws.frame('message.updated', 'room-a', 41, { id: 'm41' })
    expect(frames.slice(-2).map((f) => `${f.type}:${f.seq}`)).toEqual(['resync:40', 'message.updated:41'])
    // A room first heard of live starts from its first frame.
    ws.frame('room.updated', 'room-new', 3, { id: 'room-new' })
    ws.frame('room.updated', 'room-new', 3, { id: 'room-new' })
    expect(frames.filter((f) => f.room_id === 'room-new')).toHaveLength(1)
    socket.close()
  })

  it('while live, takes REST positions only for rooms it has not heard of', async () => {
    const socket = connect()
    socket.note('room-a', 2)
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    ws.open()
    ws.frame('ready')
    // A read marker's answer says the room is at 3 while frame 3 is still on its way.
    socket.note('room-a', 3)
    ws.frame('message.created', 'room-a', 3, { id: 'm3' })
    expect(frames.map((f) => f.seq)).toEqual([null, 3])
    socket.note('room-b', 7)
    expect(socket.positions()).toEqual({ 'room-a': 3, 'room-b': 7 })
    socket.close()
  })

  it('asks for the presence of the people the page shows, again on each reconnection', async () => {
    const socket = connect()
    socket.watchPresence(['u-2', 'u-1', 'u-2'])
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const first = FakeWebSocket.last()
    first.open()
    // Named again between the connection's opening and its ready: the latest list goes.
    socket.watchPresence(['u-2', 'u-1'])
    socket.watchPresence(['u-1', 'u-2', 'u-0'])
    expect(first.sent).toEqual([])
    first.frame('ready')
    expect(first.sent).toEqual([{ type: 'presence_watch', user_ids: ['u-0', 'u-1', 'u-2'] }])
    socket.watchPresence(['u-1', 'u-2'])
    expect(first.sent.slice(1)).toEqual([{ type: 'presence_watch', user_ids: ['u-1', 'u-2'] }])
    socket.watchPresence(['u-1', 'u-2']) // the same people: nothing sent
    socket.watchPresence(['u-3', 'u-1', 'u-2'])
    expect(first.sent.slice(2)).toEqual([{ type: 'presence_watch', user_ids: ['u-1', 'u-2', 'u-3'] }])
    // The first 300 in the order given (a page's own direct rooms first) are kept.
    const many = Array.from({ length: 301 }, (_, i) => `p-${String(i).padStart(3, '0')}`)
    socket.watchPresence(many.slice().reverse())
    const kept = first.sent.at(-1) as { user_ids: string[] }
    expect(kept.user_ids).toHaveLength(300)
    expect(kept.user_ids).not.toContain('p-000')
    first.drop()
    await vi.advanceTimersByTimeAsync(1000)
    const second = FakeWebSocket.last()
    second.open()
    second.frame('ready')
    expect(second.sent).toEqual([kept])
    socket.close()
  })

  it('forgets a room it was removed from', async () => {
    const socket = connect()
    socket.note('room-a', 3)
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    ws.open()
    ws.frame('room.removed', 'room-a', 4)
    expect(frames.map((f) => f.type)).toEqual(['room.removed'])
    expect(socket.positions()).toEqual({})
    socket.close()
  })
})

describe('socketDelay', () => {
  it('doubles from 1 s to 60 s, with ±25 % jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => socketDelay(n, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ])
    expect(socketDelay(1, () => 0)).toBe(750)
    expect(socketDelay(1, () => 1)).toBe(1250)
    expect(socketDelay(20, () => 1)).toBe(MAX_DELAY_MS)
  })
})

describe('socketUrl', () => {
  it('turns the API base into a ws or wss URL with the ticket', () => {
    expect(socketUrl('/api/v1', 'a b', { href: 'http://hub.test/chat' })).toBe('ws://hub.test/api/v1/realtime/ws?ticket=a+b')
    expect(socketUrl('/hub/api/v1', 'x', { href: 'https://hub.test/hub/embedded/chat' })).toBe(
      'wss://hub.test/hub/api/v1/realtime/ws?ticket=x',
    )
  })
})
