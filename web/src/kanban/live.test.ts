import { describe, expect, it, vi } from 'vitest'
import { type BoardChange, followBoards, reconnectDelay } from './live'

/** An EventSource the test drives by hand. */
class FakeSource {
  static opened: FakeSource[] = []
  readonly url: string
  closed = false
  private listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>()

  constructor(url: string) {
    this.url = url
    FakeSource.opened.push(this)
  }

  addEventListener(name: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener])
  }

  emit(name: string, data = '{}') {
    for (const listener of this.listeners.get(name) ?? []) listener({ data } as MessageEvent<string>)
  }

  close() {
    this.closed = true
  }
}

const change: BoardChange = {
  account_id: 'acc',
  board_id: 'b1',
  revision: 7,
  cards: ['c1'],
  structure: false,
}

function start() {
  FakeSource.opened = []
  let tickets = 0
  const handlers = { ready: vi.fn(), change: vi.fn(), resync: vi.fn(), status: vi.fn() }
  const live = followBoards({
    ticket: async () => `wpht_${++tickets}`,
    url: (ticket) => `/api/v1/realtime/events?ticket=${ticket}`,
    handlers,
    EventSource: FakeSource as unknown as typeof EventSource,
    delay: () => 10,
  })
  return { live, handlers }
}

async function settle() {
  await new Promise((resolve) => setTimeout(resolve, 0))
}

describe('followBoards', () => {
  it('opens with a ticket and hands on ready, changes and resyncs', async () => {
    const { live, handlers } = start()
    await settle()
    const source = FakeSource.opened[0]!
    expect(source.url).toBe('/api/v1/realtime/events?ticket=wpht_1')
    source.emit('ready')
    expect(handlers.ready).toHaveBeenCalledOnce()
    expect(handlers.status).toHaveBeenLastCalledWith(true)
    source.emit('board', JSON.stringify(change))
    expect(handlers.change).toHaveBeenCalledWith(change)
    source.emit('resync')
    expect(handlers.resync).toHaveBeenCalledOnce()
    live.close()
    expect(source.closed).toBe(true)
  })

  it('ignores malformed changes', async () => {
    const { live, handlers } = start()
    await settle()
    const source = FakeSource.opened[0]!
    source.emit('board', 'not json')
    source.emit('board', JSON.stringify({ ...change, cards: [1] }))
    source.emit('board', JSON.stringify({ board_id: 'b1' }))
    expect(handlers.change).not.toHaveBeenCalled()
    live.close()
  })

  it('reconnects with a new ticket after an error or an end, and stops when closed', async () => {
    const { live, handlers } = start()
    await settle()
    FakeSource.opened[0]!.emit('error')
    expect(FakeSource.opened[0]!.closed).toBe(true)
    expect(handlers.status).toHaveBeenLastCalledWith(false)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(FakeSource.opened[1]!.url).toContain('ticket=wpht_2')
    FakeSource.opened[1]!.emit('end', '{"code":"session_revoked"}')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(FakeSource.opened[2]!.url).toContain('ticket=wpht_3')
    live.close()
    FakeSource.opened[2]!.emit('error')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(FakeSource.opened).toHaveLength(3)
  })

  it('keeps trying when no ticket can be had', async () => {
    FakeSource.opened = []
    let calls = 0
    const live = followBoards({
      ticket: async () => {
        calls += 1
        if (calls < 3) throw new Error('offline')
        return 'wpht_ok'
      },
      url: (ticket) => `/events?ticket=${ticket}`,
      handlers: { ready: vi.fn(), change: vi.fn(), resync: vi.fn() },
      EventSource: FakeSource as unknown as typeof EventSource,
      delay: () => 5,
    })
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(calls).toBe(3)
    expect(FakeSource.opened).toHaveLength(1)
    live.close()
  })
})

describe('reconnectDelay', () => {
  it('doubles up to thirty seconds, with jitter', () => {
    expect(reconnectDelay(1, () => 0.5)).toBe(1000)
    expect(reconnectDelay(2, () => 0.5)).toBe(2000)
    expect(reconnectDelay(10, () => 0.5)).toBe(30_000)
    expect(reconnectDelay(1, () => 0)).toBe(750)
    expect(reconnectDelay(1, () => 1)).toBe(1250)
  })
})
