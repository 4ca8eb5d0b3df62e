import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/client'
import { createSendQueue, isTransient, type Outgoing } from './sendQueue'

const problem = (status: number, code: string) =>
  new ApiError({ type: 'about:blank', title: 'x', status, detail: code, code })

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

function setup(answers: Array<Error | 'ok'>) {
  const calls: Outgoing[] = []
  const settled: string[] = []
  const queue = createSendQueue<{ id: string; client_id: string }>({
    send: async (item) => {
      calls.push(item)
      const answer = answers.shift() ?? 'ok'
      if (answer !== 'ok') throw answer
      return { id: `m-${calls.length}`, client_id: item.clientId }
    },
    settled: (item, message) => settled.push(`${item.clientId}→${message.id}`),
    maxAttempts: 3,
    delay: (attempt) => attempt * 1000,
    newId: () => 'client-1',
  })
  return { queue, calls, settled }
}

describe('send queue', () => {
  it('shows a message as pending at once and settles it', async () => {
    const { queue, calls, settled } = setup(['ok'])
    queue.enqueue('room-a', 'hello')
    expect(queue.items.map((i) => [i.clientId, i.status])).toEqual([['client-1', 'pending']])
    await vi.advanceTimersByTimeAsync(0)
    expect(calls.map((c) => c.body)).toEqual(['hello'])
    expect(settled).toEqual(['client-1→m-1'])
    expect(queue.items).toHaveLength(0)
  })

  it('retries a passing failure with the same client_id, then fails with a retry', async () => {
    const offline = problem(0, 'network_error')
    const { queue, calls, settled } = setup([offline, problem(503, 'unavailable'), offline, 'ok'])
    queue.enqueue('room-a', 'hello')
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toHaveLength(1)
    expect(queue.items[0]!.status).toBe('pending')
    await vi.advanceTimersByTimeAsync(1000)
    expect(calls).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls).toHaveLength(3)
    // Three tries: it shows as failed, and waits for the person.
    expect(queue.items[0]!.status).toBe('failed')
    expect(queue.items[0]!.error).toMatch(/no connection/)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toHaveLength(3)
    queue.retry('client-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toHaveLength(4)
    expect(new Set(calls.map((c) => c.clientId))).toEqual(new Set(['client-1']))
    expect(settled).toEqual(['client-1→m-4'])
    expect(queue.items).toHaveLength(0)
  })

  it('fails at once when the hub refuses, and discards on request', async () => {
    const { queue, calls } = setup([problem(409, 'room_archived')])
    queue.enqueue('room-a', 'hello')
    await vi.advanceTimersByTimeAsync(5000)
    expect(calls).toHaveLength(1)
    expect(queue.items[0]!.status).toBe('failed')
    expect(queue.items[0]!.error).toBe('Not sent: this room is archived.')
    queue.discard('client-1')
    expect(queue.items).toHaveLength(0)
  })

  it('is settled by the socket too, and ignores the late answer', async () => {
    const { queue, settled } = setup([problem(0, 'network_error')])
    queue.enqueue('room-a', 'hello')
    await vi.advanceTimersByTimeAsync(0)
    queue.acknowledge('client-1')
    await vi.advanceTimersByTimeAsync(5000)
    expect(queue.items).toHaveLength(0)
    expect(settled).toEqual([])
  })

  it('sends a message with files by their ids, the same ids and client_id on every try', async () => {
    const offline = problem(0, 'network_error')
    const { queue, calls, settled } = setup([offline, problem(503, 'unavailable'), 'ok'])
    const files = [
      { id: 'att-1', filename: 'a.png', content_type: 'image/png', size: 10, kind: 'image', url: 'u1' },
      { id: 'att-2', filename: 'b.pdf', content_type: 'application/pdf', size: 20, kind: 'file', url: 'u2' },
    ]
    queue.enqueue('room-a', '', null, files)
    // The queue keeps its own list: what the composer does next with its list changes nothing.
    files.pop()
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(1000)
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls.map((c) => [c.clientId, c.body, c.attachments.map((f) => f.id)])).toEqual([
      ['client-1', '', ['att-1', 'att-2']],
      ['client-1', '', ['att-1', 'att-2']],
      ['client-1', '', ['att-1', 'att-2']],
    ])
    expect(settled).toEqual(['client-1→m-3'])
  })

  it('says so when the files of a message are no longer there to send', async () => {
    const gone = new ApiError({
      type: 'about:blank',
      title: 'x',
      status: 422,
      detail: 'invalid',
      code: 'validation_failed',
      errors: [{ field: 'attachment_ids', message: 'are not files you uploaded' }],
    })
    const { queue } = setup([gone])
    queue.enqueue('room-a', 'see attached', null, [
      { id: 'att-9', filename: 'old.png', content_type: 'image/png', size: 1, kind: 'image', url: 'u' },
    ])
    await vi.advanceTimersByTimeAsync(0)
    expect(queue.items[0]!.status).toBe('failed')
    expect(queue.items[0]!.error).toMatch(/files are no longer there.*Attach them again/)
  })

  it('tells passing failures from refusals', () => {
    expect(isTransient(problem(0, 'network_error'))).toBe(true)
    expect(isTransient(problem(429, 'rate_limited'))).toBe(true)
    expect(isTransient(problem(502, 'bad_gateway'))).toBe(true)
    expect(isTransient(problem(422, 'validation_failed'))).toBe(false)
    expect(isTransient(new TypeError('x'))).toBe(true)
  })
})
