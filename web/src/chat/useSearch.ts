/**
 * Message search for the chat page (docs/chat.md, Search): the words typed, the filters
 * (room, author, with or without files, a range of days), the hits a page at a time
 * (`next_cursor`), searched as one types after a short pause. An answer that comes after a
 * newer search was started is dropped.
 */
import { reactive } from 'vue'
import { ApiError } from '../api/client'
import type { SearchHit, SearchQuery } from '../api/chat'
import type { Page } from '../api/types'

export const SEARCH_DEBOUNCE_MS = 300
export const SEARCH_PAGE = 20

export interface SearchFilters {
  roomId: string
  authorId: string
  /** '' any, 'with' files attached, 'without'. */
  files: '' | 'with' | 'without'
  /** Local calendar days, `YYYY-MM-DD` ('' for open). */
  from: string
  to: string
}

export const NO_FILTERS: SearchFilters = { roomId: '', authorId: '', files: '', from: '', to: '' }

/** Whether `q` holds a word (the hub searches runs of letters and digits only). */
export function hasWords(q: string): boolean {
  return /[\p{L}\p{N}]/u.test(q)
}

/** Midnight starting the local day `YYYY-MM-DD`, `plusDays` later, as RFC 3339. */
function dayStart(day: string, plusDays = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!match) return undefined
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + plusDays)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** The filters wrong as given (the last day before the first), or null. */
export function filtersError(filters: SearchFilters): string | null {
  if (filters.from && filters.to && filters.to < filters.from) return 'The last day is before the first.'
  return null
}

/** The API's query for `q` and the filters; the range of days includes its last day. */
export function searchQuery(q: string, filters: SearchFilters, cursor: string | null = null): SearchQuery {
  const query: SearchQuery = { q, limit: SEARCH_PAGE }
  if (filters.roomId) query.room_id = filters.roomId
  if (filters.authorId) query.author_id = filters.authorId
  if (filters.files) query.has_attachment = filters.files === 'with'
  const from = filters.from ? dayStart(filters.from) : undefined
  const to = filters.to ? dayStart(filters.to, 1) : undefined
  if (from) query.from = from
  if (to) query.to = to
  if (cursor) query.cursor = cursor
  return query
}

function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'The hub could not be reached.'
    return error.fieldErrors[0] ? `${error.fieldErrors[0].field}: ${error.fieldErrors[0].message}` : error.message
  }
  return 'The search did not work.'
}

export interface SearchOptions {
  search(query: SearchQuery): Promise<Page<SearchHit>>
  debounceMs?: number
}

export function createSearch(options: SearchOptions) {
  const debounceMs = options.debounceMs ?? SEARCH_DEBOUNCE_MS
  const state = reactive({
    query: '',
    filters: { ...NO_FILTERS } as SearchFilters,
    items: [] as SearchHit[],
    nextCursor: null as string | null,
    loading: false,
    loadingMore: false,
    error: null as string | null,
    /** A search has answered for the current words and filters. */
    searched: false,
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  let sequence = 0

  function reset() {
    state.items = []
    state.nextCursor = null
    state.searched = false
    state.error = null
  }

  /** Searches now for the current words and filters. */
  async function run() {
    clearTimeout(timer)
    const mine = ++sequence
    const q = state.query
    const invalid = filtersError(state.filters)
    if (!hasWords(q) || invalid) {
      reset()
      state.loading = false
      state.error = hasWords(q) ? invalid : null
      return
    }
    state.loading = true
    state.error = null
    try {
      const page = await options.search(searchQuery(q, state.filters))
      if (mine !== sequence) return
      state.items = page.items
      state.nextCursor = page.next_cursor ?? null
      state.searched = true
    } catch (error) {
      if (mine !== sequence) return
      reset()
      state.error = problemText(error)
    } finally {
      if (mine === sequence) state.loading = false
    }
  }

  return {
    state,
    run,
    /** Searches after a short pause (while typing). */
    schedule() {
      clearTimeout(timer)
      timer = setTimeout(() => void run(), debounceMs)
    },
    /** The next page of hits. */
    async more() {
      const cursor = state.nextCursor
      if (!cursor || state.loadingMore || state.loading) return
      const mine = sequence
      state.loadingMore = true
      try {
        const page = await options.search(searchQuery(state.query, state.filters, cursor))
        if (mine !== sequence) return
        const known = new Set(state.items.map((hit) => hit.message.id))
        state.items = [...state.items, ...page.items.filter((hit) => !known.has(hit.message.id))]
        state.nextCursor = page.next_cursor ?? null
      } catch (error) {
        if (mine === sequence) state.error = problemText(error)
      } finally {
        state.loadingMore = false
      }
    },
    /** Forgets the words, filters and hits. */
    clear() {
      clearTimeout(timer)
      sequence += 1
      state.query = ''
      state.filters = { ...NO_FILTERS }
      state.loading = false
      state.loadingMore = false
      reset()
    },
    stop() {
      clearTimeout(timer)
      sequence += 1
    },
  }
}

export type Search = ReturnType<typeof createSearch>
