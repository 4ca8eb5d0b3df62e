import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SearchHit, SearchQuery } from '../api/chat'
import type { Page } from '../api/types'
import { createSearch, filtersError, hasWords, NO_FILTERS, searchQuery } from './useSearch'

function hit(id: string): SearchHit {
  return {
    room_id: 'room-1',
    snippet: `<mark>${id}</mark>`,
    message: {
      id,
      room_id: 'room-1',
      seq: 1,
      author_id: 'ana',
      body: id,
      client_id: id,
      parent_id: null,
      reply_count: 0,
      reactions: [],
      mentions: [],
      edited_at: null,
      deleted: false,
      created_at: '2026-11-28T10:00:00Z',
    },
  }
}

interface Pending {
  query: SearchQuery
  answer: (page: Page<SearchHit>) => void
  fail: (error: unknown) => void
}

function setup() {
  const calls: Pending[] = []
  const search = createSearch({
    search: (query) => new Promise((answer, fail) => calls.push({ query, answer, fail })),
  })
  return { search, calls }
}

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('message search', () => {
  it('asks for the words with the filters; the days include the last one', () => {
    expect(searchQuery('proposta', NO_FILTERS)).toEqual({ q: 'proposta', limit: 20 })
    const query = searchQuery('invoice', { roomId: 'r', authorId: 'u', files: 'with', from: '2026-03-01', to: '2026-03-31' }, 'next')
    expect(query).toMatchObject({ q: 'invoice', room_id: 'r', author_id: 'u', has_attachment: true, cursor: 'next' })
    // Local midnights: the first day's start and the day after the last.
    expect(query.from).toBe(new Date(2026, 2, 1).toISOString())
    expect(query.to).toBe(new Date(2026, 3, 1).toISOString())
    expect(searchQuery('x', { ...NO_FILTERS, files: 'without' }).has_attachment).toBe(false)
    expect(filtersError({ ...NO_FILTERS, from: '2026-03-02', to: '2026-03-01' })).toMatch(/before the first/)
    expect(filtersError({ ...NO_FILTERS, from: '2026-03-01', to: '2026-03-01' })).toBeNull()
    expect(hasWords('  -- "" ')).toBe(false)
    expect(hasWords('ação')).toBe(true)
  })

  it('searches after a pause while typing, once, and keeps only the newest answer', async () => {
    const { search, calls } = setup()
    search.state.query = 'pro'
    search.schedule()
    search.state.query = 'propo'
    search.schedule()
    await vi.advanceTimersByTimeAsync(299)
    expect(calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls.map((c) => c.query.q)).toEqual(['propo'])
    expect(search.state.loading).toBe(true)
    // A filter changes before the answer comes: the first answer is dropped.
    search.state.filters.files = 'with'
    void search.run()
    calls[1]!.answer({ items: [hit('new')], next_cursor: null })
    calls[0]!.answer({ items: [hit('old')], next_cursor: 'c' })
    await vi.advanceTimersByTimeAsync(0)
    expect(search.state.items.map((h) => h.message.id)).toEqual(['new'])
    expect(search.state.nextCursor).toBeNull()
    expect(search.state.loading).toBe(false)
    expect(search.state.searched).toBe(true)
  })

  it('pages with the cursor without repeating a hit', async () => {
    const { search, calls } = setup()
    search.state.query = 'batch'
    void search.run()
    calls[0]!.answer({ items: [hit('a'), hit('b')], next_cursor: 'c1' })
    await vi.advanceTimersByTimeAsync(0)
    void search.more()
    expect(calls[1]!.query.cursor).toBe('c1')
    calls[1]!.answer({ items: [hit('b'), hit('c')], next_cursor: null })
    await vi.advanceTimersByTimeAsync(0)
    expect(search.state.items.map((h) => h.message.id)).toEqual(['a', 'b', 'c'])
    expect(search.state.nextCursor).toBeNull()
  })

  it('asks nothing for a query without words or with days the wrong way round', async () => {
    const { search, calls } = setup()
    search.state.query = ' "*" '
    await search.run()
    expect(calls).toHaveLength(0)
    expect(search.state.searched).toBe(false)
    search.state.query = 'words'
    search.state.filters = { ...NO_FILTERS, from: '2026-05-02', to: '2026-05-01' }
    await search.run()
    expect(calls).toHaveLength(0)
    expect(search.state.error).toMatch(/before the first/)
  })
})
