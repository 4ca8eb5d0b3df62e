import { describe, expect, it, vi } from 'vitest'
import { FakeEventSource as FakeSource } from '../test/fakeEventSource'
import { type AccountNews, type BoardChange, followStream, reconnectDelay } from './live'

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
  const handlers = { ready: vi.fn(), change: vi.fn(), account: vi.fn(), resync: vi.fn(), status: vi.fn() }
  const live = followStream({
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

describe('followStream', () => {
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

  it('hands on account news', async () => {
    const { live, handlers } = start()
    await settle()
    const source = FakeSource.opened[0]!
    const news: AccountNews = {
      account_id: 'acc',
      kind: 'instance.status_changed',
      data: { instance_id: 'i1', status: 'connected' },
    }
    source.emit('account', JSON.stringify(news))
    expect(handlers.account).toHaveBeenCalledWith(news)
    expect(handlers.change).not.toHaveBeenCalled()
    live.close()
  })

  it('ignores malformed account news', async () => {
    const { live, handlers } = start()
    await settle()
    const source = FakeSource.opened[0]!
    source.emit('account', 'not json')
    source.emit('account', JSON.stringify({ kind: 'instance.status_changed', data: {} }))
    source.emit('account', JSON.stringify({ account_id: 'acc', kind: 7, data: {} }))
    source.emit('account', JSON.stringify({ account_id: 'acc', kind: 'x', data: null }))
    source.emit('account', JSON.stringify({ account_id: 'acc', kind: 'x', data: [1] }))
    expect(handlers.account).not.toHaveBeenCalled()
    live.close()
  })

  it('boards-only and account-only followers ignore the other kind', async () => {
    FakeSource.opened = []
    const ready = vi.fn()
    const live = followStream({
      ticket: async () => 'wpht_x',
      url: (ticket) => `/events?ticket=${ticket}`,
      handlers: { ready, resync: vi.fn() },
      EventSource: FakeSource as unknown as typeof EventSource,
    })
    await settle()
    const source = FakeSource.opened[0]!
    expect(() => {
      source.emit('board', JSON.stringify(change))
      source.emit('account', JSON.stringify({ account_id: 'acc', kind: 'x', data: {} }))
    }).not.toThrow()
    source.emit('ready')
    expect(ready).toHaveBeenCalledOnce()
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
    const live = followStream({
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
