import { describe, expect, it } from 'vitest'
import { useCursorList } from './useCursorList'
import { ApiError } from '../api/client'

const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
  first: { items: [1, 2], next_cursor: 'c2' },
  c2: { items: [3], next_cursor: null },
}

describe('useCursorList', () => {
  it('loads the first page, then follows next_cursor until it ends', async () => {
    let loaded = 0
    const list = useCursorList(async (cursor) => pages[cursor ?? 'first'], { onLoaded: () => loaded++ })
    await list.load()
    expect([list.items.value, list.nextCursor.value, list.loading.value, loaded]).toEqual([[1, 2], 'c2', false, 1])
    await list.loadMore()
    expect([list.items.value, list.nextCursor.value]).toEqual([[1, 2, 3], null])
  })

  it('reports a failed "load more" where the page asks, keeping the list', async () => {
    const reported: string[] = []
    const list = useCursorList(
      async (cursor) => {
        if (cursor) throw new ApiError({ status: 503, code: 'unavailable', title: 'x', detail: 'down' } as never)
        return pages.first
      },
      { onMoreError: (message) => reported.push(message) },
    )
    await list.load()
    await list.loadMore()
    expect(list.items.value).toEqual([1, 2])
    expect(list.loadError.value).toBeNull()
    expect(reported).toHaveLength(1)
  })
})
