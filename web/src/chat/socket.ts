/**
 * The team chat's realtime client (docs/chat.md, "Realtime"): a WebSocket opened with a
 * one-use ticket that tells the hub where each known room resumes (the last `event_seq` the
 * page has; the hub replays what was missed before anything live), hands on every frame once (a room's frames are de-duplicated by their
 * `seq`, so a frame replayed on resume never shows twice), sends typing hints at most every
 * few seconds and whether the page is hidden (presence), and reconnects with exponential backoff and jitter (1 s up to 60 s), asking
 * for a fresh ticket each time.
 */
import { nowMs } from '../utils/clock'

export type FrameType =
  | 'ready'
  | 'message.created'
  | 'message.updated'
  | 'room.updated'
  | 'room.removed'
  | 'read'
  | 'typing'
  | 'presence'
  | 'resync'
  | 'board'
  | 'account'
  | 'end'
  | (string & {})

export interface ChatFrame<T = unknown> {
  type: FrameType
  room_id: string | null
  seq: number | null
  data: T
}

export type SocketStatus = 'connecting' | 'live' | 'offline'

/** The part of the browser's WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent) => void) | null
  onclose: ((event: CloseEvent) => void) | null
  onerror: ((event: Event) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type SocketConstructor = new (url: string) => SocketLike

export interface ChatSocketOptions {
  /** A one-use ticket (`POST /accounts/{id}/realtime/tickets`) that resumes the rooms after these numbers. */
  ticket(resume: Record<string, number>): Promise<string>
  /** The socket's URL for a ticket. */
  url(ticket: string): string
  /** Every frame, once, in the order the hub sent them. */
  onFrame(frame: ChatFrame): void
  onStatus?(status: SocketStatus): void
  /** For tests. */
  WebSocket?: SocketConstructor
  /** Milliseconds before reconnection attempt `attempt` (1-based). */
  delay?(attempt: number): number
  /** Least milliseconds between two typing hints for one room (default 3 s). */
  typingEveryMs?: number
}

const OPEN = 1
export const MAX_DELAY_MS = 60_000

/** 1 s, 2 s, 4 s… up to 60 s, each ±25 % so that clients of a restarted hub spread out. */
export function socketDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.max(0, attempt - 1))
  return Math.min(MAX_DELAY_MS, Math.round(base * (0.75 + random() * 0.5)))
}

function parseFrame(data: unknown): ChatFrame | null {
  if (typeof data !== 'string') return null
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const frame = value as Record<string, unknown>
  if (typeof frame.type !== 'string') return null
  return {
    type: frame.type,
    room_id: typeof frame.room_id === 'string' ? frame.room_id : null,
    seq: typeof frame.seq === 'number' && Number.isFinite(frame.seq) ? frame.seq : null,
    data: frame.data ?? {},
  }
}

