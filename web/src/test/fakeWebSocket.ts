/** A WebSocket the test drives by hand: `FakeWebSocket.opened` lists every one made. */
import type { SocketLike } from '../chat/socket'

export class FakeWebSocket implements SocketLike {
  static opened: FakeWebSocket[] = []
  readonly url: string
  readyState = 0
  sent: unknown[] = []
  closedWith: number | null = null
  onopen: ((event: Event) => void) | null = null
  onmessage: ((event: MessageEvent) => void) | null = null
  onclose: ((event: CloseEvent) => void) | null = null
  onerror: ((event: Event) => void) | null = null

  constructor(url: string) {
    this.url = url
    FakeWebSocket.opened.push(this)
  }

  static reset() {
    FakeWebSocket.opened = []
  }

  static last(): FakeWebSocket {
    const socket = FakeWebSocket.opened[FakeWebSocket.opened.length - 1]
    if (!socket) throw new Error('no socket opened')
    return socket
  }

  /** The server accepts the upgrade. */
  open() {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }

  /** The server sends a frame. */
  frame(type: string, roomId: string | null = null, seq: number | null = null, data: unknown = {}) {
    this.onmessage?.({ data: JSON.stringify({ type, room_id: roomId, seq, data }) } as MessageEvent)
  }

  /** The connection drops (or the server closes it). */
  drop(code = 1006) {
    this.readyState = 3
    this.onclose?.({ code } as CloseEvent)
  }

  send(data: string) {
    this.sent.push(JSON.parse(data))
  }

  close(code = 1000) {
    this.readyState = 3
    this.closedWith = code
  }
}