/** The WebSocket URL of the hub's realtime endpoint under `apiBase` (http → ws). */
export function socketUrl(apiBase: string, ticket: string, location: { href: string } = window.location): string {
  const url = new URL(`${apiBase}/realtime/ws`, location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = new URLSearchParams({ ticket }).toString()
  return url.href
}

/**
 * What a room has delivered: every frame up to `floor`, and the ones in `ahead` beyond it.
 * Frames come in order from the hub (its ticket's replay goes before anything live, and it
 * fetches a gap before going on), but a page should not trust that blindly: numbers above a
 * gap are remembered one by one and the next resume asks again from the gap.
 */
interface Delivered {
  floor: number
  ahead: Set<number>
}

/** A room that skips numbers for good (events not meant for this person) stops growing here. */
const AHEAD_MAX = 500

export class ChatSocket {
  private readonly options: ChatSocketOptions
  private readonly seen = new Map<string, Delivered>()
  private readonly typingSent = new Map<string, number>()
  /** Who the page shows the presence of (sorted). */
  private watched: string[] = []
  private socket: SocketLike | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private attempt = 0
  private closed = true
  status: SocketStatus = 'offline'

  constructor(options: ChatSocketOptions) {
    this.options = options
  }

  /** Connects (and keeps reconnecting until `close()`). */
  start() {
    if (!this.closed) return
    this.closed = false
    void this.connect()
  }

  /** Stops for good. */
  close() {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const socket = this.socket
    this.socket = null
    if (socket) {
      socket.onclose = null
      socket.onmessage = null
      socket.onerror = null
      socket.onopen = null
      socket.close(1000)
    }
    this.setStatus('offline')
  }

  /**
   * The page has a room as of `eventSeq` (a REST read): frames up to it are already in what
   * it shows, and a reconnect resumes after it. While the socket is live its own frames
   * say where a room is: a REST answer can be ahead of frames still on their way (the
   * room's number counts every event, and a message's frame may not have arrived yet), so
   * it only places rooms the socket has not heard of.
   */
  note(roomId: string, eventSeq: number | null | undefined) {
    if (typeof eventSeq !== 'number') return
    if (this.status === 'live' && this.seen.has(roomId)) return
    const room = this.seen.get(roomId)
    if (!room) {
      this.seen.set(roomId, { floor: eventSeq, ahead: new Set() })
      return
    }
    if (eventSeq <= room.floor) return
    room.floor = eventSeq
    for (const seq of room.ahead) if (seq <= eventSeq) room.ahead.delete(seq)
    this.advance(room)
  }

  /** Moves the floor over the numbers that now follow it without a gap. */
  private advance(room: Delivered) {
    while (room.ahead.has(room.floor + 1)) {
      room.floor += 1
      room.ahead.delete(room.floor)
    }
    if (room.ahead.size > AHEAD_MAX) {
      room.floor = Math.max(...room.ahead)
      room.ahead.clear()
    }
  }

  /** Whether a room frame numbered `seq` is new; records it if so. */
  private fresh(roomId: string, seq: number): boolean {
    const room = this.seen.get(roomId)
    if (!room) {
      // Nothing known before it (a room opened since the page read the list): from here.
      this.seen.set(roomId, { floor: seq, ahead: new Set() })
      return true
    }
    if (seq <= room.floor || room.ahead.has(seq)) return false
    if (seq === room.floor + 1) {
      room.floor = seq
      this.advance(room)
    } else {
      room.ahead.add(seq)
      this.advance(room)
    }
    return true
  }

  /** The room is gone for this person: it is no longer resumed. */
  forget(roomId: string) {
    this.seen.delete(roomId)
  }

  /** A reload of the room is coming: its next frames count from scratch. */
  reset(roomId: string) {
    this.seen.delete(roomId)
  }

  /** Where each room resumes from: the last number before its first gap. */
  positions(): Record<string, number> {
    return Object.fromEntries([...this.seen].map(([roomId, room]) => [roomId, room.floor]))
  }

  /** Tells the room that this person is typing, at most once every few seconds; false if not sent. */
  typing(roomId: string): boolean {
    const every = this.options.typingEveryMs ?? 3000
    const now = nowMs()
    if (now - (this.typingSent.get(roomId) ?? -Infinity) < every) return false
    if (!this.sendFrame({ type: 'typing', room_id: roomId })) return false
    this.typingSent.set(roomId, now)
    return true
  }

  /**
   * The people whose presence the page shows (the first 300): the hub sends who of them is
   * online now and then their changes, and nothing of anyone else. Kept, and sent again on
   * every reconnection.
   */
  watchPresence(userIds: string[]) {
    const ids = [...new Set(userIds)].slice(0, 300).sort()
    if (ids.length === this.watched.length && ids.every((id, i) => id === this.watched[i])) return
    this.watched = ids
    this.sendFrame({ type: 'presence_watch', user_ids: ids })
  }

  /** Tells the hub this page is hidden (`away`) or shown again (`online`); false if not sent. */
  presence(status: 'online' | 'away'): boolean {
    return this.sendFrame({ type: 'presence', status })
  }

  /** The message was sent: the next keystroke in the room starts a new typing hint. */
  typed(roomId: string) {
    this.typingSent.delete(roomId)
  }

  private sendFrame(frame: Record<string, unknown>): boolean {
    const socket = this.socket
    if (!socket || socket.readyState !== OPEN || this.status !== 'live') return false
    try {
      socket.send(JSON.stringify(frame))
      return true
    } catch {
      return false
    }
  }

  private setStatus(status: SocketStatus) {
    if (this.status === status) return
    this.status = status
    this.options.onStatus?.(status)
  }

  private retry() {
    this.socket = null
    if (this.closed) return
    this.setStatus('offline')
    this.attempt += 1
    const delay = (this.options.delay ?? socketDelay)(this.attempt)
    this.timer = setTimeout(() => void this.connect(), delay)
  }

  private async connect() {
    this.timer = null
    if (this.closed) return
    this.setStatus('connecting')
    let ticket: string
    try {
      ticket = await this.options.ticket(this.positions())
    } catch {
      this.retry()
      return
    }
    if (this.closed) return
    const Socket = this.options.WebSocket ?? (globalThis.WebSocket as unknown as SocketConstructor | undefined)
    if (!Socket) {
      this.closed = true
      this.setStatus('offline')
      return
    }
    let socket: SocketLike
    try {
      socket = new Socket(this.options.url(ticket))
    } catch {
      this.retry()
      return
    }
    this.socket = socket
    socket.onmessage = (event) => {
      if (this.socket !== socket) return
      const frame = parseFrame(event.data)
      if (frame) this.receive(frame)
    }
    socket.onerror = () => {
      // A close always follows; the reconnection starts there.
    }
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.retry()
    }
  }

  private receive(frame: ChatFrame) {
    if (frame.type === 'ready') {
      this.attempt = 0
      this.setStatus('live')
      // From here on frames may be sent: the people watched now, whenever they were named.
      if (this.watched.length) this.sendFrame({ type: 'presence_watch', user_ids: this.watched })
    }
    if (frame.type === 'resync' && frame.room_id && frame.seq !== null) {
      // Too far behind: the room is read again as of this number, and goes on from it.
      this.seen.set(frame.room_id, { floor: frame.seq, ahead: new Set() })
    } else if (frame.room_id && frame.seq !== null && !this.fresh(frame.room_id, frame.seq)) {
      return
    }
    if (frame.type === 'room.removed' && frame.room_id) this.seen.delete(frame.room_id)
    this.options.onFrame(frame)
  }
}
